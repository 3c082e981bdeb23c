//! tern-embassy's client on the host: over two embassy-net stacks joined in memory against a
//! scripted server socket (keep-alive, a streamed chunked upload, a server that closes, DNS
//! and connect failures, a deadline), and over a real socket against hyper and a tern-tokio
//! server (through `Connected` and a std stream adapter).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use embassy_futures::join::join;
use embedded_io_async::{Read, Write};
use support::{SocketBuffers, StdStream, accept, close_gracefully};
use tern_embassy::client::{Client, Error};
use tern_embassy::net::TcpTransport;
use tern_embassy::transport::{ConnectError, Connected};
use tern_proto::Method;
use tern_proto::client::{ClientConfig, ClientError, Event, EventKind, Stage};

/// Reads one request (head, and a body by Content-Length or chunked) from `socket`; returns
/// the head and the decoded body, or `None` at the end of the stream.
async fn read_request(socket: &mut impl Read, pending: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut buf = [0u8; 2048];
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
    pending.drain(..head_end);
    let lower = head.to_ascii_lowercase();
    let mut body = Vec::new();
    if let Some(len) = lower.lines().find_map(|l| l.strip_prefix("content-length: ")) {
        let len: usize = len.trim().parse().unwrap();
        while pending.len() < len {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0);
            pending.extend_from_slice(&buf[..n]);
        }
        body = pending.drain(..len).collect();
    } else if lower.contains("transfer-encoding: chunked") {
        loop {
            let line_end = loop {
                if let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                let n = socket.read(&mut buf).await.unwrap();
                pending.extend_from_slice(&buf[..n]);
            };
            let size = usize::from_str_radix(std::str::from_utf8(&pending[..line_end]).unwrap().trim(), 16).unwrap();
            while pending.len() < line_end + 2 + size + 2 {
                let n = socket.read(&mut buf).await.unwrap();
                pending.extend_from_slice(&buf[..n]);
            }
            body.extend_from_slice(&pending[line_end + 2..line_end + 2 + size]);
            pending.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break;
            }
        }
    }
    Some((head, body))
}

type Log = Arc<Mutex<(Vec<u8>, usize)>>;

/// Collects body bytes and counts ON_CONNECTED.
fn collector() -> (Log, impl FnMut(&Event<'_>)) {
    let log: Log = Arc::default();
    let sink = log.clone();
    (log, move |e: &Event<'_>| match e.kind {
        EventKind::OnData(d) => sink.lock().unwrap().0.extend_from_slice(d),
        EventKind::OnConnected => sink.lock().unwrap().1 += 1,
        _ => {}
    })
}

#[test]
fn keep_alive_requests_share_one_connection_over_embassy_net() {
    support::run(async |a, b| {
        let mut server_bufs = SocketBuffers::default();
        let server = async {
            let mut socket = accept(a, &mut server_bufs, 80).await;
            let mut pending = Vec::new();
            let mut heads = Vec::new();
            for i in 0..3 {
                let (head, _) = read_request(&mut socket, &mut pending).await.unwrap();
                heads.push(head);
                let body = format!("answer {i}");
                let response = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                socket.write_all(response.as_bytes()).await.unwrap();
            }
            // The client closes: the stream ends.
            assert!(read_request(&mut socket, &mut pending).await.is_none());
            close_gracefully(&mut socket).await;
            heads
        };
        let client = async {
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let config = ClientConfig { url: Some("http://10.0.0.1/one"), ..ClientConfig::default() };
            let mut engine = vec![0u8; config.buffer_len()];
            let (log, handler) = collector();
            let transport = TcpTransport::new(b, &mut rx, &mut tx);
            let mut client = Client::with_handler(&config, &mut engine, transport, handler).unwrap();
            for path in ["/one", "/two", "/three"] {
                client.set_url(&format!("http://10.0.0.1{path}")).unwrap();
                client.perform().await.unwrap();
                assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
            }
            client.close().await.unwrap();
            log.lock().unwrap().clone()
        };
        let (heads, (body, connects)) = join(server, client).await;
        assert_eq!(body, b"answer 0answer 1answer 2");
        assert_eq!(connects, 1, "one connection for three requests");
        assert!(heads[1].starts_with("GET /two HTTP/1.1\r\n"), "{}", heads[1]);
        assert!(heads[1].contains("\r\nHost: 10.0.0.1\r\n"), "{}", heads[1]);
    });
}

#[test]
fn a_streamed_chunked_upload_and_its_answer() {
    support::run(async |a, b| {
        let mut server_bufs = SocketBuffers::default();
        let payload: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let server = async {
            let mut socket = accept(a, &mut server_bufs, 80).await;
            let mut pending = Vec::new();
            let (head, body) = read_request(&mut socket, &mut pending).await.unwrap();
            let answer = format!("{} bytes", body.len());
            let response = format!("HTTP/1.1 201 Created\r\nContent-Length: {}\r\n\r\n{answer}", answer.len());
            socket.write_all(response.as_bytes()).await.unwrap();
            close_gracefully(&mut socket).await;
            (head, body)
        };
        let client = async {
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let config =
                ClientConfig { url: Some("http://10.0.0.1/upload"), method: Method::Post, ..ClientConfig::default() };
            let mut engine = vec![0u8; config.buffer_len()];
            let mut client = Client::new(&config, &mut engine, TcpTransport::new(b, &mut rx, &mut tx)).unwrap();
            client.open(None).await.unwrap();
            for piece in payload.chunks(7_000) {
                assert_eq!(client.write(piece).await.unwrap(), piece.len());
            }
            let length = client.fetch_headers().await.unwrap();
            let mut answer = [0u8; 64];
            let n = client.read_response(&mut answer).await.unwrap();
            client.close().await.unwrap();
            (client.status_code().map(|s| s.as_u16()), length, answer[..n].to_vec())
        };
        let ((head, body), (status, length, answer)) = join(server, client).await;
        assert!(head.starts_with("POST /upload HTTP/1.1\r\n"), "{head}");
        assert!(head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
        assert_eq!(body, payload);
        assert_eq!((status, length, answer), (Some(201), Some(11), b"50000 bytes".to_vec()));
    });
}

#[test]
fn a_closed_keep_alive_connection_is_replaced() {
    support::run(async |a, b| {
        let mut first = SocketBuffers::default();
        let mut second = SocketBuffers::default();
        let server = async {
            // First connection: one answer, then the server closes it.
            let mut socket = accept(a, &mut first, 80).await;
            let mut pending = Vec::new();
            read_request(&mut socket, &mut pending).await.unwrap();
            socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1").await.unwrap();
            close_gracefully(&mut socket).await;
            // The client reconnects for the next request.
            let mut socket = accept(a, &mut second, 80).await;
            let mut pending = Vec::new();
            read_request(&mut socket, &mut pending).await.unwrap();
            socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2").await.unwrap();
            close_gracefully(&mut socket).await;
        };
        let client = async {
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let config = ClientConfig { url: Some("http://10.0.0.1/"), ..ClientConfig::default() };
            let mut engine = vec![0u8; config.buffer_len()];
            let (log, handler) = collector();
            let mut client =
                Client::with_handler(&config, &mut engine, TcpTransport::new(b, &mut rx, &mut tx), handler).unwrap();
            client.perform().await.unwrap();
            // Let the server's FIN arrive before the next request.
            embassy_time::Timer::after_millis(20).await;
            client.perform().await.unwrap();
            client.close().await.unwrap();
            log.lock().unwrap().clone()
        };
        let ((), (body, connects)) = join(server, client).await;
        assert_eq!(body, b"12");
        assert_eq!(connects, 2);
    });
}

#[test]
fn connect_failures_say_why_and_a_silent_server_times_out() {
    support::run(async |a, b| {
        let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 2048]);
        // Nothing listens on port 81: refused.
        let config = ClientConfig { url: Some("http://10.0.0.1:81/"), ..ClientConfig::default() };
        let mut engine = vec![0u8; config.buffer_len()];
        let mut client = Client::new(&config, &mut engine, TcpTransport::new(b, &mut rx, &mut tx)).unwrap();
        let err = client.perform().await.unwrap_err();
        assert_eq!(err, Error::Connect(ConnectError::Refused));
        // A name, and the stack has no DNS server: it does not resolve.
        client.set_url("http://device.invalid/").unwrap();
        assert_eq!(client.perform().await.unwrap_err(), Error::Connect(ConnectError::Resolve));
        // https needs TLS over the transport, which this adapter does not run yet.
        client.set_url("https://10.0.0.1/").unwrap();
        assert_eq!(client.perform().await.unwrap_err(), Error::Client(ClientError::TlsUnavailable));

        // A server that accepts and never answers: the engine's timeout, from embassy-time.
        let mut server_bufs = SocketBuffers::default();
        let server = async {
            let mut socket = accept(a, &mut server_bufs, 80).await;
            let mut pending = Vec::new();
            read_request(&mut socket, &mut pending).await.unwrap();
            // Say nothing until the client gives up and closes.
            assert!(read_request(&mut socket, &mut pending).await.is_none());
            close_gracefully(&mut socket).await;
        };
        let silent = async {
            client.set_timeout(Duration::from_millis(150));
            client.set_url("http://10.0.0.1/").unwrap();
            let started = embassy_time::Instant::now();
            let err = client.perform().await.unwrap_err();
            (err, started.elapsed())
        };
        let ((), (err, waited)) = join(server, silent).await;
        assert_eq!(err, Error::Client(ClientError::Timeout(Stage::ReceiveHead)));
        // The engine counts whole milliseconds, so its deadline may fall up to 1 ms early.
        assert!(waited >= embassy_time::Duration::from_millis(149), "{waited:?}");
        assert!(waited < embassy_time::Duration::from_millis(1_000), "{waited:?}");
    });
}

#[test]
fn over_a_real_socket_against_hyper() {
    let hyper = tern_testkit::HyperServer::start();
    let url = hyper.url("/chunked?n=5&size=1000");
    let stream = StdStream::connect(hyper.addr()).unwrap();
    support::block_on(async {
        let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
        let mut engine = vec![0u8; config.buffer_len()];
        let (log, handler) = collector();
        let mut client = Client::with_handler(&config, &mut engine, Connected::new(stream), handler).unwrap();
        client.perform().await.unwrap();
        assert!(client.is_chunked_response());
        client.set_url(&hyper.url("/echo")).unwrap();
        client.set_method(Method::Put);
        client.set_post_field(Some(b"over a real socket")).unwrap();
        client.perform().await.unwrap();
        let log = log.lock().unwrap();
        let expected: Vec<u8> = [b"a", b"b", b"c", b"d", b"e"].iter().flat_map(|c| c.repeat(1000)).collect();
        assert_eq!(&log.0[..5000], &expected[..]);
        assert_eq!(&log.0[5000..], b"over a real socket");
        assert_eq!(log.1, 1);
    });
    assert_eq!(hyper.connections(), 1, "both requests on the one connection");
}

#[test]
fn over_a_real_socket_against_a_tern_tokio_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let config = tern_tokio::server::Config { server_port: 0, ..tern_tokio::server::Config::default() };
        let server = tern_tokio::server::Server::start(config).await.unwrap();
        let echo = tern_tokio::server::UriHandler::new(
            "/echo",
            Method::Post,
            |mut req: tern_tokio::server::Request| async move {
                let body = req.recv_body(1 << 20).await?;
                req.send(&body).await?;
                Ok(())
            },
        );
        server.register_uri_handler(echo).unwrap();
        server
    });
    let addr = server.local_addr();
    let stream = StdStream::connect(addr).unwrap();
    let url = format!("http://{addr}/echo");
    support::block_on(async {
        let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
        let mut engine = vec![0u8; config.buffer_len()];
        let (log, handler) = collector();
        let mut client = Client::with_handler(&config, &mut engine, Connected::new(stream), handler).unwrap();
        let body: Vec<u8> = (0..30_000u32).map(|i| (i % 13) as u8 + b'a').collect();
        for _ in 0..3 {
            client.set_post_field(Some(&body)).unwrap();
            client.perform().await.unwrap();
            assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
        }
        let log = log.lock().unwrap();
        assert_eq!(log.0, body.repeat(3));
        assert_eq!(log.1, 1, "three requests on one connection");
    });
    runtime.block_on(server.stop());
}

//! tern-embassy's server on the host: served over stack A of two embassy-net stacks joined in
//! memory, with tern-embassy's client (or a raw socket, or a minimal WebSocket client built
//! on tern-proto's `ws` module) on stack B; and `serve_connection` over a real socket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use embassy_futures::join::{join, join3};
use embassy_net::Stack;
use embassy_net::tcp::TcpSocket;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_time::with_timeout;
use embedded_io_async::{Read, Write};
use support::{ADDR_A, SocketBuffers, close_gracefully, connect};
use tern_embassy::client::Client;
use tern_embassy::net::TcpTransport;
use tern_embassy::server::{
    Config, Error, ErrorVerdict, Handler, HandlerResult, HttpdErrCode, Request, Route, ServerConfig, SessionBuffers,
    SessionId, Stream,
};
use tern_proto::Method;
use tern_proto::client::{ClientConfig, Event, EventKind};
use tern_proto::ws::handshake::{ClientKey, check_response, write_client_request};
use tern_proto::ws::{CloseCode, FrameInfo, FrameReceiver, Opcode, Received, Role, encode_frame, parse_close_payload};
use tern_proto::{StatusCode, ws};

const PORT: u16 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Hello,
    Echo,
    Chunks,
    Info,
    Ws,
    Big,
}

/// The test application: a few routes, and counts of its hooks.
#[derive(Default)]
struct App {
    opened: Cell<u32>,
    closed: Cell<u32>,
    errors: RefCell<Vec<HttpdErrCode>>,
    /// With this set, 404s are answered by `handle_error` and keep the session.
    custom_404: Cell<bool>,
    /// With this set, a WebSocket handshake needs `X-Token: secret`.
    require_token: Cell<bool>,
}

impl Handler for App {
    type Route = Page;

    async fn handle(&self, route: Page, req: &mut Request<'_, impl Stream>) -> HandlerResult {
        match route {
            Page::Hello => {
                req.set_type("text/plain")?;
                req.send(b"Hello World!").await
            }
            Page::Echo => {
                // Small reads on purpose: the body arrives in many pieces.
                let mut body = Vec::new();
                let mut piece = [0u8; 100];
                loop {
                    match req.recv(&mut piece).await? {
                        0 => break,
                        n => body.extend_from_slice(&piece[..n]),
                    }
                }
                req.set_header("X-Received", &body.len().to_string())?;
                req.send(&body).await
            }
            Page::Chunks => {
                for piece in ["one ", "two ", "three"] {
                    req.send_chunk(piece.as_bytes()).await?;
                }
                req.send_chunk(b"").await
            }
            Page::Info => {
                let text = format!(
                    "{} {} name={} x-test={}",
                    req.method().map(|m| m.as_str().to_owned()).unwrap_or_default(),
                    req.path(),
                    req.query_value("name").unwrap_or("-"),
                    req.header_str("X-Test").unwrap_or("-"),
                );
                req.set_status(StatusCode::CREATED);
                req.set_header("Location", &format!("/items/{}", req.query_value("name").unwrap_or("none")))?;
                req.send(text.as_bytes()).await
            }
            Page::Big => req.send(&vec![b'b'; 64 * 1024]).await,
            Page::Ws => {
                let Some(frame) = req.ws_frame() else {
                    return req.send(b"not a WebSocket request").await;
                };
                let mut payload = vec![0u8; frame.payload_len as usize];
                let n = req.recv_body(&mut payload).await?;
                // Echo the frame as it came: fragments stay fragments.
                req.ws_send(frame.opcode, frame.fin, &payload[..n]).await
            }
        }
    }

    async fn handle_error(&self, code: HttpdErrCode, req: &mut Request<'_, impl Stream>) -> Option<ErrorVerdict> {
        self.errors.borrow_mut().push(code);
        if code == HttpdErrCode::NotFound && self.custom_404.get() {
            let _ = req.send_err(code, Some("custom: nothing here")).await;
            return Some(ErrorVerdict::KeepSession);
        }
        None
    }

    fn ws_pre_handshake(&self, route: Page, head: &tern_proto::server::Request<'_>) -> bool {
        assert_eq!(route, Page::Ws);
        !self.require_token.get() || head.header("x-token") == Some(&b"secret"[..])
    }

    fn on_open(&self, _session: SessionId) -> bool {
        self.opened.set(self.opened.get() + 1);
        true
    }

    fn on_close(&self, _session: SessionId) {
        self.closed.set(self.closed.get() + 1);
    }
}

type TestServer<const T: usize> = tern_embassy::server::Server<App, NoopRawMutex, T, 8>;
type Buffers = SessionBuffers<2612, 4096, 4096>;

fn buffers() -> Box<Buffers> {
    Box::new(SessionBuffers::new())
}

/// Short timeouts, so the timeout tests take a fraction of a second.
fn config() -> Config {
    Config {
        server_port: PORT,
        connection: ServerConfig {
            recv_wait_timeout_ms: 200,
            send_wait_timeout_ms: 200,
            idle_timeout_ms: Some(300),
            ..ServerConfig::DEFAULT
        },
        ..Config::DEFAULT
    }
}

fn server<const T: usize>(config: Config) -> TestServer<T> {
    let server = TestServer::<T>::new(config, App::default());
    server.register_uri("/hello", Method::Get, Page::Hello).unwrap();
    server.register_uri("/echo", Method::Post, Page::Echo).unwrap();
    server.register_uri("/chunks", Method::Get, Page::Chunks).unwrap();
    server.register_uri("/info", tern_embassy::server::MethodFilter::Any, Page::Info).unwrap();
    server.register(Route::new("/ws", Method::Get, Page::Ws).websocket(true)).unwrap();
    server.register_uri("/big", Method::Get, Page::Big).unwrap();
    server
}

/// Runs one serving task on stack `a` and `test` next to it; stops the server when `test`
/// ends and checks that the task returns.
async fn with_one_task<T>(a: Stack<'_>, server: &TestServer<1>, test: impl Future<Output = T>) -> T {
    let mut bufs = buffers();
    let test = async {
        let out = test.await;
        server.stop();
        out
    };
    let (served, out) = join(server.serve(a, &mut bufs), test).await;
    assert_eq!(served, Ok(()));
    out
}

type Log = std::rc::Rc<RefCell<(Vec<u8>, usize)>>;

/// Collects body bytes and counts ON_CONNECTED.
fn collector() -> (Log, impl FnMut(&Event<'_>)) {
    let log: Log = Default::default();
    let sink = log.clone();
    (log, move |e: &Event<'_>| match e.kind {
        EventKind::OnData(d) => sink.borrow_mut().0.extend_from_slice(d),
        EventKind::OnConnected => sink.borrow_mut().1 += 1,
        _ => {}
    })
}

/// Reads one response with a Content-Length body (or none); `None` at the end of the stream.
async fn read_response(socket: &mut impl Read, pending: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut buf = [0u8; 2048];
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
    pending.drain(..head_end);
    let len = head
        .to_ascii_lowercase()
        .lines()
        .find_map(|l| l.strip_prefix("content-length: ").map(|v| v.trim().parse::<usize>().unwrap()))
        .unwrap_or(0);
    while pending.len() < len {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream ended inside a body");
        pending.extend_from_slice(&buf[..n]);
    }
    Some((head, pending.drain(..len).collect()))
}

/// Reads until the end of the stream (or a reset); what arrived.
async fn read_to_end(socket: &mut impl Read) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

const GET_HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n";

#[test]
fn keep_alive_gets_share_one_connection() {
    let server = server::<1>(config());
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let config = ClientConfig { url: Some("http://10.0.0.1/hello"), ..ClientConfig::default() };
            let mut engine = vec![0u8; config.buffer_len()];
            let (log, handler) = collector();
            let transport = TcpTransport::new(b, &mut rx, &mut tx);
            let mut client = Client::with_handler(&config, &mut engine, transport, handler).unwrap();
            for _ in 0..3 {
                client.perform().await.unwrap();
                assert_eq!(client.status_code(), Some(StatusCode::OK));
                assert_eq!(client.response_header("content-type"), Some(&b"text/plain"[..]));
            }
            client.set_url("http://10.0.0.1/info?name=tern").unwrap();
            client.set_header("X-Test", "yes").unwrap();
            client.perform().await.unwrap();
            assert_eq!(client.status_code(), Some(StatusCode::CREATED));
            assert_eq!(client.response_header("location"), Some(&b"/items/tern"[..]));
            client.close().await.unwrap();
            let (body, connects) = log.borrow().clone();
            assert_eq!(String::from_utf8(body).unwrap(), "Hello World!".repeat(3) + "GET /info name=tern x-test=yes");
            assert_eq!(connects, 1, "ON_CONNECTED once for four requests");
        })
        .await;
    });
    assert_eq!(server.handler().opened.get(), 1);
    assert_eq!(server.handler().closed.get(), 1);
    assert_eq!(server.open_sessions(), 0);
}

#[test]
fn chunked_upload_is_read_with_recv() {
    let server = server::<1>(config());
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let config = ClientConfig { url: Some("http://10.0.0.1/echo"), ..ClientConfig::default() };
            let mut engine = vec![0u8; config.buffer_len()];
            let mut client = Client::new(&config, &mut engine, TcpTransport::new(b, &mut rx, &mut tx)).unwrap();
            client.set_method(Method::Post);
            client.open(None).await.unwrap();
            for piece in data.chunks(700) {
                client.write(piece).await.unwrap();
            }
            assert_eq!(client.fetch_headers().await.unwrap(), Some(3000));
            assert_eq!(client.status_code(), Some(StatusCode::OK));
            assert_eq!(client.response_header("x-received"), Some(&b"3000"[..]));
            let mut body = vec![0u8; 4000];
            let n = client.read_response(&mut body).await.unwrap();
            assert!(body[..n] == data[..], "echo differs");
            client.close().await.unwrap();
        })
        .await;
    });
}

#[test]
fn chunked_response_arrives_whole() {
    let server = server::<1>(config());
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let config = ClientConfig { url: Some("http://10.0.0.1/chunks"), ..ClientConfig::default() };
            let mut engine = vec![0u8; config.buffer_len()];
            let (log, handler) = collector();
            let transport = TcpTransport::new(b, &mut rx, &mut tx);
            let mut client = Client::with_handler(&config, &mut engine, transport, handler).unwrap();
            client.perform().await.unwrap();
            assert_eq!(client.status_code(), Some(StatusCode::OK));
            assert!(client.is_chunked_response());
            client.close().await.unwrap();
            assert_eq!(log.borrow().0, b"one two three");
        })
        .await;
    });
}

#[test]
fn router_answers_404_and_405_and_closes() {
    let server = server::<1>(config());
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let config = ClientConfig { url: Some("http://10.0.0.1/missing"), ..ClientConfig::default() };
            let mut engine = vec![0u8; config.buffer_len()];
            let transport = TcpTransport::new(b, &mut rx, &mut tx);
            let mut client = Client::new(&config, &mut engine, transport).unwrap();
            client.perform().await.unwrap();
            assert_eq!(client.status_code(), Some(StatusCode::NOT_FOUND));
            assert!(!client.is_persistent_connection(), "ESP-IDF's default answer closes");

            client.set_url("http://10.0.0.1/hello").unwrap();
            client.set_method(Method::Post);
            client.set_post_field(Some(b"x")).unwrap();
            client.perform().await.unwrap();
            assert_eq!(client.status_code(), Some(StatusCode::METHOD_NOT_ALLOWED));
            assert_eq!(client.response_header("allow"), Some(&b"GET, HEAD"[..]));
            assert_eq!(client.connects(), 2, "each refusal closed its connection");
            client.close().await.unwrap();
        })
        .await;
    });
    assert_eq!(*server.handler().errors.borrow(), [HttpdErrCode::NotFound, HttpdErrCode::MethodNotAllowed]);
    assert_eq!(server.handler().opened.get(), 2);
}

#[test]
fn an_error_handler_may_answer_and_keep_the_session() {
    let server = server::<1>(config());
    server.handler().custom_404.set(true);
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            let mut pending = Vec::new();
            socket.write_all(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
            let (head, body) = read_response(&mut socket, &mut pending).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
            assert_eq!(body, b"custom: nothing here");
            // Same connection.
            socket.write_all(GET_HELLO).await.unwrap();
            let (head, body) = read_response(&mut socket, &mut pending).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
            assert_eq!(body, b"Hello World!");
            close_gracefully(&mut socket).await;
        })
        .await;
    });
    assert_eq!(server.handler().opened.get(), 1);
}

#[test]
fn a_head_over_max_req_hdr_len_is_answered_431() {
    let server = server::<1>(config());
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            let request = format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(1100));
            socket.write_all(request.as_bytes()).await.unwrap();
            let mut pending = Vec::new();
            let (head, _) = read_response(&mut socket, &mut pending).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{head}");
            assert!(head.contains("Connection: close\r\n"), "{head}");
            assert!(read_to_end(&mut socket).await.is_empty(), "closed after the 431");
            close_gracefully(&mut socket).await;
        })
        .await;
    });
    assert_eq!(*server.handler().errors.borrow(), [HttpdErrCode::RequestHeaderFieldsTooLarge]);
}

#[test]
fn a_silent_client_is_closed_after_the_idle_timeout() {
    let server = server::<1>(config());
    let took = support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            let start = Instant::now();
            let got = read_to_end(&mut socket).await;
            let took = start.elapsed();
            assert!(got.is_empty(), "nothing is answered to nothing");
            close_gracefully(&mut socket).await;
            took
        })
        .await
    });
    assert!(took >= Duration::from_millis(280) && took < Duration::from_millis(2000), "closed after {took:?}");
    assert_eq!(server.handler().closed.get(), 1);
}

#[test]
fn a_stalled_head_is_answered_408_after_recv_wait_timeout() {
    let server = server::<1>(config());
    let took = support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            socket.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n").await.unwrap();
            let start = Instant::now();
            let mut pending = Vec::new();
            let (head, body) = read_response(&mut socket, &mut pending).await.unwrap();
            let took = start.elapsed();
            assert!(head.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{head}");
            assert_eq!(body, b"Server closed this connection");
            assert!(read_to_end(&mut socket).await.is_empty());
            close_gracefully(&mut socket).await;
            took
        })
        .await
    });
    assert!(took >= Duration::from_millis(180) && took < Duration::from_millis(2000), "408 after {took:?}");
}

#[test]
fn a_client_that_stops_reading_is_dropped_after_send_wait_timeout() {
    let server = server::<1>(config());
    let took = support::run(async |a, b| {
        with_one_task(a, &server, async {
            // Small windows: 64 KiB cannot be on the way at once.
            let mut bufs = SocketBuffers::new(1024, 1024);
            let mut stalled = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            stalled.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
            let start = Instant::now();
            while server.handler().closed.get() == 0 {
                embassy_time::Timer::after_millis(5).await;
            }
            let took = start.elapsed();
            stalled.abort();
            drop(stalled);
            // The task lingers for at most CLOSE_LINGER, then serves the next client.
            embassy_time::Timer::after(tern_embassy::net::CLOSE_LINGER + embassy_time::Duration::from_millis(50)).await;
            let mut bufs = SocketBuffers::default();
            let mut next = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            next.write_all(GET_HELLO).await.unwrap();
            let (head, _) = read_response(&mut next, &mut Vec::new()).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            close_gracefully(&mut next).await;
            took
        })
        .await
    });
    assert!(took >= Duration::from_millis(180) && took < Duration::from_millis(1500), "dropped after {took:?}");
}

// ----- WebSocket ---------------------------------------------------------------------------

/// A WebSocket client on a raw socket: tern-proto's handshake and frame pieces.
struct WsClient<'s, 'a> {
    socket: &'s mut TcpSocket<'a>,
    receiver: FrameReceiver,
    pending: Vec<u8>,
    mask: u8,
}

impl<'s, 'a> WsClient<'s, 'a> {
    async fn open(socket: &'s mut TcpSocket<'a>, target: &str) -> WsClient<'s, 'a> {
        let key = ClientKey::from_nonce([7; 16]);
        let mut request = [0u8; 512];
        let n = write_client_request("10.0.0.1", target, &key, &[], &mut request).unwrap();
        socket.write_all(&request[..n]).await.unwrap();
        let mut pending = Vec::new();
        let mut buf = [0u8; 1024];
        let head_end = loop {
            if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed during the handshake");
            pending.extend_from_slice(&buf[..n]);
        };
        let head: Vec<u8> = pending.drain(..head_end).collect();
        assert!(head.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"), "{}", String::from_utf8_lossy(&head));
        assert_eq!(check_response(StatusCode::SWITCHING_PROTOCOLS, &head, &key, &[]), Ok(None));
        WsClient { socket, receiver: FrameReceiver::new(Role::Client, 1 << 20), pending, mask: 1 }
    }

    async fn send(&mut self, opcode: Opcode, fin: bool, payload: &[u8]) {
        self.mask = self.mask.wrapping_add(17);
        let mut frame = vec![0u8; payload.len() + 14];
        let n = encode_frame(opcode, fin, Some([self.mask, 2, 3, 4]), payload, &mut frame).unwrap();
        self.socket.write_all(&frame[..n]).await.unwrap();
    }

    /// The next frame and its payload; `None` when the stream ends first.
    async fn next(&mut self) -> Option<(FrameInfo, Vec<u8>)> {
        let mut payload = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let (n, event) = self.receiver.decode(&mut self.pending).unwrap();
            let done = match event {
                Received::Frame(_) => None,
                Received::Payload(p) => {
                    payload.extend_from_slice(p);
                    None
                }
                Received::FrameEnd(info) => Some(info),
                Received::NeedMore => None,
                Received::Closed => {
                    // After a close frame only the end of the stream may come.
                    let rest = read_to_end(&mut *self.socket).await;
                    assert!(rest.is_empty() && self.pending.is_empty(), "bytes after the close frame");
                    return None;
                }
            };
            let need_more = matches!(event, Received::NeedMore);
            self.pending.drain(..n);
            if let Some(info) = done {
                return Some((info, payload));
            }
            if need_more {
                match self.socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                }
            }
        }
    }
}

#[test]
fn websocket_echo_ping_and_close() {
    let server = server::<1>(config());
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            let mut ws = WsClient::open(&mut socket, "/ws").await;

            ws.send(Opcode::Text, true, b"hello").await;
            let (info, payload) = ws.next().await.unwrap();
            assert_eq!((info.opcode, info.fin, payload.as_slice()), (Opcode::Text, true, &b"hello"[..]));

            let binary: Vec<u8> = (0..=255).collect();
            ws.send(Opcode::Binary, true, &binary).await;
            let (info, payload) = ws.next().await.unwrap();
            assert_eq!((info.opcode, payload), (Opcode::Binary, binary));

            // A payload larger than the engine's body window arrives in pieces.
            let big = vec![b'x'; 3000];
            ws.send(Opcode::Text, true, &big).await;
            let (_, payload) = ws.next().await.unwrap();
            assert_eq!(payload, big);

            // Fragments are delivered (and echoed) one frame at a time.
            ws.send(Opcode::Text, false, b"frag").await;
            ws.send(Opcode::Continuation, true, b"ment").await;
            let (first, one) = ws.next().await.unwrap();
            let (second, two) = ws.next().await.unwrap();
            assert_eq!((first.opcode, first.fin, one.as_slice()), (Opcode::Text, false, &b"frag"[..]));
            assert_eq!((second.opcode, second.fin, two.as_slice()), (Opcode::Continuation, true, &b"ment"[..]));

            ws.send(Opcode::Ping, true, b"are you there").await;
            let (info, payload) = ws.next().await.unwrap();
            assert_eq!((info.opcode, payload.as_slice()), (Opcode::Pong, &b"are you there"[..]));

            let mut close = [0u8; 2];
            ws::write_close_payload(CloseCode::NORMAL, "", &mut close).unwrap();
            ws.send(Opcode::Close, true, &close).await;
            let (info, payload) = ws.next().await.unwrap();
            assert_eq!(info.opcode, Opcode::Close);
            assert_eq!(parse_close_payload(&payload).unwrap().map(|(code, _)| code), Some(CloseCode::NORMAL));
            assert!(ws.next().await.is_none(), "the server closes after the closing handshake");
            close_gracefully(&mut socket).await;
        })
        .await;
    });
    assert_eq!(server.handler().closed.get(), 1);
}

#[test]
fn a_refused_pre_handshake_closes_without_an_answer() {
    let server = server::<1>(config());
    server.handler().require_token.set(true);
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            let key = ClientKey::from_nonce([9; 16]);
            let mut request = [0u8; 512];
            let n = write_client_request("10.0.0.1", "/ws", &key, &[], &mut request).unwrap();
            socket.write_all(&request[..n]).await.unwrap();
            assert!(read_to_end(&mut socket).await.is_empty(), "no answer, then the close");
            close_gracefully(&mut socket).await;
        })
        .await;
    });
    assert_eq!(server.handler().closed.get(), 1);
}

#[test]
fn a_plain_get_on_a_websocket_route_reaches_the_handler() {
    let server = server::<1>(config());
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            socket.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
            let (head, body) = read_response(&mut socket, &mut Vec::new()).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
            assert_eq!(body, b"not a WebSocket request");
            close_gracefully(&mut socket).await;
        })
        .await;
    });
}

// ----- sessions ----------------------------------------------------------------------------

/// Three serving tasks for two sessions: the third task is the backlog.
async fn three_tasks<T>(a: Stack<'_>, server: &TestServer<3>, test: impl Future<Output = T>) -> T {
    let (mut b1, mut b2, mut b3) = (buffers(), buffers(), buffers());
    let test = async {
        let out = test.await;
        server.stop();
        out
    };
    let (r1, r2, (r3, out)) =
        join3(server.serve(a, &mut b1), server.serve(a, &mut b2), join(server.serve(a, &mut b3), test)).await;
    assert_eq!((r1, r2, r3), (Ok(()), Ok(()), Ok(())));
    out
}

fn two_sessions(lru_purge_enable: bool) -> Config {
    Config {
        max_open_sockets: 2,
        lru_purge_enable,
        connection: ServerConfig { idle_timeout_ms: Some(10_000), ..ServerConfig::DEFAULT },
        ..Config::DEFAULT
    }
}

#[test]
fn with_max_open_sockets_taken_a_third_client_waits_for_a_slot() {
    let server = server::<3>(two_sessions(false));
    support::run(async |a, b| {
        three_tasks(a, &server, async {
            let (mut b1, mut b2, mut b3) =
                (SocketBuffers::default(), SocketBuffers::default(), SocketBuffers::default());
            let mut c1 = connect(b, &mut b1, (ADDR_A, PORT)).await;
            let mut c2 = connect(b, &mut b2, (ADDR_A, PORT)).await;
            let (mut p1, mut p2, mut p3) = (Vec::new(), Vec::new(), Vec::new());
            for (c, p) in [(&mut c1, &mut p1), (&mut c2, &mut p2)] {
                c.write_all(GET_HELLO).await.unwrap();
                let (head, _) = read_response(c, p).await.unwrap();
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            }
            assert_eq!(server.open_sessions(), 2);

            let mut c3 = connect(b, &mut b3, (ADDR_A, PORT)).await;
            c3.write_all(GET_HELLO).await.unwrap();
            let waited = with_timeout(embassy_time::Duration::from_millis(300), read_response(&mut c3, &mut p3)).await;
            assert!(waited.is_err(), "the third client is not served while both slots are taken");
            assert_eq!(server.open_sessions(), 2);

            // The first client leaves: its slot goes to the third.
            close_gracefully(&mut c1).await;
            let (head, body) = read_response(&mut c3, &mut p3).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            assert_eq!(body, b"Hello World!");
            let mut ids = [SessionId(0); 3];
            assert_eq!(server.client_list(&mut ids), Ok(2));
            close_gracefully(&mut c2).await;
            close_gracefully(&mut c3).await;
        })
        .await;
    });
    assert_eq!(server.handler().opened.get(), 3);
    assert_eq!(server.handler().closed.get(), 3);
}

#[test]
fn with_lru_purge_the_least_recently_used_session_makes_room() {
    let server = server::<3>(two_sessions(true));
    support::run(async |a, b| {
        three_tasks(a, &server, async {
            let (mut b1, mut b2, mut b3) =
                (SocketBuffers::default(), SocketBuffers::default(), SocketBuffers::default());
            let mut c1 = connect(b, &mut b1, (ADDR_A, PORT)).await;
            let mut c2 = connect(b, &mut b2, (ADDR_A, PORT)).await;
            let (mut p1, mut p2, mut p3) = (Vec::new(), Vec::new(), Vec::new());
            // c1 is served first, so it is the least recently used.
            for (c, p) in [(&mut c1, &mut p1), (&mut c2, &mut p2)] {
                c.write_all(GET_HELLO).await.unwrap();
                read_response(c, p).await.unwrap();
            }

            let mut c3 = connect(b, &mut b3, (ADDR_A, PORT)).await;
            let start = Instant::now();
            c3.write_all(GET_HELLO).await.unwrap();
            let (head, _) = read_response(&mut c3, &mut p3).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            assert!(start.elapsed() < Duration::from_millis(250), "served after {:?}", start.elapsed());

            assert!(read_to_end(&mut c1).await.is_empty(), "c1 was purged");
            c2.write_all(GET_HELLO).await.unwrap();
            let (head, _) = read_response(&mut c2, &mut p2).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "c2 still served: {head}");
            for c in [&mut c1, &mut c2, &mut c3] {
                close_gracefully(c).await;
            }
        })
        .await;
    });
    assert_eq!(server.handler().opened.get(), 3);
}

#[test]
fn trigger_close_ends_an_idle_session() {
    let server = server::<1>(Config { connection: ServerConfig::DEFAULT, ..config() });
    support::run(async |a, b| {
        with_one_task(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            socket.write_all(GET_HELLO).await.unwrap();
            read_response(&mut socket, &mut Vec::new()).await.unwrap();
            let mut ids = [SessionId(0); 1];
            assert_eq!(server.client_list(&mut ids), Ok(1));
            server.trigger_close(ids[0]).unwrap();
            let start = Instant::now();
            assert!(read_to_end(&mut socket).await.is_empty());
            assert!(start.elapsed() < Duration::from_millis(250), "closed after {:?}", start.elapsed());
            close_gracefully(&mut socket).await;
            assert!(matches!(server.trigger_close(ids[0]), Err(Error::Session(_))), "a closed session is unknown");
        })
        .await;
    });
}

#[test]
fn stop_ends_every_serving_task() {
    let server = server::<3>(two_sessions(false));
    support::run(async |a, b| {
        three_tasks(a, &server, async {
            let mut bufs = SocketBuffers::default();
            let mut socket = connect(b, &mut bufs, (ADDR_A, PORT)).await;
            socket.write_all(GET_HELLO).await.unwrap();
            read_response(&mut socket, &mut Vec::new()).await.unwrap();
            server.stop();
            assert!(read_to_end(&mut socket).await.is_empty(), "the open session is closed");
            close_gracefully(&mut socket).await;
        })
        .await;
    });
    assert!(server.is_stopped());
    assert_eq!(server.open_sessions(), 0);
    assert_eq!(server.handler().closed.get(), 1);
}

#[test]
fn more_serving_calls_than_tasks_are_refused() {
    let server = server::<1>(config());
    support::run(async |a, _b| {
        let (mut b1, mut b2) = (buffers(), buffers());
        let second = async {
            let refused = server.serve(a, &mut b2).await;
            server.stop();
            refused
        };
        let (first, second) = join(server.serve(a, &mut b1), second).await;
        assert_eq!(first, Ok(()));
        assert_eq!(second, Err(Error::TooManyTasks { capacity: 1 }));
    });
}

#[test]
fn a_server_can_live_in_a_static() {
    // What firmware does: a `static` server (from a StaticCell) shared by its tasks. That
    // needs `Sync`, which a critical-section mutex gives when the handler is `Sync`.
    struct Firmware;
    impl Handler for Firmware {
        type Route = u8;
        async fn handle(&self, _route: u8, req: &mut Request<'_, impl Stream>) -> HandlerResult {
            req.send(b"ok").await
        }
    }
    fn shareable<T: Sync>() {}
    shareable::<tern_embassy::server::Server<Firmware, embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex, 4, 8>>(
    );
}

#[test]
fn a_small_engine_buffer_is_refused_before_serving() {
    let server = server::<1>(config());
    let mut engine = vec![0u8; 1000];
    /// A stream that never carries anything.
    struct Nothing;
    impl embedded_io_async::ErrorType for Nothing {
        type Error = core::convert::Infallible;
    }
    impl Read for Nothing {
        async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Self::Error> {
            Ok(0)
        }
    }
    impl Write for Nothing {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            Ok(buf.len())
        }
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
    let refused = support::block_on(server.serve_connection(Nothing, &mut engine));
    assert_eq!(refused, Err(Error::Buffer(tern_proto::LocalError::BufferTooSmall { needed: 2612, available: 1000 })));
    assert_eq!(server.handler().opened.get(), 0);
}

// ----- serve_connection over a real socket -------------------------------------------------

#[test]
fn serve_connection_over_a_std_socket() {
    use std::io::{Read as _, Write as _};
    let server = server::<1>(config());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nping")
            .unwrap();
        let mut all = String::new();
        stream.read_to_string(&mut all).unwrap();
        all
    });
    let (stream, _) = listener.accept().unwrap();
    let mut engine = vec![0u8; 2612];
    let served = support::block_on(server.serve_connection(support::StdStream::new(stream).unwrap(), &mut engine));
    assert_eq!(served, Ok(()));
    let all = client.join().unwrap();
    assert!(all.starts_with("HTTP/1.1 200 OK\r\n"), "{all}");
    assert!(all.contains("Hello World!HTTP/1.1 200 OK\r\n"), "pipelined answers in order: {all}");
    assert!(all.ends_with("Connection: close\r\n\r\nping") || all.ends_with("ping"), "{all}");
    assert_eq!(server.handler().opened.get(), 1);
    assert_eq!(server.handler().closed.get(), 1);
}

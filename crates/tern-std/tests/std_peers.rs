//! tern-std against small peers that misbehave on purpose (a server that never answers, one
//! that drops kept-alive connections) and against Python's http.server (HTTP/1.0).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use tern_proto::Method;
use tern_proto::client::{ClientConfig, ClientError, Event, EventKind, Stage, State};
use tern_std::{Client, Error};

/// Reads one request head from `stream`.
fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    head
}

fn body_collector() -> (std::sync::Arc<std::sync::Mutex<Vec<u8>>>, impl FnMut(&Event<'_>)) {
    let body = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = body.clone();
    (body, move |e: &Event<'_>| {
        if let EventKind::OnData(d) = e.kind {
            sink.lock().unwrap().extend_from_slice(d);
        }
    })
}

#[test]
fn read_timeout_closes_and_the_late_response_never_leaks() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        // First connection: read the request, answer only after the client gave up.
        let (mut first, _) = listener.accept().unwrap();
        read_head(&mut first);
        // Second connection: the client's next request, answered at once.
        let (mut second, _) = listener.accept().unwrap();
        let _ = first.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale");
        read_head(&mut second);
        second.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh").unwrap();
    });
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(300), ..ClientConfig::default() };
    let (body, handler) = body_collector();
    let mut client = Client::with_handler(&config, handler).unwrap();
    let err = client.perform().unwrap_err();
    assert!(matches!(err, Error::Client(ClientError::Timeout(Stage::ReceiveHead))), "{err}");
    assert_eq!(err.client_error().unwrap().esp_err(), 0x7007);
    assert_eq!(client.state(), State::Init, "a timed-out connection is closed");
    client.perform().unwrap();
    assert_eq!(&*body.lock().unwrap(), b"fresh");
    assert_eq!(client.connects(), 2);
    server.join().unwrap();
}

#[test]
fn whole_request_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/drip", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        read_head(&mut s);
        // A byte every 100 ms: never idle for the 5 s per-read timeout, but slow overall.
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(100));
            if s.write_all(b"x").is_err() {
                return;
            }
        }
    });
    let config =
        ClientConfig { url: Some(&url), request_timeout: Some(Duration::from_millis(700)), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let started = std::time::Instant::now();
    let err = client.perform().unwrap_err();
    assert!(matches!(err, Error::Client(ClientError::Timeout(Stage::ReceiveBody))), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A server that answers each request on a connection and then closes it without saying so,
/// as servers do with idle kept-alive connections.
fn dropping_server() -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let mut connections = 0;
        for _ in 0..2 {
            let Ok((mut s, _)) = listener.accept() else { break };
            connections += 1;
            let head = read_head(&mut s);
            if head.is_empty() {
                continue;
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
            // Wait until the client has parked the connection, then drop it.
            std::thread::sleep(Duration::from_millis(100));
            drop(s);
        }
        connections
    });
    (url, handle)
}

#[test]
fn dead_kept_alive_connection_is_retried_for_get() {
    let (url, server) = dropping_server();
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let (body, handler) = body_collector();
    let mut client = Client::with_handler(&config, handler).unwrap();
    client.perform().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    client.perform().unwrap();
    assert_eq!(&*body.lock().unwrap(), b"okok");
    assert_eq!(client.connects(), 2);
    drop(client);
    assert_eq!(server.join().unwrap(), 2);
}

#[test]
fn dead_kept_alive_connection_is_not_retried_for_post() {
    let (url, _server) = dropping_server();
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.set_post_field(Some(b"x=1")).unwrap();
    client.perform().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let err = client.perform().unwrap_err();
    let e = err.client_error().unwrap();
    assert!(matches!(e, ClientError::ConnectionClosed(_) | ClientError::Transport(_)), "a POST is not replayed: {err}");
    assert_eq!(client.connects(), 1);
}

#[test]
fn python_http_server_speaks_http_1_0() {
    let dir = std::env::temp_dir().join(format!("tern-std-pyserver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let content: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    std::fs::write(dir.join("blob.bin"), &content).unwrap();
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 is needed for this test");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port: u16 = line.split(" port ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let url = format!("http://127.0.0.1:{port}/blob.bin");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let (body, handler) = body_collector();
    let mut client = Client::with_handler(&config, handler).unwrap();
    for _ in 0..2 {
        client.perform().unwrap();
        assert_eq!(client.status_code().unwrap().as_u16(), 200);
    }
    // HTTP/1.0 without keep-alive: a connection per request, and the whole file each time.
    assert_eq!(client.connects(), 2);
    let got = body.lock().unwrap().clone();
    assert_eq!(got.len(), 2 * content.len());
    assert_eq!(&got[..content.len()], &content[..]);
    client.set_url("/missing").unwrap();
    client.perform().unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 404);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_resolve_leaves_no_stale_error_behind() {
    let config = ClientConfig { url: Some("http://nonexistent.invalid/"), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let err = client.perform().unwrap_err();
    assert!(matches!(err, Error::Resolve { .. }), "{err}");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
    });
    client.set_url(&url).unwrap();
    client.perform().unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 204);

    // The same after an https URL whose TLS options cannot work (or, without TLS, whose
    // scheme this build cannot serve).
    let config = ClientConfig {
        url: Some("https://127.0.0.1:1/"),
        tls: tern_proto::client::TlsConfig { ca_cert: Some(b"not a certificate"), ..Default::default() },
        ..ClientConfig::default()
    };
    let mut client = Client::new(&config).unwrap();
    let err = client.perform().unwrap_err();
    #[cfg(feature = "tls")]
    assert!(matches!(err, Error::Tls(tern_tls::TlsError::Config(_))), "{err}");
    #[cfg(not(feature = "tls"))]
    assert!(matches!(err, Error::Client(ClientError::TlsUnavailable)), "{err}");
    client.set_url("http://nonexistent.invalid/").unwrap();
    assert!(matches!(client.perform().unwrap_err(), Error::Resolve { .. }));
}

/// A timeout is reported once: exactly one `Error` event, between the request and the
/// disconnect.
#[test]
fn a_timeout_reports_one_error_event() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/silent", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_head(&mut stream);
        // Silent until the client leaves.
        let _ = stream.read(&mut [0u8; 1]);
    });
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(200), ..ClientConfig::default() };
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let handler = move |e: &Event<'_>| sink.lock().unwrap().push(e.kind.id());
    let mut client = Client::with_handler(&config, handler).unwrap();
    assert!(client.perform().is_err());
    let names: Vec<String> = events.lock().unwrap().iter().map(|id| format!("{id:?}")).collect();
    assert_eq!(names, ["OnConnected", "HeadersSent", "Error", "Disconnected"]);
    server.join().unwrap();
}

/// The streamed flow's `fetch_headers` waits no longer than the timeout, even though the
/// engine sets that deadline only when it is asked what to do next.
#[test]
fn streamed_fetch_headers_times_out_on_a_silent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/silent", listener.local_addr().unwrap());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_head(&mut stream);
        // Hold the connection open, silent, until the test is over.
        let _ = done_rx.recv_timeout(Duration::from_secs(10));
    });
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(200), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(0)).unwrap();
    let started = std::time::Instant::now();
    let err = client.fetch_headers().unwrap_err();
    let waited = started.elapsed();
    done_tx.send(()).unwrap();
    assert!(matches!(err, Error::Client(ClientError::Timeout(_))), "{err}");
    assert!(waited < Duration::from_secs(2), "fetch_headers waited {waited:?} for a 200 ms timeout");
    server.join().unwrap();
}

/// Dropping a client with an open keep-alive connection closes it and reports
/// `Disconnected`, as `esp_http_client_cleanup` does.
#[test]
fn dropping_a_connected_client_reports_disconnected() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/kept", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_head(&mut stream);
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        // The client's close ends the connection.
        assert_eq!(stream.read(&mut [0u8; 1]).unwrap(), 0);
    });
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let handler = move |e: &Event<'_>| sink.lock().unwrap().push(e.kind.id());
    let mut client = Client::with_handler(&config, handler).unwrap();
    client.perform().unwrap();
    assert_eq!(client.state(), State::Connected);
    events.lock().unwrap().clear();
    drop(client);
    let names: Vec<String> = events.lock().unwrap().iter().map(|id| format!("{id:?}")).collect();
    assert_eq!(names, ["Disconnected"]);
    server.join().unwrap();
}

//! The tokio HTTPS server against real TLS clients: curl (GET, POST, chunked, a megabyte, two
//! URLs on one connection, mutual TLS with and without a client certificate), Python's
//! http.client, `openssl s_client`, tungstenite over tern-tls (wss), and clients that send
//! garbage or nothing instead of a ClientHello.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
#![cfg(feature = "tls")]

mod support;
mod tls_support;

#[allow(unreachable_pub)] // the example's interface, seen from the test crate
#[path = "../examples/ws_echo_server.rs"]
mod ws_echo_server;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{curl, curl_response, python};
use tern_testkit::{Pki, s_client};
use tern_tls::{ClientTls, TlsConfig, TlsStream};
use tern_tokio::server::Config;
use tls_support::{BIG, CHUNKS, HELLO, Seen, mutual_server_tls, pattern, server_tls, start, start_tls, tls_config};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

fn https(port: u16, path: &str) -> String {
    format!("https://localhost:{port}{path}")
}

fn path_str(path: &std::path::Path) -> String {
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_get_post_chunked_and_a_megabyte() {
    let pki = Pki::new();
    let (server, seen) = start_tls(&pki).await;
    let port = server.local_addr().port();
    let ca = path_str(pki.ca_path());
    let responses = support::blocking(move || {
        let get = curl_response(&["--cacert", &ca, &https(port, "/hello")]);
        let post = curl_response(&["--cacert", &ca, "--data-binary", "posted over TLS", &https(port, "/echo")]);
        let chunked = curl_response(&["--cacert", &ca, &https(port, "/chunks")]);
        let big = curl(&["--cacert", &ca, &https(port, "/big")]);
        (get, post, chunked, big)
    })
    .await;
    let (get, post, chunked, big) = responses;
    assert_eq!(get.status, 200);
    assert_eq!(get.text(), HELLO);
    assert_eq!(get.header("Content-Type"), Some("text/plain"));
    assert_eq!(post.status, 200);
    assert_eq!(post.text(), "posted over TLS");
    assert_eq!(chunked.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(chunked.text(), CHUNKS.concat());
    assert!(big.stdout == pattern(BIG), "curl got {} bytes of /big, or other bytes", big.stdout.len());
    assert_eq!(seen.opened(), 4);
    assert!(seen.tls_errors().is_empty(), "{:?}", seen.tls_errors());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_reuses_one_tls_connection_for_two_urls() {
    let pki = Pki::new();
    let (server, seen) = start_tls(&pki).await;
    let port = server.local_addr().port();
    let ca = path_str(pki.ca_path());
    let ran =
        support::blocking(move || curl(&["-v", "--cacert", &ca, &https(port, "/hello"), &https(port, "/chunks")]))
            .await;
    assert_eq!(ran.stdout_text(), format!("{HELLO}{}", CHUNKS.concat()));
    assert!(ran.stderr.contains("Re-using existing connection"), "{}", ran.stderr);
    assert!(ran.stderr.contains("SSL certificate verify ok"), "{}", ran.stderr);
    assert_eq!(seen.opened(), 1, "one accepted connection for both URLs");
    server.stop().await;
}

/// Sends requests on one Python http.client HTTPS connection that trusts only the CA:
/// argv is port, CA file, then `METHOD PATH [BODY]`; prints `status|body|local port|version`.
const PY_HTTPS: &str = r#"
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
conn = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx, timeout=5)
for spec in sys.argv[3:]:
    parts = spec.split(" ", 2)
    body = parts[2] if len(parts) > 2 else None
    conn.request(parts[0], parts[1], body=body)
    port = conn.sock.getsockname()[1]
    version = conn.sock.version()
    resp = conn.getresponse()
    print("%d|%s|%d|%s" % (resp.status, resp.read().decode(), port, version))
conn.close()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_http_client_with_an_ssl_context() {
    let pki = Pki::new();
    let (server, seen) = start_tls(&pki).await;
    let args = vec![
        server.local_addr().port().to_string(),
        path_str(pki.ca_path()),
        "GET /hello".to_owned(),
        "POST /echo from python".to_owned(),
        "GET /chunks".to_owned(),
    ];
    let out = support::blocking(move || python(PY_HTTPS, &args)).await;
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0][..2], ["200", HELLO]);
    assert_eq!(lines[1][..2], ["200", "from python"]);
    assert_eq!(lines[2][..2], ["200", CHUNKS.concat().as_str()]);
    assert!(lines.iter().all(|l| l[2] == lines[0][2]), "one connection: {out}");
    assert!(lines.iter().all(|l| l[3] == "TLSv1.3"), "{out}");
    assert_eq!(seen.opened(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_verifies_and_gets_an_answer() {
    let pki = Pki::new();
    let (server, seen) = start_tls(&pki).await;
    let port = server.local_addr().port();
    let ca = pki.ca_path().to_owned();
    let outputs = support::blocking(move || {
        let request = b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        [&["-verify_hostname", "localhost"][..], &["-verify_hostname", "localhost", "-tls1_2"][..]]
            .map(|extra| s_client(port, &ca, "localhost", request, extra))
    })
    .await;
    for out in outputs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "s_client failed: {stderr}\n{stdout}");
        assert!(stdout.starts_with("HTTP/1.1 200 OK\r\n"), "{stdout}");
        assert!(stdout.contains("Connection: close\r\n"), "{stdout}");
        assert!(stdout.ends_with(&format!("\r\n\r\n{HELLO}")), "{stdout}");
    }
    assert_eq!(seen.opened(), 2);
    assert!(seen.tls_errors().is_empty(), "{:?}", seen.tls_errors());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_accepts_a_client_certificate_and_refuses_its_absence() {
    let pki = Pki::new();
    let seen = Arc::new(Seen::default());
    let server = start(tls_config(mutual_server_tls(&pki), &seen, Config::default())).await;
    let port = server.local_addr().port();
    let (ca, cert, key) =
        (path_str(pki.ca_path()), path_str(&pki.client().cert_path), path_str(&pki.client().key_path));
    let cert_len = pki.client().cert_der.len();
    let (with_cert, without, again) = support::blocking(move || {
        let with_cert = curl(&["--cacert", &ca, "--cert", &cert, "--key", &key, &https(port, "/whoami")]);
        let without = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert", &ca, &https(port, "/whoami")])
            .output()
            .unwrap();
        let again = curl(&["--cacert", &ca, "--cert", &cert, "--key", &key, &https(port, "/whoami")]);
        (with_cert, without, again)
    })
    .await;
    assert_eq!(with_cert.stdout_text(), format!("tls cert={cert_len}"));
    assert!(!without.status.success(), "curl without a client certificate got {:?}", without.stdout);
    assert!(without.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(stderr.contains("certificate required"), "{stderr}");
    // The refusal reached the hook with its reason, and the server served the next client.
    assert_eq!(again.stdout_text(), format!("tls cert={cert_len}"));
    let errors = seen.tls_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("Certificate(Missing)"), "{errors:?}");
    assert_eq!(seen.opened(), 2, "the refused client never reached the open hook");
    server.stop().await;
}

/// A blocking wss client on `path`, through tern-tls over a std socket.
fn wss(port: u16, ca: &str, path: &str) -> tungstenite::WebSocket<TlsStream<TcpStream>> {
    let tls = ClientTls::new(&TlsConfig { ca_cert: Some(ca.as_bytes()), ..TlsConfig::default() }).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let session = tls.session("localhost", vec![0u8; tls.layout().buffer_len()]).unwrap();
    let url = format!("wss://localhost:{port}{path}");
    let (ws, response) = tungstenite::client(url.as_str(), TlsStream::new(session, tcp)).unwrap();
    assert_eq!(response.status(), 101);
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_echo_over_tls() {
    let pki = Pki::new();
    let seen = Arc::new(Seen::default());
    let config = tls_config(server_tls(pki.server()), &seen, ws_echo_server::config(0));
    let server = ws_echo_server::start(config).await.unwrap();
    let port = server.local_addr().port();
    let ca = pki.ca_pem().to_owned();
    let result = tokio::task::spawn_blocking(move || {
        let mut ws = wss(port, &ca, "/ws");
        ws.send(Message::text("Hello tern over TLS")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("Hello tern over TLS"));
        // Larger than a TLS record both ways.
        let binary: Vec<u8> = (0..40_000u32).map(|i| (i % 256) as u8).collect();
        ws.send(Message::binary(binary.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::binary(binary));
        ws.send(Message::Ping("are you there".into())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::Pong("are you there".into()));
        // A push from queued work (ws_send_async) goes through the session too.
        ws.send(Message::text("Trigger async")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(ws_echo_server::ASYNC_DATA));
        ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).unwrap();
        loop {
            match ws.read() {
                Ok(Message::Close(frame)) => {
                    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Normal));
                }
                Ok(other) => panic!("unexpected {other:?} after the close"),
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("{e}"),
            }
        }
        // Fragments from /ws_partial, reassembled by tungstenite.
        let mut ws = wss(port, &ca, "/ws_partial");
        let text = "x".repeat(ws_echo_server::PIECE * 3 + 5);
        ws.send(Message::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(text));
    })
    .await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
    assert!(seen.tls_errors().is_empty(), "{:?}", seen.tls_errors());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closing_session_says_close_notify() {
    let pki = Pki::new();
    let (server, _seen) = start_tls(&pki).await;
    let port = server.local_addr().port();
    let ca = pki.ca_pem().to_owned();
    let (response, clean) = support::blocking(move || {
        let tls = ClientTls::new(&TlsConfig { ca_cert: Some(ca.as_bytes()), ..TlsConfig::default() }).unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let session = tls.session("localhost", vec![0u8; tls.layout().buffer_len()]).unwrap();
        let mut stream = TlsStream::new(session, tcp);
        stream.write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        (String::from_utf8(response).unwrap(), stream.session().peer_closed())
    })
    .await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with(HELLO), "{response}");
    assert!(clean, "the server closed without close_notify");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_record_after_the_handshake_ends_the_session() {
    let pki = Pki::new();
    let (server, seen) = start_tls(&pki).await;
    let port = server.local_addr().port();
    let ca = pki.ca_pem().to_owned();
    let ca_path = path_str(pki.ca_path());
    let (closed, served) = support::blocking(move || {
        let tls = ClientTls::new(&TlsConfig { ca_cert: Some(ca.as_bytes()), ..TlsConfig::default() }).unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let session = tls.session("localhost", vec![0u8; tls.layout().buffer_len()]).unwrap();
        let mut stream = TlsStream::new(session, tcp);
        stream.handshake().unwrap();
        // One request that works, then one whose record has a flipped bit.
        stream.write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
        let (mut session, mut tcp) = stream.into_parts();
        session.write([b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n", &[]]).unwrap();
        let mut record = session.output().to_vec();
        let last = record.len() - 1;
        record[last] ^= 0x01;
        tcp.write_all(&record).unwrap();
        // The server answers with an alert (bad_record_mac) and closes.
        let mut rest = Vec::new();
        let closed = loop {
            match tcp.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    break false;
                }
                Err(_) => break true,
            }
        };
        assert!(!rest.windows(8).any(|w| w == b"HTTP/1.1"), "the server answered the corrupted request");
        (closed, curl(&["--cacert", &ca_path, &https(port, "/hello")]))
    })
    .await;
    assert!(closed, "the server kept the connection open");
    assert_eq!(served.stdout_text(), HELLO);
    let errors = seen.tls_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("DecryptError"), "{errors:?}");
    server.stop().await;
}

/// Connects, sends `bytes` (maybe none), and waits for the server to close: how long that
/// took, or `None` when it did not within 5 s.
fn closed_after(port: u16, bytes: &[u8]) -> Option<Duration> {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if !bytes.is_empty() {
        tcp.write_all(bytes).unwrap();
    }
    let mut sink = [0u8; 1024];
    loop {
        match tcp.read(&mut sink) {
            Ok(0) => return Some(started.elapsed()),
            // An alert, if the server had one to say.
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return Some(started.elapsed()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_silence_instead_of_a_client_hello_are_closed_in_time() {
    let pki = Pki::new();
    let seen = Arc::new(Seen::default());
    let mut config = Config { max_open_sockets: 1, ..Config::default() };
    config.connection.recv_wait_timeout_ms = 1000;
    let server = start(tls_config(server_tls(pki.server()), &seen, config)).await;
    let port = server.local_addr().port();
    let ca = path_str(pki.ca_path());
    let (plain_http, junk_record, silent, served) = support::blocking(move || {
        let plain_http = closed_after(port, b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
        // A handshake record header, then bytes that are no ClientHello.
        let junk_record = closed_after(port, &[&[0x16, 0x03, 0x01, 0x00, 0x20][..], &[0xab; 32]].concat());
        let silent = closed_after(port, b"");
        // One session slot: each of them had it, and freed it.
        let served = curl(&["--cacert", &ca, &https(port, "/hello")]);
        (plain_http, junk_record, silent, served)
    })
    .await;
    let plain_http = plain_http.expect("an HTTP request on the HTTPS port is refused");
    assert!(plain_http < Duration::from_millis(500), "{plain_http:?}");
    let junk_record = junk_record.expect("a record that is no ClientHello is refused");
    assert!(junk_record < Duration::from_millis(500), "{junk_record:?}");
    let silent = silent.expect("a silent client is closed");
    assert!(silent >= Duration::from_millis(900) && silent < Duration::from_millis(2500), "{silent:?}");
    assert_eq!(served.stdout_text(), HELLO);
    let errors = seen.tls_errors();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("PeerMisbehaved") && errors[0].contains("InvalidContentType"), "{errors:?}");
    assert!(errors[1].contains("PeerMisbehaved"), "{errors:?}");
    assert!(errors[2].contains("Timeout"), "{errors:?}");
    assert_eq!(seen.opened(), 1, "only curl got past the handshake");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_a_session_in_its_handshake() {
    let pki = Pki::new();
    let (server, seen) = start_tls(&pki).await;
    let port = server.local_addr().port();
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert!(support::eventually(Duration::from_secs(2), || server.client_list().len() == 1).await);
    let started = Instant::now();
    server.stop().await;
    assert!(started.elapsed() < Duration::from_secs(1), "stop waited for the handshake: {:?}", started.elapsed());
    assert!(seen.tls_errors().is_empty(), "a stop is not a TLS failure: {:?}", seen.tls_errors());
    drop(silent);
}

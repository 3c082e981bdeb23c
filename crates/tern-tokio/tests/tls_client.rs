//! The async client over TLS: against the tokio HTTPS server (GET, POST, chunked, a 1 MB
//! download, keep-alive reuse of one TLS connection), nginx and `openssl s_server`; refused
//! certificates with their reasons, `insecure`, mutual TLS, handshake timeouts, and redirects
//! between http and https.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
#![cfg(feature = "tls")]

mod tls_support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tern_proto::client::{ClientConfig, ClientError, Event, EventId, EventKind, NoEvents, Stage, State, TlsConfig};
use tern_proto::{Method, StatusCode};
use tern_testkit::{CertFiles, Nginx, OpensslServer, Pki};
use tern_tls::rustls::ProtocolVersion;
use tern_tls::{CertificateRefusal, ClientTls, Origin, TlsError};
use tern_tokio::client::{Client, Error};
use tern_tokio::server::{Config, Request, Server, UriHandler};
use tls_support::{BIG, CHUNKS, HELLO, Seen, pattern, server_tls, start, start_tls, tls_config};

/// Body bytes and event ids from a client's handler.
#[derive(Default, Clone)]
struct Events(Arc<Mutex<(Vec<u8>, Vec<EventId>)>>);

impl Events {
    fn handler(&self) -> impl FnMut(&Event<'_>) + Send + use<> {
        let seen = self.0.clone();
        move |event: &Event<'_>| {
            let mut seen = seen.lock().unwrap();
            if let EventKind::OnData(data) = event.kind {
                seen.0.extend_from_slice(data);
            }
            seen.1.push(event.kind.id());
        }
    }
    fn take_body(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.lock().unwrap().0)
    }
    fn count(&self, id: EventId) -> usize {
        self.0.lock().unwrap().1.iter().filter(|e| **e == id).count()
    }
}

fn https(addr: SocketAddr, path: &str) -> String {
    format!("https://localhost:{}{path}", addr.port())
}

fn trusting(pki: &Pki) -> TlsConfig<'_> {
    TlsConfig { ca_cert: Some(pki.ca_pem().as_bytes()), ..TlsConfig::default() }
}

/// The client's error when it connects to a server with `cert`, trusting the PKI's CA.
async fn refusal(pki: &Pki, cert: &CertFiles) -> TlsError {
    let seen = Arc::new(Seen::default());
    let server = start(tls_config(server_tls(cert), &seen, Config::default())).await;
    let url = https(server.local_addr(), "/hello");
    let config = ClientConfig { url: Some(&url), tls: trusting(pki), ..ClientConfig::default() };
    let events = Events::default();
    let mut client = Client::with_handler(&config, events.handler()).unwrap();
    let e = client.perform().await.expect_err("the handshake must fail");
    // The engine was told the connect failed: it reported the error and never connected.
    assert_eq!(events.count(EventId::Error), 1);
    assert_eq!(events.count(EventId::OnConnected), 0);
    assert_eq!(client.state(), State::Init);
    let Error::Tls(source) = e else { panic!("not a TLS error: {e:?}") };
    assert_eq!(client.take_last_tls_error(), None, "a refused handshake is returned, not kept");
    // The server heard the client's alert, and never opened a session.
    assert!(
        tls_support_wait(|| !seen.tls_errors().is_empty()).await,
        "the server's TLS hook heard nothing for {}",
        cert.cert_path.display()
    );
    assert!(seen.tls_errors()[0].contains("AlertReceived"), "{:?}", seen.tls_errors());
    assert_eq!(seen.opened(), 0);
    server.stop().await;
    source
}

/// Polls `check` for up to 5 s.
async fn tls_support_wait(mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while !check() {
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test]
async fn get_post_chunked_and_a_large_download_over_one_tls_connection() {
    let pki = Pki::new();
    let (server, seen) = start_tls(&pki).await;
    let url = https(server.local_addr(), "/hello");
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let events = Events::default();
    let body: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut client = Client::with_handler(&config, events.handler()).unwrap();

    client.perform().await.unwrap();
    assert_eq!(client.status_code(), Some(StatusCode::OK));
    assert_eq!(events.take_body(), HELLO.as_bytes());
    assert_eq!(client.response_header("Content-Type"), Some(&b"text/plain"[..]));
    let session = client.tls_session().expect("an https connection has a TLS session");
    assert_eq!(session.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    assert_eq!(session.peer_certificates().unwrap()[0].as_ref(), pki.server().cert_der.as_slice());

    client.set_url("/echo").unwrap();
    client.set_method(Method::Post);
    client.set_post_field(Some(&body)).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code(), Some(StatusCode::OK));
    assert_eq!(events.take_body(), body);

    client.set_url("/chunks").unwrap();
    client.set_method(Method::Get);
    client.set_post_field(None).unwrap();
    client.perform().await.unwrap();
    assert!(client.is_chunked_response());
    assert_eq!(String::from_utf8(events.take_body()).unwrap(), CHUNKS.concat());

    // Three requests, one TLS connection.
    assert_eq!(events.count(EventId::OnConnected), 1);
    assert_eq!(client.connects(), 1);

    // The streaming flow, a megabyte, on the same connection.
    client.set_url("/big").unwrap();
    client.open(Some(0)).await.unwrap();
    assert_eq!(client.fetch_headers().await.unwrap(), Some(BIG as u64));
    let big = client.read_to_end(2 * BIG).await.unwrap();
    assert!(big == pattern(BIG), "the 1 MB body differs");
    assert_eq!(events.count(EventId::OnConnected), 1);
    assert_eq!(seen.opened(), 1, "the server accepted one connection");

    client.close().await.unwrap();
    assert_eq!(events.count(EventId::Disconnected), 1);
    assert!(seen.tls_errors().is_empty(), "{:?}", seen.tls_errors());
    server.stop().await;
}

#[tokio::test]
async fn a_streamed_upload_in_pieces_larger_than_a_record() {
    let pki = Pki::new();
    let (server, _seen) = start_tls(&pki).await;
    let url = https(server.local_addr(), "/echo");
    let config = ClientConfig { url: Some(&url), method: Method::Post, tls: trusting(&pki), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let data = pattern(300_000);
    client.open(None).await.unwrap();
    for part in data.chunks(40_000) {
        assert_eq!(client.write(part).await.unwrap(), part.len());
    }
    assert_eq!(client.fetch_headers().await.unwrap(), Some(data.len() as u64));
    let body = client.read_to_end(1 << 20).await.unwrap();
    assert!(body == data, "the echo differs");
    server.stop().await;
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced() {
    let pki = Pki::new();
    let seen = Arc::new(Seen::default());
    let mut config = Config::default();
    config.connection.idle_timeout_ms = Some(100);
    let server = start(tls_config(server_tls(pki.server()), &seen, config)).await;
    let url = https(server.local_addr(), "/hello");
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let events = Events::default();
    let mut client = Client::with_handler(&config, events.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(events.take_body(), HELLO.as_bytes());
    // The server's idle timeout ends the session (close_notify, then FIN); the next request
    // finds out and is sent again on a new connection.
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.perform().await.unwrap();
    assert_eq!(events.take_body(), HELLO.as_bytes());
    assert_eq!(client.connects(), 2);
    assert_eq!(seen.opened(), 2);
    server.stop().await;
}

/// A one-connection TLS server on a std thread, made of tern-tls' own pieces: answers one
/// request, then reads until the client closes; whether the client said `close_notify`.
fn close_notify_witness(pki: &Pki) -> (u16, std::thread::JoinHandle<bool>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = server_tls(pki.server());
    let witness = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let session = tls.session(vec![0u8; tls.layout().buffer_len()]).unwrap();
        let mut stream = tern_tls::TlsStream::new(session, tcp);
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed before its request ended");
            request.extend_from_slice(&buf[..n]);
        }
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        while stream.read(&mut buf).unwrap() > 0 {}
        stream.session().peer_closed()
    });
    (port, witness)
}

#[tokio::test]
async fn close_and_drop_say_close_notify() {
    let pki = Pki::new();
    for by_drop in [false, true] {
        let (port, witness) = close_notify_witness(&pki);
        let url = format!("https://localhost:{port}/");
        let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
        let mut client = Client::new(&config).unwrap();
        client.perform().await.unwrap();
        assert_eq!(client.status_code(), Some(StatusCode::OK));
        if by_drop {
            drop(client);
        } else {
            client.close().await.unwrap();
        }
        let clean = tokio::task::spawn_blocking(move || witness.join().unwrap()).await.unwrap();
        assert!(clean, "the client closed without close_notify (by drop: {by_drop})");
    }
}

#[tokio::test]
async fn nginx_over_tls() {
    let pki = Pki::new();
    let nginx = Nginx::start_tls(&pki.server().cert_path, &pki.server().key_path);
    let url = format!("https://localhost:{}/", nginx.port());
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let events = Events::default();
    let mut client = Client::with_handler(&config, events.handler()).unwrap();
    for _ in 0..3 {
        client.perform().await.unwrap();
        assert_eq!(client.status_code(), Some(StatusCode::OK));
        assert_eq!(events.take_body(), tern_testkit::nginx::HELLO.as_bytes());
    }
    assert_eq!(events.count(EventId::OnConnected), 1, "nginx keeps the TLS connection alive");
    client.close().await.unwrap();
}

#[tokio::test]
async fn openssl_s_server_www() {
    let pki = Pki::new();
    let s_server = OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www"]);
    for version in [tern_proto::client::TlsVersion::Tls12, tern_proto::client::TlsVersion::Tls13] {
        let url = format!("https://localhost:{}/", s_server.port());
        let config = ClientConfig {
            url: Some(&url),
            tls: TlsConfig { tls_version: version, ..trusting(&pki) },
            ..ClientConfig::default()
        };
        let events = Events::default();
        let mut client = Client::with_handler(&config, events.handler()).unwrap();
        client.perform().await.unwrap_or_else(|e| panic!("{version:?}: {e}\n{}", s_server.log()));
        assert_eq!(client.status_code(), Some(StatusCode::OK));
        // s_server -www answers with a page describing the session, and closes.
        let page = String::from_utf8(events.take_body()).unwrap();
        assert!(page.contains("s_server"), "{page}");
        let expected = if version == tern_proto::client::TlsVersion::Tls12 { "TLSv1.2" } else { "TLSv1.3" };
        assert!(page.contains(expected), "{version:?}: {page}");
    }
}

#[tokio::test]
async fn refused_certificates_say_why() {
    let pki = Pki::new();
    let e = refusal(&pki, &pki.expired_server()).await;
    assert_eq!(e.certificate_refusal(), Some(&CertificateRefusal::Expired), "{e}");
    assert_eq!(e.origin(), Origin::Remote);
    let e = refusal(&pki, &pki.other_ca_server()).await;
    assert_eq!(e.certificate_refusal(), Some(&CertificateRefusal::UnknownIssuer), "{e}");
    let e = refusal(&pki, &pki.wrong_name_server()).await;
    match e.certificate_refusal() {
        Some(CertificateRefusal::NameMismatch { expected, presented }) => {
            assert_eq!(expected, "localhost");
            assert!(presented.iter().any(|name| name.contains("other.example")), "{presented:?}");
        }
        other => panic!("{other:?}: {e}"),
    }
}

#[tokio::test]
async fn the_error_says_why_in_words() {
    let pki = Pki::new();
    let seen = Arc::new(Seen::default());
    let server = start(tls_config(server_tls(&pki.expired_server()), &seen, Config::default())).await;
    let url = https(server.local_addr(), "/hello");
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let e = client.perform().await.unwrap_err();
    assert_eq!(e.to_string(), "TLS: the peer's certificate was refused: it has expired");
    assert_eq!(e.tls_error().and_then(TlsError::certificate_refusal), Some(&CertificateRefusal::Expired));
    assert_eq!(e.client_error(), None);
    server.stop().await;
}

#[tokio::test]
async fn insecure_accepts_what_verification_refuses() {
    let pki = Pki::new();
    for cert in [pki.expired_server(), pki.other_ca_server(), pki.wrong_name_server()] {
        let seen = Arc::new(Seen::default());
        let server = start(tls_config(server_tls(&cert), &seen, Config::default())).await;
        let url = https(server.local_addr(), "/hello");
        let config = ClientConfig {
            url: Some(&url),
            tls: TlsConfig { insecure: true, ..TlsConfig::default() },
            ..ClientConfig::default()
        };
        let events = Events::default();
        let mut client = Client::with_handler(&config, events.handler()).unwrap();
        client.perform().await.unwrap_or_else(|e| panic!("{}: {e}", cert.cert_path.display()));
        assert_eq!(events.take_body(), HELLO.as_bytes());
        drop(client);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_bad_tls_configuration_is_refused_when_the_client_is_created() {
    let config = ClientConfig {
        url: Some("https://localhost/"),
        tls: TlsConfig { ca_cert: Some(b"not a certificate"), ..TlsConfig::default() },
        ..ClientConfig::default()
    };
    let e = Client::new(&config).err().expect("a CA that is not a certificate");
    assert!(matches!(e, Error::Tls(TlsError::Config(_))), "{e:?}");
    assert_eq!(e.tls_error().map(TlsError::origin), Some(Origin::Local));
    let pki = Pki::new();
    let config = ClientConfig {
        url: Some("https://localhost/"),
        tls: TlsConfig { client_cert: Some(pki.client().cert_pem.as_bytes()), ..trusting(&pki) },
        ..ClientConfig::default()
    };
    let e = Client::new(&config).err().expect("a client certificate without its key");
    assert!(e.to_string().contains("needs its key"), "{e}");
}

#[tokio::test]
async fn mutual_tls_with_a_config_key_and_with_a_prebuilt_client_tls() {
    let pki = Pki::new();
    let seen = Arc::new(Seen::default());
    let server = start(tls_config(tls_support::mutual_server_tls(&pki), &seen, Config::default())).await;
    let url = https(server.local_addr(), "/whoami");
    let cert_len = pki.client().cert_der.len();

    // The client certificate and key from the configuration.
    let with_cert = TlsConfig {
        client_cert: Some(pki.client().cert_pem.as_bytes()),
        client_key: Some(pki.client().key_pem.as_bytes()),
        ..trusting(&pki)
    };
    let config = ClientConfig { url: Some(&url), tls: with_cert, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(0)).await.unwrap();
    client.fetch_headers().await.unwrap();
    assert_eq!(client.read_to_end(1024).await.unwrap(), format!("tls cert={cert_len}").as_bytes());
    drop(client);

    // The same through a ClientTls built by the caller (`config.tls` is not used).
    let tls =
        ClientTls::builder(&with_cert).layout(tern_tls::TlsBufferLayout::with_outgoing_record(2048)).build().unwrap();
    let config = ClientConfig {
        url: Some(&url),
        tls: TlsConfig { ca_cert: Some(b"ignored"), ..TlsConfig::default() },
        ..ClientConfig::default()
    };
    let events = Events::default();
    let mut client = Client::with_tls(&config, events.handler(), tls).unwrap();
    client.perform().await.unwrap();
    assert_eq!(events.take_body(), format!("tls cert={cert_len}").as_bytes());
    drop(client);

    // Without a certificate the server refuses the client: with TLS 1.3 the client hears it
    // after its side of the handshake, when it reads the response.
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let e = client.perform().await.unwrap_err();
    let source = e.tls_error().unwrap_or_else(|| panic!("not a TLS error: {e:?}"));
    assert!(
        matches!(source, TlsError::AlertReceived(tern_tls::rustls::AlertDescription::CertificateRequired)),
        "{source:?}"
    );
    // A failure on an established connection is also kept, ESP-IDF's last TLS error.
    assert_eq!(client.take_last_tls_error().as_ref(), Some(source));
    assert_eq!(client.take_last_tls_error(), None, "taking it clears it");
    assert!(
        tls_support_wait(|| seen.tls_errors().iter().any(|e| e.contains("Missing"))).await,
        "{:?}",
        seen.tls_errors()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_server_that_never_answers_the_client_hello_times_the_connect_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        // Accepts and reads, never answers.
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut sink = vec![0u8; 4096];
        while tokio::io::AsyncReadExt::read(&mut socket, &mut sink).await.is_ok_and(|n| n > 0) {}
    });
    let url = format!("https://127.0.0.1:{}/", addr.port());
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(300), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let started = Instant::now();
    let e = client.perform().await.unwrap_err();
    assert_eq!(e.client_error(), Some(&ClientError::Timeout(Stage::Connect)), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    silent.abort();
}

#[tokio::test]
async fn a_plain_http_server_on_an_https_url_fails_the_handshake() {
    let seen = Arc::new(Seen::default());
    let plain = start(Config { bind: std::net::Ipv4Addr::LOCALHOST.into(), server_port: 0, ..Config::default() }).await;
    let url = https(plain.local_addr(), "/hello");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let e = client.perform().await.unwrap_err();
    // The server answers the ClientHello with an HTTP 400: not TLS.
    assert!(matches!(e.tls_error(), Some(TlsError::PeerMisbehaved(_))), "{e:?}");
    drop(seen);
    plain.stop().await;
}

/// A plain server whose `/go` redirects to `location`.
async fn redirecting(location: String) -> Server {
    let server =
        start(Config { bind: std::net::Ipv4Addr::LOCALHOST.into(), server_port: 0, ..Config::default() }).await;
    let location: &'static str = Box::leak(location.into_boxed_str());
    server
        .register_uri_handler(UriHandler::new("/go", Method::Get, move |mut req: Request| async move {
            req.set_status(StatusCode::FOUND);
            req.set_header("Location", location);
            req.send(b"moved").await
        }))
        .unwrap();
    server
}

#[tokio::test]
async fn an_http_redirect_to_https_is_followed_with_tls() {
    let pki = Pki::new();
    let (tls, seen) = start_tls(&pki).await;
    let plain = redirecting(https(tls.local_addr(), "/hello")).await;
    let url = format!("http://127.0.0.1:{}/go", plain.local_addr().port());
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let events = Events::default();
    let mut client = Client::with_handler(&config, events.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code(), Some(StatusCode::OK));
    // The redirect's own body reaches the handler too, then the TLS server's.
    assert_eq!(events.take_body(), [b"moved", HELLO.as_bytes()].concat());
    assert_eq!(client.url_str(), https(tls.local_addr(), "/hello"));
    assert_eq!(events.count(EventId::OnFinish), 2, "the redirect, then the TLS server's answer");
    assert_eq!(events.count(EventId::OnConnected), 2, "one plain connection, then one TLS connection");
    assert!(client.tls_session().is_some());
    assert_eq!(seen.opened(), 1);
    drop(client);
    plain.stop().await;
    tls.stop().await;
}

#[tokio::test]
async fn an_https_redirect_to_http_is_refused() {
    let pki = Pki::new();
    let plain = start(Config { bind: std::net::Ipv4Addr::LOCALHOST.into(), server_port: 0, ..Config::default() }).await;
    let seen = Arc::new(Seen::default());
    let tls = start(tls_config(server_tls(pki.server()), &seen, Config::default())).await;
    let location: &'static str =
        Box::leak(format!("http://127.0.0.1:{}/hello", plain.local_addr().port()).into_boxed_str());
    tls.register_uri_handler(UriHandler::new("/go", Method::Get, move |mut req: Request| async move {
        req.set_status(StatusCode::FOUND);
        req.set_header("Location", location);
        req.send(b"moved").await
    }))
    .unwrap();
    let url = https(tls.local_addr(), "/go");
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let mut client = Client::with_handler(&config, NoEvents).unwrap();
    let e = client.perform().await.unwrap_err();
    assert_eq!(e.client_error(), Some(&ClientError::RedirectDowngrade), "{e:?}");
    drop(client);
    plain.stop().await;
    tls.stop().await;
}

//! tern-std over TLS against real peers: nginx and `openssl s_server` with a CA made at test
//! time, blocking and in the non-blocking EAGAIN mode (ESP-IDF's https_async), every
//! certificate refusal with its reason, mutual TLS, version pinning, and redirects between
//! http and https.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
#![cfg(feature = "tls")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use tern_proto::client::{ClientConfig, ClientError, Event, EventKind, TlsConfig, TlsVersion};
use tern_std::{Client, Error};
use tern_testkit::{Nginx, OpensslServer, Pki, nginx::HELLO};
use tern_tls::{CertificateRefusal, ServerTls, ServerTlsOptions, TlsError};

type Log = Arc<Mutex<(Vec<u8>, usize)>>;

/// Collects the body and counts ON_CONNECTED.
fn collector() -> (Log, impl FnMut(&Event<'_>)) {
    let log: Log = Arc::default();
    let sink = log.clone();
    (log, move |e: &Event<'_>| match e.kind {
        EventKind::OnData(d) => sink.lock().unwrap().0.extend_from_slice(d),
        EventKind::OnConnected => sink.lock().unwrap().1 += 1,
        _ => {}
    })
}

fn trusting(pki: &Pki) -> TlsConfig<'_> {
    TlsConfig { ca_cert: Some(pki.ca_pem().as_bytes()), ..TlsConfig::default() }
}

#[test]
fn keep_alive_requests_to_nginx_share_one_tls_connection() {
    let pki = Pki::new();
    let nginx = Nginx::start_tls(&pki.server().cert_path, &pki.server().key_path);
    let url = format!("https://localhost:{}/", nginx.port());
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let (log, handler) = collector();
    let mut client = Client::with_handler(&config, handler).unwrap();
    for _ in 0..3 {
        client.perform().unwrap();
        assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
    }
    let log = log.lock().unwrap();
    assert_eq!(log.0, HELLO.repeat(3).as_bytes());
    assert_eq!(log.1, 1, "one TLS connection for three requests");
    drop(log);
    // TLS 1.2 pinned works against the same nginx.
    let tls12 = ClientConfig { tls: TlsConfig { tls_version: TlsVersion::Tls12, ..trusting(&pki) }, ..config };
    let mut client = Client::new(&tls12).unwrap();
    client.perform().unwrap();
    assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
}

#[test]
fn openssl_s_server_answers_over_tls12_and_tls13() {
    let pki = Pki::new();
    let server = OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www"]);
    let url = format!("https://localhost:{}/", server.port());
    for (version, name) in
        [(TlsVersion::Tls12, "TLSv1.2"), (TlsVersion::Tls13, "TLSv1.3"), (TlsVersion::Any, "TLSv1.3")]
    {
        let config = ClientConfig {
            url: Some(&url),
            tls: TlsConfig { tls_version: version, ..trusting(&pki) },
            ..ClientConfig::default()
        };
        let (log, handler) = collector();
        let mut client = Client::with_handler(&config, handler).unwrap();
        client.perform().unwrap();
        assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
        let page = String::from_utf8_lossy(&log.lock().unwrap().0).into_owned();
        assert!(page.contains(&format!("Protocol  : {name}")), "{version:?}: {page}");
    }
}

#[test]
fn a_server_that_only_speaks_another_version_is_refused() {
    let pki = Pki::new();
    let server = OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www", "-tls1_3"]);
    let url = format!("https://localhost:{}/", server.port());
    let config = ClientConfig {
        url: Some(&url),
        tls: TlsConfig { tls_version: TlsVersion::Tls12, ..trusting(&pki) },
        ..ClientConfig::default()
    };
    let err = Client::new(&config).unwrap().perform().unwrap_err();
    assert!(matches!(err.tls_error(), Some(TlsError::AlertReceived(_))), "{err}");
}

#[test]
fn refused_certificates_say_why_and_insecure_accepts_them() {
    let pki = Pki::new();
    let cases = [
        (pki.expired_server(), CertificateRefusal::Expired),
        (pki.not_yet_valid_server(), CertificateRefusal::NotYetValid),
        (pki.other_ca_server(), CertificateRefusal::UnknownIssuer),
        (pki.bad_signature_server(), CertificateRefusal::BadSignature),
    ];
    for (cert, reason) in cases {
        let server = OpensslServer::start(&cert.cert_path, &cert.key_path, &["-www"]);
        let url = format!("https://localhost:{}/", server.port());
        let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
        let mut client = Client::new(&config).unwrap();
        let err = client.perform().unwrap_err();
        assert_eq!(err.tls_error().and_then(TlsError::certificate_refusal), Some(&reason), "{err}");
        assert!(err.to_string().starts_with("TLS: the peer's certificate was refused: "), "{err}");
        // The client is usable again: with -k the same server answers.
        let insecure =
            ClientConfig { url: Some(&url), tls: TlsConfig { insecure: true, ..TlsConfig::default() }, ..config };
        let mut client = Client::new(&insecure).unwrap();
        client.perform().unwrap();
        assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
    }
    let wrong = pki.wrong_name_server();
    let server = OpensslServer::start(&wrong.cert_path, &wrong.key_path, &["-www"]);
    let url = format!("https://localhost:{}/", server.port());
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let err = Client::new(&config).unwrap().perform().unwrap_err();
    assert!(
        matches!(err.tls_error().and_then(TlsError::certificate_refusal), Some(CertificateRefusal::NameMismatch { expected, .. }) if expected == "localhost"),
        "{err}"
    );
    // skip_cert_common_name_check and common_name both accept it.
    for tls in [
        TlsConfig { skip_common_name_check: true, ..trusting(&pki) },
        TlsConfig { common_name: Some("other.example"), ..trusting(&pki) },
    ] {
        let config = ClientConfig { url: Some(&url), tls, ..ClientConfig::default() };
        let mut client = Client::new(&config).unwrap();
        client.perform().unwrap();
        assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
    }
}

#[test]
fn mutual_tls_with_openssl_s_server() {
    let pki = Pki::new();
    let ca = pki.ca_path().to_str().unwrap().to_owned();
    let server = OpensslServer::start(
        &pki.server().cert_path,
        &pki.server().key_path,
        &["-www", "-Verify", "1", "-CAfile", &ca],
    );
    let url = format!("https://localhost:{}/", server.port());
    let config = ClientConfig {
        url: Some(&url),
        tls: TlsConfig {
            client_cert: Some(pki.client().cert_pem.as_bytes()),
            client_key: Some(pki.client().key_pem.as_bytes()),
            ..trusting(&pki)
        },
        ..ClientConfig::default()
    };
    let (log, handler) = collector();
    let mut client = Client::with_handler(&config, handler).unwrap();
    client.perform().unwrap();
    let page = String::from_utf8_lossy(&log.lock().unwrap().0).into_owned();
    assert!(page.contains("tern test client"), "the server saw our certificate: {page}");

    // Without a client certificate the server refuses (TLS 1.3 says so after the
    // handshake, as an alert on the first read).
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let err = client.perform().unwrap_err();
    assert!(matches!(err.tls_error(), Some(TlsError::AlertReceived(_))), "{err}");
    assert_eq!(client.take_last_tls_error().as_ref(), err.tls_error());
    assert_eq!(client.take_last_tls_error(), None, "cleared");
}

#[test]
fn non_blocking_https_resumes_after_would_block() {
    let pki = Pki::new();
    // The server waits before its first flight, so the handshake must return WouldBlock.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}/", listener.local_addr().unwrap().port());
    let ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_owned();
    let server = one_shot(listener, Some(server_tls(&pki)), ok, 2, std::time::Duration::from_millis(200));
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let (log, handler) = collector();
    let mut client = Client::with_handler(&config, handler).unwrap();
    client.set_nonblocking(true).unwrap();
    let mut would_block = [0; 2];
    for count in &mut would_block {
        loop {
            match client.perform() {
                Ok(()) => break,
                Err(Error::WouldBlock) => {
                    *count += 1;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
    }
    assert!(would_block[0] > 10, "the handshake waited for the server: {would_block:?}");
    let log = log.lock().unwrap();
    assert_eq!(log.0, b"hellohello");
    assert_eq!(log.1, 1, "both requests on one TLS connection");
    assert_eq!(server.join().unwrap(), 2);
}

/// A one-shot server on `listener` answering each request with `response`, over TLS when
/// `tls` is given, after waiting `delay`. Returns how many requests it answered.
fn one_shot(
    listener: TcpListener,
    tls: Option<ServerTls>,
    response: String,
    requests: usize,
    delay: std::time::Duration,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        std::thread::sleep(delay);
        let mut stream: Box<dyn ReadWrite> = match tls {
            Some(tls) => {
                let session = tls.session(vec![0u8; tls.layout().buffer_len()]).unwrap();
                Box::new(tern_tls::TlsStream::new(session, tcp))
            }
            None => Box::new(tcp),
        };
        let mut answered = 0;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while answered < requests {
            if stream.read(&mut byte).unwrap_or(0) == 0 {
                break;
            }
            head.push(byte[0]);
            if head.ends_with(b"\r\n\r\n") {
                stream.write_all(response.as_bytes()).unwrap();
                stream.flush().unwrap();
                head.clear();
                answered += 1;
            }
        }
        answered
    })
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

fn server_tls(pki: &Pki) -> ServerTls {
    ServerTls::new(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        ..ServerTlsOptions::default()
    })
    .unwrap()
}

#[test]
fn http_redirects_to_https_and_https_never_to_http() {
    let pki = Pki::new();
    let nginx = Nginx::start_tls(&pki.server().cert_path, &pki.server().key_path);
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_url = format!("http://127.0.0.1:{}/old", plain.local_addr().unwrap().port());
    let moved =
        format!("HTTP/1.1 302 Found\r\nLocation: https://localhost:{}/new\r\nContent-Length: 0\r\n\r\n", nginx.port());
    let redirector = one_shot(plain, None, moved, 1, std::time::Duration::ZERO);
    let config = ClientConfig { url: Some(&plain_url), tls: trusting(&pki), ..ClientConfig::default() };
    let (log, handler) = collector();
    let mut client = Client::with_handler(&config, handler).unwrap();
    client.perform().unwrap();
    assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
    assert_eq!(log.lock().unwrap().0, HELLO.as_bytes(), "the body came from nginx over TLS");
    assert_eq!(client.url_str(), format!("https://localhost:{}/new", nginx.port()));
    assert_eq!(redirector.join().unwrap(), 1);

    // An https server redirecting to http is refused, and nothing is requested over http.
    let tls_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tls_port = tls_listener.local_addr().unwrap().port();
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    let trap_port = trap.local_addr().unwrap().port();
    let down = format!("HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:{trap_port}/\r\nContent-Length: 0\r\n\r\n");
    let server = one_shot(tls_listener, Some(server_tls(&pki)), down, 1, std::time::Duration::ZERO);
    let url = format!("https://localhost:{tls_port}/");
    let config = ClientConfig { url: Some(&url), tls: trusting(&pki), ..ClientConfig::default() };
    let err = Client::new(&config).unwrap().perform().unwrap_err();
    assert!(matches!(err, Error::Client(ClientError::RedirectDowngrade)), "{err}");
    assert_eq!(server.join().unwrap(), 1);
    trap.set_nonblocking(true).unwrap();
    assert!(trap.accept().is_err(), "nothing connected to the http target");
    let _ = TcpStream::connect(("127.0.0.1", trap_port));
}

#[test]
fn sni_names_the_host_or_the_common_name() {
    let pki = Pki::new();
    let (cert, key) = (pki.server().cert_path.to_str().unwrap(), pki.server().key_path.to_str().unwrap());
    // s_server refuses a handshake whose SNI is not "localhost".
    let server = OpensslServer::start(
        &pki.server().cert_path,
        &pki.server().key_path,
        &["-www", "-servername", "localhost", "-servername_fatal", "-cert2", cert, "-key2", key],
    );
    let url = format!("https://localhost:{}/", server.port());
    let get = |tls: TlsConfig<'_>| {
        let config = ClientConfig { url: Some(&url), tls, ..ClientConfig::default() };
        Client::new(&config).unwrap().perform()
    };
    get(trusting(&pki)).unwrap();
    // common_name is sent as SNI (and checked against the certificate, skipped here).
    let other = TlsConfig { common_name: Some("other.example"), skip_common_name_check: true, ..trusting(&pki) };
    let err = get(other).unwrap_err();
    assert!(matches!(err.tls_error(), Some(TlsError::AlertReceived(_))), "{err}");
    // disable_sni sends none, which s_server lets through.
    let none = TlsConfig {
        common_name: Some("other.example"),
        skip_common_name_check: true,
        disable_sni: true,
        ..trusting(&pki)
    };
    get(none).unwrap();
}

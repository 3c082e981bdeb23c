//! tern-embassy's client over TLS: against nginx over a real socket, and over two embassy-net
//! stacks in memory against a tern-tls server session, with refusals that say why.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use embassy_futures::join::join;
use support::{SocketBuffers, StdStream, accept, close_gracefully};
use tern_embassy::client::{Client, Error};
use tern_embassy::net::TcpTransport;
use tern_embassy::transport::Connected;
use tern_proto::client::{ClientConfig, NoEvents, TlsConfig};
use tern_testkit::{Nginx, Pki, nginx::HELLO};
use tern_tls::{CertificateRefusal, ClientTls, Handshake, ServerTls, ServerTlsOptions, TlsSession};

fn client_tls(pki: &Pki) -> ClientTls {
    ClientTls::new(&TlsConfig { ca_cert: Some(pki.ca_pem().as_bytes()), ..TlsConfig::default() }).unwrap()
}

#[test]
fn https_to_nginx_over_a_real_socket_keeps_the_connection() {
    let pki = Pki::new();
    let nginx = Nginx::start_tls(&pki.server().cert_path, &pki.server().key_path);
    let url = format!("https://localhost:{}/", nginx.port());
    let stream = StdStream::connect(("127.0.0.1", nginx.port())).unwrap();
    support::block_on(async {
        let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
        let tls = client_tls(&pki);
        let mut engine = vec![0u8; config.buffer_len()];
        let mut tls_buffer = vec![0u8; tls.layout().buffer_len()];
        let mut client =
            Client::with_tls(&config, &mut engine, Connected::new(stream), NoEvents, tls, &mut tls_buffer).unwrap();
        let mut body = [0u8; 64];
        for _ in 0..3 {
            client.open(Some(0)).await.unwrap();
            client.fetch_headers().await.unwrap();
            let n = client.read_response(&mut body).await.unwrap();
            assert_eq!(&body[..n], HELLO.as_bytes());
        }
        assert_eq!(client.tls_session().unwrap().protocol_version(), Some(tern_tls::rustls::ProtocolVersion::TLSv1_3));
        client.close().await.unwrap();
    });
}

/// A one-request HTTPS server over an embassy socket: the handshake, one request head, one
/// response, close_notify.
async fn serve_once(
    socket: &mut embassy_net::tcp::TcpSocket<'_>,
    tls: &ServerTls,
) -> Result<String, tern_tls::TlsError> {
    let mut session = tls.session(vec![0u8; tls.layout().buffer_len()]).unwrap();
    let flush = async |session: &mut TlsSession<Vec<u8>>, socket: &mut embassy_net::tcp::TcpSocket<'_>| {
        while session.has_output() {
            let n = socket.write(session.output()).await.unwrap();
            session.transmitted(n);
        }
    };
    loop {
        match session.handshake() {
            Ok(Handshake::Done) => break,
            Ok(Handshake::Transmit) => flush(&mut session, socket).await,
            Ok(Handshake::Receive) => {
                let n = socket.read(session.input_space()).await.unwrap_or(0);
                session.received(n);
            }
            Err(e) => {
                flush(&mut session, socket).await;
                return Err(e);
            }
        }
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.ends_with(b"\r\n\r\n") {
        match session.read(&mut buf)? {
            tern_tls::Read::Data(n) => head.extend_from_slice(&buf[..n]),
            tern_tls::Read::NeedInput => {
                let n = socket.read(session.input_space()).await.unwrap_or(0);
                session.received(n);
            }
            tern_tls::Read::Closed { .. } => break,
        }
    }
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nsecured";
    session.write([response, &[]])?;
    session.close()?;
    flush(&mut session, socket).await;
    Ok(String::from_utf8(head).unwrap())
}

#[test]
fn https_over_embassy_net_and_refusals_that_say_why() {
    let pki = Pki::new();
    let good = ServerTls::new(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        ..ServerTlsOptions::default()
    })
    .unwrap();
    let expired_cert = pki.expired_server();
    let expired = ServerTls::new(&ServerTlsOptions {
        cert_chain: expired_cert.cert_pem.as_bytes(),
        private_key: expired_cert.key_pem.as_bytes(),
        ..ServerTlsOptions::default()
    })
    .unwrap();
    support::run(async |a, b| {
        let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 8192]);
        // The certificate names 127.0.0.1, not 10.0.0.1: common_name checks another name.
        let tls = ClientTls::new(&TlsConfig {
            ca_cert: Some(pki.ca_pem().as_bytes()),
            common_name: Some("localhost"),
            ..TlsConfig::default()
        })
        .unwrap();
        let config = ClientConfig { url: Some("https://10.0.0.1/secret"), ..ClientConfig::default() };
        let mut engine = vec![0u8; config.buffer_len()];
        let mut tls_buffer = vec![0u8; tls.layout().buffer_len()];
        let transport = TcpTransport::new(b, &mut rx, &mut tx);
        let mut client = Client::with_tls(&config, &mut engine, transport, NoEvents, tls, &mut tls_buffer).unwrap();

        for (server_tls, expect_ok) in [(&good, true), (&expired, false), (&good, true)] {
            let mut server_bufs = SocketBuffers::default();
            let server = async {
                let mut socket = accept(a, &mut server_bufs, 443).await;
                let result = serve_once(&mut socket, server_tls).await;
                close_gracefully(&mut socket).await;
                result
            };
            let request = async {
                client.set_url("https://10.0.0.1:443/secret").unwrap();
                let result = client.open(Some(0)).await;
                if result.is_err() {
                    return result.map(|()| Vec::new());
                }
                client.fetch_headers().await?;
                let mut body = [0u8; 32];
                let n = client.read_response(&mut body).await?;
                Ok(body[..n].to_vec())
            };
            let (served, answered) = join(server, request).await;
            if expect_ok {
                assert!(served.unwrap().starts_with("GET /secret HTTP/1.1\r\n"));
                assert_eq!(answered.unwrap(), b"secured");
            } else {
                let err = answered.unwrap_err();
                let Error::Tls(e) = &err else { panic!("{err}") };
                assert_eq!(e.certificate_refusal(), Some(&CertificateRefusal::Expired), "{err}");
                assert!(served.is_err(), "the server heard the client's alert");
            }
        }
    });
}

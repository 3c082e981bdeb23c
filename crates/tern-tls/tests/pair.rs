//! A tern-tls client against a tern-tls server, in memory: handshakes, application data both
//! ways, every refusal with its reason, mutual TLS (with a key in memory and with an external
//! signer), versions, ALPN, and close.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::sync::Arc;

use support::{Session, handshake, send, transfer};
use tern_testkit::pki::time::{Duration, OffsetDateTime};
use tern_testkit::{CertFiles, Leaf, Pki};
use tern_tls::rustls::{AlertDescription, ProtocolVersion};
use tern_tls::{
    CertificateRefusal, ClientTls, Origin, Read, ServerTls, ServerTlsOptions, TlsBufferLayout, TlsConfig, TlsError,
    TlsVersion,
};

fn server_tls(cert: &CertFiles) -> ServerTls {
    ServerTls::new(&ServerTlsOptions {
        cert_chain: cert.cert_pem.as_bytes(),
        private_key: cert.key_pem.as_bytes(),
        ..ServerTlsOptions::default()
    })
    .unwrap()
}

fn pair(client: &ClientTls, host: &str, server: &ServerTls) -> (Session, Session) {
    let c = client.session(host, vec![0; client.layout().buffer_len()]).unwrap();
    let s = server.session(vec![0; server.layout().buffer_len()]).unwrap();
    (c, s)
}

fn trusting(pki: &Pki) -> TlsConfig<'_> {
    TlsConfig { ca_cert: Some(pki.ca_pem().as_bytes()), ..TlsConfig::default() }
}

/// The client's refusal of `cert` when connecting to `host`.
fn refusal(pki: &Pki, cert: &CertFiles, options: TlsConfig<'_>, host: &str) -> TlsError {
    let client = ClientTls::new(&options).unwrap();
    let (mut c, mut s) = pair(&client, host, &server_tls(cert));
    let (side, e) = handshake(&mut c, &mut s, usize::MAX).expect_err("the handshake must fail");
    assert_eq!(side, "client", "{e}");
    // The server hears why, through the alert the client queued.
    transfer(&mut c, &mut s, usize::MAX);
    assert!(matches!(s.handshake(), Err(TlsError::AlertReceived(_))), "server: {:?}", s.handshake());
    let _ = pki;
    e
}

#[test]
fn handshake_and_data_both_ways() {
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server_tls(pki.server()));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    assert_eq!(c.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    let request = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_eq!(send(&mut c, &mut s, request, usize::MAX, 4096), request);
    let body: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    // Larger than a record and than the plaintext region; read in small pieces.
    assert_eq!(send(&mut s, &mut c, &body, usize::MAX, 333), body);
    assert_eq!(s.peer_certificates(), None, "no client certificate was asked for");
    assert!(c.peer_certificates().is_some());
}

#[test]
fn any_split_of_the_ciphertext_gives_the_same_plaintext() {
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let server = server_tls(pki.server());
    let body: Vec<u8> = (0..40_000u32).map(|i| (i % 256) as u8).collect();
    for step in [1, 2, 5, 17, 100, 1500, 16_389] {
        let (mut c, mut s) = pair(&client, "localhost", &server);
        handshake(&mut c, &mut s, step).unwrap();
        assert_eq!(send(&mut c, &mut s, &body, step, 1000), body, "step {step}");
        assert_eq!(send(&mut s, &mut c, &body, step, 7), body, "step {step}");
    }
}

#[test]
fn tls12_and_tls13_pinned_and_mismatched() {
    let pki = Pki::new();
    for (version, expect) in
        [(TlsVersion::Tls12, ProtocolVersion::TLSv1_2), (TlsVersion::Tls13, ProtocolVersion::TLSv1_3)]
    {
        let client = ClientTls::new(&TlsConfig { tls_version: version, ..trusting(&pki) }).unwrap();
        let (mut c, mut s) = pair(&client, "localhost", &server_tls(pki.server()));
        handshake(&mut c, &mut s, usize::MAX).unwrap();
        assert_eq!(c.protocol_version(), Some(expect));
        assert_eq!(send(&mut c, &mut s, b"ping", usize::MAX, 64), b"ping");
    }
    // A 1.2-only client and a 1.3-only server share nothing.
    let client = ClientTls::new(&TlsConfig { tls_version: TlsVersion::Tls12, ..trusting(&pki) }).unwrap();
    let server = ServerTls::new(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        tls_version: TlsVersion::Tls13,
        ..ServerTlsOptions::default()
    })
    .unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server);
    let (side, e) = handshake(&mut c, &mut s, usize::MAX).unwrap_err();
    assert_eq!(side, "server");
    assert!(matches!(e, TlsError::Incompatible(_)), "{e}");
    transfer(&mut s, &mut c, usize::MAX);
    assert_eq!(c.handshake(), Err(TlsError::AlertReceived(AlertDescription::ProtocolVersion)));
}

#[test]
fn each_refused_certificate_says_why() {
    let pki = Pki::new();
    type Expect = fn(&CertificateRefusal) -> bool;
    let cases: [(CertFiles, Expect); 5] = [
        (pki.other_ca_server(), |r| *r == CertificateRefusal::UnknownIssuer),
        (pki.expired_server(), |r| *r == CertificateRefusal::Expired),
        (pki.not_yet_valid_server(), |r| *r == CertificateRefusal::NotYetValid),
        (pki.bad_signature_server(), |r| *r == CertificateRefusal::BadSignature),
        (pki.wrong_name_server(), |r| matches!(r, CertificateRefusal::NameMismatch { .. })),
    ];
    for (cert, expected) in cases {
        let e = refusal(&pki, &cert, trusting(&pki), "localhost");
        let reason = e.certificate_refusal().unwrap_or_else(|| panic!("{}: {e}", cert.cert_path.display()));
        assert!(expected(reason), "{}: {reason:?}", cert.cert_path.display());
        assert_eq!(e.origin(), Origin::Remote);
    }
    // The name mismatch names both sides.
    let e = refusal(&pki, &pki.wrong_name_server(), trusting(&pki), "localhost");
    let text = e.to_string();
    assert!(
        text.starts_with("the peer's certificate was refused: it is not valid for the name \"localhost\""),
        "{text}"
    );
    assert!(text.contains("other.example"), "{text}");
}

#[test]
fn the_default_roots_refuse_a_private_ca() {
    let pki = Pki::new();
    let e = refusal(&pki, pki.server(), TlsConfig::default(), "localhost");
    assert_eq!(e.certificate_refusal(), Some(&CertificateRefusal::UnknownIssuer));
    // With the bundle attached as well as the CA, the CA still works.
    let client = ClientTls::new(&TlsConfig { crt_bundle: true, ..trusting(&pki) }).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server_tls(pki.server()));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
}

#[test]
fn skip_common_name_check_and_common_name() {
    let pki = Pki::new();
    let wrong = pki.wrong_name_server();
    // Skipping the name check accepts the wrong name but still checks the chain.
    let skip = TlsConfig { skip_common_name_check: true, ..trusting(&pki) };
    let client = ClientTls::new(&skip).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server_tls(&wrong));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    let e = refusal(&pki, &pki.other_ca_server(), skip, "localhost");
    assert_eq!(e.certificate_refusal(), Some(&CertificateRefusal::UnknownIssuer));
    let e = refusal(&pki, &pki.expired_server(), skip, "localhost");
    assert_eq!(e.certificate_refusal(), Some(&CertificateRefusal::Expired));
    // common_name: checked against that name instead of the host (and sent as SNI).
    let named = TlsConfig { common_name: Some("other.example"), ..trusting(&pki) };
    let client = ClientTls::new(&named).unwrap();
    let (mut c, mut s) = pair(&client, "127.0.0.1", &server_tls(&wrong));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    let e = refusal(&pki, pki.server(), named, "localhost");
    assert!(
        matches!(e.certificate_refusal(), Some(CertificateRefusal::NameMismatch { expected, .. }) if expected == "other.example"),
        "{e}"
    );
}

#[test]
fn ip_address_hosts_are_checked_against_ip_names() {
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    for host in ["127.0.0.1", "::1", "[::1]"] {
        let (mut c, mut s) = pair(&client, host, &server_tls(pki.server()));
        handshake(&mut c, &mut s, usize::MAX).unwrap_or_else(|e| panic!("{host}: {e:?}"));
    }
    let e = refusal(&pki, pki.server(), trusting(&pki), "10.0.0.1");
    assert!(matches!(e.certificate_refusal(), Some(CertificateRefusal::NameMismatch { .. })), "{e}");
}

#[test]
fn insecure_accepts_any_certificate() {
    let pki = Pki::new();
    let client = ClientTls::new(&TlsConfig { insecure: true, ..TlsConfig::default() }).unwrap();
    for cert in [pki.expired_server(), pki.other_ca_server(), pki.wrong_name_server()] {
        let (mut c, mut s) = pair(&client, "localhost", &server_tls(&cert));
        handshake(&mut c, &mut s, usize::MAX).unwrap();
        assert_eq!(send(&mut c, &mut s, b"hi", usize::MAX, 8), b"hi");
    }
}

fn mutual_server(pki: &Pki, optional: bool) -> ServerTls {
    ServerTls::new(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        client_ca: Some(pki.ca_pem().as_bytes()),
        client_cert_optional: optional,
        ..ServerTlsOptions::default()
    })
    .unwrap()
}

#[test]
fn mutual_tls() {
    let pki = Pki::new();
    let with_cert = TlsConfig {
        client_cert: Some(pki.client().cert_pem.as_bytes()),
        client_key: Some(pki.client().key_pem.as_bytes()),
        ..trusting(&pki)
    };
    let client = ClientTls::new(&with_cert).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &mutual_server(&pki, false));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    assert_eq!(s.peer_certificates().unwrap()[0].as_ref(), pki.client().cert_der.as_slice());
    assert_eq!(send(&mut c, &mut s, b"mutual", usize::MAX, 64), b"mutual");

    // DER inputs work as well as PEM.
    let der = TlsConfig {
        ca_cert: Some(pki.ca_der()),
        client_cert: Some(&pki.client().cert_der),
        client_key: Some(&pki.client().key_der),
        ..TlsConfig::default()
    };
    let client = ClientTls::new(&der).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &mutual_server(&pki, false));
    handshake(&mut c, &mut s, usize::MAX).unwrap();

    // Without a certificate: refused by the server, which says so to the client.
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &mutual_server(&pki, false));
    let (side, e) = handshake(&mut c, &mut s, usize::MAX).unwrap_err();
    assert_eq!((side, e.certificate_refusal()), ("server", Some(&CertificateRefusal::Missing)), "{e}");
    transfer(&mut s, &mut c, usize::MAX);
    let mut buf = [0u8; 16];
    let seen = c.handshake().err().or_else(|| c.read(&mut buf).err());
    assert!(matches!(seen, Some(TlsError::AlertReceived(AlertDescription::CertificateRequired))), "{seen:?}");

    // ... unless it is optional.
    let (mut c, mut s) = pair(&client, "localhost", &mutual_server(&pki, true));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    assert_eq!(s.peer_certificates(), None);

    // Client certificates that fail verification are refused with the reason.
    let expired = pki.issue(&Leaf {
        not_before: OffsetDateTime::now_utc() - Duration::days(10),
        not_after: OffsetDateTime::now_utc() - Duration::days(1),
        ..Leaf::client("expired-client", "tern expired client")
    });
    let server_as_client = pki.server().clone();
    for (cert, reason) in [(expired, CertificateRefusal::Expired), (server_as_client, CertificateRefusal::WrongPurpose)]
    {
        let cfg = TlsConfig {
            client_cert: Some(cert.cert_pem.as_bytes()),
            client_key: Some(cert.key_pem.as_bytes()),
            ..trusting(&pki)
        };
        let client = ClientTls::new(&cfg).unwrap();
        let (mut c, mut s) = pair(&client, "localhost", &mutual_server(&pki, false));
        let (side, e) = handshake(&mut c, &mut s, usize::MAX).unwrap_err();
        assert_eq!((side, e.certificate_refusal()), ("server", Some(&reason)), "{e}");
    }
}

#[test]
fn a_key_outside_memory_signs_through_the_signing_key_trait() {
    use tern_tls::rustls::SignatureScheme;
    use tern_tls::rustls::sign::{Signer, SigningKey};

    /// Stands in for a secure element: it holds the key, counts its signatures, and
    /// hands out only signatures.
    #[derive(Debug)]
    struct SecureElement {
        key: Arc<dyn SigningKey>,
        signatures: Arc<std::sync::atomic::AtomicUsize>,
    }
    #[derive(Debug)]
    struct ElementSigner(Box<dyn Signer>, Arc<std::sync::atomic::AtomicUsize>);
    impl Signer for ElementSigner {
        fn sign(&self, message: &[u8]) -> Result<Vec<u8>, tern_tls::rustls::Error> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.sign(message)
        }
        fn scheme(&self) -> SignatureScheme {
            self.0.scheme()
        }
    }
    impl SigningKey for SecureElement {
        fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
            let inner = self.key.choose_scheme(offered)?;
            Some(Box::new(ElementSigner(inner, self.signatures.clone())))
        }
        fn algorithm(&self) -> tern_tls::rustls::SignatureAlgorithm {
            self.key.algorithm()
        }
    }

    let pki = Pki::new();
    let provider = tern_tls::default_provider().unwrap();
    let key = provider
        .key_provider
        .load_private_key(tern_tls::pki_types::PrivateKeyDer::Pkcs8(pki.client().key_der.clone().into()))
        .unwrap();
    let signatures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let element = Arc::new(SecureElement { key, signatures: signatures.clone() });
    let client = ClientTls::builder(&trusting(&pki))
        .signing_key(pki.client().cert_pem.as_bytes(), element)
        .unwrap()
        .build()
        .unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &mutual_server(&pki, false));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    assert_eq!(signatures.load(std::sync::atomic::Ordering::SeqCst), 1, "the element signed the handshake");
    assert_eq!(s.peer_certificates().unwrap()[0].as_ref(), pki.client().cert_der.as_slice());
}

#[test]
fn alpn_is_agreed_or_refused() {
    let pki = Pki::new();
    let server = ServerTls::new(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        alpn: &["http/1.1"],
        ..ServerTlsOptions::default()
    })
    .unwrap();
    let client = ClientTls::new(&TlsConfig { alpn: &["h2", "http/1.1"], ..trusting(&pki) }).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server);
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    assert_eq!(c.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(s.alpn_protocol(), Some(&b"http/1.1"[..]));
    let client = ClientTls::new(&TlsConfig { alpn: &["h2"], ..trusting(&pki) }).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server);
    let (side, e) = handshake(&mut c, &mut s, usize::MAX).unwrap_err();
    assert_eq!(side, "server");
    assert!(matches!(e, TlsError::Incompatible(_)), "{e}");
}

#[test]
fn close_notify_ends_the_stream_cleanly_and_a_bare_eof_does_not() {
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server_tls(pki.server()));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    s.write([b"last words", &[]]).unwrap();
    s.close().unwrap();
    assert!(matches!(s.write([b"more", &[]]), Err(TlsError::NotWritable { .. })));
    transfer(&mut s, &mut c, usize::MAX);
    let mut buf = [0u8; 64];
    assert_eq!(c.read(&mut buf).unwrap(), Read::Data(10));
    assert_eq!(&buf[..10], b"last words");
    assert_eq!(c.read(&mut buf).unwrap(), Read::Closed { clean: true });
    assert!(c.peer_closed());

    let (mut c, mut s) = pair(&client, "localhost", &server_tls(pki.server()));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    c.received(0);
    assert_eq!(c.read(&mut buf).unwrap(), Read::Closed { clean: false });
}

#[test]
fn local_mistakes_are_local_errors() {
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let e = client.session("localhost", vec![0; 100]).unwrap_err();
    assert!(matches!(e, TlsError::BufferTooSmall { given: 100, .. }));
    assert_eq!(e.origin(), Origin::Local);
    let mut c = client.session("localhost", vec![0; client.layout().buffer_len()]).unwrap();
    assert!(matches!(c.write([b"early", &[]]), Err(TlsError::NotWritable { .. })));
    for bad in [
        TlsConfig { ca_cert: Some(b"not a certificate"), ..TlsConfig::default() },
        TlsConfig {
            ca_cert: Some(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            ..TlsConfig::default()
        },
        TlsConfig { client_cert: Some(pki.client().cert_pem.as_bytes()), ..trusting(&pki) },
        TlsConfig {
            client_cert: Some(pki.client().cert_pem.as_bytes()),
            client_key: Some(b"garbage"),
            ..trusting(&pki)
        },
        TlsConfig { common_name: Some("bad name!"), ..trusting(&pki) },
    ] {
        let e = ClientTls::new(&bad).unwrap_err();
        assert!(matches!(e, TlsError::Config(_)), "{e}");
        assert_eq!(e.origin(), Origin::Local);
    }
    assert!(matches!(client.session("not a host!", vec![0; client.layout().buffer_len()]), Err(TlsError::Config(_))));
    // try_session hands a refused buffer back (a borrowed one is not lost).
    let mut storage = [7u8; 10];
    let (e, back) = client.try_session("localhost", &mut storage[..]).unwrap_err();
    assert!(matches!(e, TlsError::BufferTooSmall { given: 10, .. }));
    assert_eq!(back.len(), 10);
    let (e, back) = client.try_session("not a host!", vec![0; client.layout().buffer_len()]).unwrap_err();
    assert!(matches!(e, TlsError::Config(_)));
    assert_eq!(back.len(), client.layout().buffer_len());
}

#[test]
fn a_transport_that_closes_mid_handshake_is_reported() {
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let (mut c, _s) = pair(&client, "localhost", &server_tls(pki.server()));
    assert_eq!(c.handshake(), Ok(tern_tls::Handshake::Transmit), "the ClientHello");
    let hello = c.output().len();
    c.transmitted(hello);
    c.received(0);
    assert_eq!(c.handshake(), Err(TlsError::ClosedDuringHandshake));
}

#[test]
fn small_outgoing_records_fit_a_smaller_buffer() {
    let pki = Pki::new();
    let layout = TlsBufferLayout::with_outgoing_record(1024);
    let client = ClientTls::builder(&trusting(&pki)).layout(layout).build().unwrap();
    let server = ServerTls::builder(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        ..ServerTlsOptions::default()
    })
    .layout(layout)
    .build()
    .unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server);
    assert_eq!(c.layout().buffer_len(), layout.buffer_len());
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    let body = vec![b'x'; 20_000];
    assert_eq!(send(&mut c, &mut s, &body, usize::MAX, 4096), body);
    assert_eq!(send(&mut s, &mut c, &body, 700, 4096), body);
}

#[test]
fn junk_instead_of_a_client_hello_fails_once_and_for_all() {
    // Found by the tls_session fuzz target: a second call after the error re-read the bad
    // record and raised a second fatal alert.
    let pki = Pki::new();
    let server = server_tls(pki.server());
    let mut s = server.session(vec![0; server.layout().buffer_len()]).unwrap();
    s.input_space()[..1].copy_from_slice(b"B");
    s.received(1);
    let first = s.handshake().unwrap_err();
    assert_eq!(first.origin(), Origin::Remote);
    assert!(s.has_output(), "the alert that tells the peer is queued");
    for _ in 0..3 {
        assert_eq!(s.handshake().unwrap_err(), first);
        assert_eq!(s.read(&mut [0u8; 8]).unwrap_err(), first);
    }
}

#[test]
fn a_side_that_writes_while_unread_data_waits_keeps_it_in_order() {
    // The client writes (which processes incoming records) while the server's data is still
    // unread: records beyond the plaintext region wait in the overflow, in order.
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server_tls(pki.server()));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    let data: Vec<u8> = (0..60_000u32).map(|i| (i % 253) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut writes = 0;
    while got.len() < data.len() {
        if sent < data.len() {
            sent += s.write([&data[sent..], &[]]).unwrap();
        }
        transfer(&mut s, &mut c, usize::MAX);
        // The client sends a little before it reads anything.
        if writes < 20 {
            assert_eq!(c.write([b"x", &[]]).unwrap(), 1);
            writes += 1;
            transfer(&mut c, &mut s, usize::MAX);
            continue;
        }
        match c.read(&mut buf).unwrap() {
            Read::Data(n) => got.extend_from_slice(&buf[..n]),
            Read::NeedInput => {}
            Read::Closed { .. } => panic!("closed"),
        }
    }
    assert_eq!(got, data);
    // The server got the client's twenty bytes, and nothing else.
    assert_eq!(send(&mut c, &mut s, b"", usize::MAX, 64), [b'x'; 20]);
}

#[test]
fn a_head_and_a_small_body_leave_as_one_record() {
    let pki = Pki::new();
    let client = ClientTls::new(&trusting(&pki)).unwrap();
    let (mut c, mut s) = pair(&client, "localhost", &server_tls(pki.server()));
    handshake(&mut c, &mut s, usize::MAX).unwrap();
    let joined = [b'h'; 200];
    assert_eq!(s.write([&joined, &[]]).unwrap(), 200);
    let one_record = s.output().len();
    transfer(&mut s, &mut c, usize::MAX);
    assert_eq!(s.write([&joined[..100], &[b'b'; 100]]).unwrap(), 200);
    assert_eq!(s.output().len(), one_record, "two parts, one record");
    transfer(&mut s, &mut c, usize::MAX);
    let mut buf = [0u8; 512];
    let mut got = Vec::new();
    while let Read::Data(n) = c.read(&mut buf).unwrap() {
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(&got[..300], &[b'h'; 300][..]);
    assert_eq!(&got[300..], &[b'b'; 100][..]);
    // A body too large for one record goes in its own.
    let big = vec![b'x'; 20_000];
    assert_eq!(send_parts(&mut s, &mut c, b"head", &big), [&b"head"[..], &big].concat());
}

/// Sends a head and a body the way the server engine offers them: one `write([head, body])`
/// after another until both are taken.
fn send_parts(from: &mut support::Session, to: &mut support::Session, head: &[u8], body: &[u8]) -> Vec<u8> {
    let whole = [head, body].concat();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < whole.len() {
        if sent < whole.len() {
            let (a, b) = if sent < head.len() { (&head[sent..], body) } else { (&body[sent - head.len()..], &[][..]) };
            sent += from.write([a, b]).unwrap();
        }
        transfer(from, to, usize::MAX);
        while let Read::Data(n) = to.read(&mut buf).unwrap() {
            got.extend_from_slice(&buf[..n]);
        }
    }
    got
}

//! The WebSocket opening handshake through the public API: RFC 6455's accept-key example, the
//! 400 and 426 refusals, subprotocol selection, the 101 response, the client side, and both
//! directions against tungstenite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod ws_support;

use tern_proto::ws::handshake::{
    self, ClientKey, VERSION_FIELD, accept_key, accept_response_len, check_response, client_request_len,
    is_upgrade_request, validate, write_accept_response, write_client_request,
};
use tern_proto::ws::{AcceptError, HandshakeError};
use tern_proto::{EMPTY_SLOT, Limits, LocalError, Method, RequestHead, ResponseHead, StatusCode, Version};
use ws_support::Pipe;

/// RFC 6455 section 1.3's request.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// Parses a request head and validates it, as the engine will.
fn check(head: &[u8]) -> Result<(), HandshakeError> {
    let mut slots = [EMPTY_SLOT; 32];
    let (req, n) = RequestHead::parse(head, &mut slots, &Limits::default()).unwrap().complete().unwrap();
    validate(&req.method, req.version, &head[..n]).map(|_| ())
}

/// The RFC request with header `name` replaced by `line` (or removed when `line` is empty).
fn with(name: &str, line: &str) -> Vec<u8> {
    let text = std::str::from_utf8(RFC_REQUEST).unwrap();
    let mut out = String::new();
    for l in text.split_inclusive("\r\n") {
        if l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())) {
            if !line.is_empty() {
                out.push_str(line);
                out.push_str("\r\n");
            }
        } else {
            out.push_str(l);
        }
    }
    out.into_bytes()
}

#[test]
fn rfc_accept_key() {
    assert_eq!(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    let hs = validate(&Method::Get, Version::Http11, RFC_REQUEST).unwrap();
    assert_eq!(hs.accept(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(hs.key(), b"dGhlIHNhbXBsZSBub25jZQ==");
}

#[test]
fn accept_key_matches_tungstenite() {
    for i in 0..64u8 {
        let key = ClientKey::from_nonce(core::array::from_fn(|j| i.wrapping_mul(31).wrapping_add(j as u8 * 17)));
        let ours = accept_key(key.as_str().as_bytes());
        let theirs = tungstenite::handshake::derive_accept_key(key.as_str().as_bytes());
        assert_eq!(std::str::from_utf8(&ours).unwrap(), theirs);
        assert_eq!(key.expected_accept(), ours);
        let generated = tungstenite::handshake::client::generate_key();
        assert_eq!(
            std::str::from_utf8(&accept_key(generated.as_bytes())).unwrap(),
            tungstenite::handshake::derive_accept_key(generated.as_bytes())
        );
    }
}

#[test]
fn rfc_request_is_accepted() {
    assert!(is_upgrade_request(RFC_REQUEST));
    assert_eq!(check(RFC_REQUEST), Ok(()));
    let hs = validate(&Method::Get, Version::Http11, RFC_REQUEST).unwrap();
    let mut out = [0u8; 256];
    let n = write_accept_response(&hs, Some("chat"), &mut out).unwrap();
    assert_eq!(n, accept_response_len(Some("chat")));
    assert_eq!(
        &out[..n],
        b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\r\n"
    );
    let n = write_accept_response(&hs, None, &mut out).unwrap();
    assert_eq!(n, accept_response_len(None));
    assert_eq!(
        &out[..n],
        b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
}

#[test]
fn bad_requests_get_400() {
    let cases: Vec<(Vec<u8>, HandshakeError)> = vec![
        (with("Host", ""), HandshakeError::MissingHost),
        (with("Upgrade", ""), HandshakeError::MissingUpgrade),
        (with("Upgrade", "Upgrade: h2c"), HandshakeError::MissingUpgrade),
        (with("Upgrade", "Upgrade: websocket2"), HandshakeError::MissingUpgrade),
        (with("Connection", ""), HandshakeError::MissingConnectionUpgrade),
        (with("Connection", "Connection: keep-alive"), HandshakeError::MissingConnectionUpgrade),
        (with("Connection", "Connection: upgraded"), HandshakeError::MissingConnectionUpgrade),
        (with("Sec-WebSocket-Version", ""), HandshakeError::MissingVersion),
        (with("Sec-WebSocket-Key", ""), HandshakeError::MissingKey),
        (with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"), HandshakeError::InvalidKey),
        // Truncated, bad padding, 15, 17 and 18 bytes, twice, not base64.
        (with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ="), HandshakeError::InvalidKey),
        (with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=x"), HandshakeError::InvalidKey),
        (with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j"), HandshakeError::InvalidKey),
        (
            with(
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            ),
            HandshakeError::InvalidKey,
        ),
        (with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSE="), HandshakeError::InvalidKey),
        (with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSEh"), HandshakeError::InvalidKey),
        (with("Sec-WebSocket-Key", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!=="), HandshakeError::InvalidKey),
    ];
    for (head, want) in cases {
        let got = check(&head);
        assert_eq!(got, Err(want), "{}", String::from_utf8_lossy(&head));
        assert_eq!(want.status(), StatusCode::BAD_REQUEST);
        assert_eq!(want.response_field(), None);
    }
    // Method and version come from the request line.
    let post = [b"POST".as_slice(), &RFC_REQUEST[3..]].concat();
    assert_eq!(check(&post), Err(HandshakeError::MethodNotGet));
    let http10 = String::from_utf8(RFC_REQUEST.to_vec()).unwrap().replace("HTTP/1.1", "HTTP/1.0");
    assert_eq!(check(http10.as_bytes()), Err(HandshakeError::NotHttp11));
    assert_eq!(HandshakeError::MethodNotGet.status(), StatusCode::BAD_REQUEST);
    assert_eq!(HandshakeError::NotHttp11.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn other_versions_get_426_with_the_version_header() {
    for v in ["8", "12", "14", "13, 8", "", "thirteen"] {
        let head = with("Sec-WebSocket-Version", &format!("Sec-WebSocket-Version: {v}"));
        let e = check(&head).unwrap_err();
        assert_eq!(e, HandshakeError::UnsupportedVersion, "{v:?}");
        assert_eq!(e.status(), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(e.response_field(), Some(VERSION_FIELD));
        assert_eq!((VERSION_FIELD.name, VERSION_FIELD.value), ("Sec-WebSocket-Version", &b"13"[..]));
    }
    // Surrounding whitespace is fine.
    assert_eq!(check(&with("Sec-WebSocket-Version", "Sec-WebSocket-Version:   13  ")), Ok(()));
}

#[test]
fn tokens_are_lists_in_any_case_over_several_lines() {
    let head = b"GET / HTTP/1.1\r\nHost: h\r\nUPGRADE: foo, WebSocket\r\nconnection: keep-alive\r\n\
Connection: x ,  UPGRADE \r\nSec-WebSocket-Key:  dGhlIHNhbXBsZSBub25jZQ==  \r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert!(is_upgrade_request(head));
    assert_eq!(check(head), Ok(()));
    assert!(!is_upgrade_request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert!(!is_upgrade_request(b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"));
    // A header section after the head is not read: the empty line ends it.
    assert!(!is_upgrade_request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"));
    // LF line endings.
    assert!(is_upgrade_request(b"GET / HTTP/1.1\nUpgrade: websocket\nConnection: Upgrade\n\n"));
}

#[test]
fn subprotocol_selection() {
    let hs = validate(&Method::Get, Version::Http11, RFC_REQUEST).unwrap();
    assert_eq!(hs.offered_protocols().collect::<Vec<_>>(), [&b"chat"[..], b"superchat"]);
    // The client's order wins.
    assert_eq!(hs.select_protocol(&["superchat", "chat"]), Some("chat"));
    assert_eq!(hs.select_protocol(&["superchat"]), Some("superchat"));
    // Case-sensitive, exact.
    assert_eq!(hs.select_protocol(&["Chat", "super"]), None);
    assert_eq!(hs.select_protocol(&[]), None);

    let head = with("Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: a b,,c\r\nSec-WebSocket-Protocol:\td ,e");
    let hs = validate(&Method::Get, Version::Http11, &head).unwrap();
    assert_eq!(hs.offered_protocols().collect::<Vec<_>>(), [&b"a"[..], b"b", b"c", b"d", b"e"]);
    assert_eq!(hs.select_protocol(&["e", "d"]), Some("d"));

    let head = with("Sec-WebSocket-Protocol", "");
    let hs = validate(&Method::Get, Version::Http11, &head).unwrap();
    assert_eq!(hs.offered_protocols().count(), 0);
    assert_eq!(hs.select_protocol(&["chat"]), None);
}

#[test]
fn accept_response_refusals_write_nothing() {
    let hs = validate(&Method::Get, Version::Http11, RFC_REQUEST).unwrap();
    let mut out = [0xAAu8; 256];
    assert_eq!(write_accept_response(&hs, Some("bad proto"), &mut out), Err(LocalError::InvalidHeaderValue));
    assert_eq!(write_accept_response(&hs, Some("x\r\nSet-Cookie: a"), &mut out), Err(LocalError::InvalidHeaderValue));
    let needed = accept_response_len(None);
    assert_eq!(
        write_accept_response(&hs, None, &mut out[..needed - 1]),
        Err(LocalError::BufferTooSmall { needed, available: needed - 1 })
    );
    assert!(out.iter().all(|&b| b == 0xAA));
}

#[test]
fn client_request_and_response_checks() {
    let key = ClientKey::from_nonce(*b"the sample nonce");
    assert_eq!(key.as_str(), "dGhlIHNhbXBsZSBub25jZQ==");
    let mut out = [0u8; 512];
    let n = write_client_request("server.example.com", "/chat", &key, &["chat", "superchat"], &mut out).unwrap();
    assert_eq!(n, client_request_len("server.example.com", "/chat", &["chat", "superchat"]));
    assert_eq!(
        &out[..n],
        b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"
    );
    let n = write_client_request("h", "/", &key, &[], &mut out).unwrap();
    assert_eq!(n, client_request_len("h", "/", &[]));
    assert!(out[..n].ends_with(b"Sec-WebSocket-Version: 13\r\n\r\n"));
    assert_eq!(write_client_request("h", "/", &key, &["a b"], &mut out), Err(LocalError::InvalidHeaderValue));
    assert_eq!(write_client_request("h\r\n", "/", &key, &[], &mut out), Err(LocalError::InvalidHeaderValue));
    assert_eq!(write_client_request("h", "/ x", &key, &[], &mut out), Err(LocalError::InvalidTarget));
    let needed = client_request_len("h", "/", &["p"]);
    assert_eq!(
        write_client_request("h", "/", &key, &["p"], &mut out[..needed - 1]),
        Err(LocalError::BufferTooSmall { needed, available: needed - 1 })
    );

    let ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
    let s101 = StatusCode::SWITCHING_PROTOCOLS;
    let resp = |extra: &str| format!("{ok}{extra}\r\n").into_bytes();
    assert_eq!(check_response(s101, &resp(""), &key, &["chat"]), Ok(None));
    assert_eq!(check_response(s101, &resp("Sec-WebSocket-Protocol: chat\r\n"), &key, &["chat"]), Ok(Some("chat")));
    assert_eq!(
        check_response(s101, &resp("Sec-WebSocket-Protocol: mqtt\r\n"), &key, &["chat"]),
        Err(AcceptError::UnofferedProtocol)
    );
    assert_eq!(
        check_response(
            s101,
            &resp("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n"),
            &key,
            &["chat"]
        ),
        Err(AcceptError::UnofferedProtocol)
    );
    assert_eq!(
        check_response(s101, &resp("Sec-WebSocket-Extensions: permessage-deflate\r\n"), &key, &[]),
        Err(AcceptError::UnofferedExtension)
    );
    assert_eq!(check_response(StatusCode::OK, &resp(""), &key, &[]), Err(AcceptError::NotSwitchingProtocols(200)));
    let other = ClientKey::from_nonce([0; 16]);
    assert_eq!(check_response(s101, &resp(""), &other, &[]), Err(AcceptError::AcceptMismatch));
    let no_accept = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    assert_eq!(check_response(s101, no_accept, &key, &[]), Err(AcceptError::AcceptMismatch));
    let no_upgrade = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n";
    assert_eq!(check_response(s101, no_upgrade, &key, &[]), Err(AcceptError::MissingUpgrade));
    let no_connection = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    assert_eq!(check_response(s101, no_connection, &key, &[]), Err(AcceptError::MissingConnectionUpgrade));
}

#[test]
fn client_and_server_halves_agree() {
    let key = ClientKey::from_nonce([7; 16]);
    let mut req = [0u8; 512];
    let n = write_client_request("esp32.local", "/ws?x=1", &key, &["v2", "v1"], &mut req).unwrap();
    let mut slots = [EMPTY_SLOT; 16];
    let (head, len) = RequestHead::parse(&req[..n], &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!(len, n);
    let hs = validate(&head.method, head.version, &req[..n]).unwrap();
    let proto = hs.select_protocol(&["v1", "v2"]);
    assert_eq!(proto, Some("v2"));
    let mut resp = [0u8; 512];
    let m = write_accept_response(&hs, proto, &mut resp).unwrap();
    let mut slots = [EMPTY_SLOT; 16];
    let (rh, rlen) = ResponseHead::parse(&resp[..m], &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!(rlen, m);
    assert_eq!(handshake::check_response(rh.status, &resp[..m], &key, &["v2", "v1"]), Ok(Some("v2")));
}

// --- both directions against tungstenite ----------------------------------------------------

#[test]
fn tungstenite_server_accepts_our_client() {
    let key = ClientKey::from_nonce(*b"0123456789abcdef");
    let mut req = [0u8; 512];
    let n = write_client_request("localhost", "/socket", &key, &[], &mut req).unwrap();
    let pipe = Pipe { input: req[..n].iter().copied().collect(), output: Vec::new() };
    let ws = tungstenite::accept(pipe).unwrap();
    let answer = ws.get_ref().output.clone();
    let mut slots = [EMPTY_SLOT; 16];
    let (head, len) = ResponseHead::parse(&answer, &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!(check_response(head.status, &answer[..len], &key, &[]), Ok(None));
}

#[test]
fn tungstenite_client_is_accepted_by_our_server() {
    use tungstenite::client::IntoClientRequest;
    use tungstenite::handshake::HandshakeError as THandshakeError;

    let mut request = "ws://localhost:8080/echo".into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "echo, chat".parse().unwrap());
    let mid = match tungstenite::client(request, Pipe::default()) {
        Err(THandshakeError::Interrupted(mid)) => mid,
        other => panic!("the client should wait for the response: {:?}", other.map(|_| ())),
    };
    let mut mid = mid;
    let sent = mid.get_ref().get_ref().output.clone();
    let mut slots = [EMPTY_SLOT; 32];
    let (head, len) = RequestHead::parse(&sent, &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert!(is_upgrade_request(&sent[..len]));
    let hs = validate(&head.method, head.version, &sent[..len]).unwrap();
    let proto = hs.select_protocol(&["chat"]);
    assert_eq!(proto, Some("chat"));
    let mut resp = [0u8; 256];
    let m = write_accept_response(&hs, proto, &mut resp).unwrap();
    mid.get_mut().get_mut().input.extend(&resp[..m]);
    let (_ws, response) = mid.handshake().unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "chat");
}

//! The WebSocket opening handshake on arbitrary heads, both sides.
//!
//! Server side: the input is a raw request head; `is_upgrade_request` and `validate` run on it
//! (as GET/HTTP/1.1, and as the other methods and versions, which must be refused). An accepted
//! handshake's key is 24 base64 characters; the 101 written for it is exactly
//! `accept_response_len` bytes, parses as a response head, and passes the client's
//! `check_response` for a key with the same nonce.
//!
//! Client side: the input is also taken as a raw response head; `check_response` on it with a
//! fixed key and protocols must not panic, and may accept only a 101 whose accept value is the
//! expected one.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use tern_proto::ws::handshake::{self, ClientKey};
use tern_proto::{EMPTY_SLOT, Limits, Method, Parse, ResponseHead, StatusCode, Version};

/// The protocols a server supports, and a client offers.
const PROTOCOLS: [&str; 3] = ["chat", "superchat", "v2.json"];

fuzz_target!(|head: &[u8]| {
    let _ = handshake::is_upgrade_request(head);
    assert!(handshake::validate(&Method::Post, Version::Http11, head).is_err(), "only GET upgrades");
    assert!(handshake::validate(&Method::Get, Version::Http10, head).is_err(), "only HTTP/1.1 upgrades");

    if let Ok(hs) = handshake::validate(&Method::Get, Version::Http11, head) {
        let key = hs.key();
        let mut nonce = [0u8; 18];
        assert_eq!(STANDARD.decode_slice(key, &mut nonce), Ok(16), "an accepted key is a 16-byte nonce");
        let _ = hs.offered_protocols().count();
        let protocol = hs.select_protocol(&PROTOCOLS);
        if let Some(p) = protocol {
            assert!(hs.offered_protocols().any(|o| o == p.as_bytes()), "chose {p:?}, which was not offered");
        }

        let mut out = vec![0u8; handshake::accept_response_len(protocol)];
        let n = handshake::write_accept_response(&hs, protocol, &mut out).expect("accept_response_len is enough");
        assert_eq!(n, out.len());
        let mut slots = [EMPTY_SLOT; 8];
        let parsed = ResponseHead::parse(&out, &mut slots, &Limits::default());
        let Ok(Parse::Complete((response, len))) = parsed else {
            panic!("our 101 does not parse: {parsed:?}");
        };
        assert_eq!((response.status, len), (StatusCode::SWITCHING_PROTOCOLS, n));

        let client_key = ClientKey::from_nonce(nonce[..16].try_into().expect("16 bytes"));
        assert_eq!(client_key.as_str().as_bytes(), key, "base64 of the nonce is the key");
        let offered: Vec<&str> = protocol.into_iter().collect();
        let chosen = handshake::check_response(response.status, &out, &client_key, &offered);
        assert_eq!(chosen, Ok(protocol), "the client refuses our own 101");
    }

    let key = ClientKey::from_nonce(*b"the sample nonce");
    let mut slots = [EMPTY_SLOT; 32];
    if let Ok(Parse::Complete((response, _))) = ResponseHead::parse(head, &mut slots, &Limits::default()) {
        if handshake::check_response(response.status, head, &key, &PROTOCOLS).is_ok() {
            assert_eq!(response.status, StatusCode::SWITCHING_PROTOCOLS);
            let expected = key.expected_accept();
            let found = head.windows(expected.len()).any(|w| w == expected);
            assert!(found, "accepted a 101 without the expected accept value");
        }
    }
});

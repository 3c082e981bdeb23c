//! Writing heads: exact lengths, validation, and round trips through the parser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use tern_proto::body::Framing;
use tern_proto::{
    EMPTY_SLOT, Field, Limits, LocalError, Method, RequestHead, RequestRepr, ResponseHead, ResponseRepr, StatusCode,
    Version,
};

fn request<'a>(headers: &'a [Field<'a>], framing: Framing) -> RequestRepr<'a> {
    RequestRepr { method: Method::Put, target: "/x", version: Version::Http11, headers, framing }
}

#[test]
fn buffer_len_is_exact_for_every_framing() {
    let headers = [Field::new("Host", "a"), Field::new("X-Long", "0123456789")];
    for framing in [Framing::AsGiven, Framing::Length(0), Framing::Length(u64::MAX), Framing::Chunked] {
        let r = request(&headers, framing);
        let mut buf = vec![0u8; r.buffer_len()];
        assert_eq!(r.emit(&mut buf), Ok(r.buffer_len()), "{framing:?}");
        let mut short = vec![0u8; r.buffer_len() - 1];
        assert_eq!(
            r.emit(&mut short),
            Err(LocalError::BufferTooSmall { needed: r.buffer_len(), available: r.buffer_len() - 1 })
        );
        assert!(short.iter().all(|&b| b == 0), "nothing written when it does not fit");
    }
}

#[test]
fn injected_line_breaks_never_reach_the_buffer() {
    let evil = [Field::new("X", "ok\r\nInjected: yes")];
    let mut buf = [0u8; 128];
    assert_eq!(request(&evil, Framing::AsGiven).emit(&mut buf), Err(LocalError::InvalidHeaderValue));
    assert!(buf.iter().all(|&b| b == 0));
    let evil_name = [Field::new("X\r\nY", "v")];
    assert_eq!(request(&evil_name, Framing::AsGiven).emit(&mut buf), Err(LocalError::InvalidHeaderName));
    let nul = [Field { name: "X", value: b"a\0b" }];
    assert_eq!(request(&nul, Framing::AsGiven).emit(&mut buf), Err(LocalError::InvalidHeaderValue));
    let target = RequestRepr { target: "/a\r\nHost: evil", ..request(&[], Framing::AsGiven) };
    assert_eq!(target.emit(&mut buf), Err(LocalError::InvalidTarget));
    let reason = ResponseRepr { reason: "OK\r\nX: y", ..ResponseRepr::new(StatusCode::OK) };
    assert_eq!(reason.emit(&mut buf), Err(LocalError::InvalidReason));
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn framing_is_the_writers_job_when_it_is_asked_to_frame() {
    let mut buf = [0u8; 128];
    let cl = [Field::new("content-length", "3")];
    assert_eq!(request(&cl, Framing::Chunked).emit(&mut buf), Err(LocalError::FramingHeaderConflict));
    assert_eq!(request(&cl, Framing::Length(3)).emit(&mut buf), Err(LocalError::FramingHeaderConflict));
    // As given: a HEAD response may repeat the GET's Content-Length.
    let head_response = ResponseRepr { headers: &cl, ..ResponseRepr::new(StatusCode::OK) };
    let n = head_response.emit(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n");
    let old = RequestRepr { version: Version::Http10, ..request(&[], Framing::Chunked) };
    assert_eq!(old.emit(&mut buf), Err(LocalError::ChunkedInHttp10));
}

#[test]
fn unregistered_status_codes_get_an_empty_reason() {
    let mut buf = [0u8; 32];
    let r = ResponseRepr::new(StatusCode::new(599).unwrap());
    let n = r.emit(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"HTTP/1.1 599 \r\n\r\n");
}

#[test]
fn written_heads_parse_back() {
    let headers = [Field::new("Host", "esp32.local"), Field::new("Accept", "*/*")];
    let r = RequestRepr {
        method: Method::Report,
        target: "/cal?x=%20",
        version: Version::Http10,
        headers: &headers,
        framing: Framing::Length(7),
    };
    let mut buf = [0u8; 256];
    let n = r.emit(&mut buf).unwrap();
    let mut slots = [EMPTY_SLOT; 4];
    let (head, len) = RequestHead::parse(&buf[..n], &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!((len, head.method, head.target, head.version), (n, Method::Report, "/cal?x=%20", Version::Http10));
    assert_eq!(head.headers.get("content-length"), Some(&b"7"[..]));

    let s = ResponseRepr { headers: &headers, framing: Framing::Chunked, ..ResponseRepr::new(StatusCode::NOT_FOUND) };
    let n = s.emit(&mut buf).unwrap();
    let mut slots = [EMPTY_SLOT; 4];
    let (head, _) = ResponseHead::parse(&buf[..n], &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!((head.status, head.reason), (StatusCode::NOT_FOUND, "Not Found"));
    assert_eq!(head.headers.get("transfer-encoding"), Some(&b"chunked"[..]));
}

#[test]
fn the_writer_refuses_framing_a_receiver_must_refuse() {
    let mut buf = [0u8; 128];
    let both = [Field::new("Content-Length", "5"), Field::new("Transfer-Encoding", "chunked")];
    assert_eq!(request(&both, Framing::AsGiven).emit(&mut buf), Err(LocalError::FramingHeaderConflict));
    let twice = [Field::new("Content-Length", "5"), Field::new("content-length", "5")];
    assert_eq!(request(&twice, Framing::AsGiven).emit(&mut buf), Err(LocalError::FramingHeaderConflict));
    let one = [Field::new("Content-Length", "5")];
    assert!(request(&one, Framing::AsGiven).emit(&mut buf).is_ok());
    assert!(buf.starts_with(b"PUT /x HTTP/1.1\r\nContent-Length: 5\r\n"));
}

#[test]
fn bodyless_responses_carry_no_framing() {
    let mut buf = [0u8; 128];
    for status in [StatusCode::CONTINUE, StatusCode::SWITCHING_PROTOCOLS, StatusCode::NO_CONTENT] {
        for framing in [Framing::Length(0), Framing::Chunked] {
            let r = ResponseRepr { framing, ..ResponseRepr::new(status) };
            assert_eq!(r.emit(&mut buf), Err(LocalError::BodyNotAllowed), "{status} {framing:?}");
        }
        let cl = [Field::new("Content-Length", "0")];
        let r = ResponseRepr { headers: &cl, ..ResponseRepr::new(status) };
        assert_eq!(r.emit(&mut buf), Err(LocalError::BodyNotAllowed));
        assert!(ResponseRepr::new(status).emit(&mut buf).is_ok());
    }
    // 304 may repeat the Content-Length of the representation it stands for.
    let cl = [Field::new("Content-Length", "42")];
    assert!(ResponseRepr { headers: &cl, ..ResponseRepr::new(StatusCode::NOT_MODIFIED) }.emit(&mut buf).is_ok());
}

//! Body length per RFC 9112 section 6.3, hostile cases included.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use tern_proto::body::{BodyKind, request_body, response_body};
use tern_proto::{EMPTY_SLOT, FramingError, Limit, Limits, Method, RemoteError, RequestHead, ResponseHead, StatusCode};

fn req(input: &str) -> Result<BodyKind, RemoteError> {
    let limits = Limits::default();
    let mut slots = [EMPTY_SLOT; 8];
    let (head, _) = RequestHead::parse(input.as_bytes(), &mut slots, &limits).unwrap().complete().unwrap();
    request_body(&head, &limits)
}

fn res(method: Method<'_>, input: &str) -> Result<BodyKind, RemoteError> {
    let limits = Limits::default();
    let mut slots = [EMPTY_SLOT; 8];
    let (head, _) = ResponseHead::parse(input.as_bytes(), &mut slots, &limits).unwrap().complete().unwrap();
    response_body(&method, &head, &limits)
}

fn framing(e: FramingError) -> Result<BodyKind, RemoteError> {
    Err(RemoteError::Framing(e))
}

#[test]
fn no_length_zero_length_and_chunked_are_three_things() {
    assert_eq!(req("GET / HTTP/1.1\r\n\r\n"), Ok(BodyKind::None));
    assert_eq!(req("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), Ok(BodyKind::Length(0)));
    assert_eq!(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), Ok(BodyKind::Chunked));
    assert_eq!(res(Method::Get, "HTTP/1.1 200 OK\r\n\r\n"), Ok(BodyKind::CloseDelimited));
    assert_eq!(res(Method::Get, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Ok(BodyKind::Length(0)));
}

#[test]
fn content_length_must_be_one_plain_number() {
    assert_eq!(req("POST / HTTP/1.1\r\ncontent-length: 0042\r\n\r\n"), Ok(BodyKind::Length(42)));
    for bad in ["+5", "-1", "5 5", "0x10", "5.0", "", "1e3", "5,", "abc,def", ",5"] {
        let input = format!("POST / HTTP/1.1\r\nContent-Length: {bad}\r\n\r\n");
        assert_eq!(req(&input), framing(FramingError::InvalidContentLength), "{bad:?}");
    }
}

#[test]
fn duplicated_content_length_is_refused_even_when_equal() {
    let dup = framing(FramingError::DuplicateContentLength);
    assert_eq!(req("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), dup);
    assert_eq!(req("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), dup);
    assert_eq!(req("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"), dup);
    assert_eq!(res(Method::Get, "HTTP/1.1 200 OK\r\nContent-Length: 1,2\r\n\r\n"), dup);
}

#[test]
fn content_length_over_the_limit_is_413() {
    let limits = Limits::default();
    let over = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", u64::from(u32::MAX) + 1);
    let e = req(&over).unwrap_err();
    assert_eq!(e, RemoteError::TooLarge { limit: Limit::BodyLength, max: limits.max_body_len });
    assert_eq!(e.status(), StatusCode::CONTENT_TOO_LARGE);
    assert_eq!(req("POST / HTTP/1.1\r\nContent-Length: 4294967295\r\n\r\n"), Ok(BodyKind::Length(4294967295)));
    // Past 2^64 the number cannot even be held: still 413, not a wrap-around.
    assert_eq!(req("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n").unwrap_err(), e);
}

#[test]
fn transfer_encoding_must_be_exactly_chunked() {
    assert_eq!(req("POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n"), Ok(BodyKind::Chunked));
    assert_eq!(req("POST / HTTP/1.1\r\nTransfer-Encoding: , chunked ,\r\n\r\n"), Ok(BodyKind::Chunked));
    assert_eq!(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), framing(FramingError::ChunkedNotFinal));
    assert_eq!(
        req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
        framing(FramingError::ChunkedNotFinal)
    );
    assert_eq!(req("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n"), framing(FramingError::ChunkedNotFinal));
    assert_eq!(
        req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
        framing(FramingError::ChunkedTwice)
    );
    let unsupported = req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(unsupported, framing(FramingError::UnsupportedTransferCoding));
    assert_eq!(unsupported.unwrap_err().status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(req("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n"), framing(FramingError::ChunkedNotFinal));
}

#[test]
fn transfer_encoding_with_content_length_is_refused() {
    let both = framing(FramingError::TransferEncodingWithContentLength);
    assert_eq!(req("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), both);
    assert_eq!(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), both);
    assert_eq!(res(Method::Get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), both);
}

#[test]
fn transfer_encoding_in_http10_is_faulty_framing() {
    let faulty = framing(FramingError::TransferEncodingInHttp10);
    assert_eq!(req("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), faulty);
    assert_eq!(res(Method::Get, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), faulty);
    assert_eq!(req("POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n"), Ok(BodyKind::Length(2)));
}

#[test]
fn responses_without_a_body() {
    let with_length = |status: &str| format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n");
    assert_eq!(res(Method::Head, &with_length("200 OK")), Ok(BodyKind::None));
    assert_eq!(res(Method::Get, &with_length("100 Continue")), Ok(BodyKind::None));
    assert_eq!(res(Method::Get, &with_length("101 Switching Protocols")), Ok(BodyKind::None));
    assert_eq!(res(Method::Get, &with_length("204 No Content")), Ok(BodyKind::None));
    assert_eq!(res(Method::Get, &with_length("304 Not Modified")), Ok(BodyKind::None));
    assert_eq!(res(Method::Connect, &with_length("200 Connection Established")), Ok(BodyKind::None));
    // A refused CONNECT has a body like any other response.
    assert_eq!(res(Method::Connect, &with_length("407 Proxy Authentication Required")), Ok(BodyKind::Length(10)));
    assert_eq!(res(Method::Get, &with_length("200 OK")), Ok(BodyKind::Length(10)));
}

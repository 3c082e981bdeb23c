//! Response-head parsing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use tern_proto::{EMPTY_SLOT, Limit, Limits, Parse, RemoteError, ResponseHead, StatusCode, Syntax, Version};

fn parse_with(input: &[u8], limits: &Limits) -> Result<Parse<usize>, RemoteError> {
    let mut slots = [EMPTY_SLOT; 16];
    ResponseHead::parse(input, &mut slots, limits).map(|p| match p {
        Parse::Complete((_, n)) => Parse::Complete(n),
        Parse::Partial => Parse::Partial,
    })
}

fn parse(input: &[u8]) -> Result<Parse<usize>, RemoteError> {
    parse_with(input, &Limits::default())
}

#[test]
fn status_reason_and_headers() {
    let input = b"HTTP/1.0 201 Created\r\nLocation: /x\r\n\r\nbody";
    let mut slots = [EMPTY_SLOT; 4];
    let (head, len) = ResponseHead::parse(input, &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!(head.version, Version::Http10);
    assert_eq!(head.status, StatusCode::CREATED);
    assert_eq!(head.reason, "Created");
    assert_eq!(head.headers.get("location"), Some(&b"/x"[..]));
    assert_eq!(&input[len..], b"body");
}

#[test]
fn the_reason_phrase_may_be_empty_or_absent() {
    assert_eq!(parse(b"HTTP/1.1 200 \r\n\r\n"), Ok(Parse::Complete(17)));
    assert_eq!(parse(b"HTTP/1.1 200\r\n\r\n"), Ok(Parse::Complete(16)));
    assert_eq!(parse(b"HTTP/1.1 599 Whatever You Like\n\n"), Ok(Parse::Complete(32)));
}

#[test]
fn bad_status_lines() {
    assert_eq!(parse(b"HTTP/1.1 20 OK\r\n\r\n"), Err(RemoteError::Malformed(Syntax::StatusCode)));
    assert_eq!(parse(b"HTTP/1.1 099 Low\r\n\r\n"), Err(RemoteError::Malformed(Syntax::StatusCode)));
    assert_eq!(parse(b"HTTP/1.1 abc OK\r\n\r\n"), Err(RemoteError::Malformed(Syntax::StatusCode)));
    assert_eq!(parse(b"HTTP/1.1 200 O\x01K\r\n\r\n"), Err(RemoteError::Malformed(Syntax::ReasonPhrase)));
    assert_eq!(parse(b"HTTP/1.1 200 OK\rX\r\n\r\n"), Err(RemoteError::Malformed(Syntax::BareCarriageReturn)));
    assert_eq!(parse(b"HTTP/2.0 200 OK\r\n\r\n"), Err(RemoteError::UnsupportedVersion { major: 2, minor: 0 }));
    assert_eq!(parse(b"HTTP/2"), Ok(Parse::Partial));
    assert_eq!(parse(b"HTTX/1.1 200 OK\r\n\r\n"), Err(RemoteError::Malformed(Syntax::Version)));
}

#[test]
fn a_server_gets_no_leniency_on_fields() {
    assert_eq!(
        parse(b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n"),
        Err(RemoteError::Malformed(Syntax::ObsoleteLineFolding))
    );
    assert_eq!(parse(b"HTTP/1.1 200 OK\r\nA : 1\r\n\r\n"), Err(RemoteError::Malformed(Syntax::HeaderName)));
    assert_eq!(parse(b"HTTP/1.1 200 OK\r\nA: \0\r\n\r\n"), Err(RemoteError::Malformed(Syntax::HeaderValue)));
}

#[test]
fn reason_limit_is_exact() {
    let limits = Limits { max_reason_len: 2, ..Limits::default() };
    assert_eq!(parse_with(b"HTTP/1.1 200 OK\r\n\r\n", &limits), Ok(Parse::Complete(19)));
    assert_eq!(parse_with(b"HTTP/1.1 200 OK\r", &limits), Ok(Parse::Partial));
    let too_long = Err(RemoteError::TooLarge { limit: Limit::ReasonPhrase, max: 2 });
    assert_eq!(parse_with(b"HTTP/1.1 200 OKK", &limits), too_long);
    assert_eq!(parse_with(b"HTTP/1.1 200 OKK\r\n\r\n", &limits), too_long);
}

#[test]
fn header_section_limit() {
    let input = b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
    assert_eq!(parse_with(input, &Limits { max_header_section_len: 8, ..Limits::default() }), Ok(Parse::Complete(25)));
    assert_eq!(
        parse_with(input, &Limits { max_header_section_len: 7, ..Limits::default() }),
        Err(RemoteError::TooLarge { limit: Limit::HeaderSection, max: 7 })
    );
}

#[test]
fn max_response_head_len_is_enough_for_the_largest_head() {
    let limits = Limits { max_leading_empty_len: 1, max_reason_len: 2, max_header_section_len: 8, ..Limits::default() };
    let head = b"\nHTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
    assert_eq!(head.len(), limits.max_response_head_len());
    assert_eq!(parse_with(head, &limits), Ok(Parse::Complete(head.len())));
    let unended = b"\nHTTP/1.1 200 OK\r\nA: 12345";
    assert_eq!(unended.len(), limits.max_response_head_len());
    assert_eq!(parse_with(unended, &limits), Err(RemoteError::TooLarge { limit: Limit::HeaderSection, max: 8 }));
}

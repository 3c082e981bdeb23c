//! Request-head parsing: every rule of the parser, with the status a server would answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use tern_proto::{EMPTY_SLOT, Limit, Limits, Method, Parse, RemoteError, RequestHead, StatusCode, Syntax, Version};

fn parse(input: &[u8]) -> Result<Parse<usize>, RemoteError> {
    parse_with(input, &Limits::default())
}

fn parse_with(input: &[u8], limits: &Limits) -> Result<Parse<usize>, RemoteError> {
    let mut slots = [EMPTY_SLOT; 16];
    RequestHead::parse(input, &mut slots, limits).map(|p| match p {
        Parse::Complete((_, n)) => Parse::Complete(n),
        Parse::Partial => Parse::Partial,
    })
}

fn err(input: &[u8]) -> RemoteError {
    match parse(input) {
        Err(e) => e,
        other => panic!("{:?} parsed as {other:?}", String::from_utf8_lossy(input)),
    }
}

fn too_large(limit: Limit, max: u64) -> RemoteError {
    RemoteError::TooLarge { limit, max }
}

#[test]
fn a_typical_head_parses_into_a_borrowed_view() {
    let input = b"PUT /files/a%20b?x=1 HTTP/1.0\r\nHost: esp32\r\nX-Empty:\r\nX-Trim:  v  \r\n\r\nBODY";
    let mut slots = [EMPTY_SLOT; 4];
    let (head, len) = RequestHead::parse(input, &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!(head.method, Method::Put);
    assert_eq!(head.target, "/files/a%20b?x=1");
    assert_eq!(head.version, Version::Http10);
    assert_eq!(&input[len..], b"BODY");
    assert_eq!(head.headers.get("x-empty"), Some(&b""[..]));
    assert_eq!(head.headers.get("X-TRIM"), Some(&b"v"[..]));
    assert_eq!(head.headers.get("absent"), None);
    // The view borrows the input: no copies.
    assert_eq!(head.target.as_ptr(), input[4..].as_ptr());
}

#[test]
fn any_token_is_a_method() {
    let mut slots = [EMPTY_SLOT; 1];
    let (head, _) =
        RequestHead::parse(b"M-SEARCH * HTTP/1.1\r\n\r\n", &mut slots, &Limits::default()).unwrap().complete().unwrap();
    assert_eq!(head.method.as_str(), "M-SEARCH");
    assert!(matches!(head.method, Method::Extension(_)));
    assert_eq!(head.target, "*");
}

#[test]
fn bare_lf_line_endings_are_accepted() {
    assert_eq!(parse(b"GET / HTTP/1.1\nHost: a\n\n"), Ok(Parse::Complete(24)));
    assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: a\n\r\n"), Ok(Parse::Complete(26)));
}

#[test]
fn a_bare_cr_is_refused() {
    let bare = RemoteError::Malformed(Syntax::BareCarriageReturn);
    assert_eq!(err(b"GET / HTTP/1.1\rHost: a\r\n\r\n"), bare);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), bare);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\n\rX"), bare);
    assert_eq!(err(b"\rGET / HTTP/1.1\r\n\r\n"), bare);
}

#[test]
fn obsolete_line_folding_is_refused() {
    let fold = RemoteError::Malformed(Syntax::ObsoleteLineFolding);
    assert_eq!(err(b"GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n"), fold);
    assert_eq!(err(b"GET / HTTP/1.1\r\nX-A: 1\r\n\tcontinued\r\n\r\n"), fold);
    assert_eq!(err(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"), fold);
    assert_eq!(fold.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn nul_and_controls_in_values_are_refused() {
    let value = RemoteError::Malformed(Syntax::HeaderValue);
    assert_eq!(err(b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"), value);
    assert_eq!(err(b"GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n"), value);
    assert_eq!(err(b"GET / HTTP/1.1\r\nX: \x01\r\n\r\n"), value);
}

#[test]
fn bad_names_are_refused() {
    let name = RemoteError::Malformed(Syntax::HeaderName);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"), name);
    assert_eq!(err(b"GET / HTTP/1.1\r\n: a\r\n\r\n"), name);
    assert_eq!(err(b"GET / HTTP/1.1\r\nNo colon\r\n\r\n"), name);
    assert_eq!(err(b"GET / HTTP/1.1\r\nX\0Y: a\r\n\r\n"), name);
}

#[test]
fn bad_request_lines_are_refused_precisely() {
    assert_eq!(err(b"GE(T / HTTP/1.1\r\n\r\n"), RemoteError::Malformed(Syntax::Method));
    assert_eq!(err(b"GET /a\x01b HTTP/1.1\r\n\r\n"), RemoteError::Malformed(Syntax::RequestTarget));
    assert_eq!(err(b"GET  / HTTP/1.1\r\n\r\n"), RemoteError::Malformed(Syntax::RequestTarget));
    assert_eq!(err(b"GET / HTTP/1.1 \r\n\r\n"), RemoteError::Malformed(Syntax::Version));
    assert_eq!(err(b"GET / HTTX/1.1\r\n\r\n"), RemoteError::Malformed(Syntax::Version));
    assert_eq!(err(b"GET / HTTP/1.10\r\n\r\n"), RemoteError::Malformed(Syntax::Version));
}

#[test]
fn other_versions_get_505_once_certain() {
    let v2 = RemoteError::UnsupportedVersion { major: 2, minor: 0 };
    assert_eq!(err(b"GET / HTTP/2.0\r\n\r\n"), v2);
    assert_eq!(err(b"GET / HTTP/1.2\n"), RemoteError::UnsupportedVersion { major: 1, minor: 2 });
    assert_eq!(v2.status(), StatusCode::HTTP_VERSION_NOT_SUPPORTED);
    // Until the line ends, HTTP/2.0 could still be followed by garbage.
    assert_eq!(parse(b"GET / HTTP/2"), Ok(Parse::Partial));
    assert_eq!(parse(b"GET / HTTP/2.0"), Ok(Parse::Partial));
    assert_eq!(parse(b"GET / HTTP/2.0\r"), Ok(Parse::Partial));
}

#[test]
fn leading_empty_lines_are_skipped_up_to_the_limit() {
    assert_eq!(parse(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"), Ok(Parse::Complete(22)));
    let limits = Limits { max_leading_empty_len: 2, ..Limits::default() };
    assert_eq!(parse_with(b"\r\nGET / HTTP/1.1\r\n\r\n", &limits), Ok(Parse::Complete(20)));
    let e = parse_with(b"\r\n\n", &limits);
    assert_eq!(e, Err(too_large(Limit::LeadingEmptyLines, 2)));
    assert_eq!(parse_with(b"\r\n\nGET / HTTP/1.1\r\n\r\n", &limits), Err(too_large(Limit::LeadingEmptyLines, 2)));
}

#[test]
fn target_limit_is_exact_and_gives_414() {
    let limits = Limits { max_target_len: 10, ..Limits::default() };
    let at_limit = b"GET /123456789 HTTP/1.1\r\n\r\n";
    assert_eq!(parse_with(at_limit, &limits), Ok(Parse::Complete(at_limit.len())));
    let over = b"GET /1234567890 HTTP/1.1\r\n\r\n";
    let e = parse_with(over, &limits).unwrap_err();
    assert_eq!(e, too_large(Limit::RequestTarget, 10));
    assert_eq!(e.status(), StatusCode::URI_TOO_LONG);
    // Known as soon as the 11th target byte arrives, without waiting for the line end.
    assert_eq!(parse_with(b"GET /123456789", &limits), Ok(Parse::Partial));
    assert_eq!(parse_with(b"GET /1234567890", &limits), Err(too_large(Limit::RequestTarget, 10)));
}

#[test]
fn method_limit_gives_501() {
    let limits = Limits { max_method_len: 4, ..Limits::default() };
    assert_eq!(parse_with(b"POST / HTTP/1.1\r\n\r\n", &limits), Ok(Parse::Complete(19)));
    let e = parse_with(b"PATCH", &limits).unwrap_err();
    assert_eq!(e, too_large(Limit::Method, 4));
    assert_eq!(e.status(), StatusCode::NOT_IMPLEMENTED);
}

#[test]
fn header_section_limit_counts_lines_and_the_empty_line() {
    // "A: 1\r\n" (6) + "\r\n" (2) = 8 bytes of header section.
    let input = b"GET / HTTP/1.1\r\nA: 1\r\n\r\n";
    let exact = Limits { max_header_section_len: 8, ..Limits::default() };
    assert_eq!(parse_with(input, &exact), Ok(Parse::Complete(input.len())));
    let one_less = Limits { max_header_section_len: 7, ..Limits::default() };
    let e = parse_with(input, &one_less).unwrap_err();
    assert_eq!(e, too_large(Limit::HeaderSection, 7));
    assert_eq!(e.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // With bare LF the same fields take fewer bytes.
    assert_eq!(
        parse_with(b"GET / HTTP/1.1\nA: 1\n\n", &Limits { max_header_section_len: 6, ..exact }),
        Ok(Parse::Complete(21))
    );
    // An endless header line is refused once it passes the limit.
    let mut endless = b"GET / HTTP/1.1\r\nX: ".to_vec();
    endless.extend(std::iter::repeat_n(b'a', 2000));
    assert_eq!(parse(&endless), Err(too_large(Limit::HeaderSection, 1024)));
}

#[test]
fn header_count_is_the_number_of_slots() {
    let input = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    let mut three = [EMPTY_SLOT; 3];
    assert!(RequestHead::parse(input, &mut three, &Limits::default()).unwrap().is_complete());
    let mut two = [EMPTY_SLOT; 2];
    let e = RequestHead::parse(input, &mut two, &Limits::default()).unwrap_err();
    assert_eq!(e, too_large(Limit::HeaderCount, 2));
    assert_eq!(e.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[test]
fn the_earlier_violation_wins_whatever_the_split() {
    // A bad byte in the method comes before the over-long target.
    let limits = Limits { max_target_len: 4, ..Limits::default() };
    let input = b"G(T /123456789 HTTP/1.1\r\n\r\n";
    for cut in 1..=input.len() {
        let r = parse_with(&input[..cut], &limits);
        assert!(r == Ok(Parse::Partial) || r == Err(RemoteError::Malformed(Syntax::Method)), "{cut}: {r:?}");
    }
    // The over-long target comes before a bad header byte.
    let input = b"GET /123456789 HTTP/1.1\r\nX: \0\r\n\r\n";
    for cut in 1..=input.len() {
        let r = parse_with(&input[..cut], &limits);
        assert!(r == Ok(Parse::Partial) || r == Err(too_large(Limit::RequestTarget, 4)), "{cut}: {r:?}");
    }
}

#[test]
fn max_request_head_len_is_enough_for_the_largest_head() {
    let limits = Limits {
        max_leading_empty_len: 2,
        max_method_len: 6,
        max_target_len: 8,
        max_header_section_len: 12,
        ..Limits::default()
    };
    let head = b"\r\nDELETE /1234567 HTTP/1.1\r\nA: 12345\r\n\r\n";
    assert_eq!(head.len(), limits.max_request_head_len());
    assert_eq!(parse_with(head, &limits), Ok(Parse::Complete(head.len())));
    // A buffer of that size that fills without the head ending gets a decision, not Partial:
    // a section of max bytes without its end can only grow past max.
    let unended = b"\r\nDELETE /1234567 HTTP/1.1\r\nA: 123456789";
    assert_eq!(unended.len(), limits.max_request_head_len());
    assert_eq!(parse_with(unended, &limits), Err(too_large(Limit::HeaderSection, 12)));
    assert_eq!(parse_with(&unended[..unended.len() - 1], &limits), Ok(Parse::Partial));
}

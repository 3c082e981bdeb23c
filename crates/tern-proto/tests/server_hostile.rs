//! Hostile input, as data: each request shape the design brief's section 5 lists, with the
//! status the server answers and whether the session survives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod server_support;

use server_support::*;
use tern_proto::server::{HandlerOutcome, HttpdErrCode, Response, ServerConfig};

/// (name, request bytes, status answered)
const CASES: &[(&str, &[u8], u16)] = &[
    (
        "duplicate content-length",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        400,
    ),
    (
        "conflicting content-length",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
    ),
    ("listed content-length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
    ("signed content-length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400),
    ("content-length over 2^64", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413),
    ("content-length over max_body_len", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4294967296\r\n\r\n", 413),
    (
        "transfer-encoding with content-length",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    ("chunked not final", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
    ("chunked twice", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
    ("unknown coding", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    ("transfer-encoding in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("obsolete line folding", b"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n  b\r\n\r\n", 400),
    ("NUL in a header value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400),
    ("CR in a header value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400),
    ("bare CR line ending", b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
    ("header line without colon", b"GET / HTTP/1.1\r\nHost a\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("garbage instead of a request", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    ("lowercase version", b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ("HTTP/0.9 style version", b"GET / HTTP/0.9\r\n\r\n", 505),
    ("method over its limit", b"AVERYLONGMETHODNAMETHATGOESONANDON / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    ("bad chunk size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    (
        "overflowing chunk size",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
        400,
    ),
    (
        "chunked body over max_body_len",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100000000\r\n",
        413,
    ),
    (
        "chunk without its CRLF",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        400,
    ),
];

#[test]
fn every_hostile_shape_gets_its_status_and_the_session_closes() {
    for &(name, input, status) in CASES {
        for io in [usize::MAX, 1, 5] {
            // Anything after the offending request must never be served.
            let mut bytes = input.to_vec();
            bytes.extend(b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
            let served = serve_with(config(), Wire::new(&bytes).io(io), echo);
            let r = responses(&served.output);
            assert_eq!(r.len(), 1, "{name} (io {io}): {}", served.output);
            assert_eq!(r[0].status, status, "{name} (io {io})");
            assert_eq!(r[0].header("connection"), Some("close"), "{name}");
            assert_eq!(r[0].header("content-type"), Some("text/html"), "{name}");
            assert!(!r[0].body.is_empty(), "{name}: every error response has a short body");
            assert!(served.closed, "{name}");
            assert!(!served.output.contains("smuggled"), "{name}");
        }
    }
}

fn target_of_len(n: usize) -> String {
    format!("/{}", "a".repeat(n - 1))
}

#[test]
fn max_uri_len_bounds_the_request_target_exactly() {
    for (len, status) in [(512, 200), (513, 414)] {
        let input = format!("GET {} HTTP/1.1\r\nHost: a\r\n\r\n", target_of_len(len));
        let served = serve(input.as_bytes());
        assert_eq!(statuses(&served.output), [status], "target of {len} bytes");
    }
    let config = ServerConfig { limits: tern_proto::Limits { max_target_len: 20, ..Default::default() }, ..config() };
    for (len, status) in [(20, 200), (21, 414)] {
        let input = format!("GET {} HTTP/1.1\r\nHost: a\r\n\r\n", target_of_len(len));
        // Byte by byte too: the limit holds on partial input.
        let served = serve_with(config, Wire::new(input.as_bytes()).io(1), echo);
        assert_eq!(statuses(&served.output), [status], "target of {len} bytes");
    }
}

/// A header section of exactly `n` bytes: field lines with CRLF plus the closing CRLF.
fn section_of_len(n: usize) -> String {
    // "Host: a\r\n" is 9 bytes, the closing CRLF 2; the filler line carries the rest.
    let filler = n - 9 - 2 - "X-Fill: \r\n".len();
    format!("Host: a\r\nX-Fill: {}\r\n\r\n", "f".repeat(filler))
}

#[test]
fn max_req_hdr_len_bounds_the_header_section_exactly() {
    for (len, status) in [(1024, 200), (1025, 431)] {
        let section = section_of_len(len);
        assert_eq!(section.len(), len);
        let input = format!("GET / HTTP/1.1\r\n{section}");
        for io in [usize::MAX, 1] {
            let served = serve_with(config(), Wire::new(input.as_bytes()).io(io), echo);
            assert_eq!(statuses(&served.output), [status], "section of {len} bytes, io {io}");
        }
    }
}

#[test]
fn too_many_header_fields_get_431() {
    let mut input = String::from("GET / HTTP/1.1\r\n");
    for i in 0..=tern_proto::server::connection::MAX_REQUEST_FIELDS {
        input.push_str(&format!("X{i}: v\r\n"));
    }
    input.push_str("\r\n");
    assert_eq!(statuses(&serve(input.as_bytes()).output), [431]);
}

#[test]
fn bare_lf_line_endings_are_accepted() {
    let served = serve(b"GET /lf HTTP/1.1\nHost: a\nX: 1\n\nGET /lf2 HTTP/1.1\nHost: a\n\n");
    let bodies: Vec<_> = responses(&served.output).iter().map(Resp::body_str).collect();
    assert_eq!(bodies, ["GET /lf ", "GET /lf2 "]);
}

#[test]
fn chunked_requests_can_be_refused_with_411_as_esp_idf_cannot_read_them() {
    let config = ServerConfig { chunked_requests: false, ..config() };
    let input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let served = serve_with(config, Wire::new(input), echo);
    let r = responses(&served.output);
    assert_eq!((r[0].status, r[0].body_str().as_str()), (411, "Client must specify Content-Length"));
    assert!(served.closed);
}

#[test]
fn a_client_that_stops_mid_head_gets_408_after_recv_wait_timeout() {
    let served = serve_with(config(), Wire::open(b"GET /slow HTTP/1.1\r\nHost: a\r\n"), echo);
    let r = responses(&served.output);
    assert_eq!((r[0].status, r[0].reason.as_str()), (408, "Request Timeout"));
    assert_eq!(served.errors, [HttpdErrCode::RequestTimeout]);
    assert_eq!(served.now, 5000, "the deadline runs from the head's first byte");
    assert!(served.closed);
}

#[test]
fn a_trickling_head_does_not_extend_its_deadline() {
    let mut wire = Wire::open(b"G");
    for (i, b) in b"ET / HTTP/1.1\r\n".iter().enumerate() {
        wire = wire.then(Gate::At(1000 * (i as u64 + 1)), &[*b]);
    }
    let served = serve_with(config(), wire, echo);
    assert_eq!(statuses(&served.output), [408]);
    assert_eq!(served.now, 5000);
}

#[test]
fn an_idle_keep_alive_session_closes_after_its_idle_timeout_without_a_response() {
    let served = serve_with(config(), Wire::open(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), echo);
    assert_eq!(statuses(&served.output), [200]);
    assert!(served.closed);
    assert_eq!(served.now, 30_000);
    let config = ServerConfig { idle_timeout_ms: Some(1000), ..config() };
    let served = serve_with(config, Wire::open(b""), echo);
    assert_eq!((served.output.as_str(), served.now, served.closed), ("", 1000, true));
}

#[test]
fn a_pause_between_requests_counts_as_idle_not_as_a_slow_request() {
    let wire =
        Wire::new(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").then(Gate::At(20_000), b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    let served = serve_with(config(), wire, echo);
    assert_eq!(statuses(&served.output), [200, 200]);
}

#[test]
fn a_body_read_times_out_and_the_handler_decides_the_answer() {
    let input = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc";
    let mut error = None;
    let served = serve_with(config(), Wire::open(input), |ctx| {
        error = ctx.read_all().err();
        ctx.send_err(HttpdErrCode::RequestTimeout, None).unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(error, Some(tern_proto::server::ServerError::Timeout));
    let r = responses(&served.output);
    assert_eq!((r[0].status, r[0].header("connection")), (408, Some("close")));
    assert_eq!(served.now, 5000);
}

/// A body of `len` bytes, one byte a second after its head (which arrives at once).
fn trickled_body(len: u64) -> Wire {
    let head = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {len}\r\n\r\n");
    let mut wire = Wire::open(head.as_bytes());
    for i in 0..len {
        wire = wire.then(Gate::At(1000 * (i + 1)), b"x");
    }
    wire
}

#[test]
fn a_body_trickling_one_byte_a_second_fails_under_min_body_rate() {
    // No read waits long enough for `recv_wait_timeout`; the average rate is what fails.
    let mut error = None;
    let served = serve_with(config(), trickled_body(100), |ctx| {
        error = ctx.read_all().err();
        HandlerOutcome::Ok
    });
    assert_eq!(error, Some(tern_proto::server::ServerError::BodyTooSlow { min_bytes_per_sec: 240 }));
    // The grace of recv_wait_timeout (5 s) plus what the five bytes by then earned (5 * 1000 / 240 ms).
    assert_eq!(served.now, 5020);
    // The handler answered nothing: the engine answers 408 for it, as for a silent client.
    let r = responses(&served.output);
    assert_eq!((r[0].status, r[0].header("connection")), (408, Some("close")));
    assert!(served.closed);
}

/// A body of `secs` seconds at `rate` bytes a second, in pieces every 100 ms.
fn body_at(rate: u64, secs: u64) -> Wire {
    let len = rate * secs;
    let head = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {len}\r\n\r\n");
    let mut wire = Wire::open(head.as_bytes());
    let piece = vec![b'z'; (rate / 10) as usize];
    for i in 0..secs * 10 {
        wire = wire.then(Gate::At(100 * (i + 1)), &piece);
    }
    wire
}

#[test]
fn min_body_rate_lies_between_230_and_250_bytes_a_second() {
    // Over 150 s the grace of 5 s is spent: 230 B/s falls under 240 B/s after about 120 s.
    let mut error = None;
    serve_with(config(), body_at(230, 150), |ctx| {
        error = ctx.read_all().err();
        HandlerOutcome::Fail
    });
    assert_eq!(error, Some(tern_proto::server::ServerError::BodyTooSlow { min_bytes_per_sec: 240 }));
    let served = serve_with(config(), body_at(250, 150), |ctx| {
        let body = ctx.read_all().unwrap();
        assert_eq!(body.len(), 250 * 150);
        ctx.send(&tern_proto::server::Response::default(), b"ok").unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(statuses(&served.output), [200]);
}

#[test]
fn a_body_the_handler_leaves_unread_is_under_min_body_rate_too() {
    // The handler answers without reading; the engine discards the body, and a body that
    // trickles in at a byte a second does not hold the session for max_discard_len seconds.
    let served = serve_with(config(), trickled_body(1000), |ctx| {
        ctx.send(&tern_proto::server::Response::default(), b"ok").unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(statuses(&served.output), [200]);
    assert!(served.closed);
    assert!(served.now <= 5100, "the discard ended at {} ms", served.now);
}

#[test]
fn a_second_request_on_the_connection_starts_with_a_fresh_allowance() {
    // The first body arrives slowly but within the rate; the second request's body gets its
    // own grace, not what is left of the first's.
    let first = b"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n";
    let second = b"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n";
    let wire =
        Wire::open(first).then(Gate::At(4000), b"abcd").then(Gate::At(4100), second).then(Gate::At(8000), b"efgh");
    let served = serve_with(config(), wire, echo);
    assert_eq!(statuses(&served.output), [200, 200]);
}

#[test]
fn without_min_body_rate_a_trickling_body_is_read_whole() {
    let config = ServerConfig { min_body_rate: 0, ..config() };
    let served = serve_with(config, trickled_body(8), echo);
    let r = responses(&served.output);
    assert_eq!((r[0].status, r[0].body_str().len()), (200, "POST / xxxxxxxx".len()));
}

#[test]
fn a_body_at_the_minimum_rate_is_read_whole_and_a_pause_before_reading_does_not_count() {
    // 300 bytes a second, in 100-byte pieces every third of a second; the handler first
    // spends 20 s without reading (erasing flash, say): only the time it waits counts.
    let head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n";
    let mut wire = Wire::open(head);
    for i in 0..30 {
        wire = wire.then(Gate::At(20_000 + 333 * (i + 1)), &[b'y'; 100]);
    }
    let served = serve_with(config(), wire, |ctx| {
        ctx.wait_until(20_000);
        echo(ctx)
    });
    assert_eq!(statuses(&served.output), [200]);
}

#[test]
fn a_client_that_leaves_mid_body_ends_the_read_with_incomplete_body() {
    let input = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc";
    let mut error = None;
    let served = serve_with(config(), Wire::new(input), |ctx| {
        error = ctx.read_all().err();
        HandlerOutcome::Fail
    });
    assert_eq!(error, Some(tern_proto::server::ServerError::IncompleteBody { received: 3 }));
    assert!(served.output.is_empty());
    assert!(served.closed);
}

#[test]
fn a_stalled_write_closes_the_session_after_send_wait_timeout() {
    let mut wire = Wire::open(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    wire.stall_writes_at = Some(0);
    let mut result = None;
    let mut conn = connection(config());
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Request);
    wire.body = vec![b'x'; 100];
    conn.send(&Response::default(), &wire.body.clone()).unwrap();
    if let Err(e) = drive(&mut conn, &mut wire) {
        result = Some(e);
    }
    assert_eq!(result, Some(tern_proto::server::ServerError::Timeout));
    assert!(wire.closed);
    assert_eq!(wire.now, 5000);
}

#[test]
fn the_close_request_closes_after_queued_output() {
    let mut conn = connection(config());
    let mut wire = Wire::open(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Request);
    conn.send_err(HttpdErrCode::NotFound, None).unwrap();
    conn.close();
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Closed);
    assert_eq!(statuses(&wire.output_str()), [404]);
    assert!(wire.closed && conn.is_closed());
}

#[test]
fn an_error_handler_may_answer_and_keep_the_session_when_the_stream_is_sound() {
    // 404-like refusals come from routing; here a handler answers a request-level refusal
    // from the engine (411) and asks to keep: the engine closes anyway, the stream being
    // uncertain.
    let config = ServerConfig { chunked_requests: false, ..config() };
    let mut conn = connection(config);
    let mut wire = Wire::new(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Error(HttpdErrCode::LengthRequired));
    wire.body = b"custom".to_vec();
    conn.send(&Response::new(tern_proto::StatusCode::new(411).unwrap()), b"custom").unwrap();
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Sent);
    conn.finish(HandlerOutcome::Ok).unwrap();
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Closed);
    let r = responses(&wire.output_str());
    assert_eq!((r[0].status, r[0].body_str().as_str(), r[0].header("connection")), (411, "custom", Some("close")));
}

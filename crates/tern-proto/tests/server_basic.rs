//! The server connection engine against a scripted client: requests, bodies, keep-alive,
//! pipelining, 100-continue, responses and the handler's end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod server_support;

use server_support::*;
use tern_proto::StatusCode;
use tern_proto::body::BodyKind;
use tern_proto::server::{HandlerOutcome, HttpdErrCode, Response, ServerError};

const GET: &[u8] = b"GET /hello?x=1 HTTP/1.1\r\nHost: esp32\r\n\r\n";

#[test]
fn a_get_is_answered_and_the_session_stays_open_until_the_client_leaves() {
    let served = serve(GET);
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].status, r[0].reason.as_str()), (200, "OK"));
    assert_eq!(r[0].header("content-type"), Some("text/plain"));
    assert_eq!(r[0].header("content-length"), Some("11"));
    assert_eq!(r[0].header("connection"), None);
    assert_eq!(r[0].body_str(), "GET /hello ");
    assert!(served.closed);
    assert_eq!(served.requests, 1);
}

#[test]
fn the_head_and_a_small_body_leave_in_one_transmit() {
    let mut conn = connection(config());
    let mut wire = Wire::open(GET);
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Request);
    conn.send(&Response::default(), b"hi").unwrap();
    match conn.poll(tern_proto::Instant::from_millis(0)) {
        tern_proto::server::Action::Transmit { bytes, body_from } => {
            assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n") && bytes.ends_with(b"\r\n\r\n"));
            assert_eq!(body_from, Some(0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_accessors_read_the_head_in_place() {
    let input = b"GET /a%20b/c?Key=v%41l&x=&flag HTTP/1.1\r\nHost: esp32\r\nX-Trail: v  \r\nX-Empty:\r\n\
                  Cookie: a=1; session=\"abc\"\r\nx-trail: second\r\n\r\n";
    let served = serve_with(config(), Wire::new(input), |ctx| {
        let req = ctx.conn.request().unwrap();
        assert_eq!(req.method(), tern_proto::Method::Get);
        assert_eq!(req.uri(), "/a%20b/c?Key=v%41l&x=&flag");
        assert_eq!(req.path(), "/a%20b/c");
        assert_eq!(req.query(), Some("Key=v%41l&x=&flag"));
        assert_eq!(req.query_value("key"), Some("v%41l"));
        assert_eq!(req.query_value("x"), Some(""));
        assert_eq!(req.query_value("flag"), None);
        assert_eq!(req.header("x-trail"), Some(&b"v  "[..]), "first field, trailing whitespace kept");
        assert_eq!(req.header("X-EMPTY"), Some(&b""[..]));
        assert_eq!(req.header("missing"), None);
        assert_eq!(req.cookie("session"), Some(&b"abc"[..]));
        assert_eq!(req.content_len(), 0);
        assert_eq!(req.body_kind(), BodyKind::None);
        assert_eq!(req.headers().count(), 5);
        assert!(req.raw_head().starts_with(b"GET /a%20b"));
        ctx.send(&Response::default(), b"").unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(statuses(&served.output), [200]);
}

#[test]
fn leading_empty_lines_before_a_request_are_skipped() {
    let served = serve(b"\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(responses(&served.output)[0].body_str(), "GET /x ");
}

#[test]
fn keep_alive_serves_several_requests_and_pipelined_ones_in_order() {
    let mut input = Vec::new();
    for i in 0..5 {
        input.extend(format!("POST /p{i} HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab{i}").bytes());
    }
    for io in [usize::MAX, 1, 7, 64] {
        let served = serve_with(config(), Wire::new(&input).io(io), echo);
        let bodies: Vec<_> = responses(&served.output).iter().map(Resp::body_str).collect();
        assert_eq!(bodies, ["POST /p0 ab0", "POST /p1 ab1", "POST /p2 ab2", "POST /p3 ab3", "POST /p4 ab4"], "io {io}");
    }
}

#[test]
fn a_pipelined_request_after_a_close_request_is_not_served() {
    let input = b"GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve(input);
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].header("connection"), Some("close"));
    assert!(served.closed);
}

#[test]
fn http10_closes_unless_it_asks_for_keep_alive() {
    let served = serve(b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].header("connection"), Some("close"));

    let served = serve(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    let r = responses(&served.output);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].header("connection"), Some("keep-alive"));
    assert_eq!(r[1].header("connection"), Some("close"));
}

#[test]
fn keep_alive_off_in_the_config_closes_after_each_response() {
    let config = tern_proto::server::ServerConfig { keep_alive: false, ..config() };
    let served = serve_with(config, Wire::new(&[GET, GET].concat()), echo);
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].header("connection"), Some("close"));
}

#[test]
fn content_length_bodies_arrive_whole_in_any_split() {
    let body: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let mut input = format!("PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    input.extend(&body);
    for io in [1, 3, 100, 512, usize::MAX] {
        let mut got = Vec::new();
        let served = serve_with(config(), Wire::new(&input).io(io), |ctx| {
            assert_eq!(ctx.conn.request().unwrap().content_len(), 3000);
            got = ctx.read_all().unwrap();
            ctx.send(&Response::default(), b"ok").unwrap();
            HandlerOutcome::Ok
        });
        assert_eq!(got, body, "io {io}");
        assert_eq!(statuses(&served.output), [200]);
    }
}

#[test]
fn chunked_bodies_are_decoded_with_their_trailers() {
    let input = b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
                  5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n\
                  GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    for io in [1, 2, 5, usize::MAX] {
        let mut seen = Vec::new();
        let served = serve_with(config(), Wire::new(input).io(io), |ctx| {
            if ctx.path() == "/c" {
                assert_eq!(ctx.conn.request().unwrap().body_kind(), BodyKind::Chunked);
                assert_eq!(ctx.conn.body_remaining(), None);
                let mut body = Vec::new();
                loop {
                    ctx.conn.read_body().unwrap();
                    match drive(ctx.conn, ctx.wire).unwrap() {
                        Got::Data(d) => {
                            ctx.conn.consume(d.len());
                            body.extend(d);
                        }
                        Got::Trailer(n, v) => seen.push((n, v)),
                        Got::EndOfBody => break,
                        other => panic!("{other:?}"),
                    }
                }
                assert_eq!(body, b"hello world");
            }
            ctx.send(&Response::default(), b"").unwrap();
            HandlerOutcome::Ok
        });
        assert_eq!(seen, [("X-Sum".to_owned(), b"42".to_vec()), ("X-Other".to_owned(), b"y".to_vec())], "io {io}");
        assert_eq!(statuses(&served.output), [200, 200], "io {io}");
    }
}

#[test]
fn a_body_consumed_in_small_pieces_comes_again_until_used() {
    let input = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
    let served = serve_with(config(), Wire::new(input), |ctx| {
        let mut body = Vec::new();
        loop {
            let piece = ctx.read_some(3).unwrap();
            if piece.is_empty() {
                break;
            }
            assert!(piece.len() <= 3);
            body.extend(piece);
        }
        assert_eq!(body, b"0123456789");
        ctx.send(&Response::default(), b"").unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(statuses(&served.output), [200]);
}

#[test]
fn unread_body_is_discarded_and_the_next_request_served() {
    let input = b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: a\r\n\r\n\
                  POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /d HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve_with(config(), Wire::new(input).io(4), |ctx| {
        let path = ctx.path();
        ctx.send(&Response::default(), path.as_bytes()).unwrap();
        HandlerOutcome::Ok
    });
    let bodies: Vec<_> = responses(&served.output).iter().map(Resp::body_str).collect();
    assert_eq!(bodies, ["/a", "/b", "/c", "/d"]);
}

#[test]
fn unread_body_over_the_discard_limit_closes_the_session() {
    let config = tern_proto::server::ServerConfig { max_discard_len: 100, ..config() };
    // Declared over the limit: the response says it will close.
    let mut input = b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n".to_vec();
    input.extend([b'x'; 101]);
    input.extend(GET);
    let served = serve_with(config, Wire::new(&input), |ctx| {
        ctx.send(&Response::default(), b"no").unwrap();
        HandlerOutcome::Ok
    });
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].header("connection"), Some("close"));
    // Chunked, found over the limit while discarding.
    let mut input = b"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        input.extend(b"20\r\n");
        input.extend([b'y'; 32]);
        input.extend(b"\r\n");
    }
    input.extend(b"0\r\n\r\n");
    input.extend(GET);
    let served = serve_with(config, Wire::new(&input), |ctx| {
        ctx.send(&Response::default(), b"no").unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(statuses(&served.output), [200]);
    assert!(served.closed);
}

#[test]
fn expect_100_continue_is_answered_only_when_the_handler_reads() {
    let head = b"PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    // The client waits for 100 before sending its body.
    let wire = Wire::open(head).then(Gate::Output("100 Continue".into()), b"data");
    let mut body = Vec::new();
    let served = serve_with(config(), Wire { eof_at_end: true, ..wire }, |ctx| {
        body = ctx.read_all().unwrap();
        ctx.send(&Response::default(), b"stored").unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(body, b"data");
    assert!(served.output.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), "{}", served.output);

    // A handler that refuses without reading: no 100, and the session closes because the
    // client may still send the body.
    let served = serve_with(config(), Wire::new(head), |ctx| {
        ctx.send_err(HttpdErrCode::Unauthorized, None).unwrap();
        HandlerOutcome::Ok
    });
    assert!(!served.output.contains("100 Continue"));
    let r = responses(&served.output);
    assert_eq!((r[0].status, r[0].header("connection")), (401, Some("close")));
    assert_eq!(r[0].body_str(), "No permission -- see authorization schemes");
}

#[test]
fn no_100_continue_when_the_body_already_arrived_or_for_http10() {
    let input = b"PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata";
    let served = serve(input);
    assert!(!served.output.contains("100 Continue"));
    let input = b"PUT /up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata";
    let served = serve(input);
    assert!(!served.output.contains("100 Continue"));
    assert_eq!(responses(&served.output)[0].body_str(), "PUT /up data");
}

#[test]
fn head_is_answered_without_a_body() {
    let served = serve_with(
        config(),
        Wire::new(b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
        |ctx| {
            ctx.send(&Response::default(), b"twelve bytes").unwrap();
            HandlerOutcome::Ok
        },
    );
    let r = responses_with(served.output.as_bytes(), &[true, false]);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].header("content-length"), Some("12"));
    assert_eq!(r[1].body_str(), "twelve bytes");
    // A chunked HEAD response has no chunks either.
    let served = serve_with(config(), Wire::new(b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"), |ctx| {
        ctx.send_chunk(&Response::default(), b"abc").unwrap();
        HandlerOutcome::Ok
    });
    assert!(served.output.ends_with("Transfer-Encoding: chunked\r\n\r\n"), "{}", served.output);
}

#[test]
fn chunked_responses_frame_each_call_and_end_with_the_last_chunk() {
    let served = serve_with(config(), Wire::new(&[GET, GET].concat()), |ctx| {
        let resp = Response { content_type: "text/plain", ..Response::default() };
        ctx.send_chunk(&resp, b"Hello ").unwrap();
        ctx.send_chunk(&resp, b"chunked").unwrap();
        ctx.send_chunk(&resp, b"").unwrap();
        HandlerOutcome::Ok
    });
    let r = responses(&served.output);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].header("transfer-encoding"), Some("chunked"));
    assert_eq!(r[0].header("content-length"), None);
    assert_eq!(r[0].body_str(), "Hello chunked");
    assert!(served.output.contains("6\r\nHello \r\n7\r\nchunked\r\n0\r\n\r\n"));
}

#[test]
fn a_chunked_response_left_open_is_terminated_at_finish() {
    let served = serve_with(config(), Wire::new(&[GET, GET].concat()), |ctx| {
        ctx.send_chunk(&Response::default(), b"part").unwrap();
        HandlerOutcome::Ok
    });
    let r = responses(&served.output);
    assert_eq!(r.iter().map(Resp::body_str).collect::<Vec<_>>(), ["part", "part"]);
}

#[test]
fn an_http10_client_gets_a_chunked_response_unframed_then_a_close() {
    let served = serve_with(config(), Wire::new(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), |ctx| {
        ctx.send_chunk(&Response::default(), b"abc").unwrap();
        ctx.send_chunk(&Response::default(), b"def").unwrap();
        HandlerOutcome::Ok
    });
    let r = responses(&served.output);
    assert_eq!(r[0].header("transfer-encoding"), None);
    assert_eq!(r[0].header("connection"), Some("close"));
    assert_eq!(r[0].body_str(), "abcdef");
    assert!(served.closed);
}

#[test]
fn send_err_gives_every_code_its_status_line_and_default_body() {
    for code in HttpdErrCode::ALL {
        let served = serve_with(config(), Wire::new(GET), |ctx| {
            ctx.send_err(code, None).unwrap();
            HandlerOutcome::Ok
        });
        let r = responses(&served.output);
        assert_eq!(r[0].status, code.status().as_u16());
        assert_eq!(r[0].reason, code.reason());
        assert_eq!(r[0].header("content-type"), Some("text/html"));
        assert_eq!(r[0].body_str(), code.default_message());
        // send_err alone does not close: the handler answered, so the session stays.
        assert_eq!(r[0].header("connection"), None, "{code:?}");
    }
    let served = serve_with(config(), Wire::new(GET), |ctx| {
        ctx.send_err(HttpdErrCode::Forbidden, Some("go away")).unwrap();
        HandlerOutcome::Ok
    });
    assert_eq!(responses(&served.output)[0].body_str(), "go away");
}

#[test]
fn a_handler_that_answers_nothing_gets_500_and_a_close() {
    let served = serve_with(config(), Wire::new(&[GET, GET].concat()), |_| HandlerOutcome::Ok);
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].status, r[0].header("connection")), (500, Some("close")));
}

#[test]
fn a_failing_handler_closes_the_session() {
    let served = serve_with(config(), Wire::new(&[GET, GET].concat()), |ctx| {
        ctx.send(&Response::default(), b"x").unwrap();
        HandlerOutcome::Fail
    });
    assert_eq!(statuses(&served.output), [200]);
    assert!(served.closed);
}

#[test]
fn custom_status_reason_headers_and_content_type() {
    let served = serve_with(config(), Wire::new(GET), |ctx| {
        let headers = [("X-A", "1"), ("Set-Cookie", "a=b")];
        let resp = Response {
            status: StatusCode::new(299).unwrap(),
            reason: Some("Custom Thing"),
            content_type: "application/json",
            headers: &headers,
        };
        ctx.send(&resp, b"{}").unwrap();
        HandlerOutcome::Ok
    });
    let r = responses(&served.output);
    assert_eq!((r[0].status, r[0].reason.as_str()), (299, "Custom Thing"));
    assert_eq!(r[0].header("content-type"), Some("application/json"));
    assert_eq!(r[0].header("x-a"), Some("1"));
    assert_eq!(r[0].header("set-cookie"), Some("a=b"));
}

#[test]
fn bad_response_heads_are_refused_and_another_may_follow() {
    let served = serve_with(config(), Wire::new(GET), |ctx| {
        let bad = [("X", "a\r\nInjected: 1")];
        let err = ctx.conn.send(&Response { headers: &bad, ..Response::default() }, b"").unwrap_err();
        assert_eq!(err, ServerError::Response(tern_proto::LocalError::InvalidHeaderValue));
        assert!(err.is_local());
        let lf = [("X", "a\nb")];
        assert!(ctx.conn.send(&Response { headers: &lf, ..Response::default() }, b"").is_err());
        let reason = Response { reason: Some("OK\r\n"), ..Response::default() };
        assert!(ctx.conn.send(&reason, b"").is_err());
        let ctype = Response { content_type: "text/html\r\nX: y", ..Response::default() };
        assert!(ctx.conn.send(&ctype, b"").is_err());
        let nine: Vec<(&str, &str)> = (0..9).map(|_| ("X-N", "v")).collect();
        assert_eq!(
            ctx.conn.send(&Response { headers: &nine, ..Response::default() }, b""),
            Err(ServerError::Response(tern_proto::LocalError::TooManyHeaders { max: 8 }))
        );
        let framing = [("Content-Length", "3")];
        assert!(ctx.conn.send(&Response { headers: &framing, ..Response::default() }, b"").is_err());
        let long = "v".repeat(600);
        let big = [("X-Big", long.as_str())];
        assert!(matches!(
            ctx.conn.send(&Response { headers: &big, ..Response::default() }, b""),
            Err(ServerError::Response(tern_proto::LocalError::BufferTooSmall { .. }))
        ));
        let eight: Vec<(&str, &str)> = (0..8).map(|_| ("X-N", "v")).collect();
        ctx.send(&Response { headers: &eight, ..Response::default() }, b"fine").unwrap();
        assert!(matches!(ctx.conn.send(&Response::default(), b""), Err(ServerError::InvalidState { .. })));
        HandlerOutcome::Ok
    });
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].body_str(), "fine");
    assert_eq!(r[0].headers.iter().filter(|(n, _)| n == "X-N").count(), 8);
    assert!(!served.output.contains("Injected"));
}

#[test]
fn a_handler_connection_close_header_closes_the_session() {
    let served = serve_with(config(), Wire::new(&[GET, GET].concat()), |ctx| {
        ctx.send(&Response { headers: &[("Connection", "close")], ..Response::default() }, b"bye").unwrap();
        HandlerOutcome::Ok
    });
    let r = responses(&served.output);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("connection")).count(), 1);
}

#[test]
fn calls_in_the_wrong_state_are_refused() {
    let mut conn = connection(config());
    assert!(matches!(conn.read_body(), Err(ServerError::InvalidState { .. })));
    assert!(matches!(conn.send(&Response::default(), b""), Err(ServerError::InvalidState { .. })));
    assert!(matches!(conn.finish(HandlerOutcome::Ok), Err(ServerError::InvalidState { .. })));
    assert!(conn.request().is_none());
    let mut wire = Wire::new(GET);
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Request);
    assert!(matches!(drive(&mut conn, &mut wire), Err(ServerError::InvalidState { .. })));
    conn.read_body().unwrap();
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::EndOfBody);
}

#[test]
fn the_caller_buffer_must_hold_the_configured_sizes() {
    let config = config();
    let short = tern_proto::server::Connection::new(
        vec![0u8; config.buffer_len() - 1],
        config,
        tern_proto::server::SessionId(1),
    );
    assert!(matches!(short, Err(tern_proto::LocalError::BufferTooSmall { .. })));
}

/// Each chunk is complete on the wire once `send_chunk` is done, its closing CRLF included:
/// a client parsing whole chunks (server-sent events) never waits for the next one.
#[test]
fn a_sent_chunk_is_complete_on_the_wire() {
    let served = serve_with(config(), Wire::new(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n"), |ctx| {
        let resp = Response { content_type: "text/event-stream", ..Response::default() };
        ctx.send_chunk(&resp, b"data: 1\n\n").unwrap();
        assert!(ctx.wire.output_str().ends_with("9\r\ndata: 1\n\n\r\n"), "{:?}", ctx.wire.output_str());
        ctx.send_chunk(&resp, b"data: 2\n\n").unwrap();
        assert!(ctx.wire.output_str().ends_with("\r\n9\r\ndata: 2\n\n\r\n"), "{:?}", ctx.wire.output_str());
        HandlerOutcome::Ok
    });
    assert!(served.output.ends_with("data: 2\n\n\r\n0\r\n\r\n"), "{:?}", served.output);
    assert_eq!(responses(&served.output)[0].body, b"data: 1\n\ndata: 2\n\n");
}

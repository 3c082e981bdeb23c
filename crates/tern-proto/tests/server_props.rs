//! Properties of the server connection engine: any split of the client's bytes gives the same
//! requests, bodies and responses; arbitrary bytes never panic, never hang, and always end in a
//! closed session whose output is a sequence of well-formed responses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod server_support;

use proptest::prelude::*;
use server_support::*;
use tern_proto::server::{HandlerOutcome, HttpdErrCode, Response, ServerConfig};

/// What the handlers saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Request(String, String),
    Body(Vec<u8>),
    Trailer(String, Vec<u8>),
    BodyError(String),
}

/// Handlers chosen by path: `/r` reads everything and echoes it, `/p` reads 5 bytes,
/// `/n` answers without reading, `/c` answers in chunks, `/e` sends 404, `/f` fails, others
/// answer nothing (the engine sends 500).
fn handler(seen: &mut Vec<Seen>) -> impl FnMut(&mut Ctx<'_>) -> HandlerOutcome + '_ {
    move |ctx| {
        let req = ctx.conn.request().unwrap();
        let path = req.path().to_owned();
        seen.push(Seen::Request(req.method().as_str().to_owned(), path.clone()));
        match path.as_str() {
            "/r" | "/p" => {
                let mut body = Vec::new();
                loop {
                    if ctx.conn.read_body().is_err() {
                        break;
                    }
                    match drive(ctx.conn, ctx.wire) {
                        Ok(Got::Data(d)) => {
                            // Consume in pieces of at most 7 bytes; `/p` stops after 5 bytes.
                            let mut take = d.len().min(7);
                            if path == "/p" {
                                take = take.min(5 - body.len());
                            }
                            ctx.conn.consume(take);
                            body.extend(&d[..take]);
                            if path == "/p" && body.len() == 5 {
                                break;
                            }
                        }
                        Ok(Got::Trailer(n, v)) => seen.push(Seen::Trailer(n, v)),
                        Ok(Got::EndOfBody) => break,
                        Ok(other) => panic!("{other:?}"),
                        Err(e) => {
                            seen.push(Seen::BodyError(e.to_string()));
                            return HandlerOutcome::Ok;
                        }
                    }
                }
                seen.push(Seen::Body(body.clone()));
                let _ = ctx.send(&Response::default(), &body);
                HandlerOutcome::Ok
            }
            "/n" => {
                let _ = ctx.send(&Response::default(), b"not read");
                HandlerOutcome::Ok
            }
            "/c" => {
                let _ = ctx.send_chunk(&Response::default(), b"one");
                let _ = ctx.send_chunk(&Response::default(), b"two");
                HandlerOutcome::Ok
            }
            "/e" => {
                let _ = ctx.send_err(HttpdErrCode::NotFound, None);
                HandlerOutcome::Ok
            }
            "/f" => HandlerOutcome::Fail,
            _ => HandlerOutcome::Ok,
        }
    }
}

fn run(config: ServerConfig, input: &[u8], sizes: Vec<usize>) -> (Vec<Seen>, Vec<u8>, Vec<HttpdErrCode>) {
    let mut seen = Vec::new();
    let mut wire = Wire::new(input);
    wire.sizes = sizes;
    let served = serve_with(config, wire, handler(&mut seen));
    assert!(served.closed);
    // Whether `100 Continue` goes out depends on whether the body had already arrived.
    const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut output = Vec::new();
    let mut rest = &served.raw[..];
    while !rest.is_empty() {
        if rest.starts_with(CONTINUE) {
            rest = &rest[CONTINUE.len()..];
        } else {
            output.push(rest[0]);
            rest = &rest[1..];
        }
    }
    (seen, output, served.errors)
}

fn request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec!["GET", "POST", "PUT", "HEAD", "DELETE", "M-SEARCH"]);
    let path = prop::sample::select(vec!["/r", "/p", "/n", "/c", "/e", "/f", "/x"]);
    let version = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0"]);
    let extra = prop::sample::subsequence(
        vec![
            "Connection: close\r\n",
            "Connection: keep-alive\r\n",
            "Expect: 100-continue\r\n",
            "X-Folded: a\r\n b\r\n",
            "Content-Length: 2\r\n",
            "Transfer-Encoding: gzip\r\n",
            "Cookie: a=1; b=2\r\n",
        ],
        0..3,
    );
    let body = prop::collection::vec(any::<u8>(), 0..40);
    let framing = 0..4u8;
    let chunk = 1..9usize;
    (method, path, version, extra, body, framing, chunk).prop_map(|(m, p, v, extra, body, framing, chunk)| {
        let mut out = format!("{m} {p} {v}\r\nHost: a\r\n").into_bytes();
        for e in extra {
            out.extend(e.as_bytes());
        }
        match framing {
            0 => out.extend(b"\r\n"),
            1 | 2 => {
                out.extend(format!("Content-Length: {}\r\n\r\n", body.len()).bytes());
                out.extend(&body);
            }
            _ => {
                out.extend(b"Transfer-Encoding: chunked\r\n\r\n");
                for piece in body.chunks(chunk) {
                    out.extend(format!("{:x};e=1\r\n", piece.len()).bytes());
                    out.extend(piece);
                    out.extend(b"\r\n");
                }
                out.extend(b"0\r\nX-T: 1\r\n\r\n");
            }
        }
        out
    })
}

fn small_config() -> ServerConfig {
    let limits = tern_proto::Limits { max_target_len: 16, max_header_section_len: 128, ..Default::default() };
    ServerConfig { limits, body_window: 64, tx_buffer_size: 256, max_discard_len: 20, ..ServerConfig::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_requests_bodies_and_responses(
        requests in prop::collection::vec(request(), 1..5),
        sizes in prop::collection::vec(1..40usize, 1..8),
        small in any::<bool>(),
    ) {
        let input = requests.concat();
        let config = if small { small_config() } else { ServerConfig::default() };
        let whole = run(config, &input, Vec::new());
        let split = run(config, &input, sizes);
        let bytewise = run(config, &input, vec![1]);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(&whole, &bytewise);
        // Every answer is well-formed (a HEAD response's length would need its request).
        if !input.windows(5).any(|w| w == b"HEAD ") {
            let _ = responses_with(&whole.1, &[]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_hang_and_close_the_session(
        input in prop::collection::vec(any::<u8>(), 0..300),
        sizes in prop::collection::vec(1..40usize, 1..4),
        small in any::<bool>(),
    ) {
        let config = if small { small_config() } else { ServerConfig::default() };
        let whole = run(config, &input, Vec::new());
        let split = run(config, &input, sizes);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn arbitrary_bytes_after_a_good_request_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..200),
        sizes in prop::collection::vec(1..40usize, 1..4),
    ) {
        let mut input = b"POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc".to_vec();
        input.extend(tail);
        let whole = run(ServerConfig::default(), &input, Vec::new());
        prop_assert_eq!(&whole.0[..2], &[Seen::Request("POST".into(), "/r".into()), Seen::Body(b"abc".to_vec())]);
        let split = run(ServerConfig::default(), &input, sizes);
        prop_assert_eq!(whole, split);
    }
}

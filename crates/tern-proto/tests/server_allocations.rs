//! The server connection engine allocates nothing: 200 keep-alive requests (a GET, a POST
//! with a body read in place, a chunked response) through one engine, counted by a global
//! allocator (dhat) between the warm-up and the end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use tern_proto::Instant;
use tern_proto::server::{Action, Completion, Connection, HandlerOutcome, Response, ServerConfig, SessionId};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const REQUESTS: &[u8] = b"GET /hello HTTP/1.1\r\nHost: esp32\r\n\r\n\
    POST /echo HTTP/1.1\r\nHost: esp32\r\nContent-Length: 11\r\n\r\nhello world\
    GET /chunks HTTP/1.1\r\nHost: esp32\r\n\r\n";

#[test]
fn keep_alive_requests_allocate_nothing() {
    let rounds = 70;
    let input: Vec<u8> = REQUESTS.repeat(rounds);
    let mut output: Vec<u8> = Vec::with_capacity(input.len() * 8);
    let config = ServerConfig::default();
    let mut conn = Connection::new(vec![0u8; config.buffer_len()], config, SessionId(1)).unwrap();
    let mut at = 0;
    // The body of the last send, as the adapter keeps it.
    let mut body_buf = [0u8; 64];
    let mut body_len = 0;
    let mut served = 0;
    let mut echo = [0u8; 64];
    let mut echo_len = 0;
    let now = Instant::from_millis(0);

    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get().total_blocks;
    'serve: loop {
        // One operation of the connection, to its end.
        let done = loop {
            match conn.poll(now) {
                Action::Receive(buf) => {
                    // 100 bytes per read: requests straddle reads.
                    let n = buf.len().min(100).min(input.len() - at);
                    buf[..n].copy_from_slice(&input[at..at + n]);
                    at += n;
                    conn.received(n, now);
                }
                Action::Transmit { bytes, body_from } => {
                    output.extend_from_slice(bytes);
                    let mut n = bytes.len();
                    if let Some(from) = body_from {
                        output.extend_from_slice(&body_buf[from..body_len]);
                        n += body_len - from;
                    }
                    conn.transmitted(n, now);
                }
                Action::Close => conn.closed(),
                Action::Done(result) => {
                    break match result.unwrap() {
                        Completion::Data(d) => {
                            echo[echo_len..echo_len + d.len()].copy_from_slice(d);
                            echo_len += d.len();
                            let n = d.len();
                            conn.consume(n);
                            1
                        }
                        Completion::EndOfBody => 2,
                        Completion::Closed => break 'serve,
                        _ => 0,
                    };
                }
            }
        };
        let _ = done;
        let Some(req) = conn.request() else { continue };
        let path = req.path();
        if path == "/hello" {
            body_buf[..12].copy_from_slice(b"Hello World!");
            body_len = 12;
            conn.send(&Response::default(), &body_buf[..body_len]).unwrap();
        } else if path == "/echo" {
            echo_len = 0;
            loop {
                conn.read_body().unwrap();
                let step = loop {
                    match conn.poll(now) {
                        Action::Receive(buf) => {
                            let n = buf.len().min(100).min(input.len() - at);
                            buf[..n].copy_from_slice(&input[at..at + n]);
                            at += n;
                            conn.received(n, now);
                        }
                        Action::Done(Ok(Completion::Data(d))) => {
                            echo[echo_len..echo_len + d.len()].copy_from_slice(d);
                            echo_len += d.len();
                            let n = d.len();
                            conn.consume(n);
                            break false;
                        }
                        Action::Done(Ok(Completion::EndOfBody)) => break true,
                        other => panic!("{other:?}"),
                    }
                };
                if step {
                    break;
                }
            }
            body_buf[..echo_len].copy_from_slice(&echo[..echo_len]);
            body_len = echo_len;
            conn.send(&Response::default(), &body_buf[..body_len]).unwrap();
        } else {
            body_buf[..5].copy_from_slice(b"chunk");
            body_len = 5;
            conn.send_chunk(&Response::default(), &body_buf[..body_len]).unwrap();
        }
        // Flush the send.
        loop {
            match conn.poll(now) {
                Action::Transmit { bytes, body_from } => {
                    output.extend_from_slice(bytes);
                    let mut n = bytes.len();
                    if let Some(from) = body_from {
                        output.extend_from_slice(&body_buf[from..body_len]);
                        n += body_len - from;
                    }
                    conn.transmitted(n, now);
                }
                Action::Done(Ok(Completion::Sent)) => break,
                other => panic!("{other:?}"),
            }
        }
        conn.finish(HandlerOutcome::Ok).unwrap();
        served += 1;
    }
    let allocations = dhat::HeapStats::get().total_blocks - before;

    assert_eq!(served, 3 * rounds);
    let text = String::from_utf8(output).unwrap();
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 3 * rounds);
    assert_eq!(text.matches("\r\n\r\nhello world").count(), rounds);
    assert_eq!(text.matches("5\r\nchunk\r\n0\r\n\r\n").count(), rounds);
    assert_eq!(allocations, 0, "the server engine allocated");
}

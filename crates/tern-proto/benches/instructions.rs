//! Instruction counts under callgrind (gungraun): tern against its bare peers on the same
//! bytes, and one warm keep-alive exchange through each engine.
//!
//! - Request and response head parsing: tern (the parse alone, `tern_head_only`, and then
//!   with the body-length decision) against bare httparse, the inputs of the `heads` bench.
//! - Chunked decoding of 64 KiB in chunks of 1 KiB and 16 bytes: tern's `ChunkedDecoder`
//!   against the `memchr` baseline of the `chunked` bench.
//! - `server_cycle`: a server `Connection` that already served one request on the
//!   connection receives the browser GET of the head benches (in one read), the handler
//!   answers 12 bytes, the engine transmits and finishes.
//! - `client_cycle`: a connected `Client` that already performed one request performs a
//!   GET and reads the response of the head benches with its 1234-byte body.
//!
//! Setup (building engines, the warm-up exchange, building bodies) runs outside the counted
//! function. Needs valgrind and `gungraun-runner` of the same version as the `gungraun`
//! crate: `cargo install gungraun-runner --version 0.20.0 --locked`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod inputs;

use gungraun::{library_benchmark, library_benchmark_group, main};
use inputs::{REQUEST, RESPONSE, SLOTS, chunked_body, drive_bare, drive_tern};
use std::hint::black_box;
use tern_proto::body::{request_body, response_body};
use tern_proto::client::{self, Client, ClientConfig, NoEvents};
use tern_proto::server::{self, Connection, HandlerOutcome, Response, ServerConfig, SessionId};
use tern_proto::{EMPTY_SLOT, Instant, Limits, Method, RequestHead, ResponseHead};

#[library_benchmark]
fn request_head_httparse() -> usize {
    let mut slots = [httparse::EMPTY_HEADER; SLOTS];
    let mut req = httparse::Request::new(&mut slots);
    let n = req.parse(black_box(REQUEST)).unwrap().unwrap();
    black_box((req.method, req.path, req.headers.len()));
    n
}

#[library_benchmark]
fn request_head_tern_head_only() -> usize {
    let limits = Limits { max_header_section_len: 4096, ..Limits::default() };
    let mut slots = [EMPTY_SLOT; SLOTS];
    let (head, n) = RequestHead::parse(black_box(REQUEST), &mut slots, &limits).unwrap().complete().unwrap();
    black_box((head.method, head.target, head.headers.len()));
    n
}

#[library_benchmark]
fn request_head_tern() -> usize {
    let limits = Limits { max_header_section_len: 4096, ..Limits::default() };
    let mut slots = [EMPTY_SLOT; SLOTS];
    let (head, n) = RequestHead::parse(black_box(REQUEST), &mut slots, &limits).unwrap().complete().unwrap();
    let body = request_body(&head, &limits).unwrap();
    black_box((head.method, head.target, head.headers.len(), body));
    n
}

#[library_benchmark]
fn response_head_httparse() -> usize {
    let mut slots = [httparse::EMPTY_HEADER; SLOTS];
    let mut res = httparse::Response::new(&mut slots);
    let n = res.parse(black_box(RESPONSE)).unwrap().unwrap();
    black_box((res.code, res.reason, res.headers.len()));
    n
}

#[library_benchmark]
fn response_head_tern_head_only() -> usize {
    let limits = Limits::default();
    let mut slots = [EMPTY_SLOT; SLOTS];
    let (head, n) = ResponseHead::parse(black_box(RESPONSE), &mut slots, &limits).unwrap().complete().unwrap();
    black_box((head.status, head.reason, head.headers.len()));
    n
}

#[library_benchmark]
fn response_head_tern() -> usize {
    let limits = Limits::default();
    let mut slots = [EMPTY_SLOT; SLOTS];
    let (head, n) = ResponseHead::parse(black_box(RESPONSE), &mut slots, &limits).unwrap().complete().unwrap();
    let body = response_body(&Method::Get, &head, &limits).unwrap();
    black_box((head.status, head.reason, head.headers.len(), body));
    n
}

library_benchmark_group!(
    name = heads,
    benchmarks = [
        request_head_httparse,
        request_head_tern_head_only,
        request_head_tern,
        response_head_httparse,
        response_head_tern_head_only,
        response_head_tern
    ]
);

#[library_benchmark]
#[bench::chunks_1k(chunked_body(1024))]
#[bench::chunks_16(chunked_body(16))]
fn chunked_memchr(body: Vec<u8>) -> Vec<u8> {
    let n = drive_bare(black_box(&body), |d| _ = black_box(d));
    assert_eq!(n, inputs::CHUNKED_BODY_LEN);
    body
}

#[library_benchmark]
#[bench::chunks_1k(chunked_body(1024))]
#[bench::chunks_16(chunked_body(16))]
fn chunked_tern(body: Vec<u8>) -> Vec<u8> {
    let n = drive_tern(black_box(&body), &Limits::default(), |d| _ = black_box(d));
    assert_eq!(n, inputs::CHUNKED_BODY_LEN);
    body
}

library_benchmark_group!(name = chunked, benchmarks = [chunked_memchr, chunked_tern]);

/// What the handler answers.
const HELLO: &[u8] = b"Hello World!";

type Server = Connection<Vec<u8>>;

/// Serves one `REQUEST` on `conn`: one read, the handler's 12-byte answer, the transmit and
/// the finish. Returns the bytes transmitted.
fn serve_one(conn: &mut Server) -> usize {
    let now = Instant::from_millis(0);
    let mut at = 0;
    loop {
        match conn.poll(now) {
            server::Action::Receive(buf) => {
                let n = buf.len().min(REQUEST.len() - at);
                buf[..n].copy_from_slice(&REQUEST[at..at + n]);
                at += n;
                conn.received(n, now);
            }
            server::Action::Done(Ok(server::Completion::Request)) => break,
            other => panic!("{other:?}"),
        }
    }
    black_box(conn.request().unwrap().path());
    conn.send(&Response::default(), HELLO).unwrap();
    let mut sent = 0;
    loop {
        match conn.poll(now) {
            server::Action::Transmit { bytes, body_from } => {
                let n = bytes.len() + body_from.map_or(0, |from| HELLO.len() - from);
                black_box(bytes);
                sent += n;
                conn.transmitted(n, now);
            }
            server::Action::Done(Ok(server::Completion::Sent)) => break,
            other => panic!("{other:?}"),
        }
    }
    conn.finish(HandlerOutcome::Ok).unwrap();
    sent
}

/// A server connection that has served one request and waits for the next.
fn warm_server() -> Server {
    let config = ServerConfig::default();
    let mut conn = Connection::new(vec![0u8; config.buffer_len()], config, SessionId(1)).unwrap();
    assert!(serve_one(&mut conn) > HELLO.len());
    conn
}

#[library_benchmark]
#[bench::keep_alive(warm_server())]
fn server_cycle(mut conn: Server) -> Server {
    black_box(serve_one(&mut conn));
    conn
}

type TernClient = Client<'static, Vec<u8>, NoEvents>;

/// A client and the response its peer sends: `RESPONSE` and its 1234-byte body.
struct ClientSide {
    client: TernClient,
    response: Vec<u8>,
}

/// One `perform` on `side.client`, the peer answering with `side.response` in reads as
/// large as the client offers. Returns the bytes the client transmitted.
fn perform_one(side: &mut ClientSide) -> usize {
    let now = Instant::from_millis(0);
    let client = &mut side.client;
    client.perform(now).unwrap();
    let mut at = 0;
    let mut sent = 0;
    loop {
        match client.poll(now) {
            client::Action::Connect(_) => client.connected(now),
            client::Action::Transmit(parts) => {
                let n = parts[0].len() + parts[1].len();
                black_box(parts);
                sent += n;
                client.transmitted(n, now);
            }
            client::Action::Receive(buf) => {
                let n = buf.len().min(side.response.len() - at);
                buf[..n].copy_from_slice(&side.response[at..at + n]);
                at += n;
                client.received(n, now);
            }
            client::Action::Done(Ok(client::Completion::Finished)) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(at, side.response.len());
    sent
}

/// A client connected to its peer, having performed one request.
fn warm_client() -> ClientSide {
    let config = ClientConfig { url: Some("http://esp32.local/api/v1/status"), ..ClientConfig::default() };
    let client = Client::new(&config, vec![0u8; config.buffer_len()], NoEvents).unwrap();
    let mut response = RESPONSE.to_vec();
    response.extend(std::iter::repeat_n(b'x', 1234));
    let mut side = ClientSide { client, response };
    assert!(perform_one(&mut side) > 0);
    assert_eq!(side.client.connects(), 1);
    side
}

#[library_benchmark]
#[bench::keep_alive(warm_client())]
fn client_cycle(mut side: ClientSide) -> ClientSide {
    black_box(perform_one(&mut side));
    side
}

library_benchmark_group!(name = engines, benchmarks = [server_cycle, client_cycle]);

main!(library_benchmark_groups = heads, chunked, engines);

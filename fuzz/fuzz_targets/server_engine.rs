//! The server connection engine (`tern_proto::server::Connection`) driven through its sans-IO
//! loop, with the fuzz input as the client's bytes.
//!
//! Input: byte 0 picks the config (bit 0: tiny limits and buffers; bit 1: chunked requests
//! refused; bit 2: keep-alive off) and the handler (bits 3-5: read everything and echo it, read
//! 5 bytes, answer without reading, answer in chunks, send_err, fail, routed through a
//! `Router` with a WebSocket route at `/ws` whose frames are echoed, or an error handler that
//! keeps the session); byte 1 how the bytes are cut into reads (0: one
//! byte at a time, else pseudo-random pieces up to `byte 1 % 64 + 1`); byte 2 how many bytes
//! each transmit accepts (0: all); the rest is what the client sends, then it closes its side.
//!
//! Checked: no panic; every operation ends within a bounded number of steps; no `Receive`
//! into an empty buffer and no empty `Transmit`; a session waiting for input has a deadline;
//! the session always ends closed; the output is a sequence of well-formed HTTP/1.1 responses
//! (`ResponseHead::parse`), each framed so that the next one starts where it ends; and the same
//! requests, bodies and output (less any `100 Continue`) whether the bytes come whole or cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::body::{BodyKind, response_body};
use tern_proto::chunked::{ChunkedDecoder, Decoded};
use tern_proto::server::uri::UriMatch;
use tern_proto::server::{
    Action, Completion, Connection, Dispatch, HandlerOutcome, HttpdErrCode, Response, Route, RouteSlot, Router,
    ServerConfig, ServerError, SessionId,
};
use tern_proto::{EMPTY_SLOT, Instant, Limits, Method, Parse, ResponseHead};

/// Most steps one operation may take per input byte (plus a constant).
const STEPS_PER_BYTE: usize = 8;

/// What the handlers saw.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Request(String, String, bool),
    Body(Vec<u8>),
    Trailer(String, Vec<u8>),
    BodyError(ServerError),
    Refused(HttpdErrCode),
    Upgraded,
    Frame(u8, bool, u64),
}

struct Client<'a> {
    input: &'a [u8],
    at: usize,
    split: Option<u64>,
    tx_limit: usize,
    output: Vec<u8>,
    body: Vec<u8>,
    now: u64,
    closed: bool,
    steps: usize,
    max_steps: usize,
}

impl Client<'_> {
    fn next_read(&mut self) -> usize {
        match self.split {
            None => usize::MAX,
            Some(0) => 1,
            Some(ref mut state) => {
                *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((*state >> 33) % 64 + 1) as usize
            }
        }
    }
}

fn drive(conn: &mut Connection<Vec<u8>>, c: &mut Client<'_>) -> Result<Completion<'static>, ServerError> {
    loop {
        c.steps += 1;
        assert!(c.steps < c.max_steps, "the engine does not finish");
        let now = Instant::from_millis(c.now);
        match conn.poll(now) {
            Action::Receive(buf) => {
                assert!(!c.closed, "receive after close");
                assert!(!buf.is_empty(), "receive into an empty buffer");
                if c.at < c.input.len() {
                    let n = buf.len().min(c.next_read()).min(c.input.len() - c.at);
                    buf[..n].copy_from_slice(&c.input[c.at..c.at + n]);
                    c.at += n;
                    conn.received(n, now);
                } else {
                    conn.received(0, now);
                }
            }
            Action::Transmit { bytes, body_from } => {
                assert!(!c.closed, "transmit after close");
                let mut all = bytes.to_vec();
                if let Some(from) = body_from {
                    all.extend_from_slice(&c.body[from..]);
                }
                assert!(!all.is_empty(), "empty transmit");
                let n = if c.tx_limit == 0 { all.len() } else { all.len().min(c.tx_limit) };
                c.output.extend_from_slice(&all[..n]);
                conn.transmitted(n, now);
            }
            Action::Close => {
                assert!(!c.closed, "closed twice");
                c.closed = true;
                conn.closed();
            }
            Action::Done(result) => {
                return result.map(|done| match done {
                    Completion::Data(d) => {
                        // The caller copies what it keeps; hand it back owned through `body`.
                        c.body = d.to_vec();
                        Completion::Data(&[])
                    }
                    Completion::Trailer { name, value } => {
                        c.body = [name.as_bytes(), b":", value].concat();
                        Completion::Trailer { name: "", value: &[] }
                    }
                    Completion::Request => Completion::Request,
                    Completion::Frame(info) => Completion::Frame(info),
                    Completion::Error(code) => Completion::Error(code),
                    Completion::EndOfBody => Completion::EndOfBody,
                    Completion::Sent => Completion::Sent,
                    Completion::Closed => Completion::Closed,
                });
            }
        }
    }
}

fn send(conn: &mut Connection<Vec<u8>>, c: &mut Client<'_>, body: &[u8], chunk: Option<bool>) {
    c.body = body.to_vec();
    let started = match chunk {
        None => conn.send(&Response::default(), body),
        Some(_) => conn.send_chunk(&Response::default(), body),
    };
    if started.is_ok() {
        let _ = drive(conn, c);
    }
}

fn handle(conn: &mut Connection<Vec<u8>>, c: &mut Client<'_>, handler: u8, seen: &mut Vec<Seen>) -> HandlerOutcome {
    match handler {
        0 | 1 => {
            let mut body = Vec::new();
            loop {
                if conn.read_body().is_err() {
                    break;
                }
                match drive(conn, c) {
                    Ok(Completion::Data(_)) => {
                        let mut take = c.body.len().min(7);
                        if handler == 1 {
                            take = take.min(5 - body.len());
                        }
                        conn.consume(take);
                        body.extend_from_slice(&c.body[..take]);
                        if handler == 1 && body.len() == 5 {
                            break;
                        }
                    }
                    Ok(Completion::Trailer { .. }) => seen.push(Seen::Trailer(String::new(), c.body.clone())),
                    Ok(_) => break,
                    Err(e) => {
                        seen.push(Seen::BodyError(e));
                        return HandlerOutcome::Ok;
                    }
                }
            }
            seen.push(Seen::Body(body.clone()));
            send(conn, c, &body, None);
            HandlerOutcome::Ok
        }
        2 => {
            send(conn, c, b"not read", None);
            HandlerOutcome::Ok
        }
        3 => {
            send(conn, c, b"one", Some(true));
            send(conn, c, b"two", Some(true));
            HandlerOutcome::Ok
        }
        4 => {
            if conn.send_err(HttpdErrCode::NotFound, None).is_ok() {
                let _ = drive(conn, c);
            }
            HandlerOutcome::Ok
        }
        5 => HandlerOutcome::Fail,
        _ => HandlerOutcome::Ok,
    }
}

/// Serves the whole input; returns what the handlers saw, the output, the HEAD flags and
/// where the HTTP part of the output ends (before a 101).
fn serve(
    config: ServerConfig,
    handler: u8,
    input: &[u8],
    split: Option<u64>,
    tx_limit: usize,
) -> (Vec<Seen>, Vec<u8>, Vec<bool>, usize) {
    let mut conn = Connection::new(vec![0u8; config.buffer_len()], config, SessionId(1)).unwrap();
    let mut c = Client {
        input,
        at: 0,
        split,
        tx_limit,
        output: Vec::new(),
        body: Vec::new(),
        now: 0,
        closed: false,
        steps: 0,
        max_steps: 1000 + input.len() * STEPS_PER_BYTE * 4,
    };
    let mut seen = Vec::new();
    let mut heads = Vec::new();
    let mut websocket = false;
    let mut router: Router<&str, u8, [RouteSlot<&str, u8>; 2]> = Router::new([None, None], UriMatch::Exact);
    router.register(Route::new("/ws", Method::Get, 1).websocket(true).subprotocols(&["chat"])).expect("a route");
    router.register(Route::new("/", Method::Get, 2)).expect("a route");
    loop {
        match drive(&mut conn, &mut c) {
            Ok(Completion::Request) => {
                let req = conn.request().expect("a request to read");
                let is_head = req.method() == Method::Head;
                seen.push(Seen::Request(req.method().as_str().to_owned(), req.uri().to_owned(), is_head));
                heads.push(is_head);
                if handler == 6 {
                    // Routed: a WebSocket route at /ws (frames echoed), anything else 404/405/501.
                    match conn.route(&router) {
                        Dispatch::WebSocket(_) => {
                            seen.push(Seen::Upgraded);
                            // The frames after a 101 are not HTTP responses.
                            websocket = true;
                        }
                        Dispatch::Answered => {}
                        Dispatch::Refused(code) => conn.reject(code).expect("reject a refusal"),
                        Dispatch::Handler(_) => {
                            let outcome = handle(&mut conn, &mut c, 2, &mut seen);
                            conn.finish(outcome).expect("finish after a handler");
                        }
                    }
                    continue;
                }
                let outcome = handle(&mut conn, &mut c, handler, &mut seen);
                conn.finish(outcome).expect("finish after a handler");
            }
            Ok(Completion::Frame(info)) => {
                seen.push(Seen::Frame(info.opcode.bits(), info.fin, info.payload_len));
                let mut payload = Vec::new();
                loop {
                    if conn.read_body().is_err() {
                        break;
                    }
                    match drive(&mut conn, &mut c) {
                        Ok(Completion::Data(_)) => {
                            conn.consume(c.body.len());
                            payload.extend_from_slice(&c.body);
                        }
                        Ok(_) => break,
                        Err(e) => {
                            seen.push(Seen::BodyError(e));
                            break;
                        }
                    }
                }
                assert!(payload.len() as u64 <= info.payload_len);
                c.body = payload.clone();
                if conn.ws_send(info.opcode, info.fin, &payload).is_ok() {
                    let _ = drive(&mut conn, &mut c);
                }
                conn.finish(HandlerOutcome::Ok).expect("finish after a frame");
            }
            Ok(Completion::Error(code)) => {
                seen.push(Seen::Refused(code));
                // A request refused after its head was read (a missing Host, bad framing) is
                // still a HEAD when it was one: its error response has no body.
                heads.push(conn.answers_head());
                if handler == 7 {
                    // An error handler that answers and asks to keep the session.
                    if conn.send_err(code, Some("custom")).is_ok() {
                        let _ = drive(&mut conn, &mut c);
                    }
                    conn.finish(HandlerOutcome::Ok).expect("finish after an error handler");
                } else {
                    conn.reject(code).expect("reject a refusal");
                }
            }
            Ok(Completion::Closed) => break,
            other => panic!("unexpected {other:?} between requests"),
        }
    }
    assert!(c.closed && conn.is_closed());
    if websocket {
        // Only the HTTP part before the 101 is checked as responses.
        let end = c.output.windows(32).position(|w| w.starts_with(b"HTTP/1.1 101 ")).unwrap_or(c.output.len());
        heads.truncate(0);
        return (seen, c.output, heads, end);
    }
    let end = c.output.len();
    (seen, c.output, heads, end)
}

/// Checks the output is a sequence of well-formed responses; returns how many.
fn check_responses(mut output: &[u8], heads: &[bool]) -> usize {
    let limits = Limits { max_header_section_len: 64 * 1024, ..Limits::default() };
    let mut count = 0;
    let mut final_index = 0;
    while !output.is_empty() {
        let mut slots = [EMPTY_SLOT; 64];
        let Ok(Parse::Complete((head, len))) = ResponseHead::parse(output, &mut slots, &limits) else {
            panic!("malformed response: {:?}", String::from_utf8_lossy(output));
        };
        let interim = head.status.as_u16() < 200;
        let is_head = !interim && heads.get(final_index).copied().unwrap_or(false);
        let method = if is_head { Method::Head } else { Method::Get };
        let kind = response_body(&method, &head, &limits).expect("response framing");
        output = &output[len..];
        match kind {
            BodyKind::None => {}
            BodyKind::Length(n) => output = &output[n as usize..],
            BodyKind::Chunked => {
                let mut d = ChunkedDecoder::new(&limits);
                loop {
                    let (n, ev) = d.decode(output).expect("chunked response");
                    output = &output[n..];
                    match ev {
                        Decoded::End => break,
                        Decoded::NeedMore if n == 0 => panic!("unterminated chunked response"),
                        _ => {}
                    }
                }
            }
            BodyKind::CloseDelimited => output = &[],
        }
        if !interim {
            final_index += 1;
        }
        count += 1;
    }
    count
}

fn strip_continue(output: &[u8]) -> Vec<u8> {
    const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut out = Vec::new();
    let mut rest = output;
    while !rest.is_empty() {
        if rest.starts_with(CONTINUE) {
            rest = &rest[CONTINUE.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [flags, split, tx, input @ ..] = data else {
        return;
    };
    let mut config = ServerConfig::default();
    if flags & 1 != 0 {
        config.limits = Limits { max_target_len: 16, max_header_section_len: 128, ..Limits::default() };
        config.body_window = 64;
        config.tx_buffer_size = 256;
        config.max_discard_len = 20;
    }
    config.chunked_requests = flags & 2 == 0;
    config.keep_alive = flags & 4 == 0;
    let handler = (flags >> 3) & 7;
    let split = match split {
        0 => Some(0),
        s => Some(u64::from(*s)),
    };
    let tx_limit = usize::from(*tx);
    let (seen, output, heads, http_end) = serve(config, handler, input, None, 0);
    if http_end == output.len() {
        check_responses(&output, &heads);
    }
    let (seen_split, output_split, _, _) = serve(config, handler, input, split, tx_limit);
    assert_eq!(seen, seen_split, "a different split changed what the handlers saw");
    assert_eq!(strip_continue(&output), strip_continue(&output_split), "a different split changed the output");
});

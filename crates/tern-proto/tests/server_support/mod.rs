//! A scripted client for driving the server connection engine in tests: request bytes fed in
//! pieces of a chosen size, released now, once the server's output holds a marker, or at a
//! time on a simulated clock.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::VecDeque;

use tern_proto::Instant;
use tern_proto::server::{
    Action, Completion, Connection, HandlerOutcome, HttpdErrCode, Response, ServerConfig, ServerError, SessionId,
};

/// When a piece of client input is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// At once.
    Now,
    /// Once the server's output contains this text.
    Output(String),
    /// Once the simulated clock reaches this many milliseconds.
    At(u64),
}

/// An owned completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Request,
    Frame(tern_proto::ws::FrameInfo),
    Error(HttpdErrCode),
    Data(Vec<u8>),
    Trailer(String, Vec<u8>),
    EndOfBody,
    Sent,
    Closed,
}

/// The client's side of one connection.
#[derive(Debug)]
pub struct Wire {
    pub pending: VecDeque<(Gate, Vec<u8>)>,
    /// Bytes released and not yet read by the server.
    pub ready: VecDeque<u8>,
    /// The client closes its side once every piece was read.
    pub eof_at_end: bool,
    /// Most bytes per receive and per transmit.
    pub io: usize,
    /// Everything the server wrote.
    pub output: Vec<u8>,
    pub now: u64,
    pub closed: bool,
    /// The body of the last send call, as the adapter keeps it.
    pub body: Vec<u8>,
    /// Transmits refused from this many output bytes on (a vanished client).
    pub stall_writes_at: Option<usize>,
    /// Read sizes, used in turn (each capped by `io`); empty: `io` alone.
    pub sizes: Vec<usize>,
    pub next_size: usize,
}

impl Wire {
    pub fn new(input: &[u8]) -> Wire {
        Wire {
            pending: VecDeque::from([(Gate::Now, input.to_vec())]),
            ready: VecDeque::new(),
            eof_at_end: true,
            io: usize::MAX,
            output: Vec::new(),
            now: 0,
            closed: false,
            body: Vec::new(),
            stall_writes_at: None,
            sizes: Vec::new(),
            next_size: 0,
        }
    }
    /// Input that stays open after the scripted bytes (the client waits).
    pub fn open(input: &[u8]) -> Wire {
        Wire { eof_at_end: false, ..Wire::new(input) }
    }
    pub fn io(mut self, n: usize) -> Wire {
        self.io = n;
        self
    }
    pub fn then(mut self, gate: Gate, bytes: &[u8]) -> Wire {
        self.pending.push_back((gate, bytes.to_vec()));
        self
    }
    pub fn output_str(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
    fn release(&mut self) {
        while let Some((gate, _)) = self.pending.front() {
            let open = match gate {
                Gate::Now => true,
                Gate::Output(text) => self.output_str().contains(text.as_str()),
                Gate::At(t) => self.now >= *t,
            };
            if !open {
                break;
            }
            let (_, bytes) = self.pending.pop_front().unwrap();
            self.ready.extend(bytes);
        }
    }
    fn next_time(&self) -> Option<u64> {
        match self.pending.front() {
            Some((Gate::At(t), _)) => Some(*t),
            _ => None,
        }
    }
}

/// The default config with short timeouts, so timeouts are easy to reason about.
pub fn config() -> ServerConfig {
    ServerConfig::default()
}

pub fn connection(config: ServerConfig) -> Connection<Vec<u8>> {
    Connection::new(vec![0u8; config.buffer_len()], config, SessionId(7)).unwrap()
}

/// Runs the loop until the current operation is done.
pub fn drive(conn: &mut Connection<Vec<u8>>, wire: &mut Wire) -> Result<Got, ServerError> {
    for _ in 0..1_000_000 {
        wire.release();
        let now = Instant::from_millis(wire.now);
        match conn.poll(now) {
            Action::Receive(buf) => {
                assert!(!wire.closed, "receive after close");
                if !wire.ready.is_empty() {
                    let mut io = wire.io;
                    if !wire.sizes.is_empty() {
                        io = io.min(wire.sizes[wire.next_size % wire.sizes.len()].max(1));
                        wire.next_size += 1;
                    }
                    let n = buf.len().min(io).min(wire.ready.len());
                    assert!(n > 0, "the engine asked to receive into an empty buffer");
                    for (i, b) in wire.ready.drain(..n).enumerate() {
                        buf[i] = b;
                    }
                    conn.received(n, now);
                    continue;
                }
                if wire.pending.is_empty() && wire.eof_at_end {
                    conn.received(0, now);
                    continue;
                }
                // Nothing to read: time passes, to the next release or the deadline.
                let deadline = conn.deadline().map(|d| d.as_millis());
                let next = match (wire.next_time(), deadline) {
                    (Some(a), Some(b)) => a.min(b),
                    (a, b) => a.or(b).expect("the engine waits for input with no deadline: it would hang"),
                };
                wire.now = wire.now.max(next);
                conn.handle_timeout(Instant::from_millis(wire.now));
            }
            Action::Transmit { bytes, body_from } => {
                assert!(!wire.closed, "transmit after close");
                let mut all = bytes.to_vec();
                if let Some(from) = body_from {
                    all.extend_from_slice(&wire.body[from..]);
                }
                assert!(!all.is_empty(), "empty transmit");
                if wire.stall_writes_at.is_some_and(|at| wire.output.len() >= at) {
                    let deadline = conn.deadline().expect("a stalled write needs a deadline").as_millis();
                    wire.now = wire.now.max(deadline);
                    conn.handle_timeout(Instant::from_millis(wire.now));
                    continue;
                }
                let n = all.len().min(wire.io);
                wire.output.extend_from_slice(&all[..n]);
                conn.transmitted(n, now);
            }
            Action::Close => {
                wire.closed = true;
                conn.closed();
            }
            Action::Done(result) => {
                return result.map(|c| match c {
                    Completion::Request => Got::Request,
                    Completion::Frame(info) => Got::Frame(info),
                    Completion::Error(code) => Got::Error(code),
                    Completion::Data(d) => Got::Data(d.to_vec()),
                    Completion::Trailer { name, value } => Got::Trailer(name.to_owned(), value.to_vec()),
                    Completion::EndOfBody => Got::EndOfBody,
                    Completion::Sent => Got::Sent,
                    Completion::Closed => Got::Closed,
                });
            }
        }
    }
    panic!("the engine did not finish an operation in a million steps");
}

/// A handler's view: the engine and the wire, with blocking-style calls.
pub struct Ctx<'a> {
    pub conn: &'a mut Connection<Vec<u8>>,
    pub wire: &'a mut Wire,
}

impl Ctx<'_> {
    /// The handler spends time without touching the engine: the clock moves to `ms`.
    pub fn wait_until(&mut self, ms: u64) {
        self.wire.now = self.wire.now.max(ms);
    }
    /// Reads the whole body (data only; trailers are collected separately).
    pub fn read_all(&mut self) -> Result<Vec<u8>, ServerError> {
        let mut body = Vec::new();
        loop {
            self.conn.read_body()?;
            match drive(self.conn, self.wire)? {
                Got::Data(d) => {
                    self.conn.consume(d.len());
                    body.extend(d);
                }
                Got::Trailer(..) => {}
                Got::EndOfBody => return Ok(body),
                other => panic!("unexpected {other:?} while reading a body"),
            }
        }
    }
    /// Reads at most `n` bytes of body (one piece).
    pub fn read_some(&mut self, n: usize) -> Result<Vec<u8>, ServerError> {
        self.conn.read_body()?;
        match drive(self.conn, self.wire)? {
            Got::Data(d) => {
                let take = d.len().min(n);
                self.conn.consume(take);
                Ok(d[..take].to_vec())
            }
            Got::EndOfBody => Ok(Vec::new()),
            other => panic!("unexpected {other:?}"),
        }
    }
    pub fn send(&mut self, resp: &Response<'_>, body: &[u8]) -> Result<(), ServerError> {
        self.wire.body = body.to_vec();
        self.conn.send(resp, body)?;
        assert_eq!(drive(self.conn, self.wire)?, Got::Sent);
        Ok(())
    }
    pub fn send_chunk(&mut self, resp: &Response<'_>, data: &[u8]) -> Result<(), ServerError> {
        self.wire.body = data.to_vec();
        self.conn.send_chunk(resp, data)?;
        assert_eq!(drive(self.conn, self.wire)?, Got::Sent);
        Ok(())
    }
    pub fn send_err(&mut self, code: HttpdErrCode, msg: Option<&str>) -> Result<(), ServerError> {
        self.conn.send_err(code, msg)?;
        assert_eq!(drive(self.conn, self.wire)?, Got::Sent);
        Ok(())
    }
    pub fn path(&self) -> String {
        self.conn.request().unwrap().path().to_owned()
    }
}

/// What a served connection did.
#[derive(Debug)]
pub struct Served {
    /// The output as text (lossy).
    pub output: String,
    /// The output as sent.
    pub raw: Vec<u8>,
    pub errors: Vec<HttpdErrCode>,
    pub requests: usize,
    pub closed: bool,
    pub now: u64,
}

/// Serves a connection to its end: `handler` for each request, the default answer for each
/// refusal.
pub fn serve_with(
    config: ServerConfig,
    mut wire: Wire,
    mut handler: impl FnMut(&mut Ctx<'_>) -> HandlerOutcome,
) -> Served {
    let mut conn = connection(config);
    let mut errors = Vec::new();
    let mut requests = 0;
    loop {
        match drive(&mut conn, &mut wire).unwrap() {
            Got::Request => {
                requests += 1;
                let outcome = handler(&mut Ctx { conn: &mut conn, wire: &mut wire });
                conn.finish(outcome).unwrap();
            }
            Got::Error(code) => {
                errors.push(code);
                conn.reject(code).unwrap();
            }
            Got::Closed => break,
            other => panic!("unexpected {other:?} between requests"),
        }
    }
    Served { output: wire.output_str(), raw: wire.output.clone(), errors, requests, closed: wire.closed, now: wire.now }
}

/// Serves with a handler that echoes the method, path and body.
pub fn serve(input: &[u8]) -> Served {
    serve_with(config(), Wire::new(input), echo)
}

pub fn echo(ctx: &mut Ctx<'_>) -> HandlerOutcome {
    let body = ctx.read_all();
    let Ok(body) = body else {
        return HandlerOutcome::Ok; // the engine answers with the body error's status
    };
    let req = ctx.conn.request().unwrap();
    let mut text = format!("{} {} ", req.method().as_str(), req.path()).into_bytes();
    text.extend(body);
    ctx.send(&Response { content_type: "text/plain", ..Response::default() }, &text).unwrap();
    HandlerOutcome::Ok
}

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resp {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Splits the server's output into responses (bodies by Content-Length, chunked, or to the
/// end; `head_only[i]` marks a response to HEAD). Panics on anything malformed.
pub fn responses_with(output: &[u8], head_only: &[bool]) -> Vec<Resp> {
    let mut out = Vec::new();
    let mut rest = output;
    while !rest.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut r = httparse::Response::new(&mut headers);
        let n = match r.parse(rest).expect("a well-formed response head") {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("incomplete response head: {:?}", String::from_utf8_lossy(rest)),
        };
        let status = r.code.unwrap();
        let reason = r.reason.unwrap().to_owned();
        let headers: Vec<(String, String)> =
            r.headers.iter().map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned())).collect();
        rest = &rest[n..];
        let find = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let no_body =
            head_only.get(out.len()).copied().unwrap_or(false) || status == 204 || status == 304 || status < 200;
        let body = if no_body {
            Vec::new()
        } else if let Some(len) = find("content-length") {
            let len: usize = len.parse().unwrap();
            let body = rest[..len].to_vec();
            rest = &rest[len..];
            body
        } else if find("transfer-encoding").is_some() {
            let (body, used) = dechunk(rest).expect("a complete chunked body");
            rest = &rest[used..];
            body
        } else {
            let body = rest.to_vec();
            rest = &[];
            body
        };
        out.push(Resp { status, reason, headers, body });
    }
    out
}

pub fn responses(output: &str) -> Vec<Resp> {
    responses_with(output.as_bytes(), &[])
}

/// The status codes of every response in `output`, in order.
pub fn statuses(output: &str) -> Vec<u16> {
    responses(output).iter().map(|r| r.status).collect()
}

/// Decodes a chunked body: the data and how many bytes it took.
pub fn dechunk(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = input[at..].windows(2).position(|w| w == b"\r\n")? + at;
        let size =
            usize::from_str_radix(std::str::from_utf8(&input[at..line_end]).ok()?.split(';').next()?, 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailers until the empty line.
            loop {
                let end = input[at..].windows(2).position(|w| w == b"\r\n")? + at;
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Some((body, at));
                }
            }
        }
        body.extend_from_slice(input.get(at..at + size)?);
        at += size + 2;
    }
}

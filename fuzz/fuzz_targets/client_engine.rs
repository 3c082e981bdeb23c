//! The client engine (`tern_proto::client::Client`) driven through its sans-IO loop, with the
//! fuzz input as the server's bytes.
//!
//! Input: byte 0 picks the flow (bits 0-1) and the request (bits 2-3); byte 1 how the server's
//! bytes are cut into reads (0: one byte at a time, else pieces of pseudo-random sizes up to
//! `byte 1 % 64 + 1`); byte 2 how many bytes each transmit accepts (0: all); the rest is the
//! server's bytes, one part per connection, parts separated by `FF FF FF` (at most three
//! connections; a further connect is refused). Each part is sent once the request head has
//! arrived, then the server closes, or goes silent when the part ends in `00`.
//!
//! The flows: `perform` with a client that never reuses a connection (it sends
//! `Connection: close`) and follows redirects and 401 challenges; `perform` on a keep-alive
//! connection following nothing; the streaming API (`open`, `write`, `fetch_headers`, `read`
//! consuming pseudo-random amounts); and `perform` keep-alive following everything.
//!
//! Checked: no panic; every operation ends within a bounded number of steps (a few per byte
//! moved, a few dozen per connection); no `Receive` into an empty buffer and no empty
//! `Transmit`; every request sent parses (`RequestHead::parse`, `request_body`); a client
//! waiting to receive has a deadline; the same events, body bytes (`OnData`, and what `read`
//! returned) and results whether the server's bytes come whole or cut into pieces (for the
//! keep-alive flows, up to the `Disconnected` at the end: a read that happened to take bytes
//! after the response is what makes the client close); and afterwards a good exchange on a
//! fresh connection succeeds.
#![no_main]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use tern_proto::body::{BodyKind, request_body};
use tern_proto::chunked::{ChunkedDecoder, Decoded};
use tern_proto::client::{
    Action, Client, ClientConfig, ClientError, Completion, Event, EventHandler, EventId, EventKind,
};
use tern_proto::{EMPTY_SLOT, Instant, Limits, Method, Parse, RequestHead};

const BASE: &str = "http://example.test/start";
const GOOD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nall is well.";
const POST: &[u8] = b"field=value&more=1";
/// Milliseconds the clock moves when the client waits with nothing to read.
const IDLE_STEP: u64 = 250;

// ----- events -------------------------------------------------------------------------------

/// One event, owned; consecutive `OnData` merged.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Status(u16),
    Header(String, Vec<u8>),
    Data(Vec<u8>),
    Error(ClientError),
    Redirect(u16),
    Other(EventId),
}

type Log = Rc<RefCell<Vec<Ev>>>;

fn recorder(log: &Log) -> impl FnMut(&Event<'_>) + 'static + use<> {
    let log = Rc::clone(log);
    move |event: &Event<'_>| {
        let mut log = log.borrow_mut();
        let ev = match event.kind {
            EventKind::OnData(data) => {
                if let Some(Ev::Data(previous)) = log.last_mut() {
                    previous.extend_from_slice(data);
                    return;
                }
                Ev::Data(data.to_vec())
            }
            EventKind::OnStatusCode(status) => Ev::Status(status.as_u16()),
            EventKind::OnHeader { name, value } => Ev::Header(name.to_owned(), value.to_vec()),
            EventKind::Error(error) => Ev::Error(error),
            EventKind::Redirect { status } => Ev::Redirect(status.as_u16()),
            other => Ev::Other(other.id()),
        };
        log.push(ev);
    }
}

fn without_disconnects(events: &[Ev]) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for e in events.iter().filter(|e| **e != Ev::Other(EventId::Disconnected)) {
        match (out.last_mut(), e) {
            (Some(Ev::Data(previous)), Ev::Data(more)) => previous.extend_from_slice(more),
            _ => out.push(e.clone()),
        }
    }
    out
}

fn data_of(events: &[Ev]) -> Vec<u8> {
    let data = events.iter().filter_map(|e| if let Ev::Data(d) = e { Some(d.as_slice()) } else { None });
    data.flatten().copied().collect()
}

/// An owned `Completion`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fin {
    Finished,
    HeadersSent,
    Written,
    Headers,
    Data(Vec<u8>),
    EndOfBody,
    Closed,
}

// ----- the server ---------------------------------------------------------------------------

/// One connection: bytes sent once the request head arrived, then EOF or silence.
#[derive(Debug, Clone)]
struct Script {
    bytes: Vec<u8>,
    close: bool,
}

/// Read sizes: `None` as much as the buffer takes; `Some(seed)` pseudo-random pieces.
#[derive(Debug, Clone, Copy)]
enum Split {
    Whole,
    Pieces(u8),
}

struct Live {
    script: Script,
    read: usize,
    heads: usize,
    hung_up: bool,
}

struct Server {
    scripts: VecDeque<Script>,
    split: Split,
    rng: u32,
    tx_io: usize,
    now: Instant,
    live: Option<Live>,
    sent: Vec<Vec<u8>>,
    steps: usize,
    moved: usize,
    connects: usize,
    closes: usize,
}

/// How many complete request heads `bytes` holds; panics if the client sent something that
/// is not HTTP/1.1.
fn request_heads(bytes: &[u8]) -> usize {
    let limits = Limits {
        max_method_len: 64,
        max_target_len: 1 << 16,
        max_header_section_len: 1 << 16,
        max_trailer_section_len: 1 << 16,
        ..Limits::default()
    };
    let mut heads = 0;
    let mut pos = 0;
    loop {
        let mut slots = [EMPTY_SLOT; 128];
        let input = &bytes[pos..];
        let (head, len) = match RequestHead::parse(input, &mut slots, &limits) {
            Ok(Parse::Partial) => return heads,
            Ok(Parse::Complete(done)) => done,
            Err(e) => panic!("the client sent a request that does not parse: {e:?} in {:?}", input.escape_ascii()),
        };
        heads += 1;
        let rest = &input[len..];
        let used = match request_body(&head, &limits).expect("request framing") {
            BodyKind::None => 0,
            BodyKind::Length(n) => {
                let n = usize::try_from(n).unwrap();
                if rest.len() < n {
                    return heads;
                }
                n
            }
            BodyKind::Chunked => {
                let mut decoder = ChunkedDecoder::new(&limits);
                let mut at = 0;
                loop {
                    match decoder.decode(&rest[at..]).expect("request chunked body") {
                        (n, Decoded::Data(_) | Decoded::Trailer(_)) => at += n,
                        (n, Decoded::End) => break at + n,
                        (_, Decoded::NeedMore) => return heads,
                    }
                }
            }
            BodyKind::CloseDelimited => panic!("a close-delimited request"),
        };
        pos += len + used;
    }
}

impl Server {
    fn new(scripts: &[Script], split: Split, tx_io: usize) -> Server {
        Server {
            scripts: scripts.iter().cloned().collect(),
            split,
            rng: 0x9e37_79b9,
            tx_io,
            now: Instant::from_millis(1_000),
            live: None,
            sent: Vec::new(),
            steps: 0,
            moved: 0,
            connects: 0,
            closes: 0,
        }
    }

    fn piece(&mut self) -> usize {
        match self.split {
            Split::Whole => usize::MAX,
            Split::Pieces(0) => 1,
            Split::Pieces(seed) => {
                self.rng = self.rng.wrapping_mul(1_103_515_245).wrapping_add(12_345 + u32::from(seed));
                (self.rng >> 16) as usize % (usize::from(seed) % 64 + 1) + 1
            }
        }
    }

    fn drive<B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler>(
        &mut self,
        client: &mut Client<'_, B, H>,
    ) -> Result<Fin, ClientError> {
        let mut waited = false;
        loop {
            self.steps += 1;
            let budget = 4 * self.moved + 100 * (self.connects + self.closes + 1) + 100;
            assert!(self.steps <= budget, "no progress: {} steps, {} bytes moved", self.steps, self.moved);
            let now = self.now;
            if waited {
                assert!(client.deadline().is_some(), "the client waits to receive with no deadline");
                waited = false;
            }
            if client.deadline().is_some_and(|d| now >= d) {
                client.handle_timeout(now);
            }
            match client.poll(now) {
                Action::Connect(_) => {
                    self.connects += 1;
                    match self.scripts.pop_front() {
                        None => client.connect_failed(now),
                        Some(script) => {
                            self.sent.push(Vec::new());
                            self.live = Some(Live { script, read: 0, heads: 0, hung_up: false });
                            client.connected(now);
                        }
                    }
                }
                Action::Transmit(parts) => {
                    assert!(parts[0].len() + parts[1].len() > 0, "the engine asked to transmit nothing");
                    let mut budget = if self.tx_io == 0 { usize::MAX } else { self.tx_io };
                    let out = self.sent.last_mut().expect("transmit without a connection");
                    let mut n = 0;
                    for part in parts {
                        let take = part.len().min(budget);
                        out.extend_from_slice(&part[..take]);
                        budget -= take;
                        n += take;
                    }
                    client.transmitted(n, now);
                    self.moved += n;
                    let heads = request_heads(self.sent.last().unwrap());
                    self.live.as_mut().unwrap().heads = heads;
                }
                Action::Receive(buf) => {
                    assert!(!buf.is_empty(), "the engine asked to receive into an empty buffer");
                    let piece = self.piece();
                    let live = self.live.as_mut().expect("receive without a connection");
                    let released = if live.heads > 0 { live.script.bytes.len() } else { 0 };
                    let ready = released - live.read;
                    if ready == 0 || live.hung_up {
                        if live.hung_up || (live.heads > 0 && live.script.close) {
                            client.received(0, now);
                        } else {
                            self.now = Instant::from_millis(self.now.as_millis() + IDLE_STEP);
                            waited = true;
                        }
                    } else {
                        let n = ready.min(buf.len()).min(piece);
                        buf[..n].copy_from_slice(&live.script.bytes[live.read..live.read + n]);
                        live.read += n;
                        self.moved += n;
                        client.received(n, now);
                    }
                }
                Action::Close => {
                    self.closes += 1;
                    self.live = None;
                    client.closed();
                }
                Action::Done(result) => {
                    return result.map(|c| match c {
                        Completion::Finished => Fin::Finished,
                        Completion::HeadersSent => Fin::HeadersSent,
                        Completion::Written => Fin::Written,
                        Completion::Headers => Fin::Headers,
                        Completion::Data(d) => Fin::Data(d.to_vec()),
                        Completion::EndOfBody => Fin::EndOfBody,
                        Completion::Closed => Fin::Closed,
                    });
                }
            }
        }
    }
}

// ----- flows --------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// `perform`, `Connection: close`, following redirects and challenges.
    Closing,
    /// `perform`, keep-alive, following nothing.
    Single,
    /// The streaming API, keep-alive, following nothing.
    Stream,
    /// `perform`, keep-alive, following everything (no split comparison: bytes read after a
    /// response legitimately change whether the connection is reused).
    KeepAlive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Get,
    Head,
    Post,
    PostExpect,
}

type Handler = Box<dyn FnMut(&Event<'_>)>;

fn client(flow: Flow, ask: Ask, log: &Log) -> Client<'static, Vec<u8>, Handler> {
    let follow = matches!(flow, Flow::Closing | Flow::KeepAlive);
    let config = ClientConfig {
        url: Some(BASE),
        username: follow.then_some("user"),
        password: follow.then_some("secret"),
        disable_auto_redirect: !follow,
        ..ClientConfig::default()
    };
    let handler: Handler = Box::new(recorder(log));
    let mut client = Client::new(&config, vec![0u8; config.buffer_len()], handler).expect("client");
    if flow == Flow::Closing {
        client.set_header("Connection", "close").unwrap();
    }
    match ask {
        Ask::Get => {}
        Ask::Head => client.set_method(Method::Head),
        Ask::Post | Ask::PostExpect => {
            client.set_method(Method::Post);
            client.set_post_field(Some(POST)).unwrap();
        }
    }
    if ask == Ask::PostExpect && flow != Flow::Stream {
        client.set_header("Expect", "100-continue").unwrap();
    }
    client
}

/// What the application saw.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    events: Vec<Ev>,
    results: Vec<Result<Fin, ClientError>>,
    status: Option<u16>,
    consumed: Vec<u8>,
}

fn run(
    flow: Flow,
    ask: Ask,
    scripts: &[Script],
    split: Split,
    tx_io: usize,
) -> (Outcome, Server, Client<'static, Vec<u8>, Handler>, Log) {
    let log = Log::default();
    let mut client = client(flow, ask, &log);
    let mut server = Server::new(scripts, split, tx_io);
    let mut results = Vec::new();
    let mut consumed = Vec::new();
    if flow == Flow::Stream {
        stream(&mut client, &mut server, &mut results, &mut consumed, ask);
    } else {
        client.perform(server.now).expect("perform");
        results.push(server.drive(&mut client));
    }
    let status = client.status_code().map(|s| s.as_u16());
    let events = log.borrow().clone();
    (Outcome { events, results, status, consumed }, server, client, log)
}

fn stream(
    client: &mut Client<'static, Vec<u8>, Handler>,
    server: &mut Server,
    results: &mut Vec<Result<Fin, ClientError>>,
    consumed: &mut Vec<u8>,
    ask: Ask,
) {
    let body = if matches!(ask, Ask::Post | Ask::PostExpect) { POST } else { b"" };
    client.open(Some(body.len() as u64), server.now).expect("open");
    let r = server.drive(client);
    let failed = r.is_err();
    results.push(r);
    if failed {
        return;
    }
    let mut off = 0;
    while off < body.len() {
        off += client.write(&body[off..]).expect("write");
        let r = server.drive(client);
        let failed = r.is_err();
        results.push(r);
        if failed {
            return;
        }
    }
    client.fetch_headers().expect("fetch_headers");
    let r = server.drive(client);
    let failed = r.is_err();
    results.push(r);
    if failed {
        return;
    }
    let mut rng = 7u32;
    loop {
        client.read().expect("read");
        match server.drive(client) {
            Ok(Fin::Data(d)) => {
                assert!(!d.is_empty(), "read returned empty data");
                rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let k = (rng >> 16) as usize % d.len() + 1;
                consumed.extend_from_slice(&d[..k]);
                client.consume(k);
            }
            other => {
                results.push(other);
                return;
            }
        }
    }
}

/// After the run, with the server hanging up on whatever is still open, a GET of BASE
/// succeeds.
fn check_sound(server: &mut Server, client: &mut Client<'static, Vec<u8>, Handler>, log: &Log) {
    if let Some(live) = &mut server.live {
        live.hung_up = true;
    }
    server.scripts = [Script { bytes: GOOD.to_vec(), close: false }].into();
    client.set_url(BASE).expect("set_url");
    client.set_method(Method::Get);
    client.set_post_field(None).expect("set_post_field");
    let before = log.borrow().len();
    client.perform(server.now).expect("perform after a finished operation");
    let result = server.drive(client);
    assert_eq!(result, Ok(Fin::Finished), "the next exchange failed: {:?}", &log.borrow()[before..]);
    assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
    assert_eq!(data_of(&log.borrow()[before..]), GOOD[GOOD.len() - 12..]);
}

fuzz_target!(|input: &[u8]| {
    let [mode, cut, tx, rest @ ..] = input else {
        return;
    };
    let flow = [Flow::Closing, Flow::Single, Flow::Stream, Flow::KeepAlive][usize::from(mode & 3)];
    let ask = [Ask::Get, Ask::Head, Ask::Post, Ask::PostExpect][usize::from((mode >> 2) & 3)];
    let mut scripts = Vec::new();
    let mut part = rest;
    while scripts.len() < 3 {
        let end = part.windows(3).position(|w| w == [0xff; 3]);
        let bytes = &part[..end.unwrap_or(part.len())];
        let silent = bytes.last() == Some(&0);
        scripts.push(Script { bytes: bytes.to_vec(), close: !silent });
        match end {
            Some(e) => part = &part[e + 3..],
            None => break,
        }
    }
    let tx_io = usize::from(*tx);

    let (whole, ..) = run(flow, ask, &scripts, Split::Whole, 0);
    let (pieces, mut server, mut client, log) = run(flow, ask, &scripts, Split::Pieces(*cut), tx_io);
    assert_eq!(pieces.consumed, if flow == Flow::Stream { data_of(&pieces.events) } else { Vec::new() });
    match flow {
        Flow::Closing => assert_eq!(pieces, whole, "cut into pieces (seed {cut}) and whole differ"),
        Flow::Single | Flow::Stream => {
            assert_eq!(without_disconnects(&pieces.events), without_disconnects(&whole.events));
            assert_eq!(pieces.results, whole.results);
            assert_eq!(pieces.status, whole.status);
            assert_eq!(pieces.consumed, whole.consumed);
        }
        Flow::KeepAlive => {}
    }
    check_sound(&mut server, &mut client, &log);
});

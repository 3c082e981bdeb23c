//! A scripted peer for driving the client engine in tests: it plays a server's part from a
//! script of connections, with a simulated clock and a chosen read size.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use tern_proto::Instant;
use tern_proto::client::url::Scheme;
use tern_proto::client::{
    Action, Client, ClientConfig, ClientError, Completion, Event, EventHandler, EventId, EventKind, State,
};

/// When a scripted reply is released to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Once the client sent at least this many bytes on the connection.
    Bytes(usize),
    /// Once the client sent the whole head of its n-th request (1-based) on the connection.
    Head(usize),
    /// Once the client sent n whole requests (head and body) on the connection.
    Requests(usize),
    /// Once the simulated clock reaches this many milliseconds.
    At(u64),
}

/// What one scripted connection does.
#[derive(Debug, Clone, Default)]
pub struct Conn {
    /// Refuse the connect.
    pub refuse: bool,
    /// Bytes the server sends, in order, each once its gate opens (and the earlier ones went).
    pub replies: Vec<(Gate, Vec<u8>)>,
    /// After the replies: close (EOF) or stay silent (the client then waits until its
    /// deadline).
    pub close_after: bool,
    /// After the replies: the connection is reset (a read fails with a transport error).
    pub reset_after: bool,
    /// Writes fail (a transport error) once the client sent this many bytes.
    pub break_writes_at: Option<usize>,
}

impl Conn {
    /// A connection that answers once the whole request arrived, then stays open.
    pub fn answer(response: &[u8]) -> Conn {
        Conn { replies: vec![(Gate::Requests(1), response.to_vec())], ..Conn::default() }
    }
    /// As `answer`, then closes.
    pub fn answer_and_close(response: &[u8]) -> Conn {
        Conn::answer(response).then_close()
    }
    /// A connection that answers its n-th request with `responses[n]`.
    pub fn answers(responses: &[&[u8]]) -> Conn {
        let replies = responses.iter().enumerate().map(|(i, r)| (Gate::Requests(i + 1), r.to_vec())).collect();
        Conn { replies, ..Conn::default() }
    }
    /// A connect that fails.
    pub fn refused() -> Conn {
        Conn { refuse: true, ..Conn::default() }
    }
    /// A connection that never answers.
    pub fn silent() -> Conn {
        Conn::default()
    }
    /// Adds a reply.
    pub fn reply(mut self, gate: Gate, bytes: &[u8]) -> Conn {
        self.replies.push((gate, bytes.to_vec()));
        self
    }
    /// Closes after the replies.
    pub fn then_close(mut self) -> Conn {
        self.close_after = true;
        self
    }
    /// Fails writes once `n` bytes went out.
    pub fn break_writes_at(mut self, n: usize) -> Conn {
        self.break_writes_at = Some(n);
        self
    }
    /// Resets after the replies.
    pub fn then_reset(mut self) -> Conn {
        self.reset_after = true;
        self
    }
}

/// The peer: connections in the order the client opens them.
#[derive(Debug, Default)]
pub struct Peer {
    pub script: VecDeque<Conn>,
    /// What the client sent, per connection.
    pub sent: Vec<Vec<u8>>,
    /// Where the client connected, per connect (refused ones included).
    pub endpoints: Vec<(Scheme, String, u16)>,
    /// Most bytes handed over per receive (and accepted per transmit); 0 = unlimited.
    pub io_size: usize,
    /// The simulated clock.
    pub now: Instant,
    /// Milliseconds the clock moves when the client waits with nothing to read.
    pub idle_step: u64,
    current: Option<Current>,
    /// Connects seen.
    pub connects: usize,
    /// Closes seen.
    pub closes: usize,
    /// Transmit actions served.
    pub transmits: usize,
    /// Bytes taken by each transmit, with the connection's index.
    pub writes: Vec<(usize, usize)>,
}

#[derive(Debug)]
struct Current {
    conn: Conn,
    /// Reply bytes ready to read.
    ready: VecDeque<u8>,
    next_reply: usize,
}

impl Peer {
    pub fn new(script: impl IntoIterator<Item = Conn>) -> Peer {
        Peer { script: script.into_iter().collect(), idle_step: 1000, ..Peer::default() }
    }

    pub fn with_io_size(mut self, n: usize) -> Peer {
        self.io_size = n;
        self
    }

    /// Whether a connection is open on the server's side.
    pub fn is_open(&self) -> bool {
        self.current.is_some()
    }

    fn release_replies(&mut self) {
        let sent = self.sent.last().map(|s| s.as_slice()).unwrap_or_default();
        let (heads, requests) = count_requests(sent);
        let now = self.now.as_millis();
        if let Some(cur) = &mut self.current {
            while let Some((gate, bytes)) = cur.conn.replies.get(cur.next_reply) {
                let open = match *gate {
                    Gate::Bytes(n) => sent.len() >= n,
                    Gate::Head(n) => heads >= n,
                    Gate::Requests(n) => requests >= n,
                    Gate::At(t) => now >= t,
                };
                if !open {
                    break;
                }
                cur.ready.extend(bytes.iter().copied());
                cur.next_reply += 1;
            }
        }
    }

    /// Takes the next scripted connection for a connect the client asked for: true when it
    /// is accepted (the adapter then calls `connected`), false when it is refused.
    pub fn accept(&mut self, scheme: Scheme, host: &str, port: u16) -> bool {
        self.connects += 1;
        self.endpoints.push((scheme, host.to_owned(), port));
        let conn = self.script.pop_front().unwrap_or_else(Conn::refused);
        if conn.refuse {
            return false;
        }
        self.sent.push(Vec::new());
        self.current = Some(Current { conn, ready: VecDeque::new(), next_reply: 0 });
        true
    }

    /// Drives the client until its operation is done; returns what it finished with (data is
    /// copied out).
    pub fn run<B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler>(
        &mut self,
        client: &mut Client<'_, B, H>,
    ) -> Result<Done, ClientError> {
        self.run_with(client, |_, _| {})
    }

    /// As `run`, calling `each` with the client after every step (for state checks). The
    /// steps are "connect" (the client asked to connect; before the answer), "connected",
    /// "connect_failed", "transmitted", "received", "eof", "reset" and "closed".
    pub fn run_with<B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler>(
        &mut self,
        client: &mut Client<'_, B, H>,
        mut each: impl FnMut(&Client<'_, B, H>, &str),
    ) -> Result<Done, ClientError> {
        for _ in 0..100_000 {
            let now = self.now;
            if client.deadline().is_some_and(|d| now >= d) {
                client.handle_timeout(now);
            }
            let step;
            match client.poll(now) {
                Action::Connect(endpoint) => {
                    let (scheme, host, port) = (endpoint.scheme, endpoint.host.to_owned(), endpoint.port);
                    each(client, "connect");
                    if self.accept(scheme, &host, port) {
                        client.connected(now);
                        step = "connected";
                    } else {
                        client.connect_failed(now);
                        step = "connect_failed";
                    }
                }
                Action::Transmit(_)
                    if self
                        .current
                        .as_ref()
                        .and_then(|c| c.conn.break_writes_at)
                        .is_some_and(|at| self.sent.last().is_some_and(|s| s.len() >= at)) =>
                {
                    client.transport_failed(now);
                    step = "reset";
                }
                Action::Transmit(parts) => {
                    self.transmits += 1;
                    let mut budget = if self.io_size == 0 { usize::MAX } else { self.io_size };
                    let mut n = 0;
                    let out = self.sent.last_mut().expect("transmit without a connection");
                    assert!(self.current.is_some(), "transmit on a closed connection");
                    if let Some(at) = self.current.as_ref().and_then(|c| c.conn.break_writes_at) {
                        budget = budget.min(at - out.len());
                    }
                    for part in parts {
                        let take = part.len().min(budget);
                        out.extend_from_slice(&part[..take]);
                        budget -= take;
                        n += take;
                    }
                    assert!(n > 0, "an empty transmit");
                    self.writes.push((self.sent.len() - 1, n));
                    client.transmitted(n, now);
                    self.release_replies();
                    step = "transmitted";
                }
                Action::Receive(buf) => {
                    assert!(!buf.is_empty(), "receive into an empty buffer");
                    self.release_replies();
                    let cur = self.current.as_mut().expect("receive without a connection");
                    if cur.ready.is_empty() {
                        let all_sent = cur.next_reply >= cur.conn.replies.len();
                        if all_sent && cur.conn.close_after {
                            client.received(0, now);
                            step = "eof";
                        } else if all_sent && cur.conn.reset_after {
                            client.transport_failed(now);
                            step = "reset";
                        } else {
                            // Nothing to read: time passes.
                            self.now = Instant::from_millis(self.now.as_millis() + self.idle_step);
                            continue;
                        }
                    } else {
                        let limit = if self.io_size == 0 { buf.len() } else { self.io_size.min(buf.len()) };
                        let n = limit.min(cur.ready.len());
                        for (i, b) in cur.ready.drain(..n).enumerate() {
                            buf[i] = b;
                        }
                        client.received(n, now);
                        step = "received";
                    }
                }
                Action::Close => {
                    self.closes += 1;
                    self.current = None;
                    client.closed();
                    step = "closed";
                }
                Action::Done(result) => {
                    return result.map(|c| match c {
                        Completion::Data(d) => Done::Data(d.to_vec()),
                        Completion::Finished => Done::Finished,
                        Completion::HeadersSent => Done::HeadersSent,
                        Completion::Written => Done::Written,
                        Completion::Headers => Done::Headers,
                        Completion::EndOfBody => Done::EndOfBody,
                        Completion::Closed => Done::Closed,
                    });
                }
            }
            each(client, step);
        }
        panic!("the client did not finish in 100000 steps");
    }

    /// The request bytes sent on connection `i`, as text.
    pub fn request(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.sent[i]).into_owned()
    }

    /// The whole requests sent on connection `i`.
    pub fn requests(&self, i: usize) -> Vec<Req> {
        parse_requests(&self.sent[i]).0
    }

    /// Every whole request sent, over all connections, in order.
    pub fn all_requests(&self) -> Vec<Req> {
        self.sent.iter().flat_map(|s| parse_requests(s).0).collect()
    }
}

/// One request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Req {
    /// The head, request line to the empty line.
    pub head: String,
    /// The decoded body.
    pub body: Vec<u8>,
    /// The body as sent (chunk framing included).
    pub raw_body: Vec<u8>,
}

impl Req {
    /// The request line, without CRLF.
    pub fn line(&self) -> &str {
        self.head.split("\r\n").next().unwrap()
    }
    /// The first header field of that name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Complete request heads and complete requests in `bytes`.
fn count_requests(bytes: &[u8]) -> (usize, usize) {
    let (reqs, partial_head) = parse_requests(bytes);
    (reqs.len() + usize::from(partial_head), reqs.len())
}

/// The complete requests in `bytes`, and whether a further complete head has an incomplete
/// body.
fn parse_requests(mut bytes: &[u8]) -> (Vec<Req>, bool) {
    let mut out = Vec::new();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        let Ok(httparse::Status::Complete(head_len)) = req.parse(bytes) else { return (out, false) };
        let mut length = 0usize;
        let mut chunked = false;
        for h in req.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(h.value).unwrap().trim().parse().unwrap();
            }
            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = true;
            }
        }
        let head = String::from_utf8_lossy(&bytes[..head_len]).into_owned();
        let rest = &bytes[head_len..];
        let (body, used) = if chunked {
            match dechunk(rest) {
                Some(x) => x,
                None => return (out, true),
            }
        } else if rest.len() >= length {
            (rest[..length].to_vec(), length)
        } else {
            return (out, true);
        };
        out.push(Req { head, body, raw_body: rest[..used].to_vec() });
        bytes = &rest[used..];
    }
}

/// Decodes a whole chunked body: (data, bytes used), or `None` if it is not complete.
pub fn dechunk(mut input: &[u8]) -> Option<(Vec<u8>, usize)> {
    let total = input.len();
    let mut data = Vec::new();
    loop {
        let eol = input.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&input[..eol]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        input = &input[eol + 2..];
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let eol = input.windows(2).position(|w| w == b"\r\n")?;
                input = &input[eol + 2..];
                if eol == 0 {
                    return Some((data, total - input.len()));
                }
            }
        }
        if input.len() < size + 2 {
            return None;
        }
        data.extend_from_slice(&input[..size]);
        input = &input[size + 2..];
    }
}

/// An owned [`Completion`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Finished,
    HeadersSent,
    Written,
    Headers,
    Data(Vec<u8>),
    EndOfBody,
    Closed,
}

/// Reads the whole body with `read`, `consume`-ing everything.
pub fn read_all<B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler>(
    peer: &mut Peer,
    client: &mut Client<'_, B, H>,
) -> Result<Vec<u8>, ClientError> {
    let mut body = Vec::new();
    loop {
        client.read()?;
        match peer.run(client)? {
            Done::Data(d) => {
                client.consume(d.len());
                body.extend_from_slice(&d);
            }
            Done::EndOfBody => return Ok(body),
            other => panic!("read finished with {other:?}"),
        }
    }
}

/// An owned event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Error(ClientError),
    Connected,
    HeadersSent,
    Header(String, String),
    HeadersComplete,
    Status(u16),
    Data(Vec<u8>),
    Finish,
    Disconnected,
    Redirect(u16),
}

impl Ev {
    fn of(kind: &EventKind<'_>) -> Ev {
        match *kind {
            EventKind::Error(e) => Ev::Error(e),
            EventKind::OnConnected => Ev::Connected,
            EventKind::HeadersSent => Ev::HeadersSent,
            EventKind::OnHeader { name, value } => {
                Ev::Header(name.to_owned(), String::from_utf8_lossy(value).into_owned())
            }
            EventKind::OnHeadersComplete => Ev::HeadersComplete,
            EventKind::OnStatusCode(s) => Ev::Status(s.as_u16()),
            EventKind::OnData(d) => Ev::Data(d.to_vec()),
            EventKind::OnFinish => Ev::Finish,
            EventKind::Disconnected => Ev::Disconnected,
            EventKind::Redirect { status } => Ev::Redirect(status.as_u16()),
            _ => panic!("unknown event"),
        }
    }
}

/// A shared log of (event id, state, owned event) that a handler writes and a test reads.
#[derive(Debug, Clone, Default)]
pub struct Log(pub Rc<RefCell<Vec<(EventId, State, Ev)>>>);

impl Log {
    pub fn new() -> Log {
        Log::default()
    }
    /// A handler writing into this log.
    pub fn handler(&self) -> LogHandler {
        LogHandler(self.clone())
    }
    /// Takes what was logged so far.
    pub fn take(&self) -> Vec<(EventId, State, Ev)> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
    /// Takes the ids and states logged so far.
    pub fn take_ids(&self) -> Vec<(EventId, State)> {
        self.take().into_iter().map(|(id, s, _)| (id, s)).collect()
    }
    /// Takes the events logged so far, without ON_HEADER and ON_DATA (the shape of an exchange).
    pub fn take_shape(&self) -> Vec<EventId> {
        self.take()
            .into_iter()
            .map(|(id, _, _)| id)
            .filter(|id| !matches!(id, EventId::OnHeader | EventId::OnData))
            .collect()
    }
}

/// The handler of a [`Log`].
#[derive(Debug, Clone)]
pub struct LogHandler(pub Log);

impl EventHandler for LogHandler {
    fn on_event(&mut self, event: &Event<'_>) {
        self.0.0.borrow_mut().push((event.kind.id(), event.state, Ev::of(&event.kind)));
    }
}

/// The client type the tests use.
pub type TestClient = Client<'static, Vec<u8>, LogHandler>;

/// A client for `config` with a fresh event log.
pub fn client(config: &ClientConfig<'static>) -> (TestClient, Log) {
    let log = Log::new();
    let client = Client::new(config, vec![0u8; config.buffer_len()], log.handler()).unwrap();
    (client, log)
}

/// A client for `url` with the default configuration.
pub fn client_for(url: &'static str) -> (TestClient, Log) {
    client(&ClientConfig { url: Some(url), ..ClientConfig::default() })
}

/// Runs one `perform` to its end.
pub fn perform<B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler>(
    peer: &mut Peer,
    client: &mut Client<'_, B, H>,
) -> Result<Done, ClientError> {
    client.perform(peer.now)?;
    peer.run(client)
}

/// The status of the last response as a number.
pub fn status<B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler>(client: &Client<'_, B, H>) -> u16 {
    client.status_code().map_or(0, |s| s.as_u16())
}

/// The body bytes of the ON_DATA events in a log slice.
pub fn data_of(events: &[(EventId, State, Ev)]) -> Vec<u8> {
    events
        .iter()
        .flat_map(|(_, _, e)| match e {
            Ev::Data(d) => d.clone(),
            _ => Vec::new(),
        })
        .collect()
}

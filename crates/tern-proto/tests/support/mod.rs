//! A scripted peer for driving the client engine in tests: it plays a server's part from a
//! script of connections, with a simulated clock and a chosen read size.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::VecDeque;

use tern_proto::Instant;
use tern_proto::client::{Action, Client, ClientError, Completion, EventHandler};

/// What one scripted connection does.
#[derive(Debug, Clone, Default)]
pub struct Conn {
    /// Refuse the connect.
    pub refuse: bool,
    /// Bytes the server sends, in order, each after the client has sent at least the given
    /// number of request bytes on this connection (0: right away).
    pub replies: Vec<(usize, Vec<u8>)>,
    /// After the replies: close (EOF) or stay silent (the client then waits until its
    /// deadline).
    pub close_after: bool,
}

impl Conn {
    /// A connection that answers once the request head (and `body` more bytes) arrived,
    /// then stays open.
    pub fn answer(response: &[u8]) -> Conn {
        Conn { replies: vec![(1, response.to_vec())], ..Conn::default() }
    }
    /// As `answer`, then closes.
    pub fn answer_and_close(response: &[u8]) -> Conn {
        Conn { replies: vec![(1, response.to_vec())], close_after: true, ..Conn::default() }
    }
}

/// The peer: connections in the order the client opens them.
#[derive(Debug, Default)]
pub struct Peer {
    pub script: VecDeque<Conn>,
    /// What the client sent, per connection.
    pub sent: Vec<Vec<u8>>,
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

    fn release_replies(&mut self) {
        let sent = self.sent.last().map_or(0, |s| s.len());
        if let Some(cur) = &mut self.current {
            while let Some((after, bytes)) = cur.conn.replies.get(cur.next_reply) {
                if sent >= *after {
                    cur.ready.extend(bytes.iter().copied());
                    cur.next_reply += 1;
                } else {
                    break;
                }
            }
        }
    }

    /// Drives the client until its operation is done; returns what it finished with (data is
    /// copied out).
    pub fn run<B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler>(
        &mut self,
        client: &mut Client<'_, B, H>,
    ) -> Result<Done, ClientError> {
        self.run_with(client, |_, _| {})
    }

    /// As `run`, calling `each` with the client after every step (for state checks).
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
                Action::Connect(_) => {
                    self.connects += 1;
                    let conn = self.script.pop_front().unwrap_or(Conn { refuse: true, ..Conn::default() });
                    if conn.refuse {
                        client.connect_failed(now);
                        step = "connect_failed";
                    } else {
                        self.sent.push(Vec::new());
                        self.current = Some(Current { conn, ready: VecDeque::new(), next_reply: 0 });
                        client.connected(now);
                        step = "connected";
                    }
                }
                Action::Transmit(parts) => {
                    let mut budget = if self.io_size == 0 { usize::MAX } else { self.io_size };
                    let mut n = 0;
                    let out = self.sent.last_mut().expect("transmit without a connection");
                    for part in parts {
                        let take = part.len().min(budget);
                        out.extend_from_slice(&part[..take]);
                        budget -= take;
                        n += take;
                    }
                    client.transmitted(n, now);
                    self.release_replies();
                    step = "transmitted";
                }
                Action::Receive(buf) => {
                    self.release_replies();
                    let cur = self.current.as_mut().expect("receive without a connection");
                    if cur.ready.is_empty() {
                        let all_sent = cur.next_reply >= cur.conn.replies.len();
                        if all_sent && cur.conn.close_after {
                            client.received(0, now);
                            step = "eof";
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

//! The pair harness: tern's client engine talking to tern's server engine in memory, both
//! driven by one loop on a simulated clock. Everything here is real protocol on both ends:
//! keep-alive reuse, bodies both ways, 100-continue, Basic auth, redirects, closes and the
//! server's idle timeout meeting the client's retry of a dead connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::collections::VecDeque;

use proptest::prelude::*;
use support::{Ev, Log, TestClient, client};
use tern_proto::client::{self as c, ClientConfig, ClientError};
use tern_proto::server::{Action, Completion, Connection, HandlerOutcome, Request, Response, ServerConfig, SessionId};
use tern_proto::{Instant, StatusCode};

/// What a handler answers: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);
type Handler = fn(&Request<'_>, &[u8]) -> Answer;

/// Where the server side is in its handler.
enum Srv {
    /// Waiting for a request.
    Serve,
    /// Reading a body.
    Read(Vec<u8>),
    /// Sending the answer.
    Send,
}

struct Pair {
    client: TestClient,
    log: Log,
    server: Connection<Vec<u8>>,
    srv: Srv,
    handler: Handler,
    /// The body being sent by the server.
    answer: Vec<u8>,
    c2s: VecDeque<u8>,
    s2c: VecDeque<u8>,
    /// A connection is up (client side).
    up: bool,
    client_closed: bool,
    server_closed: bool,
    now: u64,
    accepted: u32,
    served: u32,
}

impl Pair {
    fn new(config: &ClientConfig<'static>, server: ServerConfig, handler: Handler) -> Pair {
        let (client, log) = client(config);
        Pair {
            client,
            log,
            server: Connection::new(vec![0u8; server.buffer_len()], server, SessionId(1)).unwrap(),
            srv: Srv::Serve,
            handler,
            answer: Vec::new(),
            c2s: VecDeque::new(),
            s2c: VecDeque::new(),
            up: false,
            client_closed: false,
            server_closed: true,
            now: 0,
            accepted: 0,
            served: 0,
        }
    }

    /// Runs one client operation to its end, the server answering.
    fn perform(&mut self) -> Result<(), ClientError> {
        self.client.perform(Instant::from_millis(self.now))?;
        self.run_client().map(|_| ())
    }

    fn run_client(&mut self) -> Result<Vec<u8>, ClientError> {
        let mut data = Vec::new();
        for _ in 0..100_000 {
            let now = Instant::from_millis(self.now);
            match self.client.poll(now) {
                c::Action::Connect(_) => {
                    self.server.reset(SessionId(self.accepted + 1));
                    self.accepted += 1;
                    self.c2s.clear();
                    self.s2c.clear();
                    self.srv = Srv::Serve;
                    self.up = true;
                    self.client_closed = false;
                    self.server_closed = false;
                    self.client.connected(now);
                }
                c::Action::Transmit([a, b]) => {
                    if self.server_closed {
                        // The server is gone: the write fails.
                        self.client.transport_failed(now);
                        continue;
                    }
                    self.c2s.extend(a.iter().chain(b));
                    let n = a.len() + b.len();
                    self.client.transmitted(n, now);
                }
                c::Action::Receive(buf) => {
                    if !self.s2c.is_empty() {
                        let n = buf.len().min(self.s2c.len());
                        for (i, byte) in self.s2c.drain(..n).enumerate() {
                            buf[i] = byte;
                        }
                        self.client.received(n, now);
                    } else if self.server_closed {
                        self.client.received(0, now);
                    } else if !self.step_server() {
                        self.idle();
                    }
                }
                c::Action::Close => {
                    self.client_closed = true;
                    self.up = false;
                    self.client.closed();
                    // Let the server see the EOF.
                    while !self.server_closed && self.step_server() {}
                }
                c::Action::Done(result) => {
                    if let Ok(c::Completion::Data(d)) = &result {
                        data.extend_from_slice(d);
                    }
                    let result = result.map(|_| data);
                    // Let the server finish its side of the exchange.
                    while self.step_server() {}
                    return result;
                }
            }
        }
        panic!("the pair did not finish");
    }

    /// Both sides wait: time moves to the earlier deadline.
    fn idle(&mut self) {
        let deadlines = [self.client.deadline(), if self.server_closed { None } else { self.server.deadline() }];
        let next = deadlines.into_iter().flatten().min().expect("both sides wait with no deadline: a hang");
        self.now = self.now.max(next.as_millis());
        let now = Instant::from_millis(self.now);
        self.client.handle_timeout(now);
        if !self.server_closed {
            self.server.handle_timeout(now);
        }
    }

    /// One server action; false when the server waits for the client.
    fn step_server(&mut self) -> bool {
        if self.server_closed {
            return false;
        }
        let now = Instant::from_millis(self.now);
        match self.server.poll(now) {
            Action::Receive(buf) => {
                if !self.c2s.is_empty() {
                    let n = buf.len().min(self.c2s.len());
                    for (i, byte) in self.c2s.drain(..n).enumerate() {
                        buf[i] = byte;
                    }
                    self.server.received(n, now);
                    true
                } else if self.client_closed {
                    self.server.received(0, now);
                    true
                } else {
                    false
                }
            }
            Action::Transmit { bytes, body_from } => {
                let mut all = bytes.to_vec();
                if let Some(from) = body_from {
                    all.extend_from_slice(&self.answer[from..]);
                }
                self.s2c.extend(&all);
                self.server.transmitted(all.len(), now);
                true
            }
            Action::Close => {
                self.server_closed = true;
                self.server.closed();
                true
            }
            Action::Done(result) => {
                let result = result.map(owned);
                self.on_server_done(result);
                true
            }
        }
    }

    fn on_server_done(&mut self, result: Result<Owned, tern_proto::server::ServerError>) {
        match (&mut self.srv, result) {
            (Srv::Serve, Ok(Owned::Request)) => {
                self.server.read_body().unwrap();
                self.srv = Srv::Read(Vec::new());
            }
            (Srv::Serve, Ok(Owned::Error(code))) => self.server.reject(code).unwrap(),
            (Srv::Serve, Ok(Owned::Closed)) => {}
            (Srv::Read(body), Ok(Owned::Data(d))) => {
                body.extend(&d);
                self.server.consume(d.len());
                self.server.read_body().unwrap();
            }
            (Srv::Read(_), Ok(Owned::Other)) => self.server.read_body().unwrap(),
            (Srv::Read(body), Ok(Owned::End)) => {
                let body = std::mem::take(body);
                let (status, headers, answer) = (self.handler)(&self.server.request().unwrap(), &body);
                let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                self.answer = answer;
                let resp = Response { headers: &headers, ..Response::new(StatusCode::new(status).unwrap()) };
                self.server.send(&resp, &self.answer).unwrap();
                self.srv = Srv::Send;
            }
            (Srv::Read(_), Err(_)) => {
                self.server.finish(HandlerOutcome::Fail).unwrap();
                self.srv = Srv::Serve;
            }
            (Srv::Send, Ok(Owned::Sent)) => {
                self.served += 1;
                self.server.finish(HandlerOutcome::Ok).unwrap();
                self.srv = Srv::Serve;
            }
            (Srv::Send, Err(_)) => {
                self.server.finish(HandlerOutcome::Fail).unwrap();
                self.srv = Srv::Serve;
            }
            (_, other) => panic!("server: unexpected {other:?}"),
        }
    }
}

#[derive(Debug)]
enum Owned {
    Request,
    Error(tern_proto::server::HttpdErrCode),
    Data(Vec<u8>),
    End,
    Sent,
    Closed,
    Other,
}

fn owned(c: Completion<'_>) -> Owned {
    match c {
        Completion::Request => Owned::Request,
        Completion::Error(code) => Owned::Error(code),
        Completion::Data(d) => Owned::Data(d.to_vec()),
        Completion::EndOfBody => Owned::End,
        Completion::Sent => Owned::Sent,
        Completion::Closed => Owned::Closed,
        Completion::Trailer { .. } | Completion::Frame(_) => Owned::Other,
    }
}

/// Echoes the method, the target and the body; `/close` asks to close; `/old` redirects;
/// `/secret` wants Basic credentials.
fn app(req: &Request<'_>, body: &[u8]) -> Answer {
    match req.path() {
        "/old" => (302, vec![("Location".into(), "/new?from=old".into())], b"moved".to_vec()),
        "/secret" => match req.header_str("authorization") {
            // "user:pass"
            Some("Basic dXNlcjpwYXNz") => (200, vec![], b"welcome".to_vec()),
            _ => (401, vec![("WWW-Authenticate".into(), "Basic realm=\"esp\"".into())], b"who?".to_vec()),
        },
        "/close" => (200, vec![("Connection".into(), "close".into())], b"bye".to_vec()),
        _ => {
            let mut out = format!("{} {} ", req.method().as_str(), req.uri()).into_bytes();
            out.extend(body);
            (200, vec![], out)
        }
    }
}

fn config(url: &'static str) -> ClientConfig<'static> {
    ClientConfig { url: Some(url), ..ClientConfig::default() }
}

fn body_of(log: &Log) -> String {
    String::from_utf8(support::data_of(&log.take())).unwrap()
}

#[test]
fn keep_alive_requests_share_one_connection() {
    let mut pair = Pair::new(&config("http://esp32.local/a"), ServerConfig::default(), app);
    for i in 0..5 {
        pair.client.set_url(&format!("/item/{i}")).unwrap();
        pair.perform().unwrap();
        assert_eq!(pair.client.status_code(), Some(StatusCode::OK));
        assert_eq!(body_of(&pair.log), format!("GET /item/{i} "));
    }
    assert_eq!((pair.accepted, pair.served, pair.client.connects()), (1, 5, 1));
}

#[test]
fn post_bodies_reach_the_server_whole_and_come_back() {
    let mut pair = Pair::new(&config("http://esp32.local/echo"), ServerConfig::default(), app);
    let body: &'static [u8] = Box::leak(vec![b'z'; 10_000].into_boxed_slice());
    pair.client.set_method(tern_proto::Method::Post);
    pair.client.set_post_field(Some(body)).unwrap();
    pair.perform().unwrap();
    let got = body_of(&pair.log);
    assert_eq!(got.len(), "POST /echo ".len() + 10_000);
    assert!(got.ends_with("zzzz"));
}

#[test]
fn a_streamed_chunked_upload_is_decoded_by_the_server() {
    let mut pair = Pair::new(&config("http://esp32.local/up"), ServerConfig::default(), app);
    pair.client.set_method(tern_proto::Method::Put);
    pair.client.open(None, Instant::from_millis(0)).unwrap();
    pair.run_client().unwrap();
    for piece in [&b"first "[..], b"second ", b"third"] {
        let mut rest = piece;
        while !rest.is_empty() {
            let n = pair.client.write(rest).unwrap();
            pair.run_client().unwrap();
            rest = &rest[n..];
        }
    }
    pair.client.fetch_headers().unwrap();
    pair.run_client().unwrap();
    let mut body = Vec::new();
    loop {
        pair.client.read().unwrap();
        let data = pair.run_client().unwrap();
        if data.is_empty() {
            break;
        }
        pair.client.consume(data.len());
        body.extend(data);
    }
    assert_eq!(String::from_utf8(body).unwrap(), "PUT /up first second third");
}

#[test]
fn expect_100_continue_round_trip_needs_no_timeout() {
    let mut pair = Pair::new(&config("http://esp32.local/up"), ServerConfig::default(), app);
    pair.client.set_method(tern_proto::Method::Post);
    pair.client.set_header("Expect", "100-continue").unwrap();
    pair.client.set_post_field(Some(b"payload")).unwrap();
    pair.perform().unwrap();
    assert_eq!(body_of(&pair.log), "POST /up payload");
    assert_eq!(pair.now, 0, "the client never waited for its expect timeout");
}

#[test]
fn basic_auth_challenge_and_answer() {
    let mut cfg = config("http://esp32.local/secret");
    cfg.username = Some("user");
    cfg.password = Some("pass");
    let mut pair = Pair::new(&cfg, ServerConfig::default(), app);
    pair.perform().unwrap();
    assert_eq!(pair.client.status_code(), Some(StatusCode::OK));
    assert!(body_of(&pair.log).ends_with("welcome"));
    assert_eq!(pair.served, 2, "the 401 then the answer");
    assert_eq!(pair.accepted, 1);
}

#[test]
fn a_redirect_is_followed_on_the_same_connection() {
    let mut pair = Pair::new(&config("http://esp32.local/old"), ServerConfig::default(), app);
    pair.perform().unwrap();
    assert!(body_of(&pair.log).ends_with("GET /new?from=old "));
    assert_eq!((pair.served, pair.accepted), (2, 1));
}

#[test]
fn a_server_close_makes_the_client_reconnect() {
    let mut pair = Pair::new(&config("http://esp32.local/close"), ServerConfig::default(), app);
    pair.perform().unwrap();
    pair.client.set_url("/again").unwrap();
    pair.perform().unwrap();
    assert_eq!(body_of(&pair.log), "byeGET /again ");
    assert_eq!(pair.accepted, 2);
}

#[test]
fn the_server_idle_timeout_meets_the_client_retry_of_a_dead_connection() {
    let server = ServerConfig { idle_timeout_ms: Some(1000), ..ServerConfig::default() };
    let mut pair = Pair::new(&config("http://esp32.local/a"), server, app);
    pair.perform().unwrap();
    // The client sits idle past the server's idle timeout: the server closes.
    let deadline = pair.server.deadline().unwrap();
    pair.now = deadline.as_millis();
    pair.server.handle_timeout(deadline);
    while pair.step_server() {}
    assert!(pair.server_closed);
    pair.client.set_url("/b").unwrap();
    pair.perform().unwrap();
    assert_eq!(body_of(&pair.log), "GET /a GET /b ");
    assert_eq!(pair.accepted, 2);
}

#[test]
fn head_from_the_client_gets_no_body() {
    let mut pair = Pair::new(&config("http://esp32.local/h"), ServerConfig::default(), app);
    pair.client.set_method(tern_proto::Method::Head);
    pair.perform().unwrap();
    assert_eq!(pair.client.content_length(), Some("HEAD /h ".len() as u64));
    assert!(!pair.log.take().iter().any(|e| matches!(e.2, Ev::Data(_))));
    // The connection is still good.
    pair.client.set_method(tern_proto::Method::Get);
    pair.perform().unwrap();
    assert_eq!(pair.accepted, 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_body_and_path_round_trip(
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..3000), 1..4),
        small_server in any::<bool>(),
    ) {
        let server = if small_server {
            ServerConfig { body_window: 64, tx_buffer_size: 256, ..ServerConfig::default() }
        } else {
            ServerConfig::default()
        };
        let mut pair = Pair::new(&config("http://esp32.local/p"), server, app);
        for body in &bodies {
            let body: &'static [u8] = Box::leak(body.clone().into_boxed_slice());
            pair.client.set_method(tern_proto::Method::Post);
            pair.client.set_post_field(Some(body)).unwrap();
            pair.perform().unwrap();
            let got = support::data_of(&pair.log.take());
            let mut want = b"POST /p ".to_vec();
            want.extend(body);
            prop_assert_eq!(got, want);
        }
        prop_assert_eq!(pair.accepted, 1);
    }
}

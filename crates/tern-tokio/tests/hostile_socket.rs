//! The server half of tern-proto's hostile-input catalogue (`tern-proto/tests/hostile/server.txt`)
//! sent over real loopback sockets to a tern-tokio server whose one wildcard handler answers as
//! the engine runner's does (`METHOD URI BODY`, 408 when the body stops coming): each case's
//! statuses, bodies and close are checked, and every failing case is reported by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../../tern-proto/tests/hostile/mod.rs"]
mod hostile;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hostile::{Case, Report, ServerExpect};
use support::{Raw, blocking, on_loopback, parallel, parse_head};
use tern_proto::server::uri::UriMatch;
use tern_proto::server::{MethodFilter, ServerConfig, ServerError};
use tern_tokio::server::{Config, Error, HandlerResult, HttpdErrCode, Request, Server, UriHandler};

/// The server's `recv_wait_timeout`: short, so the 408 cases do not take 5 s each.
const RECV_WAIT_MS: u32 = 500;
/// How long a kept session must stay silent and open after its last expected response: twice
/// `RECV_WAIT_MS`, so a late 408 or close is not mistaken for keep-alive.
const KEEP_QUIET: Duration = Duration::from_millis(1000);
/// How long to wait for a response or for the close.
const PATIENCE: Duration = Duration::from_secs(5);
/// Cases run at once (each on its own connection).
const WORKERS: usize = 12;

/// `METHOD URI BODY`, as tern-proto's engine runner answers; a body that stops coming is 408
/// (as advanced_tests' /echo), any other body error is left to the engine (400, 413). A
/// response to HEAD is marked, since it carries no body.
async fn echo(mut req: Request) -> HandlerResult {
    let method = req.method().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let body = match req.recv_body(1 << 20).await {
        Ok(body) => body,
        Err(Error::Engine(ServerError::Timeout)) => return req.send_err(HttpdErrCode::RequestTimeout, None).await,
        Err(_) => return Ok(()),
    };
    let mut text = format!("{method} {} ", req.uri()).into_bytes();
    text.extend_from_slice(&body);
    req.set_type("text/plain");
    if method == "HEAD" {
        req.set_header("X-Head", "1");
    }
    req.send(&text).await
}

async fn start() -> (Server, SocketAddr) {
    let config = Config {
        uri_match: UriMatch::Wildcard,
        max_open_sockets: WORKERS + 4,
        connection: ServerConfig { recv_wait_timeout_ms: RECV_WAIT_MS, ..ServerConfig::default() },
        ..on_loopback(Config::default())
    };
    let server = Server::start(config).await.unwrap();
    server.register_uri_handler(UriHandler::new("*", MethodFilter::Any, echo)).unwrap();
    let addr = server.local_addr();
    (server, addr)
}

/// Responses as (status, body).
type Responses = Vec<(u16, Vec<u8>)>;

/// The complete responses at the start of `bytes`, and the bytes they took.
fn parse_responses(mut bytes: &[u8]) -> (Responses, usize) {
    let total = bytes.len();
    let mut out = Vec::new();
    while let Some((resp, used)) = parse_head(bytes) {
        let rest = &bytes[used..];
        let bodiless = resp.status < 200 || resp.status == 204 || resp.status == 304 || resp.header("X-Head").is_some();
        let len = if bodiless { 0 } else { resp.header("Content-Length").map_or(0, |l| l.parse().unwrap()) };
        assert!(resp.header("Transfer-Encoding").is_none(), "the echo handler never sends chunked");
        let Some(body) = rest.get(..len) else { break };
        out.push((resp.status, body.to_vec()));
        bytes = &rest[len..];
    }
    (out, total - bytes.len())
}

/// Sends a case's bytes on a fresh connection (the client never closes) and reads what comes
/// back: the responses, and whether the server closed.
fn exchange(addr: SocketAddr, case: &Case, expect: &ServerExpect) -> Result<(Responses, bool), String> {
    let expected = expect.responses.len();
    // After the last expected response: a close may take the server's linger (up to 200 ms),
    // keep-alive is silence.
    let then = if expect.close { PATIENCE } else { KEEP_QUIET };
    let raw = Raw::connect(addr);
    let mut stream = raw.stream;
    // The server may refuse and close before it read everything: a failed write is no failure.
    let _ = stream.write_all(&case.input);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut deadline = Instant::now() + PATIENCE;
    let mut all_in = false;
    loop {
        let (responses, used) = parse_responses(&buf);
        if responses.len() >= expected && !all_in {
            // Everything expected is in: from now on, silence means the session was kept.
            all_in = true;
            deadline = Instant::now() + then;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            if used < buf.len() {
                return Err(format!("kept, with {} unparsed bytes", buf.len() - used));
            }
            return Ok((responses, false));
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => {
                if used < buf.len() {
                    return Err(format!("closed after {} bytes that are not a response", buf.len() - used));
                }
                return Ok((responses, true));
            }
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if all_in {
                    // More than expected: read on until the server goes quiet or closes.
                    deadline = Instant::now() + KEEP_QUIET;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok((parse_responses(&buf).0, true)),
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
}

fn check(addr: SocketAddr, case: &Case) -> Result<(), String> {
    let mut expect = ServerExpect::parse(&case.expect).map_err(|e| format!("bad expect: {e}"))?;
    let (mut responses, close) = exchange(addr, case, &expect)?;
    if case.field("split") == Some("whole") {
        // Whether an interim 100 goes out depends on how the bytes arrived: compare without.
        expect.responses.retain(|(s, _)| *s >= 200);
        responses.retain(|(s, _)| *s >= 200);
    }
    if expect.matches(&responses, close) { Ok(()) } else { Err(hostile::show_server(&responses, close)) }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_catalogue_over_a_socket() {
    let (server, addr) = start().await;
    let cases = hostile::parse("server.txt", hostile::SERVER);
    let results = blocking(move || {
        let results = parallel(WORKERS, &cases, |case| check(addr, case));
        (cases, results)
    })
    .await;
    let (cases, results) = results;
    let mut report = Report::default();
    for (case, result) in cases.iter().zip(results) {
        report.record(case, result);
    }
    assert!(report.passed + report.known.len() + report.failures.len() == cases.len());
    server.stop().await;
    report.finish("server.txt over a socket");
}

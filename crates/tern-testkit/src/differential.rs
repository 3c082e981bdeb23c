//! The peers of the differential run (`tern-tokio/tests/differential.rs`, docs/conformance.md):
//! the same hostile inputs as tern's catalogue, fed to h11 and to hyper, reporting what each
//! decided.
//!
//! - [`h11_server`] and [`h11_client`] run `py/h11_verdicts.py` once over a list of inputs, in
//!   the interop virtual environment (`cargo xtask interop-setup` pins h11 there);
//! - [`HyperEcho`] is a hyper 1.x http1 server on loopback whose handler reads the whole body
//!   and answers `METHOD URI BODY`, as the catalogue's handler does, and logs what it saw per
//!   connection; [`HyperEcho::exchange`] sends one input on a fresh connection;
//! - [`hyper_fetch`] sends one request with hyper's http1 client to a scripted loopback server
//!   that answers with the given bytes and closes.
//!
//! These report observations (the requests handed to the application, the errors, the states);
//! turning them into comparable verdicts is the test's job.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::process::run_with_timeout;
use crate::venv_dir;

/// A request a peer handed to its application, complete with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRequest {
    /// The method as the peer reports it.
    pub method: Vec<u8>,
    /// The request target as the peer reports it (hyper: its `Uri` displayed).
    pub target: Vec<u8>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// What h11 did with one request stream, as a server.
#[derive(Debug, Clone)]
pub struct H11Server {
    /// The case's name, echoed by the script.
    pub name: String,
    /// The complete requests, in order; the handler answered each.
    pub requests: Vec<PeerRequest>,
    /// `idle`, `closed`, `need-data`, `error` or `script-error` (see `py/h11_verdicts.py`).
    pub end: String,
    /// The error message, or the states when it stopped.
    pub detail: String,
}

/// What h11 did with one response, as a client.
#[derive(Debug, Clone)]
pub struct H11Client {
    /// The case's name, echoed by the script.
    pub name: String,
    /// The final response's status, when h11 got that far.
    pub status: Option<u16>,
    /// The body received.
    pub body: Vec<u8>,
    /// `complete`, `error` or `script-error` (see `py/h11_verdicts.py`).
    pub end: String,
    /// The error message, and the interim responses skipped.
    pub detail: String,
}

/// The script, next to this crate's sources.
fn script() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/py/h11_verdicts.py").to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    let digits = text.as_bytes();
    assert!(digits.len().is_multiple_of(2), "odd hex from h11_verdicts.py: {text:?}");
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).unwrap_or_else(|_| panic!("bad hex from h11_verdicts.py"));
            u8::from_str_radix(pair, 16).unwrap_or_else(|_| panic!("bad hex from h11_verdicts.py: {pair:?}"))
        })
        .collect()
}

fn string(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("h11_verdicts.py: no string {key:?} in {v}")).to_owned()
}

/// Runs the script over `cases` (JSON objects with `name`, `input` and maybe `method`) and
/// returns its output, checked to have one entry per case, in order.
///
/// # Panics
/// When the virtual environment or h11 is missing (with the command that makes them), or the
/// script fails.
fn run_script(kind: &str, cases: Vec<Value>) -> Vec<Value> {
    let python = venv_dir().join("bin").join("python");
    assert!(
        python.exists(),
        "{} is missing: run `cargo xtask interop-setup` (or set TERN_INTEROP_VENV)",
        python.display()
    );
    let names: Vec<Value> = cases.iter().map(|c| c.get("name").cloned().unwrap_or(Value::Null)).collect();
    let input = serde_json::to_vec(&Value::Array(cases)).unwrap_or_else(|e| panic!("encoding the cases: {e}"));
    let mut cmd = Command::new(&python);
    cmd.arg(script()).arg(kind);
    let out = run_with_timeout(cmd, &input, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'h11'"),
        "h11 is not installed in {}: run `cargo xtask interop-setup` (or set TERN_INTEROP_VENV)",
        venv_dir().display()
    );
    assert!(out.status.success(), "h11_verdicts.py {kind} failed ({}):\n{stderr}", out.status);
    let verdicts: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("h11_verdicts.py printed no JSON ({e}):\n{stderr}"));
    let verdicts = verdicts.as_array().cloned().unwrap_or_else(|| panic!("h11_verdicts.py printed no JSON list"));
    let got: Vec<Value> = verdicts.iter().map(|v| v.get("name").cloned().unwrap_or(Value::Null)).collect();
    assert!(got == names, "h11_verdicts.py answered other cases than it was given");
    verdicts
}

/// Feeds each `(name, input)` to an `h11.Connection(h11.SERVER)` whose handler answers every
/// complete request (see `py/h11_verdicts.py`).
///
/// # Panics
/// As [`HttpBin::start`](crate::HttpBin::start) when the virtual environment is missing, and
/// when the script fails.
pub fn h11_server(cases: &[(&str, &[u8])]) -> Vec<H11Server> {
    let cases = cases.iter().map(|(name, input)| json!({ "name": name, "input": hex(input) })).collect();
    run_script("server", cases)
        .iter()
        .map(|v| H11Server {
            name: string(v, "name"),
            requests: v
                .get("requests")
                .and_then(Value::as_array)
                .unwrap_or_else(|| panic!("h11_verdicts.py: no requests in {v}"))
                .iter()
                .map(|r| PeerRequest {
                    method: unhex(&string(r, "method")),
                    target: unhex(&string(r, "target")),
                    body: unhex(&string(r, "body")),
                })
                .collect(),
            end: string(v, "end"),
            detail: string(v, "detail"),
        })
        .collect()
}

/// Answers an `h11.Connection(h11.CLIENT)` that sent `METHOD /` with each `(name, input,
/// method)`, then closes (see `py/h11_verdicts.py`).
///
/// # Panics
/// As [`h11_server`].
pub fn h11_client(cases: &[(&str, &[u8], &str)]) -> Vec<H11Client> {
    let cases = cases
        .iter()
        .map(|(name, input, method)| json!({ "name": name, "input": hex(input), "method": method }))
        .collect();
    run_script("client", cases)
        .iter()
        .map(|v| H11Client {
            name: string(v, "name"),
            status: v.get("status").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()),
            body: unhex(&string(v, "body")),
            end: string(v, "end"),
            detail: string(v, "detail"),
        })
        .collect()
}

/// What the echo handler saw of one request.
#[derive(Debug, Clone)]
pub struct Served {
    /// The method, target and body; the body empty when reading it failed.
    pub request: PeerRequest,
    /// Why reading the body failed: whether the error is an unexpected end of the stream (the
    /// body was incomplete when the client closed its side), and the error's chain as text.
    pub body_error: Option<(bool, String)>,
}

/// What hyper did with one connection of [`HyperEcho::exchange`].
#[derive(Debug, Clone, Default)]
pub struct HyperRun {
    /// Every request that reached the handler, in order (complete or not: see `body_error`).
    pub served: Vec<Served>,
    /// How `serve_connection` ended: `None` for `Ok`, or whether the error is hyper's
    /// `is_incomplete_message` (the client closed in the middle of a head) and the error.
    pub conn_error: Option<(bool, String)>,
    /// The statuses of the responses on the wire, 1xx included (for the report only).
    pub statuses: Vec<u16>,
}

/// Per connection, keyed by the client's address: the handler's log and, once the connection
/// task is over, its result.
type Log = Arc<Mutex<HashMap<SocketAddr, (Vec<Served>, Option<Option<(bool, String)>>)>>>;

/// A hyper 1.x http1 server with the catalogue's echo handler; stopped when dropped.
///
/// The connections are served by `http1::Builder::new()` with hyper's defaults but for
/// `half_close(true)`: [`exchange`](Self::exchange) shuts down its writing side once the input
/// is sent, to learn whether hyper waits for more of a head or body (hyper then reports the
/// message incomplete); with hyper's default, an end of input while a complete request is
/// being answered would abort it instead. The catalogue's client never closes, so this changes
/// nothing hyper decides about the bytes.
pub struct HyperEcho {
    addr: SocketAddr,
    log: Log,
    runtime: Option<tokio::runtime::Runtime>,
}

/// The whole error chain, for the report.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Whether an error's chain holds an I/O error of kind `UnexpectedEof` (hyper's body decoders
/// report a body cut short this way).
fn is_unexpected_eof(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::UnexpectedEof) {
            return true;
        }
        next = err.source();
    }
    false
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn echo(peer: SocketAddr, log: Log, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().as_bytes().to_vec();
    let target = req.uri().to_string().into_bytes();
    let (body, body_error) = match req.into_body().collect().await {
        Ok(body) => (body.to_bytes().to_vec(), None),
        Err(e) => (Vec::new(), Some((is_unexpected_eof(&e), chain(&e)))),
    };
    let status = match &body_error {
        None => hyper::StatusCode::OK,
        // The catalogue's handler answers 408 when the body stops coming and leaves other body
        // errors to the engine; hyper has no answer of its own here, so the handler gives 400.
        Some((true, _)) => hyper::StatusCode::REQUEST_TIMEOUT,
        Some((false, _)) => hyper::StatusCode::BAD_REQUEST,
    };
    let mut text = method.clone();
    text.push(b' ');
    text.extend_from_slice(&target);
    text.push(b' ');
    text.extend_from_slice(&body);
    lock(&log).entry(peer).or_default().0.push(Served { request: PeerRequest { method, target, body }, body_error });
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    Ok(response)
}

/// How long an exchange may take at most, from the connect to hyper's end of the connection.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(20);

impl HyperEcho {
    /// Starts the server on a free loopback port, on its own two-thread runtime.
    ///
    /// # Panics
    /// When the runtime or the listener cannot be created.
    pub fn start() -> HyperEcho {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
        let listener =
            runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}"));
        let log: Log = Arc::default();
        let accept_log = log.clone();
        runtime.spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let log = accept_log.clone();
                tokio::spawn(async move {
                    lock(&log).entry(peer).or_default();
                    let service_log = log.clone();
                    let service = service_fn(move |req| echo(peer, service_log.clone(), req));
                    let result =
                        http1::Builder::new().half_close(true).serve_connection(TokioIo::new(stream), service).await;
                    let end = result.err().map(|e| (e.is_incomplete_message(), chain(&e)));
                    lock(&log).entry(peer).or_default().1 = Some(end);
                });
            }
        });
        HyperEcho { addr, log, runtime: Some(runtime) }
    }

    /// Sends `input` on a fresh connection in one write, shuts down the writing side (see
    /// [`HyperEcho`]), reads until hyper closes, and returns what hyper did. Blocking: call it from a plain thread,
    /// several at once if need be.
    ///
    /// # Panics
    /// When the connection cannot be made, or hyper does not end it within 20 s.
    pub fn exchange(&self, input: &[u8]) -> HyperRun {
        let started = Instant::now();
        let mut stream = TcpStream::connect(self.addr).unwrap_or_else(|e| panic!("connect to hyper: {e}"));
        let me = stream.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}"));
        // hyper may refuse and close before it read everything: a failed write is its answer.
        let _ = stream.write_all(input);
        let _ = stream.shutdown(Shutdown::Write);
        let mut received = Vec::new();
        let left = EXCHANGE_LIMIT.saturating_sub(started.elapsed());
        assert!(read_until_close(&mut stream, &mut received, left), "hyper kept the connection open");
        loop {
            let mut log = lock(&self.log);
            if log.get(&me).is_some_and(|(_, end)| end.is_some())
                && let Some((served, Some(end))) = log.remove(&me)
            {
                return HyperRun { served, conn_error: end, statuses: statuses(&received) };
            }
            drop(log);
            assert!(started.elapsed() < EXCHANGE_LIMIT, "hyper's connection task did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for HyperEcho {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Reads into `buf` for up to `limit`; whether the peer closed (or reset) in that time.
fn read_until_close(stream: &mut TcpStream, buf: &mut Vec<u8>, limit: Duration) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    let until = Instant::now() + limit;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => return true,
        }
    }
}

/// The status codes of the responses in `bytes`, found by their `HTTP/1.x NNN ` prefix (for the
/// report only: an echoed target could fake one, none of the catalogue's does).
fn statuses(bytes: &[u8]) -> Vec<u16> {
    bytes
        .windows(13)
        .filter(|w| w.starts_with(b"HTTP/1.") && w.get(12) == Some(&b' '))
        .filter_map(|w| std::str::from_utf8(w.get(9..12)?).ok()?.parse().ok())
        .collect()
}

/// Sends `METHOD /` (with `Host: example.test`) with hyper's http1 client to a scripted loopback
/// server that reads the request head, answers with `response` and closes; the status and the
/// whole body, or hyper's error.
///
/// # Panics
/// When the loopback listener or a runtime cannot be made.
pub fn hyper_fetch(response: &[u8], method: &str) -> Result<(u16, Vec<u8>), String> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}"));
    let answer = response.to_vec();
    let server = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return };
        let _ = stream.set_read_timeout(Some(EXCHANGE_LIMIT));
        let mut head = Vec::new();
        let mut chunk = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
        let _ = stream.write_all(&answer);
        let _ = stream.shutdown(Shutdown::Both);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let method = method.to_owned();
    let result = runtime.block_on(async move {
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
                .await
                .map_err(|e| chain(&e))?;
            let conn = tokio::spawn(conn);
            let request = Request::builder()
                .method(method.as_str())
                .uri("/")
                .header("host", "example.test")
                .body(Empty::new())
                .map_err(|e| format!("building the request: {e}"))?;
            let response = sender.send_request(request).await.map_err(|e| chain(&e))?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.map_err(|e| chain(&e))?.to_bytes().to_vec();
            // The response is the verdict; what the connection does after it (bytes past the
            // body, the close) is not.
            conn.abort();
            Ok((status, body))
        };
        tokio::time::timeout(EXCHANGE_LIMIT, exchange).await.unwrap_or_else(|_| Err("timed out".to_owned()))
    });
    let _ = server.join();
    result
}

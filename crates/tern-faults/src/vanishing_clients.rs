//! Clients that vanish at every state of a request, closing (FIN) or resetting (RST).
//!
//! | State | What the client sent (and read) before it vanished |
//! |---|---|
//! | `connected` | nothing |
//! | `request-line` | `GET /ge` |
//! | `header-section` | a request line and half a header section |
//! | `head-before-body` | a whole `POST /echo` head with `Content-Length: 1000`, no body |
//! | `mid-body` | that head and 500 of the 1000 bytes |
//! | `mid-chunk-data` | a chunked `POST /echo`, inside a chunk's data |
//! | `mid-chunk-size` | a chunked `POST /echo`, inside a chunk-size line |
//! | `before-trailers` | a chunked `POST /echo` up to its last chunk, without the trailer section's end |
//! | `expect-continue` | a `POST /echo` with `Expect: 100-continue`, and read the `100 Continue` |
//! | `awaiting-response` | a whole `GET /slow`, whose handler answers 300 ms later |
//! | `mid-response` | `GET /big` (16 MiB, chunked), and read 64 KiB of it |
//! | `idle-keep-alive` | `GET /get`, and read the whole response |
//! | `pipelined` | `GET /big` and `GET /get` in one write, and read 1 KiB |
//! | `websocket-mid-frame` | a WebSocket upgrade, then half a frame |
//! | `websocket-idle` | a WebSocket upgrade, nothing after |
//!
//! Each state runs 20 times (4 with `--quick`) with each way of vanishing, several at once.
//! After each: every session is closed and freed exactly once, within 10 s; no `POST /echo`
//! handler was given a body as whole that never arrived whole (each saw an error instead);
//! every `GET /big` handler finished; and the server still answers a `GET /get` at once.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tern_proto::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use crate::harness::{self, Harness, get_request, read_response};

/// Repeats of each state and way of vanishing: full size and quick.
const REPEATS: usize = 20;
const REPEATS_QUICK: usize = 4;

/// The states, in order.
const STATES: [&str; 15] = [
    "connected",
    "request-line",
    "header-section",
    "head-before-body",
    "mid-body",
    "mid-chunk-data",
    "mid-chunk-size",
    "before-trailers",
    "expect-continue",
    "awaiting-response",
    "mid-response",
    "idle-keep-alive",
    "pipelined",
    "websocket-mid-frame",
    "websocket-idle",
];

/// States whose `POST /echo` handler must see its body fail.
const BODY_STATES: [&str; 6] =
    ["head-before-body", "mid-body", "mid-chunk-data", "mid-chunk-size", "before-trailers", "expect-continue"];

const POST_HEAD: &str = "POST /echo HTTP/1.1\r\nHost: faults\r\nContent-Length: 1000\r\n\r\n";
const CHUNKED_HEAD: &str = "POST /echo HTTP/1.1\r\nHost: faults\r\nTransfer-Encoding: chunked\r\n\r\n";
const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: faults\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

pub(crate) async fn run(quick: bool) -> crate::Outcome {
    let repeats = if quick { REPEATS_QUICK } else { REPEATS };
    let connection = ServerConfig { recv_wait_timeout_ms: 2000, send_wait_timeout_ms: 2000, ..ServerConfig::default() };
    let h = Harness::start(harness::config(2 * repeats + 8, connection), STATES.len() * 2 * repeats + 64).await?;
    let fds_before = harness::open_fds()?;
    let mut slowest = (Duration::ZERO, "");

    for state in STATES {
        for reset in [false, true] {
            let how = if reset { "RST" } else { "FIN" };
            let c = &h.counters;
            let (whole, errors) = (c.bodies_whole.load(Ordering::SeqCst), c.body_errors.load(Ordering::SeqCst));
            let big = c.big_whole.load(Ordering::SeqCst) + c.big_errors.load(Ordering::SeqCst);
            let expected = c.opened() + repeats as u64;
            let mut clients = JoinSet::new();
            for _ in 0..repeats {
                let addr = h.addr;
                clients.spawn(async move { vanish_at(addr, state, reset).await });
            }
            for outcome in clients.join_all().await {
                outcome.map_err(|e| format!("{state} ({how}): the client failed before vanishing: {e}"))?;
            }
            let vanished = Instant::now();
            h.settle(expected, Duration::from_secs(10)).await.map_err(|e| format!("{state} ({how}): {e}"))?;
            let took = vanished.elapsed();
            if took > slowest.0 {
                slowest = (took, state);
            }

            let whole_now = c.bodies_whole.load(Ordering::SeqCst);
            let errors_now = c.body_errors.load(Ordering::SeqCst);
            if whole_now != whole {
                return Err(format!("{state} ({how}): {} handlers got a whole body", whole_now - whole));
            }
            if BODY_STATES.contains(&state) && errors_now - errors != repeats as u64 {
                return Err(format!("{state} ({how}): {} of {repeats} body reads failed", errors_now - errors));
            }
            if matches!(state, "mid-response" | "pipelined") {
                let finished = harness::wait_until(Duration::from_secs(10), || {
                    c.big_whole.load(Ordering::SeqCst) + c.big_errors.load(Ordering::SeqCst) - big == repeats as u64
                })
                .await;
                if !finished {
                    return Err(format!("{state} ({how}): not every GET /big handler finished"));
                }
            }
            harness::healthy(h.addr, Duration::from_secs(2))
                .await
                .map_err(|e| format!("after {state} ({how}): {e}"))?;
        }
    }

    h.settle(h.counters.opened(), Duration::from_secs(10)).await?;
    let fds_after = harness::open_fds()?;
    if fds_after != fds_before {
        return Err(format!("server descriptors: {fds_before} before, {fds_after} after"));
    }
    let sessions = h.counters.opened();
    let c = &h.counters;
    h.server.stop().await;
    Ok(format!(
        "{} states x FIN/RST x {repeats}: {sessions} sessions (with the health checks) closed and freed once; \
         {} body reads failed and none was passed on as whole; {} GET /big sent whole, {} cut off; \
         slowest cleanup {:.0} ms ({}); server fds back to {fds_after}",
        STATES.len(),
        c.body_errors.load(Ordering::SeqCst),
        c.big_whole.load(Ordering::SeqCst),
        c.big_errors.load(Ordering::SeqCst),
        slowest.0.as_secs_f64() * 1000.0,
        slowest.1,
    ))
}

/// Brings a fresh connection to `state`, then vanishes: close, or reset with `reset`.
async fn vanish_at(addr: SocketAddr, state: &str, reset: bool) -> Result<(), String> {
    // A small receive buffer, so that a response of 16 MiB cannot all be sent before the
    // client vanishes (the server's send buffer grows to 4 MiB).
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket.set_recv_buffer_size(16 * 1024).map_err(|e| format!("SO_RCVBUF: {e}"))?;
    let mut s = socket.connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let send = |s: &'static str| s.as_bytes().to_vec();
    let mut half_body = POST_HEAD.as_bytes().to_vec();
    half_body.extend_from_slice(&[b'b'; 500]);
    let (bytes, then) = match state {
        "connected" => (Vec::new(), Read::Nothing),
        "request-line" => (send("GET /ge"), Read::Nothing),
        "header-section" => (send("GET /get HTTP/1.1\r\nHost: faults\r\nX-A: "), Read::Nothing),
        "head-before-body" => (send(POST_HEAD), Read::Nothing),
        "mid-body" => (half_body, Read::Nothing),
        "mid-chunk-data" => ([CHUNKED_HEAD, "100\r\n", &"c".repeat(50)].concat().into_bytes(), Read::Nothing),
        "mid-chunk-size" => ([CHUNKED_HEAD, "10\r\n0123456789abcdef\r\n1"].concat().into_bytes(), Read::Nothing),
        "before-trailers" => ([CHUNKED_HEAD, "3\r\nabc\r\n0\r\nX-T: 1\r\n"].concat().into_bytes(), Read::Nothing),
        "expect-continue" => (
            send("POST /echo HTTP/1.1\r\nHost: faults\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n"),
            Read::Head("100"),
        ),
        "awaiting-response" => (get_request("/slow"), Read::Nothing),
        "mid-response" => (get_request("/big"), Read::Bytes(64 * 1024)),
        "idle-keep-alive" => (get_request("/get"), Read::Response),
        "pipelined" => ([get_request("/big"), get_request("/get")].concat(), Read::Bytes(1024)),
        "websocket-mid-frame" => (send(UPGRADE), Read::Head("101")),
        "websocket-idle" => (send(UPGRADE), Read::Head("101")),
        other => return Err(format!("no state {other}")),
    };
    if !bytes.is_empty() {
        s.write_all(&bytes).await.map_err(|e| format!("write: {e}"))?;
    }
    match then {
        Read::Nothing => {}
        Read::Head(status) => {
            let head = read_head(&mut s).await?;
            if head.get(9..12) != Some(status) {
                return Err(format!("expected {status}, got {:?}", head.lines().next()));
            }
        }
        Read::Bytes(n) => {
            let mut buf = vec![0u8; n];
            s.read_exact(&mut buf).await.map_err(|e| format!("read: {e}"))?;
        }
        Read::Response => {
            read_response(&mut s, &mut Vec::new()).await?;
        }
    }
    if state == "websocket-mid-frame" {
        // A masked text frame of 10 bytes: the header, the mask, 3 bytes of payload.
        s.write_all(&[0x81, 0x8a, 0, 0, 0, 0, b'a', b'b', b'c']).await.map_err(|e| format!("write: {e}"))?;
    }
    if reset {
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).map_err(|e| format!("linger: {e}"))?;
    }
    drop(s);
    Ok(())
}

/// What a client reads before it vanishes.
enum Read {
    Nothing,
    /// A response head with this status.
    Head(&'static str),
    /// This many bytes of whatever comes.
    Bytes(usize),
    /// One whole response.
    Response,
}

/// Reads up to the end of a response head.
async fn read_head(s: &mut TcpStream) -> Result<String, String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).await.map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before a response head".into());
        }
        buf.extend_from_slice(&byte);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

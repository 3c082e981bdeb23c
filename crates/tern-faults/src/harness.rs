//! What the server-side scenarios share: a tern-tokio server whose hooks account for every
//! session, a few handlers, raw HTTP over `TcpStream`, and the process's open descriptors.
//!
//! Every session gets a context from the open hook, a [`SessionTracker`] numbered by the
//! order sessions opened; its `Drop` is the free hook (ESP-IDF's `free_ctx`) and marks its
//! number. [`Counters::check_balanced`] then says whether each session opened was closed once
//! (the close hook) and freed once (every number marked exactly once).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tern_proto::Method;
use tern_proto::server::{MethodFilter, ServerConfig, ServerError};
use tern_tokio::server::{Config, Error, HandlerResult, Request, Server, ServerHandle, UriHandler};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The body of `GET /get`.
pub(crate) const GET_BODY: &[u8] = b"hello from tern";
/// The size of `GET /big`'s body, sent in 16 KiB chunks: more than loopback's socket buffers hold.
pub(crate) const BIG_LEN: usize = 16 << 20;
/// How long `GET /slow` waits before it answers.
pub(crate) const SLOW_HANDLER: Duration = Duration::from_millis(300);

/// What the hooks and handlers saw.
pub(crate) struct Counters {
    /// Sessions the open hook saw.
    pub(crate) opened: AtomicU64,
    /// Sessions the close hook saw.
    pub(crate) closed: AtomicU64,
    /// Free-hook runs per session, by the order sessions opened.
    freed: Vec<AtomicU8>,
    /// Free-hook runs in all.
    freed_total: AtomicU64,
    /// Sessions beyond `freed`'s length, or whose context could not be set.
    untracked: AtomicU64,
    /// `POST /echo` bodies received whole.
    pub(crate) bodies_whole: AtomicU64,
    /// `POST /echo` bodies that failed (the client vanished, a timeout).
    pub(crate) body_errors: AtomicU64,
    /// Of those, the ones that failed as `BodyTooSlow` (under `min_body_rate`).
    pub(crate) body_too_slow: AtomicU64,
    /// `GET /big` responses sent whole, and those that failed.
    pub(crate) big_whole: AtomicU64,
    pub(crate) big_errors: AtomicU64,
}

impl Counters {
    fn new(capacity: usize) -> Counters {
        Counters {
            opened: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            freed: (0..capacity).map(|_| AtomicU8::new(0)).collect(),
            freed_total: AtomicU64::new(0),
            untracked: AtomicU64::new(0),
            bodies_whole: AtomicU64::new(0),
            body_errors: AtomicU64::new(0),
            body_too_slow: AtomicU64::new(0),
            big_whole: AtomicU64::new(0),
            big_errors: AtomicU64::new(0),
        }
    }

    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Ordering::SeqCst)
    }

    pub(crate) fn closed(&self) -> u64 {
        self.closed.load(Ordering::SeqCst)
    }

    /// Sessions open now, by the hooks.
    pub(crate) fn open_now(&self) -> u64 {
        self.opened().saturating_sub(self.closed())
    }

    /// Ok when every session opened so far was closed once and freed once.
    pub(crate) fn check_balanced(&self) -> Result<(), String> {
        let opened = self.opened();
        let closed = self.closed();
        if opened != closed {
            return Err(format!("{opened} sessions opened, {closed} closed"));
        }
        let untracked = self.untracked.load(Ordering::SeqCst);
        if untracked > 0 {
            return Err(format!("{untracked} sessions had no tracked context"));
        }
        let count = usize::try_from(opened).unwrap_or(usize::MAX);
        let mut never = 0usize;
        let mut twice = 0usize;
        for slot in self.freed.iter().take(count) {
            match slot.load(Ordering::SeqCst) {
                0 => never += 1,
                1 => {}
                _ => twice += 1,
            }
        }
        if never > 0 || twice > 0 {
            return Err(format!("free hook: {never} sessions never freed, {twice} freed more than once"));
        }
        Ok(())
    }
}

/// A session's context: its `Drop` is the free hook.
struct SessionTracker {
    serial: usize,
    counters: Arc<Counters>,
}

impl Drop for SessionTracker {
    fn drop(&mut self) {
        self.counters.freed_total.fetch_add(1, Ordering::SeqCst);
        match self.counters.freed.get(self.serial) {
            Some(slot) => {
                slot.fetch_add(1, Ordering::SeqCst);
            }
            None => {
                self.counters.untracked.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// A running server and its counters.
pub(crate) struct Harness {
    pub(crate) server: Server,
    pub(crate) addr: SocketAddr,
    pub(crate) counters: Arc<Counters>,
}

impl Harness {
    /// Starts a server on loopback with `config`'s limits, tracking up to `capacity` sessions,
    /// with the handlers `GET /get`, `POST /echo`, `GET /big`, `GET /slow` and the WebSocket
    /// echo `/ws`.
    pub(crate) async fn start(config: Config, capacity: usize) -> Result<Harness, String> {
        let counters = Arc::new(Counters::new(capacity));
        let handle: Arc<OnceLock<ServerHandle>> = Arc::new(OnceLock::new());
        let open = {
            let (counters, handle) = (counters.clone(), handle.clone());
            Arc::new(move |id, _peer| {
                let serial = counters.opened.fetch_add(1, Ordering::SeqCst);
                let tracker = SessionTracker {
                    serial: usize::try_from(serial).unwrap_or(usize::MAX),
                    counters: counters.clone(),
                };
                let set = handle.get().map(|h| h.set_sess_ctx(id, tracker));
                if !matches!(set, Some(Ok(()))) {
                    counters.untracked.fetch_add(1, Ordering::SeqCst);
                }
                true
            })
        };
        let close = {
            let counters = counters.clone();
            Arc::new(move |_id| {
                counters.closed.fetch_add(1, Ordering::SeqCst);
            })
        };
        let config = Config {
            bind: Ipv4Addr::LOCALHOST.into(),
            server_port: 0,
            max_uri_handlers: 8,
            open_fn: Some(open),
            close_fn: Some(close),
            ..config
        };
        let server = Server::start(config).await.map_err(|e| format!("server start: {e}"))?;
        let _ = handle.set(server.handle());
        let c = counters.clone();
        let register = |h: UriHandler| server.register_uri_handler(h).map_err(|e| format!("register: {e}"));
        register(UriHandler::new("/get", Method::Get, get))?;
        register(UriHandler::new("/slow", Method::Get, slow))?;
        let echo_counters = c.clone();
        register(UriHandler::new("/echo", Method::Post, move |req: Request| echo(req, echo_counters.clone())))?;
        let big_counters = c.clone();
        register(UriHandler::new("/big", Method::Get, move |req: Request| big(req, big_counters.clone())))?;
        register(UriHandler::new("/ws", MethodFilter::from(Method::Get), ws_echo).websocket(true))?;
        let addr = server.local_addr();
        Ok(Harness { server, addr, counters })
    }

    /// Waits until at least `expected` sessions have opened and every one of them has been
    /// closed and freed (the close hook runs before the context is dropped), then checks that
    /// each ran exactly once. A connection the kernel accepted but the server has not opened
    /// yet is not missed: the count says it must come.
    pub(crate) async fn settle(&self, expected: u64, patience: Duration) -> Result<(), String> {
        let c = &self.counters;
        wait_until(patience, || {
            let opened = c.opened();
            opened >= expected && c.closed() == opened && c.freed_total.load(Ordering::SeqCst) == opened
        })
        .await;
        if c.opened() < expected {
            return Err(format!("{expected} connections, but only {} sessions opened", c.opened()));
        }
        c.check_balanced()
    }
}

/// A base server configuration: `max_open_sockets` slots, a listen backlog for bursts.
pub(crate) fn config(max_open_sockets: usize, connection: ServerConfig) -> Config {
    Config { max_open_sockets, backlog_conn: 1024, connection, ..Config::default() }
}

async fn get(mut req: Request) -> HandlerResult {
    req.send(GET_BODY).await
}

async fn slow(mut req: Request) -> HandlerResult {
    tokio::time::sleep(SLOW_HANDLER).await;
    req.send(b"late").await
}

async fn echo(mut req: Request, counters: Arc<Counters>) -> HandlerResult {
    match req.recv_body(1 << 20).await {
        Ok(body) => {
            counters.bodies_whole.fetch_add(1, Ordering::SeqCst);
            req.send(&body).await
        }
        Err(e) => {
            counters.body_errors.fetch_add(1, Ordering::SeqCst);
            if matches!(e, Error::Engine(ServerError::BodyTooSlow { .. })) {
                counters.body_too_slow.fetch_add(1, Ordering::SeqCst);
            }
            Err(e)
        }
    }
}

async fn big(mut req: Request, counters: Arc<Counters>) -> HandlerResult {
    let chunk = [b'x'; 16 * 1024];
    for _ in 0..BIG_LEN / chunk.len() {
        if let Err(e) = req.send_chunk(&chunk).await {
            counters.big_errors.fetch_add(1, Ordering::SeqCst);
            return Err(e);
        }
    }
    let done = req.send_chunk(&[]).await;
    match done {
        Ok(()) => counters.big_whole.fetch_add(1, Ordering::SeqCst),
        Err(_) => counters.big_errors.fetch_add(1, Ordering::SeqCst),
    };
    done
}

async fn ws_echo(mut req: Request) -> HandlerResult {
    let Some(frame) = req.ws_frame() else {
        return Ok(());
    };
    let payload = req.ws_recv_payload(1 << 16).await?;
    req.ws_send(frame.opcode, true, &payload).await
}

/// Polls `done` every 10 ms until it holds or `patience` passed; whether it held.
pub(crate) async fn wait_until(patience: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Descriptors this process has open now.
pub(crate) fn open_fds() -> Result<usize, String> {
    std::fs::read_dir("/proc/self/fd").map(Iterator::count).map_err(|e| format!("/proc/self/fd: {e}"))
}

/// Waits (up to 2 s) until the number of open descriptors has not changed for 200 ms.
pub(crate) fn wait_for_steady_fds() {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut last = open_fds().ok();
    let mut steady_since = Instant::now();
    while Instant::now() < deadline && steady_since.elapsed() < Duration::from_millis(200) {
        std::thread::sleep(Duration::from_millis(20));
        let now = open_fds().ok();
        if now != last {
            last = now;
            steady_since = Instant::now();
        }
    }
}

/// Raises this process's soft limit on open files to `needed` (at most the hard limit).
pub(crate) fn raise_fd_limit(needed: u64) -> Result<(), String> {
    let got = rlimit::increase_nofile_limit(needed).map_err(|e| format!("RLIMIT_NOFILE: {e}"))?;
    if got < needed {
        return Err(format!("this run needs {needed} open files; the hard limit is {got} (raise it with ulimit -Hn)"));
    }
    Ok(())
}

/// A request head, `GET path` with `Host`.
pub(crate) fn get_request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: faults\r\n\r\n").into_bytes()
}

/// Reads one response with a Content-Length body from `stream`: (status, body).
pub(crate) async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(u16, Vec<u8>), String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned();
            let status: u16 =
                head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad status line in {head:?}"))?;
            let len: usize = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let n = stream.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    return Err("closed inside a body".into());
                }
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
            let body = buf.get(end + 4..total).unwrap_or_default().to_vec();
            buf.drain(..total);
            return Ok((status, body));
        }
        let n = stream.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!("closed before a whole response head ({} bytes)", buf.len()));
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// A `GET /get` on `stream`, which must be answered 200 with [`GET_BODY`].
pub(crate) async fn get_on(stream: &mut TcpStream) -> Result<(), String> {
    stream.write_all(&get_request("/get")).await.map_err(|e| format!("write: {e}"))?;
    let (status, body) = read_response(stream, &mut Vec::new()).await?;
    if status == 200 && body == GET_BODY {
        Ok(())
    } else {
        Err(format!("GET /get answered {status} with {} bytes", body.len()))
    }
}

/// A `GET /get` on a fresh connection.
pub(crate) async fn get_once(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    get_on(&mut stream).await
}

/// A `GET /get` on a fresh connection, answered within `patience`: the server is serving.
pub(crate) async fn healthy(addr: SocketAddr, patience: Duration) -> Result<(), String> {
    tokio::time::timeout(patience, get_once(addr))
        .await
        .map_err(|_| format!("GET /get not answered within {patience:?}"))?
}

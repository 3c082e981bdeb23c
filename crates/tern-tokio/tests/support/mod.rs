//! Shared helpers for the example servers' tests: raw HTTP over a std `TcpStream`, and the
//! real peers (curl, Python's http.client) run as child processes.
#![allow(dead_code, unreachable_pub)] // each test file uses a different part; `pub` for them

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a raw client waits for bytes before a read fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs blocking peer code off the runtime's workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("the blocking peer panicked")
}

/// Polls `check` every 10 ms for at most `limit`; whether it became true.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One parsed response.
#[derive(Debug, Clone, Default)]
pub struct Resp {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The sizes of the chunks of a chunked body, in order (the last, empty one left out).
    pub chunks: Vec<usize>,
}

impl Resp {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the response says `Connection: close`.
    pub fn says_close(&self) -> bool {
        self.header("Connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Parses a head (status line and header fields) from `bytes`: the response and how many
/// bytes the head took, or `None` when it is not complete.
pub fn parse_head(bytes: &[u8]) -> Option<(Resp, usize)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&bytes[..end - 4]).expect("the head is not UTF-8");
    let mut lines = text.split("\r\n");
    let status_line = lines.next().expect("no status line");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    assert!(version.starts_with("HTTP/1."), "bad status line {status_line:?}");
    let status = parts.next().and_then(|s| s.parse().ok()).expect("no status code");
    let reason = parts.next().unwrap_or_default().to_owned();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("a header line without ':'");
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    Some((Resp { status, reason, headers, ..Resp::default() }, end))
}

/// A client on a raw TCP connection: sends any bytes, reads responses as they come.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set_read_timeout");
        stream.set_nodelay(true).expect("set_nodelay");
        Raw { stream, buf: Vec::new() }
    }

    pub fn set_read_timeout(&self, timeout: Duration) {
        self.stream.set_read_timeout(Some(timeout)).expect("set_read_timeout");
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("write to the server");
    }

    /// Shuts the sending side (the client's end of stream).
    pub fn shutdown_write(&self) {
        self.stream.shutdown(Shutdown::Write).expect("shutdown");
    }

    /// Reads more bytes into the buffer: how many (0 at the end of stream).
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn fill_or_panic(&mut self, what: &str) {
        match self.fill() {
            Ok(0) => {
                panic!("the server closed the connection while {what}; got {:?}", String::from_utf8_lossy(&self.buf))
            }
            Ok(_) => {}
            Err(e) => panic!("reading {what}: {e}; got {:?}", String::from_utf8_lossy(&self.buf)),
        }
    }

    /// The next response head; the body is left to [`body`](Self::body) or [`chunk`](Self::chunk).
    pub fn head(&mut self) -> Resp {
        loop {
            if let Some((resp, used)) = parse_head(&self.buf) {
                self.buf.drain(..used);
                return resp;
            }
            self.fill_or_panic("reading a response head");
        }
    }

    /// `n` body bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill_or_panic("reading a body");
        }
        self.buf.drain(..n).collect()
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..at + 2).collect();
                return String::from_utf8(line[..at].to_vec()).expect("a chunk line is not UTF-8");
            }
            self.fill_or_panic("reading a chunk line");
        }
    }

    /// The next chunk of a chunked body, with the CRLF that ends it (the server sends it with
    /// the chunk): `None` for the last (empty) one, which this reads with the trailer section.
    pub fn chunk(&mut self) -> Option<Vec<u8>> {
        let size_line = self.line();
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or_default().trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
        if size == 0 {
            while !self.line().is_empty() {}
            return None;
        }
        let data = self.take(size);
        assert_eq!(self.line(), "", "chunk data not followed by CRLF");
        Some(data)
    }

    /// Reads `resp`'s body as its head frames it (to the end of stream without framing).
    pub fn body(&mut self, resp: &mut Resp) {
        if resp.header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            while let Some(chunk) = self.chunk() {
                resp.chunks.push(chunk.len());
                resp.body.extend_from_slice(&chunk);
            }
        } else if let Some(len) = resp.header("Content-Length") {
            resp.body = self.take(len.parse().expect("bad Content-Length"));
        } else {
            while self.fill().expect("reading a body to the end of stream") > 0 {}
            resp.body = std::mem::take(&mut self.buf);
        }
    }

    /// The next whole response.
    pub fn response(&mut self) -> Resp {
        let mut resp = self.head();
        self.body(&mut resp);
        resp
    }

    /// Sends `request` and reads the response.
    pub fn exchange(&mut self, request: impl AsRef<[u8]>) -> Resp {
        self.send(request);
        self.response()
    }

    /// Whether the server ended the connection (end of stream or a reset) with nothing more
    /// sent, within the read timeout. `false` when the read timed out; panics on extra bytes.
    pub fn closed(&mut self) -> bool {
        assert!(self.buf.is_empty(), "unread bytes: {:?}", String::from_utf8_lossy(&self.buf));
        match self.fill() {
            Ok(0) => true,
            Ok(_) => panic!("unexpected bytes from the server: {:?}", String::from_utf8_lossy(&self.buf)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => false,
            Err(_) => true,
        }
    }

    /// Asserts the server ends the connection within the read timeout.
    pub fn assert_closed(&mut self) {
        assert!(self.closed(), "the server kept the connection open");
    }

    /// Everything the server sends until it closes the connection.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) | Err(_) => return std::mem::take(&mut self.buf),
                Ok(_) => {}
            }
        }
    }
}

/// A GET request for `path` on a keep-alive connection.
/// `config` listening on a free loopback port.
pub fn on_loopback(config: tern_tokio::server::Config) -> tern_tokio::server::Config {
    tern_tokio::server::Config { bind: std::net::Ipv4Addr::LOCALHOST.into(), server_port: 0, ..config }
}

/// `http://addr/path`.
pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

/// A request with a body.
pub fn with_body(method: &str, path: &str, body: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

/// What a peer process printed.
#[derive(Debug)]
pub struct Ran {
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Ran {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `curl -sS` with `args` (at most 10 s), asserting it succeeds.
pub fn curl(args: &[&str]) -> Ran {
    let out = Command::new("curl").args(["-sS", "--max-time", "10"]).args(args).output().expect("run curl");
    let ran = Ran { stdout: out.stdout, stderr: String::from_utf8_lossy(&out.stderr).into_owned() };
    assert!(out.status.success(), "curl {args:?} failed: {}", ran.stderr);
    ran
}

/// Runs `curl -sS -i` with `args` and parses the last response it printed (1xx heads
/// skipped); curl has already decoded a chunked body.
pub fn curl_response(args: &[&str]) -> Resp {
    let ran = curl(&[&["-i"], args].concat());
    let mut rest: &[u8] = &ran.stdout;
    loop {
        let (mut resp, used) = parse_head(rest).unwrap_or_else(|| panic!("no head in curl's output: {ran:?}"));
        rest = &rest[used..];
        if resp.status >= 200 {
            resp.body = rest.to_vec();
            return resp;
        }
    }
}

/// Runs `python3 -c script args...`, asserting it succeeds; what it printed.
pub fn python(script: &str, args: &[String]) -> String {
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "python failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// A Python script that sends requests on one http.client connection: argv is host, port,
/// then `METHOD PATH [BODY]` triples as single arguments separated by spaces. For each it
/// prints `status|body|local port` on a line; the local port shows whether the connection
/// was reused.
pub const PY_SEQUENCE: &str = r#"
import http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=5)
for spec in sys.argv[3:]:
    parts = spec.split(" ", 2)
    body = parts[2] if len(parts) > 2 else None
    conn.request(parts[0], parts[1], body=body)
    port = conn.sock.getsockname()[1]
    resp = conn.getresponse()
    print("%d|%s|%d" % (resp.status, resp.read().decode(), port))
conn.close()
"#;

/// One line of [`PY_SEQUENCE`]'s output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyResult {
    pub status: u16,
    pub body: String,
    pub local_port: u16,
}

/// Sends `requests` (`"METHOD PATH [BODY]"`) on one Python http.client connection.
pub fn py_sequence(addr: SocketAddr, requests: &[&str]) -> Vec<PyResult> {
    let mut args = vec![addr.ip().to_string(), addr.port().to_string()];
    args.extend(requests.iter().map(|r| (*r).to_owned()));
    python(PY_SEQUENCE, &args)
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, '|');
            let status = parts.next().and_then(|s| s.parse().ok()).expect("status");
            let body = parts.next().expect("body").to_owned();
            let local_port = parts.next().and_then(|s| s.parse().ok()).expect("port");
            PyResult { status, body, local_port }
        })
        .collect()
}

/// Runs `f` over `items` on `workers` threads (each takes the next item as it is free); the
/// results in the items' order.
pub fn parallel<T: Sync, R: Send>(workers: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

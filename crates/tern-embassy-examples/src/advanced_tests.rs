//! ESP-IDF's `advanced_tests` server example (`examples/protocols/http_server/advanced_tests`)
//! on tern-embassy: the same URIs answering the same on the wire, as the tern-tokio port does.
//!
//! | URI | Method | Answer |
//! |---|---|---|
//! | `/hello`, `/hello/type_html` | GET | `Hello World!` (`text/html`) |
//! | `/hello/status_500` | GET | 500 with `Hello World!` |
//! | `/test_header` | GET | 400 unless `Header1: Value1`, `Header2` and `Header3: Value3`; then `Header2`'s value |
//! | `/echo` | POST, PUT | the body back, and `Custom` back when sent; 408 on a body timeout |
//! | `/leftover_data` | POST | at most 10 bytes of the body; the rest is discarded |
//! | `/adder` | POST | the session's running sum of the integers posted |
//!
//! Two differences from ESP-IDF, both for want of an allocator and of a work queue in the
//! embassy server: `/echo` holds bodies of up to [`MAX_ECHO`] bytes (ESP-IDF mallocs the body;
//! a larger one gets its 500 "Body too large"), and `/async_data` is not registered. The
//! session's sum lives in a table of the handler (one entry per session slot) that
//! [`Handler::on_close`] clears, as ESP-IDF's free hook would.

use core::cell::RefCell;
use core::fmt::Write as _;

use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::blocking_mutex::raw::RawMutex;
use tern_embassy::server::{Config, Error, Handler, HandlerResult, HttpdErrCode, Request, Server, SessionId, Stream};
use tern_proto::{Method, StatusCode};

/// The largest body `/echo` holds.
pub const MAX_ECHO: usize = 2048;

/// The example's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /hello` and `GET /hello/type_html`.
    Hello,
    /// `GET /hello/status_500`.
    Status500,
    /// `GET /test_header`.
    TestHeader,
    /// `POST|PUT /echo`.
    Echo,
    /// `POST /leftover_data`.
    LeftoverData,
    /// `POST /adder`.
    Adder,
}

/// The example's configuration: ESP-IDF's (7 sessions, no LRU purge, exact matching, its
/// timeouts and limits) on `port`.
pub const fn config(port: u16) -> Config {
    Config { server_port: port, ..Config::DEFAULT }
}

/// One session's running sum of `/adder`.
type Sum = Option<(SessionId, i64)>;

/// The handlers, with the running sums of `/adder` for up to `SESSIONS` sessions.
pub struct AdvancedTests<M: RawMutex, const SESSIONS: usize> {
    sums: Mutex<M, RefCell<[Sum; SESSIONS]>>,
}

impl<M: RawMutex, const SESSIONS: usize> AdvancedTests<M, SESSIONS> {
    /// The handlers, with no sums yet.
    pub const fn new() -> Self {
        AdvancedTests { sums: Mutex::new(RefCell::new([None; SESSIONS])) }
    }

    /// Adds `value` to `session`'s sum (created at 0 on first use) and returns it; `None`
    /// when every entry is taken.
    fn add(&self, session: SessionId, value: i64) -> Option<i64> {
        self.sums.lock(|sums| {
            let mut sums = sums.borrow_mut();
            if let Some((_, sum)) = sums.iter_mut().flatten().find(|(id, _)| *id == session) {
                *sum = sum.saturating_add(value);
                return Some(*sum);
            }
            let free = sums.iter_mut().find(|entry| entry.is_none())?;
            *free = Some((session, value));
            Some(value)
        })
    }
}

impl<M: RawMutex, const SESSIONS: usize> Default for AdvancedTests<M, SESSIONS> {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers every URI of the example.
pub fn register<M: RawMutex, const S: usize, const TASKS: usize, const ROUTES: usize>(
    server: &Server<AdvancedTests<M, S>, M, TASKS, ROUTES>,
) -> Result<(), Error> {
    server.register_uri("/hello/type_html", Method::Get, Route::Hello)?;
    server.register_uri("/test_header", Method::Get, Route::TestHeader)?;
    server.register_uri("/hello", Method::Get, Route::Hello)?;
    server.register_uri("/hello/status_500", Method::Get, Route::Status500)?;
    server.register_uri("/echo", Method::Post, Route::Echo)?;
    server.register_uri("/echo", Method::Put, Route::Echo)?;
    server.register_uri("/leftover_data", Method::Post, Route::LeftoverData)?;
    server.register_uri("/adder", Method::Post, Route::Adder)?;
    Ok(())
}

impl<M: RawMutex, const SESSIONS: usize> Handler for AdvancedTests<M, SESSIONS> {
    type Route = Route;

    async fn handle(&self, route: Route, req: &mut Request<'_, impl Stream>) -> HandlerResult {
        match route {
            Route::Hello => req.send(b"Hello World!").await,
            Route::Status500 => {
                req.set_status(StatusCode::INTERNAL_SERVER_ERROR);
                req.send(b"Hello World!").await
            }
            Route::TestHeader => test_header(req).await,
            Route::Echo => echo(req).await,
            Route::LeftoverData => {
                let mut buf = [0u8; 10];
                let n = req.recv(&mut buf).await?;
                req.send(buf.get(..n).unwrap_or_default()).await
            }
            Route::Adder => {
                let mut buf = [0u8; 10];
                let n = req.recv(&mut buf).await?;
                let text = core::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or("").trim();
                let value: i64 = text.parse().unwrap_or(0);
                let Some(sum) = self.add(req.session(), value) else {
                    req.send_err(HttpdErrCode::InternalServerError, Some("No room for the sum")).await?;
                    return Err(Error::Handler("no room for the session's sum"));
                };
                let mut text = Decimal::default();
                let _ = write!(text, "{sum}");
                req.send(text.as_bytes()).await
            }
        }
    }

    fn on_close(&self, session: SessionId) {
        self.sums.lock(|sums| {
            for entry in sums.borrow_mut().iter_mut() {
                if entry.is_some_and(|(id, _)| id == session) {
                    *entry = None;
                }
            }
        });
    }
}

/// `GET /test_header`: `Header1: Value1` and `Header3: Value3` required, `Header2` present;
/// answers with `Header2`'s value.
async fn test_header(req: &mut Request<'_, impl Stream>) -> HandlerResult {
    for (name, expected, missing, wrong) in [
        ("Header1", "Value1", "Header1 not found", "Wrong value of Header1 received"),
        ("Header3", "Value3", "Header3 not found", "Wrong value of Header3 received"),
    ] {
        let verdict = match req.header(name) {
            None => Some(missing),
            Some(value) if value != expected.as_bytes() => Some(wrong),
            Some(_) => None,
        };
        if let Some(message) = verdict {
            req.send_err(HttpdErrCode::BadRequest, Some(message)).await?;
            return Err(Error::Handler(message));
        }
    }
    let mut value = [0u8; 256];
    let Some(len) = req.header("Header2").map(|v| {
        let n = v.len().min(value.len());
        if let (Some(dst), Some(src)) = (value.get_mut(..n), v.get(..n)) {
            dst.copy_from_slice(src);
        }
        n
    }) else {
        req.send_err(HttpdErrCode::BadRequest, Some("Header2 not found")).await?;
        return Err(Error::Handler("Header2 not found"));
    };
    req.send(value.get(..len).unwrap_or_default()).await
}

/// `POST|PUT /echo`: the body back, with `Custom` when it was sent.
async fn echo(req: &mut Request<'_, impl Stream>) -> HandlerResult {
    if req.content_len() > MAX_ECHO as u64 {
        req.send_err(HttpdErrCode::InternalServerError, Some("Body too large")).await?;
        return Err(Error::Handler("body too large"));
    }
    let mut body = [0u8; MAX_ECHO];
    let n = match req.recv_body(&mut body).await {
        Ok(n) => n,
        Err(Error::Engine(e)) if e.is_timeout() => {
            req.send_err(HttpdErrCode::RequestTimeout, None).await?;
            return Err(Error::Handler("timed out reading the body"));
        }
        Err(e) => return Err(e),
    };
    let mut custom = [0u8; 128];
    let custom_len = req.header("Custom").filter(|v| !v.is_empty() && v.len() <= custom.len()).map(|v| {
        if let Some(dst) = custom.get_mut(..v.len()) {
            dst.copy_from_slice(v);
        }
        v.len()
    });
    if let Some(value) = custom_len.and_then(|len| core::str::from_utf8(custom.get(..len)?).ok()) {
        req.set_header("Custom", value)?;
    }
    req.send(body.get(..n).unwrap_or_default()).await
}

/// A decimal number written with `core::fmt`, without an allocator.
#[derive(Default)]
struct Decimal {
    bytes: [u8; 24],
    len: usize,
}

impl Decimal {
    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl core::fmt::Write for Decimal {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

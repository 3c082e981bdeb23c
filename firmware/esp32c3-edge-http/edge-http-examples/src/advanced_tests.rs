//! ESP-IDF's `advanced_tests` server example (`examples/protocols/http_server/advanced_tests`)
//! on edge-http: the URIs tern-embassy-examples' `advanced_tests` serves, answering the same
//! on the wire where edge-http lets a handler do so.
//!
//! | URI | Method | Answer |
//! |---|---|---|
//! | `/hello`, `/hello/type_html` | GET | `Hello World!` (`text/html`) |
//! | `/hello/status_500` | GET | 500 with `Hello World!` |
//! | `/test_header` | GET | 400 unless `Header1: Value1`, `Header2` and `Header3: Value3`; then `Header2`'s value |
//! | `/echo` | POST, PUT | the body back, and `Custom` back when sent; 408 on a body timeout |
//! | `/leftover_data` | POST | at most 10 bytes of the body; the rest is discarded |
//! | `/adder` | POST | the running sum of the integers posted (per handler task, below) |
//!
//! An unknown URI gets ESP-IDF's 404, a known URI with another method its 405 (with
//! `Allow`), and both close the connection, as ESP-IDF does. edge-http routes nothing: the
//! handler matches the path itself.
//!
//! What edge-http does not let the handler do as tern's does:
//!
//! - **No session context.** [`Handler::handle`] gets the connection's request and a task
//!   id, nothing that tells one connection from the next and no call when a connection
//!   closes (ESP-IDF's `sess_ctx` and `free_ctx`, tern's `SessionId` and
//!   `Handler::on_close`). `/adder`'s sum is kept per handler task, which serves one
//!   connection at a time, and is never reset: the next connection that task serves
//!   continues the sum.
//! - **Errors the server answers**: malformed requests, a request head over the buffer,
//!   too many headers, an unknown method close the connection without a response (tern and
//!   ESP-IDF answer 400, 414, 431, 501 or 505).
//! - **408**: edge-http has no receive timeout of its own; the firmware wraps its sockets in
//!   `edge_nal::WithTimeout` (5 s per read or write, ESP-IDF's `recv_wait_timeout` and
//!   `send_wait_timeout`). A body read that times out is answered with a 408 written on the
//!   raw socket ([`Connection::unbind`]): a response through the connection would first read
//!   the rest of the body, and time out again.

use core::cell::Cell;
use core::fmt::{Debug, Display, Write as _};

use edge_http::Method;
use edge_http::io::Error;
use edge_http::io::server::{Connection, Handler};
use edge_nal::TcpSplit;
use embedded_io_async::{Error as _, ErrorKind, Read, Write};

use crate::text::Decimal;

/// Handler tasks, hence connections served at once: ESP-IDF's default `max_open_sockets`.
pub const SESSIONS: usize = 7;
/// Each handler task's buffer: edge-http's default (`DEFAULT_BUF_SIZE`), the request head and
/// the first body bytes read with it.
pub const BUF_SIZE: usize = edge_http::io::server::DEFAULT_BUF_SIZE;
/// Each handler task's socket receive and transmit buffer: tern's `DEFAULT_SOCKET_BUFFER_LEN`
/// (the firmware's pool of socket buffers has one pair per task).
pub const SOCKET_BUFFER: usize = 1536;
/// The most headers a request may carry: edge-http's default.
pub const MAX_HEADERS: usize = edge_http::DEFAULT_MAX_HEADERS_COUNT;
/// Every socket read and write gives up after this long (ESP-IDF's `recv_wait_timeout` and
/// `send_wait_timeout`, 5 s).
pub const IO_TIMEOUT_MS: u32 = 5000;
/// The largest body `/echo` holds.
pub const MAX_ECHO: usize = 2048;

/// The server the firmware runs: [`SESSIONS`] handler tasks of [`BUF_SIZE`] bytes each.
pub type AppServer = edge_http::io::server::Server<SESSIONS, BUF_SIZE, MAX_HEADERS>;

const HELLO: &[u8] = b"Hello World!";

/// The example's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Hello,
    Status500,
    TestHeader,
    Echo,
    LeftoverData,
    Adder,
}

/// An error response (`httpd_resp_send_err`) after which the connection closes.
#[derive(Debug, Clone, Copy)]
struct Refusal {
    status: u16,
    reason: &'static str,
    message: &'static str,
    allow: Option<&'static str>,
}

impl Refusal {
    const fn new(status: u16, reason: &'static str, message: &'static str) -> Refusal {
        Refusal { status, reason, message, allow: None }
    }
}

const NOT_FOUND: Refusal = Refusal::new(404, "Not Found", "Nothing matches the given URI");
const METHOD_NOT_ALLOWED: Refusal =
    Refusal::new(405, "Method Not Allowed", "Specified method is invalid for this resource");
const REQUEST_TIMEOUT_BODY: &str = "Server closed this connection";

/// What went wrong: the connection (I/O, HTTP), or the handler closed the session after its
/// error response.
#[derive(Debug)]
pub enum HandlerError<E> {
    /// edge-http's error: the socket, or the request's framing.
    Http(Error<E>),
    /// The handler answered with an error response; the connection closes.
    Closed(&'static str),
}

impl<E> From<Error<E>> for HandlerError<E> {
    fn from(e: Error<E>) -> Self {
        HandlerError::Http(e)
    }
}

/// The handlers, with `/adder`'s running sum of each of `TASKS` handler tasks.
pub struct AdvancedTests<const TASKS: usize> {
    sums: Cell<[i64; TASKS]>,
}

impl<const TASKS: usize> AdvancedTests<TASKS> {
    /// The handlers, every sum at 0.
    pub const fn new() -> Self {
        AdvancedTests { sums: Cell::new([0; TASKS]) }
    }

    /// Adds `value` to `task`'s sum and returns it; `None` for a task beyond `TASKS`.
    fn add(&self, task: usize, value: i64) -> Option<i64> {
        let mut sums = self.sums.get();
        let sum = sums.get_mut(task)?;
        *sum = sum.saturating_add(value);
        let now = *sum;
        self.sums.set(sums);
        Some(now)
    }
}

impl<const TASKS: usize> Default for AdvancedTests<TASKS> {
    fn default() -> Self {
        Self::new()
    }
}

/// The route for a request, or the refusal ESP-IDF answers it with.
fn route(method: Method, path: &str) -> Result<Route, Refusal> {
    // ESP-IDF matches the path without the query.
    let path = path.split('?').next().unwrap_or_default();
    let (route, allow) = match path {
        "/hello" | "/hello/type_html" => (Route::Hello, "GET"),
        "/hello/status_500" => (Route::Status500, "GET"),
        "/test_header" => (Route::TestHeader, "GET"),
        "/echo" => (Route::Echo, "POST, PUT"),
        "/leftover_data" => (Route::LeftoverData, "POST"),
        "/adder" => (Route::Adder, "POST"),
        _ => return Err(NOT_FOUND),
    };
    let allowed = match route {
        Route::Echo => matches!(method, Method::Post | Method::Put),
        Route::LeftoverData | Route::Adder => method == Method::Post,
        Route::Hello | Route::Status500 | Route::TestHeader => method == Method::Get,
    };
    if allowed { Ok(route) } else { Err(Refusal { allow: Some(allow), ..METHOD_NOT_ALLOWED }) }
}

impl<const TASKS: usize> Handler for AdvancedTests<TASKS> {
    type Error<E>
        = HandlerError<E>
    where
        E: Debug;

    async fn handle<T, const N: usize>(
        &self,
        task_id: impl Display + Copy,
        conn: &mut Connection<'_, T, N>,
    ) -> Result<(), HandlerError<T::Error>>
    where
        T: Read + Write + TcpSplit,
    {
        let request = conn.headers()?;
        let route = match route(request.method, request.path) {
            Ok(route) => route,
            Err(refusal) => return refuse(conn, refusal).await,
        };
        match route {
            Route::Hello => send(conn, 200, "OK", &[], HELLO).await?,
            Route::Status500 => send(conn, 500, "Internal Server Error", &[], HELLO).await?,
            Route::TestHeader => return test_header(conn).await,
            Route::Echo => return echo(conn).await,
            Route::LeftoverData => {
                let mut buf = [0u8; 10];
                let n = conn.read(&mut buf).await?;
                send(conn, 200, "OK", &[], buf.get(..n).unwrap_or_default()).await?;
            }
            Route::Adder => {
                let mut buf = [0u8; 10];
                let n = conn.read(&mut buf).await?;
                let text = core::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or("").trim();
                let value: i64 = text.parse().unwrap_or(0);
                // The only per-connection key edge-http gives is the handler task's id, and
                // only as `impl Display`.
                let Some(sum) = task_index(task_id).and_then(|task| self.add(task, value)) else {
                    let refusal = Refusal::new(500, "Internal Server Error", "No room for the sum");
                    return refuse(conn, refusal).await;
                };
                let mut text = Decimal::default();
                let _ = write!(text, "{sum}");
                send(conn, 200, "OK", &[], text.as_bytes()).await?;
            }
        }
        Ok(())
    }
}

/// The handler task's index, from its `Display`.
fn task_index(task_id: impl Display) -> Option<usize> {
    let mut text = Decimal::default();
    write!(text, "{task_id}").ok()?;
    text.as_str().parse().ok()
}

/// `GET /test_header`: `Header1: Value1` and `Header3: Value3` required, `Header2` present;
/// answers with `Header2`'s value.
async fn test_header<T: Read + Write, const N: usize>(
    conn: &mut Connection<'_, T, N>,
) -> Result<(), HandlerError<T::Error>> {
    let headers = &conn.headers()?.headers;
    let mut failure = None;
    for (name, expected, missing, wrong) in [
        ("Header1", "Value1", "Header1 not found", "Wrong value of Header1 received"),
        ("Header3", "Value3", "Header3 not found", "Wrong value of Header3 received"),
    ] {
        failure = match headers.get_raw(name) {
            None => Some(missing),
            Some(value) if value != expected.as_bytes() => Some(wrong),
            Some(_) => None,
        };
        if failure.is_some() {
            break;
        }
    }
    let mut value = [0u8; 256];
    let mut len = 0;
    if failure.is_none() {
        match headers.get_raw("Header2") {
            None => failure = Some("Header2 not found"),
            Some(v) => {
                len = v.len().min(value.len());
                if let (Some(dst), Some(src)) = (value.get_mut(..len), v.get(..len)) {
                    dst.copy_from_slice(src);
                }
            }
        }
    }
    if let Some(message) = failure {
        return refuse(conn, Refusal::new(400, "Bad Request", message)).await;
    }
    send(conn, 200, "OK", &[], value.get(..len).unwrap_or_default()).await?;
    Ok(())
}

/// `POST|PUT /echo`: the body back, with `Custom` when it was sent.
async fn echo<T: Read + Write, const N: usize>(conn: &mut Connection<'_, T, N>) -> Result<(), HandlerError<T::Error>> {
    let headers = &conn.headers()?.headers;
    let content_len = headers.content_len().unwrap_or(0);
    let mut custom = [0u8; 128];
    let custom_len = headers.get_raw("Custom").filter(|v| !v.is_empty() && v.len() <= custom.len()).map(|v| {
        if let Some(dst) = custom.get_mut(..v.len()) {
            dst.copy_from_slice(v);
        }
        v.len()
    });
    if content_len > MAX_ECHO as u64 {
        return refuse(conn, Refusal::new(500, "Internal Server Error", "Body too large")).await;
    }
    let mut body = [0u8; MAX_ECHO];
    let mut n = 0;
    while let Some(rest) = body.get_mut(n..).filter(|rest| !rest.is_empty()) {
        match conn.read(rest).await {
            Ok(0) => break,
            Ok(got) => n += got,
            Err(e) if e.kind() == ErrorKind::TimedOut => return request_timeout(conn).await,
            Err(e) => return Err(e.into()),
        }
    }
    let custom = custom_len.and_then(|len| core::str::from_utf8(custom.get(..len)?).ok());
    let field = [("Custom", custom.unwrap_or_default())];
    let extra = field.get(..usize::from(custom.is_some())).unwrap_or_default();
    send(conn, 200, "OK", extra, body.get(..n).unwrap_or_default()).await?;
    Ok(())
}

/// Starts a `text/html` response with `Content-Length` (ESP-IDF's `httpd_resp_send`) and up
/// to two `extra` fields, and writes `body`; edge-http finishes it when the handler returns.
async fn send<T: Read + Write, const N: usize>(
    conn: &mut Connection<'_, T, N>,
    status: u16,
    reason: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Result<(), Error<T::Error>> {
    let mut len = Decimal::default();
    let _ = write!(len, "{}", body.len());
    let mut all = [("Content-Type", "text/html"), ("Content-Length", len.as_str()), ("", ""), ("", "")];
    let mut used = 2;
    for (slot, field) in all.iter_mut().skip(used).zip(extra) {
        *slot = *field;
        used += 1;
    }
    conn.initiate_response(status, Some(reason), all.get(..used).unwrap_or_default()).await?;
    conn.write_all(body).await
}

/// Sends `refusal` and ends the connection (the handler's `Err`), saying so in the head.
async fn refuse<T: Read + Write, const N: usize>(
    conn: &mut Connection<'_, T, N>,
    refusal: Refusal,
) -> Result<(), HandlerError<T::Error>> {
    let close = ("Connection", "close");
    let fields = match refusal.allow {
        Some(methods) => [close, ("Allow", methods)],
        None => [close, ("", "")],
    };
    let extra = fields.get(..if refusal.allow.is_some() { 2 } else { 1 }).unwrap_or_default();
    send(conn, refusal.status, refusal.reason, extra, refusal.message.as_bytes()).await?;
    conn.complete().await?;
    Err(HandlerError::Closed(refusal.message))
}

/// ESP-IDF's 408 after a body read timed out, written on the raw socket (edge-http would
/// read the rest of the body before a response), then the connection ends.
async fn request_timeout<T: Read + Write, const N: usize>(
    conn: &mut Connection<'_, T, N>,
) -> Result<(), HandlerError<T::Error>> {
    let mut len = Decimal::default();
    let _ = write!(len, "{}", REQUEST_TIMEOUT_BODY.len());
    let io = conn.unbind()?;
    for part in [
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/html\r\nContent-Length: ",
        len.as_str(),
        "\r\n\r\n",
        REQUEST_TIMEOUT_BODY,
    ] {
        io.write_all(part.as_bytes()).await.map_err(Error::Io)?;
    }
    io.flush().await.map_err(Error::Io)?;
    Err(HandlerError::Closed("timed out reading the body"))
}

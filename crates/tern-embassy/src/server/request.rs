//! [`Request`]: one session's engine and stream, as its handler sees them: the request's head
//! and body, the response, and on a WebSocket route the frame (ESP-IDF's `httpd_req_t` and
//! its `httpd_req_*`, `httpd_resp_*` and `httpd_ws_*` calls). The session loop drives the
//! same object between requests.

use core::future::poll_fn;
use core::task::{Context, Poll};

use embassy_futures::select::{Either, select};
use embassy_time::TimeoutError;

use crate::clock::{now, until};
use tern_proto::server::{Action, Completion, Connection, HttpdErrCode, Response, ServerError, SessionId};
use tern_proto::ws::{CloseCode, FrameInfo, Opcode};
use tern_proto::{Method, StatusCode};

use super::error::Error;
use super::handler::Stream;

/// Most extra response headers a handler may set ([`Request::set_header`]): ESP-IDF's
/// default `max_resp_headers`. The engine's `limits.max_response_headers` may lower it.
pub const MAX_RESP_HEADERS: usize = 8;

/// Bytes a request has for the names and values of its extra response headers, its content
/// type and its reason phrase: they are copied there, so they may come from the handler's
/// own buffers (ESP-IDF keeps pointers and needs them valid until the send).
pub const RESP_HEADER_SPACE: usize = 256;

/// What a session asks the server while it waits: is it stopping, is this session asked to
/// close. The server wakes the task when either becomes true.
pub(crate) trait Interrupts {
    /// Ready when the server stops, or (with `close`) when `session` is asked to close;
    /// otherwise registers the waker of `task`.
    fn poll_interrupt(&self, task: usize, session: SessionId, close: bool, cx: &mut Context<'_>) -> Poll<()>;
}

/// The server a session belongs to, and the task slot that serves it.
#[derive(Clone, Copy)]
pub(crate) struct Watch<'a> {
    pub(crate) server: &'a dyn Interrupts,
    pub(crate) task: usize,
}

/// What a drive ended with.
pub(crate) enum Driven<T> {
    /// The engine's operation is over.
    Done(Result<T, ServerError>),
    /// The server stops, or the session was asked to close (LRU purge, `trigger_close`).
    Interrupted,
}

/// A piece of a body read, without its borrow.
enum Piece {
    Data(usize),
    End,
    Skip,
}

/// A span of [`Parts::space`].
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u16,
    len: u16,
}

/// The response head a handler builds (`httpd_resp_set_status`, `_set_type`, `_set_hdr`),
/// its strings copied into a fixed space.
struct Parts {
    status: StatusCode,
    reason: Option<Span>,
    content_type: Option<Span>,
    headers: [(Span, Span); MAX_RESP_HEADERS],
    count: usize,
    used: usize,
    space: [u8; RESP_HEADER_SPACE],
}

impl Parts {
    const fn new() -> Parts {
        Parts {
            status: StatusCode::OK,
            reason: None,
            content_type: None,
            headers: [(Span { start: 0, len: 0 }, Span { start: 0, len: 0 }); MAX_RESP_HEADERS],
            count: 0,
            used: 0,
            space: [0; RESP_HEADER_SPACE],
        }
    }

    fn clear(&mut self) {
        self.status = StatusCode::OK;
        self.reason = None;
        self.content_type = None;
        self.count = 0;
        self.used = 0;
    }

    /// Copies `s` into the space.
    fn put(&mut self, s: &str) -> Result<Span, Error> {
        let available = RESP_HEADER_SPACE - self.used;
        let needed = s.len();
        let start = self.used;
        let dst = self
            .space
            .get_mut(start..start.saturating_add(needed))
            .ok_or(Error::ResponseHeaders { needed, available })?;
        dst.copy_from_slice(s.as_bytes());
        self.used += needed;
        // Both fit in u16: the space is RESP_HEADER_SPACE bytes.
        Ok(Span { start: start as u16, len: needed as u16 })
    }

    fn get(&self, span: Span) -> &str {
        let start = usize::from(span.start);
        let bytes = self.space.get(start..start + usize::from(span.len)).unwrap_or_default();
        // Copied from a `&str` whole, so always UTF-8.
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    /// Runs `f` with the response these parts describe.
    fn with_response<R>(&self, f: impl FnOnce(&Response<'_>) -> R) -> R {
        let mut headers = [("", ""); MAX_RESP_HEADERS];
        for (slot, (name, value)) in headers.iter_mut().zip(self.headers.iter().take(self.count)) {
            *slot = (self.get(*name), self.get(*value));
        }
        let response = Response {
            status: self.status,
            reason: self.reason.map(|r| self.get(r)),
            content_type: self.content_type.map_or("text/html", |t| self.get(t)),
            headers: headers.get(..self.count).unwrap_or_default(),
        };
        f(&response)
    }
}

/// One request on one session, as its handler gets it.
///
/// It reads like ESP-IDF's request calls: [`header_str`](Self::header_str) for
/// `httpd_req_get_hdr_value_str`, [`recv`](Self::recv) for `httpd_req_recv`,
/// [`set_status`](Self::set_status) / [`set_type`](Self::set_type) /
/// [`set_header`](Self::set_header) then [`send`](Self::send) or
/// [`send_chunk`](Self::send_chunk) for `httpd_resp_*`, and on a WebSocket route
/// [`ws_frame`](Self::ws_frame), [`ws_recv`](Self::ws_recv) and [`ws_send`](Self::ws_send).
///
/// Bodies are not copied on the way out: [`send`](Self::send) writes the engine's head and
/// then the handler's slice to the stream. On the way in, [`recv`](Self::recv) copies body
/// bytes from the engine's receive buffer into the handler's.
///
/// `S` is the connection's stream (embassy-net's `TcpSocket` for [`Server::serve`]); a handler
/// takes `&mut Request<'_, impl Stream>`.
///
/// [`Server::serve`]: super::Server::serve
pub struct Request<'a, S> {
    pub(crate) engine: Connection<&'a mut [u8]>,
    pub(crate) stream: S,
    watch: Watch<'a>,
    pub(crate) frame: Option<FrameInfo>,
    resp: Parts,
}

impl<'a, S: Stream> Request<'a, S> {
    pub(crate) fn new(engine: Connection<&'a mut [u8]>, stream: S, watch: Watch<'a>) -> Request<'a, S> {
        Request { engine, stream, watch, frame: None, resp: Parts::new() }
    }

    /// Forgets the last handler's response head and frame.
    pub(crate) fn reset(&mut self) {
        self.resp.clear();
        self.frame = None;
    }

    /// Runs the engine until its operation is done (`on_done` sees the completion). `body`
    /// is the handler's body of the last send call. Every wait ends early when the server
    /// stops; with `close_wakes`, a wait for input also ends when the session is asked to
    /// close.
    ///
    /// There is no readiness to wait for on an embedded stream: each action's I/O is awaited,
    /// bounded by the deadline the poll armed.
    pub(crate) async fn drive<T>(
        &mut self,
        body: &[u8],
        close_wakes: bool,
        on_done: impl FnOnce(Completion<'_>) -> T,
    ) -> Driven<T> {
        let mut on_done = Some(on_done);
        let watch = self.watch;
        let session = self.engine.session();
        loop {
            let now = now();
            if self.engine.deadline().is_some_and(|d| now >= d) {
                self.engine.handle_timeout(now);
            }
            let (action, deadline) = self.engine.poll_with_deadline(now);
            match action {
                Action::Done(result) => {
                    let Some(f) = on_done.take() else {
                        return Driven::Done(Err(ServerError::InvalidState { operation: "drive" }));
                    };
                    return Driven::Done(result.map(f));
                }
                Action::Receive(buf) => {
                    let read = until(deadline, self.stream.read(buf));
                    match select(read, interrupted(watch, session, close_wakes)).await {
                        Either::First(Ok(Ok(n))) => self.engine.received(n, self::now()),
                        Either::First(Ok(Err(_))) => self.engine.transport_failed(),
                        Either::First(Err(TimeoutError)) => self.engine.handle_timeout(self::now()),
                        Either::Second(()) => return Driven::Interrupted,
                    }
                }
                Action::Transmit { bytes, body_from } => {
                    // The engine's bytes first, then (asked again) the handler's body: two
                    // writes into the socket's buffer in the same turn leave as one segment.
                    let part = if bytes.is_empty() {
                        body_from.and_then(|from| body.get(from..)).unwrap_or_default()
                    } else {
                        bytes
                    };
                    if part.is_empty() {
                        // A body the handler no longer passes: the response cannot be completed.
                        self.engine.transport_failed();
                        continue;
                    }
                    let write = until(deadline, self.stream.write(part));
                    match select(write, interrupted(watch, session, false)).await {
                        Either::First(Ok(Ok(0)) | Ok(Err(_))) => self.engine.transport_failed(),
                        Either::First(Ok(Ok(n))) => self.engine.transmitted(n, self::now()),
                        Either::First(Err(TimeoutError)) => self.engine.handle_timeout(self::now()),
                        Either::Second(()) => {
                            self.engine.transport_failed();
                            return Driven::Interrupted;
                        }
                    }
                }
                // The stream is closed by whoever owns it once the session ends: `serve`
                // closes its socket gracefully, `serve_connection` flushes the stream and
                // hands it back.
                Action::Close => self.engine.closed(),
            }
        }
    }

    /// Drives a send call to its `Sent`.
    async fn complete(&mut self, body: &[u8]) -> Result<(), Error> {
        match self.drive(body, false, |c| matches!(c, Completion::Sent)).await {
            Driven::Done(Ok(true)) => Ok(()),
            Driven::Done(Ok(false)) => Err(Error::Engine(ServerError::InvalidState { operation: "send" })),
            Driven::Done(Err(e)) => Err(e.into()),
            Driven::Interrupted => Err(Error::Stopped),
        }
    }

    // ----- the request ---------------------------------------------------------------------

    /// The parsed request head (method, target, headers, ...): `None` for an error handler
    /// called on something that was not a request, and on WebSocket frames after the
    /// handshake's request is gone.
    pub fn head(&self) -> Option<tern_proto::server::Request<'_>> {
        self.engine.request()
    }

    /// The method, when there is a request head.
    pub fn method(&self) -> Option<Method<'_>> {
        self.head().map(|h| h.method())
    }

    /// The request-target as sent, query included (`req->uri`); empty without a head.
    pub fn uri(&self) -> &str {
        self.head().map_or("", |h| h.uri())
    }

    /// The path: the target without its query.
    pub fn path(&self) -> &str {
        self.head().map_or("", |h| h.path())
    }

    /// The raw query string (`httpd_req_get_url_query_str`).
    pub fn query(&self) -> Option<&str> {
        self.head()?.query()
    }

    /// The value of `key` in the query, not decoded (`httpd_query_key_value`; decode with
    /// [`tern_proto::server::query::url_decode`]).
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.head()?.query_value(key)
    }

    /// The first header field named `name`, leading whitespace skipped, trailing kept.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.head()?.header(name)
    }

    /// [`header`](Self::header) as text (`httpd_req_get_hdr_value_str`).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.head()?.header_str(name)
    }

    /// The value of cookie `name` (`httpd_req_get_cookie_val`).
    pub fn cookie(&self, name: &str) -> Option<&[u8]> {
        self.head()?.cookie(name)
    }

    /// `Content-Length`, or 0 when absent or chunked (`req->content_len`).
    pub fn content_len(&self) -> u64 {
        self.head().map_or(0, |h| h.content_len())
    }

    /// Body bytes not yet read; `None` for a chunked body.
    pub fn body_remaining(&self) -> Option<u64> {
        self.engine.body_remaining()
    }

    /// The session this request arrived on (`httpd_req_to_sockfd`).
    pub fn session(&self) -> SessionId {
        self.engine.session()
    }

    /// Reads body bytes into `buf` (`httpd_req_recv`): how many; 0 once the body is
    /// complete. The first read of a request with `Expect: 100-continue` answers
    /// `100 Continue`. A client that sends nothing for `recv_wait_timeout` fails it with
    /// [`ServerError::Timeout`]; on a WebSocket frame, it reads the frame's payload.
    pub async fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.engine.read_body()?;
            let piece = self
                .drive(&[], false, |c| match c {
                    Completion::Data(data) => {
                        let n = data.len().min(buf.len());
                        if let (Some(to), Some(from)) = (buf.get_mut(..n), data.get(..n)) {
                            to.copy_from_slice(from);
                        }
                        Piece::Data(n)
                    }
                    Completion::EndOfBody => Piece::End,
                    _ => Piece::Skip,
                })
                .await;
            match piece {
                Driven::Done(Ok(Piece::Data(n))) => {
                    self.engine.consume(n);
                    return Ok(n);
                }
                Driven::Done(Ok(Piece::End)) => return Ok(0),
                // A trailer field of a chunked body.
                Driven::Done(Ok(Piece::Skip)) => {}
                Driven::Done(Err(e)) => return Err(e.into()),
                Driven::Interrupted => return Err(Error::Stopped),
            }
        }
    }

    /// Reads the whole body (or, on a WebSocket frame, the whole payload) into `buf` and
    /// returns its length; [`Error::BodyTooLarge`] when it does not fit (then part of it
    /// has been read).
    pub async fn recv_body(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let limit = buf.len();
        let expected = match self.frame {
            Some(frame) => Some(frame.payload_len),
            None => self.body_remaining(),
        };
        if expected.is_some_and(|n| n > limit as u64) {
            return Err(Error::BodyTooLarge { limit });
        }
        let mut filled = 0;
        loop {
            match buf.get_mut(filled..) {
                Some(rest) if !rest.is_empty() => match self.recv(rest).await? {
                    0 => return Ok(filled),
                    n => filled += n,
                },
                _ => {
                    // Full: the body must be over too.
                    let mut probe = [0u8; 1];
                    return match self.recv(&mut probe).await? {
                        0 => Ok(filled),
                        _ => Err(Error::BodyTooLarge { limit }),
                    };
                }
            }
        }
    }

    // ----- the response --------------------------------------------------------------------

    /// Sets the status (`httpd_resp_set_status`); default 200.
    pub fn set_status(&mut self, status: StatusCode) {
        self.resp.status = status;
    }

    /// Sets the reason phrase (copied); by default the status's canonical one.
    pub fn set_reason(&mut self, reason: &str) -> Result<(), Error> {
        self.resp.reason = Some(self.resp.put(reason)?);
        Ok(())
    }

    /// Sets `Content-Type` (`httpd_resp_set_type`, copied); default `text/html`, empty for
    /// none.
    pub fn set_type(&mut self, content_type: &str) -> Result<(), Error> {
        self.resp.content_type = Some(self.resp.put(content_type)?);
        Ok(())
    }

    /// Adds a response header (`httpd_resp_set_hdr`); name and value are copied. At most
    /// [`MAX_RESP_HEADERS`] fields and [`RESP_HEADER_SPACE`] bytes in all, else
    /// [`Error::ResponseHeaders`]. The engine refuses, at send, more than
    /// `max_resp_headers`, CR/LF/NUL in a value, and framing headers it writes itself.
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), Error> {
        if self.resp.count >= MAX_RESP_HEADERS {
            return Err(Error::ResponseHeaders { needed: self.resp.count + 1, available: MAX_RESP_HEADERS });
        }
        let mark = self.resp.used;
        let name = self.resp.put(name)?;
        let value = match self.resp.put(value) {
            Ok(value) => value,
            Err(e) => {
                self.resp.used = mark;
                return Err(e);
            }
        };
        if let Some(slot) = self.resp.headers.get_mut(self.resp.count) {
            *slot = (name, value);
            self.resp.count += 1;
        }
        Ok(())
    }

    /// Sends the whole response with `Content-Length` (`httpd_resp_send`). The body is
    /// written from `body` without a copy.
    pub async fn send(&mut self, body: &[u8]) -> Result<(), Error> {
        let engine = &mut self.engine;
        self.resp.with_response(|response| engine.send(response, body))?;
        self.complete(body).await
    }

    /// Sends one chunk of a chunked response (`httpd_resp_send_chunk`); the first call sends
    /// the head, an empty `data` ends the body (the engine also ends it when the handler
    /// returns). Each chunk is on the wire when this returns.
    pub async fn send_chunk(&mut self, data: &[u8]) -> Result<(), Error> {
        let engine = &mut self.engine;
        self.resp.with_response(|response| engine.send_chunk(response, data))?;
        self.complete(data).await
    }

    /// Sends ESP-IDF's error response for `code` with `message` or its default body
    /// (`httpd_resp_send_err`). It does not close the session by itself.
    pub async fn send_err(&mut self, code: HttpdErrCode, message: Option<&str>) -> Result<(), Error> {
        self.engine.send_err(code, message)?;
        self.complete(&[]).await
    }

    // ----- WebSocket -----------------------------------------------------------------------

    /// The WebSocket frame this call is for (`httpd_ws_recv_frame` with a zero length):
    /// `None` for an HTTP request.
    pub fn ws_frame(&self) -> Option<FrameInfo> {
        self.frame
    }

    /// Whether the session speaks WebSocket.
    pub fn is_websocket(&self) -> bool {
        self.engine.is_websocket()
    }

    /// Reads a piece of the frame's payload, unmasked (`httpd_ws_recv_frame_part`); 0 at its
    /// end. Same as [`recv`](Self::recv).
    pub async fn ws_recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.recv(buf).await
    }

    /// Sends a WebSocket frame (`httpd_ws_send_frame`); `fin = false` starts or continues a
    /// fragmented message (continue with [`Opcode::Continuation`]). The payload is not
    /// copied.
    pub async fn ws_send(&mut self, opcode: Opcode, fin: bool, payload: &[u8]) -> Result<(), Error> {
        self.engine.ws_send(opcode, fin, payload)?;
        self.complete(payload).await
    }

    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes); the
    /// session ends when the client's close arrives.
    pub async fn ws_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.engine.ws_close(code, reason)?;
        self.complete(&[]).await
    }
}

/// Resolves when the server stops or (with `close`) the session is asked to close.
async fn interrupted(watch: Watch<'_>, session: SessionId, close: bool) {
    poll_fn(|cx| watch.server.poll_interrupt(watch.task, session, close, cx)).await
}

impl<S> core::fmt::Debug for Request<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Request")
            .field("session", &self.engine.session())
            .field("frame", &self.frame)
            .finish_non_exhaustive()
    }
}

//! [`Request`]: what a handler gets: the request's head, its body, the response, the
//! session's context and, on a WebSocket endpoint, the frame (ESP-IDF's `httpd_req_t` and
//! its `httpd_req_*`, `httpd_resp_*` and `httpd_ws_*` calls).

use std::any::Any;
use std::borrow::Cow;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tern_proto::server::{Completion, HttpdErrCode, ServerError, SessionId};
use tern_proto::ws::{CloseCode, FrameInfo, Opcode};
use tern_proto::{Method, StatusCode};

use super::conn::{Conn, Driven};
use super::error::Error;
use super::shared::ServerHandle;

/// One request, owned by its handler.
///
/// It reads like ESP-IDF's request calls: [`header_str`](Self::header_str) for
/// `httpd_req_get_hdr_value_str`, [`recv`](Self::recv) for `httpd_req_recv`,
/// [`set_status`](Self::set_status) / [`set_type`](Self::set_type) /
/// [`set_header`](Self::set_header) then [`send`](Self::send) or
/// [`send_chunk`](Self::send_chunk) for `httpd_resp_*`.
///
/// ```
/// use tern_tokio::server::{HandlerResult, Request};
/// async fn echo(mut req: Request) -> HandlerResult {
///     let body = req.recv_body(64 * 1024).await?;
///     if let Some(value) = req.header_str("Custom").filter(|v| !v.is_empty()) {
///         let value = value.to_owned();
///         req.set_header("Custom", value);
///     }
///     req.send(&body).await
/// }
/// ```
///
/// The request owns its session's connection while it lives. Moving it into another task
/// makes an async handler (`httpd_req_async_handler_begin`): the session waits, and is
/// served again once the request is dropped there (`httpd_req_async_handler_complete`).
pub struct Request {
    conn: Option<Box<Conn>>,
    frame: Option<FrameInfo>,
}

/// A piece of a body read, without its borrow.
enum Piece {
    Data(usize),
    End,
    Skip,
}

impl Request {
    pub(crate) fn new(conn: Box<Conn>, frame: Option<FrameInfo>) -> Request {
        Request { conn: Some(conn), frame }
    }

    fn conn(&self) -> Option<&Conn> {
        self.conn.as_deref()
    }

    fn conn_mut(&mut self) -> Result<&mut Conn, Error> {
        self.conn.as_deref_mut().ok_or(Error::Engine(ServerError::ConnectionClosed))
    }

    /// The parsed request head (method, target, headers, ...): `None` for an error handler
    /// called on something that was not a request, and on WebSocket frames.
    pub fn head(&self) -> Option<tern_proto::server::Request<'_>> {
        self.conn()?.engine.request()
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
        self.conn()?.engine.body_remaining()
    }

    /// The session this request arrived on.
    pub fn session(&self) -> SessionId {
        self.conn().map_or(SessionId(0), |c| c.id)
    }

    /// The client's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.conn().map(|c| c.peer)
    }

    /// Whether the request came over TLS (an HTTPS server).
    pub fn is_tls(&self) -> bool {
        self.conn().is_some_and(|c| c.transport.is_tls())
    }

    /// The client's certificate chain (DER, leaf first), when it sent one over TLS and it
    /// was verified (mutual TLS: [`ServerTlsOptions::client_ca`](tern_tls::ServerTlsOptions::client_ca)).
    #[cfg(feature = "tls")]
    pub fn peer_certificates(&self) -> Option<&[tern_tls::pki_types::CertificateDer<'static>]> {
        self.conn()?.transport.tls()?.peer_certificates()
    }

    /// The server, to register handlers, queue work, push to other sessions.
    pub fn server(&self) -> Option<ServerHandle> {
        self.conn().map(|c| ServerHandle { shared: c.shared.clone() })
    }

    /// Reads body bytes into `buf` (`httpd_req_recv`): how many; 0 once the body is
    /// complete. The first read of a request with `Expect: 100-continue` answers
    /// `100 Continue`. A client that sends nothing for `recv_wait_timeout` fails it with
    /// [`ServerError::Timeout`], one that sends under `min_body_rate` with
    /// [`ServerError::BodyTooSlow`] (both [`ServerError::is_timeout`]: answer 408); on a
    /// WebSocket frame, it reads the frame's payload.
    pub async fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let conn = self.conn_mut()?;
        loop {
            conn.engine.read_body()?;
            let piece = conn
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
                .await?;
            match piece {
                Driven::Done(Ok(Piece::Data(n))) => {
                    conn.engine.consume(n);
                    return Ok(n);
                }
                Driven::Done(Ok(Piece::End)) => return Ok(0),
                Driven::Done(Ok(Piece::Skip)) | Driven::Push(_) => {}
                Driven::Done(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Reads the whole body (or, on a WebSocket frame, the whole payload) into one buffer;
    /// [`Error::BodyTooLarge`] past `limit` bytes, with the body partly read.
    pub async fn recv_body(&mut self, limit: usize) -> Result<Bytes, Error> {
        let expected = self.body_remaining().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        if expected > limit {
            return Err(Error::BodyTooLarge { limit });
        }
        let mut body = BytesMut::with_capacity(expected);
        let conn = self.conn_mut()?;
        loop {
            conn.engine.read_body()?;
            let piece = conn
                .drive(&[], false, |c| match c {
                    Completion::Data(data) if body.len() + data.len() > limit => Piece::Skip,
                    Completion::Data(data) => {
                        body.extend_from_slice(data);
                        Piece::Data(data.len())
                    }
                    Completion::EndOfBody => Piece::End,
                    _ => Piece::Data(0),
                })
                .await?;
            match piece {
                Driven::Done(Ok(Piece::Data(n))) => conn.engine.consume(n),
                Driven::Done(Ok(Piece::End)) => return Ok(body.freeze()),
                Driven::Done(Ok(Piece::Skip)) => return Err(Error::BodyTooLarge { limit }),
                Driven::Done(Err(e)) => return Err(e.into()),
                Driven::Push(_) => {}
            }
        }
    }

    /// Sets the status (`httpd_resp_set_status`); default 200.
    pub fn set_status(&mut self, status: StatusCode) {
        if let Some(conn) = self.conn.as_deref_mut() {
            conn.resp.status = status;
        }
    }

    /// Sets the reason phrase; by default the status's canonical one.
    pub fn set_reason(&mut self, reason: impl Into<Cow<'static, str>>) {
        if let Some(conn) = self.conn.as_deref_mut() {
            conn.resp.reason = Some(reason.into());
        }
    }

    /// Sets `Content-Type` (`httpd_resp_set_type`); default `text/html`, empty for none.
    pub fn set_type(&mut self, content_type: impl Into<Cow<'static, str>>) {
        if let Some(conn) = self.conn.as_deref_mut() {
            conn.resp.content_type = content_type.into();
        }
    }

    /// Adds a response header (`httpd_resp_set_hdr`). The engine refuses, at send, more than
    /// `max_resp_headers`, CR/LF/NUL in a value, and framing headers it writes itself.
    pub fn set_header(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) {
        if let Some(conn) = self.conn.as_deref_mut() {
            conn.resp.headers.push((name.into(), value.into()));
        }
    }

    /// Sends the whole response with `Content-Length` (`httpd_resp_send`). The body is
    /// written from `body` without a copy.
    pub async fn send(&mut self, body: &[u8]) -> Result<(), Error> {
        let conn = self.conn_mut()?;
        conn.start_response(|engine, response| engine.send(response, body))?;
        conn.complete(body).await
    }

    /// Sends one chunk of a chunked response (`httpd_resp_send_chunk`); the first call sends
    /// the head, an empty `data` ends the body (the engine also ends it when the handler
    /// returns).
    pub async fn send_chunk(&mut self, data: &[u8]) -> Result<(), Error> {
        let conn = self.conn_mut()?;
        conn.start_response(|engine, response| engine.send_chunk(response, data))?;
        conn.complete(data).await
    }

    /// Sends ESP-IDF's error response for `code` with `message` or its default body
    /// (`httpd_resp_send_err`). It does not close the session by itself.
    pub async fn send_err(&mut self, code: HttpdErrCode, message: Option<&str>) -> Result<(), Error> {
        let conn = self.conn_mut()?;
        conn.engine.send_err(code, message)?;
        conn.complete(&[]).await
    }

    /// Marks the request failed without returning an error (for an async handler's worker):
    /// the session closes once the request is dropped.
    pub fn fail(&mut self) {
        if let Some(conn) = self.conn.as_deref_mut() {
            conn.failed = true;
        }
    }

    /// The WebSocket frame this call is for (`httpd_ws_recv_frame` with a zero length):
    /// `None` for an HTTP request.
    pub fn ws_frame(&self) -> Option<FrameInfo> {
        self.frame
    }

    /// Whether the session speaks WebSocket.
    pub fn is_websocket(&self) -> bool {
        self.conn().is_some_and(|c| c.engine.is_websocket())
    }

    /// Reads a piece of the frame's payload, unmasked (`httpd_ws_recv_frame_part`); 0 at its
    /// end. Same as [`recv`](Self::recv).
    pub async fn ws_recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.recv(buf).await
    }

    /// Reads the frame's whole payload (`httpd_ws_recv_frame`); [`Error::BodyTooLarge`] past
    /// `limit`.
    pub async fn ws_recv_payload(&mut self, limit: usize) -> Result<Bytes, Error> {
        if self.frame.is_some_and(|f| f.payload_len > limit as u64) {
            return Err(Error::BodyTooLarge { limit });
        }
        self.recv_body(limit).await
    }

    /// Sends a WebSocket frame (`httpd_ws_send_frame`); `fin = false` starts or continues a
    /// fragmented message (continue with [`Opcode::Continuation`]).
    pub async fn ws_send(&mut self, opcode: Opcode, fin: bool, payload: &[u8]) -> Result<(), Error> {
        let conn = self.conn_mut()?;
        conn.engine.ws_send(opcode, fin, payload)?;
        conn.complete(payload).await
    }

    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes).
    pub async fn ws_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let conn = self.conn_mut()?;
        conn.engine.ws_close(code, reason)?;
        conn.complete(&[]).await
    }

    /// Sets the session's context (`req->sess_ctx`); the one it replaces is dropped.
    pub fn set_sess_ctx<T: Any + Send>(&self, ctx: T) -> Result<(), Error> {
        let (server, id) = self.server_and_id()?;
        server.set_sess_ctx(id, ctx)
    }

    /// Runs `f` on the session's context when it is a `T`.
    pub fn with_sess_ctx<T: Any + Send, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let (server, id) = self.server_and_id().ok()?;
        server.with_sess_ctx(id, f)
    }

    /// Runs `f` on the session's context, created with `init` on first use.
    pub fn with_sess_ctx_or_insert<T: Any + Send, R>(
        &self,
        init: impl FnOnce() -> T,
        f: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        let (server, id) = self.server_and_id().ok()?;
        server.with_sess_ctx_or_insert(id, init, f)
    }

    /// Takes the session's context out (it has none after), when it is a `T`.
    pub fn take_sess_ctx<T: Any + Send>(&self) -> Option<T> {
        let (server, id) = self.server_and_id().ok()?;
        server.take_sess_ctx(id)
    }

    fn server_and_id(&self) -> Result<(ServerHandle, SessionId), Error> {
        let conn = self.conn().ok_or(Error::Engine(ServerError::ConnectionClosed))?;
        Ok((ServerHandle { shared: conn.shared.clone() }, conn.id))
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && let Some(home) = conn.home.upgrade()
        {
            home.put(conn);
        }
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("session", &self.session())
            .field("uri", &self.uri())
            .field("frame", &self.frame)
            .finish_non_exhaustive()
    }
}

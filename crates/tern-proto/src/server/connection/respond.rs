//! Responses: the head written into the transmit buffer, the body sent from the handler's
//! buffer without a copy.

use super::engine::{Connection, Expect, Op, Phase, Resp};
use super::error::ServerError;
use crate::chunked::ChunkHeader;
use crate::error::LocalError;
use crate::server::HttpdErrCode;
use crate::status::StatusCode;
use crate::syntax::{eq_ignore_case, list_elements};
use crate::version::Version;
use crate::write::HeadWriter;

/// A response head as a handler describes it (ESP-IDF's `httpd_resp_set_status`,
/// `httpd_resp_set_type` and `httpd_resp_set_hdr`). The engine adds the framing
/// (`Content-Length` or `Transfer-Encoding`) and `Connection` when it will close.
///
/// ```
/// use tern_proto::StatusCode;
/// use tern_proto::server::Response;
/// let headers = [("Cache-Control", "no-store")];
/// let resp = Response { content_type: "text/plain", headers: &headers, ..Response::new(StatusCode::CREATED) };
/// assert_eq!(Response::default().status, StatusCode::OK);
/// assert_eq!(Response::default().content_type, "text/html");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'r> {
    /// The status; default 200.
    pub status: StatusCode,
    /// The reason phrase; `None` gives the status's canonical one.
    pub reason: Option<&'r str>,
    /// `Content-Type`; default `text/html` as in ESP-IDF. Empty: no `Content-Type` line.
    pub content_type: &'r str,
    /// Extra header fields, at most `max_response_headers` (ESP-IDF's `max_resp_headers`).
    /// Values holding CR, LF or NUL are refused; so are `Content-Length` and
    /// `Transfer-Encoding`, which the engine writes itself. A `Connection: close` here closes
    /// the session after the response.
    pub headers: &'r [(&'r str, &'r str)],
}

impl Response<'_> {
    /// A response with this status, `text/html` and no extra headers.
    pub const fn new(status: StatusCode) -> Self {
        Response { status, reason: None, content_type: "text/html", headers: &[] }
    }
}

impl Default for Response<'_> {
    fn default() -> Self {
        Response::new(StatusCode::OK)
    }
}

/// How the head frames the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadFraming {
    Length(u64),
    Chunked,
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> Connection<B> {
    /// Sends a whole response with `Content-Length` (`httpd_resp_send`). The body is not
    /// copied: [`Action::Transmit`](super::Action::Transmit) asks for it by offset, so keep it
    /// until [`poll`](Self::poll) gives [`Completion::Sent`](super::Completion::Sent). A
    /// response to HEAD (and a 204 or 304) goes without its body.
    ///
    /// # Errors
    ///
    /// [`ServerError::InvalidState`] outside a handler or after a response was started;
    /// [`ServerError::Response`] for a head that cannot be written (CR or LF in a value, more
    /// than `max_response_headers` fields, a head larger than the transmit buffer). Nothing
    /// is queued then, and another response may be tried.
    pub fn send(&mut self, response: &Response<'_>, body: &[u8]) -> Result<(), ServerError> {
        self.check_send("send")?;
        if self.resp != Resp::NotStarted {
            return Err(ServerError::InvalidState { operation: "send after a response was started" });
        }
        self.write_head(response, HeadFraming::Length(body.len() as u64))?;
        self.body_len = if self.suppress_body(response.status) { 0 } else { body.len() };
        self.body_pos = 0;
        self.resp = Resp::Complete;
        self.start_send();
        Ok(())
    }

    /// Sends one chunk of a chunked response (`httpd_resp_send_chunk`): the first call sends
    /// the head from `response` with `Transfer-Encoding: chunked` (later calls ignore it), an
    /// empty `data` ends the body. To an HTTP/1.0 client, which has no chunked coding, the
    /// data goes unframed and the session closes after it. Like [`send`](Self::send), `data`
    /// is not copied.
    pub fn send_chunk(&mut self, response: &Response<'_>, data: &[u8]) -> Result<(), ServerError> {
        self.check_send("send_chunk")?;
        match self.resp {
            Resp::NotStarted => self.write_head(response, HeadFraming::Chunked)?,
            Resp::Chunked { .. } => {}
            _ => return Err(ServerError::InvalidState { operation: "send_chunk after a whole response" }),
        }
        let Resp::Chunked { framed, crlf_owed, silent } = self.resp else {
            return Err(ServerError::InvalidState { operation: "send_chunk" });
        };
        if data.is_empty() {
            if framed {
                self.queue_last_chunk()?;
            }
            self.resp = Resp::Complete;
        } else if !silent {
            if framed {
                let header = ChunkHeader::new(data.len() as u64);
                let crlf: &[u8] = if crlf_owed { b"\r\n" } else { b"" };
                self.reserve(crlf.len() + header.as_bytes().len())?;
                self.put_out(crlf);
                self.put_out(header.as_bytes());
                self.resp = Resp::Chunked { framed, crlf_owed: true, silent };
            }
            self.body_len = data.len();
            self.body_pos = 0;
        }
        self.start_send();
        Ok(())
    }

    /// Sends ESP-IDF's error response for `code` (`httpd_resp_send_err`): its status line,
    /// `text/html`, and `message` or the code's short default body, copied into the transmit
    /// buffer. It does not close the session by itself.
    pub fn send_err(&mut self, code: HttpdErrCode, message: Option<&str>) -> Result<(), ServerError> {
        self.check_send("send_err")?;
        if self.resp != Resp::NotStarted {
            return Err(ServerError::InvalidState { operation: "send_err after a response was started" });
        }
        self.write_error(code, message)?;
        self.start_send();
        Ok(())
    }

    /// Queues the default error response for `code` (no operation is started).
    pub(crate) fn queue_error(&mut self, code: HttpdErrCode) -> Result<(), ServerError> {
        self.write_error(code, None)
    }

    fn write_error(&mut self, code: HttpdErrCode, message: Option<&str>) -> Result<(), ServerError> {
        let body = message.unwrap_or(code.default_message()).as_bytes();
        let response =
            Response { status: code.status(), reason: Some(code.reason()), content_type: "text/html", headers: &[] };
        // A 405 says what the path allows (RFC 9110 section 15.5.6).
        let mut allow_buf = [0u8; 256];
        let mut allow_len = 0;
        if code == HttpdErrCode::MethodNotAllowed {
            for (i, method) in super::dispatch::allowed(self.current.allow).enumerate() {
                let sep: &[u8] = if i == 0 { b"" } else { b", " };
                for part in [sep, method.as_str().as_bytes()] {
                    if let Some(dst) = allow_buf.get_mut(allow_len..allow_len + part.len()) {
                        dst.copy_from_slice(part);
                        allow_len += part.len();
                    }
                }
            }
        }
        let allow_value = core::str::from_utf8(allow_buf.get(..allow_len).unwrap_or_default()).unwrap_or_default();
        let allow = [("Allow", allow_value)];
        let response = Response { headers: if allow_len > 0 { &allow } else { &[] }, ..response };
        self.send_raw(&response, body)
    }

    /// Queues a whole response whose short body is copied into the transmit buffer (left out
    /// where the response has none); all or nothing.
    pub(crate) fn send_raw(&mut self, response: &Response<'_>, body: &[u8]) -> Result<(), ServerError> {
        let mark = (self.out_end, self.close_after);
        self.write_head(response, HeadFraming::Length(body.len() as u64))?;
        if !self.suppress_body(response.status) {
            if let Err(e) = self.reserve(body.len()) {
                (self.out_end, self.close_after) = mark;
                return Err(e);
            }
            self.put_out(body);
        }
        self.resp = Resp::Complete;
        Ok(())
    }

    /// Queues the last chunk of a chunked body.
    pub(crate) fn queue_last_chunk(&mut self) -> Result<(), ServerError> {
        let Resp::Chunked { framed: true, crlf_owed, silent: false } = self.resp else {
            self.resp = Resp::Complete;
            return Ok(());
        };
        let end: &[u8] = if crlf_owed { b"\r\n0\r\n\r\n" } else { b"0\r\n\r\n" };
        self.reserve(end.len())?;
        self.put_out(end);
        self.resp = Resp::Complete;
        Ok(())
    }

    fn check_send(&self, operation: &'static str) -> Result<(), ServerError> {
        match (self.phase, self.op) {
            (Phase::Handling | Phase::Refusing { .. }, Op::Handler) if self.body_pos >= self.body_len => Ok(()),
            (Phase::Closing | Phase::Closed, _) => Err(self.failure.unwrap_or(ServerError::ConnectionClosed)),
            _ => Err(ServerError::InvalidState { operation }),
        }
    }

    fn start_send(&mut self) {
        self.op = Op::Send;
        self.op_sent = 0;
    }

    /// The body of this response never goes on the wire.
    fn suppress_body(&self, status: StatusCode) -> bool {
        let code = status.as_u16();
        self.current.is_head || code < 200 || code == 204 || code == 304
    }

    pub(super) fn reserve(&self, needed: usize) -> Result<(), ServerError> {
        let available = self.config.tx_buffer_size.saturating_sub(self.out_end);
        if needed > available {
            Err(ServerError::Response(LocalError::BufferTooSmall { needed, available }))
        } else {
            Ok(())
        }
    }

    /// Writes the response head after the pending output; all or nothing.
    fn write_head(&mut self, response: &Response<'_>, framing: HeadFraming) -> Result<(), ServerError> {
        let code = response.status.as_u16();
        if code < 200 {
            return Err(ServerError::Response(LocalError::InvalidStatusCode(code)));
        }
        let max = self.config.limits.max_response_headers;
        if response.headers.len() > max {
            return Err(ServerError::Response(LocalError::TooManyHeaders { max }));
        }
        let mut close = self.close_after
            || !self.config.keep_alive
            || self.current.client_close
            || matches!(self.phase, Phase::Refusing { uncertain: true, .. });
        let unread = !self.current.body_done;
        // A client still waiting to be told to send its body may send it anyway: the stream
        // cannot be framed any more.
        close |= unread && self.current.expect == Expect::Pending;
        close |= self.body_remaining().is_some_and(|left| left > self.config.max_discard_len);
        let mut own_connection = false;
        for (name, value) in response.headers {
            if eq_ignore_case(name.as_bytes(), b"content-length")
                || eq_ignore_case(name.as_bytes(), b"transfer-encoding")
            {
                return Err(ServerError::Response(LocalError::FramingHeaderConflict));
            }
            if eq_ignore_case(name.as_bytes(), b"connection") {
                own_connection = true;
                close |= list_elements(value.as_bytes()).any(|t| eq_ignore_case(t, b"close"));
            }
        }
        let bodyless = code == 204 || code == 304;
        let framed_chunks = self.current.version == Version::Http11;
        if framing == HeadFraming::Chunked && !framed_chunks {
            close = true;
        }
        let reason = response.reason.or(response.status.canonical_reason()).unwrap_or("");
        let at = self.out_end;
        let keep_alive_10 = self.current.keep_alive_10 && !close;
        let (_, tx) = self.split();
        let mut w = HeadWriter::new(tx.get_mut(at..).unwrap_or_default());
        w.status_line(Version::Http11, response.status, reason)?;
        if !response.content_type.is_empty() {
            w.own_field("Content-Type", response.content_type.as_bytes())?;
        }
        match framing {
            _ if bodyless => {}
            HeadFraming::Length(n) => w.own_field_u64("Content-Length", n)?,
            HeadFraming::Chunked if framed_chunks => w.own_field("Transfer-Encoding", b"chunked")?,
            HeadFraming::Chunked => {}
        }
        for (name, value) in response.headers {
            w.field(name, value.as_bytes())?;
        }
        if !own_connection {
            if close {
                w.own_field("Connection", b"close")?;
            } else if keep_alive_10 {
                w.own_field("Connection", b"keep-alive")?;
            }
        }
        let n = w.finish()?;
        self.out_end = at + n;
        self.close_after = close;
        self.head_in_flight = true;
        if framing == HeadFraming::Chunked {
            let silent = self.suppress_body(response.status);
            self.resp = Resp::Chunked { framed: framed_chunks, crlf_owed: false, silent };
        }
        Ok(())
    }
}

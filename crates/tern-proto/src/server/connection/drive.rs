//! The driving loop: `poll`, the adapter's reports, and the steps behind them.

use super::engine::{Action, Codec, Completion, Connection, Current, Expect, Op, Phase, Resp};
use super::error::ServerError;
use crate::body::{BodyKind, request_body};
use crate::chunked::Decoded;
use crate::error::{Limit, RemoteError};
use crate::field::EMPTY_SLOT;
use crate::head::{Parse, RequestHead};
use crate::method::Method;
use crate::server::HttpdErrCode;
use crate::server::event::{ServerEventKind, report};
use crate::syntax::{eq_ignore_case, list_elements};
use crate::time::Instant;
use crate::version::Version;

/// Most header fields a request may carry; one more is answered with 431.
pub const MAX_REQUEST_FIELDS: usize = 32;

/// What one step decided.
pub(crate) enum Next {
    Continue,
    Receive,
    Transmit,
    Close,
    Done(Result<Done, ServerError>),
}

/// A completion, before it borrows the buffer.
pub(crate) enum Done {
    Request,
    Frame(crate::ws::FrameInfo),
    Error(HttpdErrCode),
    Data,
    Trailer { name: (usize, usize), value: (usize, usize) },
    EndOfBody,
    Sent,
    Closed,
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> Connection<B> {
    /// What to do next. Call it again after doing what the [`Action`] says; an
    /// [`Action::Done`] ends the current operation.
    pub fn poll(&mut self, now: Instant) -> Action<'_> {
        let mut deadline = None;
        self.poll_inner(now, &mut deadline)
    }

    /// [`poll`](Self::poll), and the [`deadline`](Self::deadline) as that call left it.
    ///
    /// The action borrows the engine, so an adapter that awaits the I/O it asks for cannot
    /// call `deadline()` meanwhile, and before the poll the deadline of a new wait is not
    /// armed yet. This gives both at once.
    pub fn poll_with_deadline(&mut self, now: Instant) -> (Action<'_>, Option<Instant>) {
        let mut deadline = None;
        let action = self.poll_inner(now, &mut deadline);
        (action, deadline)
    }

    fn poll_inner(&mut self, now: Instant, deadline: &mut Option<Instant>) -> Action<'_> {
        let next = loop {
            match self.step() {
                Next::Continue => {}
                next => break next,
            }
        };
        match next {
            Next::Receive => {
                if self.recv_deadline.is_none() {
                    let wait = match self.phase {
                        Phase::Idle => self.config.idle_timeout_ms,
                        Phase::WebSocket => self.ws_wait(),
                        _ if self.awaiting_body() => Some(self.body_wait()),
                        _ => Some(self.config.recv_wait_timeout_ms),
                    };
                    self.recv_deadline = wait.map(|ms| now.after_millis(ms));
                }
                *deadline = self.deadline();
                let from = self.end;
                let (rx, _) = self.split();
                Action::Receive(rx.get_mut(from..).unwrap_or_default())
            }
            Next::Transmit => {
                if self.send_deadline.is_none() {
                    self.send_deadline = Some(now.after_millis(self.config.send_wait_timeout_ms));
                }
                *deadline = self.deadline();
                let (out_pos, out_end) = (self.out_pos, self.out_end);
                let body_from = (self.body_pos < self.body_len).then_some(self.body_pos);
                let (_, tx) = self.split();
                Action::Transmit { bytes: tx.get(out_pos..out_end).unwrap_or_default(), body_from }
            }
            Next::Close => {
                *deadline = self.deadline();
                Action::Close
            }
            Next::Done(result) => {
                *deadline = self.deadline();
                let rx = self.rx();
                Action::Done(result.map(|done| match done {
                    Done::Request => Completion::Request,
                    Done::Frame(info) => Completion::Frame(info),
                    Done::Error(code) => Completion::Error(code),
                    Done::Data => Completion::Data(rx.get(self.data.0..self.data.1).unwrap_or_default()),
                    Done::Trailer { name, value } => Completion::Trailer {
                        name: rx.get(name.0..name.1).and_then(|n| core::str::from_utf8(n).ok()).unwrap_or_default(),
                        value: rx.get(value.0..value.1).unwrap_or_default(),
                    },
                    Done::EndOfBody => Completion::EndOfBody,
                    Done::Sent => Completion::Sent,
                    Done::Closed => Completion::Closed,
                }))
            }
            Next::Continue => Action::Close,
        }
    }

    /// When the adapter must call [`handle_timeout`](Self::handle_timeout) if nothing else
    /// happened: the idle timeout, a request head's `recv_wait_timeout`, a body read's (per
    /// read, and shortened by `min_body_rate`), or a stalled write's `send_wait_timeout`.
    /// `None` while a handler has the request and is not reading.
    pub fn deadline(&self) -> Option<Instant> {
        let recv = match (self.phase, self.op) {
            (Phase::Idle | Phase::Head | Phase::Finishing | Phase::WebSocket, Op::Serve) | (_, Op::ReadBody) => {
                self.recv_deadline
            }
            _ => None,
        };
        let send = if self.out_pending() { self.send_deadline } else { None };
        match (recv, send) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// `n` bytes arrived in the buffer of the last [`Action::Receive`]; 0 is the end of the
    /// client's stream.
    pub fn received(&mut self, n: usize, now: Instant) {
        if n == 0 {
            self.peer_eof = true;
            return;
        }
        self.end = self.end.saturating_add(n).min(self.rx_size);
        match self.phase {
            Phase::Idle => {
                self.phase = Phase::Head;
                self.recv_deadline = Some(now.after_millis(self.config.recv_wait_timeout_ms));
            }
            // The head's deadline runs from its first byte: a slow trickle does not extend it.
            Phase::Head => {}
            _ => {
                if self.awaiting_body()
                    && let Some(deadline) = self.recv_deadline.take()
                {
                    let left = deadline.saturating_duration_since(now).as_millis();
                    let waited =
                        u64::from(self.current.body_wait_ms).saturating_sub(u64::try_from(left).unwrap_or(u64::MAX));
                    let waited = u32::try_from(waited).unwrap_or(u32::MAX);
                    self.current.body_waited_ms = self.current.body_waited_ms.saturating_add(waited);
                }
                self.recv_deadline = None;
            }
        }
    }

    /// Whether the engine waits for request body bytes: for a handler's read, or to discard
    /// what a finished handler left unread. Both count against `min_body_rate`; WebSocket
    /// frames do not.
    fn awaiting_body(&self) -> bool {
        match self.phase {
            Phase::WebSocket => false,
            Phase::Finishing => !self.current.body_done,
            _ => self.op == Op::ReadBody,
        }
    }

    /// How long the next wait for body bytes may last: `recv_wait_timeout`, or less when the
    /// body is close to falling under `min_body_rate` (zero once it has).
    fn body_wait(&mut self) -> u32 {
        let per_read = self.config.recv_wait_timeout_ms;
        let wait = match self.body_allowance_left(self.current.body_waited_ms) {
            Some(left) => per_read.min(left),
            None => per_read,
        };
        self.current.body_wait_ms = wait;
        wait
    }

    /// Milliseconds of waiting the body's `min_body_rate` still allows: the grace of
    /// `recv_wait_timeout`, plus the time the bytes received so far earn, minus `waited`.
    /// `None` when there is no minimum rate.
    fn body_allowance_left(&self, waited: u32) -> Option<u32> {
        let rate = u64::from(self.config.min_body_rate);
        if rate == 0 {
            return None;
        }
        let earned = self.current.received.saturating_mul(1000) / rate;
        let allowance = earned.saturating_add(u64::from(self.config.recv_wait_timeout_ms));
        let left = allowance.saturating_sub(u64::from(waited));
        Some(u32::try_from(left).unwrap_or(u32::MAX))
    }

    /// `n` bytes of the last [`Action::Transmit`] went out.
    pub fn transmitted(&mut self, n: usize, now: Instant) {
        let head = self.out_end - self.out_pos;
        if n <= head {
            self.out_pos += n;
        } else {
            self.out_pos = self.out_end;
            self.body_pos = self.body_pos.saturating_add(n - head).min(self.body_len);
        }
        self.op_sent = self.op_sent.saturating_add(n as u64);
        if n > 0 {
            self.send_deadline = Some(now.after_millis(self.config.send_wait_timeout_ms));
        }
        if !self.out_pending() {
            self.clear_output();
        }
    }

    /// The transport failed (a reset, a broken pipe, a TLS error): nothing more can be sent.
    pub fn transport_failed(&mut self) {
        self.failure.get_or_insert(ServerError::ConnectionClosed);
        self.peer_eof = true;
        self.clear_output();
        if self.phase != Phase::Closed {
            self.phase = Phase::Closing;
        }
    }

    /// The adapter closed the connection.
    pub fn closed(&mut self) {
        self.phase = Phase::Closed;
        self.clear_output();
        self.recv_deadline = None;
        self.send_deadline = None;
    }

    /// Time passed: whatever waited past its deadline gives up. An idle session closes; a
    /// request head older than `recv_wait_timeout` is refused with 408; a body read fails
    /// with [`ServerError::Timeout`] (silence) or [`ServerError::BodyTooSlow`] (under
    /// `min_body_rate`), and a handler that then answers nothing gets 408 sent for it; a body
    /// being discarded, or a stalled write, closes the session.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.out_pending() && self.send_deadline.is_some_and(|d| now >= d) {
            self.failure.get_or_insert(ServerError::Timeout);
            self.clear_output();
            self.close_now();
            return;
        }
        if self.deadline().is_none_or(|d| now < d) {
            return;
        }
        self.recv_deadline = None;
        match (self.phase, self.op) {
            (Phase::Idle, _) | (Phase::Finishing, _) | (Phase::WebSocket, Op::Serve) => self.close_now(),
            (Phase::Head, _) => self.refuse(HttpdErrCode::RequestTimeout, true),
            (_, Op::ReadBody) => {
                // A wait that `min_body_rate` cut short of `recv_wait_timeout` and that used up
                // its allowance: too slow. A full wait without a byte is plain silence.
                let wait = self.current.body_wait_ms;
                let waited = self.current.body_waited_ms.saturating_add(wait);
                let too_slow = self.phase != Phase::WebSocket
                    && wait < self.config.recv_wait_timeout_ms
                    && self.body_allowance_left(waited) == Some(0);
                self.failure = Some(if too_slow {
                    ServerError::BodyTooSlow { min_bytes_per_sec: self.config.min_body_rate }
                } else {
                    ServerError::Timeout
                });
                self.close_after = true;
            }
            _ => {}
        }
    }

    /// Closes the session on request (`httpd_sess_trigger_close`): output already queued is
    /// sent, then the connection closes.
    pub fn close(&mut self) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closing;
            self.op = Op::Serve;
        }
    }

    // ----- body reading --------------------------------------------------------------------

    /// Reads request body (`httpd_req_recv`). Drive with [`poll`](Self::poll) until
    /// [`Completion::Data`] (then [`consume`](Self::consume)), [`Completion::Trailer`] or
    /// [`Completion::EndOfBody`]. The first read of a request that sent
    /// `Expect: 100-continue` answers `100 Continue` first.
    pub fn read_body(&mut self) -> Result<(), ServerError> {
        match (self.phase, self.op) {
            (Phase::Handling | Phase::Refusing { .. } | Phase::WebSocket, Op::Handler) if self.has_request => {
                self.op = Op::ReadBody;
                Ok(())
            }
            (Phase::Closing | Phase::Closed, _) => Err(self.failure.unwrap_or(ServerError::ConnectionClosed)),
            _ => Err(ServerError::InvalidState { operation: "read_body" }),
        }
    }

    /// Marks `n` bytes of the last [`Completion::Data`] as used; the rest comes again.
    pub fn consume(&mut self, n: usize) {
        self.data.0 = self.data.0.saturating_add(n).min(self.data.1);
    }

    /// Body bytes of the current request not yet read: the rest of a Content-Length body, or
    /// `None` for a chunked body, whose length is unknown.
    pub fn body_remaining(&self) -> Option<u64> {
        let unconsumed = (self.data.1 - self.data.0) as u64;
        match self.current.body {
            BodyKind::Chunked if !self.current.body_done => None,
            _ => Some(self.current.remaining + unconsumed),
        }
    }

    // ----- ending a handler ----------------------------------------------------------------

    /// Ends the handler (or error handler) of the current request. With
    /// [`HandlerOutcome::Ok`](super::HandlerOutcome::Ok) the session stays open when the
    /// protocol allows it: an unterminated chunked response is terminated, a handler that sent
    /// nothing gets 500 on its behalf, unread body is discarded up to `max_discard_len`.
    /// A handler whose body read failed on the client's protocol error and that answered
    /// nothing gets that error's status (400 or 413) instead of 500.
    /// With `Fail` the session closes (ESP-IDF: a handler returning an error). Then drive
    /// with [`poll`](Self::poll) to the next request.
    pub fn finish(&mut self, outcome: super::HandlerOutcome) -> Result<(), ServerError> {
        if self.body_pos < self.body_len {
            return Err(ServerError::InvalidState { operation: "finish before the last send completed" });
        }
        if self.phase == Phase::WebSocket {
            return self.finish_frame(outcome);
        }
        let refused = match self.phase {
            Phase::Handling => None,
            Phase::Refusing { code, uncertain } => Some((code, uncertain)),
            Phase::Closing | Phase::Closed => {
                self.op = Op::Serve;
                return Ok(());
            }
            _ => return Err(ServerError::InvalidState { operation: "finish" }),
        };
        self.op = Op::Serve;
        if outcome == super::HandlerOutcome::Fail {
            self.close_now();
            return Ok(());
        }
        match (self.resp, refused) {
            (Resp::NotStarted, Some((code, uncertain))) => {
                // An error handler that answered nothing: ESP-IDF's default answer.
                if uncertain || code == HttpdErrCode::InternalServerError {
                    self.close_after = true;
                }
                self.queue_error(code)?;
            }
            (Resp::NotStarted, None) => {
                // A handler that answered nothing: the status of the body error it met (408
                // for a body that stopped coming or came too slowly), or 500.
                let code = match self.current.body_error {
                    Some(e) => HttpdErrCode::from_remote(&e),
                    None if self.current.body_timed_out => HttpdErrCode::RequestTimeout,
                    None => HttpdErrCode::InternalServerError,
                };
                report(Some(self.id), ServerEventKind::Error(code));
                self.close_after = true;
                self.queue_error(code)?;
            }
            (Resp::Chunked { framed: false, silent: false, .. }, _) => self.close_after = true,
            (Resp::Chunked { .. }, _) => self.queue_last_chunk()?,
            _ => {}
        }
        if let Some((code, uncertain)) = refused
            && (uncertain || code == HttpdErrCode::InternalServerError)
        {
            self.close_after = true;
        }
        self.resp = Resp::Complete;
        self.phase = Phase::Finishing;
        Ok(())
    }

    /// ESP-IDF's default answer to a refusal: the error response for `code` with its default
    /// body and `Connection: close`, then the session closes. For a request the handler is
    /// already answering, only the close.
    pub fn reject(&mut self, code: HttpdErrCode) -> Result<(), ServerError> {
        if !matches!(self.phase, Phase::Handling | Phase::Refusing { .. }) {
            return Err(ServerError::InvalidState { operation: "reject" });
        }
        if self.body_pos < self.body_len {
            return Err(ServerError::InvalidState { operation: "reject before the last send completed" });
        }
        self.close_after = true;
        if self.resp == Resp::NotStarted {
            self.queue_error(code)?;
        }
        self.close_now();
        Ok(())
    }

    // ----- steps ---------------------------------------------------------------------------

    pub(crate) fn out_pending(&self) -> bool {
        self.out_pos < self.out_end || self.body_pos < self.body_len
    }

    pub(crate) fn clear_output(&mut self) {
        self.out_pos = 0;
        self.out_end = 0;
        self.body_pos = 0;
        self.body_len = 0;
        self.send_deadline = None;
    }

    pub(crate) fn close_now(&mut self) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closing;
        }
        self.op = match self.op {
            Op::Handler => Op::Serve,
            op => op,
        };
    }

    pub(crate) fn refuse(&mut self, code: HttpdErrCode, uncertain: bool) {
        report(Some(self.id), ServerEventKind::Error(code));
        self.phase = Phase::Refusing { code, uncertain };
        self.recv_deadline = None;
    }

    fn step(&mut self) -> Next {
        if self.out_pending() {
            return Next::Transmit;
        }
        match self.phase {
            Phase::Closing => return Next::Close,
            Phase::Closed => {
                let op = core::mem::replace(&mut self.op, Op::Serve);
                return Next::Done(match op {
                    Op::Serve | Op::Handler => Ok(Done::Closed),
                    Op::Send => Err(self.failure.unwrap_or(ServerError::ConnectionClosed)),
                    Op::ReadBody => {
                        Err(self.failure.unwrap_or(ServerError::IncompleteBody { received: self.current.received }))
                    }
                });
            }
            _ => {}
        }
        match self.op {
            Op::Send => {
                if let Resp::Chunked { framed: true, crlf_owed: true, silent: false } = self.resp
                    && self.reserve(2).is_ok()
                {
                    // The CRLF that ends the chunk's data goes out now, so that a reader
                    // parsing whole chunks gets this one before the next is written (a
                    // server-sent event, a progress line).
                    self.put_out(b"\r\n");
                    self.resp = Resp::Chunked { framed: true, crlf_owed: false, silent: false };
                    return Next::Transmit;
                }
                self.op = core::mem::replace(&mut self.after_send, Op::Handler);
                if core::mem::take(&mut self.head_in_flight) {
                    report(Some(self.id), ServerEventKind::HeadersSent);
                }
                let len = core::mem::take(&mut self.op_sent) as usize;
                report(Some(self.id), ServerEventKind::SentData { len });
                Next::Done(Ok(Done::Sent))
            }
            Op::ReadBody if self.phase == Phase::WebSocket => self.step_ws_read(),
            Op::ReadBody => self.step_read(),
            Op::Handler => {
                Next::Done(Err(ServerError::InvalidState { operation: "poll while the handler has the request" }))
            }
            Op::Serve => match self.phase {
                Phase::Idle | Phase::Head => self.step_head(),
                Phase::Refusing { code, .. } => {
                    self.op = Op::Handler;
                    Next::Done(Ok(Done::Error(code)))
                }
                Phase::Finishing => self.step_discard(),
                Phase::WebSocket => self.step_ws(),
                _ => {
                    self.op = Op::Handler;
                    Next::Done(Err(ServerError::InvalidState { operation: "poll while the handler has the request" }))
                }
            },
        }
    }

    fn step_head(&mut self) -> Next {
        if self.end == 0 {
            if self.peer_eof {
                self.close_now();
                return Next::Continue;
            }
            self.phase = Phase::Idle;
            return Next::Receive;
        }
        self.phase = Phase::Head;
        let limits = self.config.limits;
        let mut slots = [EMPTY_SLOT; MAX_REQUEST_FIELDS];
        let rx = self.buf.as_ref().get(..self.end).unwrap_or_default();
        let parsed = RequestHead::parse(rx, &mut slots, &limits);
        let (head, head_len) = match parsed {
            Ok(Parse::Complete(done)) => done,
            Ok(Parse::Partial) => {
                if self.peer_eof {
                    // The client gave up mid-head: nothing to answer.
                    self.close_now();
                    return Next::Continue;
                }
                if self.end >= self.rx_size {
                    // Unreachable with a buffer of `max_request_head_len`, kept as a guard.
                    let max = limits.max_header_section_len as u64;
                    return self.refuse_remote(RemoteError::TooLarge { limit: Limit::HeaderSection, max });
                }
                return Next::Receive;
            }
            Err(e) => return self.refuse_remote(e),
        };
        let base = rx.as_ptr() as usize;
        let offset = |s: &[u8]| (s.as_ptr() as usize).wrapping_sub(base);
        let head_start = rx.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let method_end = head_start + head.method.as_str().len();
        let target_start = offset(head.target.as_bytes());
        let mut current = Current::new(&self.config);
        current.head_start = head_start;
        current.head_len = head_len;
        current.method = (head_start, method_end);
        current.target = (target_start, target_start + head.target.len());
        current.version = head.version;
        current.is_head = head.method == Method::Head;
        let body = head.check_host().and_then(|()| request_body(&head, &limits));
        let mut close = false;
        let mut keep_alive = false;
        for value in head.headers.get_all("connection") {
            for token in list_elements(value) {
                close |= eq_ignore_case(token, b"close");
                keep_alive |= eq_ignore_case(token, b"keep-alive");
            }
        }
        // From the parsed fields: the raw head would be scanned byte by byte again.
        let expects_continue =
            head.headers.get("expect").is_some_and(|v| eq_ignore_case(v.trim_ascii(), b"100-continue"));
        current.client_close = close || (head.version == Version::Http10 && !keep_alive);
        current.keep_alive_10 = head.version == Version::Http10 && keep_alive && !close;
        report(Some(self.id), ServerEventKind::OnHeader);
        self.pos = head_len;
        self.data = (head_len, head_len);
        self.resp = Resp::NotStarted;
        self.close_after = false;
        self.has_request = true;
        self.recv_deadline = None;
        let body = match body {
            Ok(BodyKind::Chunked) if !self.config.chunked_requests => {
                self.current = current;
                self.refuse(HttpdErrCode::LengthRequired, true);
                self.op = Op::Handler;
                return Next::Done(Ok(Done::Error(HttpdErrCode::LengthRequired)));
            }
            Ok(body) => body,
            Err(e) => {
                self.current = current;
                self.has_request = false;
                return self.refuse_remote(e);
            }
        };
        current.body = body;
        current.remaining = match body {
            BodyKind::Length(n) => n,
            _ => 0,
        };
        current.body_done = matches!(body, BodyKind::None | BodyKind::Length(0));
        current.expect = if expects_continue && !current.body_done && head.version == Version::Http11 {
            Expect::Pending
        } else {
            Expect::None
        };
        self.current = current;
        self.phase = Phase::Handling;
        self.op = Op::Handler;
        Next::Done(Ok(Done::Request))
    }

    fn refuse_remote(&mut self, error: RemoteError) -> Next {
        let code = HttpdErrCode::from_remote(&error);
        self.refuse(code, true);
        self.op = Op::Handler;
        Next::Done(Ok(Done::Error(code)))
    }

    fn step_read(&mut self) -> Next {
        if self.data.0 < self.data.1 {
            self.op = Op::Handler;
            return Next::Done(Ok(Done::Data));
        }
        if let Some(failure) = self.failure.take() {
            self.op = Op::Handler;
            self.current.body_done = true;
            self.current.body_timed_out = failure.is_timeout();
            return Next::Done(Err(failure));
        }
        if self.current.body_done {
            self.op = Op::Handler;
            return Next::Done(Ok(Done::EndOfBody));
        }
        if self.current.expect == Expect::Pending {
            self.current.expect = Expect::None;
            if self.resp == Resp::NotStarted && self.pos == self.end {
                const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
                self.put_out(CONTINUE);
                return Next::Continue;
            }
        }
        match self.decode_body() {
            Ok(Some(done)) => {
                self.op = Op::Handler;
                if let Done::Data = done {
                    report(Some(self.id), ServerEventKind::OnData { len: self.data.1 - self.data.0 });
                }
                Next::Done(Ok(done))
            }
            Ok(None) => {
                if self.peer_eof {
                    self.op = Op::Handler;
                    self.close_after = true;
                    self.current.body_done = true;
                    return Next::Done(Err(ServerError::IncompleteBody { received: self.current.received }));
                }
                match self.make_room() {
                    Ok(()) => Next::Receive,
                    Err(e) => {
                        self.op = Op::Handler;
                        Next::Done(Err(e))
                    }
                }
            }
            Err(e) => {
                self.op = Op::Handler;
                self.close_after = true;
                self.current.body_done = true;
                self.current.body_error = Some(e);
                Next::Done(Err(ServerError::Protocol(e)))
            }
        }
    }

    /// Decodes what the buffer holds: `Some` with an event, `None` when more bytes are needed.
    fn decode_body(&mut self) -> Result<Option<Done>, RemoteError> {
        let rx = self.buf.as_ref().get(..self.end).unwrap_or_default();
        let input = rx.get(self.pos..).unwrap_or_default();
        match self.current.body {
            BodyKind::Length(_) => {
                let take = (input.len() as u64).min(self.current.remaining) as usize;
                if take == 0 {
                    return Ok(None);
                }
                self.data = (self.pos, self.pos + take);
                self.pos += take;
                self.current.remaining -= take as u64;
                self.current.received += take as u64;
                self.current.body_done = self.current.remaining == 0;
                Ok(Some(Done::Data))
            }
            BodyKind::Chunked => {
                let base = rx.as_ptr() as usize;
                let offset = |s: &[u8]| (s.as_ptr() as usize).wrapping_sub(base);
                loop {
                    let input = rx.get(self.pos..).unwrap_or_default();
                    let Codec::Chunked(decoder) = &mut self.current.codec else {
                        return Ok(None);
                    };
                    let (n, event) = decoder.decode(input)?;
                    self.pos += n;
                    match event {
                        Decoded::Data(d) => {
                            let start = offset(d);
                            self.data = (start, start + d.len());
                            self.current.received += d.len() as u64;
                            return Ok(Some(Done::Data));
                        }
                        Decoded::Trailer(field) => {
                            let name = offset(field.name.as_bytes());
                            let value = offset(field.value);
                            return Ok(Some(Done::Trailer {
                                name: (name, name + field.name.len()),
                                value: (value, value + field.value.len()),
                            }));
                        }
                        Decoded::End => {
                            self.current.body_done = true;
                            return Ok(Some(Done::EndOfBody));
                        }
                        Decoded::NeedMore if n == 0 => return Ok(None),
                        Decoded::NeedMore => {}
                    }
                }
            }
            _ => {
                self.current.body_done = true;
                Ok(Some(Done::EndOfBody))
            }
        }
    }

    /// Frees the body window for the next receive: consumed bytes go, a partial trailer line
    /// moves to the window's start.
    pub(crate) fn make_room(&mut self) -> Result<(), ServerError> {
        let base = self.current.head_len;
        if self.pos >= self.end {
            self.pos = base;
            self.end = base;
            self.data = (base, base);
            return Ok(());
        }
        if self.end < self.rx_size {
            return Ok(());
        }
        if self.pos > base {
            let (pos, end) = (self.pos, self.end);
            if let Some(rx) = self.buf.as_mut().get_mut(..end) {
                rx.copy_within(pos..end, base);
            }
            self.end = base + (end - pos);
            self.pos = base;
            self.data = (base, base);
            return Ok(());
        }
        // A trailer line longer than the whole body window.
        let max = (self.rx_size - base) as u64;
        self.close_after = true;
        self.current.body_done = true;
        Err(ServerError::Protocol(RemoteError::TooLarge { limit: Limit::TrailerSection, max }))
    }

    /// After the handler: discard unread body, then move on to the next request.
    fn step_discard(&mut self) -> Next {
        if self.close_after {
            self.close_now();
            return Next::Continue;
        }
        // What the handler left of the last piece counts as discarded too.
        self.current.discarded += (self.data.1 - self.data.0) as u64;
        self.data = (self.pos, self.pos);
        while !self.current.body_done {
            match self.decode_body() {
                Ok(Some(Done::Data)) => {
                    self.current.discarded += (self.data.1 - self.data.0) as u64;
                    self.data = (self.pos, self.pos);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    self.close_now();
                    return Next::Continue;
                }
            }
            if self.current.discarded > self.config.max_discard_len {
                self.close_now();
                return Next::Continue;
            }
        }
        if !self.current.body_done {
            let limit_left = self.config.max_discard_len.saturating_sub(self.current.discarded);
            let too_much = matches!(self.current.body, BodyKind::Length(_)) && self.current.remaining > limit_left;
            if self.peer_eof || too_much || self.make_room().is_err() {
                self.close_now();
                return Next::Continue;
            }
            return Next::Receive;
        }
        // The exchange is over: pipelined bytes move to the front for the next request.
        let (pos, end) = (self.pos, self.end);
        if let Some(rx) = self.buf.as_mut().get_mut(..end) {
            rx.copy_within(pos..end, 0);
        }
        self.end = end - pos;
        self.pos = 0;
        self.data = (0, 0);
        self.has_request = false;
        self.current = Current::new(&self.config);
        self.resp = Resp::NotStarted;
        self.recv_deadline = None;
        self.phase = if self.end > 0 { Phase::Head } else { Phase::Idle };
        Next::Continue
    }

    /// Appends to the transmit buffer; the caller checked the room.
    pub(crate) fn put_out(&mut self, bytes: &[u8]) {
        let at = self.out_end;
        let (_, tx) = self.split();
        if let Some(dst) = tx.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
            self.out_end = at + bytes.len();
        }
    }
}

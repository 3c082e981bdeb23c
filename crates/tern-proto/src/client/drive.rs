//! The driving loop: operations set a goal, [`Client::poll`] says what to do next, and the
//! adapter's reports move the engine on.

use super::auth::{self, AuthType, Challenge};
use super::engine::{Action, Client, Completion, Endpoint};
use super::error::{ClientError, Stage};
use super::event::{EventHandler, EventKind};
use super::request::{self, AuthPlan, BodyFraming, HeadPlan, Line};
use super::settings::{is_redirect, response_fields};
use super::state::State;
use super::store::{Key, Tag};
use super::url::{self, Url};
use crate::body::{BodyKind, response_body};
use crate::chunked::{ChunkHeader, ChunkedDecoder, Decoded};
use crate::error::{Limit, RemoteError};
use crate::field::EMPTY_SLOT;
use crate::head::{Parse, ResponseHead};
use crate::method::Method;
use crate::status::StatusCode;
use crate::syntax::{eq_ignore_case, list_elements};
use crate::time::Instant;
use crate::version::Version;

use super::engine::{Conn, FollowUp, Op, Phase, Request, Response, emit, split};

/// Bytes a chunk adds around its data at most: 16 hex digits, CRLF, and the CRLF after the data.
const CHUNK_FRAMING: usize = 20;
/// Most header fields in a response head.
pub const MAX_RESPONSE_FIELDS: usize = 32;
/// The least room the receive buffer keeps for body bytes after a response head.
const MIN_BODY_WINDOW: usize = 32;

/// What `step` decided; turned into an [`Action`] once nothing borrows `self` mutably.
enum Next {
    Continue,
    Connect,
    Transmit,
    Receive,
    Close,
    Done(Result<Done, ClientError>),
}

/// A completion without borrowed data.
enum Done {
    Finished,
    HeadersSent,
    Written,
    Headers,
    Data,
    EndOfBody,
    Closed,
}

impl<'a, B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler> Client<'a, B, H> {
    // ----- operations -------------------------------------------------------------------

    /// Starts (or resumes) a whole request (`esp_http_client_perform`): connect if needed,
    /// send the head and the post field, read the response, follow redirects and answer
    /// authentication challenges. Body bytes arrive as `OnData` events. Drive with
    /// [`poll`](Self::poll) until [`Completion::Finished`].
    ///
    /// Called while a `perform` is under way (after the adapter returned "would block"), it
    /// resumes; otherwise it starts a new request.
    pub fn perform(&mut self, now: Instant) -> Result<(), ClientError> {
        if self.op == Op::Perform {
            return Ok(());
        }
        self.begin(Op::Perform, now, Some(self.settings.post_field.map_or(0, |b| b.len() as u64)), true)
    }

    /// Starts a streamed request (`esp_http_client_open`): connect if needed and send the
    /// head. `write_len` is the body length to be written with [`write`](Self::write);
    /// `None` sends it chunked. Drive with [`poll`](Self::poll) until
    /// [`Completion::HeadersSent`]. Redirects and 401s are not followed in this flow.
    pub fn open(&mut self, write_len: Option<u64>, now: Instant) -> Result<(), ClientError> {
        if self.op == Op::Open {
            return Ok(());
        }
        self.begin(Op::Open, now, write_len, false)
    }

    /// Queues streamed body bytes (`esp_http_client_write`) after [`open`](Self::open):
    /// returns how many were accepted (as many as fit in the transmit buffer, framed as one
    /// chunk when the body is chunked). Drive with [`poll`](Self::poll) until
    /// [`Completion::Written`].
    pub fn write(&mut self, data: &[u8]) -> Result<usize, ClientError> {
        if !(self.phase == Phase::SendBody && self.req.body.is_none() && matches!(self.op, Op::Idle | Op::Write)) {
            return Err(ClientError::InvalidState { operation: "write" });
        }
        let req = &mut self.req;
        if req.out_pos == req.out_end {
            req.out_pos = 0;
            req.out_end = 0;
        }
        let (_, tx, _) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let free = tx.len().saturating_sub(req.out_end);
        let accepted = match req.framing {
            BodyFraming::Chunked => {
                // A zero-length chunk would end the body; an empty write sends nothing.
                let take = data.len().min(free.saturating_sub(CHUNK_FRAMING));
                if take > 0 {
                    let header = ChunkHeader::new(take as u64);
                    for part in [header.as_bytes(), data.get(..take).unwrap_or_default(), b"\r\n"] {
                        put(tx, &mut req.out_end, part);
                    }
                }
                take
            }
            _ => {
                let declared = match req.framing {
                    BodyFraming::Length(n) => n,
                    _ => 0,
                };
                let room = declared.saturating_sub(req.written);
                if data.len() as u64 > room {
                    return Err(ClientError::BodyLengthMismatch { declared, written: req.written + data.len() as u64 });
                }
                let take = data.len().min(free);
                put(tx, &mut req.out_end, data.get(..take).unwrap_or_default());
                take
            }
        };
        req.written += accepted as u64;
        self.op = Op::Write;
        Ok(accepted)
    }

    /// Finishes the streamed body and reads the response head
    /// (`esp_http_client_fetch_headers`). Drive with [`poll`](Self::poll) until
    /// [`Completion::Headers`]; then [`content_length`](Self::content_length) and
    /// [`body_kind`](Self::body_kind) say what follows.
    pub fn fetch_headers(&mut self) -> Result<(), ClientError> {
        match (self.op, self.phase) {
            (Op::FetchHeaders, _) => Ok(()),
            (Op::Idle, Phase::SendBody | Phase::Continue | Phase::RecvHead) => {
                self.op = Op::FetchHeaders;
                Ok(())
            }
            _ => Err(ClientError::InvalidState { operation: "fetch_headers" }),
        }
    }

    /// Asks for body bytes (`esp_http_client_read`). Drive with [`poll`](Self::poll) until
    /// [`Completion::Data`] (then [`consume`](Self::consume) what you used) or
    /// [`Completion::EndOfBody`].
    pub fn read(&mut self) -> Result<(), ClientError> {
        match (self.op, self.phase) {
            (Op::Read, _) => Ok(()),
            (Op::Idle, Phase::RecvBody | Phase::Complete) => {
                self.op = Op::Read;
                Ok(())
            }
            _ => Err(ClientError::InvalidState { operation: "read" }),
        }
    }

    /// Marks `n` bytes of the last [`Completion::Data`] as used; the rest is handed out again
    /// by the next `read`.
    pub fn consume(&mut self, n: usize) {
        let data = &mut self.resp.data;
        data.0 = data.0.saturating_add(n).min(data.1);
    }

    /// Reads and discards the rest of the body (`esp_http_client_flush_response`). Drive with
    /// [`poll`](Self::poll) until [`Completion::EndOfBody`].
    pub fn flush_response(&mut self) -> Result<(), ClientError> {
        match (self.op, self.phase) {
            (Op::Flush, _) => Ok(()),
            (Op::Idle, Phase::RecvBody | Phase::Complete) => {
                self.resp.data.0 = self.resp.data.1;
                self.op = Op::Flush;
                Ok(())
            }
            _ => Err(ClientError::InvalidState { operation: "flush_response" }),
        }
    }

    /// Closes the connection (`esp_http_client_close`), keeping every setting. Drive with
    /// [`poll`](Self::poll) until [`Completion::Closed`].
    pub fn close(&mut self) {
        self.op = Op::Close;
        self.phase = Phase::Idle;
    }

    // ----- the loop -----------------------------------------------------------------------

    /// What to do next for the current operation.
    pub fn poll(&mut self, now: Instant) -> Action<'_> {
        self.poll_with_deadline(now).0
    }

    /// [`poll`](Self::poll), and the [`deadline`](Self::deadline) as that call left it.
    ///
    /// The action borrows the engine, so an adapter that awaits the I/O it asks for cannot
    /// call `deadline()` meanwhile, and before the poll the deadline of a new operation is not
    /// armed yet. This gives both at once.
    pub fn poll_with_deadline(&mut self, now: Instant) -> (Action<'_>, Option<Instant>) {
        let next = loop {
            match self.step(now) {
                Next::Continue => {}
                next => break next,
            }
        };
        let deadline = self.deadline();
        (self.action(next), deadline)
    }

    /// The action for `next`, borrowing the buffers.
    fn action(&mut self, next: Next) -> Action<'_> {
        let attach = self.attach_body();
        let (rx, tx, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        match next {
            Next::Connect => {
                let url = self.store.get_str(store_buf, Tag::Url).and_then(|s| Url::parse(s).ok());
                match url {
                    Some(url) => {
                        Action::Connect(Endpoint { scheme: url.scheme, host: url.host, port: url.port_or_default() })
                    }
                    None => Action::Done(Err(ClientError::Url(url::UrlError::MissingHost))),
                }
            }
            Next::Transmit => {
                let head = tx.get(self.req.out_pos..self.req.out_end).unwrap_or_default();
                let body = if attach {
                    self.req.body.and_then(|b| b.get(self.req.body_pos..)).unwrap_or_default()
                } else {
                    &[]
                };
                Action::Transmit([head, body])
            }
            Next::Receive => {
                let from = self.resp.end;
                Action::Receive(rx.get_mut(from..).unwrap_or_default())
            }
            Next::Close => Action::Close,
            Next::Done(result) => Action::Done(result.map(|done| match done {
                Done::Finished => Completion::Finished,
                Done::HeadersSent => Completion::HeadersSent,
                Done::Written => Completion::Written,
                Done::Headers => Completion::Headers,
                Done::Data => Completion::Data(rx.get(self.resp.data.0..self.resp.data.1).unwrap_or_default()),
                Done::EndOfBody => Completion::EndOfBody,
                Done::Closed => Completion::Closed,
            })),
            Next::Continue => Action::Done(Ok(Completion::Finished)),
        }
    }

    /// When the adapter must give up waiting and call [`handle_timeout`](Self::handle_timeout).
    /// `None` between operations: an idle client waits for nothing (a streamed request's
    /// whole-request deadline is checked again by its next call).
    pub fn deadline(&self) -> Option<Instant> {
        if self.op == Op::Idle {
            return None;
        }
        match (self.deadline, self.request_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The adapter connected (and finished the TLS handshake).
    pub fn connected(&mut self, now: Instant) {
        if self.conn != Conn::Connecting {
            return;
        }
        self.conn = Conn::Open { reused: false };
        self.connects = self.connects.wrapping_add(1);
        self.spent = false;
        self.state = State::Connected;
        self.deadline = Some(now.after_millis(self.settings.timeout));
        emit(&mut self.handler, self.id, self.state, EventKind::OnConnected);
    }

    /// The connect failed.
    pub fn connect_failed(&mut self, _now: Instant) {
        if self.conn == Conn::Connecting {
            self.conn = Conn::Closed;
            self.state = State::Init;
            self.fail(ClientError::Connect);
        }
    }

    /// `n` bytes of the last [`Action::Transmit`] went out.
    pub fn transmitted(&mut self, n: usize, now: Instant) {
        let req = &mut self.req;
        let head = req.out_end - req.out_pos;
        if n <= head {
            req.out_pos += n;
        } else {
            req.out_pos = req.out_end;
            req.body_pos += n - head;
        }
        if n > 0 {
            self.deadline = Some(now.after_millis(self.settings.timeout));
        }
    }

    /// `n` bytes arrived in the buffer of the last [`Action::Receive`]; 0 is end of stream.
    pub fn received(&mut self, n: usize, now: Instant) {
        if n > 0 {
            self.resp.end = (self.resp.end + n).min(self.rx_size);
            self.deadline = Some(now.after_millis(self.settings.timeout));
            return;
        }
        match self.phase {
            Phase::RecvBody if self.resp.kind == BodyKind::CloseDelimited => {
                self.spent = true;
                self.finish_body();
            }
            Phase::RecvBody => self.fail(ClientError::IncompleteBody { received: self.resp.received }),
            _ => self.lost(ClientError::ConnectionClosed(self.stage())),
        }
    }

    /// The transport failed (a reset, a broken pipe, a TLS error).
    pub fn transport_failed(&mut self, now: Instant) {
        match self.conn {
            Conn::Connecting => self.connect_failed(now),
            _ => self.lost(ClientError::Transport(self.stage())),
        }
    }

    /// The adapter closed the connection.
    pub fn closed(&mut self) {
        let was_open = self.state != State::Init;
        self.conn = Conn::Closed;
        self.state = State::Init;
        self.deadline = None;
        if was_open {
            emit(&mut self.handler, self.id, self.state, EventKind::Disconnected);
        }
    }

    /// Time passed: if the deadline is behind `now`, the operation times out (or, while
    /// waiting for `100 Continue`, the body is sent anyway).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.op == Op::Idle {
            return;
        }
        if self.request_deadline.is_some_and(|d| now >= d) {
            self.request_deadline = None;
            self.fail(ClientError::Timeout(self.stage()));
            return;
        }
        if self.deadline.is_none_or(|d| now < d) {
            return;
        }
        if self.phase == Phase::Continue {
            self.phase = Phase::SendBody;
            self.deadline = Some(now.after_millis(self.settings.timeout));
            return;
        }
        self.fail(ClientError::Timeout(self.stage()));
    }

    // ----- internals ------------------------------------------------------------------------

    pub(crate) fn store_buf(&self) -> &[u8] {
        self.buf.as_ref().get(self.rx_size + self.tx_size..).unwrap_or_default()
    }

    fn stage(&self) -> Stage {
        match (self.conn, self.phase) {
            (Conn::Connecting, _) => Stage::Connect,
            (_, Phase::SendHead(_) | Phase::SendBody) => Stage::Send,
            (_, Phase::RecvBody | Phase::Complete) => Stage::ReceiveBody,
            _ => Stage::ReceiveHead,
        }
    }

    /// The body goes out with the head's last page (not while waiting for 100 Continue).
    fn attach_body(&self) -> bool {
        match self.phase {
            Phase::SendHead(Line::Done) => !self.req.expect_continue,
            Phase::SendBody => true,
            _ => false,
        }
    }

    /// Records an error: the `Error` event now, the connection closed, and `Done(Err)` next.
    fn fail(&mut self, error: ClientError) {
        emit(&mut self.handler, self.id, self.state, EventKind::Error(error));
        self.error = Some(error);
        self.retry = false;
        // The operation has failed: nothing waits any more, so a second `handle_timeout`
        // cannot fail it (and report `Error`) twice.
        self.deadline = None;
        if matches!(self.conn, Conn::Open { .. } | Conn::Connecting) {
            self.conn = Conn::Closing;
        }
    }

    /// The connection died: retried once for an idempotent request on a reused connection
    /// when nothing of the response arrived, otherwise an error.
    fn lost(&mut self, error: ClientError) {
        let replayable = self.op == Op::Perform && self.req.method.is_idempotent() && !self.req.retried;
        let nothing_received =
            matches!(self.phase, Phase::SendHead(_) | Phase::Continue | Phase::SendBody | Phase::RecvHead)
                && self.resp.end == 0;
        if matches!(self.conn, Conn::Open { reused: true }) && replayable && nothing_received {
            self.retry = true;
            self.conn = Conn::Closing;
        } else {
            self.fail(error);
        }
    }

    /// Sets up a new request for `op`.
    fn begin(&mut self, op: Op, now: Instant, body_len: Option<u64>, whole_body: bool) -> Result<(), ClientError> {
        if !matches!(self.op, Op::Idle) {
            return Err(ClientError::InvalidState { operation: if op == Op::Perform { "perform" } else { "open" } });
        }
        if matches!(self.conn, Conn::Open { .. }) && !self.exchange_clean() {
            // The last exchange was left half-way (a body not read to its end, a streamed
            // request never finished): its bytes are still on the wire.
            self.spent = true;
        }
        if matches!(self.conn, Conn::Open { .. }) && !self.spent {
            // Reusing the connection: back to the parked state, as `perform` leaves it (the
            // streaming flow ends in RES_ON_DATA_START).
            self.state = State::Connected;
        }
        let method = self.settings.method;
        let mut req = Request::new(method);
        req.body = if whole_body { Some(self.settings.post_field.unwrap_or_default()) } else { None };
        req.framing = self.framing_for(&method, body_len, !whole_body);
        if core::mem::take(&mut self.redirect_to_get) {
            // `set_redirection` followed a 303 (or a 301/302 of a POST): this one request is a
            // GET, without the post field.
            req.make_get();
            if !whole_body {
                req.body = None;
                req.framing = self.framing_for(&Method::Get, body_len, true);
            }
        }
        self.error = None;
        self.follow = FollowUp::None;
        self.request_deadline = self.settings.request_timeout.map(|t| now.after_millis(t));
        {
            let (_, _, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
            self.store.remove(store_buf, Tag::Location);
        }
        self.req = req;
        self.start_exchange()?;
        self.op = op;
        Ok(())
    }

    /// Starts the per-operation timeout for a wait about to begin, unless one is running (a
    /// streamed `write`, `read` or `flush_response` starts without one).
    fn arm_deadline(&mut self, now: Instant) {
        if self.deadline.is_none() {
            self.deadline = Some(now.after_millis(self.settings.timeout));
        }
    }

    /// Whether the last exchange left nothing of itself on the connection: it completed, or
    /// its response body is already wholly in the receive buffer with nothing after it.
    fn exchange_clean(&self) -> bool {
        let resp = &self.resp;
        let buffered = resp.end.saturating_sub(resp.pos) as u64;
        match self.phase {
            Phase::Idle | Phase::Complete => true,
            Phase::RecvBody if resp.keep_alive && !self.req.body_skipped => match resp.kind {
                BodyKind::None => buffered == 0,
                BodyKind::Length(_) => resp.remaining == buffered,
                BodyKind::Chunked | BodyKind::CloseDelimited => false,
            },
            _ => false,
        }
    }

    /// Framing per ESP-IDF: Content-Length when there is a body or the method usually has
    /// one; chunked for an unknown length, or for a `streamed` body (written with `write`,
    /// which frames chunks) when the caller set `Transfer-Encoding: chunked`. A whole body
    /// (`perform`) is sent as it is, so it always has a Content-Length.
    fn framing_for(&self, method: &Method<'_>, body_len: Option<u64>, streamed: bool) -> BodyFraming {
        let wants_chunked =
            streamed && self.get_header("Transfer-Encoding").is_some_and(|v| eq_ignore_case(v, b"chunked"));
        match body_len {
            None => BodyFraming::Chunked,
            Some(_) if wants_chunked => BodyFraming::Chunked,
            Some(0) if matches!(method, Method::Get | Method::Head | Method::Delete) => BodyFraming::None,
            Some(n) => BodyFraming::Length(n),
        }
    }

    /// Resets the exchange for the request in `self.req` (first try, retry, redirect or auth
    /// answer) and checks its head fits.
    fn start_exchange(&mut self) -> Result<(), ClientError> {
        let expects = self.store.header(self.store_buf(), "Expect").is_some_and(|v| eq_ignore_case(v, b"100-continue"));
        let req = &mut self.req;
        req.out_pos = 0;
        req.out_end = 0;
        req.body_pos = 0;
        req.written = 0;
        req.last_chunk_queued = false;
        req.body_skipped = false;
        req.expect_continue = expects && req.body.is_some_and(|b| !b.is_empty());
        self.req.auth = self.auth_plan();
        // Checked first: a request that cannot go out leaves the last response readable.
        self.with_plan(request::check_lines)?;
        self.resp = Response::new(&self.settings.limits);
        self.phase = Phase::SendHead(Line::Request);
        Ok(())
    }

    /// The credentials the next request carries (and, for Digest, its nonce-count).
    fn auth_plan(&mut self) -> AuthPlan {
        if self.username().is_none() {
            return AuthPlan::None;
        }
        match (self.settings.auth_type, &mut self.digest) {
            (AuthType::Basic, _) => AuthPlan::Basic,
            (AuthType::Digest, Some(digest)) => {
                digest.nc = digest.nc.wrapping_add(1);
                let mut cnonce = [0u8; 16];
                auth::write_cnonce(mix(self.settings.entropy, u64::from(digest.nc)), &mut cnonce);
                self.settings.entropy = mix(self.settings.entropy, 0x9e37_79b9);
                AuthPlan::Digest { algorithm: digest.algorithm, qop_auth: digest.qop_auth, nc: digest.nc, cnonce }
            }
            _ => AuthPlan::None,
        }
    }

    /// Runs `f` with the head plan of the current request and the transmit buffer.
    fn with_plan<T>(
        &mut self,
        f: impl FnOnce(&HeadPlan<'_>, &mut [u8]) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let (_, tx, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let store_buf: &[u8] = store_buf;
        let url_str = self.store.get_str(store_buf, Tag::Url).unwrap_or_default();
        let target = match stored_target(url_str) {
            Some(target) => target,
            None => {
                let url = Url::parse(url_str).map_err(ClientError::Url)?;
                let (path, query) = url.target();
                // The stored URL always has a path, so path and query end it as one string.
                let target_len = path.len() + query.map_or(0, |q| q.len() + 1);
                url_str.get(url_str.len().saturating_sub(target_len)..).unwrap_or(path)
            }
        };
        let close = !self.settings.keep_alive && self.store.header(store_buf, "Connection").is_none();
        let plan = HeadPlan {
            method: self.req.method,
            target,
            store: &self.store,
            store_buf,
            framing: self.req.framing,
            auth: self.req.auth,
            close,
            drop_content_type: self.req.drop_content_type,
        };
        f(&plan, tx)
    }

    fn step(&mut self, now: Instant) -> Next {
        if self.request_deadline.is_some_and(|d| now >= d) && !matches!(self.op, Op::Idle | Op::Close) {
            self.handle_timeout(now);
        }
        match self.conn {
            Conn::Closing => return Next::Close,
            Conn::Connecting => return Next::Connect,
            _ => {}
        }
        if self.retry {
            self.retry = false;
            self.req.retried = true;
            if let Err(e) = self.start_exchange() {
                self.fail(e);
            }
            return Next::Continue;
        }
        if let Some(error) = self.error.take() {
            self.op = Op::Idle;
            self.phase = Phase::Idle;
            self.request_deadline = None;
            self.deadline = None;
            return Next::Done(Err(error));
        }
        match self.op {
            Op::Idle => Next::Done(Err(ClientError::InvalidState { operation: "poll" })),
            Op::Close => {
                if matches!(self.conn, Conn::Open { .. }) {
                    self.conn = Conn::Closing;
                    return Next::Close;
                }
                self.op = Op::Idle;
                Next::Done(Ok(Done::Closed))
            }
            _ => self.step_exchange(now),
        }
    }

    fn step_exchange(&mut self, now: Instant) -> Next {
        match self.phase {
            Phase::Idle => {
                self.op = Op::Idle;
                Next::Done(Err(ClientError::InvalidState { operation: "poll" }))
            }
            Phase::SendHead(line) => self.step_send_head(line, now),
            Phase::SendBody => self.step_send_body(now),
            Phase::Continue | Phase::RecvHead => {
                if self.req.out_pos < self.req.out_end {
                    return Next::Transmit;
                }
                self.step_recv_head(now)
            }
            Phase::RecvBody => self.step_recv_body(now),
            Phase::Complete => self.step_complete(),
        }
    }

    fn step_send_head(&mut self, line: Line, now: Instant) -> Next {
        match self.conn {
            Conn::Closed => {
                self.conn = Conn::Connecting;
                self.state = State::Connecting;
                self.deadline = Some(now.after_millis(self.settings.timeout));
                return Next::Connect;
            }
            Conn::Open { .. } if self.spent => {
                self.conn = Conn::Closing;
                return Next::Close;
            }
            _ => {}
        }
        if self.req.out_pos < self.req.out_end {
            if self.deadline.is_none() {
                self.deadline = Some(now.after_millis(self.settings.timeout));
            }
            return Next::Transmit;
        }
        if line == Line::Done {
            self.state = State::ReqCompleteHeader;
            emit(&mut self.handler, self.id, self.state, EventKind::HeadersSent);
            if self.req.expect_continue {
                self.phase = Phase::Continue;
                self.resp.end = 0;
                self.deadline = Some(now.after_millis(self.settings.expect_timeout));
            } else {
                self.phase = Phase::SendBody;
            }
            if self.op == Op::Open {
                self.op = Op::Idle;
                self.deadline = None;
                return Next::Done(Ok(Done::HeadersSent));
            }
            return Next::Continue;
        }
        let body = self.req.body.filter(|_| !self.req.expect_continue).and_then(|b| b.get(self.req.body_pos..));
        match self.with_plan(|plan, tx| {
            let (n, next) = request::fill_page(plan, line, tx)?;
            // Coalesce: a body that fits after the last page goes in the same write.
            let mut end = n;
            let mut copied = 0;
            if next == Line::Done
                && let Some(body) = body
                && let Some(dst) = tx.get_mut(n..n + body.len())
            {
                dst.copy_from_slice(body);
                end += body.len();
                copied = body.len();
            }
            Ok((end, next, copied))
        }) {
            Ok((end, next, copied)) => {
                self.req.out_pos = 0;
                self.req.out_end = end;
                self.req.body_pos += copied;
                self.phase = Phase::SendHead(next);
                Next::Continue
            }
            Err(e) => {
                self.fail(e);
                Next::Continue
            }
        }
    }

    fn step_send_body(&mut self, now: Instant) -> Next {
        let req = &mut self.req;
        if req.out_pos < req.out_end || req.body.is_some_and(|b| req.body_pos < b.len()) {
            self.arm_deadline(now);
            return Next::Transmit;
        }
        if req.body.is_none() {
            // Streamed: the caller's writes are flushed.
            match self.op {
                Op::Write => {
                    self.op = Op::Idle;
                    self.deadline = None;
                    return Next::Done(Ok(Done::Written));
                }
                Op::FetchHeaders => {}
                _ => return Next::Done(Err(ClientError::InvalidState { operation: "poll" })),
            }
            match req.framing {
                BodyFraming::Chunked if !req.last_chunk_queued => {
                    req.last_chunk_queued = true;
                    let (_, tx, _) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
                    req.out_pos = 0;
                    req.out_end = 0;
                    put(tx, &mut req.out_end, b"0\r\n\r\n");
                    self.arm_deadline(now);
                    return Next::Transmit;
                }
                BodyFraming::Length(declared) if req.written != declared => {
                    let written = req.written;
                    self.spent = true;
                    self.fail(ClientError::BodyLengthMismatch { declared, written });
                    return Next::Continue;
                }
                _ => {}
            }
        }
        self.state = State::ReqCompleteData;
        self.phase = Phase::RecvHead;
        // `resp.end` stays: after `100 Continue` (or a wait for it that timed out), bytes
        // already received belong to the response.
        Next::Continue
    }

    fn step_recv_head(&mut self, now: Instant) -> Next {
        if self.deadline.is_none() {
            self.deadline = Some(now.after_millis(self.settings.timeout));
        }
        let limits = self.settings.limits;
        let (rx, _, _) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        // The head must fit the buffer less the body window: only that much is parsed, so the
        // verdict on an over-long head does not depend on how many bytes beyond it one read
        // happened to bring (a head with too many fields is that, or too long, whatever the
        // split).
        let room = rx.len().saturating_sub(MIN_BODY_WINDOW);
        let input = rx.get(..self.resp.end.min(room)).unwrap_or_default();
        let mut slots = [EMPTY_SLOT; MAX_RESPONSE_FIELDS];
        let parsed = ResponseHead::parse(input, &mut slots, &limits);
        let (status, head_len) = match parsed {
            Err(e) => {
                self.fail(ClientError::Remote(e));
                return Next::Continue;
            }
            Ok(Parse::Partial) => {
                if self.resp.end >= room {
                    let max = room as u64;
                    self.fail(ClientError::Remote(RemoteError::TooLarge { limit: Limit::HeaderSection, max }));
                    return Next::Continue;
                }
                return Next::Receive;
            }
            Ok(Parse::Complete((head, len))) => (head.status, len),
        };
        if status.is_informational() {
            // 100 Continue lets the body go; other 1xx heads are skipped.
            rx.copy_within(head_len..self.resp.end, 0);
            self.resp.end -= head_len;
            if self.phase == Phase::Continue && status == StatusCode::CONTINUE {
                self.phase = Phase::SendBody;
                self.state = State::ReqCompleteHeader;
            }
            return Next::Continue;
        }
        if self.phase == Phase::Continue {
            // A final answer instead of 100: the declared body is never sent, so the
            // connection cannot carry another request.
            self.req.body_skipped = true;
            self.spent = true;
            self.req.out_pos = self.req.out_end;
            self.state = State::ReqCompleteData;
        }
        if self.resp.end + MIN_BODY_WINDOW > rx.len() + (self.resp.end - head_len) {
            let max = (rx.len() - MIN_BODY_WINDOW) as u64;
            self.fail(ClientError::Remote(RemoteError::TooLarge { limit: Limit::HeaderSection, max }));
            return Next::Continue;
        }
        if let Err(e) = self.process_head(head_len) {
            self.fail(e);
            return Next::Continue;
        }
        self.phase = Phase::RecvBody;
        if self.op == Op::FetchHeaders {
            self.state = State::ResOnDataStart;
            self.resp.first_delivery = false;
            self.op = Op::Idle;
            self.deadline = None;
            return Next::Done(Ok(Done::Headers));
        }
        Next::Continue
    }

    /// The final response head is complete in `rx[..head_len]`: events, body framing, and
    /// what to do after the body.
    fn process_head(&mut self, head_len: usize) -> Result<(), ClientError> {
        let limits = self.settings.limits;
        let (rx, tx, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let rx: &[u8] = rx;
        let mut slots = [EMPTY_SLOT; MAX_RESPONSE_FIELDS];
        let Ok(Parse::Complete((head, _))) =
            ResponseHead::parse(rx.get(..head_len).unwrap_or_default(), &mut slots, &limits)
        else {
            return Err(ClientError::Remote(RemoteError::Malformed(crate::error::Syntax::StatusCode)));
        };
        let resp = &mut self.resp;
        resp.head_len = head_len;
        resp.pos = head_len;
        resp.data = (head_len, head_len);
        resp.status = Some(head.status);
        emit(&mut self.handler, self.id, self.state, EventKind::OnStatusCode(head.status));
        for field in head.headers.iter() {
            emit(&mut self.handler, self.id, self.state, EventKind::OnHeader { name: field.name, value: field.value });
        }
        self.state = State::ResCompleteHeader;
        emit(&mut self.handler, self.id, self.state, EventKind::OnHeadersComplete);

        let resp = &mut self.resp;
        resp.kind = response_body(&self.req.method, &head, &limits)?;
        resp.content_length = match resp.kind {
            BodyKind::Length(n) => Some(n),
            _ => head.headers.get("content-length").and_then(parse_u64),
        };
        resp.remaining = if let BodyKind::Length(n) = resp.kind { n } else { 0 };
        resp.decoder = ChunkedDecoder::new(&limits);
        resp.first_delivery = true;
        let connection = head.headers.get_all("connection");
        resp.keep_alive = keep_alive(head.version, connection);
        // A request that said `Connection: close` (ours with keep-alive off, or the caller's)
        // ends the connection whatever the response says.
        let asked_close = match self.store.header(store_buf, "Connection") {
            Some(v) => list_elements(v).any(|t| eq_ignore_case(t, b"close")),
            None => !self.settings.keep_alive,
        };
        if asked_close {
            resp.keep_alive = false;
        }

        // What follows the body.
        let status = head.status;
        if status.is_success() {
            self.req.redirects = 0;
        }
        if is_redirect(status) {
            let auto = self.op == Op::Perform && self.settings.auto_redirect;
            let location = head.headers.get("location").and_then(|v| core::str::from_utf8(v).ok());
            let base = self.store.get_str(store_buf, Tag::Url).map(Url::parse);
            let resolved = match (location, base) {
                (Some(location), Some(Ok(base))) => {
                    Some(url::resolve(&base, location, tx).map_err(ClientError::BadLocation))
                }
                _ => None,
            };
            match resolved {
                Some(Ok(n)) => {
                    let location = tx.get(..n).unwrap_or_default();
                    self.store.set(store_buf, Tag::Location, &[location])?;
                }
                Some(Err(e)) if auto => return Err(e),
                _ if auto => return Err(ClientError::RedirectWithoutLocation(status)),
                _ => {}
            }
            if auto {
                if self.req.redirects >= self.settings.max_redirects {
                    return Err(ClientError::TooManyRedirects { max: self.settings.max_redirects });
                }
                self.check_downgrade()?;
                self.follow = FollowUp::Redirect(status);
                // ESP-IDF posts REDIRECT to its event loop for automatic redirects too; the
                // handler only hears of the ones it must act on.
                super::event::dispatch(
                    &mut super::event::NoEvents,
                    &super::event::Event { client: self.id, state: self.state, kind: EventKind::Redirect { status } },
                );
            } else {
                emit(&mut self.handler, self.id, self.state, EventKind::Redirect { status });
            }
        } else if status == StatusCode::UNAUTHORIZED && self.op == Op::Perform {
            self.consider_challenge(head_len)?;
        }
        Ok(())
    }

    /// A 401: arm a retry with credentials when the challenge is usable and retries remain.
    fn consider_challenge(&mut self, head_len: usize) -> Result<(), ClientError> {
        let max = self.settings.max_auth_retries;
        if max < 0 || self.req.auth_tries >= max as u16 || self.username().is_none() {
            return Ok(());
        }
        let (rx, _, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let head = rx.get(..head_len).unwrap_or_default();
        let values = response_fields(head).filter(|(n, _)| eq_ignore_case(n, b"www-authenticate")).map(|(_, v)| v);
        let Some(challenge) = auth::select_challenge(values).map_err(ClientError::Auth)? else {
            return Ok(());
        };
        let already_sent = self.req.auth;
        match challenge {
            Challenge::Basic { .. } => {
                if matches!(already_sent, AuthPlan::Basic) {
                    return Ok(()); // the credentials were refused
                }
                self.settings.auth_type = AuthType::Basic;
            }
            Challenge::Digest(c) => {
                if matches!(already_sent, AuthPlan::Digest { .. }) && !c.stale {
                    return Ok(());
                }
                for (tag, value) in [
                    (Tag::DigestRealm, Some(c.realm)),
                    (Tag::DigestNonce, Some(c.nonce)),
                    (Tag::DigestOpaque, c.opaque),
                ] {
                    match value {
                        Some(v) => {
                            let mut tmp = [0u8; 256];
                            let n = v.unescape_into(&mut tmp).map_err(ClientError::Auth)?;
                            self.store.set(store_buf, tag, &[tmp.get(..n).unwrap_or_default()])?;
                        }
                        None => {
                            self.store.remove(store_buf, tag);
                        }
                    }
                }
                self.digest = Some(super::engine::Digest { algorithm: c.algorithm, qop_auth: c.qop_auth, nc: 0 });
                self.settings.auth_type = AuthType::Digest;
            }
        }
        self.req.auth_tries += 1;
        self.follow = FollowUp::Authenticate;
        Ok(())
    }

    /// Refuses to follow the stored `Location` from https to http.
    /// Drops the Digest challenge and its nonce-count.
    fn forget_digest(&mut self) {
        self.digest = None;
        let (_, _, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        for tag in [Tag::DigestRealm, Tag::DigestNonce, Tag::DigestOpaque] {
            self.store.remove(store_buf, tag);
        }
    }

    pub(crate) fn check_downgrade(&self) -> Result<(), ClientError> {
        let store_buf = self.store_buf();
        let get = |tag| self.store.get_str(store_buf, tag).and_then(|s| Url::parse(s).ok());
        match (get(Tag::Url), get(Tag::Location)) {
            (Some(from), Some(to)) if from.scheme.is_secure() && !to.scheme.is_secure() => {
                Err(ClientError::RedirectDowngrade)
            }
            _ => Ok(()),
        }
    }

    fn step_recv_body(&mut self, now: Instant) -> Next {
        if self.op == Op::Read && self.resp.data.0 < self.resp.data.1 {
            self.op = Op::Idle;
            self.deadline = None;
            return Next::Done(Ok(Done::Data));
        }
        match self.next_body_data() {
            Err(e) => {
                self.fail(e);
                Next::Continue
            }
            Ok(BodyStep::Data(from, to)) => {
                self.resp.received += (to - from) as u64;
                let (rx, _, _) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
                let data = rx.get(from..to).unwrap_or_default();
                emit(&mut self.handler, self.id, self.state, EventKind::OnData(data));
                if self.op == Op::Read {
                    self.resp.data = (from, to);
                    self.op = Op::Idle;
                    self.deadline = None;
                    return Next::Done(Ok(Done::Data));
                }
                Next::Continue
            }
            Ok(BodyStep::NeedMore) => {
                if self.resp.first_delivery {
                    self.resp.first_delivery = false;
                    self.state = State::ResOnDataStart;
                }
                self.arm_deadline(now);
                Next::Receive
            }
            Ok(BodyStep::End) => {
                self.finish_body();
                Next::Continue
            }
        }
    }

    /// The body is complete: `OnFinish`, and the connection's fate.
    fn finish_body(&mut self) {
        let resp = &mut self.resp;
        resp.complete = true;
        if resp.first_delivery {
            resp.first_delivery = false;
        }
        if resp.pos < resp.end || !resp.keep_alive || resp.kind == BodyKind::CloseDelimited || self.req.body_skipped {
            // Bytes after the response, or a server that closes: no reuse.
            self.spent = true;
        }
        self.state = State::ResOnDataStart;
        self.phase = Phase::Complete;
        emit(&mut self.handler, self.id, self.state, EventKind::OnFinish);
    }

    fn step_complete(&mut self) -> Next {
        if self.spent && self.op == Op::Perform && matches!(self.conn, Conn::Open { .. }) {
            self.conn = Conn::Closing;
            return Next::Close;
        }
        if let Conn::Open { reused } = &mut self.conn {
            *reused = true;
        }
        match self.op {
            Op::Perform => {
                let follow = core::mem::replace(&mut self.follow, FollowUp::None);
                let followed = match follow {
                    FollowUp::None => Ok(false),
                    FollowUp::Redirect(status) => {
                        self.req.redirects += 1;
                        self.apply_redirect(status).map(|to_get| {
                            if to_get {
                                self.req.make_get();
                            }
                            true
                        })
                    }
                    FollowUp::Authenticate => Ok(true),
                };
                // Answering a challenge whose credentials cannot fit the transmit buffer (a
                // huge nonce, say) is not the caller's error: the 401 stands as the answer, and
                // the challenge is forgotten so later requests can get a fresh one.
                let followed = match followed {
                    Ok(true) => match self.start_exchange() {
                        Ok(()) => Ok(true),
                        Err(ClientError::HeaderTooLong { .. }) if follow == FollowUp::Authenticate => {
                            self.forget_digest();
                            Ok(false)
                        }
                        Err(e) => Err(e),
                    },
                    other => other,
                };
                match followed {
                    Ok(true) => {
                        if self.conn != Conn::Closed {
                            self.state = State::Connected;
                        }
                        Next::Continue
                    }
                    Ok(false) => {
                        if self.conn != Conn::Closed {
                            self.state = State::Connected;
                        }
                        self.op = Op::Idle;
                        self.phase = Phase::Idle;
                        self.deadline = None;
                        self.request_deadline = None;
                        Next::Done(Ok(Done::Finished))
                    }
                    Err(e) => {
                        self.fail(e);
                        Next::Continue
                    }
                }
            }
            Op::Read | Op::Flush => {
                self.op = Op::Idle;
                self.deadline = None;
                Next::Done(Ok(Done::EndOfBody))
            }
            _ => Next::Done(Err(ClientError::InvalidState { operation: "poll" })),
        }
    }

    /// The next decoded body bytes in the receive buffer, as a range.
    fn next_body_data(&mut self) -> Result<BodyStep, ClientError> {
        let (rx, _, _) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let resp = &mut self.resp;
        let window = resp.head_len;
        loop {
            let avail = resp.end - resp.pos;
            let step = match resp.kind {
                BodyKind::None => BodyStep::End,
                BodyKind::Length(_) if resp.remaining == 0 => BodyStep::End,
                BodyKind::Length(_) | BodyKind::CloseDelimited if avail == 0 => BodyStep::NeedMore,
                BodyKind::Length(_) => {
                    let n = avail.min(usize::try_from(resp.remaining).unwrap_or(usize::MAX));
                    resp.remaining -= n as u64;
                    resp.pos += n;
                    BodyStep::Data(resp.pos - n, resp.pos)
                }
                BodyKind::CloseDelimited => {
                    resp.pos += avail;
                    BodyStep::Data(resp.pos - avail, resp.pos)
                }
                BodyKind::Chunked => {
                    let input = rx.get(resp.pos..resp.end).unwrap_or_default();
                    let (used, decoded) = resp.decoder.decode(input)?;
                    resp.pos += used;
                    match decoded {
                        Decoded::Data(d) => BodyStep::Data(resp.pos - d.len(), resp.pos),
                        Decoded::Trailer(_) => continue,
                        Decoded::End => BodyStep::End,
                        Decoded::NeedMore => {
                            // An unfinished trailer line moves to the front of the window.
                            if resp.pos < resp.end {
                                rx.copy_within(resp.pos..resp.end, window);
                                resp.end = window + (resp.end - resp.pos);
                                resp.pos = window;
                                if resp.end >= rx.len() {
                                    let max = (rx.len() - window) as u64;
                                    return Err(ClientError::Remote(RemoteError::TooLarge {
                                        limit: Limit::TrailerSection,
                                        max,
                                    }));
                                }
                                return Ok(BodyStep::NeedMore);
                            }
                            BodyStep::NeedMore
                        }
                    }
                }
            };
            if let BodyStep::NeedMore = step
                && resp.pos == resp.end
            {
                resp.pos = window;
                resp.end = window;
            }
            return Ok(step);
        }
    }

    /// Stores a new URL from `tx[..n]`: normalized, with the Host header, credentials from
    /// its userinfo, and the connection and credentials dropped when the origin changes.
    pub(crate) fn install_url(&mut self, n: usize) -> Result<(), ClientError> {
        let (_, tx, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let (given, scratch) = tx.split_at_mut(n.min(tx.len()));
        let new =
            core::str::from_utf8(given).map_err(|_| ClientError::Url(url::UrlError::InvalidCharacter { at: 0 }))?;
        let new = Url::parse(new).map_err(ClientError::Url)?;
        let old = self.store.get_str(store_buf, Tag::Url).and_then(|s| Url::parse(s).ok());
        let same_origin = old.is_some_and(|old| old.same_origin(&new));
        let cross_origin = old.is_some() && !same_origin;
        // The normalized URL is written straight into the store, so a URL may take (almost)
        // the whole transmit buffer, as its request line may.
        let normal = Url { userinfo: None, path: if new.path.is_empty() { "/" } else { new.path }, ..new };
        let host_len = normal.write_host_header(scratch).map_err(ClientError::Url)?;
        let host = scratch.get(..host_len).unwrap_or_default();
        let mut decoded_user = [0u8; 128];
        let mut decoded_pass = [0u8; 128];
        let userinfo = new.userinfo.map(url::split_userinfo);
        let creds = match userinfo {
            Some((user, pass)) => {
                let u = url::percent_decode(user, &mut decoded_user).map_err(ClientError::Url)?;
                let p = match pass {
                    Some(p) => url::percent_decode(p, &mut decoded_pass).map_err(ClientError::Url)?,
                    None => 0,
                };
                Some((u, p))
            }
            None => None,
        };
        // Checked to fit before anything changes (restoring the record count after a
        // half-made change would not restore the bytes it moved).
        Self::store_url(
            &mut self.store,
            store_buf,
            cross_origin,
            &normal,
            host,
            creds.map(|(u, p)| (decoded_user.get(..u).unwrap_or_default(), decoded_pass.get(..p).unwrap_or_default())),
        )?;
        if cross_origin {
            self.digest = None;
        }
        if !same_origin && matches!(self.conn, Conn::Open { .. }) {
            self.spent = true;
        }
        Ok(())
    }

    /// Writes a new URL's records: credentials dropped when the origin changes, the URL, the
    /// Host header, and the URL's own credentials.
    fn store_url(
        store: &mut super::store::Store,
        store_buf: &mut [u8],
        drop_credentials: bool,
        url: &Url<'_>,
        host: &[u8],
        creds: Option<(&[u8], &[u8])>,
    ) -> Result<(), ClientError> {
        // All or nothing: a change that does not fit must leave the old URL, Host and
        // credentials as they were.
        let dropped = [
            Key::Tag(Tag::Username),
            Key::Tag(Tag::Password),
            Key::Tag(Tag::DigestRealm),
            Key::Tag(Tag::DigestNonce),
            Key::Tag(Tag::DigestOpaque),
            Key::Header("Authorization"),
        ];
        let (user_len, pass_len) = creds.map_or((0, 0), |(u, p)| (u.len(), p.len()));
        let puts = [
            (Key::Tag(Tag::Url), url.buffer_len()),
            (Key::Header("Host"), 5 + host.len()),
            (Key::Tag(Tag::Username), user_len),
            (Key::Tag(Tag::Password), pass_len),
        ];
        let puts = puts.get(..if creds.is_some() { 4 } else { 2 }).unwrap_or_default();
        store.check_changes(store_buf, if drop_credentials { &dropped } else { &[] }, puts)?;
        if drop_credentials {
            for tag in [Tag::Username, Tag::Password, Tag::DigestRealm, Tag::DigestNonce, Tag::DigestOpaque] {
                store.remove(store_buf, tag);
            }
            store.remove_header(store_buf, "Authorization");
        }
        store.set_with(store_buf, Tag::Url, url.buffer_len(), |dst| {
            // Exactly `buffer_len` bytes: the write cannot fail.
            let _ = url.write(dst);
        })?;
        store.set_header(store_buf, "Host", host)?;
        if let Some((user, pass)) = creds {
            store.set(store_buf, Tag::Username, &[user])?;
            store.set(store_buf, Tag::Password, &[pass])?;
        }
        Ok(())
    }

    /// Follows the stored `Location` of a `status` redirect: installs the new URL and returns
    /// whether the request becomes a GET without body (RFC 9110 section 15.4), which the
    /// caller applies with [`Request::make_get`].
    pub(crate) fn apply_redirect(&mut self, status: StatusCode) -> Result<bool, ClientError> {
        let (_, tx, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let location = self.store.get(store_buf, Tag::Location).ok_or(ClientError::RedirectWithoutLocation(status))?;
        let n = location.len().min(tx.len());
        if let (Some(dst), Some(src)) = (tx.get_mut(..n), location.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.store.remove(store_buf, Tag::Location);
        self.install_url(n)?;
        Ok(match status.as_u16() {
            303 => self.req.method != Method::Head,
            301 | 302 => self.req.method == Method::Post,
            _ => false,
        })
    }
}

/// One step of body decoding.
enum BodyStep {
    /// Decoded bytes at this range of the receive buffer.
    Data(usize, usize),
    NeedMore,
    End,
}

/// HTTP/1.1 keeps the connection unless `close` is listed; HTTP/1.0 closes unless
/// `keep-alive` is listed.
fn keep_alive<'h>(version: Version, mut connection: impl Iterator<Item = &'h [u8]>) -> bool {
    let mut close = false;
    let mut keep = false;
    for value in connection.by_ref() {
        for token in list_elements(value) {
            close |= eq_ignore_case(token, b"close");
            keep |= eq_ignore_case(token, b"keep-alive");
        }
    }
    match version {
        Version::Http11 => !close,
        Version::Http10 => keep && !close,
    }
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    core::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// Appends `bytes` to `buf` at `*end`.
fn put(buf: &mut [u8], end: &mut usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(*end..*end + bytes.len()) {
        dst.copy_from_slice(bytes);
        *end += bytes.len();
    }
}

/// splitmix64: turns the entropy seed and a counter into a client nonce.
fn mix(seed: u64, counter: u64) -> u64 {
    let mut z = seed.wrapping_add(counter.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The request-target of a stored URL without parsing it again for every request: the URL
/// was normalized when stored (`store_url`: `scheme://authority`, no userinfo, then a path
/// that is never empty and starts with `/`, then the query), so the target is everything from
/// the first `/` after `://`. `None` for anything else, which the caller parses in full.
fn stored_target(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let start = rest.find(['/', '?', '#'])?;
    rest.get(start..).filter(|target| target.starts_with('/'))
}

//! The connection engine's state and the types of its driving loop.

use super::config::ServerConfig;
use super::error::ServerError;
use crate::body::BodyKind;
use crate::chunked::ChunkedDecoder;
use crate::error::LocalError;
use crate::server::HttpdErrCode;
use crate::server::event::SessionId;
use crate::time::Instant;
use crate::version::Version;

/// What the engine wants the adapter to do next.
#[derive(Debug)]
pub enum Action<'c> {
    /// Read from the connection into this buffer, then call
    /// [`Connection::received`] with how many bytes arrived (0 for end of stream). When
    /// nothing arrives by [`Connection::deadline`], call [`Connection::handle_timeout`].
    Receive(&'c mut [u8]),
    /// Write `bytes`, then (when `body_from` is `Some(i)`) the body the handler passed to the
    /// last send call from offset `i`, as one vectored write where possible; then call
    /// [`Connection::transmitted`] with how many bytes went out in all.
    Transmit {
        /// The engine's bytes: a response head, chunk framing, a short error body.
        bytes: &'c [u8],
        /// Where the rest of the handler's body starts, if part of it is still to go.
        body_from: Option<usize>,
    },
    /// Close the connection, then call [`Connection::closed`].
    Close,
    /// The current operation is over.
    Done(Result<Completion<'c>, ServerError>),
}

/// What an operation achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion<'c> {
    /// A request head arrived: read it with [`Connection::request`], dispatch it, and end
    /// the handler with [`Connection::finish`].
    Request,
    /// The engine refuses the request (or what the client sent instead of one) with this
    /// code. Run the error handler registered for it, which may answer with the send calls
    /// and ends with [`Connection::finish`], or let the engine answer with
    /// [`Connection::reject`] (ESP-IDF's default: the error response, then close).
    Error(HttpdErrCode),
    /// `read_body`: request body bytes, decoded, borrowed from the receive buffer. Call
    /// [`Connection::consume`] with how many were used.
    Data(&'c [u8]),
    /// `read_body`: one trailer field of a chunked body.
    Trailer {
        /// The field name.
        name: &'c str,
        /// The field value, without surrounding whitespace.
        value: &'c [u8],
    },
    /// `read_body`: the body is complete (on a WebSocket session: the frame's payload is).
    EndOfBody,
    /// A WebSocket session received a frame for its handler: read its payload with
    /// `read_body` (pieces, then `EndOfBody`), then [`Connection::finish`].
    Frame(crate::ws::FrameInfo),
    /// A send call's bytes went out.
    Sent,
    /// The connection is closed; drop the engine (or [`reset`](Connection::reset) it for the
    /// next connection).
    Closed,
}

/// How a handler ended (ESP-IDF: the handler's return value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerOutcome {
    /// `ESP_OK`: keep the session if the protocol allows.
    Ok,
    /// Anything else: close the session.
    Fail,
}

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the first byte of a request.
    Idle,
    /// Part of a request head has arrived.
    Head,
    /// A request is with its handler.
    Handling,
    /// The engine refused what arrived with this code; an error handler or `reject` answers.
    /// `uncertain`: the rest of the stream cannot be framed, so the session must close.
    Refusing { code: HttpdErrCode, uncertain: bool },
    /// The handler is done: sending what is left, then discarding unread body.
    Finishing,
    /// The session speaks WebSocket (after a 101).
    WebSocket,
    /// Sending what is left, then closing.
    Closing,
    /// Closed.
    Closed,
}

/// The operation the caller set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Serve requests: run until the next request, refusal or close.
    Serve,
    /// Waiting for the handler's next call.
    Handler,
    /// `read_body`.
    ReadBody,
    /// A send call.
    Send,
}

/// `Expect: 100-continue` handling for the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Not asked, or already answered.
    None,
    /// Asked; the body has not been read yet.
    Pending,
}

/// The response to the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resp {
    /// Nothing sent yet.
    NotStarted,
    /// A chunked response is under way. `framed` is false for an HTTP/1.0 client, whose body
    /// runs until the close; `crlf_owed` once a chunk's data went out without its line ending;
    /// `silent` when no body goes on the wire (HEAD, 204, 304).
    Chunked { framed: bool, crlf_owed: bool, silent: bool },
    /// The response is complete.
    Complete,
}

/// The body decoder of the session's current mode.
#[derive(Debug, Clone)]
pub(crate) enum Codec {
    Chunked(ChunkedDecoder),
    WebSocket(WsSession),
}

/// A WebSocket session's receive state.
#[derive(Debug, Clone)]
pub(crate) struct WsSession {
    pub(super) receiver: crate::ws::FrameReceiver,
    /// Control frames go to the handler too (ESP-IDF's `handle_ws_control_frames`).
    pub(super) handle_control: bool,
    /// A control frame the engine answers itself is being collected, at the tail of the
    /// transmit buffer; `control_len` bytes so far.
    pub(super) collecting: Option<crate::ws::Opcode>,
    pub(super) control_len: u8,
    /// The current frame goes to the handler.
    pub(super) to_handler: bool,
    /// A close frame was sent: the session ends when the client's close arrives.
    pub(super) close_sent: bool,
}

/// The request being served.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    /// The head, without leading empty lines, is `rx[head_start..head_len]`.
    pub(super) head_start: usize,
    pub(super) head_len: usize,
    /// `rx[method.0..method.1]`, `rx[target.0..target.1]`.
    pub(super) method: (usize, usize),
    pub(super) target: (usize, usize),
    pub(super) version: Version,
    pub(super) is_head: bool,
    pub(super) body: BodyKind,
    /// Bytes left of a Content-Length body.
    pub(super) remaining: u64,
    /// Body bytes decoded so far.
    pub(super) received: u64,
    /// Milliseconds the handler has spent waiting for body bytes (`min_body_rate`).
    pub(super) body_waited_ms: u32,
    /// Length of the body wait under way: its deadline is this long after it began.
    pub(super) body_wait_ms: u32,
    /// The chunked decoder of an HTTP body, or the frame receiver once the session speaks
    /// WebSocket (the two are never needed at once).
    pub(super) codec: Codec,
    pub(super) body_done: bool,
    pub(super) expect: Expect,
    /// The client asked to close after this exchange (or spoke HTTP/1.0 without keep-alive).
    pub(super) client_close: bool,
    /// An HTTP/1.0 client asked for keep-alive.
    pub(super) keep_alive_10: bool,
    /// Body bytes discarded after the handler.
    pub(super) discarded: u64,
    /// The client broke the body's framing or limit while the handler read it.
    pub(super) body_error: Option<crate::error::RemoteError>,
    /// A body read failed because the client stopped sending or sent too slowly.
    pub(super) body_timed_out: bool,
    /// For a 405: the methods the path allows, as bits of `Method::named_index`.
    pub(super) allow: u32,
}

/// One server connection: the request/response engine for one session, esp_http_server's
/// per-socket work without the socket.
///
/// Built over one caller buffer of [`ServerConfig::buffer_len`] bytes (2,612 at ESP-IDF's
/// defaults). See the [module docs](crate::server::connection) for the loop.
///
/// One session served by hand, the "socket" a byte string: the engine asks for input, hands
/// the request over, sends the handler's response (the body by offset, not copied), and
/// closes when the client does.
///
/// ```
/// use tern_proto::{Instant, Method};
/// use tern_proto::server::{
///     Action, Completion, Connection, HandlerOutcome, Response, ServerConfig, ServerError, SessionId,
/// };
///
/// /// Does what `poll` asks until the operation is done, and names the completion. `body` is
/// /// the body of the last send call, which `Action::Transmit` asks for by offset.
/// fn drive(
///     conn: &mut Connection<Vec<u8>>,
///     input: &mut &[u8],
///     output: &mut Vec<u8>,
///     body: &[u8],
/// ) -> Result<&'static str, ServerError> {
///     let now = Instant::from_millis(0); // a real adapter reads its clock here
///     loop {
///         match conn.poll(now) {
///             Action::Receive(buf) => {
///                 let n = buf.len().min(input.len()); // 0: the client closed
///                 buf[..n].copy_from_slice(&input[..n]);
///                 *input = &input[n..];
///                 conn.received(n, now);
///             }
///             Action::Transmit { bytes, body_from } => {
///                 let rest = body_from.map_or(&[][..], |from| &body[from..]);
///                 output.extend_from_slice(bytes);
///                 output.extend_from_slice(rest);
///                 let n = bytes.len() + rest.len();
///                 conn.transmitted(n, now);
///             }
///             Action::Close => conn.closed(),
///             Action::Done(done) => {
///                 return done.map(|completion| match completion {
///                     Completion::Request => "request",
///                     Completion::Sent => "sent",
///                     Completion::Closed => "closed",
///                     _ => "other",
///                 });
///             }
///         }
///     }
/// }
///
/// let config = ServerConfig::default();
/// let mut conn = Connection::new(vec![0u8; config.buffer_len()], config, SessionId(1))?;
/// let mut input: &[u8] = b"GET /hello?lang=en HTTP/1.1\r\nHost: esp32\r\n\r\n";
/// let mut output = Vec::new();
///
/// assert_eq!(drive(&mut conn, &mut input, &mut output, b"")?, "request");
/// let req = conn.request().expect("a request is being served");
/// assert_eq!((req.method(), req.path(), req.query_value("lang")), (Method::Get, "/hello", Some("en")));
///
/// let page = b"Hello World!";
/// conn.send(&Response { content_type: "text/plain", ..Response::default() }, page)?;
/// assert_eq!(drive(&mut conn, &mut input, &mut output, page)?, "sent");
/// conn.finish(HandlerOutcome::Ok)?; // keep-alive: wait for the next request...
/// assert_eq!(drive(&mut conn, &mut input, &mut output, b"")?, "closed"); // ...but the client left
///
/// let text = String::from_utf8(output)?;
/// assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(text.contains("Content-Length: 12\r\n"));
/// assert!(text.ends_with("\r\n\r\nHello World!"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Connection<B> {
    pub(crate) buf: B,
    pub(crate) config: ServerConfig,
    pub(crate) rx_size: usize,
    pub(crate) id: SessionId,
    pub(crate) phase: Phase,
    pub(crate) op: Op,
    /// Valid bytes in the receive buffer.
    pub(crate) end: usize,
    /// Next unparsed byte of the receive buffer.
    pub(crate) pos: usize,
    /// Decoded body bytes not yet consumed, `rx[data.0..data.1]`.
    pub(crate) data: (usize, usize),
    pub(crate) current: Current,
    /// A request head is in the buffer and readable.
    pub(crate) has_request: bool,
    pub(crate) peer_eof: bool,
    pub(crate) recv_deadline: Option<Instant>,
    pub(crate) send_deadline: Option<Instant>,
    /// Pending bytes of the transmit buffer.
    pub(crate) out_pos: usize,
    pub(crate) out_end: usize,
    /// The operation a send returns to.
    pub(crate) after_send: Op,
    /// The handler's body in flight: `body_pos` of `body_len` bytes sent.
    pub(crate) body_len: usize,
    pub(crate) body_pos: usize,
    /// Bytes the current send operation put on the wire.
    pub(crate) op_sent: u64,
    pub(crate) head_in_flight: bool,
    pub(crate) resp: Resp,
    /// Close once the response is out.
    pub(crate) close_after: bool,
    /// Why the connection failed, for the operation that was under way.
    pub(crate) failure: Option<ServerError>,
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> Connection<B> {
    /// A connection engine for a new session over `buf`, which must hold at least
    /// [`ServerConfig::buffer_len`] bytes.
    ///
    /// ```
    /// use tern_proto::server::{Connection, ServerConfig, SessionId};
    /// let config = ServerConfig::default();
    /// let conn = Connection::new(vec![0u8; config.buffer_len()], config, SessionId(1))?;
    /// # Ok::<(), tern_proto::LocalError>(())
    /// ```
    pub fn new(buf: B, config: ServerConfig, id: SessionId) -> Result<Self, LocalError> {
        let needed = config.buffer_len();
        let available = buf.as_ref().len();
        if available < needed {
            return Err(LocalError::BufferTooSmall { needed, available });
        }
        Ok(Connection {
            buf,
            rx_size: config.rx_len(),
            config,
            id,
            phase: Phase::Idle,
            op: Op::Serve,
            after_send: Op::Handler,
            end: 0,
            pos: 0,
            data: (0, 0),
            current: Current::new(&config),
            has_request: false,
            peer_eof: false,
            recv_deadline: None,
            send_deadline: None,
            out_pos: 0,
            out_end: 0,
            body_len: 0,
            body_pos: 0,
            op_sent: 0,
            head_in_flight: false,
            resp: Resp::NotStarted,
            close_after: false,
            failure: None,
        })
    }

    /// Makes the engine ready for a new connection with session id `id`, keeping its buffer.
    pub fn reset(&mut self, id: SessionId) {
        let config = self.config;
        self.id = id;
        self.phase = Phase::Idle;
        self.op = Op::Serve;
        self.after_send = Op::Handler;
        self.end = 0;
        self.pos = 0;
        self.data = (0, 0);
        self.current = Current::new(&config);
        self.has_request = false;
        self.peer_eof = false;
        self.recv_deadline = None;
        self.send_deadline = None;
        self.out_pos = 0;
        self.out_end = 0;
        self.body_len = 0;
        self.body_pos = 0;
        self.op_sent = 0;
        self.head_in_flight = false;
        self.resp = Resp::NotStarted;
        self.close_after = false;
        self.failure = None;
    }

    /// The session this engine serves.
    pub fn session(&self) -> SessionId {
        self.id
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Whether the request being answered, served or refused after its head was read (a
    /// missing Host, bad framing), is a HEAD: its response goes out without a body.
    pub fn answers_head(&self) -> bool {
        self.current.is_head
    }

    /// Whether received bytes wait in the buffer, unparsed (a pipelined request, say): the
    /// next request may need no read from the socket. An adapter can use it to decide
    /// whether to let other connections run before reading.
    pub fn has_buffered_input(&self) -> bool {
        self.pos < self.end
    }

    /// True once the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The receive buffer, the transmit buffer.
    pub(crate) fn split(&mut self) -> (&mut [u8], &mut [u8]) {
        let rx_size = self.rx_size;
        let all = self.buf.as_mut();
        let (rx, rest) = all.split_at_mut(rx_size.min(all.len()));
        let tx_len = self.config.tx_buffer_size.min(rest.len());
        let (tx, _) = rest.split_at_mut(tx_len);
        (rx, tx)
    }

    pub(crate) fn rx(&self) -> &[u8] {
        self.buf.as_ref().get(..self.rx_size).unwrap_or_default()
    }
}

impl Current {
    pub(crate) const fn new(config: &ServerConfig) -> Current {
        Current {
            head_start: 0,
            head_len: 0,
            method: (0, 0),
            target: (0, 0),
            version: Version::Http11,
            is_head: false,
            body: BodyKind::None,
            remaining: 0,
            received: 0,
            body_waited_ms: 0,
            body_wait_ms: 0,
            codec: Codec::Chunked(ChunkedDecoder::new(&config.limits)),
            body_done: true,
            expect: Expect::None,
            client_close: false,
            keep_alive_10: false,
            discarded: 0,
            body_error: None,
            body_timed_out: false,
            allow: 0,
        }
    }
}

// The per-session budget of design brief section 7 is for the chips tern runs on: the riscv32
// builds in CI check it (as the client engine's); tests/sizes.rs pins the exact host figure.
#[cfg(target_pointer_width = "32")]
const _: () = assert!(core::mem::size_of::<Connection<&'static mut [u8]>>() <= 512);

//! The client engine: [`Client`], its driving loop, and the operations that set its goal.
//!
//! An operation ([`Client::perform`], [`Client::open`], [`Client::read`], ...) only sets what
//! the engine works towards. The adapter then calls [`Client::poll`] and does what the
//! returned [`Action`] says, reporting back with [`Client::connected`],
//! [`Client::transmitted`], [`Client::received`], [`Client::closed`] and the failure calls,
//! until the action is [`Action::Done`]. See the [module docs](crate::client) for the loop.

use core::time::Duration;

use super::auth::{AuthType, DigestAlgorithm};
use super::config::ClientConfig;
use super::error::ClientError;
use super::event::{ClientId, Event, EventHandler, EventKind, dispatch, next_client_id};
use super::request::{AuthPlan, BodyFraming, Line};
use super::store::Store;
use super::url::{self, Scheme, Url};
use crate::body::BodyKind;
use crate::chunked::ChunkedDecoder;
use crate::limits::Limits;
use crate::method::Method;
use crate::status::StatusCode;
use crate::time::Instant;

use super::state::State;

/// Where the adapter should connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'c> {
    /// `Https` means a TLS session over the TCP connection.
    pub scheme: Scheme,
    /// Host name or address (an IPv6 literal without brackets).
    pub host: &'c str,
    /// TCP port.
    pub port: u16,
}

/// What an operation achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion<'c> {
    /// `perform`: the final response is complete (its status may be anything, 401 and 404
    /// included).
    Finished,
    /// `open`: the request head was sent.
    HeadersSent,
    /// `write`: the accepted body bytes were sent.
    Written,
    /// `fetch_headers`: the response head arrived.
    Headers,
    /// `read`: decoded body bytes, borrowed from the receive buffer. Call
    /// [`Client::consume`] with how many were used.
    Data(&'c [u8]),
    /// `read` or `flush_response`: the body is complete.
    EndOfBody,
    /// `close`: the connection is closed.
    Closed,
}

/// What the engine wants the adapter to do next.
#[derive(Debug)]
pub enum Action<'c> {
    /// Open a connection (and a TLS session for `https`), then call [`Client::connected`] or
    /// [`Client::connect_failed`].
    Connect(Endpoint<'c>),
    /// Write these bytes, in order (a vectored write where possible), then call
    /// [`Client::transmitted`] with how many went out.
    Transmit([&'c [u8]; 2]),
    /// Read into this buffer, then call [`Client::received`] with how many bytes arrived
    /// (0 for end of stream).
    Receive(&'c mut [u8]),
    /// Close the connection, then call [`Client::closed`].
    Close,
    /// The operation is over.
    Done(Result<Completion<'c>, ClientError>),
}

/// The goal the caller set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Idle,
    Perform,
    Open,
    Write,
    FetchHeaders,
    Read,
    Flush,
    Close,
}

/// The connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conn {
    Closed,
    Connecting,
    /// Open; `reused` once a response has completed on it.
    Open {
        reused: bool,
    },
    Closing,
}

/// Where the current exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No request under way.
    Idle,
    /// Writing the head; the line is the next one to write.
    SendHead(Line),
    /// Waiting for `100 Continue` before the body.
    Continue,
    /// Writing the body.
    SendBody,
    /// Waiting for the response head.
    RecvHead,
    /// Reading the response body.
    RecvBody,
    /// The response is complete.
    Complete,
}

/// What to do after the current response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowUp {
    None,
    Redirect(StatusCode),
    Authenticate,
}

/// Digest state kept between requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Digest {
    pub(super) algorithm: DigestAlgorithm,
    pub(super) qop_auth: bool,
    /// The nonce-count of the last request sent with this nonce.
    pub(super) nc: u32,
}

/// The request under way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub(super) method: Method<'a>,
    /// The whole body (`perform`), or `None` when streamed through `write`.
    pub(super) body: Option<&'a [u8]>,
    pub(super) framing: BodyFraming,
    pub(super) auth: AuthPlan,
    pub(super) drop_content_type: bool,
    pub(super) expect_continue: bool,
    /// The body was declared but never sent (a final status instead of 100).
    pub(super) body_skipped: bool,
    /// Pending bytes in the transmit buffer.
    pub(super) out_pos: usize,
    pub(super) out_end: usize,
    /// Bytes of `body` sent.
    pub(super) body_pos: usize,
    /// Streamed body bytes accepted by `write`.
    pub(super) written: u64,
    pub(super) last_chunk_queued: bool,
    /// Retried once already after a dead reused connection.
    pub(super) retried: bool,
    pub(super) redirects: u16,
    pub(super) auth_tries: u16,
}

/// The response under way.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// Bytes in the receive buffer: the head so far, then (after the head) the body window's end.
    pub(super) end: usize,
    /// Length of the final response head, which stays at the front of the receive buffer.
    pub(super) head_len: usize,
    /// Body cursor in the receive buffer.
    pub(super) pos: usize,
    /// Decoded bytes ready for `read`, `data.0..data.1` of the receive buffer.
    pub(super) data: (usize, usize),
    pub(super) status: Option<StatusCode>,
    pub(super) content_length: Option<u64>,
    pub(super) kind: BodyKind,
    /// Bytes left of a Content-Length body.
    pub(super) remaining: u64,
    pub(super) received: u64,
    pub(super) decoder: ChunkedDecoder,
    /// The server allows another request on this connection.
    pub(super) keep_alive: bool,
    pub(super) complete: bool,
    /// The body's first bytes have not yet been handed over (ESP-IDF's RES_COMPLETE_HEADER).
    pub(super) first_delivery: bool,
}

/// Settings that outlive one request.
#[derive(Debug, Clone)]
pub(crate) struct Settings<'a> {
    pub(super) method: Method<'a>,
    pub(super) post_field: Option<&'a [u8]>,
    pub(super) auth_type: AuthType,
    /// Per-operation timeout, in milliseconds.
    pub(super) timeout: u32,
    /// Whole-request deadline, in milliseconds.
    pub(super) request_timeout: Option<u32>,
    /// Wait for 100 Continue, in milliseconds.
    pub(super) expect_timeout: u32,
    pub(super) auto_redirect: bool,
    pub(super) max_redirects: u16,
    pub(super) max_auth_retries: i16,
    pub(super) keep_alive: bool,
    pub(super) limits: Limits,
    pub(super) entropy: u64,
}

/// A sans-IO HTTP/1.1 client: ESP-IDF's `esp_http_client` handle.
///
/// `B` is the client's memory (an array, a `&mut [u8]` or a `Vec<u8>` of at least
/// [`ClientConfig::buffer_len`] bytes): the receive buffer, the transmit buffer and the store,
/// in that order. `H` receives events.
///
/// The engine never touches a socket: an operation sets a goal, and the caller does what
/// [`poll`](Self::poll) asks until [`Action::Done`]. Here the "network" is a byte string, so
/// the whole exchange runs as it is written; an adapter does the same with a socket and a
/// clock (see the [module docs](crate::client)).
///
/// ```
/// use tern_proto::Instant;
/// use tern_proto::client::{Action, Client, ClientConfig, Completion, Event, EventKind, State};
///
/// let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
/// let mut body = Vec::new();
/// let handler = |event: &Event<'_>| {
///     if let EventKind::OnData(data) = event.kind {
///         body.extend_from_slice(data); // perform hands the body to the handler
///     }
/// };
/// let mut client = Client::new(&config, vec![0u8; config.buffer_len()], handler)?;
///
/// let mut sent = Vec::new(); // what the client wrote to the "socket"
/// let mut reply: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
/// let now = Instant::from_millis(0); // a real adapter reads its clock here
/// client.perform(now)?;
/// let result = loop {
///     match client.poll(now) {
///         Action::Connect(endpoint) => {
///             assert_eq!((endpoint.host, endpoint.port), ("192.168.4.1", 80));
///             client.connected(now);
///         }
///         Action::Transmit(parts) => {
///             let n = parts.iter().map(|part| part.len()).sum();
///             parts.iter().for_each(|part| sent.extend_from_slice(part));
///             client.transmitted(n, now);
///         }
///         Action::Receive(buf) => {
///             let n = buf.len().min(reply.len()); // 0 would be end of stream
///             buf[..n].copy_from_slice(&reply[..n]);
///             reply = &reply[n..];
///             client.received(n, now);
///         }
///         Action::Close => client.closed(),
///         Action::Done(result) => break result.map(|_| ()),
///     }
/// };
/// result?;
/// assert!(sent.starts_with(b"GET /status HTTP/1.1\r\n"));
/// assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
/// assert_eq!(client.state(), State::Connected); // kept alive for the next request
/// drop(client);
/// assert_eq!(body, b"hello");
/// # Ok::<(), tern_proto::client::ClientError>(())
/// ```
pub struct Client<'a, B, H = super::event::NoEvents> {
    pub(super) id: ClientId,
    pub(super) buf: B,
    pub(super) rx_size: usize,
    pub(super) tx_size: usize,
    pub(super) store: Store,
    pub(super) handler: H,
    pub(super) settings: Settings<'a>,
    pub(super) state: State,
    pub(super) conn: Conn,
    pub(super) op: Op,
    pub(super) phase: Phase,
    pub(super) req: Request<'a>,
    pub(super) resp: Response,
    pub(super) digest: Option<Digest>,
    pub(super) follow: FollowUp,
    pub(super) deadline: Option<Instant>,
    pub(super) request_deadline: Option<Instant>,
    pub(super) error: Option<ClientError>,
    /// Close and reconnect, then send the request again.
    pub(super) retry: bool,
    /// `set_redirection` turned the next request into a GET without body.
    pub(super) redirect_to_get: bool,
    /// The connection must not carry another request.
    pub(super) spent: bool,
    /// Connections opened, for curl's `%{num_connects}`.
    pub(super) connects: u32,
}

impl<'a, B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler> Client<'a, B, H> {
    /// A client for `config`, with `buf` as its memory and `handler` for its events
    /// (ESP-IDF's `esp_http_client_init`). State [`State::Init`].
    pub fn new(config: &ClientConfig<'a>, buf: B, handler: H) -> Result<Self, ClientError> {
        let needed = config.buffer_len();
        let available = buf.as_ref().len();
        if available < needed || config.buffer_size < 64 || config.buffer_size_tx < 64 {
            return Err(ClientError::BufferTooSmall { needed: needed.max(128), available });
        }
        let mut client = Client {
            id: next_client_id(),
            buf,
            rx_size: config.buffer_size,
            tx_size: config.buffer_size_tx,
            store: Store::default(),
            handler,
            settings: Settings {
                method: config.method,
                post_field: None,
                auth_type: config.auth_type,
                timeout: millis(config.timeout),
                request_timeout: config.request_timeout.map(millis),
                expect_timeout: millis(config.expect_continue_timeout),
                auto_redirect: !config.disable_auto_redirect,
                max_redirects: config.max_redirection_count,
                max_auth_retries: config.max_authorization_retries,
                keep_alive: config.keep_alive,
                limits: config.limits,
                entropy: config.entropy,
            },
            state: State::Init,
            conn: Conn::Closed,
            op: Op::Idle,
            phase: Phase::Idle,
            req: Request::new(config.method),
            resp: Response::new(&config.limits),
            digest: None,
            follow: FollowUp::None,
            deadline: None,
            request_deadline: None,
            error: None,
            retry: false,
            redirect_to_get: false,
            spent: false,
            connects: 0,
        };
        if !config.user_agent.is_empty() {
            client.set_header("User-Agent", config.user_agent)?;
        }
        if let Some(user) = config.username {
            client.set_username(Some(user))?;
        }
        if let Some(pass) = config.password {
            client.set_password(Some(pass))?;
        }
        match (config.host, config.url) {
            (Some(host), _) => client.set_url_from_parts(config, host)?,
            (None, Some(url)) => client.set_url(url)?,
            (None, None) => return Err(ClientError::Url(url::UrlError::MissingHost)),
        }
        Ok(client)
    }

    fn set_url_from_parts(&mut self, config: &ClientConfig<'_>, host: &str) -> Result<(), ClientError> {
        let (_, tx, _) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let port = if config.port == 0 { None } else { Some(config.port) };
        let path = config.path.unwrap_or("/");
        let parts = Url { scheme: config.scheme, userinfo: None, host, port, path, query: config.query };
        let n = parts.write(tx).map_err(ClientError::Url)?;
        let written = tx.get(..n).and_then(|b| core::str::from_utf8(b).ok()).unwrap_or_default();
        // Writing does not validate; parsing what was written does.
        Url::parse(written).map_err(ClientError::Url)?;
        self.install_url(n)
    }
}

/// The receive buffer, the transmit buffer and the store.
pub(crate) fn split(buf: &mut [u8], rx: usize, tx: usize) -> (&mut [u8], &mut [u8], &mut [u8]) {
    let (rx_buf, rest) = buf.split_at_mut(rx.min(buf.len()));
    let tx_len = tx.min(rest.len());
    let (tx_buf, store) = rest.split_at_mut(tx_len);
    (rx_buf, tx_buf, store)
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method<'a>) -> Self {
        Request {
            method,
            body: None,
            framing: BodyFraming::None,
            auth: AuthPlan::None,
            drop_content_type: false,
            expect_continue: false,
            body_skipped: false,
            out_pos: 0,
            out_end: 0,
            body_pos: 0,
            written: 0,
            last_chunk_queued: false,
            retried: false,
            redirects: 0,
            auth_tries: 0,
        }
    }
}

impl Request<'_> {
    /// Turns the request into a GET without body, as a redirect asks (RFC 9110 section 15.4).
    pub(crate) fn make_get(&mut self) {
        self.method = Method::Get;
        self.body = Some(&[]);
        self.framing = BodyFraming::None;
        self.drop_content_type = true;
    }
}

impl Response {
    pub(crate) fn new(limits: &Limits) -> Self {
        Response {
            end: 0,
            head_len: 0,
            pos: 0,
            data: (0, 0),
            status: None,
            content_length: None,
            kind: BodyKind::None,
            remaining: 0,
            received: 0,
            decoder: ChunkedDecoder::new(limits),
            keep_alive: false,
            complete: false,
            first_delivery: false,
        }
    }
}

/// A duration in whole milliseconds, saturating at `u32::MAX` (49 days).
pub(crate) fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// Sends one event.
pub(crate) fn emit<H: EventHandler>(handler: &mut H, client: ClientId, state: State, kind: EventKind<'_>) {
    dispatch(handler, &Event { client, state, kind });
}
/// The engine's own state on a 32-bit chip (ESP32) stays within the design's 512-byte budget per
/// connection; the riscv32 builds in CI check it (448 bytes when last measured).
#[cfg(target_pointer_width = "32")]
const _: () = assert!(core::mem::size_of::<Client<'static, &'static mut [u8], super::event::NoEvents>>() <= 512);

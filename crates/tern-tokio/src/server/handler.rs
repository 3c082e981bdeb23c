//! URI handlers and error handlers: async closures over a [`Request`], and their
//! registration record (`httpd_uri_t`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use stackfuture::StackFuture;

use tern_proto::server::{HttpdErrCode, MethodFilter};

use super::error::Error;
use super::request::Request;

/// What a handler returns: `Ok` keeps the session (when the protocol allows), `Err` closes
/// it (ESP-IDF: anything but `ESP_OK`).
pub type HandlerResult = Result<(), Error>;

/// The bytes a handler's future may take and still be kept inline, without a heap allocation.
/// A handler that sends a response with the [`Request`] takes about 0.9 to 1.4 KiB; a larger
/// one is boxed, as every handler future was before.
pub const HANDLER_FUTURE_INLINE: usize = 2048;

/// A type-erased handler future, held inline when it fits [`HANDLER_FUTURE_INLINE`] bytes
/// (so a warm keep-alive request allocates nothing) and boxed otherwise. Make one with
/// [`HandlerFuture::from_or_box`] when implementing [`Handler`] by hand.
pub type HandlerFuture = StackFuture<'static, HandlerResult, HANDLER_FUTURE_INLINE>;

/// A URI handler: called with each request its route matches. Implemented for every
/// `Fn(Request) -> impl Future<Output = HandlerResult>`, so an `async move` closure is one:
///
/// ```
/// use tern_tokio::server::{Handler, Request};
/// fn takes(_: impl Handler) {}
/// takes(|mut req: Request| async move { req.send(b"Hello World!").await });
/// ```
///
/// The [`Request`] is owned: a handler may move it into another task and answer from there
/// (ESP-IDF's async handlers); the session waits for it.
pub trait Handler: Send + Sync + 'static {
    /// Serves one request.
    fn call(&self, req: Request) -> HandlerFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    fn call(&self, req: Request) -> HandlerFuture {
        HandlerFuture::from_or_box(self(req))
    }
}

/// An error handler (`httpd_register_err_handler`): called instead of the default answer
/// for its code. It may answer with the request's send calls; `Ok` keeps the session (when
/// the rest of the stream can be framed and the code is not 500), `Err` closes it. Answering
/// nothing gets the default response.
pub trait ErrorHandler: Send + Sync + 'static {
    /// Handles one refusal.
    fn call(&self, req: Request, code: HttpdErrCode) -> HandlerFuture;
}

impl<F, Fut> ErrorHandler for F
where
    F: Fn(Request, HttpdErrCode) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    fn call(&self, req: Request, code: HttpdErrCode) -> HandlerFuture {
        HandlerFuture::from_or_box(self(req, code))
    }
}

/// Decides, before a WebSocket handshake, whether to accept it (`ws_pre_handshake_cb`):
/// `false` closes the connection without an answer, as ESP-IDF does.
pub type PreHandshake = Arc<dyn Fn(&tern_proto::server::Request<'_>) -> bool + Send + Sync>;

/// What the router keeps for a route: the handler and its WebSocket callbacks.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) handler: Arc<dyn Handler>,
    pub(crate) pre_handshake: Option<PreHandshake>,
    pub(crate) post_handshake: Option<Arc<dyn Handler>>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("pre_handshake", &self.pre_handshake.is_some())
            .field("post_handshake", &self.post_handshake.is_some())
            .finish_non_exhaustive()
    }
}

/// A URI handler registration (`httpd_uri_t`): the URI template, the method (or any), the
/// handler, and for WebSocket endpoints the options ESP-IDF has.
///
/// ```
/// use tern_proto::Method;
/// use tern_tokio::server::{Request, UriHandler};
/// let hello = UriHandler::new("/hello", Method::Get, |mut req: Request| async move {
///     req.send(b"Hello World!").await
/// });
/// let ws = UriHandler::new("/ws", Method::Get, |mut req: Request| async move {
///     let payload = req.ws_recv_payload(4096).await?;
///     let opcode = req.ws_frame().map(|f| f.message).unwrap_or(tern_proto::ws::Opcode::Text);
///     req.ws_send(opcode, true, &payload).await
/// })
/// .websocket(true);
/// # let _ = (hello, ws);
/// ```
pub struct UriHandler {
    pub(crate) uri: String,
    pub(crate) method: MethodFilter,
    pub(crate) entry: Entry,
    pub(crate) websocket: bool,
    pub(crate) handle_ws_control_frames: bool,
    pub(crate) subprotocols: &'static [&'static str],
}

impl UriHandler {
    /// `handler` for `method` (a [`tern_proto::Method`] or [`MethodFilter::Any`]) on `uri`.
    pub fn new(uri: impl Into<String>, method: impl Into<MethodFilter>, handler: impl Handler) -> UriHandler {
        UriHandler {
            uri: uri.into(),
            method: method.into(),
            entry: Entry { handler: Arc::new(handler), pre_handshake: None, post_handshake: None },
            websocket: false,
            handle_ws_control_frames: false,
            subprotocols: &[],
        }
    }

    /// A WebSocket endpoint (`is_websocket`): an upgrade request is answered with the
    /// handshake, and the handler is then called once for each frame
    /// ([`Request::ws_frame`]). A plain request to it reaches the handler as usual.
    pub fn websocket(mut self, websocket: bool) -> UriHandler {
        self.websocket = websocket;
        self
    }

    /// Hand pings, pongs and closes to the handler too (`handle_ws_control_frames`).
    pub fn handle_ws_control_frames(mut self, handle: bool) -> UriHandler {
        self.handle_ws_control_frames = handle;
        self
    }

    /// The subprotocols offered in the handshake (`supported_subprotocol`).
    pub fn subprotocols(mut self, subprotocols: &'static [&'static str]) -> UriHandler {
        self.subprotocols = subprotocols;
        self
    }

    /// A check before the handshake (`ws_pre_handshake_cb`); refusing closes the connection
    /// without an answer.
    pub fn pre_handshake(
        mut self,
        check: impl Fn(&tern_proto::server::Request<'_>) -> bool + Send + Sync + 'static,
    ) -> UriHandler {
        self.entry.pre_handshake = Some(Arc::new(check));
        self
    }

    /// A handler run once after the handshake (`ws_post_handshake_cb`), which may send frames.
    pub fn post_handshake(mut self, handler: impl Handler) -> UriHandler {
        self.entry.post_handshake = Some(Arc::new(handler));
        self
    }
}

impl fmt::Debug for UriHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UriHandler")
            .field("uri", &self.uri)
            .field("method", &self.method)
            .field("websocket", &self.websocket)
            .finish_non_exhaustive()
    }
}

//! The application's side: one [`Handler`] per server, called with a route value the
//! application chose when it registered the URI.

use embedded_io_async::{Read, Write};
use tern_proto::server::{ErrorVerdict, HttpdErrCode, SessionId};

use super::error::Error;
use super::request::Request;

/// What a handler returns: `Ok` keeps the session (when the protocol allows), `Err` closes
/// it (ESP-IDF: anything but `ESP_OK`).
pub type HandlerResult = Result<(), Error>;

/// A connection a server can serve: any [`embedded_io_async`] stream that reads and writes
/// (embassy-net's `TcpSocket`, a TLS stream, a test's pipe). Implemented for every such type.
pub trait Stream: Read + Write {}

impl<T: Read + Write + ?Sized> Stream for T {}

/// The application: ESP-IDF's URI handlers, error handlers and session hooks, dispatched
/// statically.
///
/// Each URI is registered with a value of [`Route`](Handler::Route) (an enum, an index: ESP-IDF's
/// `handler` and `user_ctx` together); a request that matches it calls
/// [`handle`](Handler::handle) with that value. On a WebSocket route, `handle` is called once
/// for each data frame instead ([`Request::ws_frame`] says which), after
/// [`ws_opened`](Handler::ws_opened) for the handshake.
///
/// ```
/// use tern_embassy::server::{Handler, HandlerResult, Request, Stream};
///
/// #[derive(Clone, Copy)]
/// enum Page { Hello, Echo }
///
/// struct App;
///
/// impl Handler for App {
///     type Route = Page;
///
///     async fn handle(&self, route: Page, req: &mut Request<'_, impl Stream>) -> HandlerResult {
///         match route {
///             Page::Hello => {
///                 req.set_type("text/plain")?;
///                 req.send(b"Hello World!").await
///             }
///             Page::Echo => {
///                 let mut body = [0u8; 256];
///                 let n = req.recv_body(&mut body).await?;
///                 req.send(body.get(..n).unwrap_or_default()).await
///             }
///         }
///     }
/// }
/// ```
///
/// Futures of embedded executors are not `Send`, so these `async fn`s promise nothing about
/// it.
#[allow(async_fn_in_trait)]
pub trait Handler {
    /// What a registered URI carries to its handler.
    type Route: Copy;

    /// Serves one request (or, on a WebSocket route, one frame). Answer with the request's
    /// send calls; a handler that sends nothing gets a 500 on its behalf.
    async fn handle(&self, route: Self::Route, req: &mut Request<'_, impl Stream>) -> HandlerResult;

    /// Called instead of the server's own error response for `code`
    /// (`httpd_register_err_handler`): a request no route takes (404, 405, 501), or input the
    /// engine refuses (400, 408, 411, 413, 414, 431, 505; the request head may then be
    /// missing). `None`, the default, lets the server answer (ESP-IDF's default: the error
    /// response, then close). `Some(verdict)` says the handler answered (or chose not to):
    /// keep or close the session; a handler that sent nothing gets the default response, and
    /// the session closes anyway when the rest of the stream cannot be framed or the code is
    /// 500.
    async fn handle_error(&self, code: HttpdErrCode, req: &mut Request<'_, impl Stream>) -> Option<ErrorVerdict> {
        let _ = (code, req);
        None
    }

    /// Called before a WebSocket handshake for `route` is answered (`ws_pre_handshake_cb`),
    /// with the upgrade request's head: `false` closes the connection without an answer, as
    /// ESP-IDF does.
    fn ws_pre_handshake(&self, route: Self::Route, head: &tern_proto::server::Request<'_>) -> bool {
        let _ = (route, head);
        true
    }

    /// Called once a WebSocket handshake for `route` was accepted (`ws_post_handshake_cb`);
    /// it may send frames. `Err` closes the session.
    async fn ws_opened(&self, route: Self::Route, req: &mut Request<'_, impl Stream>) -> HandlerResult {
        let _ = (route, req);
        Ok(())
    }

    /// Called for each admitted connection before it is read (`open_fn`): `false` closes it.
    fn on_open(&self, session: SessionId) -> bool {
        let _ = session;
        true
    }

    /// Called once for each session when it closes (`close_fn`).
    fn on_close(&self, session: SessionId) {
        let _ = session;
    }
}

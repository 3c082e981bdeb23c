//! Dispatch: which route serves the current request, or which error answers it.

use super::engine::{Connection, Phase};
use crate::method::Method;
use crate::server::HttpdErrCode;
use crate::server::router::{Lookup, Route, RouteSlot, Router};

/// Where a request goes (ESP-IDF's `httpd_uri` step).
#[derive(Debug)]
pub enum Dispatch<'r, U, T> {
    /// Call this route's handler, then [`Connection::finish`].
    Handler(&'r Route<U, T>),
    /// No route serves it: 404, 405 or 501. Run the error handler registered for the code,
    /// or answer with [`Connection::reject`]. A 405 answered by the engine carries `Allow`.
    /// The request is sound, so an error handler may keep the session.
    Refused(HttpdErrCode),
    /// A WebSocket handshake for this route was accepted: the 101 is queued and the session
    /// now speaks WebSocket. Keep polling: frames for the route's handler come as
    /// [`Completion::Frame`](super::Completion::Frame). (ESP-IDF does not call the handler for
    /// the handshake either.)
    WebSocket(&'r Route<U, T>),
    /// The engine answered by itself (a refused WebSocket handshake: 400, or 426 with
    /// `Sec-WebSocket-Version: 13`) and will close: keep polling until `Closed`.
    Answered,
}

/// The methods of an `Allow` bit set, in a fixed order.
pub(crate) fn allowed(bits: u32) -> impl Iterator<Item = Method<'static>> {
    Method::named().enumerate().filter(move |(i, _)| bits & (1 << i) != 0).map(|(_, m)| m)
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> Connection<B> {
    /// Finds the route for the current request (first match in registration order, the path
    /// without its query). On a refusal the connection waits for an error handler or
    /// [`reject`](Self::reject), as after [`Completion::Error`](super::Completion::Error).
    ///
    /// Call it once, after [`Completion::Request`](super::Completion::Request).
    pub fn route<'r, U, T, S>(&mut self, router: &'r Router<U, T, S>) -> Dispatch<'r, U, T>
    where
        U: AsRef<str>,
        S: AsRef<[RouteSlot<U, T>]> + AsMut<[RouteSlot<U, T>]>,
    {
        let Some(request) = self.request() else {
            return Dispatch::Refused(HttpdErrCode::InternalServerError);
        };
        let (method, path) = (request.method(), request.path());
        let upgrade = crate::ws::handshake::is_upgrade_request(request.raw_head());
        let code = match router.find(&method, path) {
            Lookup::Found(route) if route.websocket && upgrade => {
                return match self.open_websocket(route.subprotocols, route.handle_ws_control_frames) {
                    Ok(()) => Dispatch::WebSocket(route),
                    Err(e) => {
                        self.refuse_websocket(e);
                        Dispatch::Answered
                    }
                };
            }
            Lookup::Found(route) => return Dispatch::Handler(route),
            lookup => lookup.error_code().unwrap_or(HttpdErrCode::NotFound),
        };
        if code == HttpdErrCode::MethodNotAllowed {
            let mut bits = 0u32;
            for m in router.allowed_methods(path) {
                if let Some(i) = m.named_index() {
                    bits |= 1 << i;
                }
            }
            self.current.allow = bits;
        }
        if self.phase == Phase::Handling {
            self.refuse(code, false);
        }
        Dispatch::Refused(code)
    }
}

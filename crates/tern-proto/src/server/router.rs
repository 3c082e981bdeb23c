//! The URI handler table: ESP-IDF's `httpd_register_uri_handler` and its dispatch rules, and
//! the per-status error handler table (`httpd_register_err_handler`).
//!
//! A [`Router`] holds up to `max_uri_handlers` [`Route`]s in the caller's storage (an array or
//! a `Vec` of [`RouteSlot`]s). Each route pairs a URI template and a [`MethodFilter`] with the
//! adapter's handler value `T` (a function pointer, a boxed closure, an index: whatever the
//! adapter calls; ESP-IDF's `user_ctx` lives inside it).
//!
//! [`Router::find`] decides, for a request's method and path (the request-target up to `?`),
//! which route runs, or which error the server answers:
//!
//! 1. routes are scanned **in registration order**; the first whose template matches the path
//!    (under the router's [`UriMatch`]) and whose method equals the request's (or is
//!    [`MethodFilter::Any`]) wins — "the longest template" is not a rule, order is;
//! 2. a `HEAD` request that no route takes runs the first route that would take the same path
//!    as `GET` (the engine sends the head and drops the body). ESP-IDF answers 405 there;
//! 3. otherwise, when no route at all serves the method (no route for it, no `Any` route) the
//!    answer is **501** (a tern improvement: ESP-IDF answers 404 or 405). `GET` and `HEAD`,
//!    which every server supports (RFC 9110 section 9.1), never get 501;
//! 4. otherwise **405** when some route's template matched the path ([`Router::allowed_methods`]
//!    lists the methods for the `Allow` header), else **404**.
//!
//! ```
//! use tern_proto::Method;
//! use tern_proto::server::HttpdErrCode;
//! use tern_proto::server::router::{Lookup, MethodFilter, Route, RouteSlot, Router};
//! use tern_proto::server::uri::UriMatch;
//!
//! let mut slots: [RouteSlot<&str, u8>; 8] = [Route::NO_ROUTE; 8];
//! let mut router = Router::new(&mut slots[..], UriMatch::Wildcard);
//! router.register(Route::new("/api/*", Method::Get, 1))?;
//! router.register(Route::new("/api/*", Method::Post, 2))?;
//! router.register(Route::new("/ws", Method::Get, 3).websocket(true))?;
//!
//! assert!(matches!(router.find(&Method::Post, "/api/upload"), Lookup::Found(r) if r.handler == 2));
//! assert!(matches!(router.find(&Method::Head, "/api/x"), Lookup::Found(r) if r.handler == 1));
//! assert_eq!(router.find(&Method::Get, "/nothing").error_code(), Some(HttpdErrCode::NotFound));
//! assert_eq!(router.find(&Method::Put, "/api/x").error_code(), Some(HttpdErrCode::MethodNotImplemented));
//! assert_eq!(router.find(&Method::Post, "/ws").error_code(), Some(HttpdErrCode::MethodNotAllowed));
//! assert_eq!(router.allowed_methods("/api/x").to_string(), "GET, POST, HEAD");
//! # Ok::<(), tern_proto::server::router::RouterError>(())
//! ```

use core::fmt;

use super::error_code::HttpdErrCode;
use super::uri::UriMatch;
use crate::method::Method;

/// Which request methods a route serves: ESP-IDF's `httpd_method_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodFilter {
    /// Every method (ESP-IDF's `HTTP_ANY`).
    Any,
    /// This one method. Methods are case-sensitive tokens; an extension method from
    /// [`Method::from_token`] works too.
    One(Method<'static>),
}

impl MethodFilter {
    /// Whether a request with `method` passes this filter.
    pub fn allows(&self, method: &Method<'_>) -> bool {
        match self {
            MethodFilter::Any => true,
            MethodFilter::One(own) => own == method,
        }
    }
}

impl From<Method<'static>> for MethodFilter {
    fn from(method: Method<'static>) -> MethodFilter {
        MethodFilter::One(method)
    }
}

/// One registered URI handler: ESP-IDF's `httpd_uri_t`.
///
/// `U` is the URI template (`&'static str`, `String`, a `heapless::String`, ...), matched with
/// the router's [`UriMatch`]; `T` is the adapter's handler value, which also carries what
/// ESP-IDF calls `user_ctx`.
///
/// ```
/// use tern_proto::Method;
/// use tern_proto::server::router::{MethodFilter, Route};
///
/// let echo = Route::new("/echo", Method::Get, "echo handler")
///     .websocket(true)
///     .subprotocols(&["chat"]);
/// assert_eq!(echo.method, MethodFilter::One(Method::Get));
/// let any = Route::new("/status", MethodFilter::Any, "status handler");
/// assert!(!any.websocket);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<U, T> {
    /// The URI template (`httpd_uri_t::uri`).
    pub uri: U,
    /// The methods served (`httpd_uri_t::method`).
    pub method: MethodFilter,
    /// The adapter's handler value (`handler` and `user_ctx`).
    pub handler: T,
    /// A WebSocket endpoint: an upgrade `GET` performs the handshake, later frames go to the
    /// handler (`is_websocket`).
    pub websocket: bool,
    /// Ping, pong and close frames go to the handler too (`handle_ws_control_frames`).
    pub handle_ws_control_frames: bool,
    /// The WebSocket subprotocols this endpoint speaks, in order of preference
    /// (`supported_subprotocol`, of which ESP-IDF allows one). Empty: none.
    pub subprotocols: &'static [&'static str],
}

/// One slot of a [`Router`]'s storage: empty, or a registered route.
pub type RouteSlot<U, T> = Option<Route<U, T>>;

impl<U, T> Route<U, T> {
    /// An empty router slot, for building arrays: `[Route::NO_ROUTE; 8]`.
    pub const NO_ROUTE: RouteSlot<U, T> = None;

    /// A plain HTTP route for `method` (a [`Method`] or a [`MethodFilter`]).
    pub fn new(uri: U, method: impl Into<MethodFilter>, handler: T) -> Route<U, T> {
        Route {
            uri,
            method: method.into(),
            handler,
            websocket: false,
            handle_ws_control_frames: false,
            subprotocols: &[],
        }
    }

    /// Makes this route a WebSocket endpoint (or not).
    #[must_use]
    pub fn websocket(mut self, websocket: bool) -> Route<U, T> {
        self.websocket = websocket;
        self
    }

    /// Delivers WebSocket control frames to the handler (or lets the engine answer them).
    #[must_use]
    pub fn handle_ws_control_frames(mut self, handle: bool) -> Route<U, T> {
        self.handle_ws_control_frames = handle;
        self
    }

    /// The WebSocket subprotocols this endpoint speaks, in order of preference.
    #[must_use]
    pub fn subprotocols(mut self, subprotocols: &'static [&'static str]) -> Route<U, T> {
        self.subprotocols = subprotocols;
        self
    }
}

/// A misuse of the handler table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    /// Every slot holds a route (`ESP_ERR_HTTPD_HANDLERS_FULL`).
    #[error("all {capacity} URI handler slots are in use")]
    HandlersFull {
        /// The number of slots (`max_uri_handlers`).
        capacity: usize,
    },
    /// A route registered earlier already takes this template for this method
    /// (`ESP_ERR_HTTPD_HANDLER_EXISTS`).
    #[error("a URI handler for this URI and method is already registered")]
    HandlerExists,
    /// No route has this exact template and method (`ESP_ERR_NOT_FOUND`).
    #[error("no URI handler is registered for this URI and method")]
    NotFound,
}

/// What [`Router::find`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'r, U, T> {
    /// This route handles the request.
    Found(&'r Route<U, T>),
    /// 404: no route's template matches the path.
    NotFound,
    /// 405: some route's template matches the path, none for this method.
    MethodNotAllowed,
    /// 501: no route serves this method at all.
    NotImplemented,
}

// Manual impls: a derive would require `U: Clone` and `T: Clone` for copying a reference.
impl<U, T> Clone for Lookup<'_, U, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<U, T> Copy for Lookup<'_, U, T> {}

impl<'r, U, T> Lookup<'r, U, T> {
    /// The error the server answers, or `None` when a route was found.
    pub const fn error_code(&self) -> Option<HttpdErrCode> {
        match self {
            Lookup::Found(_) => None,
            Lookup::NotFound => Some(HttpdErrCode::NotFound),
            Lookup::MethodNotAllowed => Some(HttpdErrCode::MethodNotAllowed),
            Lookup::NotImplemented => Some(HttpdErrCode::MethodNotImplemented),
        }
    }

    /// The route, if one was found.
    pub const fn route(&self) -> Option<&'r Route<U, T>> {
        match self {
            Lookup::Found(route) => Some(route),
            _ => None,
        }
    }
}

/// The URI handler table, in the caller's storage: ESP-IDF's `hd_calls` array.
///
/// The capacity (`max_uri_handlers`) is the number of slots given to [`Router::new`]. Routes
/// stay in registration order; unregistering one moves the later ones up.
#[derive(Debug)]
pub struct Router<U, T, S> {
    slots: S,
    len: usize,
    matcher: UriMatch,
    _route: core::marker::PhantomData<fn() -> Route<U, T>>,
}

impl<U, T, S> Router<U, T, S>
where
    U: AsRef<str>,
    S: AsRef<[RouteSlot<U, T>]> + AsMut<[RouteSlot<U, T>]>,
{
    /// A router over `slots` (whatever they held is dropped), matching templates with
    /// `matcher` (ESP-IDF's `uri_match_fn`).
    pub fn new(mut slots: S, matcher: UriMatch) -> Router<U, T, S> {
        slots.as_mut().iter_mut().for_each(|slot| *slot = None);
        Router { slots, len: 0, matcher, _route: core::marker::PhantomData }
    }

    /// The template matching rule.
    pub const fn matcher(&self) -> UriMatch {
        self.matcher
    }

    /// How many routes are registered.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no route is registered.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many routes fit (`max_uri_handlers`).
    pub fn capacity(&self) -> usize {
        self.slots.as_ref().len()
    }

    /// The registered routes, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Route<U, T>> + '_ {
        self.routes().iter().filter_map(Option::as_ref)
    }

    /// Registers `route` after the others (`httpd_register_uri_handler`).
    ///
    /// As in ESP-IDF, the route is refused with [`RouterError::HandlerExists`] when an earlier
    /// route would already take the new template string as a request path for the new route's
    /// method: same method (or an earlier [`MethodFilter::Any`]) and a template that matches.
    /// So with the wildcard matcher, `/a/*` registered first blocks a later `/a/b` for the same
    /// method (register the specific route first), and an `Any` route blocks every later route
    /// with a template it matches; a later `Any` route is not blocked by earlier one-method
    /// routes. A duplicate is reported before a full table, in ESP-IDF's order.
    pub fn register(&mut self, route: Route<U, T>) -> Result<(), RouterError> {
        let taken = self.iter().any(|old| {
            let method_taken = match route.method {
                MethodFilter::Any => old.method == MethodFilter::Any,
                MethodFilter::One(m) => old.method.allows(&m),
            };
            method_taken && self.matcher.matches(old.uri.as_ref(), route.uri.as_ref())
        });
        if taken {
            return Err(RouterError::HandlerExists);
        }
        let len = self.len;
        let capacity = self.capacity();
        let slot = self.slots.as_mut().get_mut(len).ok_or(RouterError::HandlersFull { capacity })?;
        *slot = Some(route);
        self.len += 1;
        Ok(())
    }

    /// Removes the route with exactly this template string and method filter
    /// (`httpd_unregister_uri_handler`); the others keep their order.
    pub fn unregister(&mut self, uri: &str, method: impl Into<MethodFilter>) -> Result<Route<U, T>, RouterError> {
        let method = method.into();
        let index = self
            .iter()
            .position(|route| route.uri.as_ref() == uri && route.method == method)
            .ok_or(RouterError::NotFound)?;
        self.remove_at(index).ok_or(RouterError::NotFound)
    }

    /// Removes every route with exactly this template string, whatever its method
    /// (`httpd_unregister_uri`), and returns how many there were (ESP-IDF answers
    /// `ESP_ERR_NOT_FOUND` for none).
    pub fn unregister_uri(&mut self, uri: &str) -> usize {
        let mut removed = 0;
        let mut index = 0;
        while index < self.len {
            let same = self.routes().get(index).and_then(Option::as_ref).is_some_and(|r| r.uri.as_ref() == uri);
            if same {
                // The route is dropped here: the caller asked for it to go.
                let _ = self.remove_at(index);
                removed += 1;
            } else {
                index += 1;
            }
        }
        removed
    }

    /// Removes every route.
    pub fn clear(&mut self) {
        self.slots.as_mut().iter_mut().for_each(|slot| *slot = None);
        self.len = 0;
    }

    /// Decides which route handles a request with `method` for `path` (the request-target
    /// without its query), or which error answers it; see the [module documentation](self).
    pub fn find(&self, method: &Method<'_>, path: &str) -> Lookup<'_, U, T> {
        if let Some(route) = self.iter().find(|r| r.method.allows(method) && self.matches(r, path)) {
            return Lookup::Found(route);
        }
        if *method == Method::Head
            && let Some(route) =
                self.iter().find(|r| r.method == MethodFilter::One(Method::Get) && self.matches(r, path))
        {
            return Lookup::Found(route);
        }
        if !self.implements(method) {
            return Lookup::NotImplemented;
        }
        if self.iter().any(|r| self.matches(r, path)) { Lookup::MethodNotAllowed } else { Lookup::NotFound }
    }

    /// Whether some route serves `method` on some path: a route for it or an `Any` route (a
    /// `GET` route serves `HEAD` too). `GET` and `HEAD` are always implemented.
    pub fn implements(&self, method: &Method<'_>) -> bool {
        matches!(method, Method::Get | Method::Head) || self.iter().any(|r| r.method.allows(method))
    }

    /// The methods routes serve on `path`, for the `Allow` header of a 405: each once, in
    /// registration order, with `HEAD` added after them when `GET` is there (the `HEAD`
    /// fallback of [`Router::find`]). Its [`Display`](fmt::Display) writes the header value
    /// (`GET, POST, HEAD`). An `Any` route matching the path allows every method; it is not
    /// listed (and a request for that path never gets 405).
    pub fn allowed_methods<'r>(&'r self, path: &'r str) -> AllowedMethods<'r, U, T> {
        AllowedMethods { routes: self.routes(), matcher: self.matcher, path, next: 0, head_done: false }
    }

    fn matches(&self, route: &Route<U, T>, path: &str) -> bool {
        self.matcher.matches(route.uri.as_ref(), path)
    }

    fn routes(&self) -> &[RouteSlot<U, T>] {
        self.slots.as_ref().get(..self.len).unwrap_or_default()
    }

    /// Takes the route at `index` out and moves the later ones up one slot.
    fn remove_at(&mut self, index: usize) -> Option<Route<U, T>> {
        let len = self.len;
        let tail = self.slots.as_mut().get_mut(index..len)?;
        tail.rotate_left(1);
        let route = tail.last_mut()?.take();
        self.len -= 1;
        route
    }
}

/// The methods allowed on a path: see [`Router::allowed_methods`].
#[derive(Debug)]
pub struct AllowedMethods<'r, U, T> {
    routes: &'r [RouteSlot<U, T>],
    matcher: UriMatch,
    path: &'r str,
    next: usize,
    head_done: bool,
}

impl<U, T> Clone for AllowedMethods<'_, U, T> {
    fn clone(&self) -> Self {
        AllowedMethods { ..*self }
    }
}

impl<U: AsRef<str>, T> AllowedMethods<'_, U, T> {
    /// The one-method routes before `end` whose template matches the path.
    fn listed(&self, end: usize) -> impl Iterator<Item = Method<'static>> + '_ {
        self.routes.get(..end).unwrap_or_default().iter().filter_map(|slot| match slot {
            Some(Route { uri, method: MethodFilter::One(m), .. }) if self.matcher.matches(uri.as_ref(), self.path) => {
                Some(*m)
            }
            _ => None,
        })
    }
}

impl<U: AsRef<str>, T> Iterator for AllowedMethods<'_, U, T> {
    type Item = Method<'static>;

    fn next(&mut self) -> Option<Method<'static>> {
        while let Some(slot) = self.routes.get(self.next) {
            let index = self.next;
            self.next += 1;
            let Some(Route { uri, method: MethodFilter::One(method), .. }) = slot else { continue };
            if self.matcher.matches(uri.as_ref(), self.path) && !self.listed(index).any(|m| m == *method) {
                return Some(*method);
            }
        }
        if !self.head_done {
            self.head_done = true;
            let end = self.routes.len();
            if self.listed(end).any(|m| m == Method::Get) && !self.listed(end).any(|m| m == Method::Head) {
                return Some(Method::Head);
            }
        }
        None
    }
}

impl<U: AsRef<str>, T> fmt::Display for AllowedMethods<'_, U, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, method) in self.clone().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(method.as_str())?;
        }
        Ok(())
    }
}

/// What a user's error handler asks for (ESP-IDF: the handler returns `ESP_OK` to keep the
/// socket, anything else to close it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorVerdict {
    /// Keep the session open for the next request.
    KeepSession,
    /// Close the session.
    CloseSession,
}

impl ErrorVerdict {
    /// What the server does after a user's error handler for `code` returned `verdict`.
    ///
    /// ESP-IDF's rule: after a 500 the session always closes. tern's rule on top: when the
    /// framing of the rest of the stream is uncertain (the request's body was not, or cannot
    /// be, read to its end, or the error is in the head itself) the session closes too, since
    /// the next bytes could not be trusted to start a request.
    ///
    /// ```
    /// use tern_proto::server::HttpdErrCode;
    /// use tern_proto::server::router::ErrorVerdict::{self, CloseSession, KeepSession};
    /// assert_eq!(ErrorVerdict::effective(HttpdErrCode::NotFound, KeepSession, false), KeepSession);
    /// assert_eq!(ErrorVerdict::effective(HttpdErrCode::NotFound, KeepSession, true), CloseSession);
    /// assert_eq!(ErrorVerdict::effective(HttpdErrCode::InternalServerError, KeepSession, false), CloseSession);
    /// ```
    pub const fn effective(code: HttpdErrCode, verdict: ErrorVerdict, framing_uncertain: bool) -> ErrorVerdict {
        if framing_uncertain || matches!(code, HttpdErrCode::InternalServerError) {
            ErrorVerdict::CloseSession
        } else {
            verdict
        }
    }

    /// Whether the session closes.
    pub const fn closes(self) -> bool {
        matches!(self, ErrorVerdict::CloseSession)
    }
}

/// The per-status error handlers (`httpd_register_err_handler`): one optional adapter value
/// `E` for each [`HttpdErrCode`]. Where none is set, the server sends its default error
/// response and closes the session (ESP-IDF's default handling).
///
/// ```
/// use tern_proto::server::HttpdErrCode;
/// use tern_proto::server::router::ErrorHandlers;
///
/// let mut handlers: ErrorHandlers<fn() -> &'static str> = ErrorHandlers::new();
/// assert!(handlers.set(HttpdErrCode::NotFound, || "custom 404").is_none());
/// assert_eq!(handlers.get(HttpdErrCode::NotFound).map(|h| h()), Some("custom 404"));
/// assert!(handlers.get(HttpdErrCode::BadRequest).is_none());
/// assert!(handlers.clear(HttpdErrCode::NotFound).is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorHandlers<E> {
    handlers: [Option<E>; HttpdErrCode::ALL.len()],
}

impl<E> ErrorHandlers<E> {
    /// No handler for any code.
    pub const fn new() -> ErrorHandlers<E> {
        ErrorHandlers { handlers: [const { None }; HttpdErrCode::ALL.len()] }
    }

    /// Sets the handler for `code` and returns the one it replaces.
    pub fn set(&mut self, code: HttpdErrCode, handler: E) -> Option<E> {
        self.slot_mut(code).and_then(|slot| slot.replace(handler))
    }

    /// Removes the handler for `code` (back to the default response), returning it.
    pub fn clear(&mut self, code: HttpdErrCode) -> Option<E> {
        self.slot_mut(code).and_then(Option::take)
    }

    /// The handler for `code`, if one is set.
    pub fn get(&self, code: HttpdErrCode) -> Option<&E> {
        self.handlers.get(code as usize).and_then(Option::as_ref)
    }

    /// Every code with a handler, in ESP-IDF's order.
    pub fn iter(&self) -> impl Iterator<Item = (HttpdErrCode, &E)> + '_ {
        HttpdErrCode::ALL.into_iter().zip(&self.handlers).filter_map(|(code, h)| Some((code, h.as_ref()?)))
    }

    fn slot_mut(&mut self, code: HttpdErrCode) -> Option<&mut Option<E>> {
        self.handlers.get_mut(code as usize)
    }
}

impl<E> Default for ErrorHandlers<E> {
    fn default() -> Self {
        ErrorHandlers::new()
    }
}

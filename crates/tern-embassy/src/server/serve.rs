//! [`Server`]: the shared tables (routes, sessions, task slots) and the loop each serving task
//! runs: accept, admit, serve the session, close, again.

use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Context, Poll};

use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::waitqueue::WakerRegistration;
use tern_proto::server::Lookup;
use tern_proto::server::uri::UriMatch;
use tern_proto::server::{
    Admission, Completion, Dispatch, ErrorVerdict, HandlerOutcome, HttpdErrCode, MethodFilter, Route, RouteSlot,
    Router, ServerConfig, SessionId, SessionSlot, Sessions,
};
use tern_proto::ws::FrameInfo;
use tern_proto::ws::handshake::is_upgrade_request;

use super::error::Error;
use super::handler::{Handler, Stream};
use super::request::{Driven, Interrupts, Request, Watch};

/// How a [`Server`] listens and serves: the fields of `HTTPD_DEFAULT_CONFIG()` an embassy
/// server has, with ESP-IDF's defaults.
///
/// The per-connection behaviour (limits on requests, buffer sizes, the receive, send and idle
/// timeouts, keep-alive) is the engine's [`ServerConfig`] in `connection`.
///
/// ```
/// use tern_embassy::server::Config;
/// let config = Config { lru_purge_enable: true, ..Config::DEFAULT };
/// assert_eq!(config.server_port, 80);
/// assert_eq!(config.max_open_sockets, 7);
/// assert_eq!(config.connection.buffer_len(), 2612);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The TCP port [`Server::serve`] accepts on (`server_port`, 80).
    pub server_port: u16,
    /// Sessions served at once (`max_open_sockets`, 7), at most the server's `TASKS`. A task
    /// that accepted a connection while every session slot is taken holds it unserved until
    /// one frees (ESP-IDF's listen backlog), unless `lru_purge_enable`.
    pub max_open_sockets: usize,
    /// When every session slot is taken, close the least recently used session to serve a
    /// new connection (`lru_purge_enable`, off).
    pub lru_purge_enable: bool,
    /// How registered URIs match request paths (`uri_match_fn`): exact (default) or
    /// ESP-IDF's wildcard matcher.
    pub uri_match: UriMatch,
    /// Each connection's engine configuration: `max_uri_len`, `max_req_hdr_len`,
    /// `max_resp_headers`, `recv_wait_timeout`, `send_wait_timeout`, keep-alive, and tern's
    /// additions (idle timeout, chunked requests, WebSocket limits).
    pub connection: ServerConfig,
}

impl Config {
    /// ESP-IDF's defaults, usable in `const` context.
    pub const DEFAULT: Config = Config {
        server_port: 80,
        max_open_sockets: 7,
        lru_purge_enable: false,
        uri_match: UriMatch::Exact,
        connection: ServerConfig::DEFAULT,
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// The URI handler table of a server with `R` slots and route values `T`.
type RouteTable<T, const R: usize> = Router<&'static str, T, [RouteSlot<&'static str, T>; R]>;

/// The session table's storage: `T` slots of which the first `len` are used
/// (`max_open_sockets`).
struct Slots<const T: usize> {
    slots: [SessionSlot<()>; T],
    len: usize,
}

impl<const T: usize> AsRef<[SessionSlot<()>]> for Slots<T> {
    fn as_ref(&self) -> &[SessionSlot<()>] {
        self.slots.get(..self.len).unwrap_or(&self.slots)
    }
}

impl<const T: usize> AsMut<[SessionSlot<()>]> for Slots<T> {
    fn as_mut(&mut self) -> &mut [SessionSlot<()>] {
        let len = self.len.min(T);
        self.slots.get_mut(..len).unwrap_or_default()
    }
}

/// One serving task's slot: claimed while a `serve` or `serve_connection` call runs, and the
/// waker that call's task waits with.
struct TaskSlot {
    claimed: bool,
    waker: WakerRegistration,
}

/// What the tasks share, behind the blocking mutex (never held across an await).
struct State<const T: usize> {
    sessions: Sessions<(), Slots<T>>,
    tasks: [TaskSlot; T],
    /// For each session slot, the task serving it.
    owners: [usize; T],
    /// Goes up each time a session slot frees.
    freed: u32,
    stopped: bool,
}

impl<const T: usize> State<T> {
    fn wake_all(&mut self) {
        self.tasks.iter_mut().for_each(|t| t.waker.wake());
    }

    fn register(&mut self, task: usize, cx: &Context<'_>) {
        if let Some(slot) = self.tasks.get_mut(task) {
            slot.waker.register(cx.waker());
        }
    }
}

/// An HTTP/1.1 server on embassy: ESP-IDF's `httpd` for `TASKS` serving tasks and
/// `ROUTES` URI handlers (`max_uri_handlers`), dispatching to one [`Handler`].
///
/// The server is shared (`&'static` in firmware, from a `StaticCell`) by the tasks that serve
/// it: each calls [`serve`](Self::serve) with its own [`SessionBuffers`](super::SessionBuffers)
/// (or [`serve_connection`](Self::serve_connection) for a stream it opened itself). `M` is the
/// blocking mutex kind guarding the tables: `CriticalSectionRawMutex` in general,
/// `NoopRawMutex` when every task runs on one executor.
///
/// See the [module documentation](super) for the whole picture.
pub struct Server<H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> {
    config: Config,
    handler: H,
    router: Mutex<M, RefCell<RouteTable<H::Route, ROUTES>>>,
    state: Mutex<M, RefCell<State<TASKS>>>,
}

/// Where a request goes, decided with the router's lock held and released before any await.
enum Routed<T> {
    Handler(T),
    Refused(HttpdErrCode),
    WebSocket(T),
    Answered,
}

/// A completion between requests, without its borrow.
enum Next {
    Request,
    Frame(FrameInfo),
    Refused(HttpdErrCode),
    Closed,
    Other,
}

impl<H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> Server<H, M, TASKS, ROUTES> {
    /// A server for `config` dispatching to `handler` (`httpd_start`, without the task: the
    /// application's tasks serve it). `max_open_sockets` is held to `1..=TASKS`.
    pub fn new(config: Config, handler: H) -> Self {
        let slots = Slots { slots: [SessionSlot::EMPTY; TASKS], len: config.max_open_sockets.clamp(1, TASKS.max(1)) };
        let state = State {
            sessions: Sessions::new(slots, config.lru_purge_enable),
            tasks: [const { TaskSlot { claimed: false, waker: WakerRegistration::new() } }; TASKS],
            owners: [usize::MAX; TASKS],
            freed: 0,
            stopped: false,
        };
        Server {
            config,
            handler,
            router: Mutex::new(RefCell::new(Router::new([Route::NO_ROUTE; ROUTES], config.uri_match))),
            state: Mutex::new(RefCell::new(state)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The application's handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State<TASKS>) -> R) -> R {
        self.state.lock(|cell| f(&mut cell.borrow_mut()))
    }

    // ----- URI handlers --------------------------------------------------------------------

    /// Registers `route` (`httpd_register_uri_handler`): a URI template, a method filter, the
    /// value [`Handler::handle`] gets, and for WebSocket endpoints their options
    /// ([`Route::websocket`], [`Route::subprotocols`], [`Route::handle_ws_control_frames`]).
    /// Takes effect for the next request.
    ///
    /// # Errors
    /// [`Error::Router`]: the table is full (`ROUTES`), or an earlier route already takes
    /// this template and method.
    pub fn register(&self, route: Route<&'static str, H::Route>) -> Result<(), Error> {
        self.router.lock(|router| router.borrow_mut().register(route)).map_err(Error::Router)
    }

    /// Registers a plain HTTP route: `uri` for `method` (a [`tern_proto::Method`] or
    /// [`MethodFilter::Any`]) calls [`Handler::handle`] with `route`.
    pub fn register_uri(
        &self,
        uri: &'static str,
        method: impl Into<MethodFilter>,
        route: H::Route,
    ) -> Result<(), Error> {
        self.register(Route::new(uri, method, route))
    }

    /// Removes the route with exactly this template and method filter
    /// (`httpd_unregister_uri_handler`).
    pub fn unregister(&self, uri: &str, method: impl Into<MethodFilter>) -> Result<(), Error> {
        let method = method.into();
        self.router.lock(|router| router.borrow_mut().unregister(uri, method)).map(drop).map_err(Error::Router)
    }

    /// Removes every route with exactly this template (`httpd_unregister_uri`) and returns
    /// how many there were.
    pub fn unregister_uri(&self, uri: &str) -> usize {
        self.router.lock(|router| router.borrow_mut().unregister_uri(uri))
    }

    // ----- sessions ------------------------------------------------------------------------

    /// How many sessions are open.
    pub fn open_sessions(&self) -> usize {
        self.with_state(|s| s.sessions.len())
    }

    /// Writes the open sessions into `list` and returns how many (`httpd_get_client_list`).
    pub fn client_list(&self, list: &mut [SessionId]) -> Result<usize, Error> {
        self.with_state(|s| s.sessions.client_list(list)).map_err(Error::Session)
    }

    /// Asks for `session` to be closed (`httpd_sess_trigger_close`): at once when it waits
    /// for a request (or a WebSocket frame), else when its handler returns.
    pub fn trigger_close(&self, session: SessionId) -> Result<(), Error> {
        self.with_state(|s| {
            s.sessions.trigger_close(session)?;
            let task = s.owners.get(session.slot()).copied().unwrap_or(usize::MAX);
            if let Some(slot) = s.tasks.get_mut(task) {
                slot.waker.wake();
            }
            Ok(())
        })
        .map_err(Error::Session)
    }

    /// Marks `session` as the most recently used (`httpd_sess_update_lru_counter`).
    pub fn touch(&self, session: SessionId) -> Result<(), Error> {
        self.with_state(|s| s.sessions.touch(session)).map_err(Error::Session)
    }

    /// Stops the server (`httpd_stop`): every [`serve`](Self::serve) call closes its
    /// connection and returns `Ok(())`, waits end, and a handler's next I/O call fails with
    /// [`Error::Stopped`]. There is no restart: build a new server.
    pub fn stop(&self) {
        self.with_state(|s| {
            s.stopped = true;
            s.wake_all();
        });
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.with_state(|s| s.stopped)
    }

    // ----- serving -------------------------------------------------------------------------

    /// Serves connections accepted on `config.server_port` of `stack`, one at a time, until
    /// the server stops: call it from each of (up to `TASKS`) tasks, each with its own
    /// buffers. Each connection is admitted into the session table (waiting for a free slot,
    /// or purging the least recently used session), served until it closes, then closed
    /// gracefully.
    ///
    /// # Errors
    /// Returns `Ok(())` once the server stops; [`Error::TooManyTasks`] when `TASKS` calls
    /// already run, [`Error::Buffer`] when `ENGINE` is below `connection.buffer_len()`,
    /// [`Error::Accept`] for a port the socket cannot listen on.
    #[cfg(feature = "embassy-net")]
    pub async fn serve<const ENGINE: usize, const RX: usize, const TX: usize>(
        &self,
        stack: embassy_net::Stack<'_>,
        buffers: &mut super::SessionBuffers<ENGINE, RX, TX>,
    ) -> Result<(), Error> {
        use embassy_futures::select::{Either, select};
        use embassy_net::tcp::TcpSocket;

        let task = self.claim()?;
        let (engine, rx, tx) = buffers.parts();
        self.check_buffer(engine)?;
        loop {
            if self.is_stopped() {
                return Ok(());
            }
            let mut socket = TcpSocket::new(stack, &mut *rx, &mut *tx);
            // The engine hands over whole heads and body pieces: Nagle would only delay them.
            socket.set_nagle_enabled(false);
            match select(socket.accept(self.config.server_port), self.stopping(task.index)).await {
                Either::First(Ok(())) => {}
                Either::First(Err(e)) => return Err(Error::Accept(e)),
                Either::Second(()) => {
                    socket.abort();
                    return Ok(());
                }
            }
            if let Some(id) = self.admit(task.index).await {
                let guard = SessionGuard { server: self, id };
                if self.handler.on_open(id) {
                    // The session's own failures end it; the loop goes on.
                    let _ = self.run_session(task.index, id, &mut socket, &mut *engine).await;
                }
                // The slot frees before the lingering close, so a waiting connection is served
                // meanwhile.
                drop(guard);
            }
            crate::net::close_gracefully(&mut socket, crate::net::CLOSE_LINGER).await;
        }
    }

    /// Serves one connection that is already open (any [`Stream`]: another transport, TLS
    /// over a socket, a test's pipe) until it closes, on `engine_buffer` (at least
    /// `connection.buffer_len()` bytes). It is admitted into the session table first (which
    /// may wait, or purge a session) and counts against `TASKS` while it runs. Closing the
    /// stream afterwards is the caller's (the server flushes it first, for at most
    /// `send_wait_timeout`).
    ///
    /// Writes are not flushed after each response: the stream must send what it accepted
    /// (embassy-net's `TcpSocket` does).
    ///
    /// # Errors
    /// [`Error::Stopped`] when the server stops before the connection is admitted;
    /// [`Error::TooManyTasks`] and [`Error::Buffer`] as for [`serve`](Self::serve).
    ///
    /// # Example
    ///
    /// A whole session over an in-memory stream: one request in, the client's end of
    /// stream, and the response out.
    ///
    /// ```
    /// use core::convert::Infallible;
    /// use embassy_sync::blocking_mutex::raw::NoopRawMutex;
    /// use embedded_io_async::{ErrorType, Read, Write};
    /// use tern_embassy::server::{Config, DEFAULT_ENGINE_LEN, Handler, HandlerResult, Request, Server, Stream};
    /// use tern_proto::Method;
    ///
    /// #[derive(Clone, Copy)]
    /// enum Page { Hello }
    /// struct App;
    /// impl Handler for App {
    ///     type Route = Page;
    ///     async fn handle(&self, _route: Page, req: &mut Request<'_, impl Stream>) -> HandlerResult {
    ///         req.set_type("text/plain")?;
    ///         req.send(b"Hello World!").await
    ///     }
    /// }
    ///
    /// /// A client whose bytes are canned: reads hand them out (then end of stream), writes
    /// /// are kept.
    /// struct Canned { request: &'static [u8], response: Vec<u8> }
    /// impl ErrorType for Canned { type Error = Infallible; }
    /// impl Read for Canned {
    ///     async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
    ///         let n = buf.len().min(self.request.len());
    ///         buf[..n].copy_from_slice(&self.request[..n]);
    ///         self.request = &self.request[n..];
    ///         Ok(n)
    ///     }
    /// }
    /// impl Write for Canned {
    ///     async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
    ///         self.response.extend_from_slice(buf);
    ///         Ok(buf.len())
    ///     }
    ///     async fn flush(&mut self) -> Result<(), Infallible> { Ok(()) }
    /// }
    ///
    /// // One task, four routes; NoopRawMutex: everything runs on one executor.
    /// let server: Server<App, NoopRawMutex, 1, 4> = Server::new(Config::DEFAULT, App);
    /// server.register_uri("/hello", Method::Get, Page::Hello)?;
    /// let mut engine = [0u8; DEFAULT_ENGINE_LEN];
    /// let mut client = Canned { request: b"GET /hello HTTP/1.1\r\nHost: esp32\r\n\r\n", response: Vec::new() };
    /// embassy_futures::block_on(server.serve_connection(&mut client, &mut engine))?;
    ///
    /// let text = String::from_utf8_lossy(&client.response);
    /// assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    /// assert!(text.ends_with("\r\n\r\nHello World!"), "{text}");
    /// # Ok::<(), tern_embassy::server::Error>(())
    /// ```
    pub async fn serve_connection<S: Stream>(&self, mut stream: S, engine_buffer: &mut [u8]) -> Result<(), Error> {
        let task = self.claim()?;
        self.check_buffer(engine_buffer)?;
        let Some(id) = self.admit(task.index).await else {
            return Err(Error::Stopped);
        };
        let guard = SessionGuard { server: self, id };
        let served = if self.handler.on_open(id) {
            self.run_session(task.index, id, &mut stream, engine_buffer).await
        } else {
            Ok(())
        };
        drop(guard);
        let limit = embassy_time::Duration::from_millis(self.config.connection.send_wait_timeout_ms.into());
        let _ = embassy_time::with_timeout(limit, stream.flush()).await;
        served
    }

    /// Refuses an engine buffer below the configuration's `buffer_len`.
    fn check_buffer(&self, engine_buffer: &[u8]) -> Result<(), Error> {
        let needed = self.config.connection.buffer_len();
        let available = engine_buffer.len();
        if available < needed {
            return Err(Error::Buffer(tern_proto::LocalError::BufferTooSmall { needed, available }));
        }
        Ok(())
    }

    /// Claims a task slot for the caller's task.
    fn claim(&self) -> Result<TaskGuard<'_, H, M, TASKS, ROUTES>, Error> {
        self.with_state(|s| {
            let (index, slot) = s
                .tasks
                .iter_mut()
                .enumerate()
                .find(|(_, t)| !t.claimed)
                .ok_or(Error::TooManyTasks { capacity: TASKS })?;
            slot.claimed = true;
            Ok(TaskGuard { server: self, index })
        })
    }

    /// Resolves when the server stops.
    #[cfg(feature = "embassy-net")]
    async fn stopping(&self, task: usize) {
        poll_fn(|cx| {
            self.with_state(|s| {
                if s.stopped {
                    return Poll::Ready(());
                }
                s.register(task, cx);
                Poll::Pending
            })
        })
        .await;
    }

    /// A session slot for the connection `task` holds: at once when one is free, else after
    /// one frees (purging the least recently used session first when LRU purge is on).
    /// `None` once the server stops.
    async fn admit(&self, task: usize) -> Option<SessionId> {
        loop {
            let seen = self.with_state(|s| {
                if s.stopped {
                    return Err(None);
                }
                match s.sessions.admit() {
                    Admission::Accept(id) => {
                        if let Some(owner) = s.owners.get_mut(id.slot()) {
                            *owner = task;
                        }
                        Err(Some(id))
                    }
                    Admission::Full => Ok(s.freed),
                    Admission::PurgeFirst(victim) => {
                        let _ = s.sessions.trigger_close(victim);
                        let owner = s.owners.get(victim.slot()).copied().unwrap_or(usize::MAX);
                        if let Some(slot) = s.tasks.get_mut(owner) {
                            slot.waker.wake();
                        }
                        Ok(s.freed)
                    }
                }
            });
            let seen = match seen {
                Ok(seen) => seen,
                Err(admitted) => return admitted,
            };
            poll_fn(|cx| {
                self.with_state(|s| {
                    if s.stopped || s.freed != seen {
                        return Poll::Ready(());
                    }
                    s.register(task, cx);
                    Poll::Pending
                })
            })
            .await;
        }
    }

    /// Frees a session's slot (once), wakes the tasks waiting for one, runs the close hook.
    fn release(&self, id: SessionId) {
        let closed = self.with_state(|s| {
            let closed = s.sessions.close(id).is_some();
            if closed {
                if let Some(owner) = s.owners.get_mut(id.slot()) {
                    *owner = usize::MAX;
                }
                s.freed = s.freed.wrapping_add(1);
                s.wake_all();
            }
            closed
        });
        if closed {
            self.handler.on_close(id);
        }
    }

    /// Serves one admitted session on `stream` until the engine closes it (closing the stream
    /// is the caller's).
    async fn run_session<S: Stream>(
        &self,
        task: usize,
        id: SessionId,
        stream: &mut S,
        engine_buffer: &mut [u8],
    ) -> Result<(), Error> {
        let engine =
            tern_proto::server::Connection::new(engine_buffer, self.config.connection, id).map_err(Error::Buffer)?;
        let mut req = Request::new(engine, stream, Watch { server: self, task });
        let mut ws_route: Option<H::Route> = None;
        loop {
            let next = req
                .drive(&[], true, |c| match c {
                    Completion::Request => Next::Request,
                    Completion::Frame(info) => Next::Frame(info),
                    Completion::Error(code) => Next::Refused(code),
                    Completion::Closed => Next::Closed,
                    _ => Next::Other,
                })
                .await;
            let started = matches!(next, Driven::Done(Ok(Next::Request | Next::Refused(_) | Next::Frame(_))));
            if started {
                // Stamped at arrival and kept out of the LRU purge until the request is
                // done: the client may read the response before this task records the end,
                // and a session used in between must not look more recent.
                let _ = self.with_state(|s| s.sessions.request_started(id));
            }
            match next {
                Driven::Done(Ok(Next::Closed)) => return Ok(()),
                // Asked to close, or the server stops: what is queued goes out, then close.
                Driven::Interrupted | Driven::Done(Err(_)) => req.engine.close(),
                Driven::Done(Ok(Next::Other)) => {}
                Driven::Done(Ok(Next::Request)) => self.dispatch(&mut req, &mut ws_route).await,
                Driven::Done(Ok(Next::Refused(code))) => self.refused(&mut req, code).await,
                Driven::Done(Ok(Next::Frame(info))) => match ws_route {
                    Some(route) => {
                        req.frame = Some(info);
                        let result = self.handler.handle(route, &mut req).await;
                        self.end_request(&mut req, result.is_ok(), true);
                    }
                    None => self.end_request(&mut req, false, true),
                },
            }
            if started {
                self.with_state(|s| {
                    let _ = s.sessions.request_done(id);
                    if s.sessions.is_full() {
                        // The session can be purged again: a task waiting to admit goes on.
                        s.freed = s.freed.wrapping_add(1);
                        s.wake_all();
                    }
                });
            }
        }
    }

    /// Routes a request and runs its handler.
    async fn dispatch<S: Stream>(&self, req: &mut Request<'_, S>, ws_route: &mut Option<H::Route>) {
        // The pre-handshake hook runs without the router's lock (it may register routes).
        let upgrade_to = self.router.lock(|router| {
            let head = req.engine.request()?;
            match router.borrow().find(&head.method(), head.path()) {
                Lookup::Found(route) if route.websocket && is_upgrade_request(head.raw_head()) => Some(route.handler),
                _ => None,
            }
        });
        if let (Some(route), Some(head)) = (upgrade_to, req.engine.request())
            && !self.handler.ws_pre_handshake(route, &head)
        {
            req.engine.close();
            return;
        }
        let routed = self.router.lock(|router| match req.engine.route(&*router.borrow()) {
            Dispatch::Handler(route) => Routed::Handler(route.handler),
            Dispatch::Refused(code) => Routed::Refused(code),
            Dispatch::WebSocket(route) => Routed::WebSocket(route.handler),
            Dispatch::Answered => Routed::Answered,
        });
        match routed {
            Routed::Handler(route) => {
                let result = self.handler.handle(route, req).await;
                self.end_request(req, result.is_ok(), true);
            }
            Routed::Refused(code) => self.refused(req, code).await,
            Routed::WebSocket(route) => {
                *ws_route = Some(route);
                let result = self.handler.ws_opened(route, req).await;
                self.end_request(req, result.is_ok(), false);
            }
            Routed::Answered => {}
        }
    }

    /// A refusal: the handler's error hook, or ESP-IDF's default answer and a close.
    async fn refused<S: Stream>(&self, req: &mut Request<'_, S>, code: HttpdErrCode) {
        match self.handler.handle_error(code, req).await {
            None => {
                req.reset();
                if req.engine.reject(code).is_err() {
                    req.engine.close();
                }
            }
            Some(verdict) => self.end_request(req, verdict == ErrorVerdict::KeepSession, true),
        }
    }

    /// After a handler: the end of the request (`finish`, unless it was the WebSocket hook),
    /// and a close when one was asked for meanwhile. The serving loop then marks the request
    /// done in the session table.
    fn end_request<S: Stream>(&self, req: &mut Request<'_, S>, ok: bool, ends_request: bool) {
        req.reset();
        let id = req.engine.session();
        let close = self.with_state(|s| s.stopped || s.sessions.close_requested(id));
        if ends_request {
            let outcome = if ok { HandlerOutcome::Ok } else { HandlerOutcome::Fail };
            if req.engine.finish(outcome).is_err() {
                // A send the handler abandoned half-way: the stream cannot be framed any more.
                req.engine.transport_failed();
            }
        } else if !ok {
            req.engine.close();
        }
        if close {
            req.engine.close();
        }
    }
}

impl<H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> Interrupts for Server<H, M, TASKS, ROUTES> {
    fn poll_interrupt(&self, task: usize, session: SessionId, close: bool, cx: &mut Context<'_>) -> Poll<()> {
        self.with_state(|s| {
            if s.stopped || (close && s.sessions.close_requested(session)) {
                return Poll::Ready(());
            }
            s.register(task, cx);
            Poll::Pending
        })
    }
}

impl<H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> core::fmt::Debug
    for Server<H, M, TASKS, ROUTES>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("open_sessions", &self.open_sessions())
            .field("stopped", &self.is_stopped())
            .finish_non_exhaustive()
    }
}

/// Gives a task slot back when its `serve` or `serve_connection` call ends, however it ends.
struct TaskGuard<'s, H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> {
    server: &'s Server<H, M, TASKS, ROUTES>,
    index: usize,
}

impl<H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> Drop for TaskGuard<'_, H, M, TASKS, ROUTES> {
    fn drop(&mut self) {
        self.server.with_state(|s| {
            if let Some(slot) = s.tasks.get_mut(self.index) {
                slot.claimed = false;
            }
        });
    }
}

/// Frees a session's slot when its serving ends, however it ends (the serving future dropped
/// included).
struct SessionGuard<'s, H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> {
    server: &'s Server<H, M, TASKS, ROUTES>,
    id: SessionId,
}

impl<H: Handler, M: RawMutex, const TASKS: usize, const ROUTES: usize> Drop for SessionGuard<'_, H, M, TASKS, ROUTES> {
    fn drop(&mut self) {
        self.server.release(self.id);
    }
}

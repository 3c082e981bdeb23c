//! The server: esp_http_server on tokio.
//!
//! [`Server::start`] listens (`httpd_start`) and serves each admitted connection in a task of
//! its own that drives a [`tern_proto::server::Connection`]. Requests go to async
//! [`Handler`]s registered per URI and method ([`UriHandler`], `httpd_register_uri_handler`),
//! refusals to [`ErrorHandler`]s, WebSocket frames to their endpoint's handler. A handler owns
//! its [`Request`] and may hand it to another task (an async handler); the session waits.
//!
//! ```no_run
//! use tern_proto::Method;
//! use tern_tokio::server::{Config, Request, Server, UriHandler};
//!
//! # async fn run() -> Result<(), tern_tokio::server::Error> {
//! let server = Server::start(Config { server_port: 8080, ..Config::default() }).await?;
//! server.register_uri_handler(UriHandler::new("/hello", Method::Get, |mut req: Request| async move {
//!     req.send(b"Hello World!").await
//! }))?;
//! // ... later: close every session, run every close hook and context free, and wait.
//! server.stop().await;
//! # Ok(()) }
//! ```
//!
//! What the adapter does and the engine does not: listening and accepting, the session
//! table's lock, one task per session, sleeping until the engine's deadlines, other tasks'
//! requests to a session (queued work writing to it, WebSocket pushes, closes) carried out
//! between its requests, and a brief lingering close so that a last response is not lost to
//! a reset. Sessions are limited to `max_open_sockets`; a further connection waits in the
//! listen backlog (`backlog_conn`) unless `lru_purge_enable` closes the least recently used
//! session for it.
//!
//! With feature `tls` (the default) and `Config::tls` set, the server speaks HTTPS
//! (esp_https_server): each session starts with a TLS handshake (a failed one closes the
//! connection, frees its slot and is told to `Config::tls_error_fn`), and then everything,
//! WebSocket included, runs inside the TLS session; [`Request::is_tls`] and
//! `Request::peer_certificates` tell a handler about it.

mod config;
mod conn;
mod error;
mod handler;
mod request;
mod serve;
mod shared;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, RwLock};

use socket2::{Domain, Protocol, Socket, Type};
use tern_proto::server::{ErrorHandlers, RouteSlot, Router, ServerCore, SessionSlot, Sessions};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[cfg(feature = "tls")]
pub use config::TlsErrorHook;
pub use config::{CloseHook, Config, OpenHook};
pub use error::Error;
pub use handler::{
    ErrorHandler, HANDLER_FUTURE_INLINE, Handler, HandlerFuture, HandlerResult, PreHandshake, UriHandler,
};
pub use request::Request;
pub use shared::{ClientInfo, ServerHandle};
pub use tern_proto::server::{HttpdErrCode, SessionId};

use shared::{Shared, State, lock};

/// A running server (`httpd_handle_t`). Registration, work and pushes go through the
/// [`ServerHandle`] it dereferences to; [`stop`](Self::stop) ends it.
#[derive(Debug)]
pub struct Server {
    handle: ServerHandle,
    local_addr: SocketAddr,
}

impl Server {
    /// Listens on `config.bind:config.server_port` and starts serving (`httpd_start`). Must be
    /// called inside a tokio runtime.
    ///
    /// # Errors
    /// [`Error::Listen`] when the socket cannot be bound, and [`Error::Engine`] for a
    /// connection configuration the engine refuses.
    ///
    /// # Example
    ///
    /// A server on a free loopback port, one handler, and tern's own client asking it:
    ///
    /// ```
    /// use tern_proto::Method;
    /// use tern_proto::client::ClientConfig;
    /// use tern_tokio::server::{Config, Request, Server, UriHandler};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// runtime.block_on(async {
    ///     // Port 0 picks a free port; `local_addr` says which.
    ///     let config = Config { bind: [127, 0, 0, 1].into(), server_port: 0, ..Config::default() };
    ///     let server = Server::start(config).await?;
    ///     server.register_uri_handler(UriHandler::new("/hello", Method::Get, |mut req: Request| async move {
    ///         req.send(b"Hello World!").await
    ///     }))?;
    ///
    ///     let url = format!("http://{}/hello", server.local_addr());
    ///     let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    ///     let mut client = tern_tokio::client::Client::new(&config)?;
    ///     client.open(Some(0)).await?;
    ///     assert_eq!(client.fetch_headers().await?, Some(12));
    ///     assert_eq!(&client.read_to_end(1024).await?[..], b"Hello World!");
    ///
    ///     server.stop().await; // closes the client's kept-alive session too
    ///     Ok::<(), Box<dyn std::error::Error>>(())
    /// })
    /// # }
    /// ```
    pub async fn start(config: Config) -> Result<Server, Error> {
        // Refuse a bad engine configuration now rather than at the first connection.
        let probe = config.connection;
        tern_proto::server::Connection::new(vec![0u8; probe.buffer_len()], probe, SessionId(0))
            .map_err(|e| Error::Engine(e.into()))?;
        let listener = listen(&config).map_err(Error::Listen)?;
        let local_addr = listener.local_addr().map_err(Error::Listen)?;
        let slots = (0..config.max_open_sockets.max(1)).map(|_| SessionSlot::new()).collect();
        let mut core = ServerCore::new(Sessions::new(slots, config.lru_purge_enable));
        core.start();
        let routes = (0..config.max_uri_handlers).map(|_| RouteSlot::None).collect();
        let (work, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State { core, links: Default::default() }),
            router: RwLock::new(Router::new(routes, config.uri_match)),
            errors: RwLock::new(ErrorHandlers::new()),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            slot_freed: Notify::new(),
            work,
            config,
            epoch: tokio::time::Instant::now(),
        });
        shared.tracker.spawn(serve::accept_loop(shared.clone(), listener));
        shared.tracker.spawn(serve::work_loop(shared.clone(), queue));
        Ok(Server { handle: ServerHandle { shared }, local_addr })
    }

    /// The address the server listens on (with the port chosen when `server_port` was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle for other tasks.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Stops the server (`httpd_stop`): no more connections or work, every session closed
    /// with its close hook run and its context dropped, once each; returns when every task of
    /// the server has ended. A request held by an async handler's task fails its next call
    /// with [`Error::Stopped`].
    pub async fn stop(self) {
        let shared = &self.handle.shared;
        let _ = lock(&shared.state).core.apply::<()>(tern_proto::server::ControlRequest::Stop);
        shared.cancel.cancel();
        shared.tracker.close();
        shared.tracker.wait().await;
        let left: Vec<SessionId> = lock(&shared.state).core.sessions().ids().collect();
        for id in left {
            shared.close_session(id);
        }
        lock(&shared.state).core.stopped();
    }
}

impl Deref for Server {
    type Target = ServerHandle;
    fn deref(&self) -> &ServerHandle {
        &self.handle
    }
}

fn listen(config: &Config) -> std::io::Result<TcpListener> {
    let addr = SocketAddr::new(config.bind, config.server_port);
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(config.backlog_conn).unwrap_or(i32::MAX))?;
    TcpListener::from_std(socket.into())
}

//! The server: ESP-IDF's `esp_http_server` on embassy (`no_std`, no allocator).
//!
//! ESP-IDF runs one `httpd` task with a select loop over every socket. embassy has no select
//! over sockets and no task spawning from a library, so the application runs the tasks: each
//! calls [`Server::serve`] in a loop of its own, with its own [`SessionBuffers`], and serves
//! one connection at a time. The tasks share one [`Server`]: the URI handler table, the
//! session table (`max_open_sockets`, LRU purge) and one [`Handler`], which the server calls
//! by static dispatch with the route value each URI was registered with.
//!
//! ```text
//!  task 1..TASKS: Server::serve(stack, &mut buffers)
//!    loop: TcpSocket::accept(server_port)
//!          Sessions::admit ── Accept(id) ──────────────► serve the session
//!                          ├─ Full: wait for a slot (ESP-IDF's backlog)
//!                          └─ PurgeFirst(victim): ask the victim's task to close, wait
//!          session: drive(poll → read / write / deadline)    (Connection engine)
//!            Request ─ route(&router) ─► Handler::handle(route, &mut Request) ─► finish
//!                                     ├► refused: Handler::handle_error, or reject
//!                                     └► WebSocket: ws_opened, then handle per frame
//!            Error(code) ──────────────► Handler::handle_error, or reject
//!          free the slot (on_close), close the socket gracefully
//! ```
//!
//! - **Sessions and tasks.** `TASKS` tasks may serve at once; `max_open_sockets` (at most
//!   `TASKS`) of them hold a session. embassy-net has no listen backlog (a connection nobody
//!   accepts is reset), so a task beyond `max_open_sockets` plays the backlog: it accepts,
//!   then holds the connection unserved until a session closes, or, with
//!   `lru_purge_enable`, asks the least recently used session to close first. So LRU purge
//!   needs more tasks than `max_open_sockets`.
//! - **Waits.** Every read and write is awaited under the engine's deadline (the idle
//!   timeout, `recv_wait_timeout` and its 408, `send_wait_timeout`). A session waiting for a
//!   request (or a WebSocket frame) also wakes when it is asked to close
//!   ([`Server::trigger_close`], LRU purge), and every wait ends when the server
//!   [stops](Server::stop). The tables are behind an embassy-sync blocking mutex that is
//!   never held across an await.
//! - **Handlers** get a [`Request`]: the request's head and body, the response's head
//!   (copied into a fixed space of [`RESP_HEADER_SPACE`] bytes, at most
//!   [`MAX_RESP_HEADERS`] fields), the send calls, and on WebSocket routes the frame. Bodies
//!   go out without a copy. A handler that returns `Err` closes its session.
//! - **Closing** is graceful: FIN after the last byte, then what the client still sends is
//!   read and dropped for up to [`CLOSE_LINGER`](crate::net::CLOSE_LINGER), so a last
//!   response is not destroyed by a reset.
//!
//! ## Memory
//!
//! Everything is the caller's and known before the first byte: per serving task, one
//! [`SessionBuffers`] (the engine buffer of `ServerConfig::buffer_len()` bytes and the
//! socket's receive and transmit buffers) and the task's future; per server, the tables.
//! At ESP-IDF's defaults ([`DefaultSessionBuffers`]):
//!
//! | part | bytes | holds |
//! |---|---|---|
//! | engine buffer | 2,612 | the largest request head (1,588), a 512-byte body window, a 512-byte transmit buffer |
//! | socket receive buffer | 1,536 | the TCP window |
//! | socket transmit buffer | 1,536 | unacknowledged response bytes |
//! | `serve` future | 1,200 to 1,520 | the [`Request`] (784: the engine state, 400, and the response head being built), the handler's future, the waits |
//!
//! That is about 6.9 KB per serving task, plus 512 bytes of tables for a server of three tasks
//! and eight routes. The future's size is the application's too: measured on riscv32imc
//! (release) with a handler that sends a static page (1,200) and with one that echoes up to
//! 256 bytes from a buffer of its own (1,520); `tests/server_sizes.rs` holds the host figures.
//!
//! ESP-IDF's lwIP allocates its TCP buffers per segment (its default windows, 5,760 bytes,
//! are maxima); embassy-net's are fixed, so their sizes are a choice: larger ones speed up
//! bulk transfers.
//!
//! ```no_run
//! use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
//! use tern_embassy::server::{Config, DefaultSessionBuffers, Handler, HandlerResult, Request, Server, Stream};
//! use tern_proto::Method;
//!
//! #[derive(Clone, Copy)]
//! enum Page { Hello }
//! struct App;
//! impl Handler for App {
//!     type Route = Page;
//!     async fn handle(&self, _route: Page, req: &mut Request<'_, impl Stream>) -> HandlerResult {
//!         req.send(b"Hello World!").await
//!     }
//! }
//!
//! type AppServer = Server<App, CriticalSectionRawMutex, 3, 8>;
//!
//! // One of three tasks (two sessions and a backlog slot with max_open_sockets = 2):
//! async fn web_task(server: &'static AppServer, stack: embassy_net::Stack<'static>,
//!                   buffers: &'static mut DefaultSessionBuffers) {
//!     let _ = server.serve(stack, buffers).await;
//! }
//!
//! # fn setup() -> Result<(), tern_embassy::server::Error> {
//! let server = AppServer::new(Config { max_open_sockets: 2, ..Config::DEFAULT }, App);
//! server.register_uri("/hello", Method::Get, Page::Hello)?;
//! # Ok(()) }
//! ```
//!
//! Not here yet: session contexts, WebSocket frames pushed from other tasks
//! (`httpd_ws_send_frame_async`), queued work, async handlers, and TLS (esp_https_server).

mod error;
mod handler;
mod request;
mod serve;

pub use error::Error;
pub use handler::{Handler, HandlerResult, Stream};
pub use request::{MAX_RESP_HEADERS, RESP_HEADER_SPACE, Request};
pub use serve::{Config, Server};
pub use tern_proto::server::{ErrorVerdict, HttpdErrCode, MethodFilter, Route, ServerConfig, SessionId};

/// The engine buffer's length at ESP-IDF's defaults (`ServerConfig::DEFAULT.buffer_len()`).
pub const DEFAULT_ENGINE_LEN: usize = ServerConfig::DEFAULT.buffer_len();

/// The socket buffers' length (each way) of [`DefaultSessionBuffers`].
pub const DEFAULT_SOCKET_BUFFER_LEN: usize = 1536;

/// [`SessionBuffers`] for ESP-IDF's default limits, with 1,536-byte socket buffers.
pub type DefaultSessionBuffers =
    SessionBuffers<DEFAULT_ENGINE_LEN, DEFAULT_SOCKET_BUFFER_LEN, DEFAULT_SOCKET_BUFFER_LEN>;

/// One serving task's memory: the engine buffer (`ENGINE` bytes, at least the
/// configuration's [`ServerConfig::buffer_len`]) and its socket's receive (`RX`) and transmit
/// (`TX`) buffers. Build it in a `static` (it is `const`-constructible) and give it to
/// [`Server::serve`].
///
/// ```
/// use tern_embassy::server::{DefaultSessionBuffers, SessionBuffers};
/// let buffers = DefaultSessionBuffers::new();
/// assert_eq!(core::mem::size_of_val(&buffers), 2612 + 1536 + 1536);
/// // A smaller server: 512-byte request heads, 1 KiB socket buffers.
/// let small: SessionBuffers<1536, 1024, 1024> = SessionBuffers::new();
/// # let _ = small;
/// ```
pub struct SessionBuffers<const ENGINE: usize, const RX: usize, const TX: usize> {
    engine: [u8; ENGINE],
    rx: [u8; RX],
    tx: [u8; TX],
}

impl<const ENGINE: usize, const RX: usize, const TX: usize> SessionBuffers<ENGINE, RX, TX> {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        SessionBuffers { engine: [0; ENGINE], rx: [0; RX], tx: [0; TX] }
    }

    /// The engine buffer, the socket's receive buffer, its transmit buffer.
    pub fn parts(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        (&mut self.engine, &mut self.rx, &mut self.tx)
    }
}

impl<const ENGINE: usize, const RX: usize, const TX: usize> Default for SessionBuffers<ENGINE, RX, TX> {
    fn default() -> Self {
        SessionBuffers::new()
    }
}

impl<const ENGINE: usize, const RX: usize, const TX: usize> core::fmt::Debug for SessionBuffers<ENGINE, RX, TX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionBuffers").field("engine", &ENGINE).field("rx", &RX).field("tx", &TX).finish()
    }
}

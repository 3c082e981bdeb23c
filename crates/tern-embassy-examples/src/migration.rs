//! The programs of docs/migration.md on tern-embassy (`no_std`, no allocator), as an ESP32
//! firmware runs them.
//!
//! - The server: `GET /hello` answers text, `POST /echo` echoes the body as it reads it (in
//!   100-byte pieces, each sent back as a chunk), unknown URIs get a 404 handler that keeps
//!   the session, and at most [`MAX_OPEN_SOCKETS`] sessions are served, the least recently
//!   used one closed to make room for another. The firmware runs [`TASKS`] tasks that each
//!   call `Server::serve`: one per session and one more, which holds a new connection while
//!   LRU purge closes a session for it.
//! - The client ([`client`]): a GET with a custom header and a 5 s timeout, then a POST of a
//!   small JSON body to `/echo` on the same server, with the status and body length of each.

use core::cell::Cell;
use core::time::Duration;

use embassy_sync::blocking_mutex::raw::RawMutex;
use tern_embassy::client::Client;
use tern_embassy::server::{
    Config, Error, ErrorVerdict, Handler, HandlerResult, HttpdErrCode, Request, Server, Stream,
};
use tern_embassy::transport::Transport;
use tern_proto::Method;
use tern_proto::client::{ClientConfig, Event, EventKind};

/// Sessions served at once (`max_open_sockets`).
pub const MAX_OPEN_SOCKETS: usize = 4;
/// Serving tasks: one per session, and one that holds a new connection while LRU purge
/// closes the least recently used session for it.
pub const TASKS: usize = MAX_OPEN_SOCKETS + 1;
/// URI handler slots (`max_uri_handlers`).
pub const ROUTES: usize = 2;
/// `/echo` reads the body in pieces of this size (ESP-IDF: `char buf[100]`).
pub const PIECE: usize = 100;
/// The body of the client's POST.
pub const JSON: &[u8] = br#"{"temperature":21.5}"#;

/// What a registered URI carries to the handler: ESP-IDF's `handler` and `user_ctx` in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /hello`, with the text it answers.
    Hello(&'static str),
    /// `POST /echo`.
    Echo,
}

/// The application: every URI handler and the 404 handler.
#[derive(Debug, Default)]
pub struct App;

/// The server the firmware shares between its [`TASKS`] serving tasks.
pub type AppServer<M> = Server<App, M, TASKS, ROUTES>;

/// `HTTPD_DEFAULT_CONFIG()` with [`MAX_OPEN_SOCKETS`] sessions and LRU purge, on `port`.
pub const fn config(port: u16) -> Config {
    Config { server_port: port, max_open_sockets: MAX_OPEN_SOCKETS, lru_purge_enable: true, ..Config::DEFAULT }
}

/// Registers the URIs (`httpd_register_uri_handler`).
pub fn register<M: RawMutex>(server: &AppServer<M>) -> Result<(), Error> {
    server.register_uri("/hello", Method::Get, Route::Hello("Hello World!"))?;
    server.register_uri("/echo", Method::Post, Route::Echo)?;
    Ok(())
}

impl Handler for App {
    type Route = Route;

    async fn handle(&self, route: Route, req: &mut Request<'_, impl Stream>) -> HandlerResult {
        match route {
            Route::Hello(text) => {
                req.set_type("text/plain")?;
                req.send(text.as_bytes()).await
            }
            Route::Echo => {
                req.set_type("text/plain")?;
                let mut buf = [0u8; PIECE];
                loop {
                    // 0 is the end of the body (Content-Length or chunked); a timeout or a
                    // vanished client is an `Err`, and an `Err` closes the session (ESP_FAIL).
                    let n = req.recv(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    req.send_chunk(buf.get(..n).unwrap_or_default()).await?;
                }
                req.send_chunk(&[]).await
            }
        }
    }

    /// `httpd_register_err_handler(server, HTTPD_404_NOT_FOUND, ...)`: ESP-IDF's error
    /// response with a message of ours, keeping the session (`ESP_OK`). `None` leaves every
    /// other code to the server.
    async fn handle_error(&self, code: HttpdErrCode, req: &mut Request<'_, impl Stream>) -> Option<ErrorVerdict> {
        if code != HttpdErrCode::NotFound {
            return None;
        }
        match req.send_err(HttpdErrCode::NotFound, Some("No such URI")).await {
            Ok(()) => Some(ErrorVerdict::KeepSession),
            Err(_) => Some(ErrorVerdict::CloseSession),
        }
    }
}

/// What one request got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The status code.
    pub status: u16,
    /// Body bytes received (counted in the event handler).
    pub body_len: usize,
}

/// GETs `url`, then POSTs [`JSON`] to `/echo` on the same server, over `transport` with the
/// engine buffer `buffer` (at least `ClientConfig::buffer_len()` bytes: 3,584 at the
/// defaults).
pub async fn client<T: Transport>(
    url: &str,
    buffer: &mut [u8],
    transport: T,
) -> Result<[Outcome; 2], tern_embassy::client::Error> {
    // ESP-IDF's `user_data`: whatever the event handler's closure captures.
    let received = Cell::new(0);
    let on_event = |event: &Event<'_>| {
        if let EventKind::OnData(data) = event.kind {
            received.set(received.get() + data.len());
        }
    };
    let config = ClientConfig { url: Some(url), timeout: Duration::from_secs(5), ..ClientConfig::default() };
    let mut client = Client::with_handler(&config, buffer, transport, on_event)?;
    client.set_header("X-Device-Id", "esp32-01")?;

    client.perform().await?;
    let get = Outcome { status: client.status_code().map_or(0, |s| s.as_u16()), body_len: received.replace(0) };

    // The same client, connection and headers: a relative URL, another method, a body.
    client.set_url("/echo")?;
    client.set_method(Method::Post);
    client.set_header("Content-Type", "application/json")?;
    client.set_post_field(Some(JSON))?;
    client.perform().await?;
    let post = Outcome { status: client.status_code().map_or(0, |s| s.as_u16()), body_len: received.replace(0) };
    client.close().await?;
    Ok([get, post])
}

//! The server program of docs/migration.md on tern-tokio: `GET /hello` answers text,
//! `POST /echo` echoes the body as it reads it (in 100-byte pieces, each sent back as a chunk),
//! unknown URIs get a 404 handler that keeps the session, and at most 4 sessions are served,
//! the least recently used one closed to make room for a fifth.
//!
//! ```sh
//! cargo run -p tern-tokio --example migration_server -- --port 8006
//! curl -i http://127.0.0.1:8006/hello
//! curl -i --data-binary 'echo me back' http://127.0.0.1:8006/echo
//! curl -i http://127.0.0.1:8006/nowhere
//! ```
#![allow(dead_code)] // also compiled into tests/migration_examples.rs, which call `start`

#[path = "support/run.rs"]
mod run;

use tern_proto::Method;
use tern_tokio::server::{Config, Error, HandlerResult, HttpdErrCode, Request, Server, UriHandler};

/// `/hello`'s user context: the text it answers with.
const HELLO: &str = "Hello World!";
/// `/echo` reads the body in pieces of this size (ESP-IDF: `char buf[100]`).
pub const PIECE: usize = 100;

/// `HTTPD_DEFAULT_CONFIG()` with 4 sessions and LRU purge, on `port`.
pub fn config(port: u16) -> Config {
    Config { server_port: port, max_open_sockets: 4, lru_purge_enable: true, ..Config::default() }
}

/// Starts the server (`httpd_start`) and registers the handlers.
pub async fn start(config: Config) -> Result<Server, Error> {
    let server = Server::start(config).await?;
    // The closure is `httpd_uri_t`'s `handler` and `user_ctx` in one.
    server.register_uri_handler(UriHandler::new("/hello", Method::Get, |req| hello(req, HELLO)))?;
    server.register_uri_handler(UriHandler::new("/echo", Method::Post, echo))?;
    server.register_err_handler(HttpdErrCode::NotFound, not_found);
    Ok(server)
}

/// `GET /hello`: the user context as `text/plain`.
async fn hello(mut req: Request, text: &'static str) -> HandlerResult {
    req.set_type("text/plain");
    req.send(text.as_bytes()).await
}

/// `POST /echo`: each piece of the body goes back as a chunk as soon as it is read.
async fn echo(mut req: Request) -> HandlerResult {
    req.set_type("text/plain");
    let mut buf = [0u8; PIECE];
    loop {
        // 0 is the end of the body (Content-Length or chunked); a timeout or a vanished client
        // is an `Err`, which `?` returns, and an `Err` closes the session (ESP_FAIL).
        let n = req.recv(&mut buf).await?;
        if n == 0 {
            break;
        }
        req.send_chunk(buf.get(..n).unwrap_or_default()).await?;
    }
    req.send_chunk(&[]).await
}

/// The 404 handler: ESP-IDF's error response with a message of ours. `Ok` keeps the session,
/// as `ESP_OK` does.
async fn not_found(mut req: Request, _code: HttpdErrCode) -> HandlerResult {
    req.send_err(HttpdErrCode::NotFound, Some("No such URI")).await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = start(config(run::port_arg(8006))).await?;
    run::serve_until_ctrl_c("migration_server", server).await;
    Ok(())
}

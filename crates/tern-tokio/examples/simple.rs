//! ESP-IDF's `simple` example server on tern-tokio: the handlers of
//! `examples/protocols/http_server/simple`, answering the same on the wire.
//!
//! ```sh
//! cargo run --release -p tern-tokio --example simple -- --port 8001
//! curl -i -H 'Test-Header-1: one' 'http://127.0.0.1:8001/hello?query1=a%20b&query3=c'
//! curl -i --data-binary 'echo me back in chunks' http://127.0.0.1:8001/echo
//! curl -i -X PUT -d 0 http://127.0.0.1:8001/ctrl     # /hello and /echo go away
//! curl -i -X PUT -d 1 http://127.0.0.1:8001/ctrl     # and come back
//! curl -N http://127.0.0.1:8001/sse
//! ```
#![allow(dead_code)] // also compiled into the tests, which use `start` and not `main`

#[path = "support/run.rs"]
mod run;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tern_proto::Method;
use tern_proto::server::MethodFilter;
use tern_proto::server::query::url_decode;
use tern_tokio::server::{Config, Error, HandlerResult, HttpdErrCode, Request, Server, UriHandler};

/// `/hello`'s user context: the body it answers with.
const HELLO: &str = "Hello World!";
/// `EXAMPLE_HTTP_QUERY_KEY_MAX_LEN`: query values this long or longer are not looked at.
const QUERY_VALUE_MAX: usize = 64;
/// The pieces `/echo` reads and echoes.
const ECHO_PIECE: usize = 100;

/// When the program started: `/sse`'s "time since boot".
static BOOT: OnceLock<Instant> = OnceLock::new();

/// The example's configuration: ESP-IDF's defaults with LRU purge on.
pub fn config(port: u16) -> Config {
    Config { server_port: port, lru_purge_enable: true, ..Config::default() }
}

/// Starts the server with every handler registered.
pub async fn start(config: Config) -> Result<Server, Error> {
    BOOT.get_or_init(Instant::now);
    let server = Server::start(config).await?;
    server.register_uri_handler(hello_uri())?;
    server.register_uri_handler(echo_uri())?;
    server.register_uri_handler(UriHandler::new("/ctrl", Method::Put, ctrl))?;
    server.register_uri_handler(UriHandler::new("/any", MethodFilter::Any, |req: Request| hello(req, HELLO)))?;
    server.register_uri_handler(UriHandler::new("/sse", Method::Get, sse))?;
    Ok(server)
}

/// The `/hello` registration, with its user context.
fn hello_uri() -> UriHandler {
    UriHandler::new("/hello", Method::Get, |req: Request| hello(req, HELLO))
}

/// The `/echo` registration.
fn echo_uri() -> UriHandler {
    UriHandler::new("/echo", Method::Post, echo)
}

/// `GET /hello` (and `/any`): logs a few request headers and query parameters, answers with
/// two custom headers and the user context as the body.
async fn hello(mut req: Request, body: &'static str) -> HandlerResult {
    for name in ["Host", "Test-Header-2", "Test-Header-1"] {
        if let Some(value) = req.header(name).filter(|v| !v.is_empty()) {
            println!("Found header => {name}: {}", String::from_utf8_lossy(value));
        }
    }
    if let Some(query) = req.query().filter(|q| !q.is_empty()) {
        println!("Found URL query => {query}");
        for key in ["query1", "query3", "query2"] {
            let Some(value) = req.query_value(key).filter(|v| v.len() < QUERY_VALUE_MAX) else {
                continue;
            };
            println!("Found URL query parameter => {key}={value}");
            let mut decoded = [0u8; QUERY_VALUE_MAX];
            if let Ok(n) = url_decode(value.as_bytes(), true, &mut decoded) {
                let decoded = decoded.get(..n).unwrap_or_default();
                println!("Decoded query parameter => {}", String::from_utf8_lossy(decoded));
            }
        }
    }
    req.set_header("Custom-Header-1", "Custom-Value-1");
    req.set_header("Custom-Header-2", "Custom-Value-2");
    req.send(body.as_bytes()).await
}

/// `POST /echo`: the body read in 100-byte pieces, each echoed as a chunk.
async fn echo(mut req: Request) -> HandlerResult {
    let mut buf = [0u8; ECHO_PIECE];
    loop {
        // ESP-IDF retries a read that timed out; tern's engine gives the body up after a
        // timeout, so the session closes instead.
        let n = req.recv(&mut buf).await?;
        if n == 0 {
            break;
        }
        let piece = buf.get(..n).unwrap_or_default();
        req.send_chunk(piece).await?;
        println!("=========== RECEIVED DATA ==========");
        println!("{}", String::from_utf8_lossy(piece));
        println!("====================================");
    }
    req.send_chunk(&[]).await
}

/// `PUT /ctrl`: `0` unregisters `/hello` and `/echo` and installs the custom 404 handler;
/// anything else registers them again and removes it.
async fn ctrl(mut req: Request) -> HandlerResult {
    let mut buf = [0u8; 1];
    let n = match req.recv(&mut buf).await {
        Ok(n) => n,
        Err(Error::Engine(e)) if e.is_timeout() => {
            req.send_err(HttpdErrCode::RequestTimeout, None).await?;
            return Err(Error::fail("timed out reading /ctrl's body"));
        }
        Err(e) => return Err(e),
    };
    if n == 0 {
        return Err(Error::fail("/ctrl without a body"));
    }
    let server = req.server().ok_or_else(|| Error::fail("no server"))?;
    if buf.first() == Some(&b'0') {
        println!("Unregistering /hello and /echo URIs");
        server.unregister_uri("/hello");
        server.unregister_uri("/echo");
        server.register_err_handler(HttpdErrCode::NotFound, not_found);
    } else {
        println!("Registering /hello and /echo URIs");
        // Already registered is fine, as in ESP-IDF, which ignores the error.
        let _ = server.register_uri_handler(hello_uri());
        let _ = server.register_uri_handler(echo_uri());
        server.unregister_err_handler(HttpdErrCode::NotFound);
    }
    req.send(b"").await
}

/// What the custom 404 handler answers for a URI.
enum Missing {
    Hello,
    Echo,
    Other,
}

/// The custom 404 handler: keeps the session for `/hello`, closes it for anything else.
async fn not_found(mut req: Request, _code: HttpdErrCode) -> HandlerResult {
    let missing = match req.uri() {
        "/hello" => Missing::Hello,
        "/echo" => Missing::Echo,
        _ => Missing::Other,
    };
    match missing {
        Missing::Hello => {
            req.send_err(HttpdErrCode::NotFound, Some("/hello URI is not available")).await?;
            // Ok keeps the session open.
            Ok(())
        }
        Missing::Echo => {
            req.send_err(HttpdErrCode::NotFound, Some("/echo URI is not available")).await?;
            // An error closes it.
            Err(Error::fail("/echo is not available"))
        }
        Missing::Other => {
            req.send_err(HttpdErrCode::NotFound, Some("Some 404 error message")).await?;
            Err(Error::fail("no such URI"))
        }
    }
}

/// `GET /sse`: a server-sent-events stream, one event a second, until the client leaves
/// (the first write that fails ends the handler and closes the session).
async fn sse(mut req: Request) -> HandlerResult {
    let boot = *BOOT.get_or_init(Instant::now);
    req.set_type("text/event-stream");
    req.set_header("Cache-Control", "no-cache");
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let event = format!("data: Time since boot: {} seconds\n\n", boot.elapsed().as_secs());
        req.send_chunk(event.as_bytes()).await?;
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = start(config(run::port_arg(8001))).await?;
    run::serve_until_ctrl_c("simple", server).await;
    Ok(())
}

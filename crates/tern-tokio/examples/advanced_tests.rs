//! ESP-IDF's `advanced_tests` example server on tern-tokio: the handlers of
//! `examples/protocols/http_server/advanced_tests`, answering the same on the wire.
//!
//! ```sh
//! cargo run --release -p tern-tokio --example advanced_tests -- --port 1234
//! curl -i http://127.0.0.1:1234/hello
//! curl -i -d 'some body' -H 'Custom: x' http://127.0.0.1:1234/echo
//! ```
#![allow(dead_code)] // also compiled into the tests, which use `start` and not `main`

#[path = "support/run.rs"]
mod run;

use bytes::Bytes;
use tern_proto::server::MethodFilter;
use tern_proto::{Method, StatusCode};
use tern_tokio::server::{Config, Error, HandlerResult, HttpdErrCode, Request, Server, UriHandler};

/// The largest body `/echo` reads.
const MAX_ECHO: usize = 1024 * 1024;

/// The example's configuration: 9 handlers, 7 sessions, no LRU purge, ESP-IDF's timeouts and
/// limits, exact matching.
pub fn config(port: u16) -> Config {
    Config { server_port: port, max_uri_handlers: 9, max_open_sockets: 7, lru_purge_enable: false, ..Config::default() }
}

/// Starts the server with every handler registered.
pub async fn start(config: Config) -> Result<Server, Error> {
    let server = Server::start(config).await?;
    let hello = |mut req: Request| async move { req.send(b"Hello World!").await };
    server.register_uri_handler(UriHandler::new("/hello/type_html", Method::Get, hello))?;
    server.register_uri_handler(UriHandler::new("/test_header", Method::Get, test_header))?;
    server.register_uri_handler(UriHandler::new("/hello", Method::Get, hello))?;
    server.register_uri_handler(UriHandler::new("/hello/status_500", Method::Get, |mut req: Request| async move {
        req.set_status(StatusCode::INTERNAL_SERVER_ERROR);
        req.send(b"Hello World!").await
    }))?;
    server.register_uri_handler(UriHandler::new("/echo", Method::Post, echo))?;
    server.register_uri_handler(UriHandler::new("/echo", Method::Put, echo))?;
    server.register_uri_handler(UriHandler::new("/leftover_data", Method::Post, leftover_data))?;
    server.register_uri_handler(UriHandler::new("/adder", Method::Post, adder))?;
    server.register_uri_handler(UriHandler::new("/async_data", MethodFilter::One(Method::Get), async_data))?;
    Ok(server)
}

/// `GET /test_header`: checks `Header1: Value1`, `Header3: Value3` and that `Header2` is
/// present, and answers with `Header2`'s value.
async fn test_header(mut req: Request) -> HandlerResult {
    for (name, expected) in [("Header1", "Value1"), ("Header3", "Value3")] {
        let verdict = match req.header(name) {
            None => Some(format!("{name} not found")),
            Some(value) if value != expected.as_bytes() => Some(format!("Wrong value of {name} received")),
            Some(_) => None,
        };
        if let Some(message) = verdict {
            req.send_err(HttpdErrCode::BadRequest, Some(&message)).await?;
            return Err(Error::fail(message));
        }
    }
    let Some(value) = req.header("Header2").map(<[u8]>::to_vec) else {
        req.send_err(HttpdErrCode::BadRequest, Some("Header2 not found")).await?;
        return Err(Error::fail("Header2 not found"));
    };
    req.send(&value).await
}

/// `POST|PUT /echo`: the body back, and `Custom` back when it was sent.
async fn echo(mut req: Request) -> HandlerResult {
    if req.content_len() > MAX_ECHO as u64 {
        req.send_err(HttpdErrCode::InternalServerError, Some("Body too large")).await?;
        return Err(Error::fail("body too large"));
    }
    let body = match req.recv_body(MAX_ECHO).await {
        Ok(body) => body,
        Err(Error::Engine(e)) if e.is_timeout() => {
            req.send_err(HttpdErrCode::RequestTimeout, None).await?;
            return Err(Error::fail("timed out reading the body"));
        }
        Err(Error::BodyTooLarge { .. }) => {
            req.send_err(HttpdErrCode::InternalServerError, Some("Body too large")).await?;
            return Err(Error::fail("body too large"));
        }
        Err(e) => return Err(e),
    };
    if let Some(custom) = req.header_str("Custom").filter(|v| !v.is_empty()).map(str::to_owned) {
        req.set_header("Custom", custom);
    }
    req.send(&body).await
}

/// `POST /leftover_data`: at most 10 bytes of the body, once; the engine discards the rest.
async fn leftover_data(mut req: Request) -> HandlerResult {
    let mut buf = [0u8; 10];
    let n = req.recv(&mut buf).await?;
    req.send(buf.get(..n).unwrap_or_default()).await
}

/// `POST /adder`: adds the body's integer to the session's running sum.
async fn adder(mut req: Request) -> HandlerResult {
    let mut buf = [0u8; 10];
    let n = req.recv(&mut buf).await?;
    let text = std::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or("").trim();
    let value: i64 = text.parse().unwrap_or(0);
    let sum = req.with_sess_ctx_or_insert(
        || 0i64,
        |sum| {
            *sum += value;
            *sum
        },
    );
    let sum = sum.ok_or_else(|| Error::fail("session closed"))?;
    req.send(sum.to_string().as_bytes()).await
}

/// `GET /async_data`: `Hello World!`, then work queued on the server writes a second whole
/// response to the same session.
async fn async_data(mut req: Request) -> HandlerResult {
    req.send(b"Hello World!").await?;
    let id = req.session();
    let server = req.server().ok_or_else(|| Error::fail("no server"))?;
    server.queue_work(move |server| async move {
        let second = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\nHello Double World!";
        let _ = server.session_send(id, Bytes::from_static(second.as_bytes())).await;
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = start(config(run::port_arg(1234))).await?;
    run::serve_until_ctrl_c("advanced_tests", server).await;
    Ok(())
}

//! ESP-IDF's `persistent_sockets` example server on tern-tokio: an integer kept per session
//! (the session context), answering the same on the wire as
//! `examples/protocols/http_server/persistent_sockets`.
//!
//! ```sh
//! cargo run --release -p tern-tokio --example persistent_sockets -- --port 8002
//! # one connection, three requests: the sum lives as long as the connection
//! curl -d 5 http://127.0.0.1:8002/adder -: -d 7 http://127.0.0.1:8002/adder -: http://127.0.0.1:8002/adder
//! ```
#![allow(dead_code)] // also compiled into the tests, which use `start` and not `main`

#[path = "support/run.rs"]
mod run;

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use tern_proto::Method;
use tern_tokio::server::{Config, Error, HandlerResult, HttpdErrCode, Request, Server, UriHandler};

/// Session contexts created so far.
static CREATED: AtomicUsize = AtomicUsize::new(0);
/// Session contexts freed (dropped) so far.
static FREED: AtomicUsize = AtomicUsize::new(0);
/// Requests to `/adder`, `/login` and `/logout` so far: the handlers' shared user context.
static VISITORS: AtomicU32 = AtomicU32::new(0);

/// The session context: one integer. Dropping it is the free hook.
#[derive(Debug)]
struct Adder(i64);

impl Adder {
    fn new(value: i64) -> Adder {
        CREATED.fetch_add(1, Ordering::SeqCst);
        Adder(value)
    }
}

impl Drop for Adder {
    fn drop(&mut self) {
        println!("/adder Free Context function called");
        FREED.fetch_add(1, Ordering::SeqCst);
    }
}

/// How many session contexts were created and how many freed, since the program started.
pub fn ctx_counts() -> (usize, usize) {
    (CREATED.load(Ordering::SeqCst), FREED.load(Ordering::SeqCst))
}

/// The example's configuration: ESP-IDF's defaults.
pub fn config(port: u16) -> Config {
    Config { server_port: port, ..Config::default() }
}

/// Starts the server with every handler registered.
pub async fn start(config: Config) -> Result<Server, Error> {
    let server = Server::start(config).await?;
    server.register_uri_handler(UriHandler::new("/adder", Method::Get, adder_get))?;
    server.register_uri_handler(UriHandler::new("/login", Method::Get, login))?;
    server.register_uri_handler(UriHandler::new("/logout", Method::Get, logout))?;
    server.register_uri_handler(UriHandler::new("/adder", Method::Put, adder_put))?;
    server.register_uri_handler(UriHandler::new("/adder", Method::Post, adder_post))?;
    Ok(server)
}

/// Counts a visit and logs it.
fn visit(uri: &str) {
    let visitors = VISITORS.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
    println!("{uri} visitor count = {visitors}");
}

/// Reads at most 10 bytes of the body and parses them as C's `atoi` does. A read that
/// timed out is answered with 408; any failure closes the session.
async fn read_value(req: &mut Request) -> Result<i64, Error> {
    let mut buf = [0u8; 10];
    match req.recv(&mut buf).await {
        Ok(0) => Err(Error::fail("no body")),
        Ok(n) => Ok(atoi(buf.get(..n).unwrap_or_default())),
        Err(Error::Engine(e)) if e.is_timeout() => {
            req.send_err(HttpdErrCode::RequestTimeout, None).await?;
            Err(Error::fail("timed out reading the body"))
        }
        Err(e) => Err(e),
    }
}

/// C's `atoi`: leading whitespace, an optional sign, then digits up to the first non-digit;
/// 0 when there are none.
fn atoi(text: &[u8]) -> i64 {
    let text = text.trim_ascii_start();
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |acc, b| acc.saturating_mul(10).saturating_add(i64::from(b - b'0')));
    if negative { -value } else { value }
}

/// Runs `f` on the session's integer, created with `initial` first when the session has
/// none (`what` says for the log which handler allocated it).
fn with_adder<R>(req: &Request, initial: i64, what: &str, f: impl FnOnce(&mut i64) -> R) -> Result<R, Error> {
    req.with_sess_ctx_or_insert(
        || {
            println!("{what} allocating new session");
            Adder::new(initial)
        },
        |adder: &mut Adder| f(&mut adder.0),
    )
    .ok_or_else(|| Error::fail("the session is gone"))
}

/// `POST /adder`: adds the body's integer to the session's, answers the sum.
async fn adder_post(mut req: Request) -> HandlerResult {
    visit("/adder");
    let value = read_value(&mut req).await?;
    println!("/adder handler read {value}");
    let sum = with_adder(&req, 0, "/adder", |sum| {
        *sum = sum.wrapping_add(value);
        *sum
    })?;
    req.send(sum.to_string().as_bytes()).await
}

/// `GET /adder`: answers the session's integer (0 for a new session).
async fn adder_get(mut req: Request) -> HandlerResult {
    visit("/adder");
    let value = with_adder(&req, 0, "/adder GET", |value| *value)?;
    println!("/adder GET handler send {value}");
    req.send(value.to_string().as_bytes()).await
}

/// `PUT /adder`: sets the session's integer to the body's, answers `1`.
async fn adder_put(mut req: Request) -> HandlerResult {
    visit("/adder");
    let value = read_value(&mut req).await?;
    println!("/adder PUT handler read {value}");
    with_adder(&req, 0, "/adder PUT", |stored| *stored = value)?;
    req.send(b"1").await
}

/// `GET /login`: gives the session a context (holding 1) when it has none: the session is
/// logged in; answers `1`.
async fn login(mut req: Request) -> HandlerResult {
    visit("/login");
    with_adder(&req, 1, "/login GET", |_| ())?;
    println!("/login GET handler send 1");
    req.send(b"1").await
}

/// `GET /logout`: drops the session's context (its free hook runs now), answers `1`.
async fn logout(mut req: Request) -> HandlerResult {
    println!("Logging out");
    drop(req.take_sess_ctx::<Adder>());
    req.send(b"1").await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = start(config(run::port_arg(8002))).await?;
    run::serve_until_ctrl_c("persistent_sockets", server).await;
    Ok(())
}

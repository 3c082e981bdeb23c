//! The demo's server: a tern-tokio server on a free loopback port with one route per step of
//! the tour, each logging what it answered (`httpd: GET /hello -> 200`).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tern_proto::ws::Opcode;
use tern_proto::{Method, StatusCode};
use tern_tokio::server::{Config, Error, Handler, HandlerResult, HttpdErrCode, Request, Server, UriHandler};

use super::digest::DigestGuard;
use super::log::Log;

/// The log tag of the server's lines.
const TAG: &str = "httpd";

/// The body of `GET /hello`.
pub(crate) const HELLO: &[u8] = b"Hello World!";
/// The chunks `GET /chunks` sends, one `send_chunk` each.
pub(crate) const CHUNKS: [&[u8]; 5] = [b"tern ", b"sends ", b"this ", b"in ", b"chunks"];
/// The credentials both auth routes accept.
pub(crate) const USER: &str = "tern";
/// See [`USER`].
pub(crate) const PASSWORD: &str = "s3cret";
/// The realm of both auth routes.
const REALM: &str = "tern demo";
/// The largest body the echo and upload routes read.
const MAX_BODY: usize = 64 * 1024;

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) log: Arc<Log>,
    digest: DigestGuard,
    /// Sessions accepted so far (the open hook counts them).
    pub(crate) sessions_opened: AtomicU32,
}

/// Starts the server on 127.0.0.1 with a port the system picks, every route registered.
pub(crate) async fn start(log: Arc<Log>) -> Result<(Server, Arc<Shared>), Error> {
    let shared = Arc::new(Shared {
        log,
        digest: DigestGuard::new(REALM, USER, PASSWORD, super::random_u64()),
        sessions_opened: AtomicU32::new(0),
    });
    let (on_open, on_close) = (shared.clone(), shared.clone());
    let config = Config {
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        server_port: 0,
        max_uri_handlers: 12,
        open_fn: Some(Arc::new(move |id, peer| {
            on_open.sessions_opened.fetch_add(1, Ordering::SeqCst);
            on_open.log.info(TAG, format_args!("session {id} opened from {peer}"));
            true
        })),
        close_fn: Some(Arc::new(move |id| on_close.log.info(TAG, format_args!("session {id} closed")))),
        ..Config::default()
    };
    let server = Server::start(config).await?;
    let routes = [
        UriHandler::new("/hello", Method::Get, with(&shared, hello)),
        UriHandler::new("/echo", Method::Post, with(&shared, echo)),
        UriHandler::new("/upload", Method::Post, with(&shared, upload)),
        UriHandler::new("/chunks", Method::Get, with(&shared, chunks)),
        UriHandler::new("/redirect", Method::Get, with(&shared, redirect)),
        UriHandler::new("/basic", Method::Get, with(&shared, basic)),
        UriHandler::new("/digest", Method::Get, with(&shared, digest)),
        UriHandler::new("/ws", Method::Get, with(&shared, ws_echo))
            .websocket(true)
            .post_handshake(with(&shared, ws_opened)),
    ];
    for route in routes {
        server.register_uri_handler(route)?;
    }
    Ok((server, shared))
}

/// A handler that gets the shared state with each request.
fn with<F, Fut>(shared: &Arc<Shared>, f: F) -> impl Handler
where
    F: Fn(Request, Arc<Shared>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let shared = shared.clone();
    move |req| f(req, shared.clone())
}

/// Logs `METHOD TARGET -> STATUS note`, then sends the whole response.
async fn reply(req: &mut Request, log: &Log, status: StatusCode, note: &str, body: &[u8]) -> HandlerResult {
    log_answer(req, log, status, note);
    req.set_status(status);
    req.send(body).await
}

fn log_answer(req: &Request, log: &Log, status: StatusCode, note: &str) {
    let method = req.method().map_or_else(String::new, |m| m.as_str().to_owned());
    let space = if note.is_empty() { "" } else { " " };
    log.info(TAG, format_args!("{method} {} -> {}{space}{note}", req.uri(), status.as_u16()));
}

async fn hello(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    req.set_type("text/plain");
    reply(&mut req, &shared.log, StatusCode::OK, "", HELLO).await
}

/// The body back.
async fn echo(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    let body = match req.recv_body(MAX_BODY).await {
        Ok(body) => body,
        Err(e) => return refuse_body(req, &shared.log, e).await,
    };
    req.set_type("text/plain");
    reply(&mut req, &shared.log, StatusCode::OK, &format!("({} bytes echoed)", body.len()), &body).await
}

/// The body back, after checking it came chunked.
async fn upload(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    let chunked = req.header_str("Transfer-Encoding").is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
    let body = match req.recv_body(MAX_BODY).await {
        Ok(body) => body,
        Err(e) => return refuse_body(req, &shared.log, e).await,
    };
    if !chunked {
        let status = StatusCode::BAD_REQUEST;
        return reply(&mut req, &shared.log, status, "(expected a chunked body)", b"expected a chunked body").await;
    }
    req.set_type("application/octet-stream");
    reply(&mut req, &shared.log, StatusCode::OK, &format!("(chunked body, {} bytes)", body.len()), &body).await
}

async fn refuse_body(mut req: Request, log: &Log, e: Error) -> HandlerResult {
    log.error(
        TAG,
        format_args!("{} {}: cannot read the body: {e}", req.method().map_or("", |m| m.as_str()), req.uri()),
    );
    req.send_err(HttpdErrCode::BadRequest, Some("cannot read the body")).await?;
    Err(e)
}

/// A chunked response, one `send_chunk` per piece.
async fn chunks(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    req.set_type("text/plain");
    log_answer(&req, &shared.log, StatusCode::OK, &format!("({} chunks)", CHUNKS.len()));
    for chunk in CHUNKS {
        req.send_chunk(chunk).await?;
    }
    req.send_chunk(&[]).await
}

/// 302 to `/hello`.
async fn redirect(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    req.set_header("Location", "/hello");
    reply(&mut req, &shared.log, StatusCode::FOUND, "(Location: /hello)", b"moved to /hello").await
}

/// 200 for the right Basic credentials, 401 with a challenge otherwise.
async fn basic(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    let verdict = match req.header_str("Authorization") {
        None => Err("no credentials".to_owned()),
        Some(value) => check_basic(value),
    };
    match verdict {
        Ok(user) => {
            let body = format!("welcome, {user}");
            reply(&mut req, &shared.log, StatusCode::OK, &format!("(Basic, user {user})"), body.as_bytes()).await
        }
        Err(why) => {
            req.set_header("WWW-Authenticate", format!("Basic realm=\"{REALM}\""));
            reply(&mut req, &shared.log, StatusCode::UNAUTHORIZED, &format!("({why})"), b"authentication required")
                .await
        }
    }
}

/// The user of a Basic `Authorization` value carrying the right credentials.
fn check_basic(value: &str) -> Result<String, String> {
    let encoded = match value.trim().split_once(' ') {
        Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("Basic") => encoded,
        _ => return Err("not Basic credentials".to_owned()),
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| "malformed Basic credentials".to_owned())?;
    let decoded = String::from_utf8(decoded).map_err(|_| "malformed Basic credentials".to_owned())?;
    match decoded.split_once(':') {
        Some((user, password)) if user == USER && password == PASSWORD => Ok(user.to_owned()),
        Some((user, _)) => Err(format!("wrong credentials for {user:?}")),
        None => Err("malformed Basic credentials".to_owned()),
    }
}

/// 200 for a Digest answer the guard verifies, 401 with a fresh challenge otherwise.
async fn digest(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    let verdict = match req.header_str("Authorization") {
        None => Err("no credentials".to_owned()),
        Some(value) => {
            let method = req.method().map_or("", |m| m.as_str());
            shared.digest.verify(method, req.uri(), value).map_err(|refusal| format!("refused: {refusal}"))
        }
    };
    match verdict {
        Ok(user) => {
            let body = format!("welcome, {user}");
            let note = format!("(Digest MD5 qop=auth verified, user {user})");
            reply(&mut req, &shared.log, StatusCode::OK, &note, body.as_bytes()).await
        }
        Err(why) => {
            req.set_header("WWW-Authenticate", shared.digest.challenge());
            reply(&mut req, &shared.log, StatusCode::UNAUTHORIZED, &format!("({why})"), b"authentication required")
                .await
        }
    }
}

/// After the handshake of `/ws`.
async fn ws_opened(req: Request, shared: Arc<Shared>) -> HandlerResult {
    log_answer(&req, &shared.log, StatusCode::SWITCHING_PROTOCOLS, &format!("(WebSocket session {})", req.session()));
    Ok(())
}

/// Each data frame of `/ws` back to its sender.
async fn ws_echo(mut req: Request, shared: Arc<Shared>) -> HandlerResult {
    let Some(frame) = req.ws_frame() else {
        return reply(&mut req, &shared.log, StatusCode::BAD_REQUEST, "(not a WebSocket upgrade)", b"WebSocket only")
            .await;
    };
    let payload = req.ws_recv_payload(MAX_BODY).await?;
    let opcode = match frame.opcode {
        Opcode::Text | Opcode::Binary => frame.opcode,
        // Fragmented messages are not part of the demo.
        _ => return Ok(()),
    };
    shared.log.info(TAG, format_args!("ws frame {opcode:?}, {} bytes: echoed", payload.len()));
    req.ws_send(opcode, true, &payload).await
}

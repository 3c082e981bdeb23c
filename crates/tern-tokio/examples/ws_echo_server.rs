//! ESP-IDF's `ws_echo_server` example on tern-tokio: WebSocket echo endpoints answering the
//! same on the wire as `examples/protocols/http_server/ws_echo_server`.
//!
//! - `/ws`: echoes every frame with its opcode (pongs included). A text frame starting with
//!   `Trigger async` queues work that sends text `Async data`; one starting with `Ping`
//!   queues an empty ping. Pings are answered with a pong carrying their payload.
//! - `/ws_partial`: reads each frame in 64-byte pieces and echoes the pieces as a fragmented
//!   message.
//! - `/auth`: `/ws` behind a check that accepts only URIs containing `token=valid`, with a
//!   welcome message sent right after the handshake.
//!
//! ```sh
//! cargo run --release -p tern-tokio --example ws_echo_server -- --port 8003
//! websocat ws://127.0.0.1:8003/ws
//! ```
#![allow(dead_code)] // also compiled into the tests, which use `start` and not `main`

#[path = "support/run.rs"]
mod run;

use bytes::Bytes;
use tern_proto::Method;
use tern_proto::StatusCode;
use tern_proto::ws::Opcode;
use tern_tokio::server::{Config, Error, HandlerResult, Request, Server, UriHandler};

/// The largest frame payload `/ws` and `/auth` read (the engine's default message limit).
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// The piece size `/ws_partial` reads and echoes.
pub const PIECE: usize = 64;
/// What `/auth` sends after its handshake.
pub const WELCOME: &str = "Welcome to the WebSocket Echo Server (post-handshake)!";
/// What a `Trigger async` frame makes the server send.
pub const ASYNC_DATA: &str = "Async data";

/// The example's configuration: ESP-IDF's defaults on `port`.
pub fn config(port: u16) -> Config {
    Config { server_port: port, ..Config::default() }
}

/// Starts the server with `/ws`, `/ws_partial` and `/auth` registered.
pub async fn start(config: Config) -> Result<Server, Error> {
    let server = Server::start(config).await?;
    // The engine drops pongs unless the endpoint takes control frames, and ESP-IDF's echo
    // sends pongs back: so `/ws` and `/auth` take them, and answer pings and closes as the
    // engine would.
    server.register_uri_handler(
        UriHandler::new("/ws", Method::Get, echo).websocket(true).handle_ws_control_frames(true),
    )?;
    server.register_uri_handler(UriHandler::new("/ws_partial", Method::Get, partial).websocket(true))?;
    server.register_uri_handler(
        UriHandler::new("/auth", Method::Get, echo)
            .websocket(true)
            .handle_ws_control_frames(true)
            .pre_handshake(|request| request.uri().contains("token=valid"))
            .post_handshake(
                |mut req: Request| async move { req.ws_send(Opcode::Text, true, WELCOME.as_bytes()).await },
            ),
    )?;
    Ok(server)
}

/// A plain (not upgrading) request to a WebSocket endpoint: 426, naming the protocol.
async fn not_upgraded(mut req: Request) -> HandlerResult {
    req.set_status(StatusCode::UPGRADE_REQUIRED);
    req.set_header("Upgrade", "websocket");
    req.send(b"This is a WebSocket endpoint").await
}

/// `/ws` and `/auth`: one frame.
async fn echo(mut req: Request) -> HandlerResult {
    let Some(frame) = req.ws_frame() else { return not_upgraded(req).await };
    let payload = req.ws_recv_payload(MAX_PAYLOAD).await?;
    match frame.opcode {
        Opcode::Ping => req.ws_send(Opcode::Pong, true, &payload).await,
        Opcode::Close => {
            // The closing handshake: the client's status code back; the engine then ends the
            // session, since nothing may follow a close.
            req.ws_send(Opcode::Close, true, payload.get(..2).unwrap_or_default()).await
        }
        Opcode::Text if payload.starts_with(b"Trigger async") => {
            queue_send(&req, Opcode::Text, Bytes::from_static(ASYNC_DATA.as_bytes()))
        }
        Opcode::Text if payload.starts_with(b"Ping") => queue_send(&req, Opcode::Ping, Bytes::new()),
        opcode => req.ws_send(opcode, frame.fin, &payload).await,
    }
}

/// Queues work on the server that sends one frame to the request's session
/// (`httpd_queue_work` + `httpd_ws_send_frame_async`).
fn queue_send(req: &Request, opcode: Opcode, payload: Bytes) -> HandlerResult {
    let id = req.session();
    let server = req.server().ok_or_else(|| Error::fail("no server"))?;
    server.queue_work(move |server| async move {
        let _ = server.ws_send_async(id, opcode, true, payload).await;
    })
}

/// `/ws_partial`: the frame read in pieces of [`PIECE`] bytes, each echoed at once as a
/// fragment: the first with the frame's opcode, the rest as continuations, the last one
/// final when the frame was.
async fn partial(mut req: Request) -> HandlerResult {
    let Some(frame) = req.ws_frame() else { return not_upgraded(req).await };
    let mut piece = [0u8; PIECE];
    let mut opcode = frame.opcode;
    let mut read = 0u64;
    loop {
        let want = usize::try_from(frame.payload_len.saturating_sub(read)).unwrap_or(PIECE).min(PIECE);
        let mut filled = 0;
        while filled < want {
            let n = req.ws_recv(piece.get_mut(filled..want).unwrap_or_default()).await?;
            if n == 0 {
                return Err(Error::fail("the frame ended early"));
            }
            filled += n;
        }
        read += filled as u64;
        let last = read >= frame.payload_len;
        req.ws_send(opcode, last && frame.fin, piece.get(..filled).unwrap_or_default()).await?;
        if last {
            return Ok(());
        }
        opcode = Opcode::Continuation;
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = start(config(run::port_arg(8003))).await?;
    run::serve_until_ctrl_c("ws_echo_server", server).await;
    Ok(())
}

//! The `ws_echo_server` example over loopback, driven by tungstenite's blocking client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's interface, seen from the test crate
#[path = "../examples/ws_echo_server.rs"]
mod ws_echo_server;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tern_tokio::server::{ClientInfo, Server, ServerHandle};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameSocket};
use tungstenite::protocol::{CloseFrame, WebSocket};
use tungstenite::{Error as WsError, Message};

const TIMEOUT: Duration = Duration::from_secs(5);

async fn server() -> Server {
    ws_echo_server::start(ws_echo_server::config(0)).await.unwrap()
}

fn connect_tcp(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", addr.port())).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// A tungstenite client on `path`, after a 101.
fn connect(addr: SocketAddr, path: &str) -> WebSocket<TcpStream> {
    let url = format!("ws://127.0.0.1:{}{path}", addr.port());
    let (ws, response) = tungstenite::client(url.as_str(), connect_tcp(addr)).unwrap();
    assert_eq!(response.status(), 101);
    ws
}

/// The raw frames of a session on `path`, for asserting fragmentation.
fn connect_frames(addr: SocketAddr, path: &str) -> FrameSocket<TcpStream> {
    FrameSocket::new(connect(addr, path).into_inner())
}

fn masked(mut frame: Frame) -> Frame {
    frame.header_mut().mask = Some([0x37, 0xfa, 0x21, 0x3d]);
    frame
}

fn read_frame(frames: &mut FrameSocket<TcpStream>) -> Frame {
    frames.read(None).unwrap().expect("a frame, not the end of the stream")
}

/// Polls until `done` holds or five seconds pass.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs the blocking client `f` against a fresh server, then stops the server.
async fn with_server(f: impl FnOnce(SocketAddr, ServerHandle) + Send + 'static) {
    let server = server().await;
    let (addr, handle) = (server.local_addr(), server.handle());
    let result = tokio::task::spawn_blocking(move || f(addr, handle)).await;
    server.stop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_binary_echo_and_the_session_is_websocket() {
    with_server(|addr, server| {
        let mut ws = connect(addr, "/ws");
        ws.send(Message::text("Hello tern")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("Hello tern"));
        let binary: Vec<u8> = (0..=255).collect();
        ws.send(Message::binary(binary.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::binary(binary));

        let clients = server.client_list();
        assert_eq!(clients.len(), 1);
        assert_eq!(server.client_info(clients[0]), ClientInfo::WebSocket);
        // A plain HTTP session beside it is not one.
        let mut http = connect_tcp(addr);
        http.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut head = [0u8; 12];
        http.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 426");
        let clients = server.client_list();
        assert_eq!(clients.len(), 2);
        let mut kinds: Vec<ClientInfo> = clients.iter().map(|&id| server.client_info(id)).collect();
        kinds.sort_by_key(|k| *k == ClientInfo::WebSocket);
        assert_eq!(kinds, [ClientInfo::Http, ClientInfo::WebSocket]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragmented_message_comes_back_fragmented() {
    with_server(|addr, _| {
        let mut frames = connect_frames(addr, "/ws");
        frames.send(masked(Frame::message(&b"Hel"[..], OpCode::Data(Data::Text), false))).unwrap();
        frames.send(masked(Frame::message(&b"lo, "[..], OpCode::Data(Data::Continue), false))).unwrap();
        frames.send(masked(Frame::message(&b"tern"[..], OpCode::Data(Data::Continue), true))).unwrap();
        let expected: [(OpCode, bool, &[u8]); 3] = [
            (OpCode::Data(Data::Text), false, b"Hel"),
            (OpCode::Data(Data::Continue), false, b"lo, "),
            (OpCode::Data(Data::Continue), true, b"tern"),
        ];
        for (opcode, fin, payload) in expected {
            let frame = read_frame(&mut frames);
            assert_eq!((frame.header().opcode, frame.header().is_final, frame.payload()), (opcode, fin, payload));
        }
        // And tungstenite's own client sees one message.
        let mut ws = connect(addr, "/ws");
        ws.write(Message::Frame(Frame::message(&b"one "[..], OpCode::Data(Data::Text), false))).unwrap();
        ws.write(Message::Frame(Frame::message(&b"message"[..], OpCode::Data(Data::Continue), true))).unwrap();
        ws.flush().unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("one message"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_partial_echoes_64_byte_fragments() {
    with_server(|addr, _| {
        let mut frames = connect_frames(addr, "/ws_partial");
        let payload: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        frames.send(masked(Frame::message(payload.clone(), OpCode::Data(Data::Binary), true))).unwrap();
        let mut echoed = Vec::new();
        for (i, len) in [64, 64, 64, 64, 44].into_iter().enumerate() {
            let frame = read_frame(&mut frames);
            let opcode = if i == 0 { OpCode::Data(Data::Binary) } else { OpCode::Data(Data::Continue) };
            assert_eq!(frame.header().opcode, opcode, "fragment {i}");
            assert_eq!(frame.header().is_final, i == 4, "fragment {i}");
            assert_eq!(frame.payload().len(), len, "fragment {i}");
            echoed.extend_from_slice(frame.payload());
        }
        assert_eq!(echoed, payload);
        // A short text frame is a single final fragment; the session goes on.
        frames.send(masked(Frame::message(&b"short"[..], OpCode::Data(Data::Text), true))).unwrap();
        let frame = read_frame(&mut frames);
        assert_eq!(frame.header().opcode, OpCode::Data(Data::Text));
        assert!(frame.header().is_final);
        assert_eq!(frame.payload(), b"short");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_async_and_ping_queue_work() {
    with_server(|addr, _| {
        let mut ws = connect(addr, "/ws");
        ws.send(Message::text("Trigger async")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("Async data"));
        ws.send(Message::text("Ping")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::Ping(Default::default()));
        // tungstenite answers that ping with a pong, which the echo sends back.
        assert_eq!(ws.read().unwrap(), Message::Pong(Default::default()));
        // An unsolicited pong is echoed too, with its payload.
        ws.send(Message::Pong("unsolicited".into())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::Pong("unsolicited".into()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ping_gets_a_pong_and_close_is_a_handshake() {
    with_server(|addr, server| {
        for path in ["/ws", "/ws_partial"] {
            let mut ws = connect(addr, path);
            ws.send(Message::Ping("are you there".into())).unwrap();
            assert_eq!(ws.read().unwrap(), Message::Pong("are you there".into()), "{path}");
            ws.close(Some(CloseFrame { code: CloseCode::Away, reason: "bye".into() })).unwrap();
            match ws.read().unwrap() {
                Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Away, "{path}"),
                other => panic!("{path}: expected the server's close, got {other:?}"),
            }
            match ws.read() {
                Err(WsError::ConnectionClosed) => {}
                other => panic!("{path}: expected the end of the session, got {other:?}"),
            }
            // The server ends the session: the socket reaches EOF and the session is gone.
            let mut stream = ws.into_inner();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).unwrap();
            assert!(rest.is_empty(), "{path}: bytes after the close: {rest:?}");
            wait_until("the session to close", || server.client_list().is_empty());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_refuses_without_the_token_and_welcomes_with_it() {
    with_server(|addr, _| {
        for target in ["/auth", "/auth?token=invalid"] {
            let mut stream = connect_tcp(addr);
            let request = format!(
                "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).unwrap();
            assert!(
                answer.is_empty(),
                "{target}: expected a close without an answer, got {:?}",
                String::from_utf8_lossy(&answer)
            );
        }
        let url = format!("ws://127.0.0.1:{}/auth", addr.port());
        assert!(tungstenite::client(url.as_str(), connect_tcp(addr)).is_err());

        let mut ws = connect(addr, "/auth?token=valid");
        assert_eq!(ws.read().unwrap(), Message::text(ws_echo_server::WELCOME));
        ws.send(Message::text("echo me")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("echo me"));
        ws.send(Message::text("Trigger async")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("Async data"));
    })
    .await;
}

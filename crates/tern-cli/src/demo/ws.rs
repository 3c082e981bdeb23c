//! A small blocking WebSocket client over `std::net::TcpStream`, made of tern_proto::ws's
//! pieces: the client handshake ([`ClientKey`], [`write_client_request`], [`check_response`]),
//! masked frames from [`encode_frame`] and a [`FrameReceiver`] for the server's frames.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tern_proto::StatusCode;
use tern_proto::ws::handshake::{ClientKey, check_response, client_request_len, write_client_request};
use tern_proto::ws::{CloseCode, ControlPayload, FrameReceiver, Opcode, Received, Role, encode_frame, frame_len};

use super::log::Log;

/// The log tag of the client's lines, as ESP-IDF's `esp_websocket_client` example.
const TAG: &str = "WEBSOCKET";
/// Longest response head read.
const MAX_HEAD: usize = 8 * 1024;
/// Longest message accepted.
const MAX_MESSAGE: u64 = 64 * 1024;

/// A message from the server.
#[derive(Debug)]
enum Message {
    /// A whole text or binary message.
    Data(Opcode, Vec<u8>),
    /// A close frame: its code, if it had one.
    Close(Option<u16>),
}

/// An open WebSocket connection.
struct Connection {
    stream: TcpStream,
    rx: FrameReceiver,
    /// Bytes read and not yet decoded start at `start`.
    buf: Vec<u8>,
    start: usize,
}

/// Connects to `addr`, opens a WebSocket on `path`, sends `text`, checks the echo, then
/// closes with 1000 and waits for the server's close. The summary on success.
pub(crate) fn echo(addr: SocketAddr, path: &str, text: &str, log: &Log) -> Result<String, String> {
    let mut conn = Connection::open(addr, path)?;
    log.info(TAG, "WEBSOCKET_EVENT_CONNECTED");
    conn.send(Opcode::Text, text.as_bytes())?;
    log.info(TAG, format_args!("sent text frame: {text:?}"));
    let echoed = match conn.next_message()? {
        Message::Data(opcode, payload) => {
            let shown = String::from_utf8_lossy(&payload).into_owned();
            log.info(
                TAG,
                format_args!("WEBSOCKET_EVENT_DATA, opcode={}, len={}: {shown:?}", opcode.bits(), payload.len()),
            );
            if opcode != Opcode::Text || payload != text.as_bytes() {
                return Err(format!("sent text {text:?}, got {opcode:?} {shown:?}"));
            }
            shown
        }
        Message::Close(code) => return Err(format!("the server closed ({code:?}) instead of echoing")),
    };
    let close = ControlPayload::close(CloseCode(1000), "bye").map_err(|e| e.to_string())?;
    conn.send(Opcode::Close, close.as_bytes())?;
    match conn.next_message()? {
        Message::Close(Some(1000)) => log.info(TAG, "WEBSOCKET_EVENT_CLOSED, code=1000"),
        other => return Err(format!("the server answered our close with {other:?}")),
    }
    Ok(format!("text {echoed:?} echoed, close 1000 answered"))
}

impl Connection {
    /// The opening handshake.
    fn open(addr: SocketAddr, path: &str) -> Result<Connection, String> {
        let failed = |e: std::io::Error| format!("WebSocket connection to {addr}: {e}");
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(failed)?;
        stream.set_read_timeout(Some(Duration::from_secs(3))).map_err(failed)?;
        let _ = stream.set_nodelay(true);
        let nonce = (u128::from(super::random_u64()) << 64 | u128::from(super::random_u64())).to_le_bytes();
        let key = ClientKey::from_nonce(nonce);
        let host = addr.to_string();
        let mut request = vec![0u8; client_request_len(&host, path, &[])];
        let n = write_client_request(&host, path, &key, &[], &mut request).map_err(|e| e.to_string())?;
        stream.write_all(request.get(..n).unwrap_or_default()).map_err(failed)?;

        let mut buf = Vec::new();
        let head_len = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if buf.len() > MAX_HEAD {
                return Err("the handshake response head is too long".to_owned());
            }
            let mut piece = [0u8; 1024];
            match stream.read(&mut piece).map_err(failed)? {
                0 => return Err("the server closed during the handshake".to_owned()),
                n => buf.extend_from_slice(piece.get(..n).unwrap_or_default()),
            }
        };
        let head = buf.get(..head_len).unwrap_or_default();
        let status = status_of(head).ok_or("the handshake response has no status line")?;
        check_response(status, head, &key, &[]).map_err(|e| format!("handshake refused: {e}"))?;
        Ok(Connection { stream, rx: FrameReceiver::new(Role::Client, MAX_MESSAGE), buf, start: head_len })
    }

    /// Sends one whole frame, masked with a fresh key.
    fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), String> {
        let [a, b, c, d, ..] = super::random_u64().to_le_bytes();
        let mask = [a, b, c, d];
        let mut frame = vec![0u8; frame_len(payload.len(), true)];
        let n = encode_frame(opcode, true, Some(mask), payload, &mut frame).map_err(|e| e.to_string())?;
        self.stream.write_all(frame.get(..n).unwrap_or_default()).map_err(|e| format!("WebSocket send: {e}"))
    }

    /// The next whole message or close frame; pings and pongs are skipped.
    fn next_message(&mut self) -> Result<Message, String> {
        // A control frame may come between the frames of a message: its payload is kept apart.
        let (mut payload, mut control) = (Vec::new(), Vec::new());
        loop {
            let input = self.buf.get_mut(self.start..).unwrap_or_default();
            let (n, event) = self.rx.decode(input).map_err(|e| format!("bad frame from the server: {e}"))?;
            let done = match event {
                Received::NeedMore => {
                    // Everything given was consumed.
                    self.buf.clear();
                    self.start = 0;
                    let mut piece = [0u8; 4096];
                    match self.stream.read(&mut piece).map_err(|e| format!("WebSocket receive: {e}"))? {
                        0 => return Err("the server closed the connection".to_owned()),
                        n => self.buf.extend_from_slice(piece.get(..n).unwrap_or_default()),
                    }
                    continue;
                }
                Received::Frame(_) => None,
                Received::Payload(piece) => {
                    let into =
                        if self.rx.frame().is_some_and(|f| f.is_control()) { &mut control } else { &mut payload };
                    into.extend_from_slice(piece);
                    None
                }
                Received::FrameEnd(info) => match info.opcode {
                    Opcode::Close => Some(Message::Close(close_code(&control))),
                    Opcode::Ping | Opcode::Pong => {
                        control.clear();
                        None
                    }
                    _ if info.ends_message() => Some(Message::Data(info.message, std::mem::take(&mut payload))),
                    _ => None,
                },
                Received::Closed => return Err("the server had already closed".to_owned()),
            };
            self.start += n;
            if let Some(message) = done {
                return Ok(message);
            }
        }
    }
}

/// The status code of a response head.
fn status_of(head: &[u8]) -> Option<StatusCode> {
    let line = head.split(|&b| b == b'\n').next()?;
    let code = line.split(|&b| b == b' ').nth(1)?;
    StatusCode::new(std::str::from_utf8(code).ok()?.parse().ok()?).ok()
}

/// The code of a close frame's payload.
fn close_code(payload: &[u8]) -> Option<u16> {
    match payload {
        [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

//! WebSocket sessions: the handshake that turns a request into one, then frames in and out.
//!
//! After a 101 the connection reads frames with a [`FrameReceiver`] into its body window,
//! unmasked in place. Pings are answered with pongs and a close with a close (the control
//! payload is collected at the tail of the transmit buffer, so no state grows); pongs are
//! dropped; data frames go to the route's handler as [`Completion::Frame`], whose payload it
//! reads with `read_body` in pieces of any size (ESP-IDF's `httpd_ws_recv_frame_part`). With
//! `handle_ws_control_frames` every frame goes to the handler. A frame that breaks RFC 6455
//! closes the session with a close frame carrying the rule's status code.
//!
//! [`Completion::Frame`]: super::Completion::Frame

use super::drive::{Done, Next};
use super::engine::{Codec, Connection, Op, Phase, Resp, WsSession};
use super::error::ServerError;
use crate::error::LocalError;
use crate::server::event::{ServerEventKind, report};
use crate::status::StatusCode;
use crate::version::Version;
use crate::write::HeadWriter;
use crate::ws::{
    CloseCode, FrameHeader, FrameReceiver, HandshakeError, MAX_CONTROL_PAYLOAD, Opcode, Received, Role,
    write_close_payload,
};

/// Bytes at the tail of the transmit buffer where a control frame's payload is collected.
const CONTROL_TAIL: usize = MAX_CONTROL_PAYLOAD;

impl<B: AsMut<[u8]> + AsRef<[u8]>> Connection<B> {
    /// Sends a WebSocket frame (`httpd_ws_send_frame`, and `httpd_ws_send_frame_async` when
    /// called between frames from the adapter's control path). The payload is not copied:
    /// keep it until [`Completion::Sent`](super::Completion::Sent). `fin = false` starts or
    /// continues a fragmented message (continue it with [`Opcode::Continuation`]).
    pub fn ws_send(&mut self, opcode: Opcode, fin: bool, payload: &[u8]) -> Result<(), ServerError> {
        self.check_ws_send()?;
        let header = FrameHeader::new(opcode, payload.len() as u64).with_fin(fin);
        let bytes = header.to_bytes().map_err(|_| ServerError::InvalidState { operation: "ws_send: invalid frame" })?;
        self.reserve_ws(bytes.as_bytes().len())?;
        self.put_out(bytes.as_bytes());
        self.body_len = payload.len();
        self.body_pos = 0;
        self.start_ws_send();
        Ok(())
    }

    /// Starts the closing handshake with `code` and a reason of at most 123 bytes: the close
    /// frame goes out, and the session ends when the client's close arrives (or after
    /// `recv_wait_timeout`).
    pub fn ws_close(&mut self, code: CloseCode, reason: &str) -> Result<(), ServerError> {
        self.check_ws_send()?;
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let n = write_close_payload(code, reason, &mut payload)
            .map_err(|_| ServerError::InvalidState { operation: "ws_close: invalid code or reason" })?;
        self.queue_control(Opcode::Close, payload.get(..n).unwrap_or_default())?;
        if let Codec::WebSocket(ws) = &mut self.current.codec {
            ws.close_sent = true;
        }
        self.recv_deadline = None;
        self.start_ws_send();
        Ok(())
    }

    /// True while the session speaks WebSocket.
    pub fn is_websocket(&self) -> bool {
        self.phase == Phase::WebSocket
    }

    fn check_ws_send(&self) -> Result<(), ServerError> {
        match (self.phase, self.op) {
            (Phase::WebSocket, Op::Handler | Op::Serve) if self.body_pos >= self.body_len => {
                if matches!(&self.current.codec, Codec::WebSocket(ws) if ws.close_sent) {
                    return Err(ServerError::InvalidState { operation: "ws_send after ws_close" });
                }
                Ok(())
            }
            (Phase::Closing | Phase::Closed, _) => Err(self.failure.unwrap_or(ServerError::ConnectionClosed)),
            _ => Err(ServerError::InvalidState { operation: "ws_send outside a WebSocket session" }),
        }
    }

    fn start_ws_send(&mut self) {
        self.after_send = if self.op == Op::Handler { Op::Handler } else { Op::Serve };
        self.op = Op::Send;
        self.op_sent = 0;
    }

    /// Room in the transmit buffer for WebSocket output, the control tail kept free.
    fn reserve_ws(&self, needed: usize) -> Result<(), ServerError> {
        let available = self.config.tx_buffer_size.saturating_sub(CONTROL_TAIL).saturating_sub(self.out_end);
        if needed > available {
            Err(ServerError::Response(LocalError::BufferTooSmall { needed, available }))
        } else {
            Ok(())
        }
    }

    /// Queues a whole control frame.
    fn queue_control(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), ServerError> {
        let header = FrameHeader::new(opcode, payload.len() as u64);
        let bytes = header.to_bytes().map_err(|_| ServerError::InvalidState { operation: "control frame" })?;
        self.reserve_ws(bytes.as_bytes().len() + payload.len())?;
        self.put_out(bytes.as_bytes());
        self.put_out(payload);
        Ok(())
    }

    /// Queues a control frame whose payload was collected at the transmit buffer's tail.
    fn queue_collected(&mut self, opcode: Opcode, len: usize) {
        let tail = self.config.tx_buffer_size.saturating_sub(CONTROL_TAIL);
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let (_, tx) = self.split();
        let len = len.min(MAX_CONTROL_PAYLOAD);
        if let (Some(dst), Some(src)) = (payload.get_mut(..len), tx.get(tail..tail + len)) {
            dst.copy_from_slice(src);
        }
        // The transmit buffer is empty when frames are decoded, so this always fits.
        let _ = self.queue_control(opcode, payload.get(..len).unwrap_or_default());
    }

    /// The receive deadline of a WebSocket session: none between frames (ESP-IDF has none),
    /// `recv_wait_timeout` inside a frame or while waiting for the client's close.
    pub(crate) fn ws_wait(&self) -> Option<u32> {
        match &self.current.codec {
            Codec::WebSocket(ws) if ws.close_sent || ws.receiver.frame().is_some() => {
                Some(self.config.recv_wait_timeout_ms)
            }
            Codec::WebSocket(ws) if ws.receiver.payload_remaining() > 0 => Some(self.config.recv_wait_timeout_ms),
            _ => self.config.ws_idle_timeout_ms,
        }
    }

    /// Answers the current request's handshake: 101 and a WebSocket session, or the refusal.
    pub(crate) fn open_websocket(&mut self, protocols: &[&str], handle_control: bool) -> Result<(), HandshakeError> {
        let (accept, protocol) = {
            let Some(request) = self.request() else {
                return Err(HandshakeError::MethodNotGet);
            };
            let handshake = crate::ws::handshake::validate(&request.method(), request.version(), request.raw_head())?;
            let mut accept = [0u8; 28];
            accept.copy_from_slice(handshake.accept().as_bytes().get(..28).unwrap_or(&[0; 28]));
            (accept, handshake.select_protocol(protocols))
        };
        if !self.current.body_done {
            // A handshake has no body; one would be read as frames.
            return Err(HandshakeError::MethodNotGet);
        }
        let at = self.out_end;
        let (_, tx) = self.split();
        let mut w = HeadWriter::new(tx.get_mut(at..).unwrap_or_default());
        let written = w
            .status_line(Version::Http11, StatusCode::SWITCHING_PROTOCOLS, "Switching Protocols")
            .and_then(|()| w.field("Upgrade", b"websocket"))
            .and_then(|()| w.field("Connection", b"Upgrade"))
            .and_then(|()| w.field("Sec-WebSocket-Accept", &accept))
            .and_then(|()| protocol.map_or(Ok(()), |p| w.field("Sec-WebSocket-Protocol", p.as_bytes())))
            .and_then(|()| w.finish());
        let Ok(n) = written else {
            return Err(HandshakeError::InvalidKey);
        };
        self.out_end = at + n;
        report(Some(self.id), ServerEventKind::HeadersSent);
        self.resp = Resp::Complete;
        self.phase = Phase::WebSocket;
        self.op = Op::Serve;
        self.recv_deadline = None;
        self.data = (self.pos, self.pos);
        self.current.codec = Codec::WebSocket(WsSession {
            receiver: FrameReceiver::new(Role::Server, self.config.ws_max_message_len),
            handle_control,
            collecting: None,
            control_len: 0,
            to_handler: false,
            close_sent: false,
        });
        Ok(())
    }

    /// Refuses a handshake: 400, or 426 with `Sec-WebSocket-Version: 13`; then close.
    pub(crate) fn refuse_websocket(&mut self, error: HandshakeError) {
        let field = error.response_field();
        let value = field.map(|f| core::str::from_utf8(f.value).unwrap_or_default()).unwrap_or_default();
        let headers = [(field.map_or("", |f| f.name), value)];
        let response = super::Response {
            status: error.status(),
            reason: None,
            content_type: "text/html",
            headers: if field.is_some() { &headers } else { &[] },
        };
        let body: &[u8] = if field.is_some() { b"Upgrade Required" } else { b"Bad request syntax" };
        self.close_after = true;
        if self.send_raw(&response, body).is_err() {
            self.clear_output();
        }
        self.close_now();
    }

    /// Reads frames between handler calls: control frames answered, data frames handed out.
    pub(crate) fn step_ws(&mut self) -> Next {
        loop {
            let (pos, end, rx_size) = (self.pos, self.end, self.rx_size);
            let Codec::WebSocket(ws) = &mut self.current.codec else {
                self.close_now();
                return Next::Continue;
            };
            let rx = self.buf.as_mut().get_mut(..rx_size).unwrap_or_default();
            let input = rx.get_mut(pos..end).unwrap_or_default();
            let decoded = ws.receiver.decode(input).map(|(n, event)| {
                let event = match event {
                    Received::Frame(info) => Step::Frame(info),
                    Received::Payload(p) => Step::Payload(p.len()),
                    Received::FrameEnd(info) => Step::FrameEnd(info),
                    Received::NeedMore => Step::NeedMore,
                    Received::Closed => Step::Closed,
                };
                (n, event)
            });
            let (n, event) = match decoded {
                Ok(done) => done,
                Err(e) => {
                    self.fail_websocket(e.close_code());
                    return Next::Continue;
                }
            };
            self.pos += n;
            let Codec::WebSocket(ws) = &mut self.current.codec else { return Next::Continue };
            match event {
                Step::Frame(info) if info.is_control() && !ws.handle_control => {
                    ws.collecting = Some(info.opcode);
                    ws.control_len = 0;
                }
                Step::Frame(info) => {
                    ws.to_handler = true;
                    self.data = (self.pos, self.pos);
                    self.op = Op::Handler;
                    return Next::Done(Ok(Done::Frame(info)));
                }
                Step::Payload(len) => {
                    if ws.collecting.is_some() {
                        let at = usize::from(ws.control_len);
                        ws.control_len = (at + len).min(CONTROL_TAIL) as u8;
                        let tail = self.config.tx_buffer_size.saturating_sub(CONTROL_TAIL) + at;
                        let (rx, tx) = self.split();
                        if let (Some(src), Some(dst)) = (rx.get(pos..pos + len), tx.get_mut(tail..tail + len)) {
                            dst.copy_from_slice(src);
                        }
                    }
                    // Otherwise: the rest of a frame its handler did not read, dropped.
                }
                Step::FrameEnd(info) => {
                    let collected = ws.collecting.take();
                    let len = usize::from(ws.control_len);
                    let close_sent = ws.close_sent;
                    ws.to_handler = false;
                    match collected {
                        Some(Opcode::Ping) if !close_sent => self.queue_collected(Opcode::Pong, len),
                        Some(Opcode::Close) => {
                            // Echo the status code (RFC 6455 section 5.5.1), unless this
                            // answers our own close.
                            if !close_sent {
                                self.queue_collected(Opcode::Close, len.min(2));
                            }
                            self.close_now();
                            return Next::Continue;
                        }
                        _ if info.opcode == Opcode::Close => {
                            self.close_now();
                            return Next::Continue;
                        }
                        _ => {}
                    }
                    if self.out_pending() {
                        return Next::Continue;
                    }
                }
                Step::NeedMore => {
                    if self.peer_eof {
                        self.close_now();
                        return Next::Continue;
                    }
                    return match self.make_room() {
                        Ok(()) => Next::Receive,
                        Err(_) => {
                            self.close_now();
                            Next::Continue
                        }
                    };
                }
                Step::Closed => {
                    self.close_now();
                    return Next::Continue;
                }
            }
        }
    }

    /// `read_body` on a WebSocket session: the current frame's payload.
    pub(crate) fn step_ws_read(&mut self) -> Next {
        if self.data.0 < self.data.1 {
            self.op = Op::Handler;
            return Next::Done(Ok(Done::Data));
        }
        if let Some(failure) = self.failure.take() {
            // The frame's payload stopped coming for recv_wait_timeout.
            self.op = Op::Handler;
            self.close_now();
            return Next::Done(Err(failure));
        }
        let (pos, end, rx_size) = (self.pos, self.end, self.rx_size);
        let Codec::WebSocket(ws) = &mut self.current.codec else {
            self.op = Op::Handler;
            return Next::Done(Ok(Done::EndOfBody));
        };
        if !ws.to_handler {
            self.op = Op::Handler;
            return Next::Done(Ok(Done::EndOfBody));
        }
        let rx = self.buf.as_mut().get_mut(..rx_size).unwrap_or_default();
        let input = rx.get_mut(pos..end).unwrap_or_default();
        match ws.receiver.decode(input) {
            Ok((n, Received::Payload(p))) => {
                let len = p.len();
                self.pos += n;
                self.data = (pos, pos + len);
                self.op = Op::Handler;
                report(Some(self.id), ServerEventKind::OnData { len });
                Next::Done(Ok(Done::Data))
            }
            Ok((n, Received::FrameEnd(_) | Received::Closed)) => {
                self.pos += n;
                ws.to_handler = false;
                self.op = Op::Handler;
                Next::Done(Ok(Done::EndOfBody))
            }
            Ok((n, _)) => {
                self.pos += n;
                if self.peer_eof {
                    self.op = Op::Handler;
                    return Next::Done(Err(ServerError::ConnectionClosed));
                }
                match self.make_room() {
                    Ok(()) => Next::Receive,
                    Err(e) => {
                        self.op = Op::Handler;
                        Next::Done(Err(e))
                    }
                }
            }
            Err(e) => {
                self.op = Op::Handler;
                self.fail_websocket(e.close_code());
                Next::Done(Err(ServerError::WebSocket(e)))
            }
        }
    }

    /// Ends a frame's handler: the rest of its payload is dropped as it arrives.
    pub(crate) fn finish_frame(&mut self, outcome: super::HandlerOutcome) -> Result<(), ServerError> {
        if self.body_pos < self.body_len {
            return Err(ServerError::InvalidState { operation: "finish before the last send completed" });
        }
        self.op = Op::Serve;
        self.data = (self.pos, self.pos);
        if outcome == super::HandlerOutcome::Fail {
            self.close_now();
        }
        Ok(())
    }

    /// The client broke a frame rule: a close frame with the rule's code, then close.
    fn fail_websocket(&mut self, code: CloseCode) {
        let mut payload = [0u8; 2];
        let payload: &[u8] = match write_close_payload(code, "", &mut payload) {
            Ok(n) => payload.get(..n).unwrap_or_default(),
            Err(_) => &[],
        };
        self.clear_output();
        let _ = self.queue_control(Opcode::Close, payload);
        self.close_now();
    }
}

/// A decoder event without its borrow.
enum Step {
    Frame(crate::ws::FrameInfo),
    Payload(usize),
    FrameEnd(crate::ws::FrameInfo),
    NeedMore,
    Closed,
}

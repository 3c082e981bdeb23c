//! WebSocket (RFC 6455): frames, the receive rules, the closing payload and the opening
//! handshake, as sans-IO pieces for the server engine (ESP-IDF's `httpd_ws_*`) and a client.
//!
//! This module owns everything about a WebSocket connection's bytes once it is one, and the
//! checks that make it one. It reads frames without buffering them — a [`FrameReceiver`] is a
//! few dozen bytes of state that unmasks payload in place in the caller's receive buffer — and
//! writes them without copying ([`FrameHeader::to_bytes`] ahead of a payload that stays put)
//! or copying once ([`encode_frame`]). It does not own sockets, timers, the choice of what to
//! do with a message, nor the decision to close: the engine answers pings, echoes closes and
//! hands data to handlers, using what this module tells it. No extension is negotiated, so
//! RSV bits are always refused.
//!
//! - frames: [`Opcode`], [`FrameHeader`] parsed and emitted, [`encode_frame`],
//!   [`apply_mask`];
//! - [`FrameReceiver`]: the incremental decoder and every receive rule, each failing with a
//!   [`WsError`] that carries the [`CloseCode`] to fail the connection with;
//! - [`ControlPayload`]: a control frame's payload collected whole, for the pong answering a
//!   ping and the close frame's code and reason;
//! - [`CloseCode`], [`write_close_payload`] and [`parse_close_payload`];
//! - [`handshake`]: the opening handshake for a server ([`handshake::validate`], 400/426
//!   refusals, subprotocol choice, the 101 response) and a client.
//!
//! A frame on the wire (section 5.2):
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |   (16 bits if len = 126,      |
//! |N|V|V|V|       |S|             |    64 bits if len = 127)      |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     ...extended payload length, continued (64-bit form)       |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               | Masking key (if MASK set)     |
//! +-------------------------------+-------------------------------+
//! | Masking key, continued        |          Payload data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! The receive states of a [`FrameReceiver`], one byte at a time through the header, a slice
//! at a time through the payload:
//!
//! ```text
//!   +-> [Byte0] ---> [Byte1] ---+-----------------------------+
//!   |   FIN RSV      MASK len7  | len7 = 126 or 127           | len7 <= 125
//!   |   opcode                  v                             |
//!   |                     [ExtLen 2|8] -----------------------+
//!   |                                                         | MASK set
//!   |                                                         +-----> [Mask 4] --+
//!   |                                                         | no MASK          |
//!   |                                                         v                  |
//!   |                                           Frame event <--------------------+
//!   |                                                         |
//!   |                                                         v
//!   |                                     [Payload] -> Payload events (none if empty)
//!   |                                                         |
//!   |                                                         v
//!   |                                         [End] -> FrameEnd event
//!   |                                                         |
//!   +----------------------- data, ping, pong ----------------+--- close ---> [Closed]
//!                                                                             (sticky)
//!   any rule broken, at the byte that proves it ---> [Failed(WsError)] (sticky)
//! ```
//!
//! How an engine drives a session (a sketch: buffers and sends simplified):
//!
//! ```
//! use tern_proto::ws::{encode_frame, ControlPayload, FrameReceiver, Opcode, Received, Role};
//!
//! // A client's masked ping "hi", then a masked close 1000.
//! let mut rx_buf = [0x89, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2, 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8];
//! let mut rx = FrameReceiver::new(Role::Server, 16 * 1024);
//! let mut control = ControlPayload::new();
//! let mut tx = [0u8; 256];
//! let mut tx_len = 0;
//! let mut start = 0;
//! loop {
//!     let (n, event) = match rx.decode(&mut rx_buf[start..]) {
//!         Ok(r) => r,
//!         Err(e) => {
//!             // Fail the connection: close with e.close_code(), then shut the socket.
//!             let payload = ControlPayload::close(e.close_code(), "")?;
//!             tx_len += encode_frame(Opcode::Close, true, None, payload.as_bytes(), &mut tx[tx_len..])?;
//!             break;
//!         }
//!     };
//!     start += n;
//!     match event {
//!         Received::Frame(info) if info.is_control() => control.clear(),
//!         Received::Frame(_) => { /* a data frame: tell the handler (type, FIN, length) */ }
//!         Received::Payload(piece) if rx.frame().is_some_and(|f| f.is_control()) => control.extend(piece)?,
//!         Received::Payload(_piece) => { /* hand the piece to the handler */ }
//!         Received::FrameEnd(info) => match info.opcode {
//!             Opcode::Ping => tx_len += encode_frame(Opcode::Pong, true, None, control.as_bytes(), &mut tx[tx_len..])?,
//!             Opcode::Close => tx_len += encode_frame(Opcode::Close, true, None, control.as_bytes(), &mut tx[tx_len..])?,
//!             _ => {}
//!         },
//!         Received::NeedMore => break, // read more
//!         Received::Closed => break,   // close the socket once the close echo is sent
//!     }
//! }
//! assert_eq!(&tx[..tx_len], b"\x8a\x02hi\x88\x02\x03\xe8");
//! # Ok::<(), tern_proto::ws::EncodeError>(())
//! ```

mod close;
mod control;
mod error;
mod frame;
pub mod handshake;
mod mask;
mod receiver;
mod utf8;

pub use close::{CloseCode, MAX_CLOSE_REASON_LEN, close_payload_len, parse_close_payload, write_close_payload};
pub use control::ControlPayload;
pub use error::{AcceptError, EncodeError, FrameError, HandshakeError, WsError};
pub use frame::{FrameHeader, HeaderBytes, MAX_CONTROL_PAYLOAD, Opcode, encode_frame, frame_len};
pub use handshake::{Handshake, accept_key};
pub use mask::apply_mask;
pub use receiver::{FrameInfo, FrameReceiver, Received, Role};

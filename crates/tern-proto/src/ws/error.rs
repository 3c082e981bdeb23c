//! WebSocket errors, split by who broke the rules, like the crate's
//! [`RemoteError`](crate::RemoteError) / [`LocalError`](crate::LocalError).
//!
//! - The **peer** broke RFC 6455 in a frame: [`FrameError`] (a header that cannot be read) and
//!   [`WsError`] (every receive rule). Each carries the [`CloseCode`] to send in the close frame
//!   that fails the connection ([`WsError::close_code`]).
//! - The **local** caller asked for a frame that must not be sent, or gave a buffer too small:
//!   [`EncodeError`]. Nothing is written then.
//! - The **client** of an opening handshake sent a request a server must refuse:
//!   [`HandshakeError`], with the status to answer with ([`HandshakeError::status`]).
//! - The **server** of an opening handshake answered with a response a client must refuse:
//!   [`AcceptError`].

use crate::field::Field;
use crate::status::StatusCode;
use crate::ws::close::CloseCode;
use crate::ws::frame::Opcode;

/// A frame header that cannot be read at all (RFC 6455 section 5.2). The peer is at fault; the
/// answer is a close frame with [`CloseCode::PROTOCOL_ERROR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// An opcode RFC 6455 reserves (0x3 to 0x7, 0xB to 0xF).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A 64-bit payload length with its most significant bit set.
    #[error("64-bit payload length with the most significant bit set")]
    LengthOverflow,
    /// A payload length in more bytes than needed: the 16-bit form for less than 126 bytes,
    /// or the 64-bit form for less than 65536 (section 5.2: "the minimal number of bytes MUST
    /// be used").
    #[error("payload length not in its minimal encoding")]
    NonMinimalLength,
}

impl FrameError {
    /// The close code to send: always [`CloseCode::PROTOCOL_ERROR`] (1002).
    pub const fn close_code(&self) -> CloseCode {
        CloseCode::PROTOCOL_ERROR
    }
}

/// The peer broke a receive rule of RFC 6455 or the configured message limit.
///
/// The answer is to fail the WebSocket connection (section 7.1.7): send a close frame with
/// [`WsError::close_code`], then close the TCP connection. A
/// [`FrameReceiver`](crate::ws::FrameReceiver) that returned an error returns it again on
/// every later call.
///
/// ```
/// use tern_proto::ws::{CloseCode, WsError};
/// assert_eq!(WsError::UnmaskedFrame.close_code(), CloseCode::PROTOCOL_ERROR);
/// assert_eq!(WsError::InvalidUtf8.close_code(), CloseCode::INVALID_PAYLOAD);
/// assert_eq!(WsError::MessageTooLong { max: 4096 }.close_code(), CloseCode::MESSAGE_TOO_BIG);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The frame header cannot be read.
    #[error("frame header: {0}")]
    Frame(#[from] FrameError),
    /// RSV1, RSV2 or RSV3 set (bits 0b100, 0b010, 0b001 of the value) without an extension
    /// that gives them a meaning; tern negotiates no extension.
    #[error("reserved bits {0:#05b} set without an extension")]
    ReservedBits(u8),
    /// A client sent an unmasked frame to a server (section 5.1).
    #[error("unmasked frame from a client")]
    UnmaskedFrame,
    /// A server sent a masked frame to a client (section 5.1).
    #[error("masked frame from a server")]
    MaskedFrame,
    /// A control frame without FIN (section 5.5: control frames are not fragmented).
    #[error("fragmented {0:?} frame")]
    FragmentedControl(Opcode),
    /// A control frame with a payload over 125 bytes (section 5.5).
    #[error("{0:?} frame with a payload over 125 bytes")]
    ControlTooLong(Opcode),
    /// A continuation frame when no fragmented message is open (section 5.4).
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message is still open (section 5.4).
    #[error("new data frame before the fragmented message was finished")]
    UnfinishedMessage,
    /// A message (the sum of its fragments) longer than the configured maximum.
    #[error("message longer than the limit of {max} bytes")]
    MessageTooLong {
        /// The configured maximum (`max_message_len`).
        max: u64,
    },
    /// A text message that is not UTF-8 (section 8.1), found as soon as the bytes prove it or
    /// at the end of the message.
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    /// A close frame with a 1-byte payload: a status code needs two (section 5.5.1).
    #[error("close frame payload of one byte")]
    ClosePayloadTooShort,
    /// A close frame with a status code a peer may not send (section 7.4).
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
    /// A close frame whose reason is not UTF-8 (section 5.5.1).
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,
}

impl WsError {
    /// The close code to send when failing the connection for this error: 1007 for invalid
    /// UTF-8, 1009 for a message over the limit, 1002 for everything else.
    pub const fn close_code(&self) -> CloseCode {
        match self {
            WsError::InvalidUtf8 | WsError::InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            WsError::MessageTooLong { .. } => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// The local caller asked for a frame or close payload that must not be sent, or gave a buffer
/// too small. Nothing was written when this is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer cannot hold what was asked.
    #[error("output needs {needed} bytes but the buffer has {available}")]
    BufferTooSmall {
        /// Bytes the write needs.
        needed: usize,
        /// Bytes the buffer had.
        available: usize,
    },
    /// RSV bits outside the three the header has (a value over 7).
    #[error("reserved bits value {0} does not fit in three bits")]
    InvalidReservedBits(u8),
    /// A control frame without FIN.
    #[error("control frames cannot be fragmented")]
    FragmentedControl,
    /// A control frame payload over 125 bytes.
    #[error("control frame payload of {0} bytes exceeds 125")]
    ControlTooLong(u64),
    /// A payload length over 2^63 - 1, which the 64-bit length cannot carry.
    #[error("payload length {0} exceeds 2^63 - 1")]
    PayloadTooLong(u64),
    /// A close code that may not be sent (1005, 1006, 1015, unassigned codes; see
    /// [`CloseCode::is_valid_received`]).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// A close reason over 123 bytes (the payload of a close frame is at most 125).
    #[error("close reason of {0} bytes exceeds 123")]
    CloseReasonTooLong(usize),
}

/// The client's opening handshake (RFC 6455 section 4.2.1) is not one a server may accept.
///
/// The server answers with [`HandshakeError::status`], adds
/// [`HandshakeError::response_field`] when there is one, and does not switch protocols.
///
/// ```
/// use tern_proto::StatusCode;
/// use tern_proto::ws::HandshakeError;
/// assert_eq!(HandshakeError::MissingKey.status(), StatusCode::BAD_REQUEST);
/// let e = HandshakeError::UnsupportedVersion;
/// assert_eq!(e.status(), StatusCode::UPGRADE_REQUIRED);
/// let field = e.response_field().unwrap();
/// assert_eq!((field.name, field.value), ("Sec-WebSocket-Version", &b"13"[..]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The method is not GET.
    #[error("WebSocket handshake method is not GET")]
    MethodNotGet,
    /// The request is HTTP/1.0; the handshake needs HTTP/1.1.
    #[error("WebSocket handshake needs HTTP/1.1")]
    NotHttp11,
    /// No Host header.
    #[error("missing Host header")]
    MissingHost,
    /// No `Upgrade` header holding the token `websocket`.
    #[error("missing Upgrade: websocket")]
    MissingUpgrade,
    /// No `Connection` header holding the token `upgrade`.
    #[error("missing Connection: upgrade")]
    MissingConnectionUpgrade,
    /// No `Sec-WebSocket-Version` header.
    #[error("missing Sec-WebSocket-Version header")]
    MissingVersion,
    /// A `Sec-WebSocket-Version` other than 13.
    #[error("unsupported Sec-WebSocket-Version (only 13 is spoken)")]
    UnsupportedVersion,
    /// No `Sec-WebSocket-Key` header.
    #[error("missing Sec-WebSocket-Key header")]
    MissingKey,
    /// A `Sec-WebSocket-Key` that is not the base64 of 16 bytes, or that appears twice.
    #[error("Sec-WebSocket-Key is not the base64 of 16 bytes")]
    InvalidKey,
}

impl HandshakeError {
    /// The status to answer with: 426 Upgrade Required for an unsupported version, 400 Bad
    /// Request for everything else.
    pub const fn status(&self) -> StatusCode {
        match self {
            HandshakeError::UnsupportedVersion => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// A header field the refusal must carry: `Sec-WebSocket-Version: 13` with 426 (RFC 6455
    /// section 4.2.2), so the client can retry with a version the server speaks.
    pub const fn response_field(&self) -> Option<Field<'static>> {
        match self {
            HandshakeError::UnsupportedVersion => Some(crate::ws::handshake::VERSION_FIELD),
            _ => None,
        }
    }
}

/// The server's answer to a client's opening handshake is not one the client may accept
/// (RFC 6455 section 4.1): the client fails the connection without sending any frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The status is not 101 Switching Protocols.
    #[error("status {0} instead of 101 Switching Protocols")]
    NotSwitchingProtocols(u16),
    /// No `Upgrade` header holding the token `websocket`.
    #[error("missing Upgrade: websocket")]
    MissingUpgrade,
    /// No `Connection` header holding the token `upgrade`.
    #[error("missing Connection: upgrade")]
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    #[error("Sec-WebSocket-Accept is missing or does not match the key")]
    AcceptMismatch,
    /// A `Sec-WebSocket-Protocol` the client did not offer, or more than one.
    #[error("Sec-WebSocket-Protocol was not offered")]
    UnofferedProtocol,
    /// A `Sec-WebSocket-Extensions` header: the client offered none.
    #[error("Sec-WebSocket-Extensions was not offered")]
    UnofferedExtension,
}

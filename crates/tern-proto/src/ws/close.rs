//! The closing handshake's payload (RFC 6455 sections 5.5.1 and 7.4): [`CloseCode`], and
//! close payloads built and read.

use crate::ws::error::{EncodeError, WsError};

/// A close status code (RFC 6455 section 7.4), carried in the first two bytes of a close
/// frame's payload.
///
/// ```
/// use tern_proto::ws::CloseCode;
/// assert!(CloseCode::NORMAL.is_valid_received());
/// assert!(CloseCode(4000).is_valid_received());
/// assert!(!CloseCode::NO_STATUS.is_valid_received());
/// assert_eq!(CloseCode::MESSAGE_TOO_BIG.as_u16(), 1009);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutting down, page left).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present. Reported locally, never sent.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection closed without a close frame. Reported locally, never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with the message type (text that is not UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1015: the TLS handshake failed. Reported locally, never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// The number.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether a peer may send this code: 1000 to 1003, 1007 to 1011 (the codes RFC 6455
    /// defines for the wire) and 3000 to 4999 (registered and private use). 1004, 1005, 1006,
    /// 1015 and every other code are refused in a received close frame, and tern refuses to
    /// send them too.
    pub const fn is_valid_received(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1011 | 3000..=4999)
    }
}

impl core::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The longest close reason: a close frame carries at most 125 bytes, two of them the code.
pub const MAX_CLOSE_REASON_LEN: usize = 123;

/// Bytes of a close payload with `reason`: the two-byte code and the reason.
pub const fn close_payload_len(reason: &str) -> usize {
    2 + reason.len()
}

/// Writes a close frame payload — `code`, big-endian, then `reason` — to the start of `out`
/// and returns its length ([`close_payload_len`]). Send it with
/// [`encode_frame`](crate::ws::encode_frame) and [`Opcode::Close`](crate::ws::Opcode::Close);
/// an empty close payload (no code at all) is also valid and needs no builder.
///
/// # Errors
///
/// Nothing is written on error.
///
/// - [`EncodeError::InvalidCloseCode`] for a code a peer would refuse
///   ([`CloseCode::is_valid_received`]);
/// - [`EncodeError::CloseReasonTooLong`] for a reason over [`MAX_CLOSE_REASON_LEN`] bytes;
/// - [`EncodeError::BufferTooSmall`] if `out` is too short.
///
/// ```
/// use tern_proto::ws::{write_close_payload, CloseCode, EncodeError};
/// let mut out = [0u8; 125];
/// let n = write_close_payload(CloseCode::GOING_AWAY, "bye", &mut out)?;
/// assert_eq!(&out[..n], b"\x03\xe9bye");
/// let too_long = "x".repeat(124);
/// assert_eq!(write_close_payload(CloseCode::NORMAL, &too_long, &mut out), Err(EncodeError::CloseReasonTooLong(124)));
/// # Ok::<(), EncodeError>(())
/// ```
pub fn write_close_payload(code: CloseCode, reason: &str, out: &mut [u8]) -> Result<usize, EncodeError> {
    if !code.is_valid_received() {
        return Err(EncodeError::InvalidCloseCode(code.0));
    }
    if reason.len() > MAX_CLOSE_REASON_LEN {
        return Err(EncodeError::CloseReasonTooLong(reason.len()));
    }
    let needed = close_payload_len(reason);
    let available = out.len();
    let dst = out.get_mut(..needed).ok_or(EncodeError::BufferTooSmall { needed, available })?;
    if let Some((c, r)) = dst.split_at_mut_checked(2) {
        c.copy_from_slice(&code.0.to_be_bytes());
        r.copy_from_slice(reason.as_bytes());
    }
    Ok(needed)
}

/// Reads a received close frame payload: `None` for an empty payload (no status, reported
/// locally as [`CloseCode::NO_STATUS`]), else the code and the reason.
///
/// A [`FrameReceiver`](crate::ws::FrameReceiver) has already checked a payload it delivered;
/// this checks again, for payloads from elsewhere.
///
/// # Errors
///
/// [`WsError::ClosePayloadTooShort`] for one byte, [`WsError::InvalidCloseCode`] for a code a
/// peer may not send, [`WsError::InvalidCloseReason`] for a reason that is not UTF-8.
///
/// ```
/// use tern_proto::ws::{parse_close_payload, CloseCode, WsError};
/// assert_eq!(parse_close_payload(b"\x03\xe8done"), Ok(Some((CloseCode::NORMAL, "done"))));
/// assert_eq!(parse_close_payload(b""), Ok(None));
/// assert_eq!(parse_close_payload(b"\x03\xed"), Err(WsError::InvalidCloseCode(1005)));
/// ```
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(CloseCode, &str)>, WsError> {
    match payload {
        [] => Ok(None),
        [_] => Err(WsError::ClosePayloadTooShort),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid_received() {
                return Err(WsError::InvalidCloseCode(code.0));
            }
            let reason = core::str::from_utf8(reason).map_err(|_| WsError::InvalidCloseReason)?;
            Ok(Some((code, reason)))
        }
    }
}

//! [`ControlPayload`]: a control frame's payload, collected whole.

use crate::ws::close::{CloseCode, parse_close_payload, write_close_payload};
use crate::ws::error::{EncodeError, WsError};
use crate::ws::frame::MAX_CONTROL_PAYLOAD;

/// A control frame's payload (at most 125 bytes) held by value, for what needs it whole: the
/// pong answering a ping carries the ping's payload, and a close frame's code and reason are
/// read once the frame has ended.
///
/// An engine clears it on a control frame's [`Received::Frame`](crate::ws::Received::Frame),
/// [`extend`](Self::extend)s it with each [`Received::Payload`](crate::ws::Received::Payload),
/// and acts on [`Received::FrameEnd`](crate::ws::Received::FrameEnd). It also builds the
/// payloads tern sends: [`ControlPayload::close`].
///
/// ```
/// use tern_proto::ws::{CloseCode, ControlPayload};
/// let mut ping = ControlPayload::new();
/// ping.extend(b"are you ")?;
/// ping.extend(b"there?")?;
/// assert_eq!(ping.as_bytes(), b"are you there?");
///
/// let close = ControlPayload::close(CloseCode::NORMAL, "done")?;
/// assert_eq!(close.close_frame(), Ok(Some((CloseCode::NORMAL, "done"))));
/// # Ok::<(), tern_proto::ws::EncodeError>(())
/// ```
#[derive(Clone, Copy)]
pub struct ControlPayload {
    bytes: [u8; MAX_CONTROL_PAYLOAD],
    len: u8,
}

impl ControlPayload {
    /// An empty payload.
    pub const fn new() -> ControlPayload {
        ControlPayload { bytes: [0; MAX_CONTROL_PAYLOAD], len: 0 }
    }

    /// A copy of `payload`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::ControlTooLong`] over 125 bytes.
    pub fn from_slice(payload: &[u8]) -> Result<ControlPayload, EncodeError> {
        let mut p = ControlPayload::new();
        p.extend(payload)?;
        Ok(p)
    }

    /// A close frame payload: `code` and `reason` (see
    /// [`write_close_payload`](crate::ws::write_close_payload)).
    ///
    /// # Errors
    ///
    /// [`EncodeError::InvalidCloseCode`] and [`EncodeError::CloseReasonTooLong`].
    pub fn close(code: CloseCode, reason: &str) -> Result<ControlPayload, EncodeError> {
        let mut p = ControlPayload::new();
        let n = write_close_payload(code, reason, &mut p.bytes)?;
        p.len = n as u8;
        Ok(p)
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `piece`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::ControlTooLong`] when the payload would exceed 125 bytes; nothing is
    /// appended then.
    pub fn extend(&mut self, piece: &[u8]) -> Result<(), EncodeError> {
        let start = usize::from(self.len);
        let end = start.saturating_add(piece.len());
        let dst = self.bytes.get_mut(start..end).ok_or(EncodeError::ControlTooLong(end as u64))?;
        dst.copy_from_slice(piece);
        self.len = end as u8;
        Ok(())
    }

    /// The payload.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Its length.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// True when empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads it as a close payload ([`parse_close_payload`](crate::ws::parse_close_payload)).
    ///
    /// # Errors
    ///
    /// Those of [`parse_close_payload`](crate::ws::parse_close_payload).
    pub fn close_frame(&self) -> Result<Option<(CloseCode, &str)>, WsError> {
        parse_close_payload(self.as_bytes())
    }
}

impl Default for ControlPayload {
    fn default() -> Self {
        ControlPayload::new()
    }
}

impl PartialEq for ControlPayload {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ControlPayload {}

impl core::fmt::Debug for ControlPayload {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("ControlPayload").field(&self.as_bytes()).finish()
    }
}

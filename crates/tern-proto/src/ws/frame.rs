//! The frame header on the wire (RFC 6455 section 5.2): [`Opcode`], [`FrameHeader`] parsed
//! from and emitted to bytes, and [`encode_frame`] for a whole frame in one buffer.

use crate::head::Parse;
use crate::ws::error::{EncodeError, FrameError};
use crate::ws::mask::apply_mask;

/// A frame's opcode: three data opcodes and three control opcodes. The others are reserved
/// and refused as [`FrameError::ReservedOpcode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0x0: a further fragment of a text or binary message.
    Continuation,
    /// 0x1: the first (or only) frame of a text message.
    Text,
    /// 0x2: the first (or only) frame of a binary message.
    Binary,
    /// 0x8: the closing handshake.
    Close,
    /// 0x9: a ping, answered with a pong carrying the same payload.
    Ping,
    /// 0xA: a pong.
    Pong,
}

impl Opcode {
    /// The opcode in the low four bits of `bits`.
    ///
    /// ```
    /// use tern_proto::ws::{FrameError, Opcode};
    /// assert_eq!(Opcode::from_bits(0x81), Ok(Opcode::Text));
    /// assert_eq!(Opcode::from_bits(0x3), Err(FrameError::ReservedOpcode(0x3)));
    /// ```
    pub const fn from_bits(bits: u8) -> Result<Opcode, FrameError> {
        Ok(match bits & 0x0F {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            other => return Err(FrameError::ReservedOpcode(other)),
        })
    }

    /// The opcode's four-bit value.
    pub const fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, Ping and Pong: at most 125 bytes of payload, never fragmented, and allowed
    /// between the fragments of a message.
    pub const fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }

    /// Continuation, Text and Binary.
    pub const fn is_data(self) -> bool {
        !self.is_control()
    }
}

/// The largest control frame payload (section 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The first byte of a 64-bit length must leave this bit clear.
const LEN64_MSB: u8 = 0x80;

/// One frame header (RFC 6455 section 5.2):
///
/// ```text
///  byte 0          byte 1          bytes 2..
/// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +---------------+
/// |F|R|R|R| opcode|M| payload len |  extended length: 2 bytes if  | masking key:  |
/// |I|S|S|S|  (4)  |A|     (7)     |  len7 = 126, 8 bytes if 127   | 4 bytes if    |
/// |N|1|2|3|       |S|             |  (big-endian)                 | MASK is set   |
/// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +---------------+
/// ```
///
/// Frames a client sends are masked, frames a server sends are not. Emitting always uses the
/// minimal length encoding; parsing refuses any other ([`FrameError::NonMinimalLength`]).
///
/// ```
/// use tern_proto::ws::{FrameHeader, Opcode};
/// use tern_proto::Parse;
///
/// // A server's unmasked "Hello" (RFC 6455 section 5.7).
/// let header = FrameHeader::new(Opcode::Text, 5);
/// let mut buf = [0u8; FrameHeader::MAX_LEN];
/// let n = header.emit(&mut buf)?;
/// assert_eq!(&buf[..n], [0x81, 0x05]);
/// assert_eq!(FrameHeader::parse(b"\x81\x05Hello")?, Parse::Complete((header, 2)));
/// assert_eq!(FrameHeader::parse(b"\x81")?, Parse::Partial);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message (always set on control frames).
    pub fin: bool,
    /// RSV1, RSV2, RSV3 as the three low bits (RSV1 = 0b100); 0 without extensions.
    pub rsv: u8,
    /// The opcode.
    pub opcode: Opcode,
    /// The masking key, present on frames from a client.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// The longest header: 2 bytes, an 8-byte length and a 4-byte masking key.
    pub const MAX_LEN: usize = 14;

    /// A final, unmasked frame header without reserved bits: what a server sends.
    pub const fn new(opcode: Opcode, payload_len: u64) -> FrameHeader {
        FrameHeader { fin: true, rsv: 0, opcode, mask: None, payload_len }
    }

    /// The same header with FIN set to `fin`.
    #[must_use]
    pub const fn with_fin(mut self, fin: bool) -> FrameHeader {
        self.fin = fin;
        self
    }

    /// The same header masked with `mask`: what a client sends. The mask should come from a
    /// strong source of randomness (section 10.3).
    #[must_use]
    pub const fn with_mask(mut self, mask: [u8; 4]) -> FrameHeader {
        self.mask = Some(mask);
        self
    }

    /// Parses a header from the start of `input`, returning it with the number of bytes it
    /// took (2 to 14). The payload follows.
    ///
    /// [`Parse::Partial`] when `input` ends inside the header and nothing is wrong so far. An
    /// error is reported as soon as the bytes that prove it are present, so the answer for a
    /// prefix of a header never contradicts the answer for the whole.
    ///
    /// Only what makes a header unreadable is refused here; the rules about masking, reserved
    /// bits, control frames and fragmentation are the
    /// [`FrameReceiver`](crate::ws::FrameReceiver)'s.
    ///
    /// # Errors
    ///
    /// [`FrameError::ReservedOpcode`], [`FrameError::LengthOverflow`] and
    /// [`FrameError::NonMinimalLength`].
    pub fn parse(input: &[u8]) -> Result<Parse<(FrameHeader, usize)>, FrameError> {
        let Some(&b0) = input.first() else {
            return Ok(Parse::Partial);
        };
        let opcode = Opcode::from_bits(b0)?;
        let Some(&b1) = input.get(1) else {
            return Ok(Parse::Partial);
        };
        let ext_len = ext_len_bytes(b1);
        if ext_len == 8 && input.get(2).is_some_and(|&b| b & LEN64_MSB != 0) {
            return Err(FrameError::LengthOverflow);
        }
        let Some(ext) = input.get(2..2 + ext_len) else {
            return Ok(Parse::Partial);
        };
        let payload_len = match ext_len {
            0 => u64::from(b1 & 0x7F),
            _ => ext.iter().fold(0u64, |n, &b| n << 8 | u64::from(b)),
        };
        check_minimal(ext_len, payload_len)?;
        let mut at = 2 + ext_len;
        let mask = if b1 & 0x80 != 0 {
            let Some(key) = input.get(at..at + 4) else {
                return Ok(Parse::Partial);
            };
            at += 4;
            let mut m = [0u8; 4];
            m.copy_from_slice(key);
            Some(m)
        } else {
            None
        };
        let header = FrameHeader { fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 0x07, opcode, mask, payload_len };
        Ok(Parse::Complete((header, at)))
    }

    /// The exact number of bytes [`emit`](Self::emit) writes: 2 to 14.
    pub const fn buffer_len(&self) -> usize {
        let ext = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Checks that this header may be sent: RSV fits in three bits, a control frame is final
    /// and at most 125 bytes, and the length fits in 63 bits.
    ///
    /// # Errors
    ///
    /// [`EncodeError::InvalidReservedBits`], [`EncodeError::FragmentedControl`],
    /// [`EncodeError::ControlTooLong`] and [`EncodeError::PayloadTooLong`].
    pub const fn check(&self) -> Result<(), EncodeError> {
        if self.rsv > 0x07 {
            return Err(EncodeError::InvalidReservedBits(self.rsv));
        }
        if self.opcode.is_control() {
            if !self.fin {
                return Err(EncodeError::FragmentedControl);
            }
            if self.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(EncodeError::ControlTooLong(self.payload_len));
            }
        }
        if self.payload_len > i64::MAX as u64 {
            return Err(EncodeError::PayloadTooLong(self.payload_len));
        }
        Ok(())
    }

    /// Writes the header to the start of `out` and returns the bytes written
    /// ([`buffer_len`](Self::buffer_len)).
    ///
    /// # Errors
    ///
    /// Those of [`check`](Self::check), and [`EncodeError::BufferTooSmall`]. Nothing is
    /// written on error.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let bytes = self.to_bytes()?;
        let src = bytes.as_bytes();
        let (needed, available) = (src.len(), out.len());
        let dst = out.get_mut(..needed).ok_or(EncodeError::BufferTooSmall { needed, available })?;
        dst.copy_from_slice(src);
        Ok(needed)
    }

    /// The header as bytes in a small value of its own, to send ahead of a payload that stays
    /// where it is (a vectored write: header, then payload).
    ///
    /// # Errors
    ///
    /// Those of [`check`](Self::check).
    pub fn to_bytes(&self) -> Result<HeaderBytes, EncodeError> {
        self.check()?;
        let mut bytes = [0u8; FrameHeader::MAX_LEN];
        let mut b0 = self.rsv << 4 | self.opcode.bits();
        if self.fin {
            b0 |= 0x80;
        }
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload_len;
        let mut at = 2;
        let b1 = match len {
            0..=125 => len as u8,
            126..=0xFFFF => {
                put(&mut bytes, &mut at, &(len as u16).to_be_bytes());
                126
            }
            _ => {
                put(&mut bytes, &mut at, &len.to_be_bytes());
                127
            }
        };
        put(&mut bytes, &mut 0, &[b0, b1 | mask_bit]);
        if let Some(mask) = self.mask {
            put(&mut bytes, &mut at, &mask);
        }
        Ok(HeaderBytes { bytes, len: at as u8 })
    }
}

/// Copies `src` into `dst` at `*at` and advances `*at`; the caller has sized `dst`.
fn put(dst: &mut [u8], at: &mut usize, src: &[u8]) {
    let end = *at + src.len();
    if let Some(d) = dst.get_mut(*at..end) {
        d.copy_from_slice(src);
    }
    *at = end;
}

/// Bytes of extended payload length announced by the second header byte: 0, 2 or 8.
pub(crate) const fn ext_len_bytes(b1: u8) -> usize {
    match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    }
}

/// Refuses a length that a shorter form could have carried.
pub(crate) const fn check_minimal(ext_len: usize, payload_len: u64) -> Result<(), FrameError> {
    let minimal = match ext_len {
        2 => payload_len > 125,
        8 => payload_len > 0xFFFF,
        _ => true,
    };
    if minimal { Ok(()) } else { Err(FrameError::NonMinimalLength) }
}

/// An encoded frame header: up to [`FrameHeader::MAX_LEN`] bytes held by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderBytes {
    bytes: [u8; FrameHeader::MAX_LEN],
    len: u8,
}

impl HeaderBytes {
    /// The header's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Total bytes of a frame carrying `payload_len` bytes: header and payload.
pub const fn frame_len(payload_len: usize, masked: bool) -> usize {
    let mut header = FrameHeader::new(Opcode::Binary, payload_len as u64);
    if masked {
        header.mask = Some([0; 4]);
    }
    header.buffer_len().saturating_add(payload_len)
}

/// Writes a whole frame — header, then `payload`, masked with `mask` when given — to the start
/// of `out`, and returns the bytes written ([`frame_len`]). Servers pass `mask: None`, clients
/// a fresh random key for every frame.
///
/// # Errors
///
/// Those of [`FrameHeader::check`], and [`EncodeError::BufferTooSmall`]. Nothing is written
/// on error.
///
/// ```
/// use tern_proto::ws::{encode_frame, Opcode};
/// let mut out = [0u8; 16];
/// // RFC 6455 section 5.7: a masked "Hello" from a client.
/// let n = encode_frame(Opcode::Text, true, Some([0x37, 0xfa, 0x21, 0x3d]), b"Hello", &mut out)?;
/// assert_eq!(&out[..n], [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// # Ok::<(), tern_proto::ws::EncodeError>(())
/// ```
pub fn encode_frame(
    opcode: Opcode,
    fin: bool,
    mask: Option<[u8; 4]>,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let header = FrameHeader { fin, rsv: 0, opcode, mask, payload_len: payload.len() as u64 };
    let bytes = header.to_bytes()?;
    let head = bytes.as_bytes();
    let needed = head.len().saturating_add(payload.len());
    let available = out.len();
    let dst = out.get_mut(..needed).ok_or(EncodeError::BufferTooSmall { needed, available })?;
    if let Some((h, p)) = dst.split_at_mut_checked(head.len()) {
        h.copy_from_slice(head);
        p.copy_from_slice(payload);
        if let Some(mask) = mask {
            apply_mask(mask, 0, p);
        }
    }
    Ok(needed)
}

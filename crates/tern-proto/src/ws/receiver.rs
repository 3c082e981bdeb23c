//! [`FrameReceiver`]: the incremental frame decoder and every receive rule of RFC 6455.

use crate::ws::close::CloseCode;
use crate::ws::error::{FrameError, WsError};
use crate::ws::frame::{MAX_CONTROL_PAYLOAD, Opcode, check_minimal, ext_len_bytes};
use crate::ws::mask::apply_mask;
use crate::ws::utf8::Utf8Validator;

/// Which end of the connection the receiver is on; it decides which masking the peer must use
/// (RFC 6455 section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We are the server: frames come from a client and must be masked.
    Server,
    /// We are the client: frames come from a server and must not be masked.
    Client,
}

/// What the receiver knows about a frame once its header has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    /// The opcode on the wire ([`Opcode::Continuation`] for later fragments).
    pub opcode: Opcode,
    /// FIN: the last frame of its message (always true for control frames).
    pub fin: bool,
    /// The frame's payload length.
    pub payload_len: u64,
    /// The type of the message the frame belongs to: [`Opcode::Text`] or [`Opcode::Binary`]
    /// for data frames, continuations included; the opcode itself for control frames.
    pub message: Opcode,
    /// Bytes of the message carried by earlier frames: 0 for a message's first frame and for
    /// control frames.
    pub message_offset: u64,
}

impl FrameInfo {
    /// A control frame (close, ping, pong), possibly between the fragments of a message.
    pub const fn is_control(&self) -> bool {
        self.opcode.is_control()
    }

    /// The first frame of a text or binary message.
    pub const fn starts_message(&self) -> bool {
        matches!(self.opcode, Opcode::Text | Opcode::Binary)
    }

    /// The last frame of a text or binary message.
    pub const fn ends_message(&self) -> bool {
        self.fin && self.opcode.is_data()
    }
}

/// What one call to [`FrameReceiver::decode`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// A frame header was read; its payload follows in [`Received::Payload`] events (none if
    /// empty), then [`Received::FrameEnd`].
    Frame(FrameInfo),
    /// A non-empty piece of the current frame's payload, unmasked in place: a sub-slice of
    /// the input. Text has been checked as UTF-8 up to the end of this piece, close payloads
    /// as a valid code and UTF-8 reason.
    Payload(&'a [u8]),
    /// The current frame's payload is complete and checked (for the last frame of a text
    /// message: the whole message is UTF-8). Consumes nothing.
    FrameEnd(FrameInfo),
    /// Every byte of the input was consumed; read more and call again.
    NeedMore,
    /// A close frame has been received whole (its [`Received::FrameEnd`] was returned). Every
    /// later call returns this and consumes nothing: bytes after a close frame are not read.
    Closed,
}

/// Where the receiver is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first header byte: FIN, RSV, opcode.
    Byte0,
    /// Before the second header byte: MASK, 7-bit length.
    Byte1,
    /// Inside the extended length, `left` bytes to go; `wide` for the 64-bit form.
    ExtLen { left: u8, wide: bool },
    /// Inside the masking key, `got` bytes read.
    Mask { got: u8 },
    /// Inside the payload.
    Payload,
    /// Payload complete; `FrameEnd` is next.
    End,
    /// A close frame ended.
    Closed,
    /// An error was returned; it is returned again on every call.
    Failed(WsError),
}

/// An incremental WebSocket frame decoder that enforces RFC 6455's receive rules, for one
/// direction of one connection. It holds a few dozen bytes of state and no buffer: payload
/// comes back as slices of the caller's input, unmasked in place.
///
/// Feed it received bytes with [`decode`](Self::decode), which returns how many bytes it
/// consumed and at most one [`Received`] event. Drop the consumed bytes (they may have been
/// unmasked: never pass them again), keep the rest, and call again; on [`Received::NeedMore`]
/// read more first. Each frame gives [`Received::Frame`], its payload as zero or more
/// [`Received::Payload`] pieces, then [`Received::FrameEnd`]. However the bytes are split,
/// the frames, the concatenated payload of each and the error, if any, are the same.
///
/// The rules, each failing with a [`WsError`] whose [`close_code`](WsError::close_code) is
/// the status to close with:
///
/// | rule | error | code |
/// |---|---|---|
/// | reserved opcode, 64-bit length with MSB set, non-minimal length | [`WsError::Frame`] | 1002 |
/// | RSV bits (no extension is negotiated) | [`WsError::ReservedBits`] | 1002 |
/// | client frames masked, server frames not ([`Role`]) | [`WsError::UnmaskedFrame`], [`WsError::MaskedFrame`] | 1002 |
/// | control frames final and at most 125 bytes | [`WsError::FragmentedControl`], [`WsError::ControlTooLong`] | 1002 |
/// | continuation only inside a message, no new message inside one | [`WsError::UnexpectedContinuation`], [`WsError::UnfinishedMessage`] | 1002 |
/// | a message's fragments sum to at most `max_message_len` | [`WsError::MessageTooLong`] | 1009 |
/// | text messages are UTF-8, across fragments | [`WsError::InvalidUtf8`] | 1007 |
/// | close payload empty, or a valid code and a UTF-8 reason | [`WsError::ClosePayloadTooShort`], [`WsError::InvalidCloseCode`], [`WsError::InvalidCloseReason`] | 1002, 1002, 1007 |
///
/// Header rules fail before the frame's [`Received::Frame`]: the message limit is checked
/// against the announced lengths, before any payload is delivered. Payload rules fail at the
/// byte that proves them broken: the bytes before it are delivered first, then the error
/// (at the end of the message for text cut short inside a character). Control frames may
/// come between the fragments of a message.
///
/// ```
/// use tern_proto::ws::{FrameReceiver, Opcode, Received, Role};
///
/// // RFC 6455 section 5.7: a masked "Hello" from a client, then a masked empty ping.
/// let mut input = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0x89, 0x80, 1, 2, 3, 4];
/// let mut rx = FrameReceiver::new(Role::Server, 64 * 1024);
/// let mut at = 0;
/// let (n, ev) = rx.decode(&mut input[at..])?;
/// let Received::Frame(info) = ev else { panic!() };
/// assert_eq!((info.opcode, info.fin, info.payload_len), (Opcode::Text, true, 5));
/// at += n;
/// let (n, ev) = rx.decode(&mut input[at..])?;
/// assert_eq!(ev, Received::Payload(b"Hello"));
/// at += n;
/// let (n, ev) = rx.decode(&mut input[at..])?;
/// assert!(matches!(ev, Received::FrameEnd(info) if info.ends_message()));
/// at += n;
/// let (n, ev) = rx.decode(&mut input[at..])?;
/// assert!(matches!(ev, Received::Frame(info) if info.opcode == Opcode::Ping));
/// at += n;
/// assert!(matches!(rx.decode(&mut input[at..])?, (0, Received::FrameEnd(_))));
/// assert_eq!(rx.decode(&mut [])?, (0, Received::NeedMore));
/// # Ok::<(), tern_proto::ws::WsError>(())
/// ```
///
/// ## Reading a frame in pieces into a small buffer
///
/// Like ESP-IDF's `httpd_ws_recv_frame_part`: pass at most as many bytes as the destination
/// holds, and [`payload_remaining`](Self::payload_remaining) is `left_len`.
///
/// ```
/// use tern_proto::ws::{encode_frame, FrameReceiver, Opcode, Received, Role};
///
/// let mut wire = [0u8; 64];
/// let len = encode_frame(Opcode::Binary, true, Some([9, 8, 7, 6]), b"0123456789abcdef", &mut wire)?;
/// let mut rx = FrameReceiver::new(Role::Server, 1024);
/// let mut input = &mut wire[..len];
/// let mut small = [0u8; 6];
/// let mut pieces = 0;
/// loop {
///     let limit = input.len().min(small.len());
///     let (n, ev) = rx.decode(&mut input[..limit]).unwrap();
///     match ev {
///         Received::Frame(info) => assert_eq!(rx.payload_remaining(), info.payload_len),
///         Received::Payload(piece) => {
///             small[..piece.len()].copy_from_slice(piece);
///             pieces += 1;
///         }
///         Received::FrameEnd(_) => break,
///         Received::NeedMore | Received::Closed => unreachable!(),
///     }
///     input = &mut input[n..];
/// }
/// assert_eq!((pieces, &small[..4]), (3, &b"cdef"[..]));
/// assert_eq!(rx.payload_remaining(), 0);
/// # Ok::<(), tern_proto::ws::EncodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameReceiver {
    state: State,
    role: Role,
    /// The current frame's FIN, opcode and masking.
    fin: bool,
    opcode: Opcode,
    masked: bool,
    mask: [u8; 4],
    /// Between a frame's `Frame` event and its `FrameEnd` event.
    in_frame: bool,
    /// First byte of a close code split across pieces.
    close_hi: u8,
    /// The open data message's type, from its first frame's header to its last frame's end.
    message: Option<Opcode>,
    /// UTF-8 state of the open text message.
    text: Utf8Validator,
    /// UTF-8 state of the current close frame's reason.
    reason: Utf8Validator,
    /// The current frame's payload length (while reading an extended length: the value so
    /// far) and the payload bytes delivered of it.
    payload_len: u64,
    received: u64,
    /// Payload bytes of the open message delivered so far.
    message_len: u64,
    max_message_len: u64,
}

impl FrameReceiver {
    /// A receiver at the start of a stream, for an endpoint playing `role`, refusing data
    /// messages longer than `max_message_len` bytes (`u64::MAX`: no limit, as ESP-IDF; the
    /// engine then delivers any frame piecewise).
    pub const fn new(role: Role, max_message_len: u64) -> FrameReceiver {
        FrameReceiver {
            state: State::Byte0,
            role,
            fin: false,
            opcode: Opcode::Continuation,
            masked: false,
            mask: [0; 4],
            in_frame: false,
            close_hi: 0,
            message: None,
            text: Utf8Validator::new(),
            reason: Utf8Validator::new(),
            payload_len: 0,
            received: 0,
            message_len: 0,
            max_message_len,
        }
    }

    /// Decodes from `input`; returns how many bytes of `input` were consumed and at most one
    /// event.
    ///
    /// - [`Received::Frame`] consumes the header's last bytes (and any earlier header bytes
    ///   in this input); a header split across calls is kept in the receiver's state, so
    ///   nothing of it needs to be passed again.
    /// - [`Received::Payload`] borrows from the start of `input`, which it unmasked.
    /// - [`Received::FrameEnd`] and [`Received::Closed`] consume nothing.
    /// - [`Received::NeedMore`] consumed all of `input`.
    ///
    /// # Errors
    ///
    /// A [`WsError`] when the peer broke a rule (see the type's table). The receiver then
    /// returns the same error on every later call.
    pub fn decode<'a>(&mut self, input: &'a mut [u8]) -> Result<(usize, Received<'a>), WsError> {
        let result = self.step(input);
        if let Err(e) = result {
            self.state = State::Failed(e);
        }
        result
    }

    /// The endpoint this receiver is for.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The configured message limit.
    pub const fn max_message_len(&self) -> u64 {
        self.max_message_len
    }

    /// The frame being received, from its [`Received::Frame`] until its
    /// [`Received::FrameEnd`] (so also after an error found in its payload); `None` between
    /// frames. An engine routes [`Received::Payload`] with it: control payload to a
    /// [`ControlPayload`](crate::ws::ControlPayload), data to the handler.
    pub fn frame(&self) -> Option<FrameInfo> {
        self.in_frame.then(|| self.info())
    }

    /// Payload bytes of the current frame still to come (ESP-IDF's `left_len`); 0 between
    /// frames.
    pub fn payload_remaining(&self) -> u64 {
        match self.state {
            State::Payload => self.payload_len.saturating_sub(self.received),
            _ => 0,
        }
    }

    /// The type of the data message in progress ([`Opcode::Text`] or [`Opcode::Binary`]),
    /// from its first frame's header to its last frame's end; `None` otherwise.
    pub const fn message(&self) -> Option<Opcode> {
        self.message
    }

    /// Payload bytes of the data message in progress delivered so far.
    pub const fn message_len(&self) -> u64 {
        self.message_len
    }

    /// True once a close frame has been received whole.
    pub const fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The error the receiver failed with, if it did.
    pub const fn error(&self) -> Option<WsError> {
        match self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    fn step<'a>(&mut self, input: &'a mut [u8]) -> Result<(usize, Received<'a>), WsError> {
        match self.state {
            State::Failed(e) => Err(e),
            State::Closed => Ok((0, Received::Closed)),
            State::End => self.end_frame(),
            State::Payload => self.payload(input),
            State::Byte0 | State::Byte1 | State::ExtLen { .. } | State::Mask { .. } => {
                for (i, &b) in input.iter().enumerate() {
                    if let Some(info) = self.header_byte(b)? {
                        return Ok((i + 1, Received::Frame(info)));
                    }
                }
                Ok((input.len(), Received::NeedMore))
            }
        }
    }

    /// One header byte; the frame's info once the header is complete. Each rule is checked at
    /// the byte that decides it.
    fn header_byte(&mut self, b: u8) -> Result<Option<FrameInfo>, WsError> {
        match self.state {
            State::Byte0 => {
                let opcode = Opcode::from_bits(b)?;
                let rsv = (b >> 4) & 0x07;
                if rsv != 0 {
                    return Err(WsError::ReservedBits(rsv));
                }
                let fin = b & 0x80 != 0;
                if opcode.is_control() && !fin {
                    return Err(WsError::FragmentedControl(opcode));
                }
                match (opcode, self.message) {
                    (Opcode::Continuation, None) => return Err(WsError::UnexpectedContinuation),
                    (Opcode::Text | Opcode::Binary, Some(_)) => return Err(WsError::UnfinishedMessage),
                    _ => {}
                }
                self.fin = fin;
                self.opcode = opcode;
                self.state = State::Byte1;
            }
            State::Byte1 => {
                self.masked = b & 0x80 != 0;
                match (self.role, self.masked) {
                    (Role::Server, false) => return Err(WsError::UnmaskedFrame),
                    (Role::Client, true) => return Err(WsError::MaskedFrame),
                    _ => {}
                }
                let len7 = b & 0x7F;
                if self.opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
                    return Err(WsError::ControlTooLong(self.opcode));
                }
                self.payload_len = 0;
                match ext_len_bytes(b) {
                    0 => {
                        self.payload_len = u64::from(len7);
                        return self.length_known();
                    }
                    n => self.state = State::ExtLen { left: n as u8, wide: n == 8 },
                }
            }
            State::ExtLen { left, wide } => {
                if wide && left == 8 && b & 0x80 != 0 {
                    return Err(FrameError::LengthOverflow.into());
                }
                self.payload_len = self.payload_len << 8 | u64::from(b);
                if left > 1 {
                    self.state = State::ExtLen { left: left - 1, wide };
                } else {
                    check_minimal(if wide { 8 } else { 2 }, self.payload_len)?;
                    return self.length_known();
                }
            }
            State::Mask { got } => {
                if let Some(m) = self.mask.get_mut(usize::from(got)) {
                    *m = b;
                }
                if got >= 3 {
                    return Ok(Some(self.start_payload()));
                }
                self.state = State::Mask { got: got + 1 };
            }
            State::Payload | State::End | State::Closed | State::Failed(_) => {}
        }
        Ok(None)
    }

    /// The payload length is known: the length rules, then the masking key or the payload.
    fn length_known(&mut self) -> Result<Option<FrameInfo>, WsError> {
        if self.opcode == Opcode::Close && self.payload_len == 1 {
            return Err(WsError::ClosePayloadTooShort);
        }
        if self.opcode.is_data() {
            let before = if self.opcode == Opcode::Continuation { self.message_len } else { 0 };
            let total = before.checked_add(self.payload_len);
            if total.is_none_or(|t| t > self.max_message_len) {
                return Err(WsError::MessageTooLong { max: self.max_message_len });
            }
        }
        if self.masked {
            self.state = State::Mask { got: 0 };
            Ok(None)
        } else {
            Ok(Some(self.start_payload()))
        }
    }

    /// The header is complete: set up for the payload and describe the frame.
    fn start_payload(&mut self) -> FrameInfo {
        self.received = 0;
        self.in_frame = true;
        match self.opcode {
            Opcode::Text | Opcode::Binary => {
                self.message = Some(self.opcode);
                self.message_len = 0;
                self.text = Utf8Validator::new();
            }
            Opcode::Close => self.reason = Utf8Validator::new(),
            Opcode::Continuation | Opcode::Ping | Opcode::Pong => {}
        }
        self.state = if self.payload_len == 0 { State::End } else { State::Payload };
        self.info()
    }

    /// The current frame's info.
    fn info(&self) -> FrameInfo {
        let data = self.opcode.is_data();
        FrameInfo {
            opcode: self.opcode,
            fin: self.fin,
            payload_len: self.payload_len,
            message: if data { self.message.unwrap_or(self.opcode) } else { self.opcode },
            message_offset: if data { self.message_len.saturating_sub(self.received) } else { 0 },
        }
    }

    /// Delivers the next piece of payload, unmasked and checked.
    fn payload<'a>(&mut self, input: &'a mut [u8]) -> Result<(usize, Received<'a>), WsError> {
        let remaining = self.payload_len.saturating_sub(self.received);
        let n = usize::try_from(remaining).map_or(input.len(), |r| r.min(input.len()));
        let Some((piece, _)) = input.split_at_mut_checked(n) else {
            return Ok((0, Received::NeedMore));
        };
        if piece.is_empty() {
            return Ok((0, Received::NeedMore));
        }
        if self.masked {
            apply_mask(self.mask, self.received, piece);
        }
        let (good, error) = match self.check(piece) {
            Ok(()) => (n, None),
            Err((at, e)) => (at, Some(e)),
        };
        let good64 = good as u64;
        self.received = self.received.saturating_add(good64);
        if self.opcode.is_data() {
            self.message_len = self.message_len.saturating_add(good64);
        }
        match error {
            // Nothing before the proof: fail now.
            Some(e) if good == 0 => return Err(e),
            // Deliver the bytes before the proof; the next call returns the error.
            Some(e) => self.state = State::Failed(e),
            None if self.received == self.payload_len => self.state = State::End,
            None => {}
        }
        let piece: &'a [u8] = piece;
        Ok((good, Received::Payload(piece.get(..good).unwrap_or_default())))
    }

    /// Checks a payload piece; on failure, the offset of the byte proving it.
    fn check(&mut self, piece: &[u8]) -> Result<(), (usize, WsError)> {
        match self.opcode {
            Opcode::Close => self.check_close(piece),
            Opcode::Ping | Opcode::Pong => Ok(()),
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                if self.message == Some(Opcode::Text) {
                    self.text.feed(piece).map_err(|at| (at, WsError::InvalidUtf8))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks a piece of a close payload: the code in its first two bytes, a UTF-8 reason.
    fn check_close(&mut self, piece: &[u8]) -> Result<(), (usize, WsError)> {
        let code_left = usize::try_from(2u64.saturating_sub(self.received)).unwrap_or(0);
        let (code_part, reason) = piece.split_at_checked(code_left).unwrap_or((piece, &[]));
        for (i, &b) in code_part.iter().enumerate() {
            if self.received + i as u64 == 0 {
                self.close_hi = b;
            } else {
                let code = CloseCode(u16::from_be_bytes([self.close_hi, b]));
                if !code.is_valid_received() {
                    return Err((i, WsError::InvalidCloseCode(code.0)));
                }
            }
        }
        let base = code_part.len();
        self.reason.feed(reason).map_err(|at| (base + at, WsError::InvalidCloseReason))
    }

    /// The payload is complete: the end-of-frame and end-of-message rules, then `FrameEnd`.
    fn end_frame<'a>(&mut self) -> Result<(usize, Received<'a>), WsError> {
        let info = self.info();
        match self.opcode {
            Opcode::Close => {
                if !self.reason.is_complete() {
                    return Err(WsError::InvalidCloseReason);
                }
                self.state = State::Closed;
            }
            Opcode::Ping | Opcode::Pong => self.state = State::Byte0,
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                if self.fin {
                    if self.message == Some(Opcode::Text) && !self.text.is_complete() {
                        return Err(WsError::InvalidUtf8);
                    }
                    self.message = None;
                    self.message_len = 0;
                }
                self.state = State::Byte0;
            }
        }
        self.in_frame = false;
        Ok((0, Received::FrameEnd(info)))
    }
}

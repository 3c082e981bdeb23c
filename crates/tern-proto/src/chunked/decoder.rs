//! The incremental chunked decoder.
//!
//! [`ChunkedDecoder`] is a byte-level state machine. Chunk-size lines, extensions, line
//! endings and data terminators are consumed as they arrive, so the caller never has to keep
//! a partial size line; chunk data comes back as a sub-slice of the caller's input. The one
//! exception is a trailer field line, which is handed out whole as a borrowed [`Field`] and
//! therefore must be present in one piece (its length is bounded by
//! [`Limits::max_trailer_section_len`]).

use crate::error::{ChunkError, Limit, RemoteError};
use crate::field::Field;
use crate::limits::Limits;
use crate::syntax::{is_field_value_byte, is_tchar, is_token, trim_ows};

/// What one call to [`ChunkedDecoder::decode`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// Chunk data: a non-empty sub-slice of the input, at most the rest of the current chunk.
    Data(&'a [u8]),
    /// One trailer field, borrowed from the input. The name is a token and the value has no
    /// leading or trailing whitespace.
    Trailer(Field<'a>),
    /// The body is complete: the last chunk and the trailer section's closing empty line have
    /// been consumed. Every later call returns `(0, End)`; bytes after the body (a pipelined
    /// message) are never consumed.
    End,
    /// Nothing more can be done with this input: every byte of it was consumed, or what is
    /// left is the start of a trailer line that must be passed again, completed, in a later
    /// call.
    NeedMore,
}

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Start of a chunk-size line: a hex digit must come.
    SizeStart,
    /// Inside the hex digits of a chunk-size.
    Size,
    /// Whitespace (BWS) after the chunk-size. Only CRLF ends the line from here on.
    SizeBws,
    /// Inside the chunk extensions, outside a quoted string. Only CRLF ends the line.
    Ext,
    /// Inside a quoted string of a chunk extension.
    ExtQuoted,
    /// After a backslash in a quoted string.
    ExtEscape,
    /// After the CR of a chunk-size line; `ext` tells whether it ended extensions.
    SizeLf { ext: bool },
    /// Inside chunk data; `remaining` bytes are left.
    Data,
    /// After chunk data: CR or LF must come.
    DataCr,
    /// After chunk data and CR: LF must come.
    DataLf,
    /// At the start of a trailer line (or of the closing empty line).
    Trailer,
    /// `End` has been returned.
    Done,
    /// An error was returned; it is returned again on every call.
    Failed(RemoteError),
}

/// An incremental decoder for a body in the chunked transfer coding (RFC 9112 section 7.1).
///
/// Feed it the bytes after the message head with [`decode`](Self::decode), which returns how
/// many bytes it consumed and at most one [`Decoded`] event. Drop the consumed bytes, keep the
/// rest, and call again; on [`Decoded::NeedMore`] read more from the network first.
///
/// The decoder accepts CRLF or a bare LF as line ending, leading zeros in chunk sizes,
/// whitespace after the size, and chunk extensions (which it checks and skips). A bare LF ends
/// a chunk-size line only right after the size's last digit: once whitespace or a `;` has
/// followed the size, only CRLF ends the line and a bare LF is
/// [`ChunkError::InvalidExtension`]. A recipient that skips such bytes up to CRLF (ESP-IDF's
/// http_parser does) would otherwise read the same bytes as a different chunk size: the
/// "funky chunks" request-smuggling shape (`3;a=b\nxyz\r\nabc\r\n...`). It enforces
/// [`Limits::max_body_len`] on the sum of chunk sizes (before delivering a chunk's data),
/// [`Limits::max_chunk_ext_len`] on the bytes between a chunk-size and its line ending
/// (whitespace, `;` and extensions), and [`Limits::max_trailer_section_len`] on the trailer
/// section including its closing empty line. A CR not followed by LF is
/// [`ChunkError::BareCarriageReturn`], except after chunk extensions, where it is
/// [`ChunkError::InvalidExtension`], and after chunk data, where it is
/// [`ChunkError::MissingDataTerminator`]. After an error the decoder keeps returning that
/// error.
///
/// ```
/// use tern_proto::chunked::{ChunkedDecoder, Decoded};
/// use tern_proto::Limits;
///
/// let mut decoder = ChunkedDecoder::new(&Limits::default());
/// // A chunk-size line may arrive in pieces; nothing has to be kept.
/// assert_eq!(decoder.decode(b"0")?, (1, Decoded::NeedMore));
/// assert_eq!(decoder.decode(b"c;name=\"val\"\r\nhello ")?, (20, Decoded::Data(b"hello ")));
/// assert_eq!(decoder.chunk_len(), Some(12));
/// assert_eq!(decoder.decode(b"world!\r\n0\r\n\r\nGET")?, (6, Decoded::Data(b"world!")));
/// assert_eq!(decoder.decode(b"\r\n0\r\n\r\nGET")?, (7, Decoded::End));
/// assert_eq!(decoder.body_len(), 12);
/// assert!(decoder.is_done());
/// # Ok::<(), tern_proto::RemoteError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// Size of the current chunk (while reading its size line: the value so far).
    size: u64,
    /// Data bytes left in the current chunk.
    remaining: u64,
    /// Data bytes delivered so far.
    body_len: u64,
    /// Bytes after the chunk-size on the current size line.
    ext_len: usize,
    /// Bytes of the trailer section consumed so far.
    trailer_len: usize,
    max_body_len: u64,
    max_ext_len: usize,
    max_trailer_len: usize,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body, enforcing `limits.max_body_len`,
    /// `limits.max_chunk_ext_len` and `limits.max_trailer_section_len`.
    pub const fn new(limits: &Limits) -> Self {
        ChunkedDecoder {
            state: State::SizeStart,
            size: 0,
            remaining: 0,
            body_len: 0,
            ext_len: 0,
            trailer_len: 0,
            max_body_len: limits.max_body_len,
            max_ext_len: limits.max_chunk_ext_len,
            max_trailer_len: limits.max_trailer_section_len,
        }
    }

    /// Decodes from `input`; returns how many bytes of `input` were consumed and at most one
    /// event.
    ///
    /// - [`Decoded::Data`] borrows from `input`, after any framing consumed in this call.
    /// - [`Decoded::Trailer`] is returned only when the whole trailer line, through its LF,
    ///   is in `input`.
    /// - [`Decoded::NeedMore`] means all of `input` was consumed, or what was not is the
    ///   start of a trailer line to pass again with more bytes after it. The count is 0 only
    ///   when `input` is empty or holds nothing but a partial trailer line.
    ///
    /// # Errors
    ///
    /// [`RemoteError::Chunk`] for malformed framing or trailers, and
    /// [`RemoteError::TooLarge`] with [`Limit::BodyLength`], [`Limit::ChunkExtension`] or
    /// [`Limit::TrailerSection`] when a limit is exceeded. The decoder then stays failed and
    /// returns the same error on every later call.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Decoded<'a>), RemoteError> {
        match self.step(input) {
            Ok(r) => Ok(r),
            Err(e) => {
                self.state = State::Failed(e);
                Err(e)
            }
        }
    }

    /// True once [`Decoded::End`] has been returned.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Data bytes delivered so far.
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// The size of the chunk being read, from the end of its size line until its data
    /// terminator has been consumed; `None` between chunks, in the trailer section and
    /// after the end (ESP-IDF `esp_http_client_get_chunk_length`).
    pub fn chunk_len(&self) -> Option<u64> {
        match self.state {
            State::Data | State::DataCr | State::DataLf => Some(self.size),
            _ => None,
        }
    }

    fn step<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Decoded<'a>), RemoteError> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            match self.state {
                State::Failed(e) => return Err(e),
                State::Done => return Ok((pos, Decoded::End)),
                State::Data => {
                    if rest.is_empty() {
                        return Ok((pos, Decoded::NeedMore));
                    }
                    let n = usize::try_from(self.remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    let data = rest.get(..n).unwrap_or_default();
                    let n64 = n as u64;
                    self.remaining = self.remaining.saturating_sub(n64);
                    self.body_len = self.body_len.saturating_add(n64);
                    if self.remaining == 0 {
                        self.state = State::DataCr;
                    }
                    return Ok((pos + n, Decoded::Data(data)));
                }
                State::Trailer => return self.trailer_line(rest, pos),
                State::DataCr | State::SizeStart
                    if let Some((used, size)) = whole_size_line(rest, self.state == State::DataCr) =>
                {
                    pos += used;
                    self.size = size;
                    self.end_size_line()?;
                }
                _ => {
                    let Some(&b) = rest.first() else {
                        return Ok((pos, Decoded::NeedMore));
                    };
                    pos += 1;
                    self.framing_byte(b)?;
                }
            }
        }
    }

    /// One byte of a chunk-size line or of a data terminator.
    fn framing_byte(&mut self, b: u8) -> Result<(), RemoteError> {
        let chunk = |e| Err(RemoteError::Chunk(e));
        match self.state {
            State::SizeStart => match hex_value(b) {
                Some(d) => {
                    self.size = u64::from(d);
                    self.state = State::Size;
                }
                None => return chunk(ChunkError::InvalidSize),
            },
            State::Size => match b {
                b'\r' => self.state = State::SizeLf { ext: false },
                b'\n' => self.end_size_line()?,
                b' ' | b'\t' => {
                    self.count_ext()?;
                    self.state = State::SizeBws;
                }
                b';' => {
                    self.count_ext()?;
                    self.state = State::Ext;
                }
                _ => {
                    let Some(d) = hex_value(b) else {
                        return chunk(ChunkError::InvalidSize);
                    };
                    let Some(size) = self.size.checked_mul(16).and_then(|s| s.checked_add(u64::from(d))) else {
                        return chunk(ChunkError::SizeOverflow);
                    };
                    self.size = size;
                }
            },
            State::SizeBws => match b {
                b'\r' => self.state = State::SizeLf { ext: false },
                // Whitespace after the size is where a recipient may start skipping to CRLF:
                // a bare LF here is not a line end (see the type's documentation).
                b'\n' => return chunk(ChunkError::InvalidExtension),
                b' ' | b'\t' => self.count_ext()?,
                b';' => {
                    self.count_ext()?;
                    self.state = State::Ext;
                }
                _ => return chunk(ChunkError::InvalidSize),
            },
            State::Ext => match b {
                b'\r' => self.state = State::SizeLf { ext: true },
                // Extensions end at CRLF only: a recipient that skips them up to CRLF would
                // take this LF and what follows for extension bytes (RFC 9112 section 7.1.1).
                b'\n' => return chunk(ChunkError::InvalidExtension),
                _ => {
                    self.count_ext()?;
                    if b == b'"' {
                        self.state = State::ExtQuoted;
                    } else if !(is_tchar(b) || matches!(b, b'=' | b';' | b' ' | b'\t')) {
                        return chunk(ChunkError::InvalidExtension);
                    }
                }
            },
            State::ExtQuoted | State::ExtEscape => {
                self.count_ext()?;
                if !is_field_value_byte(b) {
                    return chunk(ChunkError::InvalidExtension);
                }
                self.state = match (self.state, b) {
                    (State::ExtQuoted, b'"') => State::Ext,
                    (State::ExtQuoted, b'\\') => State::ExtEscape,
                    _ => State::ExtQuoted,
                };
            }
            State::SizeLf { ext } => match b {
                b'\n' => self.end_size_line()?,
                _ if ext => return chunk(ChunkError::InvalidExtension),
                _ => return chunk(ChunkError::BareCarriageReturn),
            },
            State::DataCr => match b {
                b'\r' => self.state = State::DataLf,
                b'\n' => self.state = State::SizeStart,
                _ => return chunk(ChunkError::MissingDataTerminator),
            },
            State::DataLf => match b {
                b'\n' => self.state = State::SizeStart,
                _ => return chunk(ChunkError::MissingDataTerminator),
            },
            // Not framing states: `step` handles them without calling here.
            State::Data | State::Trailer | State::Done | State::Failed(_) => {}
        }
        Ok(())
    }

    /// Counts one byte between the chunk-size and the line ending.
    fn count_ext(&mut self) -> Result<(), RemoteError> {
        self.ext_len = self.ext_len.saturating_add(1);
        if self.ext_len > self.max_ext_len {
            return Err(RemoteError::TooLarge { limit: Limit::ChunkExtension, max: self.max_ext_len as u64 });
        }
        Ok(())
    }

    /// The LF of a chunk-size line: start the chunk's data, or the trailer section.
    fn end_size_line(&mut self) -> Result<(), RemoteError> {
        self.ext_len = 0;
        if self.size == 0 {
            self.state = State::Trailer;
            return Ok(());
        }
        match self.body_len.checked_add(self.size) {
            Some(total) if total <= self.max_body_len => {}
            _ => return Err(RemoteError::TooLarge { limit: Limit::BodyLength, max: self.max_body_len }),
        }
        self.remaining = self.size;
        self.state = State::Data;
        Ok(())
    }

    /// At the start of a trailer line: hands out a whole field line, or the end.
    fn trailer_line<'a>(&mut self, rest: &'a [u8], pos: usize) -> Result<(usize, Decoded<'a>), RemoteError> {
        let too_large = RemoteError::TooLarge { limit: Limit::TrailerSection, max: self.max_trailer_len as u64 };
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            if !rest.is_empty() {
                // The line, once its LF arrives, will be at least one byte longer.
                if self.trailer_len.saturating_add(rest.len()).saturating_add(1) > self.max_trailer_len {
                    return Err(too_large);
                }
                if matches!(rest.first(), Some(b' ' | b'\t')) {
                    return Err(RemoteError::Chunk(ChunkError::InvalidTrailer));
                }
            }
            return Ok((pos, Decoded::NeedMore));
        };
        let line_len = lf + 1;
        let section_len = self.trailer_len.saturating_add(line_len);
        if section_len > self.max_trailer_len {
            return Err(too_large);
        }
        let line = rest.get(..lf).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Err(RemoteError::Chunk(ChunkError::InvalidTrailer));
        }
        if line.contains(&b'\r') {
            return Err(RemoteError::Chunk(ChunkError::BareCarriageReturn));
        }
        self.trailer_len = section_len;
        if line.is_empty() {
            self.state = State::Done;
            return Ok((pos + line_len, Decoded::End));
        }
        let field = parse_trailer(line).ok_or(RemoteError::Chunk(ChunkError::InvalidTrailer))?;
        Ok((pos + line_len, Decoded::Trailer(field)))
    }
}

/// The value of a hex digit.
/// The common framing in one go: `[CRLF] 1*16HEXDIG CRLF` whole at the start of `rest` (the
/// previous chunk's terminator when `after_data`, then a size line without extensions), as
/// (bytes, size). `None` for anything else, partial input included: the byte-by-byte path
/// then takes it, with the same outcome and its precise errors.
fn whole_size_line(rest: &[u8], after_data: bool) -> Option<(usize, u64)> {
    let start = if after_data {
        if rest.get(..2)? != b"\r\n" {
            return None;
        }
        2
    } else {
        0
    };
    let mut size = 0u64;
    let mut end = start;
    while let Some(digit) = rest.get(end).and_then(|&b| hex_value(b)) {
        if end - start == 16 {
            // A 17th digit may overflow: the byte path decides.
            return None;
        }
        size = (size << 4) | u64::from(digit);
        end += 1;
    }
    if end == start || rest.get(end..end + 2)? != b"\r\n" {
        return None;
    }
    Some((end + 2, size))
}

const fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `name ":" OWS value OWS` without its line ending; `None` if malformed (including a line
/// that starts with whitespace, obs-fold).
fn parse_trailer(line: &[u8]) -> Option<Field<'_>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = line.split_at_checked(colon)?;
    if !is_token(name) {
        return None;
    }
    let value = trim_ows(value.get(1..)?);
    if !value.iter().all(|&b| is_field_value_byte(b)) {
        return None;
    }
    let name = core::str::from_utf8(name).ok()?;
    Some(Field { name, value })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    const CHUNK: fn(ChunkError) -> RemoteError = RemoteError::Chunk;

    fn limits() -> Limits {
        Limits::default()
    }

    /// What a whole body decoded to.
    #[derive(Debug, Default, PartialEq)]
    struct Body {
        data: Vec<u8>,
        trailers: Vec<(String, Vec<u8>)>,
        done: bool,
    }

    /// Feeds `pieces` as a real caller would: unconsumed bytes are kept and the next piece
    /// appended; after each piece, decodes until NeedMore or End.
    fn feed<'p>(dec: &mut ChunkedDecoder, pieces: impl IntoIterator<Item = &'p [u8]>) -> Result<Body, RemoteError> {
        let mut buf = Vec::new();
        let mut body = Body::default();
        for piece in pieces {
            buf.extend_from_slice(piece);
            loop {
                let (n, ev) = dec.decode(&buf)?;
                assert!(n <= buf.len());
                let stop = match ev {
                    Decoded::Data(d) => {
                        assert!(!d.is_empty() && n > 0);
                        body.data.extend_from_slice(d);
                        false
                    }
                    Decoded::Trailer(f) => {
                        assert!(n > 0);
                        body.trailers.push((f.name.into(), f.value.into()));
                        false
                    }
                    Decoded::End => {
                        body.done = true;
                        true
                    }
                    Decoded::NeedMore => true,
                };
                buf.drain(..n);
                if stop {
                    break;
                }
            }
        }
        Ok(body)
    }

    fn whole(input: &[u8], limits: &Limits) -> Result<Body, RemoteError> {
        feed(&mut ChunkedDecoder::new(limits), [input])
    }

    fn bytewise(input: &[u8], limits: &Limits) -> Result<Body, RemoteError> {
        feed(&mut ChunkedDecoder::new(limits), input.chunks(1))
    }

    /// Decodes `input` whole and byte by byte; both must agree.
    fn decode(input: &[u8]) -> Result<Body, RemoteError> {
        decode_with(input, &limits())
    }

    fn decode_with(input: &[u8], limits: &Limits) -> Result<Body, RemoteError> {
        let a = whole(input, limits);
        let b = bytewise(input, limits);
        assert_eq!(a, b, "whole vs byte by byte for {:?}", input.escape_ascii().to_string());
        a
    }

    fn data(input: &[u8]) -> Vec<u8> {
        let body = decode(input).unwrap();
        assert!(body.done);
        body.data
    }

    fn err(input: &[u8]) -> RemoteError {
        decode(input).unwrap_err()
    }

    #[test]
    fn events_one_per_call() {
        let input = b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nnext";
        let mut d = ChunkedDecoder::new(&limits());
        assert_eq!(d.chunk_len(), None);
        let (n, ev) = d.decode(input).unwrap();
        assert_eq!((n, ev), (8, Decoded::Data(b"hello")));
        // Zero copy: the data is the caller's own bytes.
        if let Decoded::Data(s) = ev {
            assert!(core::ptr::eq(s.as_ptr(), input[3..].as_ptr()));
        }
        assert_eq!(d.chunk_len(), Some(5));
        assert_eq!(d.decode(&input[8..]).unwrap(), (11, Decoded::Data(b" world")));
        assert_eq!(d.body_len(), 11);
        assert_eq!(d.decode(&input[19..]).unwrap(), (15, Decoded::Trailer(Field::new("X-Sum", "1"))));
        assert_eq!(d.chunk_len(), None);
        assert!(!d.is_done());
        assert_eq!(d.decode(&input[34..]).unwrap(), (2, Decoded::End));
        assert!(d.is_done());
        assert_eq!(&input[36..], b"next");
        assert_eq!(d.decode(&input[36..]).unwrap(), (0, Decoded::End));
        assert_eq!(d.decode(b"").unwrap(), (0, Decoded::End));
        assert_eq!(d.body_len(), 11);
    }

    #[test]
    fn empty_input_needs_more() {
        let mut d = ChunkedDecoder::new(&limits());
        assert_eq!(d.decode(b"").unwrap(), (0, Decoded::NeedMore));
        assert_eq!(d.decode(b"5\r\n").unwrap(), (3, Decoded::NeedMore));
        assert_eq!(d.chunk_len(), Some(5));
        assert_eq!(d.decode(b"").unwrap(), (0, Decoded::NeedMore));
        assert_eq!(d.decode(b"he").unwrap(), (2, Decoded::Data(b"he")));
        assert_eq!(d.decode(b"llo").unwrap(), (3, Decoded::Data(b"llo")));
        assert_eq!(d.decode(b"\r").unwrap(), (1, Decoded::NeedMore));
        assert_eq!(d.chunk_len(), Some(5));
        assert_eq!(d.decode(b"\n").unwrap(), (1, Decoded::NeedMore));
        assert_eq!(d.chunk_len(), None);
    }

    #[test]
    fn size_line_is_consumed_byte_by_byte() {
        let mut d = ChunkedDecoder::new(&limits());
        for b in b"1a ; ext=\"q\"\r" {
            assert_eq!(d.decode(core::slice::from_ref(b)).unwrap(), (1, Decoded::NeedMore));
            assert_eq!(d.chunk_len(), None);
        }
        assert_eq!(d.decode(b"\n").unwrap(), (1, Decoded::NeedMore));
        assert_eq!(d.chunk_len(), Some(0x1a));
    }

    #[test]
    fn bare_lf_line_endings() {
        assert_eq!(data(b"5\nhello\n0\n\n"), b"hello");
        let body = decode(b"3;x=y\r\nabc\r\n2\r\nde\n0\nA: 1\nB: 2\r\n\n").unwrap();
        assert_eq!(body.data, b"abcde");
        assert_eq!(body.trailers, [("A".into(), b"1".to_vec()), ("B".into(), b"2".to_vec())]);
        assert!(body.done);
    }

    /// The "funky chunks" shape: a bare LF inside an extension would end the line for tern but
    /// not for a recipient that skips extensions up to CRLF, which reads another chunk size.
    #[test]
    fn bare_lf_in_extension_is_refused() {
        let e = CHUNK(ChunkError::InvalidExtension);
        for bad in [
            &b"3;a=b\nabc\r\n0\r\n\r\n"[..],
            b"3;a=b\nxyz\r\nabc\r\n0\r\n\r\n",
            b"3;\nabc\r\n0\r\n\r\n",
            b"3;a\nabc\r\n0\r\n\r\n",
            b"3;a=\"q\"\nabc\r\n0\r\n\r\n",
            b"3 ; a = b \nabc\r\n0\r\n\r\n",
            b"3;a=b;c\nabc\n0\n\n",
            // Whitespace after the size: http_parser skips from the space up to CR as well.
            b"3 \nabc\r\n0\r\n\r\n",
            b"3\t\nabc\r\n0\r\n\r\n",
            // The last chunk's line, with or without trailers after it.
            b"3\r\nabc\r\n0;a=b\n\r\n",
            b"3\r\nabc\r\n0;a=b\nX: 1\r\n\r\n",
            b"0;last\n\n",
            b"0 \n\n",
            // After a chunk's data, where the fast path looks first.
            b"3\r\nabc\r\n3;a\nxyz\r\n0\r\n\r\n",
        ] {
            // `err` decodes whole and byte by byte and checks that both agree.
            assert_eq!(err(bad), e, "{:?}", bad.escape_ascii().to_string());
        }
        // Refused at the LF itself, before any data of the chunk, whole or byte by byte.
        let smuggle = b"3;a=b\nxyz\r\nabc\r\n0\r\n\r\n";
        let mut d = ChunkedDecoder::new(&limits());
        assert_eq!(d.decode(smuggle), Err(e));
        assert_eq!(d.body_len(), 0);
        let mut d = ChunkedDecoder::new(&limits());
        for b in b"3;a=b" {
            assert_eq!(d.decode(core::slice::from_ref(b)), Ok((1, Decoded::NeedMore)));
        }
        assert_eq!(d.decode(b"\n"), Err(e));
        assert_eq!(d.decode(b"\r\nabc"), Err(e));
        assert_eq!(d.body_len(), 0);
        // The same at the last chunk.
        let mut d = ChunkedDecoder::new(&limits());
        assert_eq!(d.decode(b"0;ext"), Ok((5, Decoded::NeedMore)));
        assert_eq!(d.decode(b"\n\r\n"), Err(e));
        assert!(!d.is_done());
    }

    #[test]
    fn bare_lf_right_after_size_is_accepted() {
        assert_eq!(data(b"3\nabc\n0\n\n"), b"abc");
        assert_eq!(data(b"3\nabc\r\n0\n\r\n"), b"abc");
        assert_eq!(data(b"0003\nabc\n1\nd\r\n0\n\n"), b"abcd");
        let mut d = ChunkedDecoder::new(&limits());
        for b in b"3\n" {
            assert_eq!(d.decode(core::slice::from_ref(b)), Ok((1, Decoded::NeedMore)));
        }
        assert_eq!(d.chunk_len(), Some(3));
    }

    #[test]
    fn crlf_after_extension_is_accepted() {
        assert_eq!(data(b"3;a=b\r\nabc\r\n0\r\n\r\n"), b"abc");
        assert_eq!(data(b"3;a=b\r\nabc\n0;last\r\n\n"), b"abc");
        assert_eq!(data(b"3 \r\nabc\r\n0\t;x=\"y\"\r\n\r\n"), b"abc");
        let mut d = ChunkedDecoder::new(&limits());
        for b in b"3;a=b\r" {
            assert_eq!(d.decode(core::slice::from_ref(b)), Ok((1, Decoded::NeedMore)));
        }
        assert_eq!(d.decode(b"\nabc"), Ok((4, Decoded::Data(b"abc"))));
    }

    #[test]
    fn hex_sizes() {
        assert_eq!(data(b"000005\r\nhello\r\n0000\r\n\r\n"), b"hello");
        assert_eq!(data(b"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n").len(), 20);
        assert_eq!(data(b"1F\r\n0123456789abcdef0123456789abcde\r\n0\r\n\r\n").len(), 31);
        assert_eq!(data(b"0\r\n\r\n"), b"");
    }

    #[test]
    fn max_size_and_overflow() {
        let unlimited = Limits { max_body_len: u64::MAX, ..limits() };
        for line in [&b"ffffffffffffffff\r\n"[..], b"0000FFFFFFFFFFFFFFFF\r\n"] {
            let mut d = ChunkedDecoder::new(&unlimited);
            let input = [line, b"abc"].concat();
            let (n, ev) = d.decode(&input).unwrap();
            assert_eq!((n, ev), (line.len() + 3, Decoded::Data(b"abc")));
            assert_eq!(d.chunk_len(), Some(u64::MAX));
            assert_eq!(d.body_len(), 3);
        }
        let mut d = ChunkedDecoder::new(&unlimited);
        assert_eq!(d.decode(b"10000000000000000\r\n"), Err(CHUNK(ChunkError::SizeOverflow)));
        assert_eq!(err(b"fffffffffffffffff\r\n"), CHUNK(ChunkError::SizeOverflow));
    }

    #[test]
    fn invalid_sizes() {
        for bad in [
            &b"\r\n"[..],
            b"\n",
            b";ext\r\n",
            b" 5\r\n",
            b"5 5\r\n",
            b"-1\r\n",
            b"0x5\r\n",
            b"g\r\n",
            b"5g\r\n",
            b"+5\r\n",
            b"5\r\nhello\r\n\r\n",
            b"5 x\r\n",
        ] {
            assert_eq!(err(bad), CHUNK(ChunkError::InvalidSize), "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn whitespace_after_size() {
        assert_eq!(data(b"5 \r\nhello\r\n0\t \r\n\r\n"), b"hello");
        assert_eq!(data(b"5\t;a=b\r\nhello\r\n0 ; last\r\n\r\n"), b"hello");
        assert_eq!(data(b"5 ; a = b ;c\r\nhello\r\n0\r\n\r\n"), b"hello");
    }

    #[test]
    fn extensions_are_skipped() {
        assert_eq!(data(b"5;name\r\nhello\r\n0\r\n\r\n"), b"hello");
        assert_eq!(data(b"5;a=b;c=\"quoted; \\\" str\\\\ing\";d\r\nhello\r\n0;e=\"\"\r\n\r\n"), b"hello");
        assert_eq!(data(b"5;a=\"\tobs-text \xff\"\r\nhello\n0\n\n"), b"hello");
        assert_eq!(data(b"5;;;\r\nhello\r\n0\r\n\r\n"), b"hello");
    }

    #[test]
    fn invalid_extensions() {
        for bad in [
            &b"5;a\0\r\n"[..],
            b"5;a\x7f\r\n",
            b"5;a\x01b\r\n",
            b"5;a\rb\r\n",
            b"5;a@b\r\n",
            b"5;a=\"open\r\n",
            b"5;a=\"open\n",
            b"5;a=\"x\0\"\r\n",
            b"5;a=\"\\\r\n",
            b"5;a=\"\\\x7f\"\r\n",
            b"5;\xff\r\n",
        ] {
            assert_eq!(err(bad), CHUNK(ChunkError::InvalidExtension), "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn extension_limit() {
        // Everything between the size and the line ending counts: here 8 bytes.
        let input = b"5 ;a=\"bc\"\r\nhello\r\n0 ;a=\"bc\"\r\n\r\n";
        let exact = Limits { max_chunk_ext_len: 8, ..limits() };
        assert_eq!(decode_with(input, &exact).unwrap().data, b"hello");
        let under = Limits { max_chunk_ext_len: 7, ..limits() };
        let too_large = RemoteError::TooLarge { limit: Limit::ChunkExtension, max: 7 };
        assert_eq!(decode_with(input, &under), Err(too_large));
        // Reported as soon as the limit is passed, without waiting for the line end.
        let mut d = ChunkedDecoder::new(&under);
        assert_eq!(d.decode(b"5 ;a=\"bc"), Ok((8, Decoded::NeedMore)));
        assert_eq!(d.decode(b"\""), Err(too_large));
        // A limit of zero refuses any extension and trailing whitespace.
        let zero = Limits { max_chunk_ext_len: 0, ..limits() };
        assert_eq!(decode_with(b"5\r\nhello\r\n0\r\n\r\n", &zero).unwrap().data, b"hello");
        let too_large = RemoteError::TooLarge { limit: Limit::ChunkExtension, max: 0 };
        assert_eq!(decode_with(b"5;\r\nhello\r\n0\r\n\r\n", &zero), Err(too_large));
        assert_eq!(decode_with(b"5 \r\nhello\r\n0\r\n\r\n", &zero), Err(too_large));
    }

    #[test]
    fn bare_carriage_return() {
        for bad in [&b"5\rX"[..], b"5 \rX", b"5\r\r\n", b"0\r\nA: b\rc\r\n\r\n", b"0\r\n\rX\n", b"0\r\n\r\r\n"] {
            assert_eq!(err(bad), CHUNK(ChunkError::BareCarriageReturn), "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn missing_data_terminator() {
        for bad in
            [&b"5\r\nhelloX"[..], b"5\r\nhello\rX", b"5\r\nhello0\r\n\r\n", b"5\r\nhello \r\n", b"5\r\nhello\r\r\n"]
        {
            assert_eq!(err(bad), CHUNK(ChunkError::MissingDataTerminator), "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn body_length_limit() {
        let input = b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
        let exact = Limits { max_body_len: 10, ..limits() };
        assert_eq!(decode_with(input, &exact).unwrap().data, b"helloworld");
        let under = Limits { max_body_len: 9, ..limits() };
        let too_large = RemoteError::TooLarge { limit: Limit::BodyLength, max: 9 };
        assert_eq!(decode_with(input, &under), Err(too_large));
        // The first chunk is delivered; the second is refused from its size line alone.
        let mut d = ChunkedDecoder::new(&under);
        assert_eq!(d.decode(input), Ok((8, Decoded::Data(b"hello"))));
        assert_eq!(d.decode(b"\r\n5\r\n"), Err(too_large));
        assert_eq!(d.body_len(), 5);
        // One chunk larger than the limit is refused before any of its data.
        let mut d = ChunkedDecoder::new(&under);
        assert_eq!(d.decode(b"a\r\n"), Err(too_large));
        assert_eq!(d.body_len(), 0);
        // Sizes whose sum overflows u64 are refused too.
        let unlimited = Limits { max_body_len: u64::MAX, ..limits() };
        let mut d = ChunkedDecoder::new(&unlimited);
        assert_eq!(d.decode(b"1\r\n"), Ok((3, Decoded::NeedMore)));
        assert_eq!(d.decode(b"x\r\nffffffffffffffff\r\n"), Ok((1, Decoded::Data(b"x"))));
        let too_large = RemoteError::TooLarge { limit: Limit::BodyLength, max: u64::MAX };
        assert_eq!(d.decode(b"\r\nffffffffffffffff\r\n"), Err(too_large));
    }

    #[test]
    fn trailers() {
        let body = decode(b"0\r\nExpires: never \r\nX-Empty:\r\nX-Tab:\t a b\t\r\nx-obs: caf\xe9\r\n\r\n").unwrap();
        assert!(body.done);
        assert_eq!(
            body.trailers,
            [
                ("Expires".into(), b"never".to_vec()),
                ("X-Empty".into(), b"".to_vec()),
                ("X-Tab".into(), b"a b".to_vec()),
                ("x-obs".into(), b"caf\xe9".to_vec()),
            ]
        );
    }

    #[test]
    fn trailer_needs_whole_line() {
        let mut d = ChunkedDecoder::new(&limits());
        assert_eq!(d.decode(b"0\r\nA: b"), Ok((3, Decoded::NeedMore)));
        assert_eq!(d.decode(b"A: b"), Ok((0, Decoded::NeedMore)));
        assert_eq!(d.decode(b"A: b\r"), Ok((0, Decoded::NeedMore)));
        assert_eq!(d.decode(b"A: b\r\n\r"), Ok((6, Decoded::Trailer(Field::new("A", "b")))));
        assert_eq!(d.decode(b"\r"), Ok((0, Decoded::NeedMore)));
        assert_eq!(d.decode(b"\r\n"), Ok((2, Decoded::End)));
    }

    #[test]
    fn invalid_trailers() {
        for bad in [
            &b"0\r\nA: b\r\n folded\r\n\r\n"[..],
            b"0\r\n\tfolded: x\r\n\r\n",
            b"0\r\nno colon\r\n\r\n",
            b"0\r\n: empty name\r\n\r\n",
            b"0\r\nA b: c\r\n\r\n",
            b"0\r\nA : c\r\n\r\n",
            b"0\r\nA: b\0c\r\n\r\n",
            b"0\r\nA: b\x7f\r\n\r\n",
            b"0\r\nA: b\x01\r\n\r\n",
            b"0\r\nA\xff: b\r\n\r\n",
        ] {
            assert_eq!(err(bad), CHUNK(ChunkError::InvalidTrailer), "{:?}", bad.escape_ascii().to_string());
        }
        // An obs-fold is refused without waiting for its line to end.
        let mut d = ChunkedDecoder::new(&limits());
        assert_eq!(d.decode(b"0\r\n"), Ok((3, Decoded::NeedMore)));
        assert_eq!(d.decode(b" x"), Err(CHUNK(ChunkError::InvalidTrailer)));
    }

    #[test]
    fn trailer_section_limit() {
        // "A: 1\r\n" (6) + "B: 22\n" (6) + "\r\n" (2) = 14 bytes.
        let input = b"0\r\nA: 1\r\nB: 22\n\r\n";
        let exact = Limits { max_trailer_section_len: 14, ..limits() };
        assert_eq!(decode_with(input, &exact).unwrap().trailers.len(), 2);
        let under = Limits { max_trailer_section_len: 13, ..limits() };
        let too_large = RemoteError::TooLarge { limit: Limit::TrailerSection, max: 13 };
        assert_eq!(decode_with(input, &under), Err(too_large));
        // The closing empty line alone counts.
        let one = Limits { max_trailer_section_len: 1, ..limits() };
        assert_eq!(decode_with(b"0\r\n\n", &one).unwrap(), Body { done: true, ..Body::default() });
        let too_large_1 = RemoteError::TooLarge { limit: Limit::TrailerSection, max: 1 };
        assert_eq!(decode_with(b"0\r\n\r\n", &one), Err(too_large_1));
    }

    #[test]
    fn trailer_limit_on_pending_line() {
        let limits = Limits { max_trailer_section_len: 8, ..limits() };
        let too_large = RemoteError::TooLarge { limit: Limit::TrailerSection, max: 8 };
        // 7 pending bytes can still become an 8-byte line.
        let mut d = ChunkedDecoder::new(&limits);
        assert_eq!(d.decode(b"0\r\nA: 1234"), Ok((3, Decoded::NeedMore)));
        assert_eq!(d.decode(b"A: 1234"), Ok((0, Decoded::NeedMore)));
        // 8 pending bytes cannot: the line would need a 9th, its LF.
        assert_eq!(d.decode(b"A: 12345"), Err(too_large));
        // Lines already consumed count too.
        let mut d = ChunkedDecoder::new(&limits);
        assert_eq!(d.decode(b"0\r\nA: 1\r\n"), Ok((9, Decoded::Trailer(Field::new("A", "1")))));
        assert_eq!(d.decode(b"B"), Ok((0, Decoded::NeedMore)));
        assert_eq!(d.decode(b"B:"), Err(too_large));
    }

    #[test]
    fn errors_are_sticky() {
        let mut d = ChunkedDecoder::new(&limits());
        assert_eq!(d.decode(b"5\r\nhello"), Ok((8, Decoded::Data(b"hello"))));
        let e = CHUNK(ChunkError::MissingDataTerminator);
        assert_eq!(d.decode(b"X"), Err(e));
        assert_eq!(d.decode(b"\r\n0\r\n\r\n"), Err(e));
        assert_eq!(d.decode(b""), Err(e));
        assert!(!d.is_done());
        assert_eq!(d.chunk_len(), None);
        let mut d = ChunkedDecoder::new(&Limits { max_trailer_section_len: 2, ..limits() });
        let e = RemoteError::TooLarge { limit: Limit::TrailerSection, max: 2 };
        assert_eq!(d.decode(b"0\r\nAB"), Err(e));
        assert_eq!(d.decode(b"\r\n"), Err(e));
    }

    #[test]
    fn pipelined_bytes_are_left_alone() {
        let input = b"3\r\nabc\r\n0\r\n\r\nPOST / HTTP/1.1\r\n";
        let mut d = ChunkedDecoder::new(&limits());
        let mut pos = 0;
        loop {
            let (n, ev) = d.decode(&input[pos..]).unwrap();
            pos += n;
            if ev == Decoded::End {
                break;
            }
        }
        assert_eq!(&input[pos..], b"POST / HTTP/1.1\r\n");
    }
}

//! The chunked encoder: zero-copy framing of caller data, and a copying variant.
//!
//! For zero copy, make a [`ChunkHeader`] for the data's length and send the three slices of
//! [`chunk_parts`] with one vectored write. To coalesce small writes, [`encode_chunk`] copies
//! data, framed, into a caller's buffer. Either way, end the body with
//! [`encode_last_chunk`], which writes the last chunk and the trailer section.

use crate::error::LocalError;
use crate::field::Field;
use crate::syntax::eq_ignore_case;
use crate::write::{HeadWriter, check_field, field_line_len};

/// The line ending sent after each chunk's data.
pub const CHUNK_END: &[u8] = b"\r\n";

/// The last chunk's size line.
const LAST_CHUNK: &[u8] = b"0\r\n";

/// Most bytes of a [`ChunkHeader`]: 16 hex digits and CRLF.
const MAX_HEADER_LEN: usize = 18;

/// `<hex size>\r\n` for one chunk: at most 18 bytes, on the stack.
///
/// The size is lowercase hex without leading zeros.
///
/// ```
/// use tern_proto::chunked::ChunkHeader;
/// assert_eq!(ChunkHeader::new(300).as_bytes(), b"12c\r\n");
/// assert_eq!(ChunkHeader::new(u64::MAX).as_bytes(), b"ffffffffffffffff\r\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    bytes: [u8; MAX_HEADER_LEN],
    start: u8,
}

impl ChunkHeader {
    /// The size line for a chunk of `data_len` bytes.
    pub fn new(data_len: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut bytes = [b'\r'; MAX_HEADER_LEN];
        if let Some(lf) = bytes.last_mut() {
            *lf = b'\n';
        }
        // Digits go right to left, ending just before the CRLF.
        let mut start = MAX_HEADER_LEN - 2;
        let mut n = data_len;
        loop {
            start -= 1;
            if let (Some(d), Some(&h)) = (bytes.get_mut(start), HEX.get((n % 16) as usize)) {
                *d = h;
            }
            n /= 16;
            if n == 0 || start == 0 {
                break;
            }
        }
        ChunkHeader { bytes, start: start as u8 }
    }

    /// The size line, CRLF included.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(usize::from(self.start)..).unwrap_or_default()
    }
}

/// The three slices to send, in order and ideally with one vectored write, for one chunk:
/// `header`, `data` and [`CHUNK_END`].
///
/// `header` must be [`ChunkHeader::new`]`(data.len())`. Empty data gives three empty slices,
/// since an empty chunk would end the body.
///
/// ```
/// use tern_proto::chunked::{chunk_parts, ChunkHeader};
/// let data = b"hello";
/// let header = ChunkHeader::new(data.len() as u64);
/// assert_eq!(chunk_parts(&header, data).concat(), b"5\r\nhello\r\n");
/// assert_eq!(chunk_parts(&ChunkHeader::new(0), b"").concat(), b"");
/// ```
pub fn chunk_parts<'a>(header: &'a ChunkHeader, data: &'a [u8]) -> [&'a [u8]; 3] {
    if data.is_empty() { [&[], &[], &[]] } else { [header.as_bytes(), data, CHUNK_END] }
}

/// Total bytes of one chunk framing `data_len` bytes of data: size line, data and CRLF; 0
/// for empty data.
pub fn chunk_len(data_len: usize) -> usize {
    if data_len == 0 {
        return 0;
    }
    let digits = (usize::BITS - data_len.leading_zeros()).div_ceil(4) as usize;
    digits.saturating_add(2).saturating_add(data_len).saturating_add(CHUNK_END.len())
}

/// Copies `data`, framed as one chunk, to the start of `out` and returns the bytes written
/// ([`chunk_len`]`(data.len())`). Empty data writes nothing and returns 0.
///
/// # Errors
///
/// [`LocalError::BufferTooSmall`] if `out` is shorter than [`chunk_len`]; nothing is
/// written then.
///
/// ```
/// use tern_proto::chunked::encode_chunk;
/// let mut out = [0u8; 32];
/// let n = encode_chunk(b"0123456789abcdef", &mut out)?;
/// assert_eq!(&out[..n], b"10\r\n0123456789abcdef\r\n");
/// # Ok::<(), tern_proto::LocalError>(())
/// ```
pub fn encode_chunk(data: &[u8], out: &mut [u8]) -> Result<usize, LocalError> {
    let needed = chunk_len(data.len());
    if needed == 0 {
        return Ok(0);
    }
    let available = out.len();
    let dst = out.get_mut(..needed).ok_or(LocalError::BufferTooSmall { needed, available })?;
    let header = ChunkHeader::new(data.len() as u64);
    let mut at = 0;
    for part in chunk_parts(&header, data) {
        let end = at + part.len();
        if let Some(d) = dst.get_mut(at..end) {
            d.copy_from_slice(part);
        }
        at = end;
    }
    Ok(needed)
}

/// Total bytes of the last chunk with `trailers`: `0\r\n`, one `name: value\r\n` line per
/// field, and the closing `\r\n`.
pub fn last_chunk_len(trailers: &[Field<'_>]) -> usize {
    trailers.iter().fold(LAST_CHUNK.len() + 2, |n, f| n.saturating_add(field_line_len(f.name, f.value)))
}

/// Writes the last chunk, the trailer fields and the closing empty line to the start of
/// `out`, and returns the bytes written ([`last_chunk_len`]`(trailers)`).
///
/// # Errors
///
/// Nothing is written on any error.
///
/// - [`LocalError::InvalidHeaderName`] for a name that is not a token;
/// - [`LocalError::InvalidHeaderValue`] for a value with CR, LF, NUL or another control byte
///   (or leading or trailing whitespace);
/// - [`LocalError::FramingHeaderConflict`] for Content-Length, Transfer-Encoding or Trailer
///   (in any case), which may not be sent as trailers;
/// - [`LocalError::BufferTooSmall`] if `out` is shorter than [`last_chunk_len`].
///
/// ```
/// use tern_proto::{chunked::encode_last_chunk, Field, LocalError};
/// let mut out = [0u8; 32];
/// let n = encode_last_chunk(&[Field::new("Digest", "x")], &mut out)?;
/// assert_eq!(&out[..n], b"0\r\nDigest: x\r\n\r\n");
/// assert_eq!(encode_last_chunk(&[], &mut out), Ok(5));
/// let refused = encode_last_chunk(&[Field::new("content-length", "5")], &mut out);
/// assert_eq!(refused, Err(LocalError::FramingHeaderConflict));
/// # Ok::<(), LocalError>(())
/// ```
pub fn encode_last_chunk(trailers: &[Field<'_>], out: &mut [u8]) -> Result<usize, LocalError> {
    for f in trailers {
        check_trailer(f)?;
    }
    let needed = last_chunk_len(trailers);
    let available = out.len();
    let too_small = LocalError::BufferTooSmall { needed, available };
    if needed > available {
        return Err(too_small);
    }
    let (first, rest) = out.split_at_mut_checked(LAST_CHUNK.len()).ok_or(too_small)?;
    first.copy_from_slice(LAST_CHUNK);
    let mut w = HeadWriter::new(rest);
    w.fields(trailers)?;
    Ok(LAST_CHUNK.len() + w.finish()?)
}

/// Checks one field the local side wants to send as a trailer.
fn check_trailer(f: &Field<'_>) -> Result<(), LocalError> {
    check_field(f.name, f.value)?;
    let framing = ["Content-Length", "Transfer-Encoding", "Trailer"];
    if framing.iter().any(|n| eq_ignore_case(f.name.as_bytes(), n.as_bytes())) {
        return Err(LocalError::FramingHeaderConflict);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::chunked::{ChunkedDecoder, Decoded};
    use crate::limits::Limits;
    use std::vec::Vec;

    #[test]
    fn headers() {
        let cases: [(u64, &[u8]); 8] = [
            (0, b"0\r\n"),
            (1, b"1\r\n"),
            (15, b"f\r\n"),
            (16, b"10\r\n"),
            (255, b"ff\r\n"),
            (4096, b"1000\r\n"),
            (0xdead_beef, b"deadbeef\r\n"),
            (u64::MAX, b"ffffffffffffffff\r\n"),
        ];
        for (n, want) in cases {
            let h = ChunkHeader::new(n);
            assert_eq!(h.as_bytes(), want);
            assert!(h.as_bytes().len() <= 18);
        }
    }

    #[test]
    fn lengths() {
        assert_eq!(chunk_len(0), 0);
        for n in [1usize, 15, 16, 255, 256, 4095, 4096, 65_535, 1 << 20] {
            assert_eq!(chunk_len(n), ChunkHeader::new(n as u64).as_bytes().len() + n + 2, "{n}");
        }
        assert_eq!(chunk_len(5), 10);
        assert_eq!(chunk_len(usize::MAX), usize::MAX);
        assert_eq!(last_chunk_len(&[]), 5);
        assert_eq!(last_chunk_len(&[Field::new("A", "1"), Field::new("Bb", "")]), 5 + 6 + 6);
    }

    #[test]
    fn parts() {
        let h = ChunkHeader::new(3);
        let parts = chunk_parts(&h, b"abc");
        assert_eq!(parts, [&b"3\r\n"[..], b"abc", b"\r\n"]);
        assert_eq!(chunk_parts(&ChunkHeader::new(0), b""), [&b""[..], b"", b""]);
        assert_eq!(parts.concat().len(), chunk_len(3));
    }

    #[test]
    fn copying_encoder() {
        let mut out = [0xAAu8; 16];
        assert_eq!(encode_chunk(b"hello", &mut out), Ok(10));
        assert_eq!(&out[..10], b"5\r\nhello\r\n");
        assert!(out[10..].iter().all(|&b| b == 0xAA));
        // Exactly large enough.
        let mut exact = [0u8; 10];
        assert_eq!(encode_chunk(b"hello", &mut exact), Ok(10));
        assert_eq!(&exact, b"5\r\nhello\r\n");
    }

    #[test]
    fn empty_chunk_writes_nothing() {
        let mut out = [0xAAu8; 8];
        assert_eq!(encode_chunk(b"", &mut out), Ok(0));
        assert_eq!(encode_chunk(b"", &mut []), Ok(0));
        assert!(out.iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn too_small_writes_nothing() {
        let mut out = [0xAAu8; 9];
        assert_eq!(encode_chunk(b"hello", &mut out), Err(LocalError::BufferTooSmall { needed: 10, available: 9 }));
        assert!(out.iter().all(|&b| b == 0xAA));
        let trailers = [Field::new("A", "1")];
        assert_eq!(
            encode_last_chunk(&trailers, &mut out[..8]),
            Err(LocalError::BufferTooSmall { needed: 11, available: 8 })
        );
        assert_eq!(encode_last_chunk(&[], &mut out[..4]), Err(LocalError::BufferTooSmall { needed: 5, available: 4 }));
        assert!(out.iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn last_chunk() {
        let mut out = [0u8; 64];
        assert_eq!(encode_last_chunk(&[], &mut out), Ok(5));
        assert_eq!(&out[..5], b"0\r\n\r\n");
        let trailers = [Field::new("Expires", "never"), Field { name: "X-Bin", value: b"caf\xe9" }];
        let n = encode_last_chunk(&trailers, &mut out).unwrap();
        assert_eq!(n, last_chunk_len(&trailers));
        assert_eq!(&out[..n], b"0\r\nExpires: never\r\nX-Bin: caf\xe9\r\n\r\n");
        let mut exact = [0u8; 5];
        assert_eq!(encode_last_chunk(&[], &mut exact), Ok(5));
    }

    #[test]
    fn refused_trailers_write_nothing() {
        let cases = [
            (Field::new("Content-Length", "5"), LocalError::FramingHeaderConflict),
            (Field::new("transfer-encoding", "chunked"), LocalError::FramingHeaderConflict),
            (Field::new("TRAILER", "X"), LocalError::FramingHeaderConflict),
            (Field::new("", "v"), LocalError::InvalidHeaderName),
            (Field::new("A B", "v"), LocalError::InvalidHeaderName),
            (Field::new("A:", "v"), LocalError::InvalidHeaderName),
            (Field::new("A\r\n", "v"), LocalError::InvalidHeaderName),
            (Field::new("A", "v\r\nInjected: 1"), LocalError::InvalidHeaderValue),
            (Field::new("A", "v\n"), LocalError::InvalidHeaderValue),
            (Field::new("A", "v\0"), LocalError::InvalidHeaderValue),
            (Field::new("A", "v\r"), LocalError::InvalidHeaderValue),
        ];
        for (bad, e) in cases {
            let mut out = [0xAAu8; 64];
            // The bad field last: the good one before it must not be written either.
            let trailers = [Field::new("Ok", "1"), bad];
            assert_eq!(encode_last_chunk(&trailers, &mut out), Err(e), "{bad:?}");
            assert!(out.iter().all(|&b| b == 0xAA), "{bad:?}");
            // Validation comes before the size check.
            assert_eq!(encode_last_chunk(&trailers, &mut []), Err(e), "{bad:?}");
        }
        // Names that merely contain a framing name are fine.
        let mut out = [0u8; 64];
        assert!(
            encode_last_chunk(&[Field::new("X-Content-Length", "5"), Field::new("Trailers", "x")], &mut out).is_ok()
        );
    }

    #[test]
    fn decoder_reads_what_encoder_writes() {
        let mut wire = Vec::new();
        let mut buf = [0u8; 64];
        for data in [&b"a"[..], b"", b"0123456789abcdef0123", b"xyz"] {
            let n = encode_chunk(data, &mut buf).unwrap();
            wire.extend_from_slice(&buf[..n]);
        }
        let n = encode_last_chunk(&[Field::new("Sum", "42")], &mut buf).unwrap();
        wire.extend_from_slice(&buf[..n]);
        let mut d = ChunkedDecoder::new(&Limits::default());
        let (mut data, mut trailers, mut rest) = (Vec::new(), Vec::new(), &wire[..]);
        loop {
            let (n, ev) = d.decode(rest).unwrap();
            match ev {
                Decoded::Data(s) => data.extend_from_slice(s),
                Decoded::Trailer(f) => trailers.push((f.name, f.value)),
                Decoded::End => break,
                Decoded::NeedMore => panic!("whole body given"),
            }
            rest = &rest[n..];
        }
        assert_eq!(data, b"a0123456789abcdef0123xyz");
        assert_eq!(trailers, [("Sum", &b"42"[..])]);
    }
}

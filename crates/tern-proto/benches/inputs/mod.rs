//! Inputs and baselines shared by the tern-proto benches (`heads`, `chunked`, `instructions`):
//! the same bytes go through tern and through its bare peer, whichever harness measures them.
#![allow(dead_code, unreachable_pub)] // each bench uses part of it

/// A browser's GET, as a device's web UI receives it.
pub const REQUEST: &[u8] = b"GET /api/v1/status?verbose=1 HTTP/1.1\r\n\
Host: esp32.local\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate\r\n\
Connection: keep-alive\r\n\
Cookie: session=4f2a9c1e7b; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Cache-Control: max-age=0\r\n\r\n";

/// A typical API server's answer.
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Sat, 21 Nov 2026 09:00:00 GMT\r\n\
Server: nginx/1.26.2\r\n\
Content-Type: application/json; charset=utf-8\r\n\
Content-Length: 1234\r\n\
Connection: keep-alive\r\n\
Cache-Control: no-cache\r\n\
ETag: \"6731-5f2a\"\r\n\r\n";

/// Header slots both parsers get.
pub const SLOTS: usize = 16;

/// Payload bytes of each chunked body.
pub const CHUNKED_BODY_LEN: usize = 64 * 1024;

/// The chunk sizes benchmarked: a streaming server's typical chunk, and a tiny one where
/// framing dominates.
pub const CHUNK_SIZES: [usize; 2] = [1024, 16];

/// `CHUNKED_BODY_LEN` bytes of payload in chunks of `chunk` bytes: bare hex sizes (no
/// extensions, no leading zeros), CRLF everywhere, the last chunk and no trailers.
pub fn chunked_body(chunk: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..CHUNKED_BODY_LEN).map(|i| b'a' + (i % 26) as u8).collect();
    let mut wire = Vec::with_capacity(CHUNKED_BODY_LEN + CHUNKED_BODY_LEN / chunk * 8 + 5);
    for piece in payload.chunks(chunk) {
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

/// What one call of [`Bare::decode`] produced; the same shape as tern's `Decoded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareDecoded<'a> {
    /// Chunk data, borrowed from the input.
    Data(&'a [u8]),
    /// The last chunk and the empty line after it (or its trailers) were consumed.
    End,
    /// A whole line or the data terminator is not in the input yet.
    NeedMore,
}

/// The bare baseline for tern's `ChunkedDecoder`: a minimal, correct-enough chunked decoder
/// with the same interface (consumed bytes and at most one event per call, data borrowed
/// from the input, no copies). It finds each line end with `memchr`, parses the size as
/// plain hex, and checks the CRLF after the data; it skips trailer lines unchecked and does
/// not know chunk extensions, bare LFs, or any limit.
#[derive(Debug, Clone, Default)]
pub struct Bare {
    /// Data bytes left in the current chunk.
    remaining: u64,
    /// A chunk's data was delivered in full: its CRLF comes next.
    terminator: bool,
    /// The last chunk was read: trailer lines until the empty one.
    trailers: bool,
    done: bool,
}

impl Bare {
    /// Decodes from `input`: consumed bytes and one event, or `Err` for malformed framing.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, BareDecoded<'a>), ()> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            if self.done {
                return Ok((pos, BareDecoded::End));
            }
            if self.remaining > 0 {
                if rest.is_empty() {
                    return Ok((pos, BareDecoded::NeedMore));
                }
                let n = usize::try_from(self.remaining).map_or(rest.len(), |r| r.min(rest.len()));
                self.remaining -= n as u64;
                self.terminator = self.remaining == 0;
                return Ok((pos + n, BareDecoded::Data(rest.get(..n).unwrap_or_default())));
            }
            if self.terminator {
                if rest.len() < 2 {
                    return Ok((pos, BareDecoded::NeedMore));
                }
                if rest.get(..2) != Some(b"\r\n") {
                    return Err(());
                }
                self.terminator = false;
                pos += 2;
                continue;
            }
            let Some(lf) = memchr::memchr(b'\n', rest) else {
                return Ok((pos, BareDecoded::NeedMore));
            };
            let line = rest.get(..lf).unwrap_or_default();
            let line = line.strip_suffix(b"\r").ok_or(())?;
            pos += lf + 1;
            if self.trailers {
                if line.is_empty() {
                    self.done = true;
                }
                continue;
            }
            if line.is_empty() {
                return Err(());
            }
            let mut size: u64 = 0;
            for &b in line {
                let d = match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'f' => b - b'a' + 10,
                    b'A'..=b'F' => b - b'A' + 10,
                    _ => return Err(()),
                };
                size = size.checked_mul(16).and_then(|s| s.checked_add(u64::from(d))).ok_or(())?;
            }
            if size == 0 {
                self.trailers = true;
            }
            self.remaining = size;
        }
    }
}

/// Decodes a whole chunked body with tern's decoder, handing each data slice to `sink`;
/// returns the payload length. The caller's loop a real adapter runs, minus the I/O.
pub fn drive_tern(body: &[u8], limits: &tern_proto::Limits, mut sink: impl FnMut(&[u8])) -> usize {
    use tern_proto::chunked::{ChunkedDecoder, Decoded};
    let mut decoder = ChunkedDecoder::new(limits);
    let mut input = body;
    let mut total = 0;
    loop {
        let Ok((used, event)) = decoder.decode(input) else { return usize::MAX };
        match event {
            Decoded::Data(data) => {
                total += data.len();
                sink(data);
            }
            Decoded::Trailer(_) => {}
            Decoded::End | Decoded::NeedMore => return total,
        }
        input = input.get(used..).unwrap_or_default();
    }
}

/// The same loop over [`Bare`].
pub fn drive_bare(body: &[u8], mut sink: impl FnMut(&[u8])) -> usize {
    let mut decoder = Bare::default();
    let mut input = body;
    let mut total = 0;
    loop {
        let Ok((used, event)) = decoder.decode(input) else { return usize::MAX };
        match event {
            BareDecoded::Data(data) => {
                total += data.len();
                sink(data);
            }
            BareDecoded::End | BareDecoded::NeedMore => return total,
        }
        input = input.get(used..).unwrap_or_default();
    }
}

//! Response heads: the borrowed view and its parser.

use super::Parse;
use super::classify::{Located, common, empty_line_len, leading_empty, refused, section_overflow, version_verdict};
use crate::error::{Limit, RemoteError, Syntax};
use crate::field::{HeaderSlot, Headers};
use crate::limits::Limits;
use crate::status::StatusCode;
use crate::version::Version;

/// Bytes of `HTTP/1.1 200` before the reason phrase's space.
const VERSION_AND_CODE: usize = 12;

/// A parsed response head, borrowing the input and the header slots.
///
/// ```
/// use tern_proto::{EMPTY_SLOT, Limits, ResponseHead, StatusCode};
/// let mut slots = [EMPTY_SLOT; 8];
/// let input = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// let (head, len) = ResponseHead::parse(input, &mut slots, &Limits::default())?.complete().unwrap();
/// assert_eq!((head.status, head.reason), (StatusCode::NOT_FOUND, "Not Found"));
/// assert_eq!(len, input.len());
/// # Ok::<(), tern_proto::RemoteError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase; empty when absent, or when it holds bytes that are not UTF-8.
    pub reason: &'a str,
    /// The header fields.
    pub headers: Headers<'a>,
}

impl<'a> ResponseHead<'a> {
    /// Parses a response head from the start of `input`: the head and its length, or
    /// [`Parse::Partial`]. Works as [`RequestHead::parse`](crate::RequestHead::parse) does;
    /// the limits that apply are `max_leading_empty_len`, `max_reason_len`,
    /// `max_header_section_len` and the number of `slots`.
    ///
    /// A 1xx response is a complete head of its own: the final response follows it.
    pub fn parse(
        input: &'a [u8],
        slots: &'a mut [HeaderSlot<'a>],
        limits: &Limits,
    ) -> Result<Parse<(ResponseHead<'a>, usize)>, RemoteError> {
        let slot_count = slots.len();
        let mut res = httparse::Response::new(slots);
        match res.parse(input) {
            Ok(httparse::Status::Complete(len)) => {
                let (Some(minor), Some(code)) = (res.version, res.code) else {
                    return Err(RemoteError::Malformed(Syntax::StatusCode));
                };
                check_complete(input, code, len, limits)?;
                // `check_complete` has refused 000-099; httparse reads exactly three digits.
                let status = StatusCode::new(code).map_err(|_| RemoteError::Malformed(Syntax::StatusCode))?;
                let head = ResponseHead {
                    version: Version::from_minor(minor),
                    status,
                    reason: res.reason.unwrap_or(""),
                    headers: Headers::new(res.headers),
                };
                Ok(Parse::Complete((head, len)))
            }
            Ok(httparse::Status::Partial) => match scan(input, limits) {
                Some((_, e)) => Err(e),
                None => Ok(Parse::Partial),
            },
            Err(_) => {
                let slots = res.headers;
                refused(
                    input,
                    |prefix| httparse::Response::new(&mut *slots).parse(prefix).err(),
                    scan(input, limits),
                    |pos, kind| classify(input, pos, kind, slot_count),
                )
            }
        }
    }
}

/// The checks for a head httparse parsed completely, in [`scan`]'s order and with its
/// verdicts, but from httparse's answer and the status line alone: no second pass over the
/// header section.
fn check_complete(input: &[u8], code: u16, len: usize, limits: &Limits) -> Result<(), RemoteError> {
    let too_large = |limit, max: usize| Err(RemoteError::TooLarge { limit, max: max as u64 });
    let leading = empty_line_len(input);
    if leading > limits.max_leading_empty_len {
        return too_large(Limit::LeadingEmptyLines, limits.max_leading_empty_len);
    }
    if code < 100 {
        return Err(RemoteError::Malformed(Syntax::StatusCode));
    }
    let code_end = leading + VERSION_AND_CODE;
    let line = input.get(code_end..len).unwrap_or_default();
    let lf = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    let reason = line.get(1..lf).unwrap_or_default();
    if reason.iter().filter(|&&b| b != b'\r').count() > limits.max_reason_len {
        return too_large(Limit::ReasonPhrase, limits.max_reason_len);
    }
    if len - (code_end + lf + 1) > limits.max_header_section_len {
        return too_large(Limit::HeaderSection, limits.max_header_section_len);
    }
    Ok(())
}

/// The first limit the bytes so far exceed, or a status code below 100 (which httparse
/// lets through), scanning left to right, with its position.
fn scan(input: &[u8], limits: &Limits) -> Option<Located> {
    let start = match leading_empty(input, limits.max_leading_empty_len) {
        Ok(n) => n,
        Err(located) => return Some(located),
    };
    let code_end = start + VERSION_AND_CODE;
    if let Some([b'0', d1, d2]) = input.get(code_end - 3..code_end)
        && d1.is_ascii_digit()
        && d2.is_ascii_digit()
    {
        return Some((code_end - 1, RemoteError::Malformed(Syntax::StatusCode)));
    }
    let line_end = match input.get(code_end)? {
        b' ' => {
            // The reason runs to the LF; a CR in it is either the line ending or an error of
            // its own, so only other bytes count toward the limit.
            let mut counted = 0;
            let mut lf = None;
            for (i, &b) in input.iter().enumerate().skip(code_end + 1) {
                match b {
                    b'\n' => {
                        lf = Some(i);
                        break;
                    }
                    b'\r' => {}
                    _ if counted == limits.max_reason_len => {
                        let max = limits.max_reason_len as u64;
                        return Some((i, RemoteError::TooLarge { limit: Limit::ReasonPhrase, max }));
                    }
                    _ => counted += 1,
                }
            }
            lf?
        }
        _ => code_end + input.get(code_end..)?.iter().position(|&b| b == b'\n')?,
    };
    section_overflow(input, line_end + 1, limits.max_header_section_len)
}

/// A precise error for httparse's `kind` at `pos`; `None` while a refused version could
/// still turn out either malformed or unsupported.
fn classify(input: &[u8], pos: usize, kind: httparse::Error, slots: usize) -> Option<RemoteError> {
    if let Some(e) = common(input, pos, kind, slots) {
        return Some(e);
    }
    let start = empty_line_len(input);
    Some(match kind {
        httparse::Error::Version => return version_verdict(input, start, false),
        _ if pos > 0 && input.get(pos - 1) == Some(&b'\r') => RemoteError::Malformed(Syntax::BareCarriageReturn),
        _ if pos > start + VERSION_AND_CODE => RemoteError::Malformed(Syntax::ReasonPhrase),
        _ => RemoteError::Malformed(Syntax::StatusCode),
    })
}

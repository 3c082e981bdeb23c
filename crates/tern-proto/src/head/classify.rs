//! Turning httparse's coarse error kinds into precise [`RemoteError`]s, located in the stream.
//!
//! httparse says *what kind* of byte was wrong but not *where*. Its answers are monotone in
//! the input (a prefix that fails makes every extension fail), so the shortest failing
//! prefix, found by bisection, gives the position. The position decides between a syntax
//! error and a limit violation found by the limit scan, and the bytes around it refine the
//! kind (bare CR, obs-fold, 505 for a well-formed other version).

use super::Parse;
use crate::error::{Limit, RemoteError, Syntax};

/// A violation and the index of the byte at which it becomes certain.
pub(super) type Located = (usize, RemoteError);

/// The answer for input httparse refused: bisect for where, ask httparse what, let
/// `classify` make that precise, and weigh it against the first limit violation.
///
/// `refusal` parses a prefix and returns httparse's error, if any; `classify` maps an error
/// at a position to a [`RemoteError`], or `None` while the verdict still depends on bytes to
/// come (then the answer is the limit violation, if any, else partial).
pub(super) fn refused<'i, T>(
    input: &'i [u8],
    mut refusal: impl FnMut(&'i [u8]) -> Option<httparse::Error>,
    limit: Option<Located>,
    classify: impl FnOnce(usize, httparse::Error) -> Option<RemoteError>,
) -> Result<Parse<T>, RemoteError> {
    let pos = failure_position(input, |prefix| refusal(prefix).is_some());
    let kind = refusal(input.get(..=pos).unwrap_or(input)).unwrap_or(httparse::Error::Token);
    match (classify(pos, kind), limit) {
        (Some(syntax), limit) => Err(first(limit, (pos, syntax))),
        (None, Some((_, e))) => Err(e),
        (None, None) => Ok(Parse::Partial),
    }
}

/// The earlier of two located violations; on a tie the limit (`a`) wins, consistently.
fn first(a: Option<Located>, b: Located) -> RemoteError {
    match a {
        Some((pa, ea)) if pa <= b.0 => ea,
        _ => b.1,
    }
}

/// Finds the shortest prefix of `input` on which `fails` is true, given that it is true for
/// the whole input, and returns the index of that prefix's last byte.
fn failure_position<'i>(input: &'i [u8], mut fails: impl FnMut(&'i [u8]) -> bool) -> usize {
    // Invariant: prefix of length `hi` fails; prefixes shorter than `lo` do not.
    let (mut lo, mut hi) = (1, input.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if fails(input.get(..mid).unwrap_or(input)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    hi.saturating_sub(1)
}

/// The byte at `i`, or 0 past the end.
fn at(input: &[u8], i: usize) -> u8 {
    input.get(i).copied().unwrap_or(0)
}

/// True if `pos` sits on a byte that follows a CR without being LF.
fn after_bare_cr(input: &[u8], pos: usize) -> bool {
    pos > 0 && at(input, pos - 1) == b'\r' && at(input, pos) != b'\n'
}

/// The verdict on a version httparse refused, which starts at `start` and must be followed
/// by a line ending (`line_end`, in a request) or a space (in a response):
/// `HTTP/d.d` with other digits is unsupported (505), anything else malformed. `None` while
/// the bytes so far could still become either, so that any split gives the same verdict.
pub(super) fn version_verdict(input: &[u8], start: usize, line_end: bool) -> Option<RemoteError> {
    let malformed = Some(RemoteError::Malformed(Syntax::Version));
    let rest = input.get(start..).unwrap_or_default();
    for (i, expected) in b"HTTP/d.d".iter().enumerate() {
        let b = *rest.get(i)?;
        let ok = if *expected == b'd' { b.is_ascii_digit() } else { b == *expected };
        if !ok {
            return malformed;
        }
    }
    let unsupported = Some(RemoteError::UnsupportedVersion {
        major: at(rest, 5).wrapping_sub(b'0'),
        minor: at(rest, 7).wrapping_sub(b'0'),
    });
    match (*rest.get(8)?, line_end) {
        (b' ', false) | (b'\n', true) => unsupported,
        (b'\r', true) => match *rest.get(9)? {
            b'\n' => unsupported,
            _ => Some(RemoteError::Malformed(Syntax::BareCarriageReturn)),
        },
        _ => malformed,
    }
}

/// Where the field-line syntax went wrong at `pos`: a line starting with whitespace
/// (obs-fold, or whitespace before the first field), bare CR, or the given kind.
pub(super) fn field_syntax(input: &[u8], pos: usize, kind: Syntax) -> RemoteError {
    let b = at(input, pos);
    if after_bare_cr(input, pos) {
        RemoteError::Malformed(Syntax::BareCarriageReturn)
    } else if (b == b' ' || b == b'\t') && pos > 0 && at(input, pos - 1) == b'\n' {
        RemoteError::Malformed(Syntax::ObsoleteLineFolding)
    } else {
        RemoteError::Malformed(kind)
    }
}

/// Maps an httparse error at `pos` in a field line or line ending.
pub(super) fn common(input: &[u8], pos: usize, err: httparse::Error, slots: usize) -> Option<RemoteError> {
    Some(match err {
        httparse::Error::TooManyHeaders => RemoteError::TooLarge { limit: Limit::HeaderCount, max: slots as u64 },
        httparse::Error::HeaderName => field_syntax(input, pos, Syntax::HeaderName),
        httparse::Error::HeaderValue => field_syntax(input, pos, Syntax::HeaderValue),
        httparse::Error::NewLine if after_bare_cr(input, pos) => RemoteError::Malformed(Syntax::BareCarriageReturn),
        _ => return None,
    })
}

/// Counts the bytes of a header section that starts at `start` (just after the start line)
/// and returns the position where it certainly exceeds `max`. Without its end, a section that
/// already holds `max` bytes is over: the end needs at least one more byte. So a buffer of
/// the largest allowed head always gets a decision before it fills.
pub(super) fn section_overflow(input: &[u8], start: usize, max: usize) -> Option<Located> {
    let section = input.get(start..)?;
    let over = match section_end(section) {
        Some(len) => len > max,
        None => section.len() >= max,
    };
    over.then_some((
        (start + max).saturating_sub(1),
        RemoteError::TooLarge { limit: Limit::HeaderSection, max: max as u64 },
    ))
}

/// Length of the header section at the start of `s` (closing empty line included), if its
/// end has arrived.
fn section_end(s: &[u8]) -> Option<usize> {
    match s {
        [b'\n', ..] => return Some(1),
        [b'\r', b'\n', ..] => return Some(2),
        _ => {}
    }
    let mut i = 0;
    while let Some(off) = s.get(i..)?.iter().position(|&b| b == b'\n') {
        let lf = i + off;
        match (s.get(lf + 1), s.get(lf + 2)) {
            (Some(b'\n'), _) => return Some(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}

/// Bytes of empty lines (CR and LF) at the start of `input`, before a start line.
pub(super) fn empty_line_len(input: &[u8]) -> usize {
    input.iter().take_while(|&&b| b == b'\r' || b == b'\n').count()
}

/// Skips the empty lines before a start line: their length, or where they exceed `max`.
pub(super) fn leading_empty(input: &[u8], max: usize) -> Result<usize, Located> {
    let n = empty_line_len(input);
    if n > max { Err((max, RemoteError::TooLarge { limit: Limit::LeadingEmptyLines, max: max as u64 })) } else { Ok(n) }
}

/// The field of a start line that begins at `start` and ends before the first byte in
/// `ends`: its length, or where it exceeds `max` (reported as `limit`). `Ok(None)` when it
/// has not ended yet within the limit.
pub(super) fn bounded_field(
    input: &[u8],
    start: usize,
    ends: &[u8],
    max: usize,
    limit: Limit,
) -> Result<Option<usize>, Located> {
    let rest = input.get(start..).unwrap_or_default();
    match rest.iter().take(max.saturating_add(1)).position(|b| ends.contains(b)) {
        Some(len) => Ok(Some(len)),
        None if rest.len() > max => Err((start + max, RemoteError::TooLarge { limit, max: max as u64 })),
        None => Ok(None),
    }
}

/// Offset of `part` inside `whole`; `part` must be a sub-slice of `whole`.
pub(super) fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_finds_the_first_failing_byte() {
        let input = b"abcdefXhij";
        let pos = failure_position(input, |p| p.contains(&b'X'));
        assert_eq!(pos, 6);
        assert_eq!(failure_position(b"X", |p| p.contains(&b'X')), 0);
    }

    #[test]
    fn section_end_handles_both_line_endings() {
        assert_eq!(section_end(b"\r\n"), Some(2));
        assert_eq!(section_end(b"A: b\r\n\r\nbody"), Some(8));
        assert_eq!(section_end(b"A: b\n\nbody"), Some(6));
        assert_eq!(section_end(b"A: b\r\nC: d\r\n"), None);
    }

    #[test]
    fn version_verdicts_wait_until_certain() {
        let unsupported = |major, minor| Some(RemoteError::UnsupportedVersion { major, minor });
        let malformed = Some(RemoteError::Malformed(Syntax::Version));
        assert_eq!(version_verdict(b"HTTP/2.0\r\n", 0, true), unsupported(2, 0));
        assert_eq!(version_verdict(b"HTTP/1.2\n", 0, true), unsupported(1, 2));
        assert_eq!(version_verdict(b"HTTP/3.0 200", 0, false), unsupported(3, 0));
        assert_eq!(version_verdict(b"HTTP/1.10\r\n", 0, true), malformed);
        assert_eq!(version_verdict(b"HTTQ", 0, true), malformed);
        for undecided in [&b"HTTP/2"[..], b"HTTP/2.0", b"HTTP/2.0\r", b"H"] {
            assert_eq!(version_verdict(undecided, 0, true), None, "{undecided:?}");
        }
    }
}

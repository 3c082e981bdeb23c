//! Writing heads and field lines into a caller's buffer.
//!
//! Writing is two-step, as in smoltcp: the exact length is known first (`*_len` functions and
//! `buffer_len()` methods), then bytes are emitted into a slice that is checked to be large
//! enough before anything is written. Every name, value, target and reason is validated
//! first; a CR, LF or NUL from the caller is an error and never reaches the buffer.
//!
//! [`HeadWriter`] appends line by line, for engines that assemble a head from several
//! sources; each call either writes its whole line or writes nothing.

use crate::error::LocalError;
use crate::field::Field;
use crate::method::Method;
use crate::status::StatusCode;
use crate::syntax::{is_reason, is_token, is_writable_field_value, is_writable_target};
use crate::version::Version;

/// The digits of `n` in decimal: at most 20.
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: u8,
}

impl Decimal {
    pub(crate) fn new(mut n: u64) -> Decimal {
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Decimal { digits, start: start as u8 }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.digits.get(usize::from(self.start)..).unwrap_or_default()
    }
}

/// Bytes of `name: value\r\n`.
pub const fn field_line_len(name: &str, value: &[u8]) -> usize {
    name.len() + 2 + value.len() + 2
}

/// Checks a field the local side wants to write.
pub(crate) fn check_field(name: &str, value: &[u8]) -> Result<(), LocalError> {
    if !is_token(name.as_bytes()) {
        return Err(LocalError::InvalidHeaderName);
    }
    if !is_writable_field_value(value) {
        return Err(LocalError::InvalidHeaderValue);
    }
    Ok(())
}

/// Bytes of `METHOD SP target SP HTTP/1.x\r\n`.
pub fn request_line_len(method: &Method<'_>, target: &str) -> usize {
    method.as_str().len() + 1 + target.len() + 1 + 8 + 2
}

/// Bytes of `HTTP/1.x SP ddd SP reason\r\n`.
pub const fn status_line_len(reason: &str) -> usize {
    8 + 1 + 3 + 1 + reason.len() + 2
}

/// Appends lines of a message head to a caller's buffer.
///
/// ```
/// use tern_proto::{HeadWriter, Method, Version};
/// let mut buf = [0u8; 64];
/// let mut w = HeadWriter::new(&mut buf);
/// w.request_line(&Method::Get, "/x", Version::Http11)?;
/// w.field("Host", b"example.com")?;
/// let n = w.finish()?;
/// assert_eq!(&buf[..n], b"GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n");
/// # Ok::<(), tern_proto::LocalError>(())
/// ```
#[derive(Debug)]
pub struct HeadWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> HeadWriter<'b> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'b mut [u8]) -> HeadWriter<'b> {
        HeadWriter { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.len)
    }

    /// Fails with `BufferTooSmall` unless `needed` more bytes fit.
    fn reserve(&self, needed: usize) -> Result<(), LocalError> {
        let available = self.remaining();
        if needed > available { Err(LocalError::BufferTooSmall { needed, available }) } else { Ok(()) }
    }

    /// Copies `parts` in; the caller has reserved their total length.
    fn put(&mut self, parts: &[&[u8]]) {
        for part in parts {
            let end = self.len + part.len();
            if let Some(dst) = self.buf.get_mut(self.len..end) {
                dst.copy_from_slice(part);
                self.len = end;
            }
        }
    }

    /// Writes `METHOD SP target SP version CRLF`.
    pub fn request_line(&mut self, method: &Method<'_>, target: &str, version: Version) -> Result<(), LocalError> {
        if !is_token(method.as_str().as_bytes()) {
            return Err(LocalError::InvalidMethod);
        }
        if !is_writable_target(target.as_bytes()) {
            return Err(LocalError::InvalidTarget);
        }
        self.reserve(request_line_len(method, target))?;
        self.put(&[method.as_str().as_bytes(), b" ", target.as_bytes(), b" ", version.as_str().as_bytes(), b"\r\n"]);
        Ok(())
    }

    /// Writes `version SP code SP reason CRLF`.
    pub fn status_line(&mut self, version: Version, status: StatusCode, reason: &str) -> Result<(), LocalError> {
        if !is_reason(reason.as_bytes()) {
            return Err(LocalError::InvalidReason);
        }
        self.reserve(status_line_len(reason))?;
        self.put(&[version.as_str().as_bytes(), b" ", &status.digits(), b" ", reason.as_bytes(), b"\r\n"]);
        Ok(())
    }

    /// Writes `name: value CRLF` after checking both.
    pub fn field(&mut self, name: &str, value: &[u8]) -> Result<(), LocalError> {
        check_field(name, value)?;
        self.reserve(field_line_len(name, value))?;
        self.put(&[name.as_bytes(), b": ", value, b"\r\n"]);
        Ok(())
    }

    /// Writes `name: value CRLF` for one of the engine's own field names (`Content-Type`,
    /// `Connection`): a token by construction, so only the value is checked.
    pub(crate) fn own_field(&mut self, name: &'static str, value: &[u8]) -> Result<(), LocalError> {
        debug_assert!(is_token(name.as_bytes()), "{name} is not a token");
        if !is_writable_field_value(value) {
            return Err(LocalError::InvalidHeaderValue);
        }
        self.reserve(field_line_len(name, value))?;
        self.put(&[name.as_bytes(), b": ", value, b"\r\n"]);
        Ok(())
    }

    /// [`own_field`](Self::own_field) with a decimal value: digits need no check either.
    pub(crate) fn own_field_u64(&mut self, name: &'static str, n: u64) -> Result<(), LocalError> {
        debug_assert!(is_token(name.as_bytes()), "{name} is not a token");
        let d = Decimal::new(n);
        self.reserve(field_line_len(name, d.as_bytes()))?;
        self.put(&[name.as_bytes(), b": ", d.as_bytes(), b"\r\n"]);
        Ok(())
    }

    /// Writes `name: <decimal n> CRLF`, e.g. Content-Length, without formatting machinery.
    pub fn field_u64(&mut self, name: &str, n: u64) -> Result<(), LocalError> {
        let d = Decimal::new(n);
        self.field(name, d.as_bytes())
    }

    /// Writes every field of `fields`; on error, nothing of this call is kept.
    pub fn fields(&mut self, fields: &[Field<'_>]) -> Result<(), LocalError> {
        let start = self.len;
        for f in fields {
            if let Err(e) = self.field(f.name, f.value) {
                self.len = start;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Writes the empty line that ends the head and returns the head's total length.
    pub fn finish(mut self) -> Result<usize, LocalError> {
        self.reserve(2)?;
        self.put(&[b"\r\n"]);
        Ok(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits() {
        assert_eq!(Decimal::new(0).as_bytes(), b"0");
        assert_eq!(Decimal::new(1234).as_bytes(), b"1234");
        assert_eq!(Decimal::new(u64::MAX).as_bytes(), b"18446744073709551615");
    }

    #[test]
    fn refuses_cr_lf_nul_and_writes_nothing() {
        let mut buf = [0xAAu8; 64];
        let mut w = HeadWriter::new(&mut buf);
        for bad in [&b"a\r\nInjected: 1"[..], b"a\nb", b"a\0", b"a\rb"] {
            assert_eq!(w.field("X", bad), Err(LocalError::InvalidHeaderValue));
        }
        for bad in ["", "X Y", "X:", "X\r\n", "X\0"] {
            assert_eq!(w.field(bad, b"v"), Err(LocalError::InvalidHeaderName));
        }
        assert_eq!(w.len(), 0);
        assert!(buf.iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn a_line_that_does_not_fit_writes_nothing() {
        let mut buf = [0u8; 20];
        let mut w = HeadWriter::new(&mut buf);
        w.field("A", b"1").unwrap();
        assert_eq!(w.field("Long", b"0123456789abcdef"), Err(LocalError::BufferTooSmall { needed: 24, available: 14 }));
        assert_eq!(w.len(), 6);
        assert_eq!(w.finish(), Ok(8));
        assert_eq!(&buf[..8], b"A: 1\r\n\r\n");
    }

    #[test]
    fn fields_roll_back_as_a_whole() {
        let mut buf = [0u8; 64];
        let mut w = HeadWriter::new(&mut buf);
        let fields = [Field::new("A", "1"), Field::new("B", "bad\r\n")];
        assert_eq!(w.fields(&fields), Err(LocalError::InvalidHeaderValue));
        assert!(w.is_empty());
    }

    #[test]
    fn status_and_request_lines() {
        let mut buf = [0u8; 64];
        let mut w = HeadWriter::new(&mut buf);
        w.status_line(Version::Http10, StatusCode::NOT_FOUND, "Not Found").unwrap();
        assert_eq!(w.status_line(Version::Http11, StatusCode::OK, "O\r\nK"), Err(LocalError::InvalidReason));
        let n = w.finish().unwrap();
        assert_eq!(&buf[..n], b"HTTP/1.0 404 Not Found\r\n\r\n");
        let mut w = HeadWriter::new(&mut buf);
        assert_eq!(w.request_line(&Method::Get, "/a b", Version::Http11), Err(LocalError::InvalidTarget));
        assert_eq!(w.request_line(&Method::Get, "", Version::Http11), Err(LocalError::InvalidTarget));
    }
}

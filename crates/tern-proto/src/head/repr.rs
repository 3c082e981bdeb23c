//! Heads the local side writes: the exact length first, then the bytes.

use crate::body::Framing;
use crate::error::LocalError;
use crate::field::Field;
use crate::method::Method;
use crate::status::StatusCode;
use crate::version::Version;
use crate::write::{Decimal, HeadWriter, check_field, field_line_len, request_line_len, status_line_len};

/// A request head to write.
///
/// ```
/// use tern_proto::{body::Framing, Field, Method, RequestRepr, Version};
/// let head = RequestRepr {
///     method: Method::Post,
///     target: "/api",
///     version: Version::Http11,
///     headers: &[Field::new("Host", "esp32.local")],
///     framing: Framing::Length(2),
/// };
/// let mut buf = [0u8; 128];
/// assert_eq!(head.buffer_len(), 60);
/// let n = head.emit(&mut buf)?;
/// assert_eq!(&buf[..n], b"POST /api HTTP/1.1\r\nHost: esp32.local\r\nContent-Length: 2\r\n\r\n");
/// # Ok::<(), tern_proto::LocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRepr<'a> {
    /// The method.
    pub method: Method<'a>,
    /// The request-target, e.g. `/path?query`.
    pub target: &'a str,
    /// The version to send.
    pub version: Version,
    /// Header fields, written in order after the request line.
    pub headers: &'a [Field<'a>],
    /// How the body is framed; the framing field goes after `headers`.
    pub framing: Framing,
}

/// A response head to write.
///
/// ```
/// use tern_proto::{body::Framing, ResponseRepr, StatusCode, Version};
/// let head = ResponseRepr { framing: Framing::Chunked, ..ResponseRepr::new(StatusCode::OK) };
/// let mut buf = [0u8; 64];
/// let n = head.emit(&mut buf)?;
/// assert_eq!(&buf[..n], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
/// # Ok::<(), tern_proto::LocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseRepr<'a> {
    /// The version to send.
    pub version: Version,
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase; [`ResponseRepr::new`] takes the canonical one.
    pub reason: &'a str,
    /// Header fields, written in order after the status line.
    pub headers: &'a [Field<'a>],
    /// How the body is framed; the framing field goes after `headers`.
    pub framing: Framing,
}

impl ResponseRepr<'static> {
    /// An HTTP/1.1 response with the canonical reason phrase (empty for unregistered codes),
    /// no header fields and [`Framing::AsGiven`].
    pub const fn new(status: StatusCode) -> ResponseRepr<'static> {
        let reason = match status.canonical_reason() {
            Some(r) => r,
            None => "",
        };
        ResponseRepr { version: Version::Http11, status, reason, headers: &[], framing: Framing::AsGiven }
    }
}

impl RequestRepr<'_> {
    /// Exactly the bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        request_line_len(&self.method, self.target) + fields_len(self.headers, self.framing) + 2
    }

    /// Writes the head into `buf` and returns its length. Everything is checked before the
    /// first byte is written: on error `buf` is untouched.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, LocalError> {
        check_fields(self.headers, self.framing, self.version, false)?;
        let needed = self.buffer_len();
        check_room(needed, buf.len())?;
        let mut w = HeadWriter::new(buf);
        w.request_line(&self.method, self.target, self.version)?;
        write_fields(&mut w, self.headers, self.framing)?;
        w.finish()
    }
}

impl ResponseRepr<'_> {
    /// Exactly the bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        status_line_len(self.reason) + fields_len(self.headers, self.framing) + 2
    }

    /// Writes the head into `buf` and returns its length. Everything is checked before the
    /// first byte is written: on error `buf` is untouched. A 1xx or 204 response with body
    /// framing is [`LocalError::BodyNotAllowed`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, LocalError> {
        let bodyless = self.status.is_informational() || self.status == StatusCode::NO_CONTENT;
        check_fields(self.headers, self.framing, self.version, bodyless)?;
        let needed = self.buffer_len();
        check_room(needed, buf.len())?;
        let mut w = HeadWriter::new(buf);
        w.status_line(self.version, self.status, self.reason)?;
        write_fields(&mut w, self.headers, self.framing)?;
        w.finish()
    }
}

const CONTENT_LENGTH: &str = "Content-Length";
const TRANSFER_ENCODING: &str = "Transfer-Encoding";

fn fields_len(headers: &[Field<'_>], framing: Framing) -> usize {
    let framing_len = match framing {
        Framing::AsGiven => 0,
        Framing::Length(n) => field_line_len(CONTENT_LENGTH, Decimal::new(n).as_bytes()),
        Framing::Chunked => field_line_len(TRANSFER_ENCODING, b"chunked"),
    };
    headers.iter().map(|f| field_line_len(f.name, f.value)).sum::<usize>() + framing_len
}

/// Checks every field, and that the framing the head ends up with is one a receiver accepts
/// (see [`body`](crate::body)): at most one Content-Length, never with Transfer-Encoding, and
/// none on a message that has no body.
fn check_fields(headers: &[Field<'_>], framing: Framing, version: Version, bodyless: bool) -> Result<(), LocalError> {
    if framing == Framing::Chunked && version == Version::Http10 {
        return Err(LocalError::ChunkedInHttp10);
    }
    let (mut lengths, mut encodings) = match framing {
        Framing::AsGiven => (0, 0),
        Framing::Length(_) => (1, 0),
        Framing::Chunked => (0, 1),
    };
    for f in headers {
        check_field(f.name, f.value)?;
        if f.is(CONTENT_LENGTH) {
            lengths += 1;
        } else if f.is(TRANSFER_ENCODING) {
            encodings += 1;
        }
        if framing != Framing::AsGiven && (lengths + encodings) > 1 {
            return Err(LocalError::FramingHeaderConflict);
        }
    }
    if bodyless && lengths + encodings > 0 {
        return Err(LocalError::BodyNotAllowed);
    }
    if lengths > 1 || (lengths > 0 && encodings > 0) {
        return Err(LocalError::FramingHeaderConflict);
    }
    Ok(())
}

fn check_room(needed: usize, available: usize) -> Result<(), LocalError> {
    if needed > available { Err(LocalError::BufferTooSmall { needed, available }) } else { Ok(()) }
}

fn write_fields(w: &mut HeadWriter<'_>, headers: &[Field<'_>], framing: Framing) -> Result<(), LocalError> {
    w.fields(headers)?;
    match framing {
        Framing::AsGiven => Ok(()),
        Framing::Length(n) => w.field_u64(CONTENT_LENGTH, n),
        Framing::Chunked => w.field(TRANSFER_ENCODING, b"chunked"),
    }
}

//! The body length of a message (RFC 9112 section 6.3), and how a written head frames its
//! body.
//!
//! [`request_body`] and [`response_body`] decide how many bytes follow a parsed head, in the
//! RFC's order: responses that never have a body, then Transfer-Encoding, then
//! Content-Length, then the default (no body for requests, read-until-close for responses).
//! Every ambiguous case that request smuggling relies on is refused, not guessed:
//!
//! | Input | Result |
//! |---|---|
//! | `Content-Length` twice, or `5, 5` | [`FramingError::DuplicateContentLength`] (400) |
//! | `Content-Length: +5`, `5 5`, `5,`, empty | [`FramingError::InvalidContentLength`] (400) |
//! | `Content-Length` above `max_body_len` or 2^64 | [`Limit::BodyLength`] (413) |
//! | `Transfer-Encoding` with `Content-Length` | [`FramingError::TransferEncodingWithContentLength`] (400) |
//! | `Transfer-Encoding: gzip` (chunked not last) | [`FramingError::ChunkedNotFinal`] (400) |
//! | `Transfer-Encoding: chunked, chunked` | [`FramingError::ChunkedTwice`] (400) |
//! | `Transfer-Encoding: gzip, chunked` | [`FramingError::UnsupportedTransferCoding`] (501) |
//! | `Transfer-Encoding` in HTTP/1.0 | [`FramingError::TransferEncodingInHttp10`] (400) |
//!
//! "No Content-Length", "Content-Length: 0" and "chunked" stay three different answers:
//! [`BodyKind::None`], [`BodyKind::Length`]`(0)` and [`BodyKind::Chunked`].

use crate::error::{FramingError, Limit, RemoteError};
use crate::field::Headers;
use crate::head::{RequestHead, ResponseHead};
use crate::limits::Limits;
use crate::method::Method;
use crate::syntax::{eq_ignore_case, list_elements, trim_ows};
use crate::version::Version;

/// How the body of a received message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// No body at all: a request without framing fields, a response to HEAD, 1xx, 204, 304,
    /// or a 2xx to CONNECT (after which the connection is a tunnel).
    None,
    /// Exactly this many bytes, from Content-Length (which may be 0).
    Length(u64),
    /// The chunked coding; decode with [`ChunkedDecoder`](crate::chunked::ChunkedDecoder).
    Chunked,
    /// A response body that runs until the server closes the connection.
    CloseDelimited,
}

/// How a head the local side writes frames its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Framing {
    /// The writer adds no framing field and refuses none: for heads without a body, for a
    /// HEAD response that repeats the Content-Length of the GET, or for a close-delimited body.
    #[default]
    AsGiven,
    /// The writer adds `Content-Length: n`.
    Length(u64),
    /// The writer adds `Transfer-Encoding: chunked` (HTTP/1.1 only).
    Chunked,
}

/// The body length of a request.
///
/// ```
/// use tern_proto::{body::{request_body, BodyKind}, EMPTY_SLOT, FramingError, Limits, RemoteError, RequestHead};
/// let limits = Limits::default();
/// let mut slots = [EMPTY_SLOT; 8];
/// let input = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n";
/// let (head, _) = RequestHead::parse(input, &mut slots, &limits)?.complete().unwrap();
/// assert_eq!(request_body(&head, &limits), Err(RemoteError::Framing(FramingError::DuplicateContentLength)));
/// # Ok::<(), tern_proto::RemoteError>(())
/// ```
pub fn request_body(head: &RequestHead<'_>, limits: &Limits) -> Result<BodyKind, RemoteError> {
    Ok(framed(&head.headers, head.version, limits)?.unwrap_or(BodyKind::None))
}

/// The body length of a response to a request made with `request_method`.
///
/// The status and the method come first: a response to HEAD, a 1xx, 204 or 304, and a 2xx
/// to CONNECT have no body whatever their fields say.
pub fn response_body(
    request_method: &Method<'_>,
    head: &ResponseHead<'_>,
    limits: &Limits,
) -> Result<BodyKind, RemoteError> {
    let code = head.status.as_u16();
    if *request_method == Method::Head
        || head.status.is_informational()
        || code == 204
        || code == 304
        || (*request_method == Method::Connect && head.status.is_success())
    {
        return Ok(BodyKind::None);
    }
    Ok(framed(&head.headers, head.version, limits)?.unwrap_or(BodyKind::CloseDelimited))
}

/// Transfer-Encoding, then Content-Length; `None` when neither is present.
fn framed(headers: &Headers<'_>, version: Version, limits: &Limits) -> Result<Option<BodyKind>, RemoteError> {
    let mut content_length = None;
    let mut content_length_fields = 0usize;
    let mut transfer_encoding = false;
    for field in headers.iter() {
        // Dispatch on length first: most fields are neither, and this is every message's path.
        match field.name.len() {
            14 if field.is("content-length") => {
                content_length_fields += 1;
                content_length = Some(field.value);
            }
            17 if field.is("transfer-encoding") => transfer_encoding = true,
            _ => {}
        }
    }
    if transfer_encoding {
        if version == Version::Http10 {
            return Err(FramingError::TransferEncodingInHttp10.into());
        }
        if content_length_fields > 0 {
            return Err(FramingError::TransferEncodingWithContentLength.into());
        }
        return check_codings(headers).map(|()| Some(BodyKind::Chunked));
    }
    match (content_length_fields, content_length) {
        (0, _) | (_, None) => Ok(None),
        (1, Some(value)) => parse_content_length(value, limits.max_body_len).map(|n| Some(BodyKind::Length(n))),
        _ => Err(FramingError::DuplicateContentLength.into()),
    }
}

/// The transfer codings over every Transfer-Encoding field must be exactly `chunked`.
fn check_codings(headers: &Headers<'_>) -> Result<(), RemoteError> {
    let mut chunked = 0usize;
    let mut other = false;
    let mut last_is_chunked = false;
    for value in headers.get_all("transfer-encoding") {
        for coding in list_elements(value) {
            // A coding may carry parameters: `gzip;q=1`. chunked defines none, and a peer that
            // ignored them would frame the message differently: refused.
            let mut parts = coding.split(|&b| b == b';');
            let name = trim_ows(parts.next().unwrap_or_default());
            last_is_chunked = eq_ignore_case(name, b"chunked");
            if last_is_chunked && parts.next().is_some() {
                return Err(FramingError::ChunkedWithParameters.into());
            }
            if last_is_chunked {
                chunked += 1;
            } else {
                other = true;
            }
        }
    }
    if !last_is_chunked {
        Err(FramingError::ChunkedNotFinal.into())
    } else if chunked > 1 {
        Err(FramingError::ChunkedTwice.into())
    } else if other {
        Err(FramingError::UnsupportedTransferCoding.into())
    } else {
        Ok(())
    }
}

/// `1*DIGIT`, at most `max`. A list of numbers (`5, 5`) is a duplicate; anything else that is
/// not one number is invalid.
fn parse_content_length(value: &[u8], max: u64) -> Result<u64, RemoteError> {
    if value.contains(&b',') {
        let numbers = value.split(|&b| b == b',').map(trim_ows);
        let all_numbers = numbers.clone().all(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit));
        return Err(if all_numbers && numbers.count() > 1 {
            FramingError::DuplicateContentLength.into()
        } else {
            FramingError::InvalidContentLength.into()
        });
    }
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(FramingError::InvalidContentLength.into());
    }
    let too_large = RemoteError::TooLarge { limit: Limit::BodyLength, max };
    let mut n: u64 = 0;
    for d in value {
        n = n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))).ok_or(too_large)?;
    }
    if n > max { Err(too_large) } else { Ok(n) }
}

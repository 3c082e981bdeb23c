//! Errors, split by who broke the rules.
//!
//! Every failure in tern-proto is either the **peer's** fault ([`RemoteError`]: bytes that
//! arrived over the network violate HTTP/1.1 or one of our [`Limits`](crate::Limits)) or the
//! **local** caller's ([`LocalError`]: an argument that would put an invalid message on the
//! wire, or a buffer too small for what was asked). [`Error`] joins the two for APIs that can
//! fail either way. The split mirrors h11's `RemoteProtocolError` / `LocalProtocolError`:
//! a server answers a remote error with [`RemoteError::status`] and closes; a local error is a
//! bug or a configuration problem in the program and nothing is sent.

use crate::status::StatusCode;

/// Either side's error: the peer's ([`RemoteError`]) or the local caller's ([`LocalError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer sent something HTTP/1.1 or our limits forbid.
    #[error("peer broke the rules: {0}")]
    Remote(#[from] RemoteError),
    /// The local caller asked for something that cannot be done.
    #[error("local misuse: {0}")]
    Local(#[from] LocalError),
}

impl Error {
    /// True when the peer is at fault.
    pub const fn is_remote(&self) -> bool {
        matches!(self, Error::Remote(_))
    }

    /// True when the local caller is at fault.
    pub const fn is_local(&self) -> bool {
        matches!(self, Error::Local(_))
    }
}

/// A configured limit: which one was hit and what it allows.
///
/// Each limit is a field of [`Limits`](crate::Limits) (or, for [`Limit::HeaderCount`], the
/// number of header slots the caller provided).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Bytes of empty lines before a start line, which RFC 9112 section 2.2 lets a recipient
    /// skip (`Limits::max_leading_empty_len`).
    LeadingEmptyLines,
    /// Bytes in the request-target (`Limits::max_target_len`; ESP-IDF `max_uri_len`).
    RequestTarget,
    /// Bytes in a method token (`Limits::max_method_len`).
    Method,
    /// Bytes in a reason phrase (`Limits::max_reason_len`).
    ReasonPhrase,
    /// Bytes in the header section: every field line with its line ending plus the closing
    /// empty line (`Limits::max_header_section_len`; ESP-IDF `max_req_hdr_len`).
    HeaderSection,
    /// Number of header fields (the number of header slots given to the parser).
    HeaderCount,
    /// Bytes in a message body, declared by Content-Length or summed over chunks
    /// (`Limits::max_body_len`).
    BodyLength,
    /// Bytes in one chunk's extensions (`Limits::max_chunk_ext_len`).
    ChunkExtension,
    /// Bytes in the trailer section of a chunked body (`Limits::max_trailer_section_len`).
    TrailerSection,
}

impl Limit {
    /// A short name for messages and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Limit::LeadingEmptyLines => "empty lines before the request line",
            Limit::RequestTarget => "request-target length",
            Limit::Method => "method length",
            Limit::ReasonPhrase => "reason phrase length",
            Limit::HeaderSection => "header section length",
            Limit::HeaderCount => "header count",
            Limit::BodyLength => "body length",
            Limit::ChunkExtension => "chunk extension length",
            Limit::TrailerSection => "trailer section length",
        }
    }
}

impl core::fmt::Display for Limit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of a message whose syntax was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Syntax {
    /// The method is not a token.
    Method,
    /// The request-target has a byte a request-target may not hold.
    RequestTarget,
    /// The HTTP-version is not of the form `HTTP/d.d`.
    Version,
    /// The status code is not three digits.
    StatusCode,
    /// The reason phrase holds a control byte.
    ReasonPhrase,
    /// A header field name is empty or not a token (including whitespace before the colon).
    HeaderName,
    /// A header field value holds a control byte such as NUL.
    HeaderValue,
    /// A CR not followed by LF.
    BareCarriageReturn,
    /// A field line starting with whitespace: obs-fold (RFC 9112 section 5.2), or whitespace
    /// between the start line and the first field (section 2.2).
    ObsoleteLineFolding,
    /// Host missing from an HTTP/1.1 request, sent more than once, or not `host[:port]`
    /// (RFC 9112 section 3.2: a server MUST answer 400).
    Host,
}

impl Syntax {
    /// A short name for messages and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Syntax::Method => "method",
            Syntax::RequestTarget => "request-target",
            Syntax::Version => "HTTP version",
            Syntax::StatusCode => "status code",
            Syntax::ReasonPhrase => "reason phrase",
            Syntax::HeaderName => "header name",
            Syntax::HeaderValue => "header value",
            Syntax::BareCarriageReturn => "line ending (bare CR)",
            Syntax::ObsoleteLineFolding => "line folding (obs-fold)",
            Syntax::Host => "Host field (missing, repeated or invalid)",
        }
    }
}

impl core::fmt::Display for Syntax {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the body length of a message could not be decided (RFC 9112 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// A Content-Length value that is not a plain decimal number.
    #[error("Content-Length is not a decimal number")]
    InvalidContentLength,
    /// More than one Content-Length, as separate fields or as a list, equal or not.
    #[error("Content-Length appears more than once")]
    DuplicateContentLength,
    /// Both Transfer-Encoding and Content-Length.
    #[error("Transfer-Encoding together with Content-Length")]
    TransferEncodingWithContentLength,
    /// Transfer-Encoding whose final coding is not `chunked` (or is empty).
    #[error("Transfer-Encoding does not end with chunked")]
    ChunkedNotFinal,
    /// `chunked` applied more than once.
    #[error("chunked applied more than once")]
    ChunkedTwice,
    /// A transfer coding other than `chunked` (gzip, deflate, ...), which tern does not decode.
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// Transfer-Encoding in an HTTP/1.0 message (RFC 9112 section 6.1: faulty framing).
    #[error("Transfer-Encoding in an HTTP/1.0 message")]
    TransferEncodingInHttp10,
    /// `chunked` with parameters (`chunked;q=1`): the coding defines none, and a recipient
    /// that ignored them could frame the message differently (RFC 9112 section 7.1).
    #[error("chunked with parameters")]
    ChunkedWithParameters,
}

/// What was wrong with a chunked body (RFC 9112 section 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// The chunk-size is missing or holds a byte that is not a hex digit.
    #[error("invalid chunk size")]
    InvalidSize,
    /// The chunk-size does not fit in 64 bits.
    #[error("chunk size overflows 64 bits")]
    SizeOverflow,
    /// A chunk extension holds a control byte, or the whitespace or extensions after a
    /// chunk-size end in a bare LF: there only CRLF ends the line, since a recipient that skips
    /// them up to CRLF would read a different chunk size (RFC 9112 section 7.1.1).
    #[error("invalid chunk extension")]
    InvalidExtension,
    /// Chunk data not followed by a line ending.
    #[error("chunk data not followed by CRLF")]
    MissingDataTerminator,
    /// A CR not followed by LF in a chunk line.
    #[error("bare CR in chunk framing")]
    BareCarriageReturn,
    /// A trailer field line that is not `name: value`.
    #[error("invalid trailer field")]
    InvalidTrailer,
}

/// The peer broke HTTP/1.1 or one of our limits.
///
/// A server answers each with [`RemoteError::status`] and, because the framing of the rest
/// of the stream is then uncertain, closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The message head is syntactically wrong.
    #[error("malformed {0}")]
    Malformed(Syntax),
    /// A well-formed HTTP version other than 1.0 and 1.1.
    #[error("unsupported HTTP version {major}.{minor}")]
    UnsupportedVersion {
        /// The major version digit.
        major: u8,
        /// The minor version digit.
        minor: u8,
    },
    /// A limit was exceeded.
    #[error("{limit} exceeds the limit of {max}")]
    TooLarge {
        /// Which limit.
        limit: Limit,
        /// What it allows.
        max: u64,
    },
    /// The body length cannot be decided safely.
    #[error("message framing: {0}")]
    Framing(#[from] FramingError),
    /// A chunked body is malformed.
    #[error("chunked body: {0}")]
    Chunk(#[from] ChunkError),
}

impl RemoteError {
    /// The status a server sends in answer to this error (RFC 9110, RFC 9112, RFC 6585).
    ///
    /// ```
    /// use tern_proto::{Limit, RemoteError, StatusCode};
    /// let e = RemoteError::TooLarge { limit: Limit::RequestTarget, max: 512 };
    /// assert_eq!(e.status(), StatusCode::URI_TOO_LONG);
    /// ```
    pub const fn status(&self) -> StatusCode {
        match self {
            RemoteError::Malformed(_) | RemoteError::Chunk(_) => StatusCode::BAD_REQUEST,
            RemoteError::UnsupportedVersion { .. } => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            RemoteError::TooLarge { limit, .. } => match limit {
                Limit::RequestTarget => StatusCode::URI_TOO_LONG,
                Limit::Method => StatusCode::NOT_IMPLEMENTED,
                Limit::HeaderSection | Limit::HeaderCount => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                Limit::BodyLength => StatusCode::CONTENT_TOO_LARGE,
                Limit::LeadingEmptyLines | Limit::ReasonPhrase | Limit::ChunkExtension | Limit::TrailerSection => {
                    StatusCode::BAD_REQUEST
                }
            },
            RemoteError::Framing(FramingError::UnsupportedTransferCoding) => StatusCode::NOT_IMPLEMENTED,
            RemoteError::Framing(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// The local caller asked for something that would put an invalid message on the wire, or
/// gave a buffer too small. Nothing was written when this is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// A method that is not a token.
    #[error("method is not a valid token")]
    InvalidMethod,
    /// A request-target that is empty or holds whitespace or a control byte.
    #[error("request-target is empty or holds whitespace or a control byte")]
    InvalidTarget,
    /// A status code outside 100..=999.
    #[error("status code {0} is outside 100..=999")]
    InvalidStatusCode(u16),
    /// A reason phrase with a CR, LF or other control byte.
    #[error("reason phrase holds a control byte")]
    InvalidReason,
    /// A header name that is empty or not a token.
    #[error("header name is empty or not a token")]
    InvalidHeaderName,
    /// A header value holding CR, LF, NUL or another control byte other than tab.
    #[error("header value holds CR, LF, NUL or another control byte")]
    InvalidHeaderValue,
    /// A Content-Length or Transfer-Encoding field given alongside framing the writer sets
    /// itself, or framing fields that contradict each other (both, or Content-Length twice):
    /// the shapes a receiver must refuse.
    #[error("Content-Length/Transfer-Encoding conflict with each other or with the writer's framing")]
    FramingHeaderConflict,
    /// Body framing (Content-Length, Transfer-Encoding) on a 1xx or 204 response, which has
    /// no body (RFC 9110 sections 8.6 and 15.2, RFC 9112 section 6.1).
    #[error("1xx and 204 responses carry no body framing")]
    BodyNotAllowed,
    /// Chunked framing asked for on an HTTP/1.0 message, which has no chunked coding.
    #[error("chunked framing on an HTTP/1.0 message")]
    ChunkedInHttp10,
    /// More header fields than the configured maximum (ESP-IDF `max_resp_headers`).
    #[error("more than {max} header fields")]
    TooManyHeaders {
        /// The configured maximum.
        max: usize,
    },
    /// The output buffer cannot hold what was asked (ESP-IDF `HEADER_TOO_LONG` when the
    /// buffer is `buffer_size_tx`).
    #[error("output needs {needed} bytes but the buffer has {available}")]
    BufferTooSmall {
        /// Bytes the write needs.
        needed: usize,
        /// Bytes the buffer had free.
        available: usize,
    },
}

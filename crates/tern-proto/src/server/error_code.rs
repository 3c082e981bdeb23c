//! ESP-IDF's `httpd_err_code_t`: the errors a server answers itself, with ESP-IDF's status
//! lines and short default bodies.

use crate::error::RemoteError;
use crate::status::StatusCode;

/// `httpd_err_code_t`, in ESP-IDF's order (the discriminant is ESP-IDF's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HttpdErrCode {
    /// `HTTPD_500_INTERNAL_SERVER_ERROR`.
    InternalServerError = 0,
    /// `HTTPD_501_METHOD_NOT_IMPLEMENTED`.
    MethodNotImplemented = 1,
    /// `HTTPD_505_VERSION_NOT_SUPPORTED`.
    VersionNotSupported = 2,
    /// `HTTPD_400_BAD_REQUEST`.
    BadRequest = 3,
    /// `HTTPD_401_UNAUTHORIZED`.
    Unauthorized = 4,
    /// `HTTPD_403_FORBIDDEN`.
    Forbidden = 5,
    /// `HTTPD_404_NOT_FOUND`.
    NotFound = 6,
    /// `HTTPD_405_METHOD_NOT_ALLOWED`.
    MethodNotAllowed = 7,
    /// `HTTPD_408_REQ_TIMEOUT`.
    RequestTimeout = 8,
    /// `HTTPD_411_LENGTH_REQUIRED`.
    LengthRequired = 9,
    /// `HTTPD_413_CONTENT_TOO_LARGE`.
    ContentTooLarge = 10,
    /// `HTTPD_414_URI_TOO_LONG`.
    UriTooLong = 11,
    /// `HTTPD_431_REQ_HDR_FIELDS_TOO_LARGE`.
    RequestHeaderFieldsTooLarge = 12,
}

impl HttpdErrCode {
    /// Every code, in ESP-IDF's order.
    pub const ALL: [HttpdErrCode; 13] = [
        HttpdErrCode::InternalServerError,
        HttpdErrCode::MethodNotImplemented,
        HttpdErrCode::VersionNotSupported,
        HttpdErrCode::BadRequest,
        HttpdErrCode::Unauthorized,
        HttpdErrCode::Forbidden,
        HttpdErrCode::NotFound,
        HttpdErrCode::MethodNotAllowed,
        HttpdErrCode::RequestTimeout,
        HttpdErrCode::LengthRequired,
        HttpdErrCode::ContentTooLarge,
        HttpdErrCode::UriTooLong,
        HttpdErrCode::RequestHeaderFieldsTooLarge,
    ];

    /// The status code.
    pub const fn status(self) -> StatusCode {
        match self {
            HttpdErrCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            HttpdErrCode::MethodNotImplemented => StatusCode::NOT_IMPLEMENTED,
            HttpdErrCode::VersionNotSupported => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            HttpdErrCode::BadRequest => StatusCode::BAD_REQUEST,
            HttpdErrCode::Unauthorized => StatusCode::UNAUTHORIZED,
            HttpdErrCode::Forbidden => StatusCode::FORBIDDEN,
            HttpdErrCode::NotFound => StatusCode::NOT_FOUND,
            HttpdErrCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpdErrCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            HttpdErrCode::LengthRequired => StatusCode::LENGTH_REQUIRED,
            HttpdErrCode::ContentTooLarge => StatusCode::CONTENT_TOO_LARGE,
            HttpdErrCode::UriTooLong => StatusCode::URI_TOO_LONG,
            HttpdErrCode::RequestHeaderFieldsTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }

    /// The reason phrase of ESP-IDF's status line.
    pub const fn reason(self) -> &'static str {
        match self {
            HttpdErrCode::InternalServerError => "Internal Server Error",
            HttpdErrCode::MethodNotImplemented => "Method Not Implemented",
            HttpdErrCode::VersionNotSupported => "Version Not Supported",
            HttpdErrCode::BadRequest => "Bad Request",
            HttpdErrCode::Unauthorized => "Unauthorized",
            HttpdErrCode::Forbidden => "Forbidden",
            HttpdErrCode::NotFound => "Not Found",
            HttpdErrCode::MethodNotAllowed => "Method Not Allowed",
            HttpdErrCode::RequestTimeout => "Request Timeout",
            HttpdErrCode::LengthRequired => "Length Required",
            HttpdErrCode::ContentTooLarge => "Content Too Large",
            HttpdErrCode::UriTooLong => "URI Too Long",
            HttpdErrCode::RequestHeaderFieldsTooLarge => "Request Header Fields Too Large",
        }
    }

    /// ESP-IDF's default body for `httpd_resp_send_err` without a message.
    pub const fn default_message(self) -> &'static str {
        match self {
            HttpdErrCode::InternalServerError => "Server has encountered an unexpected error",
            HttpdErrCode::MethodNotImplemented => "Server does not support this method",
            HttpdErrCode::VersionNotSupported => "HTTP version not supported by server",
            HttpdErrCode::BadRequest => "Bad request syntax",
            HttpdErrCode::Unauthorized => "No permission -- see authorization schemes",
            HttpdErrCode::Forbidden => "Request forbidden -- authorization will not help",
            HttpdErrCode::NotFound => "Nothing matches the given URI",
            HttpdErrCode::MethodNotAllowed => "Specified method is invalid for this resource",
            HttpdErrCode::RequestTimeout => "Server closed this connection",
            HttpdErrCode::LengthRequired => "Client must specify Content-Length",
            HttpdErrCode::ContentTooLarge => "Content is too large",
            HttpdErrCode::UriTooLong => "URI is too long",
            HttpdErrCode::RequestHeaderFieldsTooLarge => "Header fields are too long",
        }
    }

    /// The code for a status, if ESP-IDF has one.
    pub fn from_status(status: StatusCode) -> Option<HttpdErrCode> {
        HttpdErrCode::ALL.into_iter().find(|code| code.status() == status)
    }

    /// The code a server answers a peer's protocol error with (`RemoteError::status`).
    ///
    /// ```
    /// use tern_proto::{Limit, RemoteError};
    /// use tern_proto::server::HttpdErrCode;
    /// let too_long = RemoteError::TooLarge { limit: Limit::RequestTarget, max: 512 };
    /// assert_eq!(HttpdErrCode::from_remote(&too_long), HttpdErrCode::UriTooLong);
    /// ```
    pub fn from_remote(error: &RemoteError) -> HttpdErrCode {
        HttpdErrCode::from_status(error.status()).unwrap_or(HttpdErrCode::BadRequest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{FramingError, Limit};

    #[test]
    fn codes_follow_esp_idf_numbering_and_statuses() {
        for (value, code) in HttpdErrCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, value);
            assert_eq!(HttpdErrCode::from_status(code.status()), Some(code));
            assert!(!code.default_message().is_empty());
        }
        assert_eq!(HttpdErrCode::from_status(StatusCode::new(418).unwrap()), None);
    }

    #[test]
    fn remote_errors_map_to_their_status() {
        let cases = [
            (RemoteError::TooLarge { limit: Limit::RequestTarget, max: 512 }, 414),
            (RemoteError::TooLarge { limit: Limit::HeaderSection, max: 1024 }, 431),
            (RemoteError::TooLarge { limit: Limit::BodyLength, max: 10 }, 413),
            (RemoteError::Framing(FramingError::DuplicateContentLength), 400),
            (RemoteError::Framing(FramingError::UnsupportedTransferCoding), 501),
            (RemoteError::UnsupportedVersion { major: 2, minor: 0 }, 505),
        ];
        for (error, status) in cases {
            assert_eq!(HttpdErrCode::from_remote(&error).status().as_u16(), status, "{error:?}");
        }
    }
}

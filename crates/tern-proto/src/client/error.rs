//! What can go wrong in a request, who is at fault, and ESP-IDF's code for it.

use crate::error::{LocalError, RemoteError};
use crate::status::StatusCode;

use super::auth::AuthError;
use super::url::UrlError;

/// The operation a timeout or a lost connection interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Opening the connection.
    Connect,
    /// Writing the request.
    Send,
    /// Waiting for the response head.
    ReceiveHead,
    /// Reading the response body.
    ReceiveBody,
}

impl Stage {
    const fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::Send => "sending the request",
            Stage::ReceiveHead => "waiting for the response head",
            Stage::ReceiveBody => "reading the response body",
        }
    }
}

impl core::fmt::Display for Stage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a client operation failed.
///
/// [`is_remote`](Self::is_remote) tells a server's fault from the local program's or the
/// network's; [`esp_err`](Self::esp_err) gives the `esp_err_t` ESP-IDF returns in the same
/// situation, for code ported from C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server broke HTTP/1.1 or one of our limits in its response.
    #[error("the server's response is invalid: {0}")]
    Remote(#[from] RemoteError),
    /// The caller asked for a message that cannot be written (a CR in a header value, ...).
    #[error("invalid request: {0}")]
    Local(#[from] LocalError),
    /// A URL given by the caller cannot be used.
    #[error("invalid URL: {0}")]
    Url(UrlError),
    /// The server's `Location` cannot be used.
    #[error("the server sent an unusable Location: {0}")]
    BadLocation(UrlError),
    /// Credentials or a challenge could not be used.
    #[error("authentication failed: {0}")]
    Auth(AuthError),
    /// One request header line is longer than the transmit buffer (`buffer_size_tx`).
    /// Nothing was sent.
    #[error("a request header line of {needed} bytes does not fit buffer_size_tx ({capacity} bytes)")]
    HeaderTooLong {
        /// Bytes of the line, with its CRLF.
        needed: usize,
        /// The transmit buffer's size.
        capacity: usize,
    },
    /// The store (`store_size`) has no room for a URL, header or credential.
    #[error("the client store is full: {needed} bytes needed, {available} free (raise store_size)")]
    StoreFull {
        /// Bytes the record needs.
        needed: usize,
        /// Bytes free.
        available: usize,
    },
    /// The configured buffer is smaller than the configured sizes add up to.
    #[error("the client buffer has {available} bytes but the configuration needs {needed}")]
    BufferTooSmall {
        /// `ClientConfig::buffer_len()`.
        needed: usize,
        /// The buffer given.
        available: usize,
    },
    /// The call does not fit the client's state (reading before `fetch_headers`, ...).
    #[error("{operation} is not possible now")]
    InvalidState {
        /// The operation called.
        operation: &'static str,
    },
    /// The streamed request body did not match the length given to `open`.
    #[error("the request body was declared as {declared} bytes but {written} were written")]
    BodyLengthMismatch {
        /// The length given to `open`.
        declared: u64,
        /// Bytes written (so far, or in excess).
        written: u64,
    },
    /// The connection could not be opened.
    #[error("could not connect")]
    Connect,
    /// The adapter reported an I/O error.
    #[error("the connection failed while {0}")]
    Transport(Stage),
    /// The server closed the connection before the response was complete.
    #[error("the server closed the connection while {0}")]
    ConnectionClosed(Stage),
    /// The response body ended early (a close before Content-Length bytes, or before the
    /// last chunk).
    #[error("the response body ended after {received} bytes, before its end")]
    IncompleteBody {
        /// Body bytes received.
        received: u64,
    },
    /// A per-operation timeout (`timeout_ms`) or the whole-request deadline passed.
    #[error("timed out while {0}")]
    Timeout(Stage),
    /// More redirects than `max_redirection_count`.
    #[error("more than {max} redirects")]
    TooManyRedirects {
        /// The configured maximum.
        max: u16,
    },
    /// A redirect status without a `Location`.
    #[error("redirect status {0} without a Location")]
    RedirectWithoutLocation(StatusCode),
    /// An https URL redirected to plain http.
    #[error("refused a redirect from https to http")]
    RedirectDowngrade,
    /// The scheme needs TLS and the adapter has none.
    #[error("https needs TLS, which this adapter was built without")]
    TlsUnavailable,
}

impl ClientError {
    /// True when the server is at fault.
    pub const fn is_remote(&self) -> bool {
        matches!(
            self,
            ClientError::Remote(_)
                | ClientError::BadLocation(_)
                | ClientError::RedirectWithoutLocation(_)
                | ClientError::RedirectDowngrade
                | ClientError::IncompleteBody { .. }
                | ClientError::ConnectionClosed(_)
                | ClientError::TooManyRedirects { .. }
                | ClientError::Auth(AuthError::MalformedChallenge { .. })
        )
    }

    /// True when the local program is at fault (a bad argument or configuration).
    pub const fn is_local(&self) -> bool {
        matches!(
            self,
            ClientError::Local(_)
                | ClientError::Url(_)
                | ClientError::HeaderTooLong { .. }
                | ClientError::StoreFull { .. }
                | ClientError::BufferTooSmall { .. }
                | ClientError::InvalidState { .. }
                | ClientError::BodyLengthMismatch { .. }
                | ClientError::TlsUnavailable
        ) || matches!(self, ClientError::Auth(e) if !e.is_remote())
    }

    /// The `esp_err_t` ESP-IDF returns in the same situation.
    pub const fn esp_err(&self) -> i32 {
        const ESP_FAIL: i32 = -1;
        const ESP_ERR_INVALID_ARG: i32 = 0x102;
        const ESP_ERR_INVALID_STATE: i32 = 0x103;
        const ESP_ERR_NO_MEM: i32 = 0x101;
        const ESP_ERR_NOT_SUPPORTED: i32 = 0x106;
        match self {
            ClientError::TooManyRedirects { .. } => 0x7001,
            ClientError::Connect => 0x7002,
            ClientError::Transport(Stage::Send) | ClientError::BodyLengthMismatch { .. } => 0x7003,
            ClientError::Remote(_) | ClientError::Transport(_) => 0x7004,
            ClientError::TlsUnavailable => 0x7005,
            ClientError::ConnectionClosed(Stage::ReceiveBody) | ClientError::IncompleteBody { .. } => 0x700C,
            ClientError::ConnectionClosed(_) => 0x7008,
            ClientError::Timeout(Stage::ReceiveBody) => 0x700B,
            ClientError::Timeout(_) => 0x7007,
            ClientError::RedirectDowngrade => 0x700D,
            ClientError::HeaderTooLong { .. } => 0x700E,
            ClientError::Url(_) | ClientError::BadLocation(_) | ClientError::RedirectWithoutLocation(_) => {
                ESP_ERR_INVALID_ARG
            }
            ClientError::InvalidState { .. } => ESP_ERR_INVALID_STATE,
            ClientError::StoreFull { .. } | ClientError::BufferTooSmall { .. } => ESP_ERR_NO_MEM,
            ClientError::Auth(_) => ESP_ERR_NOT_SUPPORTED,
            ClientError::Local(_) => ESP_FAIL,
        }
    }
}

impl From<super::store::StoreFull> for ClientError {
    fn from(e: super::store::StoreFull) -> Self {
        ClientError::StoreFull { needed: e.needed, available: e.available }
    }
}

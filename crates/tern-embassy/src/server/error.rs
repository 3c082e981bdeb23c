//! What can go wrong in the embassy server, and whose fault it is.

use tern_proto::LocalError;
use tern_proto::server::{RouterError, ServerError, SessionError};

/// An error from the server or from a request's calls.
///
/// A handler returns `Err` (any of these, or [`Error::Handler`]) to close its session, as an
/// ESP-IDF handler does by returning anything but `ESP_OK`.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine refused a call or the client broke the protocol; the engine's error says
    /// which ([`ServerError::is_remote`]).
    #[error(transparent)]
    Engine(#[from] ServerError),
    /// Registering or unregistering a URI handler failed.
    #[error(transparent)]
    Router(#[from] RouterError),
    /// A session call named no open session, or a client list was too short.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A response header does not fit: more than
    /// [`MAX_RESP_HEADERS`](super::MAX_RESP_HEADERS) fields, or more than
    /// [`RESP_HEADER_SPACE`](super::RESP_HEADER_SPACE) bytes of names, values and content
    /// type (`ESP_ERR_HTTPD_RESP_HDR`).
    #[error("the response headers do not fit ({needed} bytes or fields needed, {available} left)")]
    ResponseHeaders {
        /// What the call needed: bytes, or one more field.
        needed: usize,
        /// What was left.
        available: usize,
    },
    /// A request body (or WebSocket payload) is longer than the caller's buffer.
    #[error("body longer than the buffer of {limit} bytes")]
    BodyTooLarge {
        /// The buffer's length.
        limit: usize,
    },
    /// The server is stopped (or stopping).
    #[error("the server is stopped")]
    Stopped,
    /// More `serve` / `serve_connection` calls run at once than the server has task slots
    /// for (its `TASKS` parameter).
    #[error("all {capacity} task slots of the server are in use")]
    TooManyTasks {
        /// The server's `TASKS`.
        capacity: usize,
    },
    /// The engine buffer is smaller than `ServerConfig::buffer_len`.
    #[error("the engine buffer is too small: {0}")]
    Buffer(LocalError),
    /// The listening socket could not accept (port 0, or a socket in the wrong state).
    #[cfg(feature = "embassy-net")]
    #[error("cannot accept: {0:?}")]
    Accept(embassy_net::tcp::AcceptError),
    /// The handler failed, for the reason given (ESP-IDF's `ESP_FAIL`): the session closes.
    #[error("handler failed: {0}")]
    Handler(&'static str),
}

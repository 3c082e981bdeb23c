//! What can go wrong in the tokio server, and whose fault it is.

use std::borrow::Cow;
use std::io;

use tern_proto::server::{RouterError, ServerError, SessionId};
#[cfg(feature = "tls")]
use tern_tls::TlsError;

/// An error from the server or from a request's calls.
///
/// A handler returns `Err` (any of these, or [`Error::fail`]) to close its session, as an
/// ESP-IDF handler does by returning anything but `ESP_OK`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine refused a call or the client broke the protocol; the engine's error says
    /// which ([`ServerError::is_remote`]).
    #[error(transparent)]
    Engine(#[from] ServerError),
    /// Registering or unregistering a URI handler failed.
    #[error(transparent)]
    Router(#[from] RouterError),
    /// The listening socket could not be set up.
    #[error("cannot listen: {0}")]
    Listen(#[source] io::Error),
    /// The server is stopped (or stopping).
    #[error("the server is stopped")]
    Stopped,
    /// The session id names no open session.
    #[error("no open session {0:?}")]
    UnknownSession(SessionId),
    /// A WebSocket send to a session that does not speak WebSocket.
    #[error("session {0:?} is not a WebSocket session")]
    NotWebSocket(SessionId),
    /// A request body (or WebSocket payload) is longer than the caller's limit.
    #[error("body longer than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit the caller gave.
        limit: usize,
    },
    /// TLS failed on the session (the handshake, or a record later); the error says why
    /// and whose fault it was ([`TlsError::origin`]).
    #[cfg(feature = "tls")]
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The handler failed, for the reason given.
    #[error("handler failed: {0}")]
    Handler(Cow<'static, str>),
}

impl Error {
    /// A handler failure (ESP-IDF's `ESP_FAIL`): the session closes.
    pub fn fail(reason: impl Into<Cow<'static, str>>) -> Error {
        Error::Handler(reason.into())
    }
}

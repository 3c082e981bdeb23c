//! What can go wrong on a server connection, and whose fault it is.

use crate::error::{LocalError, RemoteError};

/// An error from a [`Connection`](super::Connection) operation.
///
/// [`is_remote`](Self::is_remote) errors are the client's doing (a protocol violation, a
/// stalled or vanished peer); [`is_local`](Self::is_local) ones are the handler's (a call in
/// the wrong state, a header value with CR or LF, a head that does not fit the transmit
/// buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The client broke the protocol (a malformed chunked body, a body over a limit).
    #[error("client protocol error: {0}")]
    Protocol(#[from] RemoteError),
    /// The client sent nothing for `recv_wait_timeout` while a body read waited, or accepted
    /// nothing for `send_wait_timeout` while a response was written.
    #[error("timed out waiting for the client")]
    Timeout,
    /// The request body arrived more slowly than `min_body_rate` allows, averaged over the
    /// time the handler waited for it (after `recv_wait_timeout` of grace).
    #[error("the request body arrived slower than {min_bytes_per_sec} bytes per second")]
    BodyTooSlow {
        /// The configured `min_body_rate`.
        min_bytes_per_sec: u32,
    },
    /// The client closed the connection before the body was complete.
    #[error("client closed the connection after {received} body bytes")]
    IncompleteBody {
        /// Body bytes that did arrive.
        received: u64,
    },
    /// The connection is closed (by the client, a transport failure, or the server).
    #[error("connection closed")]
    ConnectionClosed,
    /// The client broke a WebSocket frame rule; the session closes with the rule's code.
    #[error("WebSocket: {0}")]
    WebSocket(crate::ws::WsError),
    /// A response or header the handler gave cannot go on the wire as asked.
    #[error("invalid response: {0}")]
    Response(#[from] LocalError),
    /// The call does not fit the connection's state (reading a body outside a handler,
    /// sending a second response, ...).
    #[error("`{operation}` is not possible now")]
    InvalidState {
        /// The refused call.
        operation: &'static str,
    },
}

impl ServerError {
    /// The client caused it.
    pub const fn is_remote(&self) -> bool {
        matches!(
            self,
            ServerError::Protocol(_)
                | ServerError::WebSocket(_)
                | ServerError::Timeout
                | ServerError::BodyTooSlow { .. }
                | ServerError::IncompleteBody { .. }
                | ServerError::ConnectionClosed
        )
    }

    /// The client stopped sending, or sent too slowly: [`ServerError::Timeout`] or
    /// [`ServerError::BodyTooSlow`]. A handler answers these with 408 Request Timeout (the
    /// engine does, for a handler that answers nothing).
    pub const fn is_timeout(&self) -> bool {
        matches!(self, ServerError::Timeout | ServerError::BodyTooSlow { .. })
    }

    /// The handler caused it.
    pub const fn is_local(&self) -> bool {
        !self.is_remote()
    }
}

//! The per-connection server engine: one session's requests and responses without a socket.
//!
//! A [`Connection`] serves one accepted connection the way esp_http_server serves one
//! socket, over one caller buffer of [`ServerConfig::buffer_len`] bytes (the request head and
//! a body window, then the response head). It is driven like the client: the adapter asks
//! [`Connection::poll`] what to do and reports back, and the handler's calls
//! ([`read_body`](Connection::read_body), [`send`](Connection::send),
//! [`send_chunk`](Connection::send_chunk), [`finish`](Connection::finish), ...) set what the
//! engine works towards next.
//!
//! ```text
//!            received(n)                    Completion::Request
//!   Idle ───────────────▶ Head ──────────────────────────────▶ Handling ◀─┐
//!    ▲   idle timeout:       │ malformed, over a limit, 408:      │   read_body / send /
//!    │   close               ▼ Completion::Error(code)            │   send_chunk: poll to
//!    │                   Refusing ── reject(code) ─▶ Closing      │   Data / Sent  ───────┘
//!    │                       │ error handler + finish(Ok)           │ finish(outcome)
//!    │                       ▼                                    ▼
//!    └──── next request ── Finishing (send the rest, discard unread body) ──▶ Closing ─▶ Closed
//! ```
//!
//! The adapter's loop:
//!
//! - [`Action::Receive`]: read into the buffer, then [`Connection::received`] (0 = the
//!   client closed); sleep no later than [`Connection::deadline`], then
//!   [`Connection::handle_timeout`].
//! - [`Action::Transmit`]: write the engine's bytes, then the handler's body from the
//!   given offset (one vectored write), then [`Connection::transmitted`].
//! - [`Action::Close`]: close the socket, then [`Connection::closed`].
//! - [`Action::Done`]: the operation is over. [`Completion::Request`] hands a request to its
//!   handler; [`Completion::Error`] to the error handler for that code (or
//!   [`Connection::reject`] for ESP-IDF's default); [`Completion::Closed`] ends the session.
//!
//! What the engine decides, so that no adapter has to: keep-alive by the HTTP/1.0 and 1.1
//! rules with `Connection: close` honoured (and said when the server closes); `100 Continue`
//! sent only when the handler reads the body; unread body discarded up to
//! `max_discard_len`; pipelined requests served in order from the buffer; a request head
//! older than `recv_wait_timeout` answered with 408; idle sessions closed after
//! `idle_timeout_ms`; 500 for a handler that answered nothing; HEAD answered without a body;
//! and, for a WebSocket route, the handshake (101, or 400/426), pongs for pings, the closing
//! handshake and every RFC 6455 receive rule (see `websocket.rs`).

mod config;
mod dispatch;
mod drive;
mod engine;
mod error;
mod request;
mod respond;
mod websocket;

pub use config::ServerConfig;
pub use dispatch::Dispatch;
pub use drive::MAX_REQUEST_FIELDS;
pub use engine::{Action, Completion, Connection, HandlerOutcome};
pub use error::ServerError;
pub use request::Request;
pub use respond::Response;

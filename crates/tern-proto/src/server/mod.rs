//! The server side of tern: esp_http_server's behaviour as sans-IO pieces.
//!
//! The per-connection engine, routing tables, sessions and WebSocket arrive over several
//! changes. This release holds the pieces every handler uses:
//!
//! - [`HttpdErrCode`]: the errors a server answers itself, with ESP-IDF's status lines and
//!   default bodies, and the code for each protocol error a peer can make;
//! - [`uri`]: how a registered URI template matches a request path (exact, or ESP-IDF's
//!   wildcard matcher);
//! - [`query`]: the request accessors that read the query string, cookies and headers the way
//!   ESP-IDF's `httpd_query_key_value`, `httpd_req_get_cookie_val` and
//!   `httpd_req_get_hdr_value_str` do, plus URL decoding.

pub mod connection;
mod error_code;
pub mod event;
pub mod query;
pub mod uri;

pub use connection::{Action, Completion, Connection, HandlerOutcome, Request, Response, ServerConfig, ServerError};
pub use error_code::HttpdErrCode;
pub use event::SessionId;

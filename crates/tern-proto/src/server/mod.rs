//! The server side of tern: esp_http_server's behaviour as sans-IO pieces.
//!
//! Everything esp_http_server decides, without sockets, tasks or clocks:
//!
//! - [`connection`]: the per-connection engine ([`Connection`]): one session's requests,
//!   bodies and responses on the same driving loop as the client;
//! - [`HttpdErrCode`]: the errors a server answers itself, with ESP-IDF's status lines and
//!   default bodies, and the code for each protocol error a peer can make;
//! - [`uri`]: how a registered URI template matches a request path (exact, or ESP-IDF's
//!   wildcard matcher);
//! - [`query`]: the request accessors that read the query string, cookies and headers the way
//!   ESP-IDF's `httpd_query_key_value`, `httpd_req_get_cookie_val` and
//!   `httpd_req_get_hdr_value_str` do, plus URL decoding;
//! - [`router`]: the URI handler table ([`Router`], `httpd_register_uri_handler`) with its
//!   dispatch rules (registration order, 404/405/501, `HEAD` served by `GET` routes), and the
//!   per-status error handlers ([`ErrorHandlers`], `httpd_register_err_handler`);
//! - [`sessions`]: the session table ([`Sessions`], ESP-IDF's `sock_db`): admission, LRU
//!   purge, session contexts handed back exactly once, async-handler holds, close requests and
//!   the client list;
//! - [`control`]: the control path ([`ServerCore`], ESP-IDF's control socket): work items,
//!   closes, async handler completion and stop, as requests whose effects the adapter carries
//!   out;
//! - [`event`]: ESP-IDF's `HTTP_SERVER_EVENT_*`, reported to a process-wide sink.

pub mod connection;
pub mod control;
mod error_code;
pub mod event;
pub mod query;
pub mod router;
pub mod sessions;
pub mod uri;

pub use connection::{
    Action, Completion, Connection, Dispatch, HandlerOutcome, Request, Response, ServerConfig, ServerError,
};
pub use control::{ControlEffect, ControlRequest, RunState, ServerCore};
pub use error_code::HttpdErrCode;
pub use event::SessionId;
pub use router::{ErrorHandlers, ErrorVerdict, Lookup, MethodFilter, Route, RouteSlot, Router, RouterError};
pub use sessions::{Admission, ClosedSession, SessionError, SessionSlot, Sessions};

//! # tern-tokio: the tern client and server on tokio
//!
//! Two adapters that move bytes between tokio's sockets and the sans-IO engines of
//! [`tern_proto`]: an async [`Client`](client::Client) (`esp_http_client` in async Rust form) and a
//! [`Server`](server::Server) (`esp_http_server`: URI handlers, sessions, queued work, async handlers and
//! WebSocket). Every protocol decision is the engine's; this crate connects, accepts, sleeps
//! until deadlines and spawns tasks.
//!
//! With feature `tls` (the default), both speak TLS through `tern_tls` (rustls' unbuffered
//! API): the client for every `https` hop, the server when its [`Config`](server::Config) has a
//! `tls` configuration (esp_https_server). `tern_tls` is re-exported so that its types match
//! this crate's.

pub mod client;
pub mod file_server;
pub mod server;
mod transport;

#[cfg(feature = "tls")]
pub use tern_tls;

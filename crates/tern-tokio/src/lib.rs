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
//!
//! ```no_run
//! use tern_proto::client::ClientConfig;
//!
//! # async fn run() -> Result<(), tern_tokio::client::Error> {
//! let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
//! let mut client = tern_tokio::client::Client::new(&config)?;
//! client.perform().await?; // the body goes to the event handler, here none
//! println!("{:?}", client.status_code());
//! # Ok(()) }
//! ```
//!
//! [`Server::start`](server::Server::start) runs a server and this client against each other
//! on loopback; the [`server`] module shows handlers, and the `examples/` directory holds
//! ESP-IDF's example servers ported.
#![deny(missing_docs)]

pub mod client;
pub mod file_server;
pub mod server;
mod transport;

#[cfg(feature = "tls")]
pub use tern_tls;

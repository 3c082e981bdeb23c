//! The client: a sans-IO engine with `esp_http_client`'s configuration, states, events and
//! operations.
//!
//! [`Client`] is one ESP-IDF client handle. It owns no socket and reads no clock: an
//! operation sets a goal, and the adapter (tern-std, tern-tokio, tern-embassy, a test) drives
//! it with a loop like this one until the action is [`Action::Done`]:
//!
//! ```text
//!   client.perform(now)?                        // or open / write / fetch_headers / read ...
//!   loop {
//!       match client.poll(now) {
//!           Action::Connect(endpoint) => connect, then client.connected(now)
//!                                        (or client.connect_failed(now))
//!           Action::Transmit(parts)   => write parts, then client.transmitted(n, now)
//!           Action::Receive(buf)      => read into buf, then client.received(n, now)  (0 = EOF)
//!           Action::Close             => close, then client.closed()
//!           Action::Done(result)      => break result
//!       }
//!       // whenever waiting: past client.deadline(), call client.handle_timeout(now)
//!   }
//! ```
//!
//! An adapter that would block simply returns and calls the same loop again later: the engine
//! stays where it was. That is ESP-IDF's `is_async` mode, and it is the same engine.
//!
//! The states ([`State`]) move as ESP-IDF's seed diagrams draw them:
//!
//! ```text
//!            new()                 connect done            head written        body written
//!  UNINIT ─────────► INIT ──► CONNECTING ──────► CONNECTED ──────► REQ_COMPLETE_HEADER ──────►
//!                     ▲   (async only: seen      ▲    │
//!                     │    while connecting)      │    │ keep-alive: next request reuses it
//!                     │                           │    ▼
//!         close, or   │                    RES_ON_DATA_START ◄── RES_COMPLETE_HEADER ◄── REQ_COMPLETE_DATA
//!         no keep-alive└────────────────────────── (body read)     (head parsed)        (awaiting head)
//! ```
//!
//! Everything a request needs lives in one caller buffer of [`ClientConfig::buffer_len`] bytes:
//! the receive buffer (`buffer_size`), the transmit buffer (`buffer_size_tx`) and the store
//! (`store_size`) for the URL, headers and credentials. No allocation, ever.

pub mod auth;
mod config;
mod drive;
mod engine;
mod error;
mod event;
mod request;
mod settings;
mod state;
mod store;
pub mod url;

#[cfg(feature = "std")]
pub use config::std_entropy;
pub use config::{ClientConfig, DEFAULT_USER_AGENT, TcpKeepAlive, TlsConfig, TlsVersion};
pub use drive::MAX_RESPONSE_FIELDS;
pub use engine::{Action, Client, Completion, Endpoint};
pub use error::{ClientError, Stage};
pub use event::{
    ClientId, DiagnosticSink, Event, EventHandler, EventId, EventKind, NoEvents, install_diagnostic_sink,
    remove_diagnostic_sink,
};
pub use state::State;

//! The application: ESP-IDF's `advanced_tests` server on port 80, and a client that fetches
//! an http URL and an https URL (tern-tls on ring), all tern-embassy, on the network stack
//! `main` brought up. `main` spawns one task for each function and never looks inside.
//!
//! The server is `../common/server.rs`, the same on both chips; the handlers and the
//! client's GET are `tern-embassy-examples`' (host-tested with curl and the embassy client).

use embassy_net::Stack;
use embassy_time::{Duration, Timer};
use log::{info, warn};
use static_cell::StaticCell;
use tern_embassy::net::TcpTransport;
use tern_embassy_examples::fetch;

#[path = "../../common/server.rs"]
mod server;
pub use server::{SESSIONS, server};
use tern_proto::client::{ClientConfig, NoEvents};

use crate::tls::{LAYOUT, client_tls};

/// The URL the client fetches (`URL=...` at build time).
const URL: &str = match option_env!("URL") {
    Some(url) => url,
    None => "http://example.com/",
};
/// The https URL the client fetches (`HTTPS_URL=...` at build time), verified against
/// Mozilla's roots.
const HTTPS_URL: &str = match option_env!("HTTPS_URL") {
    Some(url) => url,
    None => "https://example.com/",
};

/// The TLS session's buffer: full-size records in, 4 KiB records out.
static TLS_BUFFER: StaticCell<[u8; LAYOUT.buffer_len()]> = StaticCell::new();

/// Fetches [`URL`] and [`HTTPS_URL`] once a minute, forever.
pub async fn client(stack: Stack<'static>) {
    let mut engine = [0u8; 3584];
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 1024]);
    let mut piece = [0u8; 256];
    let tls_buffer: &'static mut [u8] = TLS_BUFFER.init([0u8; LAYOUT.buffer_len()]);
    let tls = match client_tls() {
        Ok(tls) => tls,
        Err(e) => {
            warn!("client: no TLS configuration: {e}");
            return;
        }
    };
    let config = ClientConfig { url: Some(HTTPS_URL), ..ClientConfig::default() };
    let mut https_engine = [0u8; 3584];
    let mut https_rx = [0u8; 4096];
    let mut https_tx = [0u8; 1024];
    let transport = TcpTransport::new(stack, &mut https_rx, &mut https_tx);
    let mut https = match tern_embassy::client::Client::with_tls(
        &config,
        &mut https_engine,
        transport,
        NoEvents,
        tls,
        tls_buffer,
    ) {
        Ok(client) => client,
        Err(e) => {
            warn!("client: cannot build the https client: {e}");
            return;
        }
    };
    loop {
        let transport = TcpTransport::new(stack, &mut rx, &mut tx);
        match fetch::get(URL, &mut engine, transport, &mut piece).await {
            Ok(got) => info!("client: GET {URL}: {}, {} bytes", got.status, got.body_len),
            Err(e) => warn!("client: GET {URL}: {e}"),
        }
        match fetch::fetch(&mut https, &mut piece).await {
            Ok(got) => info!("client: GET {HTTPS_URL}: {}, {} bytes", got.status, got.body_len),
            Err(e) => warn!("client: GET {HTTPS_URL}: {e}"),
        }
        Timer::after(Duration::from_secs(60)).await;
    }
}

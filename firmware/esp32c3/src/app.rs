//! The application: ESP-IDF's `advanced_tests` server on port 80 and an HTTP client, both
//! tern-embassy, on the network stack `main` brought up. `main` spawns one task for each
//! function and never looks inside.
//!
//! The server is `../common/server.rs`, the same on both chips; the handlers and the
//! client's GET are `tern-embassy-examples`' (host-tested with curl and the embassy client).

use embassy_net::Stack;
use embassy_time::{Duration, Timer};
use log::{info, warn};
use tern_embassy::net::TcpTransport;
use tern_embassy_examples::fetch;

#[path = "../../common/server.rs"]
mod server;
pub use server::{SESSIONS, server};

/// The URL the client fetches (`URL=...` at build time).
const URL: &str = match option_env!("URL") {
    Some(url) => url,
    None => "http://example.com/",
};

/// Fetches [`URL`] once a minute, forever.
pub async fn client(stack: Stack<'static>) {
    let mut engine = [0u8; 3584];
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 1024]);
    let mut piece = [0u8; 256];
    loop {
        let transport = TcpTransport::new(stack, &mut rx, &mut tx);
        match fetch::get(URL, &mut engine, transport, &mut piece).await {
            Ok(got) => info!("client: GET {URL}: {}, {} bytes", got.status, got.body_len),
            Err(e) => warn!("client: GET {URL}: {e}"),
        }
        Timer::after(Duration::from_secs(60)).await;
    }
}

//! The client program of docs/migration.md on tern-std (blocking, like ESP-IDF's calls): a
//! GET with a custom header and a 5 s timeout, then a POST of a small JSON body to `/echo` on
//! the same server, printing the status and body length of each.
//!
//! ```sh
//! cargo run -p tern-tokio --example migration_server -- --port 8006 &
//! cargo run -p tern-std --example migration_client_blocking -- http://127.0.0.1:8006/hello
//! ```
#![allow(dead_code)] // also compiled into tests/migration_client_blocking.rs, which calls `run`

use std::cell::Cell;
use std::time::Duration;

use tern_proto::Method;
use tern_proto::client::{ClientConfig, Event, EventKind};
use tern_std::{Client, Error};

/// The URL fetched when none is given.
const DEFAULT_URL: &str = "http://127.0.0.1:8006/hello";
/// The body of the POST.
pub const JSON: &[u8] = br#"{"temperature":21.5}"#;

/// What one request got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The status code.
    pub status: u16,
    /// Body bytes received (counted in the event handler).
    pub body_len: usize,
}

/// GETs `url`, then POSTs [`JSON`] to `/echo` on the same server.
pub fn run(url: &str) -> Result<[Outcome; 2], Error> {
    // ESP-IDF's `user_data`: whatever the event handler's closure captures.
    let received = Cell::new(0);
    let on_event = |event: &Event<'_>| {
        if let EventKind::OnData(data) = event.kind {
            received.set(received.get() + data.len());
        }
    };
    let config = ClientConfig { url: Some(url), timeout: Duration::from_secs(5), ..ClientConfig::default() };
    let mut client = Client::with_handler(&config, on_event)?;
    client.set_header("X-Device-Id", "esp32-01")?;

    client.perform()?;
    let get = Outcome { status: status(&client), body_len: received.replace(0) };
    println!("GET {url}: status {}, {} bytes", get.status, get.body_len);

    // The same client, connection and headers: a relative URL, another method, a body.
    client.set_url("/echo")?;
    client.set_method(Method::Post);
    client.set_header("Content-Type", "application/json")?;
    client.set_post_field(Some(JSON))?;
    client.perform()?;
    let post = Outcome { status: status(&client), body_len: received.replace(0) };
    println!("POST /echo: status {}, {} bytes", post.status, post.body_len);
    Ok([get, post])
}

/// The last status code, 0 if none arrived.
fn status<H: tern_proto::client::EventHandler>(client: &Client<'_, H>) -> u16 {
    client.status_code().map_or(0, |s| s.as_u16())
}

fn main() -> Result<(), Error> {
    let url = std::env::args().nth(1).unwrap_or_else(|| DEFAULT_URL.to_owned());
    run(&url)?;
    Ok(())
}

//! The client side of the firmware: GET a URL with tern-embassy's client and report the
//! status and the body's length (ESP-IDF's `esp_http_client` example, in its simplest form).

use tern_embassy::client::{Client, Error};
use tern_embassy::transport::Transport;
use tern_proto::client::ClientConfig;

/// What a GET brought back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// The final status (after redirects).
    pub status: u16,
    /// Body bytes received.
    pub body_len: u64,
}

/// GETs `url` over `transport` with the engine buffer `buffer` (at least
/// `ClientConfig::buffer_len()` bytes), reading the body in pieces of `piece.len()`.
pub async fn get<T: Transport>(url: &str, buffer: &mut [u8], transport: T, piece: &mut [u8]) -> Result<Fetched, Error> {
    let config = ClientConfig { url: Some(url), ..ClientConfig::default() };
    let mut client = Client::new(&config, buffer, transport)?;
    fetch(&mut client, piece).await
}

/// The same with a client the caller built (with TLS, say): `open`, `fetch_headers`, read
/// the body, `close`.
pub async fn fetch<T: Transport, H: tern_proto::client::EventHandler>(
    client: &mut Client<'_, T, H>,
    piece: &mut [u8],
) -> Result<Fetched, Error> {
    client.open(Some(0)).await?;
    client.fetch_headers().await?;
    let mut body_len = 0u64;
    loop {
        match client.read(piece).await? {
            0 => break,
            n => body_len += n as u64,
        }
    }
    let status = client.status_code().map_or(0, |s| s.as_u16());
    client.close().await?;
    Ok(Fetched { status, body_len })
}

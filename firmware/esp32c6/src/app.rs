//! The application: ESP-IDF's `advanced_tests` server on port 80, and a client that fetches
//! an http URL and an https URL (tern-tls on ring), all tern-embassy, on the network stack
//! `main` brought up. `main` spawns one task for each function and never looks inside.
//!
//! The handlers and the client's GET are `tern-embassy-examples`' (host-tested with curl
//! and the embassy client); this file only gives them buffers and tasks.

use embassy_futures::join::join_array;
use embassy_net::Stack;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_time::{Duration, Timer};
use log::{info, warn};
use static_cell::StaticCell;
use tern_embassy::net::TcpTransport;
use tern_embassy::server::{DefaultSessionBuffers, Server};
use tern_embassy_examples::advanced_tests::{self, AdvancedTests};
use tern_embassy_examples::fetch;
use tern_proto::client::{ClientConfig, NoEvents};

use crate::tls::{LAYOUT, client_tls};

/// Sessions served at once: ESP-IDF's default `max_open_sockets`.
pub const SESSIONS: usize = 7;
/// URI handlers: the example registers 8 (ESP-IDF's 9 less `/async_data`).
const ROUTES: usize = 9;

type App = AdvancedTests<CriticalSectionRawMutex, SESSIONS>;
type HttpServer = Server<App, CriticalSectionRawMutex, SESSIONS, ROUTES>;

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

static SERVER: StaticCell<HttpServer> = StaticCell::new();
static SESSION_BUFFERS: StaticCell<[DefaultSessionBuffers; SESSIONS]> = StaticCell::new();

/// Serves `advanced_tests` on port 80 with one serving loop per session, forever.
pub async fn server(stack: Stack<'static>) {
    let server: &'static HttpServer = SERVER.init(Server::new(advanced_tests::config(80), App::new()));
    if let Err(e) = advanced_tests::register(server) {
        warn!("server: cannot register the handlers: {e}");
        return;
    }
    let buffers = SESSION_BUFFERS.init([const { DefaultSessionBuffers::new() }; SESSIONS]);
    info!("server: advanced_tests on port 80, {SESSIONS} sessions");
    let results = join_array(buffers.each_mut().map(|b| server.serve(stack, b))).await;
    for result in results {
        if let Err(e) = result {
            warn!("server: a serving loop ended: {e}");
        }
    }
}

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

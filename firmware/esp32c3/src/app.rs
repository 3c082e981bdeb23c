//! The application: ESP-IDF's `advanced_tests` server on port 80 and an HTTP client, both
//! tern-embassy, on the network stack `main` brought up. `main` spawns one task for each
//! function and never looks inside.
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

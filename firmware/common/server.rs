//! The server both firmware run: ESP-IDF's `advanced_tests` example on port 80 with
//! ESP-IDF's default of 7 sessions, one serving loop each on its own buffers. The handlers
//! are `tern-embassy-examples`' (host-tested there with curl and the embassy client).

use embassy_futures::join::join_array;
use embassy_net::Stack;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use log::{info, warn};
use static_cell::StaticCell;
use tern_embassy::server::{DefaultSessionBuffers, Server};
use tern_embassy_examples::advanced_tests::{self, AdvancedTests};

/// Sessions served at once: ESP-IDF's default `max_open_sockets`.
pub const SESSIONS: usize = 7;
/// URI handlers: the example registers 8 (ESP-IDF's 9 less `/async_data`).
const ROUTES: usize = 9;

type App = AdvancedTests<CriticalSectionRawMutex, SESSIONS>;
type HttpServer = Server<App, CriticalSectionRawMutex, SESSIONS, ROUTES>;

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

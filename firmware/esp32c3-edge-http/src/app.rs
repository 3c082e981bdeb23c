//! The application: ESP-IDF's `advanced_tests` server on port 80 and an HTTP client, both
//! edge-http, on the network stack `main` brought up; firmware/esp32c3's `app.rs` and
//! `common/server.rs` with edge-http in tern's place. The handlers and the client's GET are
//! `edge-http-examples`'.
//!
//! The server is edge-http's [`Server`](edge_http::io::server::Server) with
//! [`SESSIONS`] handler tasks (ESP-IDF's `max_open_sockets`), each with its own 2,048-byte
//! buffer inside the server and its own socket from a pool of 1,536-byte socket buffers (tern's
//! `DefaultSessionBuffers` sizes). Every socket read and write times out after 5 s
//! (`edge_nal::WithTimeout`, ESP-IDF's `recv_wait_timeout` and `send_wait_timeout`); the
//! wait for a keep-alive connection's next request is such a read, so an idle connection
//! closes after 5 s.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use edge_http_examples::advanced_tests::{self, AdvancedTests, AppServer, IO_TIMEOUT_MS, SOCKET_BUFFER};
use edge_http_examples::fetch;
use edge_nal::{TcpBind, WithTimeout};
use edge_nal_embassy::{Dns, Tcp, TcpBuffers};
use embassy_net::Stack;
use embassy_time::{Duration, Timer};
use log::{info, warn};
use static_cell::ConstStaticCell;

pub use advanced_tests::SESSIONS;

/// The handler tasks' buffers (edge-http keeps them in the `Server`).
static SERVER: ConstStaticCell<AppServer> = ConstStaticCell::new(AppServer::new());
/// One socket's buffers per handler task.
static SERVER_SOCKETS: ConstStaticCell<TcpBuffers<SESSIONS, SOCKET_BUFFER, SOCKET_BUFFER>> =
    ConstStaticCell::new(TcpBuffers::new());
/// The client's socket buffers: 1 KiB out, 2 KiB in, as firmware/esp32c3's client.
static CLIENT_SOCKETS: ConstStaticCell<TcpBuffers<1, 1024, 2048>> = ConstStaticCell::new(TcpBuffers::new());

/// Serves `advanced_tests` on port 80 with [`SESSIONS`] handler tasks, forever.
pub async fn server(stack: Stack<'static>) {
    let server = SERVER.take();
    let tcp = Tcp::new(stack, SERVER_SOCKETS.take());
    let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80);
    let acceptor = match tcp.bind(address).await {
        Ok(acceptor) => WithTimeout::new(IO_TIMEOUT_MS, acceptor),
        Err(e) => {
            warn!("server: cannot listen on port 80: {e}");
            return;
        }
    };
    info!("server: advanced_tests on port 80, {SESSIONS} handler tasks");
    // No keep-alive timeout of its own: the 5 s read timeout ends idle connections first.
    if let Err(e) = server.run(None, acceptor, AdvancedTests::<SESSIONS>::new()).await {
        warn!("server: stopped: {e:?}");
    }
}

/// The URL the client fetches (`URL=...` at build time).
const URL: &str = match option_env!("URL") {
    Some(url) => url,
    None => "http://example.com/",
};

/// Fetches [`URL`] once a minute, forever.
pub async fn client(stack: Stack<'static>) {
    let tcp = WithTimeout::new(IO_TIMEOUT_MS, Tcp::new(stack, CLIENT_SOCKETS.take()));
    let dns = Dns::new(stack);
    let mut buf = [0u8; 2048];
    let mut piece = [0u8; 256];
    loop {
        match fetch::get(URL, &tcp, &dns, &mut buf, &mut piece).await {
            Ok(got) => info!("client: GET {URL}: {}, {} bytes", got.status, got.body_len),
            Err(e) => warn!("client: GET {URL}: {e}"),
        }
        Timer::after(Duration::from_secs(60)).await;
    }
}

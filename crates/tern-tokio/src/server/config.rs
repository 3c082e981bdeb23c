//! The server's configuration: `httpd_config_t` in Rust form.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tern_proto::server::uri::UriMatch;
use tern_proto::server::{ServerConfig, SessionId};
#[cfg(feature = "tls")]
use tern_tls::ServerTls;

#[cfg(feature = "tls")]
use super::error::Error;

/// Called for each accepted connection before it is read (`open_fn`): `false` closes it.
pub type OpenHook = Arc<dyn Fn(SessionId, SocketAddr) -> bool + Send + Sync>;

/// Called once for each session when it closes (`close_fn`), after its socket is shut.
pub type CloseHook = Arc<dyn Fn(SessionId) + Send + Sync>;

/// Called when TLS fails on a session (esp_https_server logs these): a handshake that fails
/// ([`Error::Tls`] with the reason, such as a client certificate refused), that the client
/// does not complete within `recv_wait_timeout` (`Error::Engine(ServerError::Timeout)`) or
/// that the connection ends in (`Error::Engine(ServerError::ConnectionClosed)`), and a TLS
/// session that fails later ([`Error::Tls`]). The session is closed and its slot freed.
///
/// [`Error::Tls`]: super::Error::Tls
#[cfg(feature = "tls")]
pub type TlsErrorHook = Arc<dyn Fn(SessionId, SocketAddr, &Error) + Send + Sync>;

/// How a [`Server`](super::Server) listens and serves: `HTTPD_DEFAULT_CONFIG()`'s fields with
/// ESP-IDF's defaults, except the port (80 needs privileges on a host; set it).
///
/// The per-connection behaviour (limits on requests, buffer sizes, the receive, send and idle
/// timeouts, keep-alive) is the engine's [`ServerConfig`] in `connection`.
///
/// ```
/// use tern_tokio::server::Config;
/// let config = Config { server_port: 8080, lru_purge_enable: true, ..Config::default() };
/// assert_eq!(config.max_open_sockets, 7);
/// assert_eq!(config.connection.recv_wait_timeout_ms, 5000);
/// ```
#[derive(Clone)]
pub struct Config {
    /// The address to listen on; default `0.0.0.0`.
    pub bind: IpAddr,
    /// The TCP port (`server_port`); 0 picks a free one ([`Server::local_addr`](super::Server::local_addr)
    /// says which). Default 80.
    pub server_port: u16,
    /// Sessions served at once (`max_open_sockets`, 7). A further connection waits in the
    /// listen backlog until one closes, unless `lru_purge_enable`.
    pub max_open_sockets: usize,
    /// URI handler slots (`max_uri_handlers`, 8).
    pub max_uri_handlers: usize,
    /// The listen backlog (`backlog_conn`, 5).
    pub backlog_conn: u32,
    /// When every session slot is taken, close the least recently used session to serve a new
    /// connection (`lru_purge_enable`, off).
    pub lru_purge_enable: bool,
    /// How registered URIs match request paths (`uri_match_fn`): exact (default) or
    /// ESP-IDF's wildcard matcher.
    pub uri_match: UriMatch,
    /// Each connection's engine configuration: `max_uri_len`, `max_req_hdr_len`,
    /// `max_resp_headers`, `recv_wait_timeout`, `send_wait_timeout`, keep-alive, and tern's
    /// additions (idle timeout, chunked requests, WebSocket limits).
    pub connection: ServerConfig,
    /// The open hook (`open_fn`).
    pub open_fn: Option<OpenHook>,
    /// The close hook (`close_fn`).
    pub close_fn: Option<CloseHook>,
    /// HTTPS (esp_https_server): each accepted connection runs a TLS handshake with this
    /// configuration first, within `connection.recv_wait_timeout_ms`, before the open hook;
    /// HTTP and WebSocket then run inside the session, and a closing session sends
    /// `close_notify`. Each session takes a buffer of `layout().buffer_len()` bytes (49 KiB
    /// with the default layout). `None` (the default): plain HTTP, with no TLS on the path.
    #[cfg(feature = "tls")]
    pub tls: Option<ServerTls>,
    /// What to tell about TLS failures ([`TlsErrorHook`]); none by default.
    #[cfg(feature = "tls")]
    pub tls_error_fn: Option<TlsErrorHook>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            server_port: 80,
            max_open_sockets: 7,
            max_uri_handlers: 8,
            backlog_conn: 5,
            lru_purge_enable: false,
            uri_match: UriMatch::Exact,
            connection: ServerConfig::default(),
            open_fn: None,
            close_fn: None,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            tls_error_fn: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("Config");
        f.field("bind", &self.bind)
            .field("server_port", &self.server_port)
            .field("max_open_sockets", &self.max_open_sockets)
            .field("max_uri_handlers", &self.max_uri_handlers)
            .field("backlog_conn", &self.backlog_conn)
            .field("lru_purge_enable", &self.lru_purge_enable)
            .field("uri_match", &self.uri_match)
            .field("connection", &self.connection)
            .field("open_fn", &self.open_fn.is_some())
            .field("close_fn", &self.close_fn.is_some());
        #[cfg(feature = "tls")]
        f.field("tls", &self.tls).field("tls_error_fn", &self.tls_error_fn.is_some());
        f.finish()
    }
}

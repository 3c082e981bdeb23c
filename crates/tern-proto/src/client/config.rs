//! The client's configuration: ESP-IDF's `esp_http_client_config_t`, field for field.

use core::time::Duration;

use super::auth::AuthType;
use super::url::Scheme;
use crate::limits::Limits;
use crate::method::Method;

/// tern's default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("tern/", env!("CARGO_PKG_VERSION"));

/// How a [`Client`](crate::client::Client) is set up: ESP-IDF's `esp_http_client_config_t`.
///
/// Give either `url`, or `host` with `path` (and maybe `query`, `port`, `scheme`); when both are
/// given, host and path win, as in ESP-IDF. Strings are copied into the client's store when it
/// is built, so the configuration need not outlive it.
///
/// ```
/// use tern_proto::client::ClientConfig;
/// let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
/// assert_eq!(config.buffer_len(), 2048 + 512 + 1024);
/// ```
#[derive(Debug, Clone)]
pub struct ClientConfig<'a> {
    /// The full URL (`url`).
    pub url: Option<&'a str>,
    /// The host, used with `path` (`host`). An IPv6 literal is given without brackets.
    pub host: Option<&'a str>,
    /// The path with `host` (`path`); `/` when absent.
    pub path: Option<&'a str>,
    /// The query with `host` and `path` (`query`), without `?`.
    pub query: Option<&'a str>,
    /// The port (`port`); 0 means the scheme's default. A port in `url` wins.
    pub port: u16,
    /// The scheme with `host` (`transport_type`).
    pub scheme: Scheme,
    /// The request method (`method`).
    pub method: Method<'a>,
    /// Username (`username`). A URL's userinfo overrides it, percent-decoded.
    pub username: Option<&'a str>,
    /// Password (`password`).
    pub password: Option<&'a str>,
    /// `auth_type`: `Basic` sends credentials with every request; `None` and `Digest` wait for
    /// the server's challenge (and Digest then keeps using the server's nonce).
    pub auth_type: AuthType,
    /// `User-Agent` (`user_agent`); an empty string sends none.
    pub user_agent: &'a str,
    /// Time allowed for each connect, each write and each read (`timeout_ms`, 5 s).
    pub timeout: Duration,
    /// Time allowed for a whole `perform`, redirects and retries included; none by default
    /// (ESP-IDF has no such deadline).
    pub request_timeout: Option<Duration>,
    /// Hand redirects to the application instead of following them (`disable_auto_redirect`).
    pub disable_auto_redirect: bool,
    /// Most redirects one `perform` follows (`max_redirection_count`, 10).
    pub max_redirection_count: u16,
    /// Most 401 answers one `perform` retries with credentials (`max_authorization_retries`,
    /// 10); -1 never retries.
    pub max_authorization_retries: i16,
    /// Receive buffer (`buffer_size`). A response head must fit in it with room to spare for
    /// body reads; see `docs/esp-idf-differences.md`. Default 2048.
    pub buffer_size: usize,
    /// Transmit buffer (`buffer_size_tx`, 512). Each request header line must fit in it; the
    /// head is sent in as many pages as it needs.
    pub buffer_size_tx: usize,
    /// Room for the URL, credentials, request headers and Digest state (no ESP-IDF
    /// counterpart: ESP-IDF uses the heap). Default 1024.
    pub store_size: usize,
    /// HTTP keep-alive: reuse the connection when the server allows it. When false, every
    /// request says `Connection: close`. Default true.
    pub keep_alive: bool,
    /// TCP keep-alive probes (`keep_alive_enable`, `keep_alive_idle`, `keep_alive_interval`,
    /// `keep_alive_count`), applied to the socket by tern-std and tern-tokio; tern-embassy does
    /// not apply them yet (`docs/esp-idf-mapping.md`, Gaps). None by default.
    pub tcp_keep_alive: Option<TcpKeepAlive>,
    /// How long to wait for `100 Continue` after sending `Expect: 100-continue` before sending
    /// the body anyway. Default 1 s.
    pub expect_continue_timeout: Duration,
    /// Bounds on the server's response. The default raises `max_header_section_len` to 16 KiB:
    /// in practice a response head is bounded by `buffer_size`.
    pub limits: Limits,
    /// Seed for Digest client nonces. Adapters fill it from the system's randomness.
    pub entropy: u64,
    /// TLS settings, applied by adapters built with TLS.
    pub tls: TlsConfig<'a>,
}

/// TCP keep-alive probe settings, which the adapter applies to its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpKeepAlive {
    /// Idle time before the first probe (ESP-IDF default 5 s).
    pub idle: Duration,
    /// Time between probes (5 s).
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped (3).
    pub count: u32,
}

impl Default for TcpKeepAlive {
    fn default() -> Self {
        TcpKeepAlive { idle: Duration::from_secs(5), interval: Duration::from_secs(5), count: 3 }
    }
}

/// TLS options, as `esp_http_client_config_t` names them. The engine only speaks plaintext:
/// these are carried for the adapter's TLS layer (tern-tls), which turns them into a rustls
/// configuration.
///
/// Verification is on by default. With neither `ca_cert` nor `crt_bundle`, the certificate
/// bundle is used when it is built in (ESP-IDF fails such a handshake instead; see
/// `docs/esp-idf-differences.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsConfig<'a> {
    /// Trust anchors: one or more CA certificates, PEM (any number) or DER (one)
    /// (`cert_pem` / `cert_der`).
    pub ca_cert: Option<&'a [u8]>,
    /// Also trust the built-in certificate bundle, Mozilla's roots (`crt_bundle_attach`).
    pub crt_bundle: bool,
    /// Client certificate chain, PEM or DER, for mutual TLS (`client_cert_pem`).
    pub client_cert: Option<&'a [u8]>,
    /// Client private key, PEM or DER: PKCS#8, SEC1 or PKCS#1 (`client_key_pem`). A key held
    /// outside memory (a secure element, the DS peripheral) goes to tern-tls' builder as a
    /// signing key instead.
    pub client_key: Option<&'a [u8]>,
    /// Do not check the server's name; the chain is still verified
    /// (`skip_cert_common_name_check`).
    pub skip_common_name_check: bool,
    /// Check the certificate against this name instead of the host, and send it as SNI
    /// (`common_name`).
    pub common_name: Option<&'a str>,
    /// Which TLS versions to offer (`tls_version`).
    pub tls_version: TlsVersion,
    /// ALPN protocols to offer, most preferred first (`alpn_protos`). The engine itself speaks
    /// HTTP/1.1 whatever is agreed.
    pub alpn: &'a [&'a str],
    /// Do not send the server name indication (ESP-IDF always sends it for a host name).
    pub disable_sni: bool,
    /// Accept any certificate without verifying it (curl's `-k`). The handshake's own
    /// signatures are still checked. For tests only.
    pub insecure: bool,
}

/// TLS versions a client offers (`esp_http_client_tls_ver_t`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 or 1.3, whichever the server prefers of those (`ESP_HTTP_CLIENT_TLS_VER_ANY`).
    #[default]
    Any,
    /// Only TLS 1.2 (`ESP_HTTP_CLIENT_TLS_VER_TLS_1_2`).
    Tls12,
    /// Only TLS 1.3 (`ESP_HTTP_CLIENT_TLS_VER_TLS_1_3`).
    Tls13,
}

impl Default for ClientConfig<'_> {
    fn default() -> Self {
        ClientConfig {
            url: None,
            host: None,
            path: None,
            query: None,
            port: 0,
            scheme: Scheme::Http,
            method: Method::Get,
            username: None,
            password: None,
            auth_type: AuthType::None,
            user_agent: DEFAULT_USER_AGENT,
            timeout: Duration::from_millis(5000),
            request_timeout: None,
            disable_auto_redirect: false,
            max_redirection_count: 10,
            max_authorization_retries: 10,
            buffer_size: 2048,
            buffer_size_tx: 512,
            store_size: 1024,
            keep_alive: true,
            tcp_keep_alive: None,
            expect_continue_timeout: Duration::from_secs(1),
            // A response head is bounded by the receive buffer; the server-side default of 1 KiB
            // for a header section would refuse ordinary responses.
            limits: Limits { max_header_section_len: 16 * 1024, ..Limits::default() },
            entropy: 0x7465_726e_2d64_6967,
            tls: TlsConfig::default(),
        }
    }
}

/// A seed for [`ClientConfig::entropy`] from the standard library's per-process randomness
/// (the keys of its hash maps), for adapters on hosts.
#[cfg(feature = "std")]
pub fn std_entropy() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    hasher.finish()
}

impl ClientConfig<'_> {
    /// Bytes of buffer the client needs: `buffer_size + buffer_size_tx + store_size`.
    pub const fn buffer_len(&self) -> usize {
        self.buffer_size.saturating_add(self.buffer_size_tx).saturating_add(self.store_size)
    }
}

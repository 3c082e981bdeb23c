//! Per-connection settings: the part of `httpd_config_t` one session's engine needs.

use crate::limits::Limits;

/// How one server connection behaves: limits on what a client may send, buffer sizes and
/// timeouts. `ServerConfig::default()` follows `HTTPD_DEFAULT_CONFIG()` where ESP-IDF has a
/// value; the rest are tern's additions, each documented with its default.
///
/// ESP-IDF's `max_uri_len` is `limits.max_target_len` (512), `max_req_hdr_len` is
/// `limits.max_header_section_len` (1024) and `max_resp_headers` is
/// `limits.max_response_headers` (8).
///
/// ```
/// use tern_proto::server::ServerConfig;
/// let config = ServerConfig::default();
/// assert_eq!(config.limits.max_target_len, 512);
/// // The caller's buffer for one connection: the request head, a body window, the response head.
/// assert_eq!(config.buffer_len(), 1588 + 512 + 512);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// Bounds on requests; [`Limits::max_request_head_len`] bytes of the receive buffer hold
    /// the head.
    pub limits: Limits,
    /// Receive-buffer bytes beyond the largest head, through which body bytes pass (ESP-IDF
    /// reads bodies straight into the handler's buffer; tern hands them out in place).
    /// Default 512; at least 64 is used.
    pub body_window: usize,
    /// Transmit-buffer bytes: the response head, chunk framing and short error bodies must fit
    /// (ESP-IDF bounds its status and Content-Type line by `max_req_hdr_len`). Default 512.
    pub tx_buffer_size: usize,
    /// A request whose head is still incomplete this long after its first byte is answered
    /// with 408 and the session closes; a body read waits this long for bytes
    /// (`recv_wait_timeout`). Milliseconds, default 5000.
    pub recv_wait_timeout_ms: u32,
    /// A response write that makes no progress for this long closes the session
    /// (`send_wait_timeout`). Milliseconds, default 5000.
    pub send_wait_timeout_ms: u32,
    /// A keep-alive session with no request under way closes after this long. ESP-IDF has no
    /// idle timeout, so an idle client holds a slot for ever; `None` restores that.
    /// Milliseconds, default 30 000.
    pub idle_timeout_ms: Option<u32>,
    /// Most bytes of request body a finished handler left unread that the engine reads and
    /// throws away to keep the session; beyond it the session closes (ESP-IDF discards any
    /// amount). Default 16 384.
    pub max_discard_len: u64,
    /// Persistent connections (HTTP keep-alive). Off: every response says
    /// `Connection: close`. Default on.
    pub keep_alive: bool,
    /// Most bytes of one WebSocket message (the sum of its fragments); a longer one closes
    /// the session with status 1009. ESP-IDF has no limit; frames are delivered in pieces
    /// either way, so the limit protects the handler, not the engine. Default 65 536.
    pub ws_max_message_len: u64,
    /// A WebSocket session with no frame under way closes after this long. `None` (the
    /// default, as ESP-IDF): never.
    pub ws_idle_timeout_ms: Option<u32>,
    /// The slowest a request body may arrive, in bytes per second, averaged over the time a
    /// handler spends waiting for it, after a grace period of `recv_wait_timeout_ms`. A body
    /// trickling in more slowly (one byte a second, say, which no per-read timeout catches)
    /// fails the handler's read with [`ServerError::BodyTooSlow`](super::ServerError::BodyTooSlow)
    /// and the session closes. Time the handler spends not reading does not count, so a
    /// handler may pause (erase flash, say) without penalty. ESP-IDF has no such limit; 0
    /// restores that. Default 240, ASP.NET Kestrel's `MinRequestBodyDataRate`.
    pub min_body_rate: u32,
    /// Accept chunked request bodies. Off (ESP-IDF's behaviour, which cannot decode them): a
    /// chunked request is answered with 411 Length Required. Default on.
    pub chunked_requests: bool,
}

impl ServerConfig {
    /// The defaults, usable in `const` context.
    pub const DEFAULT: ServerConfig = ServerConfig {
        limits: Limits::ESP_IDF,
        body_window: 512,
        tx_buffer_size: 512,
        recv_wait_timeout_ms: 5000,
        send_wait_timeout_ms: 5000,
        idle_timeout_ms: Some(30_000),
        max_discard_len: 16 * 1024,
        keep_alive: true,
        ws_max_message_len: 64 * 1024,
        ws_idle_timeout_ms: None,
        chunked_requests: true,
        min_body_rate: 240,
    };

    /// Smallest body window used, whatever `body_window` says.
    pub const MIN_BODY_WINDOW: usize = 64;

    /// Bytes of receive buffer: the largest head plus the body window.
    pub const fn rx_len(&self) -> usize {
        let window = if self.body_window < Self::MIN_BODY_WINDOW { Self::MIN_BODY_WINDOW } else { self.body_window };
        self.limits.max_request_head_len().saturating_add(window)
    }

    /// Bytes of the one buffer a [`Connection`](super::Connection) is built with: the receive
    /// buffer, then the transmit buffer.
    pub const fn buffer_len(&self) -> usize {
        self.rx_len().saturating_add(self.tx_buffer_size)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig::DEFAULT
    }
}

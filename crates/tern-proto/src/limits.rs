//! Limits on what the peer may send, with ESP-IDF's defaults.
//!
//! Every bound the parsers enforce on network input is a field here, so memory and work per
//! message are known before the first byte arrives: a head never needs more than
//! [`Limits::max_request_head_len`] or [`Limits::max_response_head_len`] bytes of buffer. A
//! peer that exceeds a limit gets [`RemoteError::TooLarge`](crate::RemoteError::TooLarge)
//! naming the [`Limit`](crate::Limit).

/// Bounds on received messages. `Limits::default()` gives ESP-IDF's defaults where ESP-IDF
/// has one.
///
/// ```
/// let limits = tern_proto::Limits { max_target_len: 1024, ..Default::default() };
/// assert_eq!(limits.max_header_section_len, 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of empty lines before a start line (RFC 9112 section 2.2 lets a recipient
    /// skip them). Default 8; more is answered with 400.
    pub max_leading_empty_len: usize,
    /// Most bytes in a request method token. Default 32; more is answered with 501.
    pub max_method_len: usize,
    /// Most bytes in a request-target; one more is answered with 414.
    /// Default 512 (ESP-IDF `CONFIG_HTTPD_MAX_URI_LEN`).
    pub max_target_len: usize,
    /// Most bytes in a response's reason phrase. Default 128.
    pub max_reason_len: usize,
    /// Most bytes in a header section: every field line with its line ending plus the closing
    /// empty line; one more is answered with 431. Default 1024 (ESP-IDF
    /// `CONFIG_HTTPD_MAX_REQ_HDR_LEN`).
    pub max_header_section_len: usize,
    /// Most bytes in one message body, declared or chunked; more is answered with 413.
    /// Default `u32::MAX` (ESP-IDF answers 413 above `UINT32_MAX`).
    pub max_body_len: u64,
    /// Most bytes of extensions on one chunk-size line (they are skipped, not kept).
    /// Default 256.
    pub max_chunk_ext_len: usize,
    /// Most bytes in a chunked body's trailer section, closing empty line included.
    /// Default 1024.
    pub max_trailer_section_len: usize,
    /// Most extra header fields a server response may carry (ESP-IDF `max_resp_headers`).
    /// Default 8. A bound on what the local side writes, enforced by the server engine (the
    /// message layer's writers take any number of fields).
    pub max_response_headers: usize,
}

impl Limits {
    /// ESP-IDF's defaults, usable in `const` context.
    pub const ESP_IDF: Limits = Limits {
        max_leading_empty_len: 8,
        max_method_len: 32,
        max_target_len: 512,
        max_reason_len: 128,
        max_header_section_len: 1024,
        max_body_len: u32::MAX as u64,
        max_chunk_ext_len: 256,
        max_trailer_section_len: 1024,
        max_response_headers: 8,
    };

    /// The largest request head these limits let through: a receive buffer this large never
    /// fills up before the parser decides.
    ///
    /// ```
    /// assert_eq!(tern_proto::Limits::default().max_request_head_len(), 8 + 32 + 1 + 512 + 1 + 10 + 1024);
    /// ```
    pub const fn max_request_head_len(&self) -> usize {
        // empty lines, method SP target SP "HTTP/1.1" CRLF, header section
        self.max_leading_empty_len
            .saturating_add(self.max_method_len)
            .saturating_add(1)
            .saturating_add(self.max_target_len)
            .saturating_add(1 + 10)
            .saturating_add(self.max_header_section_len)
    }

    /// The largest response head these limits let through.
    pub const fn max_response_head_len(&self) -> usize {
        // empty lines, "HTTP/1.1 200 " reason CRLF, header section
        self.max_leading_empty_len
            .saturating_add(13)
            .saturating_add(self.max_reason_len)
            .saturating_add(2)
            .saturating_add(self.max_header_section_len)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::ESP_IDF
    }
}

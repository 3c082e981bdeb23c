//! The calls that change or read a client's request settings and its last response:
//! ESP-IDF's `set_*` and `get_*` functions.

use core::time::Duration;

use super::auth::AuthType;
use super::engine::{Client, split};
use super::error::ClientError;
use super::event::{ClientId, EventHandler};
use super::state::State;
use super::store::Tag;
use super::url::{self, Url};
use crate::body::BodyKind;
use crate::method::Method;
use crate::status::StatusCode;
use crate::syntax::trim_ows;
use crate::write::check_field;

impl<'a, B: AsMut<[u8]> + AsRef<[u8]>, H: EventHandler> Client<'a, B, H> {
    /// The client's state (ESP-IDF's `esp_http_client_get_state`).
    pub fn state(&self) -> State {
        self.state
    }

    /// The client's identity in diagnostic events.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// Sets the URL (`esp_http_client_set_url`). An absolute URL replaces the current one; any
    /// other reference (`/path`, `../x`, `?q`) is resolved against it (RFC 3986). A different
    /// host, port or scheme closes the connection before the next request, and a different
    /// origin drops the credentials. Userinfo in the URL sets the username and password,
    /// percent-decoded.
    pub fn set_url(&mut self, reference: &str) -> Result<(), ClientError> {
        // A URL of the caller's own replaces a redirect set up by `set_redirection`.
        self.redirect_to_get = false;
        let (_, tx, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        let n = match self.store.get_str(store_buf, Tag::Url) {
            Some(current) => {
                let base = Url::parse(current).map_err(ClientError::Url)?;
                url::resolve(&base, reference, tx).map_err(ClientError::Url)?
            }
            None => Url::parse(reference.trim()).and_then(|u| u.write(tx)).map_err(ClientError::Url)?,
        };
        self.install_url(n)
    }

    /// The current URL: `scheme://host:port/path`, always with the port and never with the
    /// query, like ESP-IDF's `esp_http_client_get_url`. Returns the bytes written to `out`.
    pub fn get_url(&self, out: &mut [u8]) -> Result<usize, ClientError> {
        let url = self.url()?;
        let full = Url { userinfo: None, port: Some(url.port_or_default()), query: None, ..url };
        full.write(out).map_err(ClientError::Url)
    }

    /// The current URL as stored (normalized, with its query).
    pub fn url_str(&self) -> &str {
        let store_buf = self.store_buf();
        self.store.get_str(store_buf, Tag::Url).unwrap_or_default()
    }

    pub(crate) fn url(&self) -> Result<Url<'_>, ClientError> {
        Url::parse(self.url_str()).map_err(ClientError::Url)
    }

    /// Sets the method of the following requests (`esp_http_client_set_method`).
    pub fn set_method(&mut self, method: Method<'a>) {
        self.settings.method = method;
        self.redirect_to_get = false;
    }

    /// The method of the following requests.
    pub fn method(&self) -> Method<'a> {
        self.settings.method
    }

    /// Sets a request header, replacing one of the same name (case-insensitive) in place
    /// (`esp_http_client_set_header`). Name and value are trimmed; a name that is not a token
    /// or a value with CR, LF or NUL is refused.
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), ClientError> {
        let name = name.trim();
        let value = trim_ows(value.as_bytes());
        check_field(name, value)?;
        let (_, _, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        self.store.set_header(store_buf, name, value)?;
        Ok(())
    }

    /// Removes a request header (`esp_http_client_delete_header`); true if it was set.
    pub fn delete_header(&mut self, name: &str) -> bool {
        let (_, _, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        self.store.remove_header(store_buf, name.trim())
    }

    /// Removes every request header, `Host` and `User-Agent` included
    /// (`esp_http_client_delete_all_headers`). `Host` comes back with the next `set_url`.
    pub fn delete_all_headers(&mut self) {
        let (_, _, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        self.store.clear_headers(store_buf);
    }

    /// A request header's value (`esp_http_client_get_header`).
    pub fn get_header(&self, name: &str) -> Option<&[u8]> {
        self.store.header(self.store_buf(), name)
    }

    /// Sets the body `perform` sends, kept for every later request until cleared
    /// (`esp_http_client_set_post_field`). Setting one adds
    /// `Content-Type: application/x-www-form-urlencoded` unless a Content-Type is set; clearing
    /// it removes the Content-Type.
    pub fn set_post_field(&mut self, body: Option<&'a [u8]>) -> Result<(), ClientError> {
        self.settings.post_field = body;
        match body {
            Some(_) if self.get_header("Content-Type").is_none() => {
                self.set_header("Content-Type", "application/x-www-form-urlencoded")?;
            }
            Some(_) => {}
            None => {
                self.delete_header("Content-Type");
            }
        }
        Ok(())
    }

    /// The body `perform` sends (`esp_http_client_get_post_field`).
    pub fn post_field(&self) -> Option<&'a [u8]> {
        self.settings.post_field
    }

    /// Sets or clears the username (`esp_http_client_set_username`).
    pub fn set_username(&mut self, user: Option<&str>) -> Result<(), ClientError> {
        self.set_secret(Tag::Username, user)
    }

    /// Sets or clears the password (`esp_http_client_set_password`). The old one is
    /// overwritten in the store.
    pub fn set_password(&mut self, password: Option<&str>) -> Result<(), ClientError> {
        self.set_secret(Tag::Password, password)
    }

    fn set_secret(&mut self, tag: Tag, value: Option<&str>) -> Result<(), ClientError> {
        let (_, _, store_buf) = split(self.buf.as_mut(), self.rx_size, self.tx_size);
        match value {
            Some(v) => self.store.set(store_buf, tag, &[v.as_bytes()])?,
            None => {
                self.store.remove(store_buf, tag);
            }
        }
        // A new identity starts a new Digest exchange.
        self.digest = None;
        Ok(())
    }

    /// The username (`esp_http_client_get_username`).
    pub fn username(&self) -> Option<&[u8]> {
        self.store.get(self.store_buf(), Tag::Username)
    }

    /// Sets the authentication type (`esp_http_client_set_authtype`).
    pub fn set_authtype(&mut self, auth_type: AuthType) {
        self.settings.auth_type = auth_type;
    }

    /// Sets the per-operation timeout (`esp_http_client_set_timeout_ms`).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.settings.timeout = super::engine::millis(timeout);
    }

    /// Sets or clears the deadline for a whole `perform`.
    pub fn set_request_timeout(&mut self, timeout: Option<Duration>) {
        self.settings.request_timeout = timeout.map(super::engine::millis);
    }

    /// Follows the last redirect response by hand (`esp_http_client_set_redirection`), for
    /// clients with `disable_auto_redirect`: the URL becomes the response's resolved
    /// `Location`, and the method changes as it would automatically (303 to GET, 301 and 302
    /// from POST to GET) for the next request only. The next `perform` requests it. An https
    /// URL redirected to http is refused with [`ClientError::RedirectDowngrade`], as ESP-IDF
    /// does.
    pub fn set_redirection(&mut self) -> Result<(), ClientError> {
        let status = self
            .resp
            .status
            .filter(|s| is_redirect(*s))
            .ok_or(ClientError::InvalidState { operation: "set_redirection" })?;
        self.check_downgrade()?;
        self.redirect_to_get = self.apply_redirect(status)?;
        Ok(())
    }

    /// Status of the last response (`esp_http_client_get_status_code`).
    pub fn status_code(&self) -> Option<StatusCode> {
        self.resp.status
    }

    /// The last response's Content-Length (`esp_http_client_get_content_length`); `None` when
    /// it had none (chunked, close-delimited or no body), which ESP-IDF reports as -1.
    pub fn content_length(&self) -> Option<u64> {
        self.resp.content_length
    }

    /// How the last response's body is delimited: unlike ESP-IDF's `is_chunked_response`,
    /// "no Content-Length", "Content-Length: 0" and "chunked" are three different answers.
    pub fn body_kind(&self) -> BodyKind {
        self.resp.kind
    }

    /// True only for a chunked response (`esp_http_client_is_chunked_response`; ESP-IDF also
    /// says true for responses without Content-Length).
    pub fn is_chunked_response(&self) -> bool {
        self.resp.kind == BodyKind::Chunked
    }

    /// True once the whole body of the last response was received
    /// (`esp_http_client_is_complete_data_received`).
    pub fn is_complete_data_received(&self) -> bool {
        self.resp.complete
    }

    /// Size of the last chunk-size line read (`esp_http_client_get_chunk_length`); `None` for
    /// a response that is not chunked.
    pub fn chunk_length(&self) -> Option<u64> {
        if self.resp.kind == BodyKind::Chunked { Some(self.resp.decoder.chunk_len().unwrap_or(0)) } else { None }
    }

    /// Body bytes received so far in the last response.
    pub fn body_received(&self) -> u64 {
        self.resp.received
    }

    /// A header of the last response (`esp_http_client_get_response_header`): the first field
    /// of that name, its value without surrounding whitespace. Available from the response
    /// head until the next request starts.
    pub fn response_header(&self, name: &str) -> Option<&[u8]> {
        let head = self.buf.as_ref().get(..self.resp.head_len)?;
        response_fields(head).find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v)
    }

    /// Every header of the last response, in order.
    pub fn response_headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        response_fields(self.buf.as_ref().get(..self.resp.head_len).unwrap_or_default())
    }

    /// Whether the connection may carry another request (`esp_http_client_is_persistent_connection`).
    pub fn is_persistent_connection(&self) -> bool {
        self.resp.keep_alive && !self.spent
    }

    /// Connections opened by this client so far.
    pub fn connects(&self) -> u32 {
        self.connects
    }
}

/// 301, 302, 303, 307 and 308: the redirects that are followed.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The fields of a complete, already validated response head, as (name, value) pairs.
pub(crate) fn response_fields(head: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    crate::field::raw_fields(head).map(|(name, value)| (name, trim_ows(value)))
}

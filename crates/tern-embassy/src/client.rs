//! The client: ESP-IDF's `esp_http_client` on embassy.
//!
//! [`Client`] drives the sans-IO engine of [`tern_proto::client`] over a [`Transport`]:
//! it asks the engine what it wants, does that, and bounds every wait by the engine's
//! deadline with embassy-time. Every protocol decision (framing, redirects, authentication,
//! keep-alive reuse, retries, timeouts) is the engine's, built from the same
//! [`ClientConfig`] as the std and tokio clients; the engine's getters and setters
//! (`set_url`, `set_header`, `status_code`, ...) are reached through `Deref`.
//!
//! Memory is the caller's: one buffer of [`ClientConfig::buffer_len`] bytes for the engine
//! (3,584 at the defaults) and the transport's socket buffers. Nothing is allocated.
//!
//! ```no_run
//! # async fn demo(stack: embassy_net::Stack<'_>) -> Result<(), tern_embassy::client::Error> {
//! use tern_embassy::client::Client;
//! use tern_embassy::net::TcpTransport;
//! use tern_proto::client::ClientConfig;
//!
//! let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
//! let mut engine_buffer = [0u8; 3584];
//! let (mut rx, mut tx) = ([0u8; 1536], [0u8; 1536]);
//! let mut client = Client::new(&config, &mut engine_buffer, TcpTransport::new(stack, &mut rx, &mut tx))?;
//! client.perform().await?;
//! let status = client.status_code();
//! # Ok(()) }
//! ```

use core::ops::{Deref, DerefMut};

use embassy_time::{Instant as EmbassyInstant, TimeoutError};

use crate::clock::{now, until};
#[cfg(feature = "tls")]
use tern_proto::Instant;
use tern_proto::client::{self as engine, Action, ClientConfig, ClientError, Completion, EventHandler, NoEvents};

use crate::transport::{ConnectError, Transport};

/// Why an operation did not complete.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request failed; the engine says why and whose fault it was.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The transport could not open the connection (the engine reports
    /// [`ClientError::Connect`]; this says why).
    #[error("could not connect: {0}")]
    Connect(ConnectError),
    /// The TLS handshake failed, or TLS failed later on the connection; the error says why
    /// (a refused certificate and its reason, an alert, ...).
    #[cfg(feature = "tls")]
    #[error("TLS: {0}")]
    Tls(tern_tls::TlsError),
}

impl Error {
    /// The engine's error, if that is what this is.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            Error::Client(e) => Some(e),
            _ => None,
        }
    }
}

/// An HTTP/1.1 client over a [`Transport`]: ESP-IDF's client handle on embassy.
///
/// The engine's memory is the caller's `buffer` ([`ClientConfig::buffer_len`] bytes); every
/// wait is bounded by the engine's deadline through embassy-time. Over embassy-net, the
/// transport is a [`TcpTransport`](crate::net::TcpTransport) (see the [module
/// docs](crate::client)); any connected [`embedded_io_async`] stream works through
/// [`Connected`](crate::transport::Connected), as this in-memory one does here:
///
/// ```
/// use core::convert::Infallible;
/// use embedded_io_async::{ErrorType, Read, Write};
/// use tern_embassy::client::Client;
/// use tern_embassy::transport::Connected;
/// use tern_proto::client::ClientConfig;
///
/// /// A peer whose bytes are canned: reads hand them out, writes are kept.
/// struct Canned { reply: &'static [u8], sent: Vec<u8> }
/// impl ErrorType for Canned { type Error = Infallible; }
/// impl Read for Canned {
///     async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
///         let n = buf.len().min(self.reply.len());
///         buf[..n].copy_from_slice(&self.reply[..n]);
///         self.reply = &self.reply[n..];
///         Ok(n)
///     }
/// }
/// impl Write for Canned {
///     async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
///         self.sent.extend_from_slice(buf);
///         Ok(buf.len())
///     }
///     async fn flush(&mut self) -> Result<(), Infallible> { Ok(()) }
/// }
///
/// let mut peer = Canned { reply: b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"up\":true}", sent: Vec::new() };
/// let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
/// let mut engine_buffer = [0u8; 3584]; // config.buffer_len() at the defaults
/// let mut client = Client::new(&config, &mut engine_buffer, Connected::new(&mut peer))?;
/// let mut body = [0u8; 64];
/// let n = embassy_futures::block_on(async {
///     client.open(Some(0)).await?; // connect (here: nothing to do), send the head
///     client.fetch_headers().await?;
///     client.read_response(&mut body).await
/// })?;
/// assert_eq!(&body[..n], br#"{"up":true}"#);
/// assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
/// drop(client);
/// assert!(peer.sent.starts_with(b"GET /status HTTP/1.1\r\n"));
/// # Ok::<(), tern_embassy::client::Error>(())
/// ```
pub struct Client<'a, T: Transport, H: EventHandler = NoEvents> {
    engine: engine::Client<'a, &'a mut [u8], H>,
    transport: T,
    /// Why the connection failed, reported in place of the engine's transport-level error.
    failure: Option<Error>,
    #[cfg(feature = "tls")]
    tls: Option<TlsState<'a>>,
}

/// The TLS configuration, its buffer while no session holds it, and the session.
#[cfg(feature = "tls")]
struct TlsState<'a> {
    config: tern_tls::ClientTls,
    buffer: Option<&'a mut [u8]>,
    session: Option<crate::tls::Session<'a>>,
}

impl<'a, T: Transport> Client<'a, T, NoEvents> {
    /// A client for `config` (`esp_http_client_init`) on `buffer` (at least
    /// [`ClientConfig::buffer_len`] bytes) and `transport`, without an event handler.
    pub fn new(config: &ClientConfig<'a>, buffer: &'a mut [u8], transport: T) -> Result<Self, Error> {
        Client::with_handler(config, buffer, transport, NoEvents)
    }
}

impl<'a, T: Transport, H: EventHandler> Client<'a, T, H> {
    /// A client whose events go to `handler`.
    pub fn with_handler(
        config: &ClientConfig<'a>,
        buffer: &'a mut [u8],
        transport: T,
        handler: H,
    ) -> Result<Self, Error> {
        let mut config = config.clone();
        // Digest nonces need some entropy; the clock is what every target has. Firmware
        // with a hardware RNG should put its value in `config.entropy` instead.
        if config.entropy == ClientConfig::default().entropy {
            config.entropy ^= EmbassyInstant::now().as_ticks().rotate_left(17);
        }
        Ok(Client {
            engine: engine::Client::new(&config, buffer, handler)?,
            transport,
            failure: None,
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    /// A client that speaks https through `tls`, whose sessions use `tls_buffer` (at least
    /// `tls.layout().buffer_len()` bytes: 49,482 at the default layout, 37,189 with 4 KiB
    /// outgoing records). Each https hop runs the TLS handshake after the transport's
    /// connect, within the same deadline.
    #[cfg(feature = "tls")]
    pub fn with_tls(
        config: &ClientConfig<'a>,
        buffer: &'a mut [u8],
        transport: T,
        handler: H,
        tls: tern_tls::ClientTls,
        tls_buffer: &'a mut [u8],
    ) -> Result<Self, Error> {
        let mut client = Client::with_handler(config, buffer, transport, handler)?;
        client.tls = Some(TlsState { config: tls, buffer: Some(tls_buffer), session: None });
        Ok(client)
    }

    /// The TLS session of the open connection, if it is https.
    #[cfg(feature = "tls")]
    pub fn tls_session(&self) -> Option<&tern_tls::TlsSession<&'a mut [u8]>> {
        self.tls.as_ref().and_then(|t| t.session.as_ref())
    }

    /// The transport.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The whole request, redirects and authentication included (`esp_http_client_perform`).
    /// Body bytes reach the event handler as `OnData`.
    pub async fn perform(&mut self) -> Result<(), Error> {
        self.engine.perform(now())?;
        self.drive(|_| ()).await
    }

    /// Connects if needed and sends the head of a streamed request (`esp_http_client_open`);
    /// `None` streams the body chunked.
    pub async fn open(&mut self, write_len: Option<u64>) -> Result<(), Error> {
        self.engine.open(write_len, now())?;
        self.drive(|_| ()).await
    }

    /// Writes all of `data` as request body after [`open`](Self::open)
    /// (`esp_http_client_write`).
    pub async fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let mut done = 0;
        while let Some(rest) = data.get(done..).filter(|r| !r.is_empty()) {
            done += self.engine.write(rest)?;
            self.drive(|_| ()).await?;
        }
        Ok(done)
    }

    /// Ends the request body and reads the response head (`esp_http_client_fetch_headers`).
    /// Returns the Content-Length, if the response has one.
    pub async fn fetch_headers(&mut self) -> Result<Option<u64>, Error> {
        self.engine.fetch_headers()?;
        self.drive(|_| ()).await?;
        Ok(self.engine.content_length())
    }

    /// Reads decoded body bytes (`esp_http_client_read`); `Ok(0)` is the end of the body.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.engine.read()?;
        let n = self
            .drive(|completion| match completion {
                Completion::Data(data) => {
                    let n = data.len().min(buf.len());
                    if let (Some(dst), Some(src)) = (buf.get_mut(..n), data.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    n
                }
                _ => 0,
            })
            .await?;
        self.engine.consume(n);
        Ok(n)
    }

    /// Reads until `buf` is full or the body ends (`esp_http_client_read_response`).
    pub async fn read_response(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut filled = 0;
        while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
            match self.read(rest).await? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    }

    /// Reads and discards the rest of the body (`esp_http_client_flush_response`).
    pub async fn flush_response(&mut self) -> Result<(), Error> {
        self.engine.flush_response()?;
        self.drive(|_| ()).await
    }

    /// Closes the connection (`esp_http_client_close`); settings are kept.
    pub async fn close(&mut self) -> Result<(), Error> {
        self.engine.close();
        self.drive(|_| ()).await
    }

    /// Runs the engine until the operation is done; `on_done` sees the completion.
    async fn drive<R>(&mut self, on_done: impl FnOnce(Completion<'_>) -> R) -> Result<R, Error> {
        let mut on_done = Some(on_done);
        let speaks_tls = self.speaks_tls();
        loop {
            let now = now();
            if self.engine.deadline().is_some_and(|d| now >= d) {
                self.engine.handle_timeout(now);
            }
            let (action, deadline) = self.engine.poll_with_deadline(now);
            match action {
                Action::Done(result) => {
                    let failure = self.failure.take();
                    return match result {
                        Ok(completion) => {
                            let f = on_done.take().ok_or(ClientError::InvalidState { operation: "drive" })?;
                            Ok(f(completion))
                        }
                        Err(ClientError::Connect | ClientError::Transport(_) | ClientError::ConnectionClosed(_))
                            if failure.is_some() =>
                        {
                            Err(failure.unwrap_or(Error::Client(ClientError::Connect)))
                        }
                        Err(e) => Err(e.into()),
                    };
                }
                Action::Connect(endpoint) => {
                    if endpoint.scheme.is_secure() && !speaks_tls {
                        self.engine.connect_failed(self::now());
                        return self.settle(ClientError::TlsUnavailable);
                    }
                    let secure = endpoint.scheme.is_secure();
                    match until(deadline, self.transport.connect(endpoint.host, endpoint.port)).await {
                        Ok(Ok(())) if secure => {
                            #[cfg(feature = "tls")]
                            {
                                let started =
                                    start_tls(&mut self.tls, &mut self.transport, endpoint.host, deadline).await;
                                match started {
                                    Ok(()) => self.engine.connected(self::now()),
                                    Err(crate::tls::Fail::Timeout) => self.engine.handle_timeout(self::now()),
                                    Err(crate::tls::Fail::Transport) => self.engine.connect_failed(self::now()),
                                    Err(crate::tls::Fail::Tls(e)) => {
                                        self.failure = Some(Error::Tls(e));
                                        self.engine.connect_failed(self::now());
                                    }
                                }
                            }
                        }
                        Ok(Ok(())) => self.engine.connected(self::now()),
                        Ok(Err(e)) => {
                            self.failure = Some(Error::Connect(e));
                            self.engine.connect_failed(self::now());
                        }
                        Err(TimeoutError) => self.engine.handle_timeout(self::now()),
                    }
                }
                Action::Transmit([head, body]) => {
                    #[cfg(feature = "tls")]
                    if let Some(session) = self.tls.as_mut().and_then(|t| t.session.as_mut()) {
                        let result = crate::tls::write(session, &mut self.transport, [head, body], deadline).await;
                        match result {
                            Ok(n) => self.engine.transmitted(n, self::now()),
                            Err(fail) => self.tls_failed(fail),
                        }
                        continue;
                    }
                    let part = if head.is_empty() { body } else { head };
                    match until(deadline, self.transport.write(part)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => self.engine.transport_failed(self::now()),
                        Ok(Ok(n)) => self.engine.transmitted(n, self::now()),
                        Err(TimeoutError) => self.engine.handle_timeout(self::now()),
                    }
                }
                Action::Receive(buf) => {
                    #[cfg(feature = "tls")]
                    if let Some(session) = self.tls.as_mut().and_then(|t| t.session.as_mut()) {
                        match crate::tls::read(session, &mut self.transport, buf, deadline).await {
                            Ok(n) => self.engine.received(n, self::now()),
                            Err(fail) => self.tls_failed(fail),
                        }
                        continue;
                    }
                    match until(deadline, self.transport.read(buf)).await {
                        Ok(Ok(n)) => self.engine.received(n, self::now()),
                        Ok(Err(_)) => self.engine.transport_failed(self::now()),
                        Err(TimeoutError) => self.engine.handle_timeout(self::now()),
                    }
                }
                Action::Close => {
                    #[cfg(feature = "tls")]
                    self.end_tls(deadline).await;
                    self.transport.close().await;
                    self.engine.closed();
                }
            }
        }
    }

    /// Whether https can be served.
    fn speaks_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.tls.is_some()
        }
        #[cfg(not(feature = "tls"))]
        {
            false
        }
    }

    /// A TLS read or write failed on an open connection.
    #[cfg(feature = "tls")]
    fn tls_failed(&mut self, fail: crate::tls::Fail) {
        match fail {
            crate::tls::Fail::Timeout => self.engine.handle_timeout(self::now()),
            crate::tls::Fail::Transport => self.engine.transport_failed(self::now()),
            crate::tls::Fail::Tls(e) => {
                self.failure = Some(Error::Tls(e));
                self.engine.transport_failed(self::now());
            }
        }
    }

    /// Says `close_notify` (best effort) and takes the session's buffer back.
    #[cfg(feature = "tls")]
    async fn end_tls(&mut self, deadline: Option<Instant>) {
        let Some(tls) = self.tls.as_mut() else { return };
        let Some(mut session) = tls.session.take() else { return };
        crate::tls::close(&mut session, &mut self.transport, deadline).await;
        tls.buffer = Some(session.into_buffer());
    }

    /// Lets the engine finish an operation that failed before it reached the network, so the
    /// next one starts afresh, and returns `error`.
    fn settle<R>(&mut self, error: ClientError) -> Result<R, Error> {
        for _ in 0..8 {
            match self.engine.poll(now()) {
                Action::Done(_) => break,
                Action::Close => self.engine.closed(),
                _ => break,
            }
        }
        Err(error.into())
    }
}

/// Starts TLS on the new connection to `host`, within `deadline`. On a failure the
/// connection is closed and the buffer is back in `tls`.
#[cfg(feature = "tls")]
async fn start_tls<'a, T: Transport>(
    tls: &mut Option<TlsState<'a>>,
    transport: &mut T,
    host: &str,
    deadline: Option<Instant>,
) -> Result<(), crate::tls::Fail> {
    let Some(tls) = tls.as_mut() else { return Err(crate::tls::Fail::Transport) };
    let Some(buffer) = tls.buffer.take() else { return Err(crate::tls::Fail::Transport) };
    let mut session = match tls.config.try_session(host, buffer) {
        Ok(session) => session,
        Err((e, buffer)) => {
            tls.buffer = Some(buffer);
            transport.close().await;
            return Err(crate::tls::Fail::Tls(e));
        }
    };
    match crate::tls::handshake(&mut session, transport, deadline).await {
        Ok(()) => {
            tls.session = Some(session);
            Ok(())
        }
        Err(fail) => {
            tls.buffer = Some(session.into_buffer());
            transport.close().await;
            Err(fail)
        }
    }
}

impl<'a, T: Transport, H: EventHandler> Deref for Client<'a, T, H> {
    type Target = engine::Client<'a, &'a mut [u8], H>;
    fn deref(&self) -> &Self::Target {
        &self.engine
    }
}

impl<T: Transport, H: EventHandler> DerefMut for Client<'_, T, H> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.engine
    }
}

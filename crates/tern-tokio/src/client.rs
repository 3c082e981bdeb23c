//! The async client: ESP-IDF's `esp_http_client` on tokio.
//!
//! This module owns the tokio side of a client connection and nothing else: resolving the
//! host, connecting a [`TcpStream`] (every resolved address in order, `TCP_NODELAY` set),
//! writing the engine's bytes with vectored writes, reading into the engine's receive buffer,
//! and sleeping until the engine's deadline. Every protocol decision (framing, redirects,
//! authentication, keep-alive and reuse, retries, timeouts) is made by the sans-IO engine of
//! [`tern_proto::client`], built from the same [`ClientConfig`] as `tern_std::Client`. The
//! engine's getters and setters (`set_url`, `set_header`, `status_code`, ...) are reached
//! through `Deref`.
//!
//! With feature `tls` (the default), an `https` hop (the URL, or a redirect's `Location`) runs
//! a TLS handshake after the TCP connect, within the same deadline, and then every byte goes
//! through the TLS session (`tern_tls`, rustls underneath). The TLS configuration comes from
//! the [`ClientConfig`]'s `tls` options (CA certificates or Mozilla's roots, mutual TLS,
//! `common_name`, `insecure`, ...) and is built when the client is created, or is given
//! ready-made (`Client::with_tls`, `Client::set_tls`). A refused handshake fails the
//! operation with `Error::Tls`, which says why (`TlsError::certificate_refusal`: unknown
//! issuer, expired, wrong name, ...); so does a TLS failure later on the connection (an alert,
//! a bad record), which is also kept for `Client::take_last_tls_error`. Closing sends
//! `close_notify` first. Without the feature, `https` fails with
//! [`ClientError::TlsUnavailable`].
//!
//! Each operation is one loop over the engine (see [`tern_proto::client`]): ask it what it
//! wants, try that without blocking, and when the socket is not ready, wait for readiness or
//! the engine's deadline, whichever comes first. Dropping an operation's future therefore
//! leaves the engine where it stopped, and calling the same operation again resumes it, as
//! ESP-IDF's `is_async` mode does after `ESP_ERR_HTTP_EAGAIN` ([`write`](Client::write)
//! excepted: some of the dropped call's bytes may have been sent).

use std::io::{self, IoSlice};
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use socket2::{SockRef, TcpKeepalive};
use tern_proto::Instant;
use tern_proto::client::{self as engine, Action, ClientConfig, ClientError, Completion, EventHandler, NoEvents};
#[cfg(feature = "tls")]
use tern_tls::{ClientTls, TlsError};
use tokio::io::Interest;
use tokio::net::TcpStream;

#[cfg(feature = "tls")]
use crate::transport::{Io, LinkError, TlsLink};
use crate::transport::{Transport, until};

/// The most [`Client::read_to_end`] reserves up front from a response's Content-Length.
const MAX_PREALLOCATION: usize = 1 << 20;

/// Why an operation of the async client did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request failed; the engine says why and whose fault it was.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The host name could not be resolved.
    #[error("could not resolve {host}: {source}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// TLS failed, and the error says why and whose fault it was ([`TlsError::origin`]): the
    /// TLS options cannot work (`TlsError::Config`, when the client is created), the
    /// handshake was refused (the engine was told the connect failed; a refused certificate's
    /// reason is [`TlsError::certificate_refusal`]), or the session failed later (the engine
    /// saw a transport failure).
    #[cfg(feature = "tls")]
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// [`Client::read_to_end`]: the body is longer than the limit it was given. The rest of
    /// the body is left unread (the next request opens a new connection).
    #[error("the response body is longer than the {limit} bytes allowed")]
    BodyTooLarge {
        /// The limit given.
        limit: usize,
    },
}

impl Error {
    /// The engine's error, if that is what this is.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            Error::Client(e) => Some(e),
            _ => None,
        }
    }

    /// The TLS error, if that is what this is.
    #[cfg(feature = "tls")]
    pub fn tls_error(&self) -> Option<&TlsError> {
        match self {
            Error::Tls(e) => Some(e),
            _ => None,
        }
    }
}

/// An async HTTP/1.1 client: ESP-IDF's client handle on tokio.
///
/// One `Client` is one connection at a time, reused across requests when the server allows
/// it (the engine decides). Body bytes of [`perform`](Self::perform) reach the event handler
/// as `OnData`; the streaming flow ([`open`](Self::open), [`write`](Self::write),
/// [`fetch_headers`](Self::fetch_headers), [`read`](Self::read)) hands them to the caller.
///
/// ```no_run
/// use tern_proto::Method;
/// use tern_proto::client::ClientConfig;
/// use tern_tokio::client::Client;
///
/// # async fn run() -> Result<(), tern_tokio::client::Error> {
/// let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
/// let mut client = Client::new(&config)?;
/// client.perform().await?;
/// println!("{:?}", client.status_code());
///
/// // The streaming flow, on the same (kept-alive) connection.
/// client.set_url("/upload")?;
/// client.set_method(Method::Post);
/// client.open(None).await?; // chunked
/// client.write(b"hello").await?;
/// client.fetch_headers().await?;
/// let body = client.read_to_end(64 * 1024).await?;
/// println!("{} bytes", body.len());
/// # Ok(())
/// # }
/// ```
pub struct Client<'a, H: EventHandler = NoEvents> {
    engine: engine::Client<'a, Vec<u8>, H>,
    /// The open connection: plain, or TLS for an https hop.
    transport: Option<Transport>,
    #[cfg(feature = "tls")]
    tls: TlsState,
    /// Time zero for the engine's [`Instant`]s.
    epoch: std::time::Instant,
    tcp_keep_alive: Option<engine::TcpKeepAlive>,
    /// A more precise account of a failure than the engine's (a resolver error, a TLS
    /// refusal), returned when the engine finishes the operation with an error.
    failure: Option<Error>,
}

impl<'a> Client<'a, NoEvents> {
    /// A client for `config` (`esp_http_client_init`), without an event handler.
    pub fn new(config: &ClientConfig<'a>) -> Result<Self, Error> {
        Client::with_handler(config, NoEvents)
    }
}

impl<'a, H: EventHandler> Client<'a, H> {
    /// A client for `config` whose events go to `handler`, in ESP-IDF's order. With feature
    /// `tls`, the TLS configuration for https is built from `config.tls` now: `Error::Tls`
    /// when it cannot work.
    pub fn with_handler(config: &ClientConfig<'a>, handler: H) -> Result<Self, Error> {
        #[cfg(feature = "tls")]
        let tls = ClientTls::new(&config.tls)?;
        #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
        let mut client = Client::build(config, handler)?;
        #[cfg(feature = "tls")]
        client.set_tls(tls);
        Ok(client)
    }

    /// A client for `config` whose https hops use `tls`, built by the caller (a key behind a
    /// [`SigningKey`](tern_tls::rustls::sign::SigningKey), another crypto provider or clock,
    /// a smaller buffer layout, a rustls configuration of its own). `config.tls` is then
    /// not used.
    ///
    /// ```no_run
    /// use tern_proto::client::{ClientConfig, TlsConfig};
    /// use tern_tls::ClientTls;
    /// use tern_tokio::client::Client;
    ///
    /// # async fn run(ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = ClientTls::builder(&TlsConfig { ca_cert: Some(ca_pem), ..TlsConfig::default() })
    ///     .layout(tern_tls::TlsBufferLayout::with_outgoing_record(4096))
    ///     .build()?;
    /// let config = ClientConfig { url: Some("https://192.168.4.1/status"), ..ClientConfig::default() };
    /// let mut client = Client::with_tls(&config, tern_proto::client::NoEvents, tls)?;
    /// client.perform().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn with_tls(config: &ClientConfig<'a>, handler: H, tls: ClientTls) -> Result<Self, Error> {
        let mut client = Client::build(config, handler)?;
        client.set_tls(tls);
        Ok(client)
    }

    /// Uses `tls` for the https hops from the next connection on, instead of the
    /// configuration the client has (a `ClientTls` can be shared by many clients: ESP-IDF's
    /// global CA store without a global).
    #[cfg(feature = "tls")]
    pub fn set_tls(&mut self, tls: ClientTls) {
        self.tls.config = Some(tls);
    }

    /// The last TLS failure on an established connection (an alert, a bad record), cleared
    /// by this call (`esp_http_client_get_and_clear_last_tls_error`). The operation that met
    /// it also returned it, unless the engine recovered (a reused connection retried).
    #[cfg(feature = "tls")]
    pub fn take_last_tls_error(&mut self) -> Option<TlsError> {
        self.tls.last_error.take()
    }

    /// The TLS session of the open connection, when it is an https one (its protocol
    /// version, ALPN protocol, the server's certificates).
    #[cfg(feature = "tls")]
    pub fn tls_session(&self) -> Option<&tern_tls::TlsSession<Vec<u8>>> {
        self.transport.as_ref()?.tls()
    }

    /// The client and its engine, without a TLS configuration yet.
    fn build(config: &ClientConfig<'a>, handler: H) -> Result<Self, Error> {
        let mut config = config.clone();
        config.entropy = engine::std_entropy();
        let buf = vec![0u8; config.buffer_len()];
        Ok(Client {
            engine: engine::Client::new(&config, buf, handler)?,
            transport: None,
            #[cfg(feature = "tls")]
            tls: TlsState::default(),
            epoch: std::time::Instant::now(),
            tcp_keep_alive: config.tcp_keep_alive,
            failure: None,
        })
    }

    /// The whole request, redirects and authentication included (`esp_http_client_perform`).
    /// Body bytes reach the event handler as `OnData`.
    pub async fn perform(&mut self) -> Result<(), Error> {
        let now = self.now();
        self.engine.perform(now)?;
        self.drive(|_| ()).await
    }

    /// Connects if needed and sends the head of a streamed request (`esp_http_client_open`);
    /// `None` streams the body chunked.
    pub async fn open(&mut self, write_len: Option<u64>) -> Result<(), Error> {
        let now = self.now();
        self.engine.open(write_len, now)?;
        self.drive(|_| ()).await
    }

    /// Writes body bytes after [`open`](Self::open) (`esp_http_client_write`): all of
    /// `data`, unless the engine stops accepting bytes; returns how many were sent.
    ///
    /// Not cancel-safe: when the future is dropped, part of `data` may have been sent.
    pub async fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let mut done = 0;
        while done < data.len() {
            let accepted = self.engine.write(data.get(done..).unwrap_or_default())?;
            done += accepted;
            self.drive(|_| ()).await?;
            if accepted == 0 {
                break;
            }
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

    /// Reads decoded body bytes (`esp_http_client_read`); `Ok(0)` is the end of the body
    /// (or an empty `buf`), which is never confused with an error.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.engine.read()?;
        let n = self
            .drive(|completion| match completion {
                Completion::Data(data) => {
                    let n = data.len().min(buf.len());
                    buf.get_mut(..n).unwrap_or_default().copy_from_slice(data.get(..n).unwrap_or_default());
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
        while filled < buf.len() {
            match self.read(buf.get_mut(filled..).unwrap_or_default()).await? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    }

    /// Reads the rest of the response body into one buffer, after
    /// [`fetch_headers`](Self::fetch_headers). A body longer than `limit` bytes fails with
    /// [`Error::BodyTooLarge`].
    pub async fn read_to_end(&mut self, limit: usize) -> Result<Bytes, Error> {
        let hint = self.engine.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut body = BytesMut::with_capacity(hint.min(limit).min(MAX_PREALLOCATION));
        loop {
            self.engine.read()?;
            let step = self
                .drive(|completion| match completion {
                    Completion::Data(data) if body.len().saturating_add(data.len()) > limit => Err(()),
                    Completion::Data(data) => {
                        body.extend_from_slice(data);
                        Ok(data.len())
                    }
                    _ => Ok(0),
                })
                .await?;
            match step {
                Err(()) => return Err(Error::BodyTooLarge { limit }),
                Ok(0) => return Ok(body.freeze()),
                Ok(n) => self.engine.consume(n),
            }
        }
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

    /// Milliseconds since `epoch`, as the engine counts time.
    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// The engine's deadline as a tokio instant; `None` when there is none (or it is beyond
    /// what the clock can represent).
    fn deadline(&self) -> Option<tokio::time::Instant> {
        let at = self.epoch.checked_add(Duration::from_millis(self.engine.deadline()?.as_millis()))?;
        Some(tokio::time::Instant::from_std(at))
    }

    /// Runs the engine until the operation is done; `on_done` sees the completion.
    async fn drive<T>(&mut self, on_done: impl FnOnce(Completion<'_>) -> T) -> Result<T, Error> {
        loop {
            let now = self.now();
            // The one place a passed deadline is reported: the engine counts each report as
            // a timeout of its own.
            if self.engine.deadline().is_some_and(|d| now >= d) {
                self.engine.handle_timeout(now);
            }
            // What the socket must become before the engine is asked again.
            let mut wait = None;
            match self.engine.poll(now) {
                Action::Done(result) => {
                    let failure = self.failure.take();
                    return match result {
                        Ok(completion) => Ok(on_done(completion)),
                        Err(e) => Err(failure.unwrap_or(Error::Client(e))),
                    };
                }
                #[cfg(not(feature = "tls"))]
                Action::Connect(endpoint) if endpoint.scheme.is_secure() => {
                    self.failure = Some(ClientError::TlsUnavailable.into());
                    self.engine.connect_failed(now);
                }
                Action::Connect(endpoint) => {
                    let (host, port, secure) = (endpoint.host.to_owned(), endpoint.port, endpoint.scheme.is_secure());
                    self.connect(&host, port, secure).await;
                }
                Action::Transmit([head, body]) => match self.transport.as_mut() {
                    None => self.engine.transport_failed(now),
                    Some(Transport::Plain(stream)) => {
                        match stream.try_write_vectored(&[IoSlice::new(head), IoSlice::new(body)]) {
                            Ok(0) => self.engine.transport_failed(now),
                            Ok(n) => self.engine.transmitted(n, now),
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait = Some(Interest::WRITABLE),
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(_) => self.engine.transport_failed(now),
                        }
                    }
                    #[cfg(feature = "tls")]
                    Some(Transport::Tls(tcp, link)) => match link.transmit(tcp, [head, body]) {
                        Io::Done(n) => self.engine.transmitted(n, now),
                        Io::Wait(interest) => wait = Some(interest),
                        Io::Failed => self.engine.transport_failed(now),
                        Io::Tls(source) => self.tls_failed(source, now),
                    },
                },
                Action::Receive(buf) => match self.transport.as_mut() {
                    None => self.engine.transport_failed(now),
                    Some(Transport::Plain(stream)) => match stream.try_read(buf) {
                        Ok(n) => self.engine.received(n, now),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait = Some(Interest::READABLE),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => self.engine.transport_failed(now),
                    },
                    #[cfg(feature = "tls")]
                    Some(Transport::Tls(tcp, link)) => match link.receive(tcp, buf) {
                        Io::Done(n) => self.engine.received(n, now),
                        Io::Wait(interest) => wait = Some(interest),
                        Io::Failed => self.engine.transport_failed(now),
                        Io::Tls(source) => self.tls_failed(source, now),
                    },
                },
                Action::Close => {
                    self.close_transport();
                    self.engine.closed();
                }
            }
            if let (Some(interest), Some(transport)) = (wait, self.transport.as_ref()) {
                // Readiness or the deadline: either way the engine is asked again, and the
                // top of the loop reports a deadline that passed.
                if let Some(Err(_)) = until(self.deadline(), transport.tcp().ready(interest)).await {
                    self.engine.transport_failed(self.now());
                }
            }
        }
    }

    /// The TLS session failed after its handshake: the engine hears of a transport failure
    /// (and may retry a reused connection); the reason is kept for `take_last_tls_error` and
    /// returned if the operation fails.
    #[cfg(feature = "tls")]
    fn tls_failed(&mut self, e: TlsError, now: Instant) {
        self.tls.last_error = Some(e.clone());
        self.failure = Some(Error::Tls(e));
        self.engine.transport_failed(now);
    }

    /// Drops the connection; a TLS session says `close_notify` first, if the socket takes it
    /// at once, and its buffer is kept for the next session.
    fn close_transport(&mut self) {
        #[cfg(feature = "tls")]
        if let Some(Transport::Tls(tcp, mut link)) = self.transport.take() {
            link.close(&tcp);
            self.tls.buffer = link.into_buffer();
        }
        self.transport = None;
    }

    /// Opens the connection for the engine's `Connect`: resolves `host`, tries each address
    /// in order until one accepts, and for `secure` runs the TLS handshake over it, all
    /// within the engine's deadline, and reports the outcome (a deadline that passed is left
    /// for `drive` to report).
    async fn connect(&mut self, host: &str, port: u16, secure: bool) {
        // A failure kept from an earlier connection is not this connection's.
        self.failure = None;
        self.close_transport();
        let deadline = self.deadline();
        let addrs = match until(deadline, tokio::net::lookup_host((host, port))).await {
            None => return,
            Some(Ok(addrs)) => addrs,
            Some(Err(source)) => {
                self.failure = Some(Error::Resolve { host: host.to_owned(), source });
                return self.engine.connect_failed(self.now());
            }
        };
        for addr in addrs {
            match until(deadline, TcpStream::connect(addr)).await {
                None => return,
                Some(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    if let Some(k) = self.tcp_keep_alive {
                        let probes =
                            TcpKeepalive::new().with_time(k.idle).with_interval(k.interval).with_retries(k.count);
                        let _ = SockRef::from(&stream).set_tcp_keepalive(&probes);
                    }
                    #[cfg(feature = "tls")]
                    if secure {
                        return self.start_tls(host, stream, deadline).await;
                    }
                    #[cfg(not(feature = "tls"))]
                    let _ = secure;
                    self.transport = Some(Transport::Plain(stream));
                    return self.engine.connected(self.now());
                }
                Some(Err(_)) => {}
            }
        }
        self.engine.connect_failed(self.now());
    }

    /// Runs the TLS handshake with `host` over a connected `stream`, and reports the outcome.
    /// A refusal is not retried on the host's other addresses: it is the same server. A reset
    /// during the handshake is a connect failure, as it is before it.
    #[cfg(feature = "tls")]
    async fn start_tls(&mut self, host: &str, stream: TcpStream, deadline: Option<tokio::time::Instant>) {
        let Some(tls) = &self.tls.config else {
            // Every constructor sets a configuration; without one there is no TLS.
            self.failure = Some(ClientError::TlsUnavailable.into());
            return self.engine.connect_failed(self.now());
        };
        let needed = tls.layout().buffer_len();
        let mut buffer = std::mem::take(&mut self.tls.buffer);
        if buffer.len() < needed {
            buffer = vec![0u8; needed];
        }
        let session = tls.session(host, buffer);
        let mut link = match session {
            Ok(session) => TlsLink::new(session),
            Err(e) => {
                self.failure = Some(Error::Tls(e));
                return self.engine.connect_failed(self.now());
            }
        };
        let result = link.handshake(&stream, deadline).await;
        if result.is_ok() {
            self.transport = Some(Transport::Tls(stream, Box::new(link)));
            return self.engine.connected(self.now());
        }
        self.tls.buffer = link.into_buffer();
        match result {
            // Left for `drive` to report, as a TCP connect that took too long.
            Ok(()) | Err(LinkError::Timeout) => {}
            Err(LinkError::Tls(e)) => {
                self.failure = Some(Error::Tls(e));
                self.engine.connect_failed(self.now());
            }
            Err(LinkError::Io) => self.engine.connect_failed(self.now()),
        }
    }
}

/// The client's TLS side: its configuration, the buffer kept between sessions, and the last
/// failure on an established connection.
#[cfg(feature = "tls")]
#[derive(Default)]
struct TlsState {
    config: Option<ClientTls>,
    buffer: Vec<u8>,
    last_error: Option<TlsError>,
}

impl<H: EventHandler> Drop for Client<'_, H> {
    /// `esp_http_client_cleanup`: an open connection is closed, and `Disconnected` reported.
    /// Closing needs no waiting (a TLS session's `close_notify` is written if the socket
    /// takes it at once; then the socket is dropped), so it happens here, without a runtime.
    fn drop(&mut self) {
        if self.transport.is_none() {
            return;
        }
        self.engine.close();
        let now = self.now();
        for _ in 0..4 {
            match self.engine.poll(now) {
                Action::Close => {
                    self.close_transport();
                    self.engine.closed();
                }
                _ => return,
            }
        }
    }
}

impl<'a, H: EventHandler> Deref for Client<'a, H> {
    type Target = engine::Client<'a, Vec<u8>, H>;
    fn deref(&self) -> &Self::Target {
        &self.engine
    }
}

impl<H: EventHandler> DerefMut for Client<'_, H> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.engine
    }
}

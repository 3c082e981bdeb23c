//! # tern-std: the tern client on `std::net`
//!
//! A blocking [`Client`] over `TcpStream` that drives the sans-IO engine of
//! [`tern_proto::client`], and ESP-IDF's `is_async` mode: after
//! [`Client::set_nonblocking`], every operation returns [`Error::WouldBlock`] (ESP-IDF's
//! `ESP_ERR_HTTP_EAGAIN`) whenever the socket would block, and the next call resumes where the
//! engine stopped, connect included.
//!
//! With feature `tls` (the default), `https` runs over tern-tls: the TLS options of the config
//! ([`TlsConfig`](tern_proto::client::TlsConfig)) become a rustls configuration on the first
//! https connect, and each connect chooses plain TCP or TLS from that hop's scheme, so a
//! redirect from http to https works (the engine refuses https to http). The handshake is
//! part of the connect: bounded by its deadline, and resumed after `WouldBlock` in
//! non-blocking mode (ESP-IDF's https_async scenario).
//!
//! The adapter only moves bytes: every protocol decision (framing, redirects, auth, keep-alive,
//! timeouts) is the engine's. The engine's getters and setters (`set_url`, `set_header`,
//! `status_code`, ...) are reached through `Deref`.
//!
//! ```no_run
//! use tern_proto::client::ClientConfig;
//! let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
//! let mut client = tern_std::Client::new(&config)?;
//! client.perform()?;
//! println!("{:?}", client.status_code());
//! # Ok::<(), tern_std::Error>(())
//! ```
#![deny(missing_docs)]

use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};
use tern_proto::Instant;
use tern_proto::client::{self as engine, Action, ClientConfig, ClientError, Completion, EventHandler, NoEvents};

/// Why an operation of the std client did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request failed; the engine says why and whose fault it was.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Non-blocking mode: the socket would block. Call the same operation again later
    /// (ESP-IDF's `ESP_ERR_HTTP_EAGAIN`).
    #[error("the operation would block; call it again")]
    WouldBlock,
    /// The TLS handshake failed, or the TLS options cannot work; the error says why (an
    /// unknown issuer, a name mismatch, an expired certificate, ...) and whose fault it was.
    #[cfg(feature = "tls")]
    #[error("TLS: {0}")]
    Tls(#[from] tern_tls::TlsError),
    /// The host name could not be resolved.
    #[error("could not resolve {host}: {source}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        source: io::Error,
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
    pub fn tls_error(&self) -> Option<&tern_tls::TlsError> {
        match self {
            Error::Tls(e) => Some(e),
            _ => None,
        }
    }
}

/// The connection: plain TCP, or TLS over it.
enum Transport {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tern_tls::TlsStream<TcpStream>>),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.get_ref(),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write_vectored(bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.write_vectored(bufs),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.read(buf),
        }
    }

    /// Sets both socket timeouts: a TLS read may write, and a write may read.
    fn set_timeouts(&self, timeout: Duration) {
        let _ = self.tcp().set_read_timeout(Some(timeout));
        let _ = self.tcp().set_write_timeout(Some(timeout));
    }

    /// Arms the socket timeouts for a wait of at most `wanted`, unless the ones already set
    /// (`armed`) do: they end no more than [`TIMEOUT_SLACK`] after `wanted` and no earlier than
    /// half of it (a wait cut short only costs another turn of the loop). On a keep-alive
    /// connection each request's wait is about the last one's, so the two `setsockopt`
    /// calls per read or write happen about once per connection instead.
    fn arm_timeouts(&self, armed: &mut Option<Duration>, wanted: Duration) {
        if armed.is_some_and(|set| set <= wanted + TIMEOUT_SLACK && set >= wanted / 2) {
            return;
        }
        self.set_timeouts(wanted);
        *armed = Some(wanted);
    }

    /// Closes: `close_notify` first over TLS (best effort), then the TCP shutdown.
    fn close(self) {
        #[cfg(feature = "tls")]
        if let Transport::Tls(mut t) = self {
            let _ = t.close();
            let _ = t.get_ref().shutdown(std::net::Shutdown::Both);
            return;
        }
        let _ = self.tcp().shutdown(std::net::Shutdown::Both);
    }
}

/// Which way bytes crossed the connection, for a [`WireTap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Bytes the client wrote.
    Sent,
    /// Bytes the client read (before the engine decodes them).
    Received,
}

/// Sees the bytes of every successful write and read on the connection, in order, before the
/// engine hears of them: for tracing (curl's `-v` and `--trace`). Set with
/// [`Client::set_wire_tap`].
pub type WireTap<'a> = Box<dyn FnMut(Direction, &[u8]) + 'a>;

/// A connect under way in non-blocking mode.
struct PendingConnect {
    socket: Socket,
    /// Addresses not yet tried.
    rest: Vec<SocketAddr>,
}

/// A blocking (or, with [`set_nonblocking`](Client::set_nonblocking), EAGAIN-style) HTTP/1.1
/// client: ESP-IDF's client handle on `std::net`.
///
/// One client is one connection at a time, kept alive across requests when the server
/// allows it. Its memory is one `Vec` of [`ClientConfig::buffer_len`] bytes (3,584 at the
/// defaults), allocated once in [`new`](Client::new); a warm keep-alive request allocates
/// nothing. [`perform`](Client::perform) hands the body to the event handler as `OnData`;
/// the streaming flow (`open`, `write`, `fetch_headers`, `read`) hands it to the caller, as
/// here against a one-shot server on loopback:
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpListener;
/// use tern_proto::client::ClientConfig;
///
/// // A server standing in for the device: reads one request head, answers it.
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let url = format!("http://{}/status", listener.local_addr()?);
/// let server = std::thread::spawn(move || -> std::io::Result<String> {
///     let (mut socket, _) = listener.accept()?;
///     let (mut head, mut byte) = (Vec::new(), [0u8; 1]);
///     while !head.ends_with(b"\r\n\r\n") {
///         socket.read_exact(&mut byte)?;
///         head.push(byte[0]);
///     }
///     socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"up\":true}")?;
///     Ok(String::from_utf8_lossy(&head).into_owned())
/// });
///
/// let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
/// let mut client = tern_std::Client::new(&config)?; // esp_http_client_init
/// client.open(Some(0))?; // connect, send the head (no body)
/// assert_eq!(client.fetch_headers()?, Some(11)); // the response head: its Content-Length
/// let mut body = [0u8; 64];
/// let n = client.read_response(&mut body)?;
/// assert_eq!(&body[..n], br#"{"up":true}"#);
/// assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
///
/// let request = server.join().expect("the server thread")?;
/// assert!(request.starts_with("GET /status HTTP/1.1\r\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client<'a, H: EventHandler = NoEvents> {
    engine: engine::Client<'a, Vec<u8>, H>,
    stream: Option<Transport>,
    /// The TLS handshake of `stream` is under way: the engine hears `connected` at its end.
    handshaking: bool,
    /// The config's TLS options, turned into `tls` on the first https connect.
    #[cfg(feature = "tls")]
    tls_options: tern_proto::client::TlsConfig<'a>,
    #[cfg(feature = "tls")]
    tls: Option<tern_tls::ClientTls>,
    /// The last TLS failure after the handshake (`esp_http_client_get_and_clear_last_tls_error`).
    #[cfg(feature = "tls")]
    last_tls_error: Option<tern_tls::TlsError>,
    /// A TLS failure during the current operation, returned in place of the engine's
    /// transport error.
    #[cfg(feature = "tls")]
    operation_tls_error: Option<tern_tls::TlsError>,
    pending: Option<PendingConnect>,
    nonblocking: bool,
    /// The socket timeouts set on `stream` now (`Transport::arm_timeouts`).
    armed_timeout: Option<Duration>,
    epoch: std::time::Instant,
    tcp_keep_alive: Option<engine::TcpKeepAlive>,
    tap: Option<WireTap<'a>>,
    connect_timeout: Option<Duration>,
    /// The last connect attempt ended because its time ran out.
    connect_attempt_timed_out: bool,
    /// The engine was told of a failed connect that was really a timeout of `connect_timeout`.
    connect_timed_out: bool,
}

impl<'a> Client<'a, NoEvents> {
    /// A client for `config` (`esp_http_client_init`), without an event handler.
    pub fn new(config: &ClientConfig<'a>) -> Result<Self, Error> {
        Client::with_handler(config, NoEvents)
    }
}

impl<'a, H: EventHandler> Client<'a, H> {
    /// A client for `config` whose events go to `handler`.
    pub fn with_handler(config: &ClientConfig<'a>, handler: H) -> Result<Self, Error> {
        let mut config = config.clone();
        config.entropy = engine::std_entropy();
        let buf = vec![0u8; config.buffer_len()];
        Ok(Client {
            engine: engine::Client::new(&config, buf, handler)?,
            stream: None,
            armed_timeout: None,
            handshaking: false,
            #[cfg(feature = "tls")]
            tls_options: config.tls,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            last_tls_error: None,
            #[cfg(feature = "tls")]
            operation_tls_error: None,
            pending: None,
            nonblocking: false,
            epoch: std::time::Instant::now(),
            tcp_keep_alive: config.tcp_keep_alive,
            tap: None,
            connect_timeout: None,
            connect_attempt_timed_out: false,
            connect_timed_out: false,
        })
    }

    /// Uses this TLS configuration for https instead of the one the config's TLS options
    /// describe: for a client key behind a signing key (a secure element), another crypto
    /// provider, or a smaller buffer layout.
    #[cfg(feature = "tls")]
    pub fn set_tls(&mut self, tls: tern_tls::ClientTls) {
        self.tls = Some(tls);
    }

    /// The last TLS failure (a refused certificate, an alert, a bad record), cleared by this
    /// call (`esp_http_client_get_and_clear_last_tls_error`). The operation that met it
    /// returned it too, as [`Error::Tls`].
    #[cfg(feature = "tls")]
    pub fn take_last_tls_error(&mut self) -> Option<tern_tls::TlsError> {
        self.last_tls_error.take()
    }

    /// ESP-IDF's `is_async`: with `true`, operations return [`Error::WouldBlock`] instead of
    /// blocking, and resume on the next call.
    pub fn set_nonblocking(&mut self, nonblocking: bool) -> Result<(), Error> {
        self.nonblocking = nonblocking;
        if let Some(stream) = &self.stream {
            stream.tcp().set_nonblocking(nonblocking).map_err(|_| ClientError::Transport(engine::Stage::Send))?;
        }
        Ok(())
    }

    /// Installs (or, with `None`, removes) a tap that sees every byte written to and read from
    /// the connection.
    pub fn set_wire_tap(&mut self, tap: Option<WireTap<'a>>) {
        self.tap = tap;
    }

    /// Bounds each blocking connect by `timeout` as well as by the engine's deadlines (curl's
    /// `--connect-timeout`); `None` (the default) leaves only the engine's. A connect that
    /// runs out of time fails with [`ClientError::Timeout`] at [`Stage::Connect`](engine::Stage)
    /// rather than [`ClientError::Connect`]. Ignored in non-blocking mode.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) {
        self.connect_timeout = timeout;
    }

    /// The whole request, redirects and authentication included (`esp_http_client_perform`).
    /// Body bytes reach the event handler as `OnData`.
    pub fn perform(&mut self) -> Result<(), Error> {
        let now = self.now();
        self.engine.perform(now)?;
        self.drive(|_| ())
    }

    /// Connects if needed and sends the head of a streamed request (`esp_http_client_open`);
    /// `None` streams the body chunked.
    pub fn open(&mut self, write_len: Option<u64>) -> Result<(), Error> {
        let now = self.now();
        self.engine.open(write_len, now)?;
        self.drive(|_| ())
    }

    /// Writes body bytes after [`open`](Self::open) (`esp_http_client_write`). Blocking: all of
    /// `data`. Non-blocking: as much as the engine accepted before the socket would block
    /// (the rest of what it accepted goes out on the next call).
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let mut done = 0;
        while done < data.len() {
            let accepted = self.engine.write(data.get(done..).unwrap_or_default())?;
            done += accepted;
            match self.drive(|_| ()) {
                Ok(()) => {}
                Err(Error::WouldBlock) if done > 0 => return Ok(done),
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Ends the request body and reads the response head (`esp_http_client_fetch_headers`).
    /// Returns the Content-Length, if the response has one.
    pub fn fetch_headers(&mut self) -> Result<Option<u64>, Error> {
        self.engine.fetch_headers()?;
        self.drive(|_| ())?;
        Ok(self.engine.content_length())
    }

    /// Reads decoded body bytes (`esp_http_client_read`); `Ok(0)` is the end of the body,
    /// which is never confused with an error.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.engine.read()?;
        let n = self.drive(|completion| match completion {
            Completion::Data(data) => {
                let n = data.len().min(buf.len());
                buf.get_mut(..n).unwrap_or_default().copy_from_slice(data.get(..n).unwrap_or_default());
                n
            }
            _ => 0,
        })?;
        self.engine.consume(n);
        Ok(n)
    }

    /// Reads until `buf` is full or the body ends (`esp_http_client_read_response`).
    pub fn read_response(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(buf.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(Error::WouldBlock) if filled > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }

    /// Reads and discards the rest of the body (`esp_http_client_flush_response`).
    pub fn flush_response(&mut self) -> Result<(), Error> {
        self.engine.flush_response()?;
        self.drive(|_| ())
    }

    /// Closes the connection (`esp_http_client_close`); settings are kept.
    pub fn close(&mut self) -> Result<(), Error> {
        self.engine.close();
        self.drive(|_| ())
    }

    /// Time until the engine's deadline, as known before the next poll.
    fn time_left(&self, now: Instant) -> Option<Duration> {
        self.engine.deadline().map(|d| Duration::from_millis(d.as_millis().saturating_sub(now.as_millis())))
    }

    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Runs the engine until the operation is done; `on_done` sees the completion.
    fn drive<T>(&mut self, on_done: impl FnOnce(Completion<'_>) -> T) -> Result<T, Error> {
        let mut on_done = Some(on_done);
        loop {
            let now = self.now();
            if self.time_left(now) == Some(Duration::ZERO) {
                self.engine.handle_timeout(now);
            }
            // The deadline as the poll left it: a new operation arms its own in the poll.
            let (action, deadline) = self.engine.poll_with_deadline(now);
            let timeout = deadline.map(|d| Duration::from_millis(d.as_millis().saturating_sub(now.as_millis())));
            match action {
                Action::Done(result) => {
                    #[cfg(feature = "tls")]
                    if let (Err(ClientError::Transport(_) | ClientError::ConnectionClosed(_)), Some(e)) =
                        (&result, self.operation_tls_error.take())
                    {
                        // The transport failed because TLS did: say why (a server refusing
                        // our certificate under TLS 1.3 says so only after the handshake).
                        return Err(Error::Tls(e));
                    }
                    #[cfg(feature = "tls")]
                    {
                        self.operation_tls_error = None;
                    }
                    let timed_out = std::mem::take(&mut self.connect_timed_out);
                    let completion = result.map_err(|e| match e {
                        ClientError::Connect if timed_out => ClientError::Timeout(engine::Stage::Connect),
                        e => e,
                    })?;
                    return Ok(on_done
                        .take()
                        .map(|f| f(completion))
                        .ok_or(ClientError::InvalidState { operation: "drive" })?);
                }
                Action::Connect(endpoint) => {
                    let (host, port, secure) = (endpoint.host.to_owned(), endpoint.port, endpoint.scheme.is_secure());
                    // The engine set the connect deadline in this poll: read it now.
                    let timeout = self.time_left(now);
                    if self.handshaking {
                        self.handshake_step(timeout)?;
                        continue;
                    }
                    #[cfg(not(feature = "tls"))]
                    if secure {
                        self.engine.connect_failed(now);
                        self.settle(now);
                        return Err(ClientError::TlsUnavailable.into());
                    }
                    #[cfg(feature = "tls")]
                    if secure && self.tls.is_none() {
                        // The TLS options are checked before any connection is opened.
                        match tern_tls::ClientTls::new(&self.tls_options) {
                            Ok(tls) => self.tls = Some(tls),
                            Err(e) => {
                                self.engine.connect_failed(now);
                                self.settle(now);
                                return Err(e.into());
                            }
                        }
                    }
                    self.connect(&host, port, secure, timeout)?;
                    #[cfg(feature = "tls")]
                    if secure && self.stream.is_some() {
                        self.start_tls(&host, now)?;
                        self.handshake_step(timeout)?;
                    }
                }
                Action::Transmit(parts) => {
                    let Some(stream) = self.stream.as_mut() else {
                        self.engine.transport_failed(now);
                        continue;
                    };
                    let slices = [IoSlice::new(parts[0]), IoSlice::new(parts[1])];
                    if !self.nonblocking {
                        stream.arm_timeouts(&mut self.armed_timeout, socket_timeout(timeout));
                    }
                    match stream.write_vectored(&slices) {
                        Ok(0) => self.engine.transport_failed(now),
                        Ok(n) => {
                            if let Some(tap) = self.tap.as_mut() {
                                let head = n.min(parts[0].len());
                                tap(Direction::Sent, parts[0].get(..head).unwrap_or_default());
                                if n > head {
                                    tap(Direction::Sent, parts[1].get(..n - head).unwrap_or_default());
                                }
                            }
                            self.engine.transmitted(n, now)
                        }
                        Err(e) => self.io_failed(e, now)?,
                    }
                }
                Action::Receive(buf) => {
                    let Some(stream) = self.stream.as_mut() else {
                        self.engine.transport_failed(now);
                        continue;
                    };
                    if !self.nonblocking {
                        stream.arm_timeouts(&mut self.armed_timeout, socket_timeout(timeout));
                    }
                    match stream.read(buf) {
                        Ok(n) => {
                            if let (Some(tap), true) = (self.tap.as_mut(), n > 0) {
                                tap(Direction::Received, buf.get(..n).unwrap_or_default());
                            }
                            self.engine.received(n, now)
                        }
                        Err(e) => self.io_failed(e, now)?,
                    }
                }
                Action::Close => {
                    if let Some(stream) = self.stream.take() {
                        stream.close();
                    }
                    self.handshaking = false;
                    self.pending = None;
                    self.engine.closed();
                }
            }
        }
    }

    /// Lets the engine finish an operation that failed before it reached the network (its
    /// `Done` carries the engine's view of the failure; the caller reports a more precise one),
    /// so that the next operation starts afresh.
    fn settle(&mut self, now: Instant) {
        for _ in 0..8 {
            match self.engine.poll(now) {
                Action::Done(_) => return,
                Action::Close => {
                    self.stream = None;
                    self.handshaking = false;
                    self.pending = None;
                    self.engine.closed();
                }
                _ => return,
            }
        }
    }

    /// The socket would block, or its timeout passed: the engine's deadline decides between
    /// its timeout, `WouldBlock` (non-blocking mode) and another try.
    fn would_block(&mut self) -> Result<(), Error> {
        let now = self.now();
        if self.engine.deadline().is_some_and(|d| now >= d) {
            self.engine.handle_timeout(now);
            Ok(())
        } else if self.nonblocking {
            Err(Error::WouldBlock)
        } else {
            Ok(())
        }
    }

    /// A socket error: would-block and timeouts wait or return; anything else fails the
    /// connection.
    fn io_failed(&mut self, e: io::Error, now: Instant) -> Result<(), Error> {
        match e.kind() {
            io::ErrorKind::Interrupted => Ok(()),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => self.would_block(),
            _ => {
                #[cfg(feature = "tls")]
                if let Some(e) = tern_tls::tls_error(&e) {
                    self.last_tls_error = Some(e.clone());
                    self.operation_tls_error = Some(e.clone());
                }
                self.engine.transport_failed(now);
                Ok(())
            }
        }
    }

    /// Wraps the new TCP connection in a TLS session for `host`.
    #[cfg(feature = "tls")]
    fn start_tls(&mut self, host: &str, now: Instant) -> Result<(), Error> {
        let Some(Transport::Plain(tcp)) = self.stream.take() else { return Ok(()) };
        let session = match &self.tls {
            Some(tls) => tls.session(host, vec![0u8; tls.layout().buffer_len()]),
            None => tern_tls::ClientTls::new(&self.tls_options)
                .and_then(|tls| tls.session(host, vec![0u8; tls.layout().buffer_len()])),
        };
        match session {
            Ok(session) => {
                self.stream = Some(Transport::Tls(Box::new(tern_tls::TlsStream::new(session, tcp))));
                self.handshaking = true;
                Ok(())
            }
            Err(e) => {
                let _ = tcp.shutdown(std::net::Shutdown::Both);
                self.engine.connect_failed(now);
                self.settle(now);
                Err(e.into())
            }
        }
    }

    /// Advances the TLS handshake; at its end the engine hears `connected`.
    #[cfg(feature = "tls")]
    fn handshake_step(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let now = self.now();
        let Some(Transport::Tls(tls)) = self.stream.as_mut() else {
            self.handshaking = false;
            return Ok(());
        };
        if !self.nonblocking {
            let limit = socket_timeout(timeout);
            let _ = tls.get_ref().set_read_timeout(Some(limit));
            let _ = tls.get_ref().set_write_timeout(Some(limit));
            self.armed_timeout = Some(limit);
        }
        match tls.handshake() {
            Ok(()) => {
                self.handshaking = false;
                self.engine.connected(now);
                Ok(())
            }
            Err(e) => {
                if let Some(tls_error) = tern_tls::tls_error(&e).cloned() {
                    self.last_tls_error = Some(tls_error.clone());
                    self.stream = None;
                    self.handshaking = false;
                    self.engine.connect_failed(now);
                    self.settle(now);
                    return Err(tls_error.into());
                }
                match e.kind() {
                    io::ErrorKind::Interrupted => Ok(()),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => self.would_block(),
                    _ => {
                        self.stream = None;
                        self.handshaking = false;
                        self.engine.connect_failed(now);
                        Ok(())
                    }
                }
            }
        }
    }

    #[cfg(not(feature = "tls"))]
    fn handshake_step(&mut self, _timeout: Option<Duration>) -> Result<(), Error> {
        self.handshaking = false;
        Ok(())
    }

    /// Opens the connection: blocking with the engine's timeout, or one non-blocking step.
    /// With `secure`, the engine hears `connected` after the TLS handshake instead.
    fn connect(&mut self, host: &str, port: u16, secure: bool, timeout: Option<Duration>) -> Result<(), Error> {
        let now = self.now();
        let timeout = match self.connect_timeout {
            Some(limit) if !self.nonblocking => Some(timeout.map_or(limit, |t| t.min(limit))),
            _ => timeout,
        };
        if self.pending.is_none() {
            let addrs = match (host, port).to_socket_addrs() {
                Ok(addrs) => addrs.collect::<Vec<_>>(),
                Err(source) => {
                    self.engine.connect_failed(now);
                    self.settle(now);
                    return Err(Error::Resolve { host: host.to_owned(), source });
                }
            };
            let mut rest = addrs;
            rest.reverse();
            match self.start_connect(&mut rest, timeout) {
                Some(socket) => self.pending = Some(PendingConnect { socket, rest }),
                None => {
                    self.connect_failed(now);
                    return Ok(());
                }
            }
        }
        let Some(pending) = self.pending.as_mut() else { return Ok(()) };
        match pending.socket.peer_addr() {
            Ok(_) => {}
            Err(_) => match pending.socket.take_error() {
                Ok(None) if self.nonblocking => {
                    if self.engine.deadline().is_some_and(|d| now >= d) {
                        self.pending = None;
                        self.engine.handle_timeout(now);
                        return Ok(());
                    }
                    return Err(Error::WouldBlock);
                }
                _ => {
                    // This address failed: try the next, or give up.
                    let mut rest = std::mem::take(&mut pending.rest);
                    match self.start_connect(&mut rest, timeout) {
                        Some(socket) => {
                            self.pending = Some(PendingConnect { socket, rest });
                            return if self.nonblocking { Err(Error::WouldBlock) } else { Ok(()) };
                        }
                        None => {
                            self.pending = None;
                            self.connect_failed(now);
                            return Ok(());
                        }
                    }
                }
            },
        }
        let Some(pending) = self.pending.take() else { return Ok(()) };
        let stream: TcpStream = pending.socket.into();
        let _ = stream.set_nodelay(true);
        let _ = stream.set_nonblocking(self.nonblocking);
        self.stream = Some(Transport::Plain(stream));
        self.armed_timeout = None;
        if !secure {
            self.engine.connected(now);
        }
        Ok(())
    }

    /// Every address failed. With a `connect_timeout` set, running out of time is a timeout:
    /// the engine's own when its deadline passed, otherwise reported as one by `drive`.
    fn connect_failed(&mut self, now: Instant) {
        if self.connect_timeout.is_some() && self.connect_attempt_timed_out {
            let now = self.now().max(now);
            if self.engine.deadline().is_some_and(|d| now >= d) {
                self.engine.handle_timeout(now);
                return;
            }
            self.connect_timed_out = true;
        }
        self.engine.connect_failed(now);
    }

    /// Starts connecting to the next address that accepts a connect attempt.
    fn start_connect(&mut self, rest: &mut Vec<SocketAddr>, timeout: Option<Duration>) -> Option<Socket> {
        while let Some(addr) = rest.pop() {
            let Ok(socket) = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)) else {
                continue;
            };
            if let Some(ka) = self.engine_tcp_keep_alive() {
                let _ = socket.set_tcp_keepalive(&ka);
                let _ = socket.set_keepalive(true);
            }
            let result = if self.nonblocking {
                let _ = socket.set_nonblocking(true);
                match socket.connect(&SockAddr::from(addr)) {
                    Ok(()) => Ok(()),
                    Err(e) if e.raw_os_error() == Some(libc_einprogress()) || e.kind() == io::ErrorKind::WouldBlock => {
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            } else {
                match timeout {
                    Some(t) => socket.connect_timeout(&SockAddr::from(addr), t.max(Duration::from_millis(1))),
                    None => socket.connect(&SockAddr::from(addr)),
                }
            };
            self.connect_attempt_timed_out = matches!(&result, Err(e) if e.kind() == io::ErrorKind::TimedOut);
            if result.is_ok() {
                return Some(socket);
            }
        }
        None
    }

    fn engine_tcp_keep_alive(&self) -> Option<TcpKeepalive> {
        self.tcp_keep_alive
            .map(|k| TcpKeepalive::new().with_time(k.idle).with_interval(k.interval).with_retries(k.count))
    }
}

/// How long a blocking read or write waits when the engine had no deadline before the poll
/// that asked for it: the poll may just have set one (a new operation's), so the wait is
/// short and the loop looks again.
const UNKNOWN_DEADLINE_WAIT: Duration = Duration::from_millis(100);

/// How much later than the engine's deadline a blocking read or write may give up: one tick of
/// ESP-IDF's default 100 Hz FreeRTOS clock, the resolution its timeouts have.
const TIMEOUT_SLACK: Duration = Duration::from_millis(10);

/// The socket timeout for a blocking read or write: the time left (at least 1 ms, since zero
/// means "no timeout" to the socket), or a short wait when it was not known yet.
fn socket_timeout(time_left: Option<Duration>) -> Duration {
    time_left.map_or(UNKNOWN_DEADLINE_WAIT, |t| t.max(Duration::from_millis(1)))
}

/// EINPROGRESS on the platforms std supports here (Linux and macOS differ).
const fn libc_einprogress() -> i32 {
    if cfg!(target_os = "linux") { 115 } else { 36 }
}

impl<H: EventHandler> Drop for Client<'_, H> {
    /// `esp_http_client_cleanup`: an open connection is closed, and `Disconnected` reported.
    fn drop(&mut self) {
        if self.stream.is_some() || self.pending.is_some() {
            let _ = self.close();
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

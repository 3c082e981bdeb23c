//! One session's connection: the engine and its socket, and the loop that moves bytes
//! between them. The session task owns it between requests; a handler's [`Request`]
//! owns it while the handler runs, and gives it back when dropped.
//!
//! [`Request`]: super::Request

use std::borrow::Cow;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tern_proto::server::{Action, Completion, Connection, Response, ServerError, SessionId};
use tern_proto::{Instant, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::sync::{Notify, mpsc};
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::error::Error;
use super::shared::{Push, PushKind, Shared, lock};
use crate::transport::Transport;
#[cfg(feature = "tls")]
use crate::transport::{Io, LinkError};

/// How long, at most, a closing connection keeps reading what the client still sends, so
/// that a last response is not destroyed by a reset (a "lingering close").
const LINGER: Duration = Duration::from_millis(200);
/// The most bytes a lingering close reads and throws away.
const LINGER_MAX: usize = 64 * 1024;
/// Extra response headers kept on the stack when a response is built; more use the heap.
const STACK_HEADERS: usize = 16;

/// The response head a handler is building (`httpd_resp_set_status`, `_set_type`,
/// `_set_hdr`); reused from request to request.
pub(crate) struct Parts {
    pub(crate) status: StatusCode,
    pub(crate) reason: Option<Cow<'static, str>>,
    pub(crate) content_type: Cow<'static, str>,
    pub(crate) headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
}

impl Parts {
    fn new() -> Parts {
        Parts { status: StatusCode::OK, reason: None, content_type: Cow::Borrowed("text/html"), headers: Vec::new() }
    }

    pub(crate) fn clear(&mut self) {
        self.status = StatusCode::OK;
        self.reason = None;
        self.content_type = Cow::Borrowed("text/html");
        self.headers.clear();
    }
}

/// Where a [`Request`](super::Request) hands its connection back when dropped.
#[derive(Default)]
pub(crate) struct Home {
    slot: Mutex<Option<Box<Conn>>>,
    returned: Notify,
}

impl Home {
    pub(crate) fn put(&self, conn: Box<Conn>) {
        *lock(&self.slot) = Some(conn);
        self.returned.notify_one();
    }

    pub(crate) fn take(&self) -> Option<Box<Conn>> {
        lock(&self.slot).take()
    }

    pub(crate) async fn wait(&self) -> Box<Conn> {
        loop {
            if let Some(conn) = self.take() {
                return conn;
            }
            self.returned.notified().await;
        }
    }
}

/// What a drive loop ended with.
pub(crate) enum Driven<T> {
    /// The engine's operation is over.
    Done(Result<T, ServerError>),
    /// Another task asked something of the session (only when pushes were allowed).
    Push(Push),
}

pub(crate) struct Conn {
    pub(crate) engine: Connection<Vec<u8>>,
    /// The socket, plain or with its TLS session (handshake done).
    pub(crate) transport: Transport,
    pub(crate) id: SessionId,
    pub(crate) peer: SocketAddr,
    pub(crate) shared: Arc<Shared>,
    pub(crate) pushes: mpsc::UnboundedReceiver<Push>,
    pub(crate) home: Weak<Home>,
    pub(crate) resp: Parts,
    /// The handler marked the request failed: the session closes after it.
    pub(crate) failed: bool,
    /// The timer for the engine's deadlines, kept for the connection's life, and when it is
    /// set to fire (`None`: not set, or it fired).
    timer: Pin<Box<Sleep>>,
    armed: Option<tokio::time::Instant>,
    /// Resolves when the server stops; registered once for the connection's life.
    stop: Pin<Box<WaitForCancellationFutureOwned>>,
}

/// One wait of the loop.
enum Wake {
    Ready(io::Result<()>),
    Timeout,
    Push(Option<Push>),
    Stop,
}

impl Conn {
    pub(crate) fn new(
        shared: Arc<Shared>,
        transport: Transport,
        peer: SocketAddr,
        id: SessionId,
        pushes: mpsc::UnboundedReceiver<Push>,
        home: Weak<Home>,
    ) -> Result<Conn, Error> {
        let config = shared.config.connection;
        let engine = Connection::new(vec![0u8; config.buffer_len()], config, id)
            .map_err(|e| Error::Engine(ServerError::Response(e)))?;
        let timer = Box::pin(tokio::time::sleep_until(shared.epoch));
        let stop = Box::pin(shared.cancel.clone().cancelled_owned());
        Ok(Conn {
            engine,
            transport,
            id,
            peer,
            shared,
            pushes,
            home,
            resp: Parts::new(),
            failed: false,
            timer,
            armed: None,
            stop,
        })
    }

    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.shared.epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    fn when(&self, deadline: Instant) -> tokio::time::Instant {
        self.shared.epoch + Duration::from_millis(deadline.as_millis())
    }

    /// Runs the engine until its operation is done (`on_done` sees the completion), or, with
    /// `pushes`, until another task's request arrives while the engine waits for input.
    /// `body` is the handler's body of the last send call. `Err(Stopped)` when the server
    /// stops.
    ///
    /// Each read or write is tried at once; only when the socket is not ready does the loop
    /// wait, for readiness, the engine's deadline (read after the poll that may have set it),
    /// another task's push or the server's stop, and then asks the engine again: asking
    /// again without new input gives the same action.
    pub(crate) async fn drive<T>(
        &mut self,
        body: &[u8],
        pushes: bool,
        on_done: impl FnOnce(Completion<'_>) -> T,
    ) -> Result<Driven<T>, Error> {
        let mut on_done = Some(on_done);
        loop {
            if self.shared.cancel.is_cancelled() {
                return Err(Error::Stopped);
            }
            let now = self.now();
            if self.engine.deadline().is_some_and(|d| now >= d) {
                self.engine.handle_timeout(now);
            }
            let interest = match self.engine.poll(now) {
                Action::Done(result) => {
                    let on_done = on_done.take().ok_or(Error::Stopped)?;
                    return Ok(Driven::Done(result.map(on_done)));
                }
                Action::Receive(buf) => match &mut self.transport {
                    Transport::Plain(stream) => match stream.try_read(buf) {
                        Ok(n) => {
                            self.engine.received(n, self.now());
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Interest::READABLE,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => {
                            self.engine.transport_failed();
                            continue;
                        }
                    },
                    #[cfg(feature = "tls")]
                    Transport::Tls(tcp, link) => match link.receive(tcp, buf) {
                        Io::Done(n) => {
                            self.engine.received(n, self.now());
                            continue;
                        }
                        Io::Wait(interest) => interest,
                        Io::Failed => {
                            self.engine.transport_failed();
                            continue;
                        }
                        Io::Tls(e) => {
                            self.tls_failed(e);
                            continue;
                        }
                    },
                },
                Action::Transmit { bytes, body_from } => {
                    let rest = body_from.and_then(|from| body.get(from..)).unwrap_or_default();
                    match &mut self.transport {
                        Transport::Plain(stream) => {
                            let slices = [IoSlice::new(bytes), IoSlice::new(rest)];
                            let parts = if rest.is_empty() { 1 } else { 2 };
                            match stream.try_write_vectored(slices.get(..parts).unwrap_or_default()) {
                                Ok(0) => {
                                    self.engine.transport_failed();
                                    continue;
                                }
                                Ok(n) => {
                                    self.engine.transmitted(n, self.now());
                                    continue;
                                }
                                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Interest::WRITABLE,
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                                Err(_) => {
                                    self.engine.transport_failed();
                                    continue;
                                }
                            }
                        }
                        // A head and a body that fit one TLS record leave as one (tern-tls joins them).
                        #[cfg(feature = "tls")]
                        Transport::Tls(tcp, link) => match link.transmit(tcp, [bytes, rest]) {
                            Io::Done(n) => {
                                self.engine.transmitted(n, self.now());
                                continue;
                            }
                            Io::Wait(interest) => interest,
                            Io::Failed => {
                                self.engine.transport_failed();
                                continue;
                            }
                            Io::Tls(e) => {
                                self.tls_failed(e);
                                continue;
                            }
                        },
                    }
                }
                Action::Close => {
                    self.linger().await;
                    self.engine.closed();
                    continue;
                }
            };
            self.arm_timer();
            let wake = tokio::select! {
                biased;
                () = self.stop.as_mut() => Wake::Stop,
                push = self.pushes.recv(), if pushes && interest == Interest::READABLE => Wake::Push(push),
                ready = self.transport.tcp().ready(interest) => Wake::Ready(ready.map(|_| ())),
                () = self.timer.as_mut(), if self.armed.is_some() => Wake::Timeout,
            };
            match wake {
                Wake::Ready(Ok(())) | Wake::Push(None) => {}
                Wake::Ready(Err(_)) => self.engine.transport_failed(),
                Wake::Timeout => {
                    self.armed = None;
                    self.engine.handle_timeout(self.now());
                }
                Wake::Push(Some(push)) => return Ok(Driven::Push(push)),
                Wake::Stop => return Err(Error::Stopped),
            }
        }
    }

    /// The TLS session failed after its handshake: told to the TLS hook, and the
    /// connection is lost.
    #[cfg(feature = "tls")]
    fn tls_failed(&mut self, e: tern_tls::TlsError) {
        if let Some(hook) = &self.shared.config.tls_error_fn {
            hook(self.id, self.peer, &Error::Tls(e));
        }
        self.engine.transport_failed();
    }

    /// Sets the timer for the engine's deadline. A timer already set for an earlier time is
    /// left alone: it fires early, nothing happens, and it is set again then. So a deadline
    /// that moves later with every request (the idle timeout) costs no timer work per
    /// request.
    fn arm_timer(&mut self) {
        let Some(deadline) = self.engine.deadline() else { return };
        let at = self.when(deadline);
        if self.armed.is_none_or(|armed| at < armed) {
            self.timer.as_mut().reset(at);
            self.armed = Some(at);
        }
    }

    /// Drives a send call to its `Sent`.
    pub(crate) async fn complete(&mut self, body: &[u8]) -> Result<(), Error> {
        match self.drive(body, false, |c| matches!(c, Completion::Sent)).await? {
            Driven::Done(Ok(true)) => Ok(()),
            Driven::Done(Ok(false)) => Err(Error::Engine(ServerError::InvalidState { operation: "send" })),
            Driven::Done(Err(e)) => Err(e.into()),
            Driven::Push(_) => Err(Error::Engine(ServerError::InvalidState { operation: "send" })),
        }
    }

    /// Starts a response with the head the handler built: `start` is the engine call.
    pub(crate) fn start_response(
        &mut self,
        start: impl FnOnce(&mut Connection<Vec<u8>>, &Response<'_>) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let parts = &self.resp;
        let mut stack: [(&str, &str); STACK_HEADERS] = [("", ""); STACK_HEADERS];
        let heap: Vec<(&str, &str)>;
        let headers: &[(&str, &str)] = if parts.headers.len() <= STACK_HEADERS {
            for (slot, (name, value)) in stack.iter_mut().zip(&parts.headers) {
                *slot = (name, value);
            }
            stack.get(..parts.headers.len()).unwrap_or_default()
        } else {
            heap = parts.headers.iter().map(|(name, value)| (&**name, &**value)).collect();
            &heap
        };
        let response = Response {
            status: parts.status,
            reason: parts.reason.as_deref(),
            content_type: &parts.content_type,
            headers,
        };
        start(&mut self.engine, &response)
    }

    /// Carries out another task's request.
    pub(crate) async fn apply_push(&mut self, push: Push) {
        let result = match push.kind {
            PushKind::Raw(bytes) => self.write_raw(&bytes).await,
            PushKind::Ws { opcode, fin, payload } => match self.engine.ws_send(opcode, fin, &payload) {
                Ok(()) => self.complete(&payload).await,
                Err(e) => Err(e.into()),
            },
            PushKind::Close => {
                self.engine.close();
                Ok(())
            }
        };
        if let Some(reply) = push.reply {
            let _ = reply.send(result);
        }
    }

    /// Writes bytes that bypass the engine (only while it waits for input); through the TLS
    /// session on an HTTPS connection.
    async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let limit = Duration::from_millis(self.shared.config.connection.send_wait_timeout_ms.into());
        let written = match &mut self.transport {
            Transport::Plain(stream) => tokio::select! {
                () = self.shared.cancel.cancelled() => return Err(Error::Stopped),
                written = tokio::time::timeout(limit, stream.write_all(bytes)) => match written {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(_)) => Err(Error::Engine(ServerError::ConnectionClosed)),
                    Err(_) => Err(Error::Engine(ServerError::Timeout)),
                },
            },
            #[cfg(feature = "tls")]
            Transport::Tls(tcp, link) => tokio::select! {
                () = self.shared.cancel.cancelled() => return Err(Error::Stopped),
                written = link.write_all(tcp, bytes, tokio::time::Instant::now() + limit) => written.map_err(|e| match e {
                    LinkError::Io => Error::Engine(ServerError::ConnectionClosed),
                    LinkError::Timeout => Error::Engine(ServerError::Timeout),
                    LinkError::Tls(e) => Error::Tls(e),
                }),
            },
        };
        if written.is_err() {
            self.engine.transport_failed();
        }
        written
    }

    /// Shuts the sending side (after `close_notify` on a TLS session), then reads and
    /// discards what the client still sends, briefly, so the kernel does not answer unread
    /// input with a reset that destroys the last response before the client reads it.
    async fn linger(&mut self) {
        let until = tokio::time::Instant::now() + LINGER;
        #[cfg(feature = "tls")]
        if let Transport::Tls(tcp, link) = &mut self.transport
            && !self.shared.cancel.is_cancelled()
        {
            link.close_and_flush(tcp, until).await;
        }
        let stream = self.transport.tcp_mut();
        let _ = stream.shutdown().await;
        if self.shared.cancel.is_cancelled() {
            return;
        }
        let mut sink = [0u8; 512];
        let mut drained = 0;
        while drained < LINGER_MAX {
            match tokio::time::timeout_at(until, stream.read(&mut sink)).await {
                Ok(Ok(n)) if n > 0 => drained += n,
                _ => break,
            }
        }
    }
}

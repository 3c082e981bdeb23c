//! One session's connection: the engine and its socket, and the loop that moves bytes
//! between them. The session task owns it between requests; a handler's [`Request`]
//! owns it while the handler runs, and gives it back when dropped.
//!
//! [`Request`]: super::Request

use std::borrow::Cow;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tern_proto::server::{Action, Completion, Connection, Response, ServerError, SessionId};
use tern_proto::{Instant, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

use super::error::Error;
use super::shared::{Push, PushKind, Shared, lock};

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
    pub(crate) stream: TcpStream,
    pub(crate) id: SessionId,
    pub(crate) peer: SocketAddr,
    pub(crate) shared: Arc<Shared>,
    pub(crate) pushes: mpsc::UnboundedReceiver<Push>,
    pub(crate) home: Weak<Home>,
    pub(crate) resp: Parts,
    /// The handler marked the request failed: the session closes after it.
    pub(crate) failed: bool,
}

/// One wait of the loop.
enum Wake {
    Io(io::Result<usize>),
    Timeout,
    Push(Option<Push>),
    Stop,
}

impl Conn {
    pub(crate) fn new(
        shared: Arc<Shared>,
        stream: TcpStream,
        peer: SocketAddr,
        id: SessionId,
        pushes: mpsc::UnboundedReceiver<Push>,
        home: Weak<Home>,
    ) -> Result<Conn, Error> {
        let config = shared.config.connection;
        let engine = Connection::new(vec![0u8; config.buffer_len()], config, id)
            .map_err(|e| Error::Engine(ServerError::Response(e)))?;
        Ok(Conn { engine, stream, id, peer, shared, pushes, home, resp: Parts::new(), failed: false })
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
    pub(crate) async fn drive<T>(
        &mut self,
        body: &[u8],
        pushes: bool,
        on_done: impl FnOnce(Completion<'_>) -> T,
    ) -> Result<Driven<T>, Error> {
        let mut on_done = Some(on_done);
        // The engine arms a wait's deadline (idle, body read, stalled write) inside `poll`,
        // when it first asks for that wait, so the deadline read before `poll` can miss it:
        // a wait that came without one is polled once more to pick it up.
        let mut repoll = true;
        loop {
            let now = self.now();
            if self.engine.deadline().is_some_and(|d| now >= d) {
                self.engine.handle_timeout(now);
            }
            let wake_at = self.engine.deadline().map(|d| self.when(d));
            let unarmed = wake_at.is_none();
            let sleep = async move {
                match wake_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            match self.engine.poll(now) {
                Action::Receive(_) | Action::Transmit { .. } if unarmed && repoll => {
                    repoll = false;
                    continue;
                }
                Action::Done(result) => {
                    let on_done = on_done.take().ok_or(Error::Stopped)?;
                    return Ok(Driven::Done(result.map(on_done)));
                }
                Action::Receive(buf) => {
                    repoll = true;
                    let wake = tokio::select! {
                        biased;
                        () = self.shared.cancel.cancelled() => Wake::Stop,
                        push = self.pushes.recv(), if pushes => Wake::Push(push),
                        read = self.stream.read(buf) => Wake::Io(read),
                        () = sleep => Wake::Timeout,
                    };
                    match wake {
                        Wake::Io(Ok(n)) => self.engine.received(n, self.now()),
                        Wake::Io(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                        Wake::Io(Err(_)) => self.engine.transport_failed(),
                        Wake::Timeout => self.engine.handle_timeout(self.now()),
                        Wake::Push(Some(push)) => return Ok(Driven::Push(push)),
                        Wake::Push(None) => {}
                        Wake::Stop => return Err(Error::Stopped),
                    }
                }
                Action::Transmit { bytes, body_from } => {
                    repoll = true;
                    let rest = body_from.and_then(|from| body.get(from..)).unwrap_or_default();
                    let slices = [IoSlice::new(bytes), IoSlice::new(rest)];
                    let parts = if rest.is_empty() { 1 } else { 2 };
                    let wake = tokio::select! {
                        biased;
                        () = self.shared.cancel.cancelled() => Wake::Stop,
                        written = self.stream.write_vectored(slices.get(..parts).unwrap_or_default()) => Wake::Io(written),
                        () = sleep => Wake::Timeout,
                    };
                    match wake {
                        Wake::Io(Ok(0)) | Wake::Io(Err(_)) => self.engine.transport_failed(),
                        Wake::Io(Ok(n)) => self.engine.transmitted(n, self.now()),
                        Wake::Timeout => self.engine.handle_timeout(self.now()),
                        Wake::Stop => return Err(Error::Stopped),
                        Wake::Push(_) => {}
                    }
                }
                Action::Close => {
                    self.linger().await;
                    self.engine.closed();
                }
            }
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

    /// Writes bytes that bypass the engine (only while it waits for input).
    async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let limit = Duration::from_millis(self.shared.config.connection.send_wait_timeout_ms.into());
        let written = tokio::select! {
            () = self.shared.cancel.cancelled() => return Err(Error::Stopped),
            written = tokio::time::timeout(limit, self.stream.write_all(bytes)) => written,
        };
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => {
                self.engine.transport_failed();
                Err(Error::Engine(ServerError::ConnectionClosed))
            }
            Err(_) => {
                self.engine.transport_failed();
                Err(Error::Engine(ServerError::Timeout))
            }
        }
    }

    /// Shuts the sending side, then reads and discards what the client still sends, briefly,
    /// so the kernel does not answer unread input with a reset that destroys the last
    /// response before the client reads it.
    async fn linger(&mut self) {
        let _ = self.stream.shutdown().await;
        if self.shared.cancel.is_cancelled() {
            return;
        }
        let mut sink = [0u8; 512];
        let mut drained = 0;
        let until = tokio::time::Instant::now() + LINGER;
        while drained < LINGER_MAX {
            match tokio::time::timeout_at(until, self.stream.read(&mut sink)).await {
                Ok(Ok(n)) if n > 0 => drained += n,
                _ => break,
            }
        }
    }
}

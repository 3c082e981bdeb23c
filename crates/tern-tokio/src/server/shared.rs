//! The state every task of one server shares, and [`ServerHandle`], the way into it from
//! handlers, work items and other tasks (ESP-IDF's `httpd_handle_t`).

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use tern_proto::server::{
    ControlEffect, ControlRequest, ErrorHandlers, HttpdErrCode, MethodFilter, Route, RouteSlot, Router, ServerCore,
    SessionId, SessionSlot,
};
use tern_proto::ws::Opcode;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::Config;
use super::error::Error;
use super::handler::{Entry, ErrorHandler, UriHandler};

/// A session context: whatever the handlers keep for a session. Dropping it is the free hook.
pub(crate) type Ctx = Box<dyn Any + Send>;
pub(crate) type Core = ServerCore<Ctx, Vec<SessionSlot<Ctx>>>;
pub(crate) type Routes = Router<String, Entry, Vec<RouteSlot<String, Entry>>>;
type WorkFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// A queued work item.
pub(crate) type Work = Box<dyn FnOnce(ServerHandle) -> WorkFuture + Send>;

/// Something another task asks of a session, carried out by the session's task between
/// requests (or between WebSocket frames).
pub(crate) struct Push {
    pub(crate) kind: PushKind,
    pub(crate) reply: Option<oneshot::Sender<Result<(), Error>>>,
}

pub(crate) enum PushKind {
    /// Raw bytes onto the connection (`httpd_socket_send`).
    Raw(Bytes),
    /// A WebSocket frame (`httpd_ws_send_frame_async`).
    Ws { opcode: Opcode, fin: bool, payload: Bytes },
    /// Close the session (`httpd_sess_trigger_close`, an LRU purge).
    Close,
}

/// The server's side of one open session.
pub(crate) struct Link {
    pub(crate) pushes: mpsc::UnboundedSender<Push>,
    pub(crate) websocket: bool,
    pub(crate) peer: SocketAddr,
}

/// The session table and the links to the session tasks, under one lock.
pub(crate) struct State {
    pub(crate) core: Core,
    pub(crate) links: HashMap<SessionId, Link>,
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) router: RwLock<Routes>,
    pub(crate) errors: RwLock<ErrorHandlers<Arc<dyn ErrorHandler>>>,
    pub(crate) cancel: CancellationToken,
    pub(crate) tracker: TaskTracker,
    /// A session slot was freed: the accept loop may go on.
    pub(crate) slot_freed: Notify,
    pub(crate) work: mpsc::UnboundedSender<Work>,
    pub(crate) config: Config,
    pub(crate) epoch: tokio::time::Instant,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Ends a session in the table: the close hook, then its context dropped (the free hook),
    /// once. Nothing for an id already closed.
    pub(crate) fn close_session(&self, id: SessionId) {
        let closed = {
            let mut state = lock(&self.state);
            state.links.remove(&id);
            state.core.close(id)
        };
        if let Some(closed) = closed {
            if let Some(hook) = &self.config.close_fn {
                hook(id);
            }
            drop(closed);
        }
        self.slot_freed.notify_one();
    }
}

/// What kind of client a session id names (`httpd_ws_get_fd_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInfo {
    /// No open session.
    Invalid,
    /// A session speaking HTTP.
    Http,
    /// A session speaking WebSocket.
    WebSocket,
}

/// A handle on a running server, cheap to clone and usable from any task: registration at
/// run time, queued work, writes to sessions, WebSocket pushes, session contexts and closes.
#[derive(Clone)]
pub struct ServerHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle").field("running", &self.is_running()).finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Whether the server still runs (not stopping or stopped).
    pub fn is_running(&self) -> bool {
        lock(&self.shared.state).core.is_running()
    }

    /// Registers a URI handler (`httpd_register_uri_handler`): refused when the table is full
    /// or an earlier registration already matches this template with the same method.
    pub fn register_uri_handler(&self, handler: UriHandler) -> Result<(), Error> {
        let route = Route::new(handler.uri, handler.method, handler.entry)
            .websocket(handler.websocket)
            .handle_ws_control_frames(handler.handle_ws_control_frames)
            .subprotocols(handler.subprotocols);
        write(&self.shared.router).register(route)?;
        Ok(())
    }

    /// Unregisters the handler of `uri` (exactly as registered) for `method`
    /// (`httpd_unregister_uri_handler`).
    pub fn unregister_uri_handler(&self, uri: &str, method: impl Into<MethodFilter>) -> Result<(), Error> {
        write(&self.shared.router).unregister(uri, method)?;
        Ok(())
    }

    /// Unregisters every handler of `uri` (`httpd_unregister_uri`); how many there were.
    pub fn unregister_uri(&self, uri: &str) -> usize {
        write(&self.shared.router).unregister_uri(uri)
    }

    /// Sets the error handler for `code` (`httpd_register_err_handler`), replacing any.
    pub fn register_err_handler(&self, code: HttpdErrCode, handler: impl ErrorHandler) {
        write(&self.shared.errors).set(code, Arc::new(handler));
    }

    /// Removes the error handler for `code`: the default answer comes back.
    pub fn unregister_err_handler(&self, code: HttpdErrCode) {
        write(&self.shared.errors).clear(code);
    }

    /// Queues work to run on the server (`httpd_queue_work`). Work items run one after the
    /// other, in order, on the server's work task, and may write to sessions through the
    /// handle they are given. Refused once the server stops.
    ///
    /// ```no_run
    /// # async fn f(server: tern_tokio::server::ServerHandle, id: tern_proto::server::SessionId) -> Result<(), tern_tokio::server::Error> {
    /// server.queue_work(move |server| async move {
    ///     let _ = server.session_send(id, bytes::Bytes::from_static(b"raw bytes")).await;
    /// })?;
    /// # Ok::<(), tern_tokio::server::Error>(()) }
    /// ```
    pub fn queue_work<F, Fut>(&self, work: F) -> Result<(), Error>
    where
        F: FnOnce(ServerHandle) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let item: Work = Box::new(move |handle| Box::pin(work(handle)));
        let effect = lock(&self.shared.state).core.apply(ControlRequest::QueueWork(item));
        match effect {
            ControlEffect::RunWork(item) => self.shared.work.send(item).map_err(|_| Error::Stopped),
            _ => Err(Error::Stopped),
        }
    }

    /// Writes raw bytes to session `id` (`httpd_socket_send`), between its requests: resolves
    /// once they are written. From a session's own handler, use its [`Request`](super::Request)
    /// instead; this waits for the handler to end.
    pub async fn session_send(&self, id: SessionId, bytes: Bytes) -> Result<(), Error> {
        self.push(id, PushKind::Raw(bytes)).await
    }

    /// Sends a WebSocket frame to session `id` (`httpd_ws_send_frame_async`), between the
    /// frames its handler is given; resolves once it is written.
    pub async fn ws_send_async(&self, id: SessionId, opcode: Opcode, fin: bool, payload: Bytes) -> Result<(), Error> {
        if self.client_info(id) != ClientInfo::WebSocket {
            return Err(if self.client_info(id) == ClientInfo::Invalid {
                Error::UnknownSession(id)
            } else {
                Error::NotWebSocket(id)
            });
        }
        self.push(id, PushKind::Ws { opcode, fin, payload }).await
    }

    /// Asks for session `id` to close (`httpd_sess_trigger_close`): output already under way
    /// is finished first, and a handler holding the session ends its request first.
    pub fn trigger_close(&self, id: SessionId) -> Result<(), Error> {
        let mut state = lock(&self.shared.state);
        match state.core.apply::<()>(ControlRequest::CloseSession(id)) {
            ControlEffect::CloseSession(_) => {}
            _ => return Err(Error::UnknownSession(id)),
        }
        if let Some(link) = state.links.get(&id) {
            let _ = link.pushes.send(Push { kind: PushKind::Close, reply: None });
        }
        Ok(())
    }

    /// The open sessions (`httpd_get_client_list`).
    pub fn client_list(&self) -> Vec<SessionId> {
        lock(&self.shared.state).core.sessions().ids().collect()
    }

    /// What session `id` speaks (`httpd_ws_get_fd_info`).
    pub fn client_info(&self, id: SessionId) -> ClientInfo {
        match lock(&self.shared.state).links.get(&id) {
            None => ClientInfo::Invalid,
            Some(link) if link.websocket => ClientInfo::WebSocket,
            Some(_) => ClientInfo::Http,
        }
    }

    /// The client address of session `id`.
    pub fn peer_addr(&self, id: SessionId) -> Option<SocketAddr> {
        lock(&self.shared.state).links.get(&id).map(|link| link.peer)
    }

    /// Sets the context of session `id` (`httpd_sess_set_ctx`); the one it replaces is dropped
    /// (its free hook).
    pub fn set_sess_ctx<T: Any + Send>(&self, id: SessionId, ctx: T) -> Result<(), Error> {
        let old = lock(&self.shared.state).core.sessions_mut().set_ctx(id, Box::new(ctx));
        match old {
            Ok(old) => {
                drop(old);
                Ok(())
            }
            Err(_) => Err(Error::UnknownSession(id)),
        }
    }

    /// Runs `f` on the context of session `id` when it is a `T` (`httpd_sess_get_ctx`).
    /// `f` runs under the server's lock: it must not call the server.
    pub fn with_sess_ctx<T: Any + Send, R>(&self, id: SessionId, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut state = lock(&self.shared.state);
        state.core.sessions_mut().ctx_mut(id)?.downcast_mut::<T>().map(f)
    }

    /// Runs `f` on the context of session `id`, created with `init` first when there is none
    /// (or it is not a `T`, which is then dropped). `None` when `id` names no open session.
    pub fn with_sess_ctx_or_insert<T: Any + Send, R>(
        &self,
        id: SessionId,
        init: impl FnOnce() -> T,
        f: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        let mut state = lock(&self.shared.state);
        let sessions = state.core.sessions_mut();
        if !sessions.contains(id) {
            return None;
        }
        let replaced = match sessions.ctx(id) {
            Some(ctx) if ctx.is::<T>() => None,
            _ => sessions.set_ctx(id, Box::new(init())).ok().flatten(),
        };
        let result = sessions.ctx_mut(id).and_then(|ctx| ctx.downcast_mut::<T>()).map(f);
        drop(state);
        drop(replaced);
        result
    }

    /// Takes the context of session `id` out when it is a `T`; the session has none after.
    pub fn take_sess_ctx<T: Any + Send>(&self, id: SessionId) -> Option<T> {
        let mut state = lock(&self.shared.state);
        let sessions = state.core.sessions_mut();
        if !sessions.ctx(id).is_some_and(|ctx| ctx.is::<T>()) {
            return None;
        }
        sessions.take_ctx(id).and_then(|ctx| ctx.downcast::<T>().ok()).map(|ctx| *ctx)
    }

    async fn push(&self, id: SessionId, kind: PushKind) -> Result<(), Error> {
        let (reply, done) = oneshot::channel();
        {
            let state = lock(&self.shared.state);
            let link = state.links.get(&id).ok_or(Error::UnknownSession(id))?;
            link.pushes.send(Push { kind, reply: Some(reply) }).map_err(|_| Error::UnknownSession(id))?;
        }
        tokio::select! {
            result = done => result.unwrap_or(Err(Error::UnknownSession(id))),
            () = self.shared.cancel.cancelled() => Err(Error::Stopped),
        }
    }
}

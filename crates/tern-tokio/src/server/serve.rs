//! The server's tasks: the accept loop (admission, LRU purge, the open hook), one task per
//! session (requests to handlers, refusals to error handlers, frames to WebSocket
//! handlers, other tasks' pushes), and the work task.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tern_proto::server::{
    Admission, Completion, ControlRequest, Dispatch, HandlerOutcome, HttpdErrCode, Lookup, SessionId,
};
use tern_proto::ws::FrameInfo;
use tern_proto::ws::handshake::is_upgrade_request;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::conn::{Conn, Driven, Home};
#[cfg(feature = "tls")]
use super::error::Error;
use super::handler::{Entry, Handler, HandlerFuture};
use super::request::Request;
use super::shared::{Link, Push, PushKind, ServerHandle, Shared, Work, lock, read};
use crate::transport::Transport;
#[cfg(feature = "tls")]
use crate::transport::{LinkError, TlsLink};

/// Resolves when the server stops; one per session task, registered once.
type Stop = Pin<Box<WaitForCancellationFutureOwned>>;

/// A completion between requests, without its borrow.
enum Next {
    Request,
    Frame(FrameInfo),
    Refused(HttpdErrCode),
    Closed,
    Other,
}

/// Accepts connections while the server runs: waits while every session slot is taken
/// (unless LRU purge is on, which closes the least recently used session first).
pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        loop {
            let freed = shared.slot_freed.notified();
            let full = lock(&shared.state).core.sessions().is_full();
            if !full || shared.config.lru_purge_enable {
                break;
            }
            tokio::select! {
                () = freed => {}
                () = shared.cancel.cancelled() => return,
            }
        }
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.cancel.cancelled() => return,
        };
        let Ok((stream, peer)) = accepted else {
            // Out of descriptors or a connection reset before accept: try again shortly.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let Some(id) = admit(&shared).await else { return };
        let _ = stream.set_nodelay(true);
        let (pushes, inbox) = mpsc::unbounded_channel();
        lock(&shared.state).links.insert(id, Link { pushes, websocket: false, peer });
        let session = serve_session(shared.clone(), stream, peer, id, inbox);
        shared.tracker.spawn(session);
    }
}

/// A session slot for an accepted connection; `None` once the server stops.
async fn admit(shared: &Shared) -> Option<SessionId> {
    loop {
        let freed = shared.slot_freed.notified();
        let admission = lock(&shared.state).core.admit()?;
        match admission {
            Admission::Accept(id) => return Some(id),
            Admission::Full => {}
            Admission::PurgeFirst(victim) => {
                let mut state = lock(&shared.state);
                let _ = state.core.sessions_mut().trigger_close(victim);
                if let Some(link) = state.links.get(&victim) {
                    let _ = link.pushes.send(Push { kind: PushKind::Close, reply: None });
                }
            }
        }
        tokio::select! {
            () = freed => {}
            () = shared.cancel.cancelled() => return None,
        }
    }
}

/// Runs queued work items one after the other.
pub(crate) async fn work_loop(shared: Arc<Shared>, mut queue: mpsc::UnboundedReceiver<Work>) {
    loop {
        let work = tokio::select! {
            work = queue.recv() => work,
            () = shared.cancel.cancelled() => return,
        };
        let Some(work) = work else { return };
        let handle = ServerHandle { shared: shared.clone() };
        tokio::select! {
            () = work(handle) => {}
            () = shared.cancel.cancelled() => return,
        }
    }
}

/// Closes the session in the table when its task ends, however it ends (a handler's panic
/// included).
struct SessionGuard {
    shared: Arc<Shared>,
    id: SessionId,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.shared.close_session(self.id);
    }
}

/// Serves one session until it closes or the server stops.
async fn serve_session(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    id: SessionId,
    inbox: mpsc::UnboundedReceiver<Push>,
) {
    let _guard = SessionGuard { shared: shared.clone(), id };
    #[cfg(feature = "tls")]
    let transport = match &shared.config.tls {
        None => Transport::Plain(stream),
        Some(tls) => match accept_tls(&shared, tls, stream, peer, id).await {
            Some(transport) => transport,
            None => return,
        },
    };
    #[cfg(not(feature = "tls"))]
    let transport = Transport::Plain(stream);
    if let Some(open) = &shared.config.open_fn
        && !open(id, peer)
    {
        return;
    }
    let home = Arc::new(Home::default());
    let Ok(conn) = Conn::new(shared.clone(), transport, peer, id, inbox, Arc::downgrade(&home)) else {
        return;
    };
    let mut conn = Box::new(conn);
    let mut ws_handler: Option<Arc<dyn Handler>> = None;
    let mut stop: Stop = Box::pin(shared.cancel.clone().cancelled_owned());
    loop {
        let step = conn
            .drive(&[], true, |c| match c {
                Completion::Request => Next::Request,
                Completion::Frame(info) => Next::Frame(info),
                Completion::Error(code) => Next::Refused(code),
                Completion::Closed => Next::Closed,
                _ => Next::Other,
            })
            .await;
        let next = match step {
            Err(_) | Ok(Driven::Done(Ok(Next::Closed))) => return,
            Ok(Driven::Push(push)) => {
                conn.apply_push(push).await;
                Some(conn)
            }
            Ok(Driven::Done(Err(_))) => {
                conn.engine.close();
                Some(conn)
            }
            Ok(Driven::Done(Ok(Next::Other))) => Some(conn),
            Ok(Driven::Done(Ok(Next::Request))) => dispatch(conn, &home, &mut stop, &mut ws_handler).await,
            Ok(Driven::Done(Ok(Next::Refused(code)))) => refused(conn, &home, &mut stop, code).await,
            Ok(Driven::Done(Ok(Next::Frame(info)))) => match ws_handler.clone() {
                Some(handler) => call(conn, &home, &mut stop, |req| handler.call(req), Some(info), true).await,
                None => finish(conn, HandlerOutcome::Fail),
            },
        };
        let Some(next) = next else { return };
        conn = next;
        if !conn.engine.has_buffered_input() {
            // The client has just had its response and its next request is not here yet:
            // reading at once would only find the socket empty (a recvfrom answering EAGAIN
            // for almost every keep-alive request under load). Letting the other sessions run
            // first gives it the time to arrive.
            tokio::task::yield_now().await;
        }
    }
}

/// Runs the TLS handshake of an accepted connection, within `recv_wait_timeout`, as
/// esp_https_server does before the open hook. A failure is told to the TLS hook; the
/// connection is then dropped (the alert, if any, already written) and the slot freed by the
/// caller's guard. `None` also when the server stops meanwhile.
#[cfg(feature = "tls")]
async fn accept_tls(
    shared: &Shared,
    tls: &tern_tls::ServerTls,
    stream: TcpStream,
    peer: SocketAddr,
    id: SessionId,
) -> Option<Transport> {
    let failed = |e: Error| {
        if let Some(hook) = &shared.config.tls_error_fn {
            hook(id, peer, &e);
        }
    };
    let mut link = match tls.session(vec![0u8; tls.layout().buffer_len()]) {
        Ok(session) => TlsLink::new(session),
        Err(e) => {
            failed(Error::Tls(e));
            return None;
        }
    };
    let limit = std::time::Duration::from_millis(shared.config.connection.recv_wait_timeout_ms.into());
    let deadline = tokio::time::Instant::now() + limit;
    let result = tokio::select! {
        result = link.handshake(&stream, Some(deadline)) => result,
        () = shared.cancel.cancelled() => return None,
    };
    match result {
        Ok(()) => Some(Transport::Tls(stream, Box::new(link))),
        Err(e) => {
            failed(match e {
                LinkError::Tls(e) => Error::Tls(e),
                LinkError::Timeout => Error::Engine(tern_proto::server::ServerError::Timeout),
                LinkError::Io => Error::Engine(tern_proto::server::ServerError::ConnectionClosed),
            });
            None
        }
    }
}

/// Where a request goes, decided with the router's lock held and released before any await.
enum Route {
    Handler(Arc<dyn Handler>),
    Refused(HttpdErrCode),
    WebSocket(Entry),
    Answered,
    Drop,
}

async fn dispatch(
    mut conn: Box<Conn>,
    home: &Arc<Home>,
    stop: &mut Stop,
    ws_handler: &mut Option<Arc<dyn Handler>>,
) -> Option<Box<Conn>> {
    let route = {
        let shared = conn.shared.clone();
        let router = read(&shared.router);
        let refused_before_handshake =
            conn.engine.request().is_some_and(|request| match router.find(&request.method(), request.path()) {
                Lookup::Found(route) if route.websocket => route
                    .handler
                    .pre_handshake
                    .as_ref()
                    .is_some_and(|check| is_upgrade_request(request.raw_head()) && !check(&request)),
                _ => false,
            });
        if refused_before_handshake {
            Route::Drop
        } else {
            match conn.engine.route(&router) {
                Dispatch::Handler(route) => Route::Handler(route.handler.handler.clone()),
                Dispatch::Refused(code) => Route::Refused(code),
                Dispatch::WebSocket(route) => Route::WebSocket(route.handler.clone()),
                Dispatch::Answered => Route::Answered,
            }
        }
    };
    match route {
        Route::Handler(handler) => call(conn, home, stop, |req| handler.call(req), None, true).await,
        Route::Refused(code) => refused(conn, home, stop, code).await,
        Route::WebSocket(entry) => {
            if let Some(link) = lock(&conn.shared.state).links.get_mut(&conn.id) {
                link.websocket = true;
            }
            *ws_handler = Some(entry.handler.clone());
            match entry.post_handshake {
                Some(post) => call(conn, home, stop, |req| post.call(req), None, false).await,
                None => Some(conn),
            }
        }
        Route::Answered => Some(conn),
        Route::Drop => {
            conn.engine.close();
            Some(conn)
        }
    }
}

/// A refusal: its error handler, or ESP-IDF's default answer and a close.
async fn refused(mut conn: Box<Conn>, home: &Arc<Home>, stop: &mut Stop, code: HttpdErrCode) -> Option<Box<Conn>> {
    let handler = read(&conn.shared.errors).get(code).cloned();
    match handler {
        Some(handler) => call(conn, home, stop, |req| handler.call(req, code), None, true).await,
        None => {
            if conn.engine.reject(code).is_err() {
                conn.engine.close();
            }
            Some(conn)
        }
    }
}

/// Runs a handler on the request and takes the connection back: at once when the handler
/// dropped the request, or later when an async handler's task does. Then ends the request
/// (`finish`) unless it was a post-handshake call, and closes the session when a close was
/// asked for meanwhile (`trigger_close`).
async fn call(
    conn: Box<Conn>,
    home: &Arc<Home>,
    stop: &mut Stop,
    handler: impl FnOnce(Request) -> HandlerFuture,
    frame: Option<FrameInfo>,
    ends_request: bool,
) -> Option<Box<Conn>> {
    let shared = conn.shared.clone();
    let id = conn.id;
    // Stamped at arrival and kept out of the LRU purge until the request is done: the client
    // may read the response before this task records the end of the request, and another
    // session used in between must not look more recent (`Sessions::request_started`).
    let _ = lock(&shared.state).core.sessions_mut().request_started(id);
    let future = handler(Request::new(conn, frame));
    let result = tokio::select! {
        result = future => result,
        () = stop.as_mut() => return None,
    };
    let mut conn = match home.take() {
        Some(conn) => conn,
        None => {
            // An async handler holds the request: the session waits for it.
            let _ = lock(&shared.state).core.sessions_mut().set_async_busy(id, true);
            let conn = tokio::select! {
                conn = home.wait() => conn,
                () = stop.as_mut() => return None,
            };
            let _ = lock(&shared.state).core.apply::<()>(ControlRequest::AsyncHandlerDone(id));
            conn
        }
    };
    let failed = result.is_err() || std::mem::take(&mut conn.failed);
    conn.resp.clear();
    let (close_requested, full) = {
        let mut state = lock(&shared.state);
        let sessions = state.core.sessions_mut();
        let _ = sessions.request_done(id);
        (sessions.close_requested(id), sessions.is_full())
    };
    if full {
        // The session can be purged again: an accept waiting on a full table may go on.
        shared.slot_freed.notify_one();
    }
    let mut conn = if ends_request {
        finish(conn, if failed { HandlerOutcome::Fail } else { HandlerOutcome::Ok })?
    } else if failed {
        close(conn)
    } else {
        conn
    };
    if close_requested {
        conn.engine.close();
    }
    Some(conn)
}

fn finish(mut conn: Box<Conn>, outcome: HandlerOutcome) -> Option<Box<Conn>> {
    if conn.engine.finish(outcome).is_err() {
        // A send the handler abandoned half-way: the stream cannot be framed any more.
        conn.engine.transport_failed();
    }
    Some(conn)
}

fn close(mut conn: Box<Conn>) -> Box<Conn> {
    conn.engine.close();
    conn
}

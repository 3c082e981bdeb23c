//! The control path: what ESP-IDF sends through its UDP control socket, as requests an adapter
//! feeds through its own channel (a tokio `mpsc`, an embassy `Channel`, a std `mpsc`).
//!
//! Other tasks ask the server for things with a [`ControlRequest`]: run a work item on the
//! server (`httpd_queue_work`), close a session (`httpd_sess_trigger_close`), take a session
//! back from an async handler (`httpd_req_async_handler_complete`), stop (`httpd_stop`). The
//! adapter's loop receives each one and passes it to [`ServerCore::apply`], which makes every
//! decision and answers with the [`ControlEffect`] the adapter carries out. [`ServerCore`] also
//! owns the session table and the run state, and reports the `Start` and `Stop` events.
//!
//! ```
//! use tern_proto::server::control::{ControlEffect, ControlRequest, ServerCore};
//! use tern_proto::server::sessions::{Admission, SessionSlot, Sessions};
//!
//! type Work = fn() -> &'static str;
//! let mut slots: [SessionSlot<()>; 4] = [SessionSlot::EMPTY; 4];
//! let mut core = ServerCore::new(Sessions::new(&mut slots[..], false));
//! core.start();
//! let Some(Admission::Accept(id)) = core.admit() else { unreachable!() };
//!
//! // The adapter's control loop, over requests from its channel:
//! let requests: [ControlRequest<Work>; 3] =
//!     [ControlRequest::QueueWork(|| "ran"), ControlRequest::CloseSession(id), ControlRequest::Stop];
//! for request in requests {
//!     match core.apply(request) {
//!         ControlEffect::RunWork(work) => assert_eq!(work(), "ran"),
//!         ControlEffect::CloseSession(id) => {
//!             // Shut the connection down, then:
//!             drop(core.close(id));
//!         }
//!         ControlEffect::ResumeSession(_id) => { /* poll the connection again */ }
//!         ControlEffect::StopAll => {
//!             // Stop accepting; shut down every connection of `core.sessions().ids()`, and
//!             // `core.close` each; then:
//!             assert!(core.stopped());
//!         }
//!         ControlEffect::Ignore(_why) => {}
//!     }
//! }
//! ```

use super::event::{ServerEventKind, SessionId, report};
use super::sessions::{Admission, ClosedSession, SessionIds, SessionSlot, Sessions};

/// A request to the server from another task: a message on ESP-IDF's control socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlRequest<W> {
    /// Run this work item on the server (`httpd_queue_work`); it may write to sessions.
    QueueWork(W),
    /// Close this session (`httpd_sess_trigger_close` from another task).
    CloseSession(SessionId),
    /// The async handler holding this session finished
    /// (`httpd_req_async_handler_complete`): serve it again.
    AsyncHandlerDone(SessionId),
    /// Stop the server (`httpd_stop`).
    Stop,
}

/// What the adapter does for a [`ControlRequest`]: [`ServerCore::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlEffect<W> {
    /// Run the work item now, on the server.
    RunWork(W),
    /// Shut this session's connection down, then [`ServerCore::close`] it. The session is
    /// open and marked [`close_requested`](Sessions::close_requested).
    CloseSession(SessionId),
    /// The session is free of its async handler: drive its connection again.
    ResumeSession(SessionId),
    /// Stop accepting and shut every open session down (each is marked
    /// [`close_requested`](Sessions::close_requested)): [`ServerCore::close`] each id of
    /// [`ServerCore::stop`] (or `sessions().ids()`), then call [`ServerCore::stopped`].
    StopAll,
    /// Nothing to do.
    Ignore(Ignored),
}

/// Why a [`ControlRequest`] needs nothing done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ignored {
    /// The server is not running (stopping or stopped): work items are dropped unrun, as
    /// ESP-IDF's are once its control socket is gone, and a second stop changes nothing.
    NotRunning,
    /// The id names no open session (it closed, or is of an earlier generation).
    UnknownSession(SessionId),
    /// The session is open but no async handler holds it.
    NotAsyncBusy(SessionId),
}

/// Whether the server runs: ESP-IDF's server task lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RunState {
    /// Not started, or stopped.
    #[default]
    Stopped,
    /// Accepting connections and serving requests.
    Running,
    /// Stop was asked for: sessions are being closed.
    Stopping,
}

/// The server's shared state: its [`Sessions`] and its [`RunState`], and every decision of
/// the control path. See the [module documentation](self).
#[derive(Debug)]
pub struct ServerCore<C, S> {
    sessions: Sessions<C, S>,
    state: RunState,
}

impl<C, S> ServerCore<C, S>
where
    S: AsRef<[SessionSlot<C>]> + AsMut<[SessionSlot<C>]>,
{
    /// A stopped server over this session table.
    pub const fn new(sessions: Sessions<C, S>) -> ServerCore<C, S> {
        ServerCore { sessions, state: RunState::Stopped }
    }

    /// Starts the server (`httpd_start`) and reports `Start`; `false`, doing nothing, unless
    /// it was stopped.
    pub fn start(&mut self) -> bool {
        if self.state != RunState::Stopped {
            return false;
        }
        self.state = RunState::Running;
        report(None, ServerEventKind::Start);
        true
    }

    /// The run state.
    pub const fn state(&self) -> RunState {
        self.state
    }

    /// Whether the server is running.
    pub fn is_running(&self) -> bool {
        self.state == RunState::Running
    }

    /// The session table.
    pub const fn sessions(&self) -> &Sessions<C, S> {
        &self.sessions
    }

    /// The session table, to change.
    pub const fn sessions_mut(&mut self) -> &mut Sessions<C, S> {
        &mut self.sessions
    }

    /// [`Sessions::admit`] while the server runs; `None` (do not accept) otherwise.
    pub fn admit(&mut self) -> Option<Admission> {
        self.is_running().then(|| self.sessions.admit())
    }

    /// [`Sessions::close`]: the session's connection is shut down.
    pub fn close(&mut self, id: SessionId) -> Option<ClosedSession<C>> {
        self.sessions.close(id)
    }

    /// Decides what the adapter does for `request`.
    ///
    /// | request | effect |
    /// |---|---|
    /// | `QueueWork(w)` | `RunWork(w)` while running, else `Ignore(NotRunning)` (`w` is dropped) |
    /// | `CloseSession(id)` | `CloseSession(id)` if `id` is open (marked close-requested), else `Ignore(UnknownSession)` |
    /// | `AsyncHandlerDone(id)` | `ResumeSession(id)` if an async handler held `id` (now released), else `Ignore(UnknownSession / NotAsyncBusy)` |
    /// | `Stop` | `StopAll` while running or stopping (as [`ServerCore::stop`]), else `Ignore(NotRunning)` |
    pub fn apply<W>(&mut self, request: ControlRequest<W>) -> ControlEffect<W> {
        match request {
            ControlRequest::QueueWork(work) if self.is_running() => ControlEffect::RunWork(work),
            ControlRequest::QueueWork(_) => ControlEffect::Ignore(Ignored::NotRunning),
            ControlRequest::CloseSession(id) => match self.sessions.trigger_close(id) {
                Ok(()) => ControlEffect::CloseSession(id),
                Err(_) => ControlEffect::Ignore(Ignored::UnknownSession(id)),
            },
            ControlRequest::AsyncHandlerDone(id) => {
                if !self.sessions.contains(id) {
                    ControlEffect::Ignore(Ignored::UnknownSession(id))
                } else if !self.sessions.is_async_busy(id) {
                    ControlEffect::Ignore(Ignored::NotAsyncBusy(id))
                } else {
                    // Cannot fail: `id` is open.
                    let _ = self.sessions.set_async_busy(id, false);
                    ControlEffect::ResumeSession(id)
                }
            }
            ControlRequest::Stop if self.state == RunState::Stopped => ControlEffect::Ignore(Ignored::NotRunning),
            ControlRequest::Stop => {
                self.begin_stop();
                ControlEffect::StopAll
            }
        }
    }

    /// Stops the server (`httpd_stop`): no more work items or sessions are accepted, every open
    /// session is marked close-requested, and the sessions to shut down and
    /// [`ServerCore::close`] are returned. Once none is left, [`ServerCore::stopped`] finishes.
    pub fn stop(&mut self) -> SessionIds<'_, C> {
        if self.state != RunState::Stopped {
            self.begin_stop();
        }
        self.sessions.ids()
    }

    /// Finishes a stop once every session is closed: the state becomes `Stopped` and `Stop` is
    /// reported. `false`, doing nothing, when the server is not stopping or sessions remain.
    pub fn stopped(&mut self) -> bool {
        if self.state != RunState::Stopping || !self.sessions.is_empty() {
            return false;
        }
        self.state = RunState::Stopped;
        report(None, ServerEventKind::Stop);
        true
    }

    /// The session table, giving the server up.
    pub fn into_sessions(self) -> Sessions<C, S> {
        self.sessions
    }

    fn begin_stop(&mut self) {
        self.state = RunState::Stopping;
        self.sessions.trigger_close_all();
    }
}

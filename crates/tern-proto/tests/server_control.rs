//! The control path through the public API: each request's effect, stop closing every session
//! once, and the ESP-IDF event sequence seen by a server diagnostic sink.
//!
//! The sink is process-wide and `Start`/`Stop` carry no session id, so every test that reports
//! events holds `SERIAL` while it runs and looks only at the events recorded since it began.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};

use tern_proto::server::SessionId;
use tern_proto::server::control::{ControlEffect, ControlRequest, Ignored, RunState, ServerCore};
use tern_proto::server::event::{
    ServerDiagnosticSink, ServerEvent, ServerEventId, ServerEventKind, install_server_diagnostic_sink,
};
use tern_proto::server::sessions::{Admission, SessionSlot, Sessions};

struct Recorder(Mutex<Vec<ServerEvent>>);

impl ServerDiagnosticSink for Recorder {
    fn on_event(&self, event: &ServerEvent) {
        self.0.lock().unwrap().push(*event);
    }
}

static SINK: Recorder = Recorder(Mutex::new(Vec::new()));
static SERIAL: Mutex<()> = Mutex::new(());

/// Serializes the test, installs the sink and forgets earlier events.
fn begin() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    install_server_diagnostic_sink(&SINK);
    SINK.0.lock().unwrap().clear();
    guard
}

fn events() -> Vec<(Option<SessionId>, ServerEventKind)> {
    SINK.0.lock().unwrap().iter().map(|e| (e.session, e.kind)).collect()
}

/// A value whose drops are counted: a session context or a work item.
struct Counted(Rc<Cell<u32>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

type Core<'a, C> = ServerCore<C, &'a mut [SessionSlot<C>]>;

fn accept<C>(core: &mut Core<'_, C>) -> SessionId {
    match core.admit() {
        Some(Admission::Accept(id)) => id,
        other => panic!("expected Accept, got {other:?}"),
    }
}

#[test]
fn the_event_sequence_is_esp_idfs() {
    let _serial = begin();
    let mut slots: [SessionSlot<()>; 2] = [SessionSlot::EMPTY; 2];
    let mut core = ServerCore::new(Sessions::new(&mut slots[..], false));
    assert!(core.start());
    let a = accept(&mut core);
    let b = accept(&mut core);
    assert_eq!(core.apply::<()>(ControlRequest::CloseSession(a)), ControlEffect::CloseSession(a));
    core.close(a).unwrap();
    assert_eq!(core.apply::<()>(ControlRequest::Stop), ControlEffect::StopAll);
    let to_close: Vec<SessionId> = core.sessions().ids().collect();
    assert_eq!(to_close, [b]);
    core.close(b).unwrap();
    assert!(core.stopped());
    use ServerEventKind::{Disconnected, OnConnected, Start, Stop};
    assert_eq!(
        events(),
        [
            (None, Start),
            (Some(a), OnConnected),
            (Some(b), OnConnected),
            (Some(a), Disconnected),
            (Some(b), Disconnected),
            (None, Stop)
        ]
    );
    let ids: Vec<ServerEventId> = events().iter().map(|(_, kind)| kind.id()).collect();
    assert_eq!(ids.iter().map(|id| *id as u8).collect::<Vec<_>>(), [1, 2, 2, 7, 7, 8]);
}

#[test]
fn every_request_has_its_effect() {
    let _serial = begin();
    let mut slots: [SessionSlot<()>; 3] = [SessionSlot::EMPTY; 3];
    let mut core = ServerCore::new(Sessions::new(&mut slots[..], true));
    core.start();
    let a = accept(&mut core);
    let b = accept(&mut core);

    // Work runs on the server while it runs.
    assert_eq!(core.apply(ControlRequest::QueueWork("job")), ControlEffect::RunWork("job"));

    // Close: only a live session, which is marked for its connection's next step.
    assert_eq!(core.apply::<()>(ControlRequest::CloseSession(a)), ControlEffect::CloseSession(a));
    assert!(core.sessions().close_requested(a));
    core.close(a).unwrap();
    assert_eq!(core.apply::<()>(ControlRequest::CloseSession(a)), ControlEffect::Ignore(Ignored::UnknownSession(a)));
    // A session closed before its request got through: the stale id names nothing.
    let c = accept(&mut core);
    assert_eq!(c.slot(), a.slot());
    assert_eq!(core.apply::<()>(ControlRequest::CloseSession(a)), ControlEffect::Ignore(Ignored::UnknownSession(a)));
    assert!(!core.sessions().close_requested(c));

    // Async handler done: resumes a held session, once.
    assert_eq!(core.apply::<()>(ControlRequest::AsyncHandlerDone(b)), ControlEffect::Ignore(Ignored::NotAsyncBusy(b)));
    core.sessions_mut().set_async_busy(b, true).unwrap();
    assert_eq!(core.apply::<()>(ControlRequest::AsyncHandlerDone(b)), ControlEffect::ResumeSession(b));
    assert!(!core.sessions().is_async_busy(b));
    assert_eq!(core.apply::<()>(ControlRequest::AsyncHandlerDone(b)), ControlEffect::Ignore(Ignored::NotAsyncBusy(b)));
    assert_eq!(
        core.apply::<()>(ControlRequest::AsyncHandlerDone(a)),
        ControlEffect::Ignore(Ignored::UnknownSession(a))
    );

    // Stop: every session is marked; work is no longer run; a repeated stop is harmless.
    core.sessions_mut().set_async_busy(c, true).unwrap();
    assert_eq!(core.apply::<()>(ControlRequest::Stop), ControlEffect::StopAll);
    assert_eq!(core.state(), RunState::Stopping);
    assert!(!core.is_running());
    assert!(core.sessions().close_requested(b) && core.sessions().close_requested(c));
    assert_eq!(core.apply(ControlRequest::QueueWork("late")), ControlEffect::Ignore(Ignored::NotRunning));
    assert_eq!(core.admit(), None, "no new sessions while stopping");
    assert_eq!(core.apply::<()>(ControlRequest::Stop), ControlEffect::StopAll);
    // An async handler finishing during the stop still releases its session.
    assert_eq!(core.apply::<()>(ControlRequest::AsyncHandlerDone(c)), ControlEffect::ResumeSession(c));
    assert_eq!(core.apply::<()>(ControlRequest::CloseSession(b)), ControlEffect::CloseSession(b));
    core.close(b).unwrap();
    core.close(c).unwrap();
    assert!(core.stopped());

    // Stopped: nothing more to do.
    assert_eq!(core.apply::<()>(ControlRequest::Stop), ControlEffect::Ignore(Ignored::NotRunning));
    assert_eq!(core.apply(ControlRequest::QueueWork("after")), ControlEffect::Ignore(Ignored::NotRunning));
    assert_eq!(core.apply::<()>(ControlRequest::CloseSession(b)), ControlEffect::Ignore(Ignored::UnknownSession(b)));
}

#[test]
fn work_refused_while_not_running_is_dropped_once() {
    let _serial = begin();
    let drops = Rc::new(Cell::new(0));
    let mut slots: [SessionSlot<()>; 1] = [SessionSlot::EMPTY];
    let mut core = ServerCore::new(Sessions::new(&mut slots[..], false));
    assert_eq!(core.state(), RunState::Stopped);
    let effect = core.apply(ControlRequest::QueueWork(Counted(drops.clone())));
    assert!(matches!(effect, ControlEffect::Ignore(Ignored::NotRunning)));
    assert_eq!(drops.get(), 1);
    core.start();
    let effect = core.apply(ControlRequest::QueueWork(Counted(drops.clone())));
    assert!(matches!(effect, ControlEffect::RunWork(_)));
    assert_eq!(drops.get(), 1, "handed over, not dropped");
    drop(effect);
    assert_eq!(drops.get(), 2);
}

#[test]
fn stop_closes_every_session_once() {
    let _serial = begin();
    let freed = Rc::new(Cell::new(0));
    let mut slots: [SessionSlot<Counted>; 4] = [const { SessionSlot::EMPTY }; 4];
    let mut core = ServerCore::new(Sessions::new(&mut slots[..], false));
    assert_eq!(core.admit(), None, "not started");
    assert!(core.start());
    assert!(!core.start(), "already running");
    let ids: Vec<SessionId> = (0..3).map(|_| accept(&mut core)).collect();
    for id in &ids {
        core.sessions_mut().set_ctx(*id, Counted(freed.clone())).unwrap();
    }
    assert!(!core.stopped(), "not stopping");

    let to_close: Vec<SessionId> = core.stop().collect();
    assert_eq!(to_close, ids);
    assert_eq!(core.state(), RunState::Stopping);
    assert!(!core.start(), "cannot start while stopping");
    for (n, id) in to_close.iter().enumerate() {
        assert!(!core.stopped(), "sessions remain");
        let closed = core.close(*id).unwrap();
        assert!(closed.ctx.is_some());
        drop(closed);
        assert_eq!(freed.get(), n as u32 + 1);
        assert!(core.close(*id).is_none(), "closed once");
    }
    assert_eq!(core.stop().count(), 0);
    assert!(core.stopped());
    assert!(!core.stopped(), "reported once");
    assert_eq!(core.state(), RunState::Stopped);
    assert_eq!(freed.get(), 3);

    // A stopped server starts again, with the same table.
    assert!(core.start());
    let again = accept(&mut core);
    assert!(!ids.contains(&again), "a new generation");
    let stop_events = events().iter().filter(|(_, k)| matches!(k, ServerEventKind::Stop)).count();
    let start_events = events().iter().filter(|(_, k)| matches!(k, ServerEventKind::Start)).count();
    assert_eq!((start_events, stop_events), (2, 1));
    let disconnected: Vec<SessionId> =
        events().iter().filter(|(_, k)| *k == ServerEventKind::Disconnected).map(|(id, _)| id.unwrap()).collect();
    assert_eq!(disconnected, ids);
    core.stop();
    core.close(again).unwrap();
    assert!(core.stopped());
    assert_eq!(core.into_sessions().len(), 0);
}

#[test]
fn stop_with_no_sessions_finishes_at_once() {
    let _serial = begin();
    let mut slots: [SessionSlot<()>; 1] = [SessionSlot::EMPTY];
    let mut core = ServerCore::new(Sessions::new(&mut slots[..], false));
    // Stopping a server that never started does nothing.
    assert_eq!(core.stop().count(), 0);
    assert!(!core.stopped());
    assert_eq!(events(), []);
    core.start();
    assert_eq!(core.apply::<()>(ControlRequest::Stop), ControlEffect::StopAll);
    assert!(core.stopped());
    assert_eq!(events(), [(None, ServerEventKind::Start), (None, ServerEventKind::Stop)]);
}

/// Pinned for 64-bit hosts: growth is a deliberate change.
#[cfg(target_pointer_width = "64")]
#[test]
fn sizes() {
    use core::mem::size_of;
    assert_eq!(size_of::<RunState>(), 1);
    assert_eq!(size_of::<Ignored>(), 8);
    assert_eq!(size_of::<ControlRequest<Box<dyn FnOnce()>>>(), 24);
    assert_eq!(size_of::<ControlEffect<Box<dyn FnOnce()>>>(), 24);
    assert_eq!(size_of::<ServerCore<(), &mut [SessionSlot<()>]>>(), 48);
}

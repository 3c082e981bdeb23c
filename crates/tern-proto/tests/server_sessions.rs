//! The session table through the public API: admission, LRU purge, async holds, contexts
//! handed back exactly once, generations, the client list and close requests; and a proptest
//! against a simple model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::cell::RefCell;
use std::rc::Rc;

use proptest::prelude::*;
use tern_proto::server::SessionId;
use tern_proto::server::sessions::{Admission, ClosedSession, SessionError, SessionSlot, Sessions};

/// A context that records its serial number in a shared log when dropped: the "free hook".
#[derive(Debug)]
struct Ctx {
    serial: u32,
    freed: Rc<RefCell<Vec<u32>>>,
}

impl Drop for Ctx {
    fn drop(&mut self) {
        self.freed.borrow_mut().push(self.serial);
    }
}

/// Makes contexts and checks each is freed exactly once.
#[derive(Default)]
struct Contexts {
    next: u32,
    freed: Rc<RefCell<Vec<u32>>>,
}

impl Contexts {
    fn make(&mut self) -> Ctx {
        self.next += 1;
        Ctx { serial: self.next, freed: self.freed.clone() }
    }

    fn freed(&self) -> Vec<u32> {
        self.freed.borrow().clone()
    }

    /// Every context made so far was freed, each once.
    fn all_freed_once(&self) {
        let mut freed = self.freed();
        freed.sort_unstable();
        assert_eq!(freed, (1..=self.next).collect::<Vec<_>>(), "each context freed exactly once");
    }
}

fn accept<C, S>(sessions: &mut Sessions<C, S>) -> SessionId
where
    S: AsRef<[SessionSlot<C>]> + AsMut<[SessionSlot<C>]>,
{
    match sessions.admit() {
        Admission::Accept(id) => id,
        other => panic!("expected Accept, got {other:?}"),
    }
}

#[test]
fn fill_to_capacity_then_full() {
    let mut slots: [SessionSlot<()>; 3] = [SessionSlot::EMPTY; 3];
    let mut s = Sessions::new(&mut slots[..], false);
    assert_eq!((s.capacity(), s.len(), s.is_empty(), s.is_full()), (3, 0, true, false));
    assert!(!s.lru_purge_enabled());
    let ids: Vec<SessionId> = (0..3).map(|_| accept(&mut s)).collect();
    assert_eq!(ids.iter().map(|id| id.slot()).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(s.is_full());
    assert_eq!(s.admit(), Admission::Full);
    assert_eq!(s.admit(), Admission::Full); // nothing changes by asking
    assert_eq!(s.len(), 3);
    // A close frees the slot; the next session there has a new id.
    s.close(ids[1]).unwrap();
    let again = accept(&mut s);
    assert_eq!(again.slot(), 1);
    assert_ne!(again, ids[1]);
    assert_eq!(again.generation(), ids[1].generation() + 1);
    assert_eq!(s.admit(), Admission::Full);

    // Without slots nothing is ever admitted, with or without LRU purge.
    let mut none: [SessionSlot<()>; 0] = [];
    assert_eq!(Sessions::new(&mut none[..], false).admit(), Admission::Full);
    let mut none: [SessionSlot<()>; 0] = [];
    assert_eq!(Sessions::new(&mut none[..], true).admit(), Admission::Full);
}

#[test]
fn lru_purge_names_the_least_recently_used() {
    let mut s: Sessions<(), Vec<SessionSlot<()>>> = Sessions::new((0..3).map(|_| SessionSlot::new()).collect(), true);
    let [a, b, c] = [accept(&mut s), accept(&mut s), accept(&mut s)];
    // All start at counter 0: the lowest slot first.
    assert_eq!(s.admit(), Admission::PurgeFirst(a));
    assert_eq!(s.len(), 3, "PurgeFirst does not close anything itself");
    s.request_done(a).unwrap(); // a = 1
    assert_eq!(s.lru_counter(), 1);
    assert_eq!(s.admit(), Admission::PurgeFirst(b));
    s.touch(b).unwrap(); // b = 2
    assert_eq!(s.admit(), Admission::PurgeFirst(c));
    s.request_done(c).unwrap(); // c = 3
    assert_eq!(s.admit(), Admission::PurgeFirst(a));
    s.request_done(a).unwrap(); // a = 4
    assert_eq!(s.lru_victim(), Some(b));
    // The adapter closes the victim and admits again.
    assert_eq!(s.close(b).map(|closed| closed.id), Some(b));
    let d = accept(&mut s);
    assert_eq!(d.slot(), b.slot());
    // d starts at the current counter (4): c (3) is older, and goes first.
    assert_eq!(s.admit(), Admission::PurgeFirst(c));
}

#[test]
fn fresh_sessions_are_not_purged_before_older_idle_ones() {
    let mut slots: [SessionSlot<()>; 3] = [SessionSlot::EMPTY; 3];
    let mut s = Sessions::new(&mut slots[..], true);
    let [a, b, c] = [accept(&mut s), accept(&mut s), accept(&mut s)];
    for id in [a, b, c, a] {
        s.request_done(id).unwrap();
    } // a = 4, b = 2, c = 3
    s.close(b).unwrap();
    let fresh = accept(&mut s); // stamped 4, in the lowest free slot (b's)
    assert_eq!(fresh.slot(), 1);
    assert_eq!(s.admit(), Admission::PurgeFirst(c));
    s.close(c).unwrap();
    accept(&mut s);
    // a and the fresh session are both at 4: the lower slot (a) goes first.
    assert_eq!(s.admit(), Admission::PurgeFirst(a));
}

#[test]
fn async_busy_sessions_are_never_purged() {
    let mut slots: [SessionSlot<()>; 2] = [SessionSlot::EMPTY; 2];
    let mut s = Sessions::new(&mut slots[..], true);
    let [a, b] = [accept(&mut s), accept(&mut s)];
    s.request_done(b).unwrap();
    assert_eq!(s.admit(), Admission::PurgeFirst(a));
    s.set_async_busy(a, true).unwrap();
    assert!(s.is_async_busy(a) && !s.is_async_busy(b));
    assert_eq!(s.admit(), Admission::PurgeFirst(b));
    s.set_async_busy(b, true).unwrap();
    // Everyone busy: wait in the backlog.
    assert_eq!(s.admit(), Admission::Full);
    assert_eq!(s.lru_victim(), None);
    s.set_async_busy(a, false).unwrap();
    assert_eq!(s.admit(), Admission::PurgeFirst(a));
    // A busy session can still be closed explicitly, and its slot is then free of the flag.
    s.close(b).unwrap();
    let c = accept(&mut s);
    assert!(!s.is_async_busy(c));
}

#[test]
fn sessions_in_a_request_keep_their_arrival_stamp_and_are_not_purged() {
    let mut slots: [SessionSlot<()>; 3] = [SessionSlot::EMPTY; 3];
    let mut s = Sessions::new(&mut slots[..], true);
    let [a, b, c] = [accept(&mut s), accept(&mut s), accept(&mut s)];
    s.request_done(c).unwrap(); // c = 1
    s.request_started(b).unwrap(); // b = 2, in its request
    s.request_started(a).unwrap(); // a = 3, in its request
    // c is the only idle session, though its stamp is the oldest anyway.
    assert_eq!(s.lru_victim(), Some(c));
    s.request_done(c).unwrap(); // c = 4
    assert_eq!(s.lru_victim(), Some(c), "busy sessions are passed over whatever their stamp");
    // b's task records the end after a's request arrived: b keeps its arrival stamp (2), so
    // it is older than a (3), which is the order its client saw.
    s.request_done(b).unwrap();
    assert_eq!(s.lru_counter(), 4, "ending a started request takes no new stamp");
    assert_eq!(s.lru_victim(), Some(b));
    s.request_done(a).unwrap();
    assert_eq!(s.lru_victim(), Some(b));
    // Without request_started, request_done stamps as ESP-IDF does.
    s.request_done(b).unwrap(); // b = 5
    assert_eq!(s.lru_victim(), Some(a));
    assert_eq!(s.request_started(SessionId::new(9, 0)).unwrap_err(), SessionError::Unknown(SessionId::new(9, 0)));
}

#[test]
fn counter_restarts_when_the_table_empties() {
    let mut slots: [SessionSlot<()>; 2] = [SessionSlot::EMPTY; 2];
    let mut s = Sessions::new(&mut slots[..], true);
    let [a, b] = [accept(&mut s), accept(&mut s)];
    s.request_done(a).unwrap();
    s.request_done(b).unwrap();
    assert_eq!(s.lru_counter(), 2);
    s.close(a).unwrap();
    assert_eq!(s.lru_counter(), 2);
    s.close(b).unwrap();
    assert_eq!(s.lru_counter(), 0);
    assert!(s.is_empty());
}

#[test]
fn contexts_are_freed_exactly_once() {
    let mut ctxs = Contexts::default();
    {
        let mut slots: [SessionSlot<Ctx>; 2] = [SessionSlot::EMPTY, SessionSlot::EMPTY];
        let mut s = Sessions::new(&mut slots[..], false);
        let a = accept(&mut s);
        let b = accept(&mut s);
        assert!(s.ctx(a).is_none());
        assert!(s.set_ctx(a, ctxs.make()).unwrap().is_none()); // 1
        assert_eq!(s.ctx(a).unwrap().serial, 1);
        // Replacing hands back the old one; the caller frees it (drops it here).
        let old = s.set_ctx(a, ctxs.make()).unwrap().unwrap(); // 2 replaces 1
        assert_eq!(old.serial, 1);
        drop(old);
        assert_eq!(ctxs.freed(), [1]);
        s.ctx_mut(a).unwrap().serial = 20; // in place; still context 2 as far as the log goes
        s.ctx_mut(a).unwrap().serial = 2;
        // Taking hands it out; the table no longer has one.
        let taken = s.take_ctx(a).unwrap();
        assert!(s.take_ctx(a).is_none());
        assert!(s.ctx(a).is_none());
        drop(taken);
        assert_eq!(ctxs.freed(), [1, 2]);
        // Close hands back the context once.
        s.set_ctx(b, ctxs.make()).unwrap(); // 3
        let ClosedSession { id, ctx } = s.close(b).unwrap();
        assert_eq!((id, ctx.as_ref().map(|c| c.serial)), (b, Some(3)));
        drop(ctx);
        assert!(s.close(b).is_none(), "a second close hands back nothing");
        // A stale id: setting drops the new context at once, everything else does nothing.
        let b2 = accept(&mut s);
        assert_eq!(b2.slot(), b.slot());
        assert_eq!(s.set_ctx(b, ctxs.make()).unwrap_err(), SessionError::Unknown(b)); // 4, dropped
        assert_eq!(ctxs.freed(), [1, 2, 3, 4]);
        s.set_ctx(b2, ctxs.make()).unwrap(); // 5
        assert!(s.ctx(b).is_none() && s.ctx_mut(b).is_none() && s.take_ctx(b).is_none());
        assert!(s.close(b).is_none());
        assert_eq!(s.ctx(b2).unwrap().serial, 5);
        // A context still in the table goes with the table's storage.
        s.set_ctx(a, ctxs.make()).unwrap(); // 6
        assert_eq!(ctxs.freed(), [1, 2, 3, 4]);
    }
    ctxs.all_freed_once();
}

#[test]
fn owned_storage_drops_its_contexts_with_the_table() {
    let mut ctxs = Contexts::default();
    let mut s: Sessions<Ctx, Vec<SessionSlot<Ctx>>> =
        Sessions::new((0..4).map(|_| SessionSlot::default()).collect(), true);
    for _ in 0..4 {
        let id = accept(&mut s);
        s.set_ctx(id, ctxs.make()).unwrap();
    }
    assert!(ctxs.freed().is_empty());
    drop(s);
    ctxs.all_freed_once();
}

#[test]
fn a_new_table_over_used_slots_starts_empty_and_old_ids_stay_stale() {
    let mut ctxs = Contexts::default();
    let mut slots: [SessionSlot<Ctx>; 2] = [SessionSlot::EMPTY, SessionSlot::EMPTY];
    let old = {
        let mut s = Sessions::new(&mut slots[..], false);
        let id = accept(&mut s);
        s.set_ctx(id, ctxs.make()).unwrap();
        id
    };
    assert!(ctxs.freed().is_empty(), "the slots still hold it");
    let mut s = Sessions::new(&mut slots[..], false);
    ctxs.all_freed_once();
    assert!(s.is_empty() && !s.contains(old));
    let new = accept(&mut s);
    assert_eq!(new.slot(), old.slot());
    assert_ne!(new, old);
    assert!(s.close(old).is_none());
}

#[test]
fn stale_ids_are_inert() {
    let mut slots: [SessionSlot<u8>; 1] = [SessionSlot::EMPTY];
    let mut s = Sessions::new(&mut slots[..], true);
    let old = accept(&mut s);
    s.close(old).unwrap();
    let new = accept(&mut s);
    s.set_ctx(new, 7).unwrap();
    s.request_done(new).unwrap();
    let counter = s.lru_counter();
    assert!(!s.contains(old));
    assert_eq!(s.touch(old), Err(SessionError::Unknown(old)));
    assert_eq!(s.request_done(old), Err(SessionError::Unknown(old)));
    assert_eq!(s.lru_counter(), counter, "a stale touch does not move the counter");
    assert_eq!(s.set_async_busy(old, true), Err(SessionError::Unknown(old)));
    assert!(!s.is_async_busy(old) && !s.is_async_busy(new));
    assert_eq!(s.trigger_close(old), Err(SessionError::Unknown(old)));
    assert!(!s.close_requested(old) && !s.close_requested(new));
    assert!(s.ctx(old).is_none());
    assert!(s.close(old).is_none());
    assert_eq!(s.ctx(new), Some(&7));
    // An id naming a slot beyond the table.
    let outside = SessionId::new(5, 0);
    assert!(!s.contains(outside) && s.close(outside).is_none());
    assert_eq!(s.touch(outside), Err(SessionError::Unknown(outside)));
    assert_eq!(s.ids().collect::<Vec<_>>(), [new]);
}

#[test]
fn client_list() {
    let mut slots: [SessionSlot<()>; 4] = [SessionSlot::EMPTY; 4];
    let mut s = Sessions::new(&mut slots[..], false);
    let mut list = [SessionId(0); 4];
    assert_eq!(s.client_list(&mut list), Ok(0));
    let ids: Vec<SessionId> = (0..4).map(|_| accept(&mut s)).collect();
    s.close(ids[1]).unwrap();
    assert_eq!(s.ids().collect::<Vec<_>>(), [ids[0], ids[2], ids[3]]);
    let mut small = [SessionId(99); 2];
    assert_eq!(s.client_list(&mut small), Err(SessionError::ClientListTooSmall { needed: 3 }));
    assert_eq!(small, [SessionId(99); 2], "nothing written on error");
    assert_eq!(s.client_list(&mut list), Ok(3));
    assert_eq!(list[..3], [ids[0], ids[2], ids[3]]);
    let mut exact = [SessionId(0); 3];
    assert_eq!(s.client_list(&mut exact), Ok(3));
    let it = s.ids();
    assert_eq!(it.clone().count(), 3);
    assert_eq!(it.count(), 3);
}

#[test]
fn trigger_close_marks_the_session() {
    let mut slots: [SessionSlot<()>; 3] = [SessionSlot::EMPTY; 3];
    let mut s = Sessions::new(&mut slots[..], false);
    let [a, b, c] = [accept(&mut s), accept(&mut s), accept(&mut s)];
    // Unlike ESP-IDF, a session that has not finished a request (LRU counter 0) can be closed.
    assert_eq!(s.lru_counter(), 0);
    s.trigger_close(a).unwrap();
    assert!(s.close_requested(a) && !s.close_requested(b));
    s.trigger_close(a).unwrap(); // twice is fine
    // The adapter closes it at its next step; the slot's next session starts unmarked.
    s.close(a).unwrap();
    let d = accept(&mut s);
    assert!(!s.close_requested(d));
    s.trigger_close_all();
    assert!([b, c, d].iter().all(|id| s.close_requested(*id)));
}

/// Pinned for 64-bit hosts: growth is a deliberate change.
#[cfg(target_pointer_width = "64")]
#[test]
fn sizes() {
    use core::mem::size_of;
    assert_eq!(size_of::<SessionId>(), 4);
    assert_eq!(size_of::<Admission>(), 8);
    assert_eq!(size_of::<SessionError>(), 16);
    // The per-session state: generation, flags, LRU stamp, and the context.
    assert_eq!(size_of::<SessionSlot<()>>(), 16);
    assert_eq!(size_of::<SessionSlot<Box<u8>>>(), 24);
    assert_eq!(size_of::<ClosedSession<Box<u8>>>(), 16);
    assert_eq!(size_of::<Sessions<(), &mut [SessionSlot<()>]>>(), 40);
}

// ---- A model to check the table against ----

#[derive(Debug, Clone)]
enum Op {
    Admit,
    RequestDone(usize),
    Touch(usize),
    Close(usize),
    SetCtx(usize),
    TakeCtx(usize),
    Busy(usize, bool),
    TriggerClose(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Admit),
        2 => any::<usize>().prop_map(Op::RequestDone),
        1 => any::<usize>().prop_map(Op::Touch),
        2 => any::<usize>().prop_map(Op::Close),
        2 => any::<usize>().prop_map(Op::SetCtx),
        1 => any::<usize>().prop_map(Op::TakeCtx),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, b)| Op::Busy(i, b)),
        1 => any::<usize>().prop_map(Op::TriggerClose),
    ]
}

#[derive(Debug, Clone)]
struct ModelSession {
    id: SessionId,
    lru: u64,
    busy: bool,
    close_requested: bool,
    ctx: Option<u32>,
}

/// A plain reference: one `Option` per slot, a generation per slot, a counter.
struct Model {
    lru_purge: bool,
    counter: u64,
    generations: Vec<u16>,
    slots: Vec<Option<ModelSession>>,
}

impl Model {
    fn new(capacity: usize, lru_purge: bool) -> Model {
        Model { lru_purge, counter: 0, generations: vec![0; capacity], slots: vec![None; capacity] }
    }

    fn get(&mut self, id: SessionId) -> Option<&mut ModelSession> {
        self.slots.get_mut(id.slot())?.as_mut().filter(|s| s.id == id)
    }

    fn victim(&self) -> Option<SessionId> {
        let mut best: Option<&ModelSession> = None;
        for s in self.slots.iter().flatten() {
            if !s.busy && best.is_none_or(|b| s.lru < b.lru) {
                best = Some(s);
            }
        }
        best.map(|s| s.id)
    }

    fn admit(&mut self) -> Admission {
        if let Some(slot) = self.slots.iter().position(Option::is_none) {
            let id = SessionId::new(slot as u16, self.generations[slot]);
            self.slots[slot] =
                Some(ModelSession { id, lru: self.counter, busy: false, close_requested: false, ctx: None });
            return Admission::Accept(id);
        }
        match (self.lru_purge, self.victim()) {
            (true, Some(victim)) => Admission::PurgeFirst(victim),
            _ => Admission::Full,
        }
    }

    fn close(&mut self, id: SessionId) -> Option<Option<u32>> {
        let session = self.get(id)?.clone();
        self.slots[id.slot()] = None;
        self.generations[id.slot()] = self.generations[id.slot()].wrapping_add(1);
        if self.slots.iter().all(Option::is_none) {
            self.counter = 0;
        }
        Some(session.ctx)
    }

    fn touch(&mut self, id: SessionId) -> bool {
        let counter = self.counter + 1;
        let Some(s) = self.get(id) else { return false };
        s.lru = counter;
        self.counter = counter;
        true
    }

    fn ids(&self) -> Vec<SessionId> {
        self.slots.iter().flatten().map(|s| s.id).collect()
    }
}

fn serial(ctx: Option<Ctx>) -> Option<u32> {
    ctx.map(|c| c.serial)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn table_agrees_with_the_model(
        capacity in 0usize..5,
        lru_purge in any::<bool>(),
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        let mut ctxs = Contexts::default();
        {
            let mut s: Sessions<Ctx, Vec<SessionSlot<Ctx>>> =
                Sessions::new((0..capacity).map(|_| SessionSlot::new()).collect(), lru_purge);
            let mut m = Model::new(capacity, lru_purge);
            // Every id ever handed out: the ops pick from these, so stale ids come up too.
            let mut seen: Vec<SessionId> = vec![SessionId::new(0, 0)];
            for op in ops {
                let pick = |i: usize| seen[i % seen.len()];
                match op {
                    Op::Admit => {
                        let got = s.admit();
                        prop_assert_eq!(got, m.admit());
                        match got {
                            Admission::Accept(id) => seen.push(id),
                            Admission::PurgeFirst(victim) => {
                                // The adapter closes the victim, then admits.
                                let expected = m.close(victim).unwrap();
                                let closed = s.close(victim).unwrap();
                                prop_assert_eq!(serial(closed.ctx), expected);
                                let again = s.admit();
                                prop_assert_eq!(again, m.admit());
                                let Admission::Accept(id) = again else { panic!("slot freed, still {again:?}") };
                                seen.push(id);
                            }
                            Admission::Full => {}
                        }
                    }
                    Op::RequestDone(i) => {
                        let id = pick(i);
                        prop_assert_eq!(s.request_done(id).is_ok(), m.touch(id));
                    }
                    Op::Touch(i) => {
                        let id = pick(i);
                        prop_assert_eq!(s.touch(id).is_ok(), m.touch(id));
                    }
                    Op::Close(i) => {
                        let id = pick(i);
                        let got = s.close(id).map(|c| serial(c.ctx));
                        prop_assert_eq!(got, m.close(id));
                    }
                    Op::SetCtx(i) => {
                        let id = pick(i);
                        let ctx = ctxs.make();
                        let new = ctx.serial;
                        let got = s.set_ctx(id, ctx).map(serial);
                        match m.get(id) {
                            Some(session) => prop_assert_eq!(got, Ok(session.ctx.replace(new))),
                            None => prop_assert_eq!(got, Err(SessionError::Unknown(id))),
                        }
                    }
                    Op::TakeCtx(i) => {
                        let id = pick(i);
                        let expected = m.get(id).and_then(|session| session.ctx.take());
                        prop_assert_eq!(serial(s.take_ctx(id)), expected);
                    }
                    Op::Busy(i, busy) => {
                        let id = pick(i);
                        let known = m.get(id).map(|session| session.busy = busy).is_some();
                        prop_assert_eq!(s.set_async_busy(id, busy).is_ok(), known);
                    }
                    Op::TriggerClose(i) => {
                        let id = pick(i);
                        let known = m.get(id).map(|session| session.close_requested = true).is_some();
                        prop_assert_eq!(s.trigger_close(id).is_ok(), known);
                    }
                }
                // After every step: the same sessions, victim, counter and per-session state.
                prop_assert_eq!(s.ids().collect::<Vec<_>>(), m.ids());
                prop_assert_eq!(s.lru_victim(), m.victim());
                prop_assert_eq!(s.lru_counter(), m.counter);
                prop_assert_eq!(s.len(), m.ids().len());
                for session in m.slots.iter().flatten() {
                    prop_assert_eq!(s.is_async_busy(session.id), session.busy);
                    prop_assert_eq!(s.close_requested(session.id), session.close_requested);
                    prop_assert_eq!(s.ctx(session.id).map(|c| c.serial), session.ctx);
                }
                // Nothing freed twice so far.
                let mut freed = ctxs.freed();
                freed.sort_unstable();
                freed.dedup();
                prop_assert_eq!(freed.len(), ctxs.freed().len());
            }
        }
        ctxs.all_freed_once();
    }
}

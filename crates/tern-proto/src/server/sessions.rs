//! The session table: ESP-IDF's `struct sock_db` array, without the sockets.
//!
//! [`Sessions`] keeps, for each open connection, its [`SessionId`], its LRU stamp, whether an
//! async handler holds it, whether a close was requested, and the user's session context `C`
//! (`httpd_sess_set_ctx`). The sockets stay with the adapter, keyed by the id.
//!
//! ## Admission and LRU purge
//!
//! [`Sessions::admit`] reserves a slot for a new connection. When every slot is taken it
//! answers [`Admission::Full`] (with `lru_purge_enable` off: leave the connection in the
//! listen backlog until a session closes, as ESP-IDF does) or [`Admission::PurgeFirst`] naming
//! the least recently used session to close before admitting again. The LRU stamp follows
//! ESP-IDF: a global counter goes up by one after every processed request
//! ([`Sessions::request_done`]) and on [`Sessions::touch`] (`httpd_sess_update_lru_counter`),
//! and the session concerned takes the new value; a new session starts at the current value
//! (esp-idf PR #17470), so it is not purged before older idle sessions; the counter restarts
//! at 0 when the table empties. A session busy with an async handler is never purged; among
//! equal stamps the lowest slot goes first. Adapters that serve sessions concurrently stamp at
//! the request's arrival instead ([`Sessions::request_started`]) and keep the session out of
//! the purge until its request is done.
//!
//! ## Contexts and their free hook
//!
//! ESP-IDF frees a session context with the user's `free_ctx` (or `free`) when it is replaced
//! or when the session closes, exactly once. In Rust that hook is ownership: the table owns a
//! session's context, [`Sessions::set_ctx`] hands back the one it replaces,
//! [`Sessions::take_ctx`] hands it out, and [`Sessions::close`] hands back the context of the
//! closed session once (a second close, or any stale id, gets `None`). The adapter drops what
//! it gets back, or calls the user's free function on it; either way it happens once. Contexts
//! still in the table when it is dropped are dropped with it.
//!
//! ## Ids and generations
//!
//! A [`SessionId`] names a slot and a generation; the generation goes up each time the slot is
//! freed, so an id kept after its session closed (by a work item, an async handler, a
//! WebSocket sender) names nothing: every method given it does nothing and answers `None`,
//! `false` or [`SessionError::Unknown`]. Generations wrap after 65536 sessions in one slot.
//!
//! ```
//! use tern_proto::server::sessions::{Admission, SessionSlot, Sessions};
//!
//! let mut slots: [SessionSlot<&str>; 2] = [SessionSlot::EMPTY; 2];
//! let mut sessions = Sessions::new(&mut slots[..], true);
//! let Admission::Accept(a) = sessions.admit() else { unreachable!() };
//! let Admission::Accept(b) = sessions.admit() else { unreachable!() };
//! sessions.set_ctx(a, "a's context")?;
//! sessions.request_done(a)?; // a served a request: b is now the least recently used
//! assert_eq!(sessions.admit(), Admission::PurgeFirst(b));
//! let closed = sessions.close(b).unwrap();
//! assert_eq!(closed.ctx, None);
//! assert!(sessions.close(b).is_none()); // once only
//! assert!(matches!(sessions.admit(), Admission::Accept(_)));
//! # Ok::<(), tern_proto::server::sessions::SessionError>(())
//! ```

use super::event::{ServerEventKind, SessionId, report};

/// The most slots a table uses: a [`SessionId`] has 16 bits for the slot.
const MAX_SLOTS: usize = 1 << 16;

/// One slot of a [`Sessions`] table's storage. Build arrays with [`SessionSlot::EMPTY`] and
/// `Vec`s with [`SessionSlot::new`].
#[derive(Debug)]
pub struct SessionSlot<C> {
    /// The generation of the session in the slot, or of the next one when it is free.
    generation: u16,
    live: bool,
    async_busy: bool,
    /// Between [`Sessions::request_started`] and [`Sessions::request_done`].
    in_request: bool,
    close_requested: bool,
    lru: u64,
    ctx: Option<C>,
}

impl<C> SessionSlot<C> {
    /// A free slot.
    pub const EMPTY: SessionSlot<C> = SessionSlot::new();

    /// A free slot.
    pub const fn new() -> SessionSlot<C> {
        SessionSlot {
            generation: 0,
            live: false,
            async_busy: false,
            in_request: false,
            close_requested: false,
            lru: 0,
            ctx: None,
        }
    }
}

impl<C> Default for SessionSlot<C> {
    fn default() -> Self {
        SessionSlot::new()
    }
}

/// What to do with a connection waiting to be accepted: [`Sessions::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Admission {
    /// A slot is reserved for it under this id.
    Accept(SessionId),
    /// Every slot is taken: leave it in the listen backlog until a session closes.
    Full,
    /// Every slot is taken: close this least recently used session, then admit again.
    PurgeFirst(SessionId),
}

/// What [`Sessions::close`] hands back, once per session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedSession<C> {
    /// The session that closed.
    pub id: SessionId,
    /// Its context, to drop or free now.
    pub ctx: Option<C>,
}

/// A misuse of the session table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The id names no open session: it closed, or belongs to an earlier generation.
    #[error("no open session {0:?}")]
    Unknown(SessionId),
    /// The array given to [`Sessions::client_list`] is too short.
    #[error("the client list needs room for {needed} sessions")]
    ClientListTooSmall {
        /// The number of open sessions.
        needed: usize,
    },
}

/// The session table (ESP-IDF's `sock_db` array) in the caller's storage; see the
/// [module documentation](self). The capacity (`max_open_sockets`) is the number of slots,
/// at most 65536.
#[derive(Debug)]
pub struct Sessions<C, S> {
    slots: S,
    len: usize,
    lru_counter: u64,
    lru_purge_enable: bool,
    _ctx: core::marker::PhantomData<fn() -> C>,
}

impl<C, S> Sessions<C, S>
where
    S: AsRef<[SessionSlot<C>]> + AsMut<[SessionSlot<C>]>,
{
    /// A table over `slots`, empty whatever they held (contexts left in them are dropped; ids
    /// of sessions left in them stay stale), purging the least recently used session when full
    /// if `lru_purge_enable`.
    pub fn new(mut slots: S, lru_purge_enable: bool) -> Sessions<C, S> {
        for slot in slots.as_mut().iter_mut() {
            if slot.live {
                slot.generation = slot.generation.wrapping_add(1);
            }
            *slot = SessionSlot { generation: slot.generation, ..SessionSlot::new() };
        }
        Sessions { slots, len: 0, lru_counter: 0, lru_purge_enable, _ctx: core::marker::PhantomData }
    }

    /// How many sessions are open.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no session is open.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many sessions fit (`max_open_sockets`).
    pub fn capacity(&self) -> usize {
        self.slots.as_ref().len().min(MAX_SLOTS)
    }

    /// Whether every slot is taken.
    pub fn is_full(&self) -> bool {
        self.len >= self.capacity()
    }

    /// Whether the table purges the least recently used session when full.
    pub const fn lru_purge_enabled(&self) -> bool {
        self.lru_purge_enable
    }

    /// The global LRU counter.
    pub const fn lru_counter(&self) -> u64 {
        self.lru_counter
    }

    /// Whether `id` names an open session.
    pub fn contains(&self, id: SessionId) -> bool {
        self.slot(id).is_some()
    }

    /// Decides what to do with a connection waiting to be accepted; on
    /// [`Admission::Accept`] the slot is taken (the lowest free one) and `OnConnected` is
    /// reported. When the adapter cannot go on with it (its open hook fails), it calls
    /// [`Sessions::close`].
    pub fn admit(&mut self) -> Admission {
        let capacity = self.capacity();
        let counter = self.lru_counter;
        let free = self.slots.as_mut().iter_mut().take(capacity).enumerate().find(|(_, slot)| !slot.live);
        if let Some((index, slot)) = free {
            *slot = SessionSlot { generation: slot.generation, live: true, lru: counter, ..SessionSlot::new() };
            let id = SessionId::new(index as u16, slot.generation);
            self.len += 1;
            report(Some(id), ServerEventKind::OnConnected);
            return Admission::Accept(id);
        }
        if !self.lru_purge_enable {
            return Admission::Full;
        }
        self.lru_victim().map_or(Admission::Full, Admission::PurgeFirst)
    }

    /// The session LRU purge would close now: the lowest stamp among sessions not busy with a
    /// request (see [`Sessions::request_started`]) or an async handler, the lowest slot among
    /// equals.
    pub fn lru_victim(&self) -> Option<SessionId> {
        self.live()
            .filter(|(_, slot)| !slot.async_busy && !slot.in_request)
            .min_by_key(|(index, slot)| (slot.lru, *index))
            .map(|(index, slot)| id_of(index, slot))
    }

    /// Closes `id`: frees its slot, reports `Disconnected` and hands back its context. `None`
    /// when `id` names no open session, so each session's context comes back exactly once.
    pub fn close(&mut self, id: SessionId) -> Option<ClosedSession<C>> {
        let slot = self.slot_mut(id)?;
        let ctx = slot.ctx.take();
        *slot = SessionSlot { generation: slot.generation.wrapping_add(1), ..SessionSlot::new() };
        self.len -= 1;
        if self.len == 0 {
            self.lru_counter = 0;
        }
        report(Some(id), ServerEventKind::Disconnected);
        Some(ClosedSession { id, ctx })
    }

    /// A request arrived on `id`, for an adapter that serves sessions concurrently: `id`
    /// takes a new stamp now and is not an LRU victim until [`Sessions::request_done`].
    ///
    /// ESP-IDF stamps a session after its request, which is the same moment on its single
    /// server task. With one task per session, the task may record the end only after the
    /// client has read the response and used another session, which would then look older
    /// than this one; stamping at arrival and keeping the session out of the purge while its
    /// handler runs gives the order the clients saw.
    pub fn request_started(&mut self, id: SessionId) -> Result<(), SessionError> {
        self.touch(id)?;
        if let Some(slot) = self.slot_mut(id) {
            slot.in_request = true;
        }
        Ok(())
    }

    /// A request on `id` was processed. After [`Sessions::request_started`] it keeps the stamp
    /// taken then and becomes purgeable again; otherwise the global counter goes up and `id`
    /// takes its value, as ESP-IDF does after every request.
    pub fn request_done(&mut self, id: SessionId) -> Result<(), SessionError> {
        let slot = self.slot_mut(id).ok_or(SessionError::Unknown(id))?;
        if slot.in_request {
            slot.in_request = false;
            return Ok(());
        }
        self.touch(id)
    }

    /// Marks `id` as the most recently used session (`httpd_sess_update_lru_counter`).
    pub fn touch(&mut self, id: SessionId) -> Result<(), SessionError> {
        let counter = self.lru_counter.wrapping_add(1);
        let slot = self.slot_mut(id).ok_or(SessionError::Unknown(id))?;
        slot.lru = counter;
        self.lru_counter = counter;
        Ok(())
    }

    /// The context of `id` (`httpd_sess_get_ctx`).
    pub fn ctx(&self, id: SessionId) -> Option<&C> {
        self.slot(id)?.ctx.as_ref()
    }

    /// The context of `id`, to change in place.
    pub fn ctx_mut(&mut self, id: SessionId) -> Option<&mut C> {
        self.slot_mut(id)?.ctx.as_mut()
    }

    /// Sets the context of `id` (`httpd_sess_set_ctx`) and hands back the one it replaces, for
    /// the caller to drop or free. When `id` names no open session, `ctx` is dropped at once,
    /// as it would have been when that session closed.
    pub fn set_ctx(&mut self, id: SessionId, ctx: C) -> Result<Option<C>, SessionError> {
        let slot = self.slot_mut(id).ok_or(SessionError::Unknown(id))?;
        Ok(slot.ctx.replace(ctx))
    }

    /// Takes the context of `id` out of the table (a handler's `sess_ctx` while it runs, or a
    /// context cleared for good).
    pub fn take_ctx(&mut self, id: SessionId) -> Option<C> {
        self.slot_mut(id)?.ctx.take()
    }

    /// Marks `id` as held by an async handler (`httpd_req_async_handler_begin`) or released
    /// (`httpd_req_async_handler_complete`). A held session is never an LRU victim.
    pub fn set_async_busy(&mut self, id: SessionId, busy: bool) -> Result<(), SessionError> {
        let slot = self.slot_mut(id).ok_or(SessionError::Unknown(id))?;
        slot.async_busy = busy;
        Ok(())
    }

    /// Whether an async handler holds `id`.
    pub fn is_async_busy(&self, id: SessionId) -> bool {
        self.slot(id).is_some_and(|slot| slot.async_busy)
    }

    /// Asks for `id` to be closed (`httpd_sess_trigger_close`): the adapter closes it at its
    /// next step, when [`Sessions::close_requested`] says so.
    ///
    /// ESP-IDF skips such a close when the session's LRU counter is 0 and it is not the LRU
    /// victim (a "race condition" guard that makes a session unclosable this way before the
    /// first request completes); tern always honours the request.
    pub fn trigger_close(&mut self, id: SessionId) -> Result<(), SessionError> {
        let slot = self.slot_mut(id).ok_or(SessionError::Unknown(id))?;
        slot.close_requested = true;
        Ok(())
    }

    /// Asks for every open session to be closed, as [`Sessions::trigger_close`] does for one.
    pub fn trigger_close_all(&mut self) {
        self.slots.as_mut().iter_mut().filter(|slot| slot.live).for_each(|slot| slot.close_requested = true);
    }

    /// Whether a close of `id` was requested.
    pub fn close_requested(&self, id: SessionId) -> bool {
        self.slot(id).is_some_and(|slot| slot.close_requested)
    }

    /// The open sessions, by slot (`httpd_get_client_list`).
    pub fn ids(&self) -> SessionIds<'_, C> {
        SessionIds { slots: self.usable().iter().enumerate() }
    }

    /// Writes the open sessions into `list` (`httpd_get_client_list`) and returns how many;
    /// an error, writing nothing, when `list` is too short.
    pub fn client_list(&self, list: &mut [SessionId]) -> Result<usize, SessionError> {
        if list.len() < self.len {
            return Err(SessionError::ClientListTooSmall { needed: self.len });
        }
        let mut written = 0;
        for (out, id) in list.iter_mut().zip(self.ids()) {
            *out = id;
            written += 1;
        }
        Ok(written)
    }

    fn usable(&self) -> &[SessionSlot<C>] {
        let slots = self.slots.as_ref();
        slots.get(..MAX_SLOTS).unwrap_or(slots)
    }

    fn live(&self) -> impl Iterator<Item = (usize, &SessionSlot<C>)> + '_ {
        self.usable().iter().enumerate().filter(|(_, slot)| slot.live)
    }

    fn slot(&self, id: SessionId) -> Option<&SessionSlot<C>> {
        self.usable().get(id.slot()).filter(|slot| slot.live && slot.generation == id.generation())
    }

    fn slot_mut(&mut self, id: SessionId) -> Option<&mut SessionSlot<C>> {
        self.slots.as_mut().get_mut(id.slot()).filter(|slot| slot.live && slot.generation == id.generation())
    }
}

fn id_of<C>(index: usize, slot: &SessionSlot<C>) -> SessionId {
    // `index < MAX_SLOTS`: the table only hands out slots it can name.
    SessionId::new(index as u16, slot.generation)
}

/// The open sessions of a table: [`Sessions::ids`].
#[derive(Debug)]
pub struct SessionIds<'a, C> {
    slots: core::iter::Enumerate<core::slice::Iter<'a, SessionSlot<C>>>,
}

// Manual impl: a derive would require `C: Clone`.
impl<C> Clone for SessionIds<'_, C> {
    fn clone(&self) -> Self {
        SessionIds { slots: self.slots.clone() }
    }
}

impl<C> Iterator for SessionIds<'_, C> {
    type Item = SessionId;

    fn next(&mut self) -> Option<SessionId> {
        self.slots.by_ref().find(|(_, slot)| slot.live).map(|(index, slot)| id_of(index, slot))
    }
}

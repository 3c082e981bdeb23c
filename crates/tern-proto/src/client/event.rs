//! Events: what happened, in ESP-IDF's order, to the client's handler and a process-wide sink.
//!
//! A [`Client`](crate::client::Client) reports each step of a request as an [`Event`] the
//! moment it happens, first to its own [`EventHandler`] and then, when one is installed, to the
//! process-wide [`DiagnosticSink`], which sees every client's events tagged with the client's
//! [`ClientId`] (ESP-IDF posts the same events to its default event loop for tools such as ESP
//! Insights). Event data borrows the engine's buffers; copy what you keep.
//!
//! For a keep-alive GET the order is: `OnConnected`, `HeadersSent`, `OnStatusCode`,
//! `OnHeader`..., `OnHeadersComplete`, `OnData`..., `OnFinish`. A closed connection adds
//! `Disconnected`; a failure gives `Error` (then `Disconnected` if the connection had to close).

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::error::ClientError;
use super::state::State;
use crate::status::StatusCode;

/// Identifies one client in the diagnostic sink. Unique within a process (it wraps after
/// 2^32 clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u32);

/// ESP-IDF's `esp_http_client_event_id_t`, with master's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EventId {
    /// `HTTP_EVENT_ERROR`.
    Error = 0,
    /// `HTTP_EVENT_ON_CONNECTED`.
    OnConnected = 1,
    /// `HTTP_EVENT_HEADERS_SENT`.
    HeadersSent = 2,
    /// `HTTP_EVENT_ON_HEADER`.
    OnHeader = 3,
    /// `HTTP_EVENT_ON_HEADERS_COMPLETE`.
    OnHeadersComplete = 4,
    /// `HTTP_EVENT_ON_STATUS_CODE`.
    OnStatusCode = 5,
    /// `HTTP_EVENT_ON_DATA`.
    OnData = 6,
    /// `HTTP_EVENT_ON_FINISH`.
    OnFinish = 7,
    /// `HTTP_EVENT_DISCONNECTED`.
    Disconnected = 8,
    /// `HTTP_EVENT_REDIRECT`.
    Redirect = 9,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind<'e> {
    /// A request failed (the error the operation returns).
    Error(ClientError),
    /// A new connection was established (not sent for a reused one).
    OnConnected,
    /// The request head was written.
    HeadersSent,
    /// One response header field, in the order received (a field repeated in the response
    /// gives one event per line, so every `Set-Cookie` is seen).
    OnHeader {
        /// The field name as received.
        name: &'e str,
        /// The field value, without surrounding whitespace.
        value: &'e [u8],
    },
    /// The response head was parsed.
    OnHeadersComplete,
    /// The status line was parsed.
    OnStatusCode(StatusCode),
    /// A piece of the decoded response body (also for redirect and 401 bodies that are
    /// drained before the next hop).
    OnData(&'e [u8]),
    /// The response body is complete (sent for every hop of a redirect or auth retry).
    OnFinish,
    /// The connection closed.
    Disconnected,
    /// A redirect response. With `disable_auto_redirect` this is the application's cue to
    /// call `set_redirection`; with automatic redirects only the diagnostic sink sees it.
    Redirect {
        /// The 3xx status.
        status: StatusCode,
    },
}

impl EventKind<'_> {
    /// ESP-IDF's event id.
    pub const fn id(&self) -> EventId {
        match self {
            EventKind::Error(_) => EventId::Error,
            EventKind::OnConnected => EventId::OnConnected,
            EventKind::HeadersSent => EventId::HeadersSent,
            EventKind::OnHeader { .. } => EventId::OnHeader,
            EventKind::OnHeadersComplete => EventId::OnHeadersComplete,
            EventKind::OnStatusCode(_) => EventId::OnStatusCode,
            EventKind::OnData(_) => EventId::OnData,
            EventKind::OnFinish => EventId::OnFinish,
            EventKind::Disconnected => EventId::Disconnected,
            EventKind::Redirect { .. } => EventId::Redirect,
        }
    }
}

/// One event, with the client it came from and the client's state when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'e> {
    /// The client.
    pub client: ClientId,
    /// [`Client::state`](crate::client::Client::state) at the moment of the event.
    pub state: State,
    /// What happened.
    pub kind: EventKind<'e>,
}

/// Receives a client's events (ESP-IDF's `event_handler`).
///
/// Closures `FnMut(&Event)` are handlers; [`NoEvents`] ignores everything.
///
/// ```
/// use tern_proto::client::{Event, EventHandler, EventKind};
/// let mut bytes = 0;
/// let mut handler = |event: &Event<'_>| {
///     if let EventKind::OnData(data) = event.kind {
///         bytes += data.len();
///     }
/// };
/// # fn take(_: impl EventHandler) {}
/// take(&mut handler);
/// ```
pub trait EventHandler {
    /// Called once per event, in order, while the engine works.
    fn on_event(&mut self, event: &Event<'_>);
}

impl<F: FnMut(&Event<'_>)> EventHandler for F {
    fn on_event(&mut self, event: &Event<'_>) {
        self(event)
    }
}

/// A handler that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl EventHandler for NoEvents {
    fn on_event(&mut self, _: &Event<'_>) {}
}

/// Receives every client's events in the process (ESP-IDF's default event loop).
pub trait DiagnosticSink: Sync {
    /// Called after the client's own handler, on the thread driving that client.
    fn on_event(&self, event: &Event<'_>);
}

/// Whether a sink is installed: read without a critical section on every event.
static SINK_INSTALLED: AtomicBool = AtomicBool::new(false);
static SINK: critical_section::Mutex<Cell<Option<&'static dyn DiagnosticSink>>> =
    critical_section::Mutex::new(Cell::new(None));
static NEXT_ID: critical_section::Mutex<Cell<u32>> = critical_section::Mutex::new(Cell::new(1));

/// Installs the process-wide diagnostic sink, replacing any other.
///
/// The binary must provide a `critical-section` implementation: tern-proto's `std` feature
/// turns on the one for hosts; on ESP32 the HAL provides one.
pub fn install_diagnostic_sink(sink: &'static dyn DiagnosticSink) {
    critical_section::with(|cs| SINK.borrow(cs).set(Some(sink)));
    SINK_INSTALLED.store(true, Ordering::Release);
}

/// Removes the process-wide diagnostic sink.
pub fn remove_diagnostic_sink() {
    SINK_INSTALLED.store(false, Ordering::Release);
    critical_section::with(|cs| SINK.borrow(cs).set(None));
}

/// A fresh client id.
pub(crate) fn next_client_id() -> ClientId {
    critical_section::with(|cs| {
        let cell = NEXT_ID.borrow(cs);
        let id = cell.get();
        cell.set(id.wrapping_add(1));
        ClientId(id)
    })
}

/// Sends an event to the handler, then to the sink if one is installed.
pub(crate) fn dispatch<H: EventHandler + ?Sized>(handler: &mut H, event: &Event<'_>) {
    handler.on_event(event);
    if SINK_INSTALLED.load(Ordering::Acquire)
        && let Some(sink) = critical_section::with(|cs| SINK.borrow(cs).get())
    {
        sink.on_event(event);
    }
}

//! Server events: ESP-IDF's `HTTP_SERVER_EVENT_*`, delivered to an optional process-wide sink.
//!
//! ESP-IDF posts `ESP_HTTP_SERVER_EVENT`s to its default event loop. tern's server pieces
//! report the same events, each tagged with the [`SessionId`] it concerns, to the
//! [`ServerDiagnosticSink`] installed with [`install_server_diagnostic_sink`] (when none is
//! installed an event costs one atomic load). The connection engine reports `OnHeader`,
//! `HeadersSent`, `OnData`, `SentData` and `Error`; the session table reports `OnConnected` and
//! `Disconnected`; the server core reports `Start` and `Stop`.

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::error_code::HttpdErrCode;

/// Identifies one session (one accepted connection) of one server. The slot index is in the
/// low 16 bits and a generation count above it, so an id is not reused as soon as its slot is
/// (ESP-IDF names sessions by socket descriptor, which the OS reuses at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u32);

impl SessionId {
    /// Builds an id from a slot index and a generation.
    pub const fn new(slot: u16, generation: u16) -> SessionId {
        SessionId(((generation as u32) << 16) | slot as u32)
    }

    /// The session table slot this id names.
    pub const fn slot(self) -> usize {
        (self.0 & 0xffff) as usize
    }

    /// How many times the slot had been used before this session.
    pub const fn generation(self) -> u16 {
        (self.0 >> 16) as u16
    }
}

/// `slot.generation`, for logs: `SessionId::new(2, 5)` shows as `2.5`.
///
/// ```
/// use tern_proto::server::SessionId;
/// assert_eq!(SessionId::new(2, 5).to_string(), "2.5");
/// ```
impl core::fmt::Display for SessionId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.slot(), self.generation())
    }
}

/// ESP-IDF's `esp_http_server_event_id_t`, with its numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ServerEventId {
    /// `HTTP_SERVER_EVENT_ERROR`.
    Error = 0,
    /// `HTTP_SERVER_EVENT_START`.
    Start = 1,
    /// `HTTP_SERVER_EVENT_ON_CONNECTED`.
    OnConnected = 2,
    /// `HTTP_SERVER_EVENT_ON_HEADER`.
    OnHeader = 3,
    /// `HTTP_SERVER_EVENT_HEADERS_SENT`.
    HeadersSent = 4,
    /// `HTTP_SERVER_EVENT_ON_DATA`.
    OnData = 5,
    /// `HTTP_SERVER_EVENT_SENT_DATA`.
    SentData = 6,
    /// `HTTP_SERVER_EVENT_DISCONNECTED`.
    Disconnected = 7,
    /// `HTTP_SERVER_EVENT_STOP`.
    Stop = 8,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEventKind {
    /// The server answered (or is about to answer) with an error status of its own.
    Error(HttpdErrCode),
    /// The server started.
    Start,
    /// A session was opened.
    OnConnected,
    /// A request head was parsed.
    OnHeader,
    /// A response head was sent.
    HeadersSent,
    /// Request body bytes were handed to a handler.
    OnData {
        /// How many.
        len: usize,
    },
    /// Response bytes were sent.
    SentData {
        /// How many.
        len: usize,
    },
    /// A session was closed.
    Disconnected,
    /// The server stopped.
    Stop,
}

impl ServerEventKind {
    /// ESP-IDF's event id.
    pub const fn id(&self) -> ServerEventId {
        match self {
            ServerEventKind::Error(_) => ServerEventId::Error,
            ServerEventKind::Start => ServerEventId::Start,
            ServerEventKind::OnConnected => ServerEventId::OnConnected,
            ServerEventKind::OnHeader => ServerEventId::OnHeader,
            ServerEventKind::HeadersSent => ServerEventId::HeadersSent,
            ServerEventKind::OnData { .. } => ServerEventId::OnData,
            ServerEventKind::SentData { .. } => ServerEventId::SentData,
            ServerEventKind::Disconnected => ServerEventId::Disconnected,
            ServerEventKind::Stop => ServerEventId::Stop,
        }
    }
}

/// One server event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerEvent {
    /// The session it concerns (`None` for `Start` and `Stop`).
    pub session: Option<SessionId>,
    /// What happened.
    pub kind: ServerEventKind,
}

/// Receives every server's events in the process (ESP-IDF's default event loop).
pub trait ServerDiagnosticSink: Sync {
    /// Called on the thread or task driving the server piece that produced the event.
    fn on_event(&self, event: &ServerEvent);
}

static SINK_INSTALLED: AtomicBool = AtomicBool::new(false);
static SINK: critical_section::Mutex<Cell<Option<&'static dyn ServerDiagnosticSink>>> =
    critical_section::Mutex::new(Cell::new(None));

/// Installs the process-wide server diagnostic sink, replacing any other.
///
/// The binary must provide a `critical-section` implementation: tern-proto's `std` feature
/// turns on the one for hosts; on ESP32 the HAL provides one.
pub fn install_server_diagnostic_sink(sink: &'static dyn ServerDiagnosticSink) {
    critical_section::with(|cs| SINK.borrow(cs).set(Some(sink)));
    SINK_INSTALLED.store(true, Ordering::Release);
}

/// Removes the process-wide server diagnostic sink.
pub fn remove_server_diagnostic_sink() {
    SINK_INSTALLED.store(false, Ordering::Release);
    critical_section::with(|cs| SINK.borrow(cs).set(None));
}

/// Reports an event to the sink, if one is installed.
pub(crate) fn report(session: Option<SessionId>, kind: ServerEventKind) {
    if SINK_INSTALLED.load(Ordering::Acquire)
        && let Some(sink) = critical_section::with(|cs| SINK.borrow(cs).get())
    {
        sink.on_event(&ServerEvent { session, kind });
    }
}

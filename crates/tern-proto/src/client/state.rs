//! The client states of ESP-IDF's `esp_http_state_t`, with its numbering.

/// Where a client is in its request cycle, as ESP-IDF's `esp_http_client_get_state` reports it.
///
/// The numbering is ESP-IDF's. `RES_COMPLETE_DATA` (8) and `CLOSE` (9) are defined but never
/// entered there, so they are not here. The transitions are drawn in the [module
/// docs](crate::client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum State {
    /// Not created. A [`Client`](crate::client::Client) is never in this state; it exists for
    /// code that mirrors ESP-IDF's numbering.
    Uninit = 0,
    /// Created, or the connection closed: the next request connects.
    Init = 1,
    /// A connect is in progress (observable only when the adapter's connect does not block).
    Connecting = 2,
    /// Connected and idle, or writing the request head; also the parked state between
    /// keep-alive requests.
    Connected = 3,
    /// The request head was written; the body is being written.
    ReqCompleteHeader = 4,
    /// The request was written; the response head is awaited.
    ReqCompleteData = 5,
    /// The response head was parsed.
    ResCompleteHeader = 6,
    /// The response body is being read.
    ResOnDataStart = 7,
}

impl State {
    /// ESP-IDF's numeric value.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

//! The engines' clock on embassy: embassy-time's, in the whole milliseconds tern-proto's
//! `Instant` counts, and waits bounded by an engine deadline. Shared by the client and the
//! server.

use embassy_time::{Instant as EmbassyInstant, TimeoutError, with_deadline};
use tern_proto::Instant;

/// The engine's clock: embassy-time's, in milliseconds.
pub(crate) fn now() -> Instant {
    Instant::from_millis(EmbassyInstant::now().as_millis())
}

/// Waits for `future`, or until `deadline` (an engine instant) passes.
pub(crate) async fn until<F: core::future::Future>(
    deadline: Option<Instant>,
    future: F,
) -> Result<F::Output, TimeoutError> {
    match deadline {
        None => Ok(future.await),
        Some(at) => with_deadline(EmbassyInstant::from_millis(at.as_millis()), future).await,
    }
}

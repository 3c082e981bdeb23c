//! Message heads: parsed views that borrow the input, and reprs that write heads.
//!
//! Parsing is done by httparse; this module adds what httparse leaves to its caller:
//! [`Limits`](crate::Limits) enforced on partial input as well as complete input, precise
//! errors ([`RemoteError`](crate::RemoteError)) instead of httparse's coarse kinds, and 505 for
//! well-formed versions other than 1.0 and 1.1.
//!
//! ## Same answer for any split
//!
//! A caller appends received bytes to its buffer and parses again until the head is
//! complete. However TCP splits the stream, the first non-[`Parse::Partial`] answer is the
//! same as the answer for the whole input. For errors this needs care: a limit check and a
//! syntax check can both fail, at different places. tern reports the one that fails first in
//! stream order, locating httparse's failure by searching for the shortest failing prefix
//! (only on the error path, so valid input pays nothing for it).

mod classify;
mod repr;
mod request;
mod response;

pub use repr::{RequestRepr, ResponseRepr};
pub use request::RequestHead;
pub use response::ResponseHead;

/// The outcome of parsing a head from what has arrived so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<T> {
    /// The whole head was parsed: the value and, with it, the head's length in bytes.
    Complete(T),
    /// The head is not complete yet and nothing is wrong so far: read more and parse again.
    Partial,
}

impl<T> Parse<T> {
    /// The parsed value, if complete.
    pub fn complete(self) -> Option<T> {
        match self {
            Parse::Complete(t) => Some(t),
            Parse::Partial => None,
        }
    }

    /// True when complete.
    pub fn is_complete(&self) -> bool {
        matches!(self, Parse::Complete(_))
    }
}

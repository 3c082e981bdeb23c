//! Time as the engines see it: an input, never read from a clock.
//!
//! An [`Instant`] is a count of milliseconds since an epoch the adapter chooses (its own start,
//! the chip's boot, ...). The engines only compare instants and add durations to them, so any
//! monotonic clock works; adapters turn `std::time::Instant`, `tokio::time::Instant` or
//! `embassy_time::Instant` into one with [`Instant::from_millis`].

use core::time::Duration;

/// A point in monotonic time, in milliseconds since an epoch chosen by the adapter.
///
/// ```
/// use core::time::Duration;
/// use tern_proto::Instant;
/// let start = Instant::from_millis(1_000);
/// let deadline = start + Duration::from_millis(5_000);
/// assert_eq!(deadline.as_millis(), 6_000);
/// assert_eq!(deadline.saturating_duration_since(start), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Instant {
        Instant(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The instant `millis` milliseconds later, saturating at the far future.
    pub const fn after_millis(self, millis: u32) -> Instant {
        Instant(self.0.saturating_add(millis as u64))
    }

    /// How long after `earlier` this instant is; zero if it is not after it.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;

    /// Adds whole milliseconds, saturating at the far future.
    fn add(self, rhs: Duration) -> Instant {
        let millis = u64::try_from(rhs.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(millis))
    }
}

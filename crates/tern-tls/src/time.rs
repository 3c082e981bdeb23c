//! Clocks for certificate validity checks. With `std`, rustls reads the system clock; without
//! it, the firmware says what time it is (from SNTP, an RTC, or a build timestamp as a floor).

use rustls::time_provider::TimeProvider;
use rustls_pki_types::UnixTime;

/// A [`TimeProvider`] backed by a function, for `no_std` targets.
///
/// ```
/// use tern_tls::TimeFn;
/// use rustls_pki_types::UnixTime;
/// use core::time::Duration;
/// fn now() -> Option<UnixTime> {
///     // An SNTP-synchronised clock on a device; here, a fixed instant.
///     Some(UnixTime::since_unix_epoch(Duration::from_secs(1_795_000_000)))
/// }
/// let clock = TimeFn(now);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TimeFn(pub fn() -> Option<UnixTime>);

impl TimeProvider for TimeFn {
    fn current_time(&self) -> Option<UnixTime> {
        (self.0)()
    }
}

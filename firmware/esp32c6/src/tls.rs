//! TLS for the https client: tern-tls (rustls on ring) with the two things a `no_std` device
//! must supply itself, randomness and the time.
//!
//! - **Randomness.** ring reads it through getrandom 0.2's custom backend, registered here with
//!   the hardware RNG. It is a true RNG only while an entropy source runs (the radio, here), so
//!   the hook refuses when none does: a handshake then fails instead of using weak randomness.
//! - **Time.** Certificate validity needs the current time; until an SNTP client sets the
//!   clock, the firmware claims a fixed floor: `SOURCE_DATE_EPOCH` at build time, else the
//!   date in [`DEFAULT_FLOOR`]. A floor in the past never refuses a valid certificate, but
//!   accepts one that expired between the floor and now.

use alloc::sync::Arc;
use core::num::NonZeroU32;
use core::time::Duration;

use esp_hal::rng::Trng;
use tern_tls::pki_types::UnixTime;
use tern_tls::{ClientTls, TimeFn, TlsBufferLayout, TlsConfig, TlsError};

/// A session's buffer layout: full-size records in, records of at most 4 KiB out
/// (37,189 bytes per session instead of 49,482).
pub const LAYOUT: TlsBufferLayout = TlsBufferLayout::with_outgoing_record(4096);

/// The clock's floor when the build does not set `SOURCE_DATE_EPOCH`: 2026-04-01T00:00:00Z.
const DEFAULT_FLOOR: u64 = 1_775_001_600;

/// Seconds since the Unix epoch this firmware assumes it is at least.
const FLOOR: u64 = match option_env!("SOURCE_DATE_EPOCH") {
    Some(secs) => parse_secs(secs),
    None => DEFAULT_FLOOR,
};

/// The client configuration: Mozilla's roots, TLS 1.2 and 1.3, SNI, ring, [`now`] as clock.
pub fn client_tls() -> Result<ClientTls, TlsError> {
    ClientTls::builder(&TlsConfig::default()).time_provider(Arc::new(TimeFn(now))).layout(LAYOUT).build()
}

/// The time for certificate checks. REPLACED BY an SNTP-backed clock later.
fn now() -> Option<UnixTime> {
    Some(UnixTime::since_unix_epoch(Duration::from_secs(FLOOR)))
}

/// getrandom's custom backend for ring: the hardware RNG, only while it is a true RNG.
fn hardware_random(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    /// Returned when no entropy source runs (getrandom's first custom error code).
    const NO_ENTROPY: u32 = getrandom::Error::CUSTOM_START;
    match Trng::try_new() {
        Ok(trng) => {
            trng.read(buf);
            Ok(())
        }
        Err(_) => Err(NonZeroU32::new(NO_ENTROPY).map_or(getrandom::Error::UNSUPPORTED, getrandom::Error::from)),
    }
}

getrandom::register_custom_getrandom!(hardware_random);

/// Parses decimal seconds at compile time (a malformed value fails the build).
const fn parse_secs(s: &str) -> u64 {
    let bytes = s.as_bytes();
    assert!(!bytes.is_empty(), "SOURCE_DATE_EPOCH is empty");
    let mut value: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i];
        assert!(digit.is_ascii_digit(), "SOURCE_DATE_EPOCH is not a number of seconds");
        value = value * 10 + (digit - b'0') as u64;
        i += 1;
    }
    value
}

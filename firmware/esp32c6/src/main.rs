//! tern on an ESP32-C6: bring-up, Wi-Fi station, an embassy-net stack with DHCPv4 and DNS,
//! then the application's two tasks (`app::server`, `app::client`). `tls` holds the TLS client
//! configuration (rustls on ring, the hardware RNG, a clock).
//!
//! Wi-Fi credentials are compiled in: `SSID=... PASSWORD=... cargo build --release`. Without
//! them the firmware still builds (CI does that) and tries to join an open network called
//! `tern`.

#![no_std]
#![no_main]

extern crate alloc;

mod app;
mod tls;

/// Heap for the Wi-Fi driver (station: 47-57 KiB by esp-radio's measurements) and rustls
/// (about 6 KB per session and its configuration with Mozilla's roots; the TLS session's
/// buffer is a static). The rest of RAM is the stack, which the TLS handshake's public-key
/// arithmetic needs a good part of: 128 KiB leaves it about 93 KiB.
const HEAP_RECLAIMED: usize = 64 * 1024;
const HEAP_MAIN: usize = 128 * 1024;

/// embassy-net's socket slots: DHCP, DNS, one per server session ([`app::SESSIONS`]) and
/// the two clients' sockets (http and https). smoltcp's socket set is fixed: one slot too few panics
/// when the last socket is created.
const SOCKETS: usize = 2 + app::SESSIONS + 2;

// Bring-up (heap, scheduler, Wi-Fi station, embassy-net with DHCPv4 and DNS) and the tasks,
// the same on both chips.
include!("../../common/board.rs");

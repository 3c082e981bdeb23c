//! tern on an ESP32-C3: bring-up, Wi-Fi station, an embassy-net stack with DHCPv4 and DNS,
//! then the application's two tasks (`app::server`, `app::client`).
//!
//! Wi-Fi credentials are compiled in: `SSID=... PASSWORD=... cargo build --release`. Without
//! them the firmware still builds (CI does that) and tries to join an open network called
//! `tern`.

#![no_std]
#![no_main]

extern crate alloc;

mod app;

/// Heap for the Wi-Fi driver (station: 47-57 KiB by esp-radio's measurements) and the
/// application.
const HEAP_RECLAIMED: usize = 64 * 1024;
const HEAP_MAIN: usize = 48 * 1024;

/// embassy-net's socket slots: DHCP, DNS, one per server session ([`app::SESSIONS`]) and
/// the client's socket. smoltcp's socket set is fixed: one slot too few panics
/// when the last socket is created.
const SOCKETS: usize = 2 + app::SESSIONS + 1;

// Bring-up (heap, scheduler, Wi-Fi station, embassy-net with DHCPv4 and DNS) and the tasks,
// the same on both chips.
include!("../../common/board.rs");

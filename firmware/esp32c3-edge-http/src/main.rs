//! The ESP32-C3 firmware of `firmware/esp32c3` with edge-http in tern's place, for the
//! footprint comparison in docs/footprint.md: the same bring-up, Wi-Fi station and
//! embassy-net stack (`../../common/board.rs`), the same heap and socket slots, then the
//! application's two tasks (`app::server`, `app::client`) on edge-http.
//!
//! Wi-Fi credentials are compiled in: `SSID=... PASSWORD=... cargo build --release`. Without
//! them the firmware still builds (CI does that) and tries to join an open network called
//! `tern`.

#![no_std]
#![no_main]

extern crate alloc;

mod app;

/// Heap for the Wi-Fi driver (station: 47-57 KiB by esp-radio's measurements) and the
/// application: the same as firmware/esp32c3.
const HEAP_RECLAIMED: usize = 64 * 1024;
const HEAP_MAIN: usize = 48 * 1024;

/// embassy-net's socket slots: DHCP, DNS, one per server handler task ([`app::SESSIONS`])
/// and the client's socket, as firmware/esp32c3 has them.
const SOCKETS: usize = 2 + app::SESSIONS + 1;

// Bring-up (heap, scheduler, Wi-Fi station, embassy-net with DHCPv4 and DNS) and the tasks,
// the same as the tern firmware's.
include!("../../common/board.rs");

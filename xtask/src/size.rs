//! `cargo xtask size`: what tern costs on the ESP32-C3 and ESP32-C6, and tern beside
//! edge-http on the ESP32-C3, written to `docs/footprint.md`.
//!
//! 1. Builds the firmware projects in release ([`crate::firmware::build`]): tern's C3 and C6
//!    firmware, and the C3 firmware with edge-http in tern's place.
//! 2. Reads each ELF's sections with `llvm-size -A`: flash is `.text`, `.rodata*`,
//!    `.flash.appdesc` and the load images of `.data*`, `.rwtext*` and `.trap`; static RAM is
//!    `.data*`, `.bss`, `.rwtext*` and `.trap`.
//! 3. Splits `.text` by crate twice: by symbol with cargo-bloat (`--crates`, installed when
//!    missing), and by source line with the DWARF line table (`llvm-dwarfdump --debug-line`),
//!    which also finds tern's code where LTO inlined it into other crates' functions. Code
//!    from core inlined into a function counts for that function's crate.
//! 4. Measures tern's types and futures on riscv32: a probe crate generated in
//!    `target/size-probe` holds one zeroed `static TERN_SIZE_*: [u8; size_of::<T>()]` per
//!    figure, is built as an rlib for riscv32imc and riscv32imac (with TLS), and `llvm-nm`
//!    reads the statics' sizes back. A future's size comes from the async fn's item type
//!    (`const fn` over `F: FnOnce(..) -> R`, then `size_of::<R>()`), so nothing runs. A
//!    second probe crate, `target/size-probe-edge`, measures the edge-http firmware's types
//!    the same way (`EDGE_SIZE_*`, riscv32imc).
//! 5. Writes `docs/footprint.md`; two runs differ only in the date.
//!
//! Needs llvm (llvm-size, llvm-nm, llvm-dwarfdump) and, for the C6, clang and newlib's
//! headers (Debian packages llvm, clang, libnewlib-dev).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::cmd::{Cmd, Error, Result, display_path, format_duration, root, thousands};
use crate::firmware::{FIRMWARE, Firmware};
use crate::steps::Steps;

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str = "cargo xtask size";

/// What `size` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str =
    "build the ESP32 firmware and write docs/footprint.md: flash and RAM, tern's share, type sizes";

/// The generated document, relative to the repository root.
const DOC: &str = "docs/footprint.md";

/// ESP-IDF's default `max_open_sockets`: the sessions the firmware serves at once.
const SESSIONS: u64 = 7;

/// tern's crates. `tern_tls` is counted with TLS.
const TERN: [&str; 3] = ["tern_proto", "tern_embassy", "tern_embassy_examples"];
/// Crates only tern links in: its parser, and the hashes and encoding of Digest auth and the
/// WebSocket handshake (`sha2` is also a dependency of esp-bootloader-esp-idf, for partition
/// hashes the firmware never calls).
const TERN_DEPS: [&str; 9] =
    ["httparse", "sha1", "sha2", "md5", "base64", "digest", "block_buffer", "crypto_common", "hybrid_array"];
/// The comparison firmware's HTTP stack: edge-http, edge-nal (its I/O traits and timeouts),
/// edge-nal-embassy (the embassy-net glue, tern-embassy's `net` module's counterpart), and the
/// example handlers and GET (`edge_http_examples`, as `tern_embassy_examples` for tern).
const EDGE: [&str; 4] = ["edge_http", "edge_nal", "edge_nal_embassy", "edge_http_examples"];
/// Crates only edge-http links in: its parser, and the WebSocket handshake's encoding and hash
/// (heapless is embassy-net's too, so it counts as platform).
const EDGE_DEPS: [&str; 3] = ["httparse", "base64", "sha1_smol"];
/// TLS: tern-tls and what it links in (rustls on ring, webpki, the roots).
const TLS: [&str; 9] =
    ["tern_tls", "rustls", "ring", "webpki", "webpki_roots", "rustls_pki_types", "untrusted", "subtle", "zeroize"];
/// The standard library's crates (cargo-bloat reports them together as `std`).
const STD: [&str; 6] = ["std", "core", "alloc", "compiler_builtins", "panic_abort", "rustc_demangle"];

/// The crates whose versions the header lists, from the firmware's `Cargo.lock`.
const VERSIONED: [&str; 10] = [
    "esp-hal",
    "esp-radio",
    "esp-rtos",
    "embassy-executor",
    "embassy-net",
    "smoltcp",
    "httparse",
    "rustls",
    "ring",
    "webpki-roots",
];

/// The crates whose versions the comparison with edge-http lists, from its firmware's
/// `Cargo.lock`.
const EDGE_VERSIONED: [&str; 4] = ["edge-http", "edge-nal", "edge-nal-embassy", "httparse"];

/// A firmware's sections before tern: the bring-up stand-ins (plain `TcpSocket` code),
/// measured with `llvm-size -A` and recorded in `firmware/README.md`.
struct Baseline {
    text: u64,
    rodata: u64,
    rwtext: u64,
    data: u64,
    bss: u64,
}

/// The ESP32-C3's stand-ins: tern's C3 firmware and the edge-http one share the bring-up.
const C3_BASELINE: Baseline = Baseline { text: 421_856, rodata: 80_776, rwtext: 39_676, data: 7_272, bss: 73_744 };

/// What this command knows about each firmware project besides [`Firmware`].
struct Chip {
    bin: &'static str,
    name: &'static str,
    /// Whether the firmware links TLS.
    tls: bool,
    baseline: Baseline,
    /// The HTTP stack's name, its crates (the example handlers and GET included) and the
    /// crates only it links in.
    stack: &'static str,
    stack_crates: &'static [&'static str],
    stack_deps: &'static [&'static str],
    /// The crate of the example handlers and GET, among `stack_crates`.
    examples: &'static str,
}

/// The firmware tern runs on.
const CHIPS: [Chip; 2] = [
    Chip {
        bin: "tern-esp32c3",
        name: "ESP32-C3",
        tls: false,
        baseline: C3_BASELINE,
        stack: "tern",
        stack_crates: &TERN,
        stack_deps: &TERN_DEPS,
        examples: "tern_embassy_examples",
    },
    Chip {
        bin: "tern-esp32c6",
        name: "ESP32-C6",
        tls: true,
        baseline: Baseline { text: 898_644, rodata: 216_420, rwtext: 63_812, data: 11_476, bss: 225_504 },
        stack: "tern",
        stack_crates: &TERN,
        stack_deps: &TERN_DEPS,
        examples: "tern_embassy_examples",
    },
];

/// The ESP32-C3 firmware with edge-http in tern's place, set beside tern's.
const EDGE_C3: Chip = Chip {
    bin: "edge-http-esp32c3",
    name: "ESP32-C3, edge-http",
    tls: false,
    baseline: C3_BASELINE,
    stack: "edge-http",
    stack_crates: &EDGE,
    stack_deps: &EDGE_DEPS,
    examples: "edge_http_examples",
};

/// One figure the probe crate measures: the static's name (after `TERN_SIZE_`), the
/// expression giving its length, whether it needs TLS (riscv32imac only), and the table row.
struct Probe {
    name: &'static str,
    expr: &'static str,
    tls: bool,
    what: &'static str,
}

/// Every figure the probe measures, in the order the document lists them.
const PROBES: &[Probe] = &[
    Probe {
        name: "PROTO_CLIENT",
        expr: "size_of::<tern_proto::client::Client<'static, &'static mut [u8], NoEvents>>()",
        tls: false,
        what: "`tern_proto::client::Client<&mut [u8], NoEvents>`: the client engine (its buffer is the caller's)",
    },
    Probe {
        name: "PROTO_CONNECTION",
        expr: "size_of::<tern_proto::server::Connection<&'static mut [u8]>>()",
        tls: false,
        what: "`tern_proto::server::Connection<&mut [u8]>`: one server session's engine (its buffer is the caller's)",
    },
    Probe {
        name: "TLS_SESSION",
        expr: "size_of::<tern_tls::TlsSession<&'static mut [u8]>>()",
        tls: true,
        what: "`tern_tls::TlsSession<&mut [u8]>`: a TLS session, rustls' state included (its buffer is the caller's)",
    },
    Probe {
        name: "CLIENT_TLS",
        expr: "size_of::<tern_tls::ClientTls>()",
        tls: true,
        what: "`tern_tls::ClientTls`: the client's TLS configuration (an `Arc` of rustls' config)",
    },
    Probe {
        name: "EMBASSY_CLIENT",
        expr: "size_of::<EmbassyClient>()",
        tls: false,
        what: "`tern_embassy::client::Client<TcpTransport, NoEvents>`: engine, transport (with TLS: the session too)",
    },
    Probe {
        name: "TCP_TRANSPORT",
        expr: "size_of::<TcpTransport<'static>>()",
        tls: false,
        what: "`tern_embassy::net::TcpTransport`: the stack and the socket buffers' slices",
    },
    Probe {
        name: "PERFORM",
        expr: "returns1::<&'static mut EmbassyClient, _, _>(&EmbassyClient::perform)",
        tls: false,
        what: "`Client::perform` future",
    },
    Probe {
        name: "FETCH",
        expr: "returns2::<&'static mut EmbassyClient, &'static mut [u8], _, _>(&fetch::fetch::<TcpTransport<'static>, NoEvents>)",
        tls: false,
        what: "`tern_embassy_examples::fetch::fetch` future (open, headers, read, close): the C6's https GET",
    },
    Probe {
        name: "GET",
        expr: "returns4::<&'static str, &'static mut [u8], TcpTransport<'static>, &'static mut [u8], _, _>(&fetch::get::<TcpTransport<'static>>)",
        tls: false,
        what: "`tern_embassy_examples::fetch::get` future (builds the client, then `fetch`): the firmware's http GET",
    },
    Probe {
        name: "REQUEST",
        expr: "size_of::<Request<'static, &'static mut TcpSocket<'static>>>()",
        tls: false,
        what: "`tern_embassy::server::Request<&mut TcpSocket>`: engine state and the response head being built",
    },
    Probe {
        name: "SERVE_FIRMWARE",
        expr: "returns3::<&'static FirmwareServer, Stack<'static>, &'static mut DefaultSessionBuffers, _, _>(&FirmwareServer::serve::<ENGINE, SOCKET, SOCKET>)",
        tls: false,
        what: "`Server::serve` future, the firmware's: `advanced_tests` handlers (`/echo` holds a 2 KiB body)",
    },
    Probe {
        name: "SERVE_STATIC",
        expr: "returns3::<&'static StaticServer, Stack<'static>, &'static mut DefaultSessionBuffers, _, _>(&StaticServer::serve::<ENGINE, SOCKET, SOCKET>)",
        tls: false,
        what: "`Server::serve` future with a handler that sends a static page",
    },
    Probe {
        name: "SERVER_FIRMWARE",
        expr: "size_of::<FirmwareServer>()",
        tls: false,
        what: "`Server<AdvancedTests, _, 7, 9>`: the firmware's tables (routes, sessions), shared by every session",
    },
    Probe {
        name: "SESSION_BUFFERS",
        expr: "size_of::<DefaultSessionBuffers>()",
        tls: false,
        what: "`DefaultSessionBuffers`: engine buffer and socket buffers of one session",
    },
    Probe {
        name: "ENGINE_BUFFER",
        expr: "tern_proto::server::ServerConfig::DEFAULT.buffer_len()",
        tls: false,
        what: "`ServerConfig::DEFAULT.buffer_len()`: a session's engine buffer at ESP-IDF's limits",
    },
    Probe {
        name: "SOCKET_BUFFER",
        expr: "tern_embassy::server::DEFAULT_SOCKET_BUFFER_LEN",
        tls: false,
        what: "`DEFAULT_SOCKET_BUFFER_LEN`: each of a session's socket buffers",
    },
    Probe {
        name: "STACK_SLOT",
        expr: "size_of::<embassy_net::StackResources<2>>() - size_of::<embassy_net::StackResources<1>>()",
        tls: false,
        what: "one socket's slot in embassy-net's `StackResources`",
    },
    Probe {
        name: "TLS_BUFFER",
        expr: "tern_tls::TlsBufferLayout::with_outgoing_record(4096).buffer_len()",
        tls: true,
        what: "the C6 client's TLS buffer: full-size records in, 4 KiB records out",
    },
];

/// What both probe crates define after their `use` lines: the `returnsN` helpers that size a
/// function's return type (for an async fn, its future) and the `size!` macro.
const PROBE_HELPERS: &str = r#"
/// The size of what `f` returns when called (for an async fn, its future).
const fn returns1<A, R, F: FnOnce(A) -> R>(_: &F) -> usize {
    size_of::<R>()
}
const fn returns2<A, B, R, F: FnOnce(A, B) -> R>(_: &F) -> usize {
    size_of::<R>()
}
const fn returns3<A, B, C, R, F: FnOnce(A, B, C) -> R>(_: &F) -> usize {
    size_of::<R>()
}
const fn returns4<A, B, C, D, R, F: FnOnce(A, B, C, D) -> R>(_: &F) -> usize {
    size_of::<R>()
}
const fn returns5<A, B, C, D, E, R, F: FnOnce(A, B, C, D, E) -> R>(_: &F) -> usize {
    size_of::<R>()
}

macro_rules! size {
    ($name:ident = $size:expr) => {
        #[unsafe(no_mangle)]
        #[used]
        pub static $name: [u8; $size] = [0; $size];
    };
}
"#;

/// The probe crate's source, before the `size!` lines.
const PROBE_PRELUDE: &str = r#"//! Generated by `cargo xtask size` (xtask/src/size.rs); rewritten on every run.
//!
//! Each `TERN_SIZE_*` static is a zeroed array as long as the figure it is named after, so
//! the figures are the statics' sizes in the object file (`llvm-nm --print-size`). A
//! future's size comes from the async fn's item type: nothing here is ever called.
#![no_std]
#![allow(dead_code)]

use core::mem::size_of;

use embassy_net::Stack;
use embassy_net::tcp::TcpSocket;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use tern_embassy::net::TcpTransport;
use tern_embassy::server::{DefaultSessionBuffers, Handler, HandlerResult, Request, Server, Stream};
use tern_embassy_examples::advanced_tests::AdvancedTests;
use tern_embassy_examples::fetch;
use tern_proto::client::NoEvents;

"#;

/// The rest of the probe crate's source, after [`PROBE_HELPERS`].
const PROBE_TYPES: &str = r#"
/// A handler that sends a static page, for the smallest `serve` future.
#[derive(Clone, Copy)]
pub enum Page {
    Hello,
}
pub struct StaticPage;
impl Handler for StaticPage {
    type Route = Page;
    async fn handle(&self, _route: Page, req: &mut Request<'_, impl Stream>) -> HandlerResult {
        req.send(b"Hello World!").await
    }
}

/// The firmware's server (firmware/*/src/app.rs): 7 sessions, 9 routes.
type FirmwareServer = Server<AdvancedTests<CriticalSectionRawMutex, 7>, CriticalSectionRawMutex, 7, 9>;
type StaticServer = Server<StaticPage, CriticalSectionRawMutex, 7, 9>;
type EmbassyClient = tern_embassy::client::Client<'static, TcpTransport<'static>, NoEvents>;
const ENGINE: usize = tern_embassy::server::DEFAULT_ENGINE_LEN;
const SOCKET: usize = tern_embassy::server::DEFAULT_SOCKET_BUFFER_LEN;

"#;

/// What the edge-http probe measures: the comparison firmware's types
/// (firmware/esp32c3-edge-http/src/app.rs), as [`PROBES`] does tern's.
const EDGE_PROBES: &[Probe] = &[
    Probe {
        name: "SERVER",
        expr: "size_of::<AppServer>()",
        tls: false,
        what: "`edge_http::io::server::Server<7, 2048, 64>`: the 7 handler tasks' buffers",
    },
    Probe {
        name: "BUFFER",
        expr: "advanced_tests::BUF_SIZE",
        tls: false,
        what: "a handler task's buffer (`DEFAULT_BUF_SIZE`): the request head and the body bytes read with it",
    },
    Probe {
        name: "SOCKET_BUFFER",
        expr: "advanced_tests::SOCKET_BUFFER",
        tls: false,
        what: "each of a handler task's socket buffers (tern's size)",
    },
    Probe {
        name: "SOCKET_SLOT",
        expr: "size_of::<SocketBuffers<2>>() - size_of::<SocketBuffers<1>>()",
        tls: false,
        what: "one slot of edge-nal-embassy's `TcpBuffers` pool: both socket buffers and the slot's flag",
    },
    Probe {
        name: "RUN",
        expr: "returns4::<&'static mut AppServer, Option<u32>, Acceptor, Handlers, _, _>(&AppServer::run::<Acceptor, Handlers>)",
        tls: false,
        what: "`Server::run` future, the firmware's: 7 handler tasks (accept, then `handle_connection`) and `select_slice` over them",
    },
    Probe {
        name: "TASK",
        expr: "returns5::<&'static Acceptor, &'static mut [u8; advanced_tests::BUF_SIZE], &'static Handlers, Option<u32>, usize, _, _>(&task)",
        tls: false,
        what: "one handler task's loop (accept, then `handle_connection`), rebuilt as an async fn as `Server::run` writes it",
    },
    Probe {
        name: "ACCEPT",
        expr: "returns1::<&'static Acceptor, _, _>(&<Acceptor as edge_nal::TcpAccept>::accept)",
        tls: false,
        what: "`accept` future (`WithTimeout<edge_nal_embassy::TcpAccept>`): it holds the socket it listens with",
    },
    Probe {
        name: "HANDLE_CONNECTION",
        expr: "returns5::<Socket, &'static mut [u8], Option<u32>, usize, &'static Handlers, _, _>(&handle_connection::<&'static Handlers, Socket, HEADERS>)",
        tls: false,
        what: "`handle_connection` future: one connection's requests, the socket included",
    },
    Probe {
        name: "HANDLE_REQUEST",
        expr: "returns4::<&'static mut [u8], &'static mut Socket, usize, &'static Handlers, _, _>(&handle_request::<&'static Handlers, &'static mut Socket, HEADERS>)",
        tls: false,
        what: "`handle_request` future: the `Connection` (64 header slots of 16 bytes) and the handler's future",
    },
    Probe {
        name: "HANDLER",
        expr: "returns3::<&'static Handlers, usize, &'static mut Connection<'static, &'static mut Socket, HEADERS>, _, _>(&<Handlers as Handler>::handle::<&'static mut Socket, HEADERS>)",
        tls: false,
        what: "the handler's future (`AdvancedTests::handle`; `/echo` holds a 2 KiB body, as tern's)",
    },
    Probe {
        name: "GET",
        expr: "returns5::<&'static str, &'static ClientTcp, &'static Dns<'static>, &'static mut [u8], &'static mut [u8], _, _>(&fetch::get::<ClientTcp, Dns<'static>>)",
        tls: false,
        what: "`edge_http_examples::fetch::get` future (resolve, connect, GET, read, close): the firmware's GET",
    },
];

/// The edge-http probe crate's source, before the `size!` lines.
const EDGE_PROBE_PRELUDE: &str = r#"//! Generated by `cargo xtask size` (xtask/src/size.rs); rewritten on every run.
//!
//! The edge-http comparison firmware's types, measured as tern's are in ../size-probe: each
//! `EDGE_SIZE_*` static is a zeroed array as long as the figure it is named after.
#![no_std]
#![allow(dead_code)]

use core::mem::size_of;

use edge_http::io::server::{Connection, Handler, handle_connection, handle_request};
use edge_http_examples::advanced_tests::{self, AdvancedTests, AppServer};
use edge_http_examples::fetch;
use edge_nal::WithTimeout;
use edge_nal_embassy::{Dns, Tcp, TcpAccept, TcpBuffers, TcpSocket};

"#;

/// The rest of the edge-http probe crate's source, after [`PROBE_HELPERS`].
const EDGE_PROBE_TYPES: &str = r#"
/// The firmware's types (firmware/esp32c3-edge-http/src/app.rs).
type Handlers = AdvancedTests<{ advanced_tests::SESSIONS }>;
type Acceptor = WithTimeout<TcpAccept<'static>>;
type Socket = WithTimeout<TcpSocket<'static>>;
type ClientTcp = WithTimeout<Tcp<'static>>;
type SocketBuffers<const N: usize> = TcpBuffers<N, { advanced_tests::SOCKET_BUFFER }, { advanced_tests::SOCKET_BUFFER }>;
const HEADERS: usize = advanced_tests::MAX_HEADERS;

/// One of `Server::run`'s handler tasks (edge-http 0.8.0, src/io/server.rs), as an async fn
/// whose future can be named: `run` keeps its tasks in an async block each.
async fn task(
    acceptor: &'static Acceptor,
    buf: &'static mut [u8; advanced_tests::BUF_SIZE],
    handler: &'static Handlers,
    keepalive_timeout_ms: Option<u32>,
    task_id: usize,
) -> Result<(), edge_http::io::Error<<Acceptor as edge_nal::TcpAccept>::Error>> {
    use edge_nal::TcpAccept as _;
    loop {
        let io = acceptor.accept().await.map_err(edge_http::io::Error::Io)?.1;
        handle_connection::<_, _, HEADERS>(io, &mut buf[..], keepalive_timeout_ms, task_id, handler).await;
    }
}

"#;

/// Runs `cargo xtask size`.
pub(crate) fn main(args: &[String]) -> Result {
    if let Some(arg) = args.first() {
        return Err(Error::new(format!("unexpected argument `{arg}`; usage: {USAGE}")));
    }
    for tool in ["llvm-size", "llvm-nm", "llvm-dwarfdump"] {
        if !Cmd::new(tool).arg("--version").probe() {
            return Err(Error::new(format!("`{tool}` not found: install Debian package llvm")));
        }
    }
    let started = Instant::now();
    let mut steps = Steps::new(4);
    steps.run("firmware builds", crate::firmware::build)?;
    let mut bloat_version = String::new();
    steps.run("cargo-bloat", || {
        bloat_version = ensure_cargo_bloat()?;
        Ok(())
    })?;
    let mut probes = ProbeSizes::default();
    steps.run("type sizes on riscv32 (probe crate)", || {
        probes = measure_types()?;
        Ok(())
    })?;
    steps.run("attribution, docs/footprint.md", || {
        let mut reports = Vec::new();
        for chip in &CHIPS {
            reports.push(analyse(firmware(chip.bin)?, chip)?);
        }
        let edge = analyse(firmware(EDGE_C3.bin)?, &EDGE_C3)?;
        let header = Header::collect(&bloat_version)?;
        let doc = render(&header, &reports, &edge, &probes)?;
        let path = root().join(DOC);
        std::fs::write(&path, doc).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {}", display_path(&path));
        for report in reports.iter().chain([&edge]) {
            eprintln!("{}", report.summary_line());
        }
        Ok(())
    })?;
    steps.summary();
    eprintln!("cargo xtask size: {}", format_duration(started.elapsed()));
    Ok(())
}

/// The firmware project (in [`FIRMWARE`]) whose binary is `bin`.
fn firmware(bin: &str) -> Result<&'static Firmware> {
    FIRMWARE.iter().find(|fw| fw.bin == bin).ok_or_else(|| Error::new(format!("firmware.rs has no firmware {bin}")))
}

/// Installs cargo-bloat when `cargo bloat` is missing (and says how long that took); returns
/// its version line.
fn ensure_cargo_bloat() -> Result<String> {
    if !Cmd::cargo().args(["bloat", "--version"]).probe() {
        eprintln!("cargo-bloat is not installed: installing it");
        let started = Instant::now();
        Cmd::cargo().args(["install", "cargo-bloat", "--locked"]).run()?;
        eprintln!("installed cargo-bloat in {}", format_duration(started.elapsed()));
    }
    let version = Cmd::cargo().args(["bloat", "--version"]).read_stdout()?;
    let version = version.trim();
    // It prints the bare version number.
    Ok(if version.starts_with("cargo-bloat") { version.to_string() } else { format!("cargo-bloat {version}") })
}

// ---------------------------------------------------------------------------------------
// Sections

/// A section of the ELF, as `llvm-size -A` lists it.
struct Section {
    name: String,
    size: u64,
    addr: u64,
}

/// Where a section lives on the chip.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In flash only (code and constants, mapped through the cache).
    Flash,
    /// In RAM, loaded from an image in flash at boot.
    FlashAndRam,
    /// In RAM, zeroed (or left) at boot.
    Ram,
    /// RAM the linker script hands over whole: the stack, and the heap in the RAM the
    /// second-stage bootloader used.
    Leftover,
    /// Reserves address space only.
    Reserved,
    /// Not loaded (debug info, unwind tables, metadata).
    NotLoaded,
}

impl Place {
    fn of(section: &Section) -> Result<Place> {
        let name = section.name.as_str();
        let place = if section.addr == 0 {
            Place::NotLoaded
        } else if name.ends_with("_dummy") || name == ".text_gap" {
            Place::Reserved
        } else if name == ".text" || name == ".flash.appdesc" || name.starts_with(".rodata") {
            Place::Flash
        } else if name == ".trap"
            || [".data", ".rwtext", ".rtc_fast.text", ".rtc_fast.data"].iter().any(|p| is_section(name, p))
        {
            Place::FlashAndRam
        } else if [".bss", ".noinit", ".rtc_fast.bss", ".rtc_fast.persistent"].contains(&name) {
            Place::Ram
        } else if name == ".stack" || name == ".dram2_uninit" {
            Place::Leftover
        } else if section.size == 0 {
            Place::Reserved
        } else {
            return Err(Error::new(format!(
                "section {name} ({} bytes at {:#x}) is neither flash nor RAM to xtask/src/size.rs: classify it there",
                section.size, section.addr
            )));
        };
        Ok(place)
    }

    fn label(self) -> &'static str {
        match self {
            Place::Flash => "flash",
            Place::FlashAndRam => "flash and RAM",
            Place::Ram => "RAM",
            Place::Leftover => "RAM, not static",
            Place::Reserved | Place::NotLoaded => "",
        }
    }

    /// The order of the sections table.
    fn order(self) -> u8 {
        match self {
            Place::Flash => 0,
            Place::FlashAndRam => 1,
            Place::Ram => 2,
            Place::Leftover => 3,
            Place::Reserved => 4,
            Place::NotLoaded => 5,
        }
    }
}

/// Whether `name` is `prefix` or `prefix.*`.
fn is_section(name: &str, prefix: &str) -> bool {
    name == prefix || name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.'))
}

/// The loaded sections of `elf`, from `llvm-size -A` (decimal).
fn sections(elf: &Path) -> Result<Vec<Section>> {
    let out = Cmd::new("llvm-size").args(["-A", "-d"]).arg(elf).read_stdout()?;
    let mut sections = Vec::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [name, size, addr] = words.as_slice()
            && name.starts_with('.')
            && let (Ok(size), Ok(addr)) = (size.parse(), addr.parse())
        {
            sections.push(Section { name: name.to_string(), size, addr });
        }
    }
    if !sections.iter().any(|s| s.name == ".text") {
        return Err(Error::new(format!("no .text section in {}", elf.display())));
    }
    Ok(sections)
}

// ---------------------------------------------------------------------------------------
// Symbols

/// A defined symbol with a size, from `llvm-nm --print-size`.
struct Symbol {
    addr: u64,
    size: u64,
    kind: char,
    name: String,
}

/// Every defined symbol with a size, sorted by address, names demangled.
fn symbols(elf: &Path) -> Result<Vec<Symbol>> {
    let out = Cmd::new("llvm-nm").args(["--print-size", "--defined-only", "--demangle"]).arg(elf).read_stdout()?;
    let mut symbols = Vec::new();
    for line in out.lines() {
        let mut words = line.splitn(4, ' ');
        let (Some(addr), Some(size), Some(kind), Some(name)) = (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        let (Ok(addr), Ok(size)) = (u64::from_str_radix(addr, 16), u64::from_str_radix(size, 16)) else {
            continue;
        };
        let mut kinds = kind.chars();
        if let (Some(kind), None) = (kinds.next(), kinds.next())
            && size > 0
        {
            symbols.push(Symbol { addr, size, kind, name: unescape_rust(name) });
        }
    }
    symbols.sort_by(|a, b| (a.addr, &a.name).cmp(&(b.addr, &b.name)));
    Ok(symbols)
}

/// Finishes demangling a legacy Rust symbol that llvm-nm (LLVM 14) left with rustc's
/// escapes (`_$LT$tern_embassy..net..TcpTransport$u20$as$u20$...$GT$::connect`), and drops
/// the trailing hash.
fn unescape_rust(name: &str) -> String {
    const ESCAPES: [(&str, &str); 14] = [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$C$", ","),
        ("$SP$", "@"),
        ("$LP$", "("),
        ("$RP$", ")"),
        ("$u20$", " "),
        ("$u27$", "'"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
    ];
    let mut name = name.to_string();
    if name.contains('$') {
        name = name.replace("::_$", "::$");
        if let Some(rest) = name.strip_prefix("_$") {
            name = format!("${rest}");
        }
        for (from, to) in ESCAPES {
            name = name.replace(from, to);
        }
        name = name.replace("..", "::");
    }
    match name.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => path.to_string(),
        _ => name,
    }
}

/// The crate a demangled symbol belongs to, as cargo-bloat decides it: the first path
/// segment, or for `<T as Trait>::f` with a type parameter `T`, the trait's crate.
fn symbol_crate(name: &str) -> Option<String> {
    let mut rest = name;
    loop {
        let trimmed = rest.trim_start_matches(['<', '&', '[', '(', '*']);
        let trimmed = ["mut ", "const ", "dyn "].iter().fold(trimmed, |s, p| s.strip_prefix(p).unwrap_or(s));
        if trimmed.len() == rest.len() {
            break;
        }
        rest = trimmed;
    }
    let first = rest.split("::").next().unwrap_or("");
    if rest.contains("::") && !first.is_empty() && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(first.to_string());
    }
    let (_, trait_path) = rest.split_once(" as ")?;
    let first = trait_path.split("::").next()?;
    (trait_path.contains("::") && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| first.to_string())
}

/// The symbol whose range holds `addr`, in symbols sorted by address.
fn symbol_at(functions: &[&Symbol], addr: u64) -> Option<usize> {
    let i = functions.partition_point(|s| s.addr <= addr).checked_sub(1)?;
    let s = functions.get(i)?;
    (addr < s.addr + s.size).then_some(i)
}

// ---------------------------------------------------------------------------------------
// Attribution by source line (DWARF)

/// Code by source line: bytes of `.text` per crate.
struct LineAttribution {
    by_crate: BTreeMap<String, u64>,
    /// Bytes covered by the line table.
    covered: u64,
}

/// Pseudo-crate: code from C or assembly sources outside any crate (Wi-Fi and PHY blobs,
/// ROM glue).
const NO_CRATE: &str = "(C outside any crate)";
/// Pseudo-crate: code the line table does not cover.
const NO_LINES: &str = "(no line info)";

/// Splits `text` (the `.text` range) by the crate of each instruction's source line.
/// Instructions whose line is in the standard library (`core` code inlined everywhere) count
/// for the crate of the function symbol they sit in, unless that is the standard library
/// too.
fn attribute_lines(
    elf: &Path,
    text: std::ops::Range<u64>,
    functions: &[&Symbol],
    firmware_crate: &str,
) -> Result<LineAttribution> {
    // Each compile unit's directory, by its line table's offset: relative paths in a line
    // table are relative to it.
    let units = Cmd::new("llvm-dwarfdump").args(["--debug-info", "--recurse-depth=0"]).arg(elf).read_stdout()?;
    let mut comp_dirs: BTreeMap<u64, String> = BTreeMap::new();
    let mut stmt_list = None;
    for line in units.lines() {
        if line.contains("DW_TAG_compile_unit") {
            stmt_list = None;
        } else if let Some(value) = attr_value(line, "DW_AT_stmt_list") {
            stmt_list = parse_hex(value.trim_matches(['(', ')']));
        } else if let Some(value) = attr_value(line, "DW_AT_comp_dir")
            && let Some(offset) = stmt_list
        {
            comp_dirs.insert(offset, quoted(value).unwrap_or_default().to_string());
        }
    }

    let root = root().to_string_lossy().into_owned();
    let table = Cmd::new("llvm-dwarfdump").arg("--debug-line").arg(elf).read_stdout()?;
    let mut by_crate: BTreeMap<String, u64> = BTreeMap::new();
    let mut covered = 0;
    let mut comp_dir = String::new();
    let mut dirs: BTreeMap<u64, String> = BTreeMap::new();
    let mut files: BTreeMap<u64, (String, u64)> = BTreeMap::new();
    let mut crates: BTreeMap<u64, Origin> = BTreeMap::new();
    let mut file = 0;
    // The previous row of the current sequence: its address and file.
    let mut previous: Option<(u64, u64)> = None;
    for line in table.lines() {
        if let Some(offset) = line.strip_prefix("debug_line[").and_then(|l| l.strip_suffix(']')) {
            comp_dir = parse_hex(offset).and_then(|o| comp_dirs.get(&o)).cloned().unwrap_or_default();
            dirs = BTreeMap::from([(0, comp_dir.clone())]);
            files.clear();
            crates.clear();
            previous = None;
        } else if let Some(rest) = line.strip_prefix("include_directories[") {
            if let Some((index, value)) = rest.split_once(']')
                && let (Ok(index), Some(dir)) = (index.trim().parse(), quoted(value))
            {
                dirs.insert(index, join_path(&comp_dir, dir));
            }
        } else if let Some(rest) = line.strip_prefix("file_names[") {
            file = rest.split(']').next().and_then(|i| i.trim().parse().ok()).unwrap_or(0);
        } else if let Some(value) = line.trim_start().strip_prefix("name: ") {
            files.insert(file, (quoted(value).unwrap_or_default().to_string(), 0));
        } else if let Some(value) = line.trim_start().strip_prefix("dir_index: ") {
            if let (Some(entry), Ok(dir)) = (files.get_mut(&file), value.trim().parse()) {
                entry.1 = dir;
            }
        } else if line.starts_with("0x") {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (Some(addr), Some(row_file)) =
                (words.first().and_then(|a| parse_hex(a)), words.get(3).and_then(|f| f.parse::<u64>().ok()))
            else {
                continue;
            };
            if let Some((start, start_file)) = previous {
                let bytes = overlap(start..addr, &text);
                if bytes > 0 {
                    let origin = crates.entry(start_file).or_insert_with(|| {
                        let path = match files.get(&start_file) {
                            Some((name, dir)) => join_path(dirs.get(dir).map_or(comp_dir.as_str(), |d| d), name),
                            None => String::new(),
                        };
                        path_origin(&path, &root, firmware_crate)
                    });
                    let name = match origin {
                        Origin::Crate(name) => name.clone(),
                        Origin::NoCrate => NO_CRATE.to_string(),
                        Origin::Std => symbol_at(functions, start)
                            .and_then(|i| functions.get(i))
                            .and_then(|s| symbol_crate(&s.name))
                            .filter(|c| !STD.contains(&c.as_str()))
                            .unwrap_or_else(|| "std".to_string()),
                    };
                    *by_crate.entry(name).or_default() += bytes;
                    covered += bytes;
                }
            }
            previous = (!line.contains("end_sequence")).then_some((addr, row_file));
        }
    }
    let text_size = text.end - text.start;
    if covered > text_size {
        return Err(Error::new(format!("the line table covers {covered} bytes of a {text_size}-byte .text")));
    }
    by_crate.insert(NO_LINES.to_string(), text_size - covered);
    Ok(LineAttribution { by_crate, covered })
}

/// Where a source file comes from.
enum Origin {
    Crate(String),
    Std,
    NoCrate,
}

/// The crate a source path belongs to: tern's crates and the firmware by their place in the
/// repository (a library inside a firmware project, `firmware/<project>/<crate>/src/..`, by
/// its directory), registry and git dependencies by their directory, the standard library by
/// its paths (`/rustc/<hash>/library`, compiler-builtins' `/checkout/library`).
fn path_origin(path: &str, root: &str, firmware_crate: &str) -> Origin {
    if let Some(rest) = path.strip_prefix(root) {
        let mut parts = rest.trim_start_matches('/').split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("crates"), Some(dir), _, _) => return Origin::Crate(crate_name(dir)),
            (Some("firmware"), Some(_), Some(dir), Some("src")) if dir != "src" => {
                return Origin::Crate(crate_name(dir));
            }
            (Some("firmware"), Some(_), _, _) => return Origin::Crate(firmware_crate.to_string()),
            _ => {}
        }
    }
    if let Some((_, rest)) = path.split_once("/registry/src/") {
        // index.crates.io-<hash>/<name>-<version>/...
        if let Some(dir) = rest.split('/').nth(1) {
            return Origin::Crate(crate_name(strip_version(dir)));
        }
    }
    if let Some((_, rest)) = path.split_once("/git/checkouts/")
        && let Some((dir, _)) = rest.split('/').next().and_then(|d| d.rsplit_once('-'))
    {
        return Origin::Crate(crate_name(dir));
    }
    if path.starts_with("/rustc/") || path.contains("/library/") {
        return Origin::Std;
    }
    Origin::NoCrate
}

/// A package name as its library is called (`tern-proto` → `tern_proto`, `md-5` → `md5`,
/// `rustls-webpki` → `webpki`), to match symbol paths.
fn crate_name(package: &str) -> String {
    match package {
        "md-5" => "md5".to_string(),
        "rustls-webpki" => "webpki".to_string(),
        _ => package.replace('-', "_"),
    }
}

/// `esp-radio-1.0.0-beta.1` → `esp-radio`, `md-5-0.11.0` → `md-5`: the name ends at the
/// first `-` followed by `<digits>.<digits>.<digits>`.
fn strip_version(dir: &str) -> &str {
    for (i, _) in dir.match_indices('-') {
        let version = dir.get(i + 1..).unwrap_or("");
        let mut parts = version.splitn(3, '.');
        let numeric = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        let (major, minor, patch) = (parts.next(), parts.next(), parts.next());
        let patch_digits = patch.map(|p| p.split(['-', '+']).next().unwrap_or(""));
        if numeric(major) && numeric(minor) && numeric(patch_digits) {
            return dir.get(..i).unwrap_or(dir);
        }
    }
    dir
}

/// `dir/name`, or `name` when it is absolute.
fn join_path(dir: &str, name: &str) -> String {
    if name.starts_with('/') || dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// The value after `attr` in an `llvm-dwarfdump` attribute line.
fn attr_value<'a>(line: &'a str, attr: &str) -> Option<&'a str> {
    line.trim_start().strip_prefix(attr).map(str::trim)
}

/// The text between the first and the last double quote.
fn quoted(value: &str) -> Option<&str> {
    let start = value.find('"')?;
    let end = value.rfind('"')?;
    value.get(start + 1..end)
}

fn parse_hex(value: &str) -> Option<u64> {
    u64::from_str_radix(value.trim().trim_start_matches("0x"), 16).ok()
}

/// Bytes of `a` inside `b`.
fn overlap(a: std::ops::Range<u64>, b: &std::ops::Range<u64>) -> u64 {
    a.end.min(b.end).saturating_sub(a.start.max(b.start))
}

// ---------------------------------------------------------------------------------------
// cargo-bloat

/// `cargo bloat --crates` for a firmware: bytes of `.text` per crate, by symbol.
fn bloat_crates(fw: &Firmware) -> Result<BTreeMap<String, u64>> {
    let out = fw
        .cargo()?
        .args(["bloat", "--release", "--target", fw.target, "--bin", fw.bin, "--crates", "-n", "0"])
        .args(["--message-format", "json"])
        .read_stdout()?;
    parse_bloat_crates(&out).ok_or_else(|| {
        let start: String = out.chars().take(200).collect();
        Error::new(format!("cargo bloat's output is not the JSON expected: {start}"))
    })
}

/// Reads cargo-bloat's compact JSON, `{..,"crates":[{"name":"tern_proto","size":70136},..]}`
/// (crate names hold no quotes or escapes).
fn parse_bloat_crates(json: &str) -> Option<BTreeMap<String, u64>> {
    let (_, list) = json.split_once("\"crates\":[{")?;
    let (list, _) = list.rsplit_once("}]")?;
    let mut by_crate = BTreeMap::new();
    for object in list.split("},{") {
        let (_, name) = object.split_once("\"name\":\"")?;
        let (name, _) = name.split_once('"')?;
        let (_, size) = object.split_once("\"size\":")?;
        let size = size.split(',').next()?.trim().parse().ok()?;
        by_crate.insert(name.to_string(), size);
    }
    Some(by_crate)
}

// ---------------------------------------------------------------------------------------
// Type sizes (the probe crate)

/// The probe's figures, by name: tern's on each target, and the edge-http firmware's (on
/// riscv32imc).
#[derive(Default)]
struct ProbeSizes {
    imc: BTreeMap<String, u64>,
    imac: BTreeMap<String, u64>,
    edge: BTreeMap<String, u64>,
}

/// The targets the probe is built for: the C3's without TLS, the C6's with it.
const PROBE_TARGETS: [(&str, bool); 2] =
    [("riscv32imc-unknown-none-elf", false), ("riscv32imac-unknown-none-elf", true)];

/// Generates the probe crate in `target/size-probe`, builds it for both targets and reads
/// the `TERN_SIZE_*` statics' sizes back; then the same for the edge-http firmware's types
/// with a second probe crate in `target/size-probe-edge` (the edge-http firmware's
/// `Cargo.lock`, the same target directory).
fn measure_types() -> Result<ProbeSizes> {
    let dir = root().join("target").join("size-probe");
    write_probe(&dir)?;
    let target_dir = dir.join("target");
    let mut sizes = ProbeSizes::default();
    for (target, tls) in PROBE_TARGETS {
        let mut cmd = Cmd::cargo().args(["build", "--release", "--target", target]).dir(&dir);
        cmd = cmd.arg("--target-dir").arg(&target_dir);
        if tls {
            cmd = cmd.args(["--features", "tls"]);
            for (key, value) in crate::ci::TLS_TARGET_C_ENV {
                cmd = cmd.env(key, value);
            }
        }
        cmd.run()?;
        let rlib = target_dir.join(target).join("release").join("libtern_size_probe.rlib");
        let found = read_probe(&rlib, "TERN_SIZE_", PROBES.iter().filter(|p| tls || !p.tls))?;
        eprintln!("{target}: {found:?}");
        if tls {
            sizes.imac = found;
        } else {
            sizes.imc = found;
        }
    }

    let edge_fw = firmware(EDGE_C3.bin)?;
    let edge_dir = root().join("target").join("size-probe-edge");
    write_edge_probe(&edge_dir, edge_fw)?;
    let cmd = Cmd::cargo().args(["build", "--release", "--target", edge_fw.target]).dir(&edge_dir);
    cmd.arg("--target-dir").arg(&target_dir).run()?;
    let rlib = target_dir.join(edge_fw.target).join("release").join("libedge_size_probe.rlib");
    sizes.edge = read_probe(&rlib, "EDGE_SIZE_", EDGE_PROBES.iter())?;
    eprintln!("{} (edge-http): {:?}", edge_fw.target, sizes.edge);
    Ok(sizes)
}

/// The sizes of the statics named `<prefix><name>` in `rlib`, by name; an error when one of
/// `probes` is missing.
fn read_probe<'a>(rlib: &Path, prefix: &str, probes: impl Iterator<Item = &'a Probe>) -> Result<BTreeMap<String, u64>> {
    let out = Cmd::new("llvm-nm").args(["--print-size", "--defined-only"]).arg(rlib).read_stdout()?;
    let mut found = BTreeMap::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [_, size, _, name] = words.as_slice()
            && let Some(name) = name.strip_prefix(prefix)
            && let Some(size) = parse_hex(size)
        {
            found.insert(name.to_string(), size);
        }
    }
    for probe in probes {
        if !found.contains_key(probe.name) {
            return Err(Error::new(format!("{prefix}{} is missing from {}", probe.name, rlib.display())));
        }
    }
    Ok(found)
}

/// Writes a probe crate in `dir`: `Cargo.toml` for package `name` (headed by `about`, no
/// targets but `lib.rs`, a workspace of its own, the firmware's `opt-level`) with `deps` for
/// its features and dependencies, the firmware's `lock` as its `Cargo.lock` so that the
/// versions are the firmware's, and `source` as `lib.rs`.
fn write_probe_crate(dir: &Path, name: &str, about: &str, deps: &str, lock: &Path, source: &str) -> Result {
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| Error::new(format!("{}: {e}", path.display())))
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    let manifest = format!(
        r#"# Generated by `cargo xtask size` (xtask/src/size.rs): {about}. Rewritten on every run.
[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false
autobins = false
autoexamples = false
autotests = false
autobenches = false

[workspace]

[lib]
path = "lib.rs"

{deps}
# The firmware's optimisation level: it decides which locals an async fn's future keeps.
[profile.release]
opt-level = "s"
"#
    );
    write(dir.join("Cargo.toml"), &manifest)?;
    let lock = std::fs::read_to_string(lock).map_err(|e| Error::new(format!("{}: {e}", lock.display())))?;
    write(dir.join("Cargo.lock"), &lock)?;
    write(dir.join("lib.rs"), source)
}

/// `path` as a quoted TOML string.
fn toml_path(path: &Path) -> Result<String> {
    path.to_str().map(|p| format!("{p:?}")).ok_or_else(|| Error::new(format!("{} is not UTF-8", path.display())))
}

/// Writes the edge-http probe crate: the comparison firmware's examples crate by path,
/// edge-http and its glue with the firmware's features.
fn write_edge_probe(dir: &Path, fw: &Firmware) -> Result {
    let deps = format!(
        r#"[dependencies]
edge-http-examples = {{ path = {examples} }}
edge-http = {{ version = "0.8.0", default-features = false, features = ["io"] }}
edge-nal = {{ version = "0.7.0", default-features = false }}
edge-nal-embassy = {{ version = "0.9.0", default-features = false, features = ["tcp", "dns", "proto-ipv4"] }}
embassy-net = {{ version = "0.9.1", features = ["tcp", "dhcpv4", "dns", "medium-ethernet", "proto-ipv4"] }}
"#,
        examples = toml_path(&fw.dir().join("edge-http-examples"))?,
    );
    let mut source = format!("{EDGE_PROBE_PRELUDE}{PROBE_HELPERS}{EDGE_PROBE_TYPES}");
    for probe in EDGE_PROBES {
        let _ = writeln!(source, "size!(EDGE_SIZE_{} = {});", probe.name, probe.expr);
    }
    let about = "the edge-http comparison firmware's types measured on the ESP32-C3's target";
    write_probe_crate(dir, "edge-size-probe", about, &deps, &fw.dir().join("Cargo.lock"), &source)
}

/// Writes the probe crate: tern's crates by path with the features the firmware has (the
/// C6's `Cargo.lock` for the versions).
fn write_probe(dir: &Path) -> Result {
    let crates = root().join("crates");
    let path = |name: &str| toml_path(&crates.join(name));
    let deps = format!(
        r#"[features]
tls = ["dep:tern-tls", "tern-embassy/tls"]

[dependencies]
tern-proto = {{ path = {proto}, default-features = false }}
tern-embassy = {{ path = {embassy}, default-features = false, features = ["embassy-net"] }}
tern-embassy-examples = {{ path = {examples} }}
tern-tls = {{ path = {tls}, default-features = false, features = ["ring", "tls12", "webpki-roots"], optional = true }}
embassy-net = {{ version = "0.9.1", features = ["tcp", "dhcpv4", "dns", "medium-ethernet", "proto-ipv4"] }}
embassy-sync = "0.8.0"
"#,
        proto = path("tern-proto")?,
        embassy = path("tern-embassy")?,
        examples = path("tern-embassy-examples")?,
        tls = path("tern-tls")?,
    );
    let mut source = format!("{PROBE_PRELUDE}{PROBE_HELPERS}{PROBE_TYPES}");
    for probe in PROBES {
        if probe.tls {
            source.push_str("#[cfg(feature = \"tls\")]\n");
        }
        let _ = writeln!(source, "size!(TERN_SIZE_{} = {});", probe.name, probe.expr);
    }
    let about = "tern's types measured on the ESP32 targets";
    write_probe_crate(dir, "tern-size-probe", about, &deps, &root().join("firmware/esp32c6/Cargo.lock"), &source)
}

// ---------------------------------------------------------------------------------------
// One firmware's report

/// Everything measured on one firmware.
struct Report {
    chip: &'static Chip,
    sections: Vec<(Section, Place)>,
    text: u64,
    bloat: BTreeMap<String, u64>,
    lines: LineAttribution,
    /// The statics in RAM, largest first: name, section, bytes.
    statics: Vec<(String, String, u64)>,
    firmware_crate: String,
}

/// Builds the report for one firmware from its ELF.
fn analyse(fw: &Firmware, chip: &'static Chip) -> Result<Report> {
    let elf = fw.elf();
    let sections = sections(&elf)?;
    let mut placed = Vec::new();
    for section in sections {
        let place = Place::of(&section)?;
        placed.push((section, place));
    }
    let (text_addr, text) = placed
        .iter()
        .find(|(s, _)| s.name == ".text")
        .map(|(s, _)| (s.addr, s.size))
        .ok_or_else(|| Error::new("no .text"))?;
    let symbols = symbols(&elf)?;
    let functions: Vec<&Symbol> = symbols
        .iter()
        .filter(|s| matches!(s.kind, 't' | 'T' | 'W' | 'w') && (text_addr..text_addr + text).contains(&s.addr))
        .collect();
    let firmware_crate = crate_name(fw.bin);
    let lines = attribute_lines(&elf, text_addr..text_addr + text, &functions, &firmware_crate)?;
    let bloat = bloat_crates(fw)?;

    let ram_sections: Vec<&Section> = placed
        .iter()
        .filter(|(_, p)| matches!(p, Place::FlashAndRam | Place::Ram | Place::Leftover))
        .map(|(s, _)| s)
        .collect();
    let mut statics: Vec<(String, String, u64)> = symbols
        .iter()
        .filter(|s| !matches!(s.kind, 't' | 'T' | 'W' | 'w') && !s.name.starts_with('.'))
        .filter_map(|s| {
            let section = ram_sections.iter().find(|r| (r.addr..r.addr + r.size).contains(&s.addr))?;
            Some((s.name.clone(), section.name.clone(), s.size))
        })
        .collect();
    statics.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)).then_with(|| a.1.cmp(&b.1)));
    Ok(Report { chip, sections: placed, text, bloat, lines, statics, firmware_crate })
}

/// Which part of the firmware a crate is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    /// The HTTP stack's crates (tern's, or edge-http's).
    Stack,
    /// Crates only the HTTP stack links in.
    StackDep,
    Tls,
    App,
    Platform,
    Std,
    NotRust,
}

impl Group {
    /// The label in the crate tables, for a firmware whose HTTP stack is tern.
    fn label(self) -> &'static str {
        match self {
            Group::Stack => "tern",
            Group::StackDep => "tern's dependency",
            Group::Tls => "TLS",
            Group::App => "the firmware",
            Group::Platform => "platform",
            Group::Std => "core, alloc",
            Group::NotRust => "not Rust",
        }
    }
}

impl Report {
    fn group(&self, name: &str) -> Group {
        if self.chip.stack_crates.contains(&name) {
            Group::Stack
        } else if self.chip.stack_deps.contains(&name) {
            Group::StackDep
        } else if TLS.contains(&name) {
            Group::Tls
        } else if name == self.firmware_crate {
            Group::App
        } else if name == "std" {
            Group::Std
        } else if name == NO_CRATE || name == NO_LINES || name == "[Unknown]" {
            Group::NotRust
        } else {
            Group::Platform
        }
    }

    /// Bytes of sections in `place`, or whose name passes `filter`.
    fn bytes(&self, filter: impl Fn(&Section, Place) -> bool) -> u64 {
        self.sections.iter().filter(|(s, p)| filter(s, *p)).map(|(s, _)| s.size).sum()
    }

    fn flash(&self) -> u64 {
        self.bytes(|_, p| matches!(p, Place::Flash | Place::FlashAndRam))
    }

    fn ram(&self) -> u64 {
        self.bytes(|_, p| matches!(p, Place::FlashAndRam | Place::Ram))
    }

    fn section_group(&self, prefix: &str) -> u64 {
        self.bytes(|s, _| is_section(&s.name, prefix))
    }

    /// Line-attributed and cargo-bloat bytes of the crates in `groups`.
    fn code_of(&self, groups: &[Group]) -> (u64, u64) {
        let lines = self.lines.by_crate.iter().filter(|(c, _)| groups.contains(&self.group(c))).map(|(_, b)| b).sum();
        let bloat = self.bloat.iter().filter(|(c, _)| groups.contains(&self.group(c))).map(|(_, b)| b).sum();
        (lines, bloat)
    }

    /// The HTTP client and server (tern's, or edge-http's): the stack's crates and the crates
    /// only they link in.
    fn tern_code(&self) -> (u64, u64) {
        self.code_of(&[Group::Stack, Group::StackDep])
    }

    /// Line-attributed and cargo-bloat bytes of one crate.
    fn crate_code(&self, name: &str) -> (u64, u64) {
        (self.lines.by_crate.get(name).copied().unwrap_or(0), self.bloat.get(name).copied().unwrap_or(0))
    }

    fn summary_line(&self) -> String {
        let (lines, bloat) = self.tern_code();
        let mut line = format!(
            "{}: flash {} B, static RAM {} B; {} (client + server) code {} B by source line, {} B by symbol",
            self.chip.name,
            thousands(self.flash()),
            thousands(self.ram()),
            self.chip.stack,
            thousands(lines),
            thousands(bloat)
        );
        if self.chip.tls {
            let (lines, bloat) = self.code_of(&[Group::Stack, Group::StackDep, Group::Tls]);
            let _ =
                write!(line, "; tern + TLS {} B by source line, {} B by symbol", thousands(lines), thousands(bloat));
        }
        line
    }
}

// ---------------------------------------------------------------------------------------
// The document

/// The header's facts: date, toolchain, tools and versions.
struct Header {
    date: String,
    rustc: String,
    bloat: String,
    llvm: String,
    versions: Vec<(String, String)>,
    /// The edge-http comparison firmware's HTTP crates, from its `Cargo.lock`.
    edge_versions: Vec<(String, String)>,
}

impl Header {
    fn collect(bloat: &str) -> Result<Header> {
        let firmware_dir = root().join("firmware/esp32c6");
        let rustc = Cmd::new("rustc").arg("--version").dir(&firmware_dir).read_stdout()?.trim().to_string();
        let llvm_version = Cmd::new("llvm-size").arg("--version").read_stdout()?;
        let llvm = llvm_version
            .lines()
            .find_map(|l| l.trim().split_once("LLVM version ").map(|(_, v)| format!("LLVM {}", v.trim())))
            .unwrap_or_else(|| "LLVM".to_string());
        let lock_path = firmware_dir.join("Cargo.lock");
        let lock =
            std::fs::read_to_string(&lock_path).map_err(|e| Error::new(format!("{}: {e}", lock_path.display())))?;
        let mut versions = Vec::new();
        for name in ["tern-proto"].iter().chain(VERSIONED.iter()) {
            let version = lock_version(&lock, name)
                .ok_or_else(|| Error::new(format!("{name} is not in {}", display_path(&lock_path))))?;
            versions.push((name.to_string(), version));
        }
        let edge_lock_path = firmware(EDGE_C3.bin)?.dir().join("Cargo.lock");
        let edge_lock = std::fs::read_to_string(&edge_lock_path)
            .map_err(|e| Error::new(format!("{}: {e}", edge_lock_path.display())))?;
        let mut edge_versions = Vec::new();
        for name in EDGE_VERSIONED {
            let version = lock_version(&edge_lock, name)
                .ok_or_else(|| Error::new(format!("{name} is not in {}", display_path(&edge_lock_path))))?;
            edge_versions.push((name.to_string(), version));
        }
        Ok(Header { date: today(), rustc, bloat: bloat.to_string(), llvm, versions, edge_versions })
    }
}

/// The version of package `name` in a `Cargo.lock` (the first, if there are several).
fn lock_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            return lines.next().and_then(|l| quoted(l)).map(str::to_string);
        }
    }
    None
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `n` as a share of `of`, one decimal.
fn percent(n: u64, of: u64) -> String {
    if of == 0 { "–".to_string() } else { format!("{:.1}%", n as f64 * 100.0 / of as f64) }
}

/// A signed difference with its sign.
fn delta(now: u64, before: u64) -> String {
    if now >= before { format!("+{}", thousands(now - before)) } else { format!("−{}", thousands(before - now)) }
}

/// Renders `docs/footprint.md`.
fn render(header: &Header, reports: &[Report], edge: &Report, probes: &ProbeSizes) -> Result<String> {
    let [c3, c6] = reports else {
        return Err(Error::new("expected two firmware reports"));
    };
    let mut d = String::new();
    let versions: Vec<String> = header.versions.iter().map(|(n, v)| format!("{n} {v}")).collect();
    let _ = write!(
        d,
        "# Footprint: tern on the ESP32-C3 and ESP32-C6

<!-- Generated by `cargo xtask size` (xtask/src/size.rs). Do not edit: run it again. -->

Generated by `cargo xtask size` on {date}: the release builds of [`firmware/esp32c3`](../firmware/esp32c3)
and [`firmware/esp32c6`](../firmware/esp32c6) (see [firmware/README.md](../firmware/README.md)),
{rustc}, `opt-level = \"s\"`, fat LTO, one codegen unit. Measured with {bloat} and {llvm}
(llvm-size, llvm-nm, llvm-dwarfdump). Versions (the firmware's `Cargo.lock`): {versions}.

Both firmware run ESP-IDF's `advanced_tests` server (7 sessions) and an http client; the
ESP32-C6 adds an https client on tern-tls (rustls on ring, Mozilla's roots). The last
section, [tern vs edge-http on the ESP32-C3](#tern-vs-edge-http-on-the-esp32-c3), sets the
C3 firmware beside the same firmware on edge-http.
",
        date = header.date,
        rustc = header.rustc,
        bloat = header.bloat,
        llvm = header.llvm,
        versions = versions.join(", "),
    );

    // Summary.
    let session_fw = session_bytes(&probes.imc, "SERVE_FIRMWARE")?;
    let session_static = session_bytes(&probes.imc, "SERVE_STATIC")?;
    let session_fw_c6 = session_bytes(&probes.imac, "SERVE_FIRMWARE")?;
    let (c3_lines, c3_bloat) = c3.tern_code();
    let (c6_tern_lines, c6_tern_bloat) = c6.tern_code();
    let (c6_lines, c6_bloat) = c6.code_of(&[Group::Stack, Group::StackDep, Group::Tls]);
    let (c6_tls_lines, _) = c6.code_of(&[Group::Tls]);
    let flash_delta = |r: &Report| {
        let b = &r.chip.baseline;
        let now = r.section_group(".text")
            + r.section_group(".rodata")
            + r.section_group(".rwtext")
            + r.section_group(".trap")
            + r.section_group(".data");
        delta(now, b.text + b.rodata + b.rwtext + b.data)
    };
    let _ = write!(
        d,
        "
## Summary

| | ESP32-C3 | ESP32-C6 |
|---|---:|---:|
| flash (loaded sections) | {c3_flash} | {c6_flash} |
| static RAM (`.data`, `.bss`, code in RAM) | {c3_ram} | {c6_ram} |
| **tern (client + server)**: code by source line | **{c3_lines}** ({c3_lines_pct} of `.text`) | {c6_tern_lines} ({c6_tern_lines_pct}) |
| the same by symbol (cargo-bloat) | {c3_bloat} ({c3_bloat_pct}) | {c6_tern_bloat} ({c6_tern_bloat_pct}) |
| TLS (tern-tls, rustls, ring, webpki, roots): code by source line | – | {c6_tls_lines} ({c6_tls_lines_pct}) |
| **tern + TLS**: code by source line | – | **{c6_lines}** ({c6_lines_pct} of `.text`) |
| the same by symbol (cargo-bloat) | – | {c6_bloat} ({c6_bloat_pct}) |
| flash added since the bring-up stand-ins (code, constants, RAM images) | {c3_delta} | {c6_delta} |
| RAM per server session, the firmware's handlers | {session_fw} | {session_fw_c6} |
| RAM for 7 sessions (ESP-IDF's `max_open_sockets`) | {sessions_fw} | {sessions_fw_c6} |

On the ESP32-C3, tern's client and server are {c3_lines} bytes of code by source line
({c3_bloat} by symbol), {c3_lines_pct} of `.text`. Code is `.text` only: tern's constants
(strings, httparse's tables, the hashes' round constants) are in `.rodata`, which after LTO
has no names to split it by; the firmware's `.rodata*` changed by {c3_rodata} bytes when
tern replaced the stand-ins, and its flash by {c3_delta} in all. On the ESP32-C6, tern and TLS
are {c6_lines} bytes of code by source line ({c6_bloat} by symbol), {c6_lines_pct} of
`.text`; TLS's constants (Mozilla's roots, ring's tables) come on top and are not split out.
RAM per session is the engine buffer, the two socket buffers and the `serve` future
(below).
",
        c3_flash = thousands(c3.flash()),
        c6_flash = thousands(c6.flash()),
        c3_ram = thousands(c3.ram()),
        c6_ram = thousands(c6.ram()),
        c3_lines = thousands(c3_lines),
        c3_lines_pct = percent(c3_lines, c3.text),
        c6_tern_lines = thousands(c6_tern_lines),
        c6_tern_lines_pct = percent(c6_tern_lines, c6.text),
        c3_bloat = thousands(c3_bloat),
        c3_bloat_pct = percent(c3_bloat, c3.text),
        c6_tern_bloat = thousands(c6_tern_bloat),
        c6_tern_bloat_pct = percent(c6_tern_bloat, c6.text),
        c6_tls_lines = thousands(c6_tls_lines),
        c6_tls_lines_pct = percent(c6_tls_lines, c6.text),
        c6_lines = thousands(c6_lines),
        c6_lines_pct = percent(c6_lines, c6.text),
        c6_bloat = thousands(c6_bloat),
        c6_bloat_pct = percent(c6_bloat, c6.text),
        c3_delta = flash_delta(c3),
        c3_rodata = delta(c3.section_group(".rodata"), c3.chip.baseline.rodata),
        c6_delta = flash_delta(c6),
        session_fw = thousands(session_fw),
        sessions_fw = thousands(session_fw * SESSIONS),
        session_fw_c6 = thousands(session_fw_c6),
        sessions_fw_c6 = thousands(session_fw_c6 * SESSIONS),
    );

    render_sections(&mut d, reports);
    for report in reports {
        render_crates(&mut d, report);
    }
    render_attribution_notes(&mut d);
    render_baseline(&mut d, reports);
    render_statics(&mut d, reports);
    render_types(&mut d, probes);
    render_sessions(&mut d, probes, c3, session_fw, session_static)?;
    render_comparison(&mut d, header, c3, edge, probes, session_fw)?;
    render_reproduce(&mut d);
    Ok(d)
}

/// One session's RAM with the `serve` future `serve`: engine buffer, socket buffers, future.
fn session_bytes(sizes: &BTreeMap<String, u64>, serve: &str) -> Result<u64> {
    let get = |name: &str| sizes.get(name).copied().ok_or_else(|| Error::new(format!("no probe figure {name}")));
    Ok(get("ENGINE_BUFFER")? + 2 * get("SOCKET_BUFFER")? + get(serve)?)
}

fn render_sections(d: &mut String, reports: &[Report]) {
    d.push_str(
        "
## Sections

`llvm-size -A` on the release ELFs. Flash holds `.text`, `.rodata*`, `.flash.appdesc` and the
load images of `.data*`, `.rwtext*` and `.trap`; static RAM is `.data*`, `.bss`, `.rwtext*`
and `.trap` (code run from internal RAM). `.stack` is the RAM left over for the stack and
`.dram2_uninit` the heap in RAM the second-stage bootloader used; neither counts as static
RAM. Sections that only reserve address space, debug info and unwind tables are left out.
The image espflash writes adds segment headers and padding.

| section | where |",
    );
    for r in reports {
        let _ = write!(d, " {} |", r.chip.name);
    }
    d.push_str("\n|---|---|");
    for _ in reports {
        d.push_str("---:|");
    }
    d.push('\n');
    // Every section with bytes in any firmware, flash first, then by address in the first
    // firmware that has it.
    let mut names: Vec<(Place, u64, String)> = Vec::new();
    for r in reports {
        for (s, p) in &r.sections {
            if !matches!(p, Place::Reserved | Place::NotLoaded) && s.size > 0 && !names.iter().any(|n| n.2 == s.name) {
                names.push((*p, s.addr, s.name.clone()));
            }
        }
    }
    names.sort_by_key(|(p, addr, _)| (p.order(), *addr));
    for (place, _, name) in &names {
        let _ = write!(d, "| `{name}` | {} |", place.label());
        for r in reports {
            let size = r.sections.iter().find(|(s, _)| s.name == *name).map_or(0, |(s, _)| s.size);
            let _ = write!(d, " {} |", thousands(size));
        }
        d.push('\n');
    }
    d.push_str("| **flash** | |");
    for r in reports {
        let _ = write!(d, " **{}** |", thousands(r.flash()));
    }
    d.push_str("\n| **static RAM** | |");
    for r in reports {
        let _ = write!(d, " **{}** |", thousands(r.ram()));
    }
    d.push('\n');
}

fn render_crates(d: &mut String, r: &Report) {
    let _ = write!(
        d,
        "
## Code by crate: {name}

`.text` is {text} bytes. \"By source line\" counts the bytes whose DWARF line is in the crate
(code from `core` inlined into a function counts for the function's crate); \"by symbol\" is
`cargo bloat --crates`. tern's and TLS's crates are listed whatever their size, the others
from 1 KiB.

| crate | counted as | by source line | % of `.text` | by symbol (cargo-bloat) | % of `.text` |
|---|---|---:|---:|---:|---:|
",
        name = r.chip.name,
        text = thousands(r.text),
    );
    let mut names: BTreeSet<String> = r.lines.by_crate.keys().cloned().collect();
    names.extend(r.bloat.keys().filter(|k| k.as_str() != "[Unknown]").cloned());
    let mut rows: Vec<(Group, u64, u64, String)> = names
        .into_iter()
        .filter(|n| n != NO_CRATE && n != NO_LINES)
        .map(|n| {
            let lines = r.lines.by_crate.get(&n).copied().unwrap_or(0);
            let bloat = r.bloat.get(&n).copied().unwrap_or(0);
            (r.group(&n), lines, bloat, n)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)).then(a.3.cmp(&b.3)));
    let mut rest = (0usize, 0u64, 0u64);
    for (group, lines, bloat, name) in &rows {
        let focus = matches!(group, Group::Stack | Group::StackDep | Group::Tls);
        if !focus && *lines < 1024 && *bloat < 1024 {
            rest = (rest.0 + 1, rest.1 + lines, rest.2 + bloat);
            continue;
        }
        let _ = writeln!(
            d,
            "| `{name}` | {} | {} | {} | {} | {} |",
            group.label(),
            thousands(*lines),
            percent(*lines, r.text),
            thousands(*bloat),
            percent(*bloat, r.text)
        );
    }
    if rest.0 > 0 {
        let _ = writeln!(
            d,
            "| {} more crates under 1 KiB | | {} | {} | {} | {} |",
            rest.0,
            thousands(rest.1),
            percent(rest.1, r.text),
            thousands(rest.2),
            percent(rest.2, r.text)
        );
    }
    let no_crate = r.lines.by_crate.get(NO_CRATE).copied().unwrap_or(0);
    let no_lines = r.lines.by_crate.get(NO_LINES).copied().unwrap_or(0);
    let unknown = r.bloat.get("[Unknown]").copied().unwrap_or(0);
    let not_rust = no_crate + no_lines;
    let _ = writeln!(
        d,
        "| outside any crate: the Wi-Fi and PHY blobs ({} B with line info, {} B without; padding) | not Rust | {} | {} | {} | {} |",
        thousands(no_crate),
        thousands(no_lines),
        thousands(not_rust),
        percent(not_rust, r.text),
        thousands(unknown),
        percent(unknown, r.text)
    );
    let bloat_total: u64 = r.bloat.values().sum();
    let _ = writeln!(
        d,
        "| **`.text`** | | **{}** | | {} in symbols | |",
        thousands(r.lines.covered + no_lines),
        thousands(bloat_total)
    );

    let mut totals = vec![("tern (client + server)", vec![Group::Stack, Group::StackDep])];
    if r.chip.tls {
        totals.push(("TLS", vec![Group::Tls]));
        totals.push(("tern + TLS", vec![Group::Stack, Group::StackDep, Group::Tls]));
    }
    totals.push(("the firmware's own code", vec![Group::App]));
    d.push_str("\n| total | by source line | % of `.text` | by symbol | % of `.text` |\n|---|---:|---:|---:|---:|\n");
    for (label, groups) in totals {
        let (lines, bloat) = r.code_of(&groups);
        let _ = writeln!(
            d,
            "| {label} | {} | {} | {} | {} |",
            thousands(lines),
            percent(lines, r.text),
            thousands(bloat),
            percent(bloat, r.text)
        );
    }
}

fn render_attribution_notes(d: &mut String) {
    d.push_str(
        "
### How code is attributed

- **By symbol** (cargo-bloat 0.12, which reads riscv32 ELFs): every function symbol in
  `.text` counts for the crate of its path. Generic code is named where it is defined, so
  tern's generic functions instantiated by the firmware (`Server<AdvancedTests, ..>::serve`,
  `Connection<&mut [u8]>::poll_with_deadline`) count for tern; `<Type as Trait>::f` counts
  for the type's crate (`<AdvancedTests as Handler>::handle` for tern-embassy-examples).
  What LTO inlined into another crate's function counts for that crate: embassy-executor's
  `TaskStorage<F>::poll` holds whole task futures (the server's `join_array` of `serve`
  loops, the client's GETs), so it looks large and tern small. C functions (the Wi-Fi
  blobs, and on the C6 ring's C and assembly) are `[Unknown]`.
- **By source line** (this command): `llvm-dwarfdump --debug-line` maps every instruction
  to a source file; files under `crates/` are tern's, files in the cargo registry belong to
  their package, `firmware/` to the firmware. Inlined code counts where its source is, so
  tern's futures inlined into embassy-executor's `poll` count for tern, and ring's C counts
  for ring. Instructions whose line is in `core` or `alloc` (slice, iterator and `Option`
  code inlined everywhere) count for the crate of the function symbol they sit in, as
  cargo-bloat would count them, and `core`'s own functions (`core::fmt`, `slice::sort`) stay
  `core, alloc`. So the `core` code inside tern's futures that LTO inlined into
  embassy-executor's `poll` counts for embassy-executor (most of its figure by source line):
  tern's figure by source line is slightly low.
- Both count code only: `.rodata` (strings, tables) has anonymous symbols after LTO.
- \"tern's dependency\" is a crate only tern links in: httparse (tern's parser), and sha1,
  sha2, md5, base64 and the digest helpers (Digest authentication, the WebSocket
  handshake). sha2 is also a dependency of esp-bootloader-esp-idf, for partition hashes
  the firmware does not call.
",
    );
}

fn render_baseline(d: &mut String, reports: &[Report]) {
    d.push_str(
        "
## Cross-check: the bring-up stand-ins

Before tern, each firmware ran stand-ins (plain `TcpSocket` code, a few hundred bytes) in
its place; their sections are recorded in [firmware/README.md](../firmware/README.md). The
growth is another estimate of tern's cost: tern's code and constants, the embassy-net and
smoltcp paths it uses that the stand-ins did not, `core::fmt` code, and the session buffers
and futures in `.bss`. The ESP32-C6's stand-in already linked TLS (it built tern-tls'
client configuration and started a handshake), so its growth is mostly tern's HTTP code
and its https glue, not TLS.

| section |",
    );
    for r in reports {
        let _ = write!(d, " {} | stand-in | change |", r.chip.name);
    }
    d.push_str("\n|---|");
    for _ in reports {
        d.push_str("---:|---:|---:|");
    }
    d.push('\n');
    type Pick = fn(&Report) -> u64;
    type Before = fn(&Baseline) -> u64;
    let rows: [(&str, Pick, Before); 5] = [
        ("`.text`", |r| r.section_group(".text"), |b| b.text),
        ("`.rodata*`", |r| r.section_group(".rodata"), |b| b.rodata),
        ("`.rwtext*` + `.trap`", |r| r.section_group(".rwtext") + r.section_group(".trap"), |b| b.rwtext),
        ("`.data*`", |r| r.section_group(".data"), |b| b.data),
        ("`.bss`", |r| r.section_group(".bss"), |b| b.bss),
    ];
    for (label, now, before) in rows {
        let _ = write!(d, "| {label} |");
        for r in reports {
            let (n, b) = (now(r), before(&r.chip.baseline));
            let _ = write!(d, " {} | {} | {} |", thousands(n), thousands(b), delta(n, b));
        }
        d.push('\n');
    }
    d.push_str("| **flash** (all but `.bss`) |");
    for r in reports {
        let b = &r.chip.baseline;
        let now = r.section_group(".text")
            + r.section_group(".rodata")
            + r.section_group(".rwtext")
            + r.section_group(".trap")
            + r.section_group(".data");
        let before = b.text + b.rodata + b.rwtext + b.data;
        let _ = write!(d, " {} | {} | **{}** |", thousands(now), thousands(before), delta(now, before));
    }
    d.push('\n');
}

fn render_statics(d: &mut String, reports: &[Report]) {
    d.push_str(
        "
## The largest statics in RAM

From `llvm-nm --print-size`: task futures live in embassy's task pools (`POOL`), buffers in
`StaticCell`s (one byte more for the cell's flag).
",
    );
    for r in reports {
        let _ = write!(d, "\n{}:\n\n| static | section | bytes |\n|---|---|---:|\n", r.chip.name);
        for (name, section, size) in r.statics.iter().take(12) {
            let _ = writeln!(d, "| `{name}` | `{section}` | {} |", thousands(*size));
        }
    }
}

fn render_types(d: &mut String, probes: &ProbeSizes) {
    d.push_str(
        "
## Sizes of tern's state on riscv32

`size_of` on the ESP32 targets, measured by a probe crate that `cargo xtask size` writes to
`target/size-probe`: each figure is the length of a zeroed `static TERN_SIZE_*: [u8; N]`,
and `llvm-nm --print-size` reads it from the rlib, so nothing runs on the target. A
future's size comes from the async fn's type (`const fn` over `F: FnOnce(..) -> R`, then
`size_of::<R>()`); the probe uses the firmware's `opt-level = \"s\"`, which decides what a
future keeps. riscv32imc is the C3's target (no TLS), riscv32imac the C6's, where
tern-embassy has its `tls` feature, so its client carries a TLS session. The 64-bit host
figures are pinned in `crates/tern-proto/tests/sizes.rs` and
`crates/tern-embassy/tests/server_sizes.rs`.

| what | riscv32imc | riscv32imac |
|---|---:|---:|
",
    );
    for probe in PROBES {
        let show = |sizes: &BTreeMap<String, u64>| sizes.get(probe.name).map_or("–".to_string(), |n| thousands(*n));
        let _ = writeln!(d, "| {} | {} | {} |", probe.what, show(&probes.imc), show(&probes.imac));
    }
}

fn render_sessions(d: &mut String, probes: &ProbeSizes, c3: &Report, session_fw: u64, session_static: u64) -> Result {
    let get = |name: &str| {
        probes.imc.get(name).copied().ok_or_else(|| Error::new(format!("no probe figure {name} for riscv32imc")))
    };
    let (engine, socket) = (get("ENGINE_BUFFER")?, get("SOCKET_BUFFER")?);
    let (serve_fw, serve_static) = (get("SERVE_FIRMWARE")?, get("SERVE_STATIC")?);
    let _ = write!(
        d,
        "
## RAM per server session

At ESP-IDF's default limits (riscv32imc; the same on riscv32imac): each session is one
`Server::serve` loop with its own `DefaultSessionBuffers`, and the loop's future holds the
socket, the engine state, the response head being built and the handler's future. The
firmware's handlers are `advanced_tests`', whose `/echo` reads the body into a 2 KiB array
of its own; a handler that sends a static page needs {serve_static} bytes of future.

| part | the firmware | static page |
|---|---:|---:|
| engine buffer (`ServerConfig::buffer_len()`) | {engine} | {engine} |
| socket receive buffer | {socket} | {socket} |
| socket transmit buffer | {socket} | {socket} |
| `serve` future | {serve_fw} | {serve_static} |
| **per session** | **{session_fw}** | **{session_static}** |
| **7 sessions** (`max_open_sockets`) | **{sessions_fw}** | **{sessions_static}** |

Shared by all sessions: the server's tables ({server} bytes for the firmware's 7 sessions
and 9 routes). Each session's TCP socket also takes a slot in embassy-net's
`StackResources` ({slot} bytes a slot).

ESP-IDF's httpd keeps per session a socket slot with a 128-byte buffer for bytes read past
a request, and per server one scratch buffer for the request head and one task stack (4,096
bytes) that every handler runs on; lwIP allocates TCP buffers per segment, so ESP-IDF has no
fixed per-session figure to set beside these.
{check}",
        engine = thousands(engine),
        socket = thousands(socket),
        serve_fw = thousands(serve_fw),
        serve_static = thousands(serve_static),
        session_fw = thousands(session_fw),
        session_static = thousands(session_static),
        sessions_fw = thousands(session_fw * SESSIONS),
        sessions_static = thousands(session_static * SESSIONS),
        server = thousands(get("SERVER_FIRMWARE")?),
        slot = thousands(get("STACK_SLOT")?),
        check = firmware_check(c3, get("SESSION_BUFFERS")?, serve_fw),
    );
    Ok(())
}

/// The firmware's own statics against the probe's figures: the session buffers and the
/// server task's pool, which holds the seven `serve` futures.
fn firmware_check(r: &Report, buffers: u64, serve: u64) -> String {
    let find = |suffix: &str| r.statics.iter().find(|(name, _, _)| name.ends_with(suffix)).map(|(_, _, size)| *size);
    let (Some(all_buffers), Some(pool)) = (find("::app::SESSION_BUFFERS"), find("::server_task::POOL")) else {
        return String::new();
    };
    format!(
        "
The {chip} firmware's statics agree: `app::SESSION_BUFFERS` is {all_buffers} bytes (7 × {buffers}
and the `StaticCell`'s flag), and the server task's pool {pool} bytes (7 × {serve} = {futures}, and
{rest} of task header and `join_array`).
",
        chip = r.chip.name,
        all_buffers = thousands(all_buffers),
        buffers = thousands(buffers),
        pool = thousands(pool),
        serve = thousands(serve),
        futures = thousands(SESSIONS * serve),
        rest = pool.saturating_sub(SESSIONS * serve),
    )
}

/// Flash and static RAM of a report, by the rows of the comparison table.
fn section_rows(r: &Report) -> [u64; 9] {
    let text = r.section_group(".text");
    let rodata = r.section_group(".rodata");
    let data = r.section_group(".data");
    let code_in_ram = r.section_group(".rwtext") + r.section_group(".trap");
    let bss = r.section_group(".bss");
    let flash = r.flash();
    let ram = r.ram();
    [text, rodata, flash - text - rodata, flash, data, bss, code_in_ram, data + bss, ram]
}

fn render_comparison(
    d: &mut String,
    header: &Header,
    tern: &Report,
    edge: &Report,
    probes: &ProbeSizes,
    session_tern: u64,
) -> Result {
    let versions: Vec<String> = header.edge_versions.iter().map(|(n, v)| format!("{n} {v}")).collect();
    let _ = write!(
        d,
        "
## tern vs edge-http on the ESP32-C3

[`firmware/esp32c3-edge-http`](../firmware/esp32c3-edge-http) is the ESP32-C3 firmware with
[edge-http](https://crates.io/crates/edge-http) in tern's place: the same bring-up, Wi-Fi,
embassy-net stack, heap and socket slots (`common/board.rs`), the same `advanced_tests` URIs
served by 7 handler tasks with 2,048-byte buffers, tern's 1,536-byte socket buffers and 5 s
I/O timeouts, and the same GET every minute. Versions (its `Cargo.lock`): {versions}; the
esp-rs and embassy crates are the C3's. Its handlers and GET are a crate of their own,
`edge-http-examples`, as tern's are in `tern-embassy-examples`, and count with the HTTP
stack in both. What edge-http cannot do that the tern firmware does, it does without (see
[firmware/README.md](../firmware/README.md#the-edge-http-comparison-firmware)): a session
context for `/adder` (its sum is per handler task), error responses from the server itself
(400, 414, 431, 501, 505: edge-http closes the connection), an idle timeout longer than the
5 s I/O timeout (which also bounds the wait for the next request), redirects and URL parsing
in the client.

| | tern | edge-http | edge-http − tern |
|---|---:|---:|---:|
",
        versions = versions.join(", "),
    );
    let labels = [
        "`.text`",
        "`.rodata*`",
        "RAM images (`.data*`, `.rwtext*`, `.trap`) and `.flash.appdesc`",
        "**flash**",
        "`.data*`",
        "`.bss`",
        "`.rwtext*` and `.trap` (code run from RAM)",
        "static RAM: `.data*` + `.bss`",
        "**static RAM** (with the code in RAM)",
    ];
    let (t, e) = (section_rows(tern), section_rows(edge));
    for ((label, t), e) in labels.iter().zip(t).zip(e) {
        let _ = writeln!(d, "| {label} | {} | {} | {} |", thousands(t), thousands(e), delta(e, t));
    }

    // The HTTP stacks' code.
    let library = |r: &Report| {
        let (lines, bloat) = r.tern_code();
        let (ex_lines, ex_bloat) = r.crate_code(r.chip.examples);
        (lines - ex_lines, bloat - ex_bloat)
    };
    let (t_lib, e_lib) = (library(tern), library(edge));
    let (t_ex, e_ex) = (tern.crate_code(tern.chip.examples), edge.crate_code(edge.chip.examples));
    let (t_all, e_all) = (tern.tern_code(), edge.tern_code());
    let (t_app, e_app) = (tern.code_of(&[Group::App]), edge.code_of(&[Group::App]));
    let network = |r: &Report| {
        let (a, b) = (r.crate_code("embassy_net"), r.crate_code("smoltcp"));
        (a.0 + b.0, a.1 + b.1)
    };
    let (t_net, e_net) = (network(tern), network(edge));
    let share = |n: u64, r: &Report| format!("{} ({})", thousands(n), percent(n, r.text));
    let _ = write!(
        d,
        "
The HTTP stack's code (as in the tables above: by source line, and by symbol with
cargo-bloat). tern's library is tern-proto and tern-embassy with httparse and the hashes of
Digest authentication and the WebSocket handshake; edge-http's is edge-http, edge-nal and
edge-nal-embassy with httparse, base64 and sha1_smol (its WebSocket handshake).

| code in `.text` | tern | edge-http | edge-http − tern |
|---|---:|---:|---:|
| HTTP library, by source line | {t_lib_l} | {e_lib_l} | {d_lib_l} |
| example handlers and GET, by source line | {t_ex_l} | {e_ex_l} | {d_ex_l} |
| **HTTP stack, by source line** | **{t_all_l}** | **{e_all_l}** | **{d_all_l}** |
| HTTP stack, by symbol | {t_all_b} | {e_all_b} | {d_all_b} |
| the firmware's own code (bring-up, tasks), by source line | {t_app_l} | {e_app_l} | {d_app_l} |
| embassy-net and smoltcp, by source line | {t_net_l} | {e_net_l} | {d_net_l} |

Both firmware images ask for IPv4 only: tern-embassy's `ipv6` feature (on by default) is off
in the firmware, as edge-nal-embassy's is in the edge-http image. tern-embassy still turns on
embassy-net's `medium-ip` (smoltcp builds with no medium otherwise), which accounts for what
the last row still differs.

| crate | firmware | by source line | by symbol |
|---|---|---:|---:|
",
        t_lib_l = share(t_lib.0, tern),
        e_lib_l = share(e_lib.0, edge),
        d_lib_l = delta(e_lib.0, t_lib.0),
        t_ex_l = share(t_ex.0, tern),
        e_ex_l = share(e_ex.0, edge),
        d_ex_l = delta(e_ex.0, t_ex.0),
        t_all_l = share(t_all.0, tern),
        e_all_l = share(e_all.0, edge),
        d_all_l = delta(e_all.0, t_all.0),
        t_all_b = share(t_all.1, tern),
        e_all_b = share(e_all.1, edge),
        d_all_b = delta(e_all.1, t_all.1),
        t_app_l = share(t_app.0, tern),
        e_app_l = share(e_app.0, edge),
        d_app_l = delta(e_app.0, t_app.0),
        t_net_l = share(t_net.0, tern),
        e_net_l = share(e_net.0, edge),
        d_net_l = delta(e_net.0, t_net.0),
    );
    for r in [tern, edge] {
        for name in r.chip.stack_crates.iter().chain(r.chip.stack_deps) {
            let (lines, bloat) = r.crate_code(name);
            if lines > 0 || bloat > 0 {
                let _ = writeln!(d, "| `{name}` | {} | {} | {} |", r.chip.stack, thousands(lines), thousands(bloat));
            }
        }
    }

    // RAM per session.
    let edge_get = |name: &str| {
        probes.edge.get(name).copied().ok_or_else(|| Error::new(format!("no edge-http probe figure {name}")))
    };
    let tern_get = |name: &str| {
        probes.imc.get(name).copied().ok_or_else(|| Error::new(format!("no probe figure {name} for riscv32imc")))
    };
    let (buffer, socket, run) = (edge_get("BUFFER")?, edge_get("SOCKET_BUFFER")?, edge_get("RUN")?);
    let run_share = run / SESSIONS;
    let session_edge = buffer + 2 * socket + run_share;
    let (engine, tern_socket, serve) =
        (tern_get("ENGINE_BUFFER")?, tern_get("SOCKET_BUFFER")?, tern_get("SERVE_FIRMWARE")?);
    let _ = write!(
        d,
        "
RAM per server session, as [above](#ram-per-server-session) for tern. edge-http's
`Server<7, 2048, 64>` holds each handler task's buffer; the socket buffers come from a pool
of edge-nal-embassy's (`TcpBuffers<7, 1536, 1536>`, one slot per task); the 7 tasks'
futures are one `Server::run` future, {run} bytes, which the table shares out evenly.

| part | tern | edge-http |
|---|---:|---:|
| request buffer (tern: the engine buffer; edge-http: the task's buffer) | {engine} | {buffer} |
| socket receive buffer | {tern_socket} | {socket} |
| socket transmit buffer | {tern_socket} | {socket} |
| future (tern: `serve`; edge-http: a seventh of `Server::run`) | {serve} | {run_share} |
| **per session** | **{session_tern}** | **{session_edge}** |
| **7 sessions** | **{sessions_tern}** | **{sessions_edge}** |

Two things make edge-http's share of the future larger than tern's `serve` future. One
handler task's loop is {task} bytes, mostly one connection's `handle_connection` future
({handle_connection}), of which `handle_request` takes {handle_request}: the `Connection`
with the request's 64 header slots (edge-http's default `N`, 16 bytes each on riscv32, where
tern keeps the parsed head in its engine buffer) and the handler's future, {handler} bytes
(`/echo` holds a 2 KiB body in both firmware). And `run` is about twice its tasks (7 ×
{task} = {tasks}): it builds them in a `heapless::Vec` and then moves the `Vec` into
`pin!`, and rustc keeps both places in the future (the pattern of rust-lang/rust#59087).
A task waiting for a connection holds the `accept` future, {accept} bytes, socket included.
Shared by all sessions: tern's server tables ({server} bytes); edge-http has none (the
handler and its 7 sums are in the `run` future).

| edge-http figure (riscv32imc) | bytes |
|---|---:|
",
        run = thousands(run),
        engine = thousands(engine),
        buffer = thousands(buffer),
        tern_socket = thousands(tern_socket),
        socket = thousands(socket),
        serve = thousands(serve),
        run_share = thousands(run_share),
        session_tern = thousands(session_tern),
        session_edge = thousands(session_edge),
        sessions_tern = thousands(session_tern * SESSIONS),
        sessions_edge = thousands(session_edge * SESSIONS),
        task = thousands(edge_get("TASK")?),
        tasks = thousands(SESSIONS * edge_get("TASK")?),
        handle_connection = thousands(edge_get("HANDLE_CONNECTION")?),
        handle_request = thousands(edge_get("HANDLE_REQUEST")?),
        handler = thousands(edge_get("HANDLER")?),
        accept = thousands(edge_get("ACCEPT")?),
        server = thousands(tern_get("SERVER_FIRMWARE")?),
    );
    for probe in EDGE_PROBES {
        let _ = writeln!(d, "| {} | {} |", probe.what, thousands(edge_get(probe.name)?));
    }
    d.push_str(&edge_check(edge, &probes.edge));
    Ok(())
}

/// The edge-http firmware's statics against the probe's figures.
fn edge_check(r: &Report, sizes: &BTreeMap<String, u64>) -> String {
    let find = |suffix: &str| r.statics.iter().find(|(name, _, _)| name.ends_with(suffix)).map(|(_, _, size)| *size);
    let figure = |name: &str| sizes.get(name).copied();
    let (Some(server), Some(sockets), Some(pool), Some(client_pool), Some(client_sockets)) = (
        find("::app::SERVER"),
        find("::app::SERVER_SOCKETS"),
        find("::server_task::POOL"),
        find("::client_task::POOL"),
        find("::app::CLIENT_SOCKETS"),
    ) else {
        return String::new();
    };
    let (Some(buffer), Some(slot), Some(run), Some(get)) =
        (figure("BUFFER"), figure("SOCKET_SLOT"), figure("RUN"), figure("GET"))
    else {
        return String::new();
    };
    format!(
        "
The edge-http firmware's statics agree: `app::SERVER` is {server} bytes (7 × {buffer} and the
`ConstStaticCell`'s flag), `app::SERVER_SOCKETS` {sockets} (7 slots of {slot} and the cell's
flag), the server task's pool {pool} (the `run` future, {run}, and {rest} of task header and
the `server` function around it). The client: its task's pool {client_pool} bytes (the GET
future, {get}, the 2 KiB connection buffer and the 256-byte piece), its socket buffers
`app::CLIENT_SOCKETS` {client_sockets} bytes.
",
        server = thousands(server),
        buffer = thousands(buffer),
        sockets = thousands(sockets),
        slot = thousands(slot),
        pool = thousands(pool),
        run = thousands(run),
        rest = thousands(pool.saturating_sub(run)),
        client_pool = thousands(client_pool),
        get = thousands(get),
        client_sockets = thousands(client_sockets),
    )
}

fn render_reproduce(d: &mut String) {
    d.push_str(
        "
## Reproduce

```sh
cargo xtask size
```

It builds the three firmware (`cargo build --release` in each project, into
`target/firmware`, as `cargo xtask ci` does), installs cargo-bloat when it is missing
(`cargo install cargo-bloat --locked`), runs `cargo bloat --release --crates -n 0
--message-format json` in each project, reads the sections, symbols and line tables with
llvm-size, llvm-nm and llvm-dwarfdump (Debian package llvm; the C6 also needs clang and
libnewlib-dev for ring), builds the probe crate in `target/size-probe` for both targets and
the edge-http one in `target/size-probe-edge`, and rewrites this file. Two runs give the same file but for the date. On a 2-core machine it
took 2.5 min from empty `target/firmware` and `target/size-probe` (the firmware builds 2 min,
the probe 30 s) before the edge-http firmware, which adds about 25 s (its build reuses the
C3's crates) and 10 s for its probe, and 10 s when nothing changed; installing cargo-bloat
adds 15 to 30 s.
",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_directories_lose_their_versions() {
        assert_eq!(strip_version("esp-radio-1.0.0-beta.1"), "esp-radio");
        assert_eq!(strip_version("md-5-0.11.0"), "md-5");
        assert_eq!(strip_version("esp32c3-0.34.0"), "esp32c3");
        assert_eq!(crate_name(strip_version("rustls-webpki-0.103.16")), "webpki");
    }

    #[test]
    fn legacy_symbols_are_demangled_and_attributed() {
        let name = unescape_rust(
            "_$LT$tern_embassy..net..TcpTransport$u20$as$u20$tern_embassy..transport..Transport$GT$::connect::_$u7b$$u7b$closure$u7d$$u7d$::ha301967fc87c0ade",
        );
        assert_eq!(
            name,
            "<tern_embassy::net::TcpTransport as tern_embassy::transport::Transport>::connect::{{closure}}"
        );
        assert_eq!(symbol_crate(&name).as_deref(), Some("tern_embassy"));
        assert_eq!(symbol_crate("<T as core::fmt::Debug>::fmt").as_deref(), Some("core"));
        assert_eq!(symbol_crate("<&mut [u8] as x::Y>::z").as_deref(), Some("x"));
        assert_eq!(symbol_crate("memcpy"), None);
    }

    #[test]
    fn source_paths_are_attributed() {
        let origin = |path: &str| match path_origin(path, "/repo", "fw") {
            Origin::Crate(name) => name,
            Origin::Std => "std".to_string(),
            Origin::NoCrate => "none".to_string(),
        };
        assert_eq!(origin("/repo/crates/tern-proto/src/lib.rs"), "tern_proto");
        assert_eq!(origin("/repo/firmware/esp32c3/src/app.rs"), "fw");
        assert_eq!(origin("/repo/firmware/common/board.rs"), "fw");
        assert_eq!(origin("/repo/firmware/esp32c3-edge-http/edge-http-examples/src/fetch.rs"), "edge_http_examples");
        assert_eq!(origin("/home/u/.cargo/registry/src/index.crates.io-1/edge-nal-0.7.0/src/lib.rs"), "edge_nal");
        assert_eq!(origin("/rustc/abc/library/core/src/fmt/mod.rs"), "std");
    }

    #[test]
    fn cargo_bloat_json_is_read() {
        let json = r#"{"file-size":10,"text-section-size":9,"crates":[{"name":"[Unknown]","size":5},{"name":"tern_proto","size":4}]}"#;
        let crates = parse_bloat_crates(json).unwrap();
        assert_eq!(crates.get("[Unknown]"), Some(&5));
        assert_eq!(crates.get("tern_proto"), Some(&4));
        assert!(parse_bloat_crates("{}").is_none());
    }

    #[test]
    fn numbers_are_formatted() {
        assert_eq!(thousands(1_049_542), "1,049,542");
        assert_eq!(thousands(999), "999");
        assert_eq!(delta(5, 7), "−2");
        assert_eq!(percent(1, 8), "12.5%");
    }
}

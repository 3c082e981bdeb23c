//! `cargo xtask bench`: every benchmark, each against its peer in the same run.
//!
//! - `parse`: head parsing against bare httparse on the same bytes and chunked decoding
//!   against a bare memchr decoder (criterion, `crates/tern-proto/benches/heads.rs` and
//!   `chunked.rs`), and instruction counts under callgrind for those and for a warm
//!   keep-alive exchange through each engine (gungraun, `benches/instructions.rs`; needs
//!   valgrind and `gungraun-runner` 0.20.0, skipped with a note when either is missing);
//! - client keep-alive requests per second and allocations per request: tern-std and
//!   tern-tokio against ureq 3, reqwest, curl and a null client, one hyper server
//!   (`bench_client.rs`);
//! - server requests per second with wrk: tern-tokio's advanced_tests `/hello` against a hyper
//!   hello server, a null tokio server (the runtime's ceiling) and nginx (`bench_server.rs`);
//! - `tls`: in memory, tern-tls against rustls' buffered connections on the same
//!   configurations (handshakes/s, bulk MB/s; `crates/tern-tls/benches/tls.rs`), then a TLS
//!   handshake and GET, a fresh process each: the `tern` command against curl, same nginx
//!   (`bench_tls.rs`).
//!
//! `--quick` runs fewer rounds where a bench has rounds.
//!
//! Figures are ratios against the peer measured in the same run: the machines are shared and
//! noisy, so absolute numbers mean little. `docs/benchmarks.md` records the results.

use crate::cmd::{Cmd, Error, Result};

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str = "cargo xtask bench [parse|client|server|tls] [--quick]";

/// What `bench` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str =
    "run the benchmarks (tern against httparse, memchr, ureq, reqwest, hyper, nginx, rustls, curl) and print ratios";

/// Runs `cargo xtask bench`.
pub(crate) fn main(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    let rest: Vec<&str> = args.iter().map(String::as_str).filter(|a| *a != "--quick").collect();
    let which = rest.first().copied();
    if rest.len() > 1 || !matches!(which, None | Some("parse" | "client" | "server" | "tls")) {
        return Err(Error::new(format!("unexpected arguments {args:?}; usage: {USAGE}")));
    }
    if matches!(which, None | Some("parse")) {
        Cmd::cargo().args(["bench", "-p", "tern-proto", "--bench", "heads", "--bench", "chunked"]).run()?;
        if crate::bench_alloc::available() && crate::bench_peers::has("gungraun-runner") {
            Cmd::cargo().args(["bench", "-p", "tern-proto", "--bench", "instructions"]).run()?;
        } else {
            println!(
                "instruction counts skipped: they need valgrind and gungraun-runner \
                 (cargo install gungraun-runner --version 0.20.0 --locked)"
            );
        }
    }
    if matches!(which, None | Some("client")) {
        crate::bench_client::main(quick)?;
    }
    if matches!(which, None | Some("server")) {
        crate::bench_server::main(quick)?;
    }
    if matches!(which, None | Some("tls")) {
        let rounds = if quick { "5" } else { "21" };
        Cmd::cargo().args(["bench", "-p", "tern-tls", "--bench", "tls", "--", "--rounds", rounds]).run()?;
        crate::bench_tls::main(quick)?;
    }
    Ok(())
}

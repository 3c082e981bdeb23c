//! `cargo xtask bench`: every benchmark, each against its peer in the same run.
//!
//! - head parsing: tern-proto against bare httparse on the same bytes (criterion,
//!   `crates/tern-proto/benches/heads.rs`);
//! - client keep-alive requests per second and allocations per request: tern-std and
//!   tern-tokio against ureq 3, reqwest, curl and a null client, one hyper server
//!   (`bench_client.rs`);
//! - server requests per second with wrk: tern-tokio's advanced_tests `/hello` against a hyper
//!   hello server, a null tokio server (the runtime's ceiling) and nginx (`bench_server.rs`);
//! - a TLS handshake and GET, a fresh process each: the `tern` command against curl, same
//!   nginx (`bench_tls.rs`; `--quick` runs fewer rounds).
//!
//! Figures are ratios against the peer measured in the same run: the machines are shared and
//! noisy, so absolute numbers mean little. `docs/benchmarks.md` records the results.

use crate::cmd::{Cmd, Error, Result};

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str = "cargo xtask bench [heads|client|server|tls] [--quick]";

/// What `bench` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str = "run the benchmarks (tern against httparse, ureq, hyper, curl) and print ratios";

/// Runs `cargo xtask bench`.
pub(crate) fn main(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    let rest: Vec<&str> = args.iter().map(String::as_str).filter(|a| *a != "--quick").collect();
    let which = rest.first().copied();
    if rest.len() > 1 || !matches!(which, None | Some("heads" | "client" | "server" | "tls")) {
        return Err(Error::new(format!("unexpected arguments {args:?}; usage: {USAGE}")));
    }
    if matches!(which, None | Some("heads")) {
        Cmd::cargo().args(["bench", "-p", "tern-proto", "--bench", "heads"]).run()?;
    }
    if matches!(which, None | Some("client")) {
        crate::bench_client::main(quick)?;
    }
    if matches!(which, None | Some("server")) {
        crate::bench_server::main(quick)?;
    }
    if matches!(which, None | Some("tls")) {
        crate::bench_tls::main(quick)?;
    }
    Ok(())
}

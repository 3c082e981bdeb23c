//! `cargo xtask faults [--quick] [SCENARIO...]`: the faults-and-load run (issue 9), the
//! `tern-faults` program built in release and run on loopback. Without scenarios it runs them
//! all: `keepalive` (10,000 connections at once), `slow` (one byte a second), `vanishing-clients`,
//! `vanishing-servers` and `churn` (one million sessions). `--quick` runs each smaller; CI runs
//! that. Each scenario prints what it measured; a failing one names the state and the reason,
//! and the command exits non-zero. `crates/tern-faults/src/main.rs` documents every scenario.

use crate::cmd::{Cmd, Result};

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str =
    "cargo xtask faults [--quick] [keepalive|slow|vanishing-clients|vanishing-servers|churn]...";

/// What `faults` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str =
    "faults and load on loopback: 10k connections, slow and vanishing peers, 1M sessions (--quick: smaller)";

/// Runs `cargo xtask faults` with its arguments (passed on to `tern-faults`).
pub(crate) fn main(args: &[String]) -> Result {
    Cmd::cargo().args(["run", "--release", "--quiet", "-p", "tern-faults", "--"]).args(args).run()
}

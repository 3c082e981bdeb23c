//! `cargo xtask ci [--skip-fuzz]`: every check CI runs, in order, stopping at the first
//! failure.
//!
//! 1. formatting (`cargo fmt --check`, the workspace and the fuzz crate);
//! 2. clippy on the workspace, all targets, default features;
//! 3. clippy on tern-proto with no default features and with all features, on tern-tls
//!    without std, and on tern-std and tern-tokio without TLS;
//! 4. the interop peers: a Python venv with httpbin, gunicorn and h11 ([`crate::interop`]);
//! 5. tests: the workspace (interop and differential tests included), then tern-proto with all
//!    features;
//! 6. the faults-and-load run at its quick size ([`crate::faults`]: 1,000 connections at once,
//!    slow and vanishing peers, 20,000 sessions);
//! 7. no_std builds of tern-proto and tern-embassy for the ESP32-C3/C6 targets (`riscv32imc`,
//!    `riscv32imac`),
//!    and of tern-tls with ring for `riscv32imac` (the C6; the C3 has no atomics for rustls);
//! 8. the ESP32-C3 and ESP32-C6 firmware (`firmware/`), and the C3's with edge-http in
//!    tern's place (the footprint comparison's): `cargo fmt --check` and
//!    `cargo build --release` each, then the ELF sizes ([`crate::firmware::build`]); nothing
//!    is flashed;
//! 9. rustdoc with warnings denied;
//! 10. a fuzz smoke run of every fuzz target ([`crate::fuzz::smoke`]); `--skip-fuzz` skips it.
//!
//! Each step prints its wall time and a summary table closes the run. `.ci/run` prepares a
//! fresh machine and then runs exactly `cargo xtask ci`, README's test command.

use crate::cmd::{Cmd, Error, Result};
use crate::fuzz;
use crate::steps::Steps;

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str = "cargo xtask ci [--skip-fuzz]";

/// What `ci` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str = "run every CI check: fmt, clippy, tests, no_std builds, firmware, docs, fuzz smoke";

/// The no_std targets tern-proto must build for (ESP32-C3 and ESP32-C6 class RISC-V cores).
const NO_STD_TARGETS: [&str; 2] = ["riscv32imc-unknown-none-elf", "riscv32imac-unknown-none-elf"];

/// The TLS target (atomic compare-and-swap, which rustls' `Arc` needs) and the C toolchain
/// ring's C code is built with there: clang, llvm-ar, and newlib's headers for `assert.h` and
/// `string.h` (Debian packages clang, llvm and libnewlib-dev). The ESP32-C6 firmware builds
/// ring with the same.
const TLS_TARGET: &str = "riscv32imac-unknown-none-elf";
pub(crate) const TLS_TARGET_C_ENV: [(&str, &str); 3] = [
    ("CC_riscv32imac_unknown_none_elf", "clang"),
    ("AR_riscv32imac_unknown_none_elf", "llvm-ar"),
    ("CFLAGS_riscv32imac_unknown_none_elf", "-isystem /usr/include/newlib"),
];

/// Runs `cargo xtask ci` with its arguments.
pub(crate) fn main(args: &[String]) -> Result {
    let mut skip_fuzz = false;
    for arg in args {
        match arg.as_str() {
            "--skip-fuzz" => skip_fuzz = true,
            other => {
                return Err(Error::new(format!("unexpected argument `{other}`; usage: {USAGE}")));
            }
        }
    }
    // Read the fuzz setting before spending minutes on the other steps.
    let fuzz_secs = if skip_fuzz { 0 } else { fuzz::smoke_secs()? };

    let mut steps = Steps::new(10);
    steps.run("fmt", || {
        cargo(&["fmt", "--all", "--", "--check"]).run()?;
        cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]).run()
    })?;
    steps.run("clippy (workspace, all targets)", || {
        cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]).run()
    })?;
    steps.run("clippy (feature sets: tern-proto, tern-tls, adapters without TLS)", || {
        for features in ["--no-default-features", "--all-features"] {
            cargo(&["clippy", "-p", "tern-proto", features, "--", "-D", "warnings"]).run()?;
        }
        let no_std = ["--no-default-features", "--features", "ring,tls12,webpki-roots"];
        cargo(&["clippy", "-p", "tern-tls"]).args(no_std).args(["--", "-D", "warnings"]).run()?;
        // The adapters without their default `tls` feature (https is then TlsUnavailable).
        let without_tls = ["-p", "tern-std", "-p", "tern-tokio", "--no-default-features", "--all-targets"];
        cargo(&["clippy"]).args(without_tls).args(["--", "-D", "warnings"]).run()
    })?;
    steps.run("interop peers (httpbin venv)", crate::interop::setup)?;
    steps.run("test", || {
        cargo(&["test", "--workspace"]).run()?;
        cargo(&["test", "-p", "tern-proto", "--all-features"]).run()
    })?;
    steps.run("faults and load (quick)", || crate::faults::main(&["--quick".to_owned()]))?;
    steps.run("no_std builds", || {
        for target in NO_STD_TARGETS {
            cargo(&["build", "-p", "tern-proto", "--no-default-features", "--target", target]).run()?;
            cargo(&["build", "-p", "tern-embassy", "--target", target]).run()?;
        }
        let mut tls = cargo(&["build", "-p", "tern-tls", "-p", "tern-embassy", "--release", "--target", TLS_TARGET]);
        tls = tls.args(["--no-default-features", "--features", "tern-tls/ring,tern-tls/tls12,tern-tls/webpki-roots"]);
        tls = tls.args(["--features", "tern-embassy/embassy-net,tern-embassy/tls"]);
        for (key, value) in TLS_TARGET_C_ENV {
            tls = tls.env(key, value);
        }
        tls.run()
    })?;
    steps.run("firmware builds", crate::firmware::build)?;
    steps.run("doc", || cargo(&["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings").run())?;
    if skip_fuzz {
        steps.skip("fuzz smoke", "--skip-fuzz");
    } else {
        steps.run("fuzz smoke", || fuzz::smoke(fuzz_secs))?;
    }

    steps.summary();
    eprintln!("\nci: all checks passed");
    Ok(())
}

/// `cargo` with these arguments, in the workspace root.
fn cargo(args: &[&str]) -> Cmd {
    Cmd::cargo().args(args)
}

//! `cargo xtask ci [--skip-fuzz]`: every check CI runs, in order, stopping at the first
//! failure.
//!
//! 1. formatting (`cargo fmt --check`, the workspace and the fuzz crate);
//! 2. clippy on the workspace, all targets, default features;
//! 3. clippy on tern-proto with no default features and with all features;
//! 4. the interop peers: a Python venv with httpbin and gunicorn ([`crate::interop`]);
//! 5. tests: the workspace (interop tests included), then tern-proto with all features;
//! 6. no_std builds of tern-proto for the ESP32-C3/C6 targets (`riscv32imc`, `riscv32imac`);
//! 7. rustdoc with warnings denied;
//! 8. a fuzz smoke run of every fuzz target ([`crate::fuzz::smoke`]); `--skip-fuzz` skips it.
//!
//! Each step prints its wall time and a summary table closes the run. `.ci/run` prepares a
//! fresh machine and then runs exactly `cargo xtask ci`, README's test command.

use crate::cmd::{Cmd, Error, Result};
use crate::fuzz;
use crate::steps::Steps;

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str = "cargo xtask ci [--skip-fuzz]";

/// What `ci` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str = "run every CI check: fmt, clippy, tests, no_std builds, docs, fuzz smoke";

/// The no_std targets tern-proto must build for (ESP32-C3 and ESP32-C6 class RISC-V cores).
const NO_STD_TARGETS: [&str; 2] = ["riscv32imc-unknown-none-elf", "riscv32imac-unknown-none-elf"];

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

    let mut steps = Steps::new(8);
    steps.run("fmt", || {
        cargo(&["fmt", "--all", "--", "--check"]).run()?;
        cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]).run()
    })?;
    steps.run("clippy (workspace, all targets)", || {
        cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]).run()
    })?;
    steps.run("clippy (tern-proto feature sets)", || {
        for features in ["--no-default-features", "--all-features"] {
            cargo(&["clippy", "-p", "tern-proto", features, "--", "-D", "warnings"]).run()?;
        }
        Ok(())
    })?;
    steps.run("interop peers (httpbin venv)", crate::interop::setup)?;
    steps.run("test", || {
        cargo(&["test", "--workspace"]).run()?;
        cargo(&["test", "-p", "tern-proto", "--all-features"]).run()
    })?;
    steps.run("no_std builds", || {
        for target in NO_STD_TARGETS {
            cargo(&["build", "-p", "tern-proto", "--no-default-features", "--target", target]).run()?;
        }
        Ok(())
    })?;
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

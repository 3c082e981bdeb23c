//! `cargo xtask interop-setup`: the real peers the interop tests talk to.
//!
//! Creates `target/interop-venv`, a Python virtual environment with httpbin, gunicorn and h11 at
//! pinned versions (the tests start `gunicorn -k gthread httpbin:app` on a free loopback port
//! through `tern-testkit`, and `tern-tokio/tests/differential.rs` feeds the hostile-input
//! catalogue to h11 through `tern-testkit/py/h11_verdicts.py`). It does nothing when the
//! environment already has them, so `ci` runs it before the tests at almost no cost. curl itself
//! comes from the system (`.ci/run` installs it on a fresh machine).

use std::path::PathBuf;

use crate::cmd::{Cmd, Error, Result, root};

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str = "cargo xtask interop-setup";

/// What `interop-setup` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str = "create target/interop-venv with httpbin + gunicorn + h11 for the interop tests";

/// The packages, pinned so every run talks to the same peers.
const PACKAGES: [&str; 4] = ["httpbin==0.10.4", "gunicorn==27.0.1", "flask==3.1.3", "h11==0.16.0"];

/// Runs `cargo xtask interop-setup`.
pub(crate) fn main(args: &[String]) -> Result {
    if let Some(arg) = args.first() {
        return Err(Error::new(format!("unexpected argument `{arg}`; usage: {USAGE}")));
    }
    setup()
}

/// The virtual environment's directory.
pub(crate) fn venv() -> PathBuf {
    root().join("target").join("interop-venv")
}

/// Creates the environment unless it already has every pinned package.
pub(crate) fn setup() -> Result {
    let venv = venv();
    let python = venv.join("bin").join("python");
    let stamp = venv.join("tern-packages.txt");
    let wanted = PACKAGES.join("\n");
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        eprintln!("interop-setup: {} is ready", venv.display());
        return Ok(());
    }
    let system_python = ["python3", "python"]
        .into_iter()
        .find(|p| Cmd::new(p).arg("--version").probe())
        .ok_or_else(|| Error::new("no python3 on PATH: install python3 and python3-venv"))?;
    Cmd::new(system_python).args(["-m", "venv", "--clear"]).arg(&venv).run()?;
    Cmd::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(PACKAGES).run()?;
    std::fs::write(&stamp, wanted).map_err(|e| Error::new(format!("writing {}: {e}", stamp.display())))?;
    Ok(())
}

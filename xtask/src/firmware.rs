//! The ESP32 firmware builds for `ci`: `firmware/esp32c3`, `firmware/esp32c3-edge-http` (the
//! C3 firmware with edge-http in tern's place, for the footprint comparison) and
//! `firmware/esp32c6`, each its own Cargo workspace for its own target (their
//! `.cargo/config.toml` sets the target, the linker script and, for the C6, ring's C
//! toolchain). Their formatting is checked first.
//!
//! All build in one target directory, `target/firmware`, so the host-side build scripts and
//! proc macros they share are built once, and the edge-http firmware, built right after the
//! C3's, reuses its esp-rs and embassy crates (same versions, features and profile). Nothing is flashed: CI has no board. After each build
//! the ELF's size is printed, and its sections (debug info left out) when `llvm-size` is
//! installed (Debian package llvm).

use std::path::{Path, PathBuf};

use crate::cmd::{Cmd, Error, Result, display_path, root};

/// A firmware project: its directory, target and binary, and the extra environment its
/// build needs.
pub(crate) struct Firmware {
    pub(crate) dir: &'static str,
    pub(crate) target: &'static str,
    pub(crate) bin: &'static str,
    pub(crate) env: &'static [(&'static str, &'static str)],
}

/// The firmware projects, built in this order.
pub(crate) const FIRMWARE: [Firmware; 3] = [
    Firmware { dir: "firmware/esp32c3", target: "riscv32imc-unknown-none-elf", bin: "tern-esp32c3", env: &[] },
    // The same firmware with edge-http in tern's place (`cargo xtask size` compares them).
    Firmware {
        dir: "firmware/esp32c3-edge-http",
        target: "riscv32imc-unknown-none-elf",
        bin: "edge-http-esp32c3",
        env: &[],
    },
    // The project's `.cargo/config.toml` sets ring's C toolchain too; CI says it explicitly.
    Firmware {
        dir: "firmware/esp32c6",
        target: "riscv32imac-unknown-none-elf",
        bin: "tern-esp32c6",
        env: &crate::ci::TLS_TARGET_C_ENV,
    },
];

/// The target directory every firmware project builds in.
pub(crate) fn target_dir() -> PathBuf {
    root().join("target").join("firmware")
}

impl Firmware {
    /// The project's directory.
    pub(crate) fn dir(&self) -> PathBuf {
        root().join(self.dir)
    }

    /// The release ELF.
    pub(crate) fn elf(&self) -> PathBuf {
        target_dir().join(self.target).join("release").join(self.bin)
    }

    /// `cargo` in the project's directory, building in [`target_dir`] with the project's
    /// environment.
    pub(crate) fn cargo(&self) -> Result<Cmd> {
        let target_dir = target_dir();
        let target_dir =
            target_dir.to_str().ok_or_else(|| Error::new(format!("{} is not UTF-8", target_dir.display())))?;
        let mut cmd = Cmd::cargo().dir(&self.dir()).env("CARGO_TARGET_DIR", target_dir);
        for (key, value) in self.env {
            cmd = cmd.env(key, value);
        }
        Ok(cmd)
    }
}

/// Checks every firmware project's formatting (the workspace's `cargo fmt` does not reach
/// them), builds it with `cargo build --release` and reports the ELF sizes.
pub(crate) fn build() -> Result {
    let llvm_size = Cmd::new("llvm-size").arg("--version").probe();
    for fw in &FIRMWARE {
        Cmd::cargo().args(["fmt", "--", "--check"]).dir(&fw.dir()).run()?;
        fw.cargo()?.args(["build", "--release"]).run()?;
        report_size(&fw.elf(), llvm_size)?;
    }
    if !llvm_size {
        eprintln!("(llvm-size not found: install Debian package llvm for the section sizes)");
    }
    Ok(())
}

/// Prints the ELF's file size and, with `llvm-size`, its sections. Flash holds `.text`,
/// `.rodata*`, `.flash.appdesc`, and the initial images of `.data*`, `.rwtext*` and `.trap`;
/// RAM holds `.data*`, `.bss` (the heap included), `.rwtext*` and `.trap` (code run from
/// internal RAM) and the stack. The `*_dummy` and `.text_gap` sections only reserve address
/// space.
fn report_size(elf: &Path, llvm_size: bool) -> Result {
    let bytes = std::fs::metadata(elf).map_err(|e| Error::new(format!("{}: {e}", elf.display())))?.len();
    eprintln!("{}: {bytes} bytes (ELF with debug info)", display_path(elf));
    if llvm_size {
        let sections = Cmd::new("llvm-size").arg("-A").arg(elf).read_stdout()?;
        // Debug sections are not flashed, and empty ones say nothing: leave them out.
        let shown = |line: &&str| {
            let mut words = line.split_whitespace();
            let (name, size) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            !name.is_empty() && !name.starts_with(".debug") && size != "0"
        };
        for line in sections.lines().skip(1).filter(shown) {
            eprintln!("    {line}");
        }
    }
    Ok(())
}

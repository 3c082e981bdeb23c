//! The ESP32 firmware builds for `ci`: `firmware/esp32c3` and `firmware/esp32c6`, each its own
//! Cargo workspace for its own target (their `.cargo/config.toml` sets the target, the linker
//! script and, for the C6, ring's C toolchain). Their formatting is checked first.
//!
//! Both build in one target directory, `target/firmware`, so the host-side build scripts and
//! proc macros they share are built once. Nothing is flashed: CI has no board. After each build
//! the ELF's size is printed, and its sections (debug info left out) when `llvm-size` is
//! installed (Debian package llvm).

use std::path::{Path, PathBuf};

use crate::cmd::{Cmd, Error, Result, display_path, root};

/// A firmware project: its directory, target and binary, and the extra environment its
/// build needs.
struct Firmware {
    dir: &'static str,
    target: &'static str,
    bin: &'static str,
    env: &'static [(&'static str, &'static str)],
}

/// The firmware projects, built in this order.
const FIRMWARE: [Firmware; 2] = [
    Firmware { dir: "firmware/esp32c3", target: "riscv32imc-unknown-none-elf", bin: "tern-esp32c3", env: &[] },
    // The project's `.cargo/config.toml` sets ring's C toolchain too; CI says it explicitly.
    Firmware {
        dir: "firmware/esp32c6",
        target: "riscv32imac-unknown-none-elf",
        bin: "tern-esp32c6",
        env: &crate::ci::TLS_TARGET_C_ENV,
    },
];

/// The target directory both firmware projects build in.
fn target_dir() -> PathBuf {
    root().join("target").join("firmware")
}

/// Checks every firmware project's formatting (the workspace's `cargo fmt` does not reach
/// them), builds it with `cargo build --release` and reports the ELF sizes.
pub(crate) fn build() -> Result {
    let target_dir = target_dir();
    let target_dir_str =
        target_dir.to_str().ok_or_else(|| Error::new(format!("{} is not UTF-8", target_dir.display())))?;
    let llvm_size = Cmd::new("llvm-size").arg("--version").probe();
    for fw in &FIRMWARE {
        let dir = root().join(fw.dir);
        Cmd::cargo().args(["fmt", "--", "--check"]).dir(&dir).run()?;
        let mut cmd = Cmd::cargo().args(["build", "--release"]).dir(&dir);
        cmd = cmd.env("CARGO_TARGET_DIR", target_dir_str);
        for (key, value) in fw.env {
            cmd = cmd.env(key, value);
        }
        cmd.run()?;
        let elf = target_dir.join(fw.target).join("release").join(fw.bin);
        report_size(&elf, llvm_size)?;
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

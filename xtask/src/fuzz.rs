//! `cargo xtask fuzz TARGET [--time SECONDS] [--merge] [-- LIBFUZZER_ARGS...]`: fuzz one
//! target, and [`smoke`], the short run of every target that `cargo xtask ci` ends with.
//!
//! # Fuzzing on the pinned stable toolchain
//!
//! cargo-fuzz builds with rustc flags that stable rejects (`-Zsanitizer=address`, ...). Every
//! `cargo fuzz` command here runs with `RUSTC_BOOTSTRAP=1`, which makes the pinned stable
//! toolchain (rust-toolchain.toml) accept them; no `+nightly` is used, and CI has no nightly.
//! Build and run pass the same [`BUILD_FLAGS`], so `cargo fuzz run` after `cargo fuzz build`
//! finds everything fresh instead of rebuilding. (Only the sanitizer needs the bootstrap:
//! cargo-fuzz 0.13 with `--sanitizer none` builds on plain stable. Keep `RUSTC_BOOTSTRAP=1`
//! set consistently anyway: proc-macro2's build script reruns when it changes, so toggling it
//! rebuilds the dependency graph.)
//!
//! # Corpus and artifacts
//!
//! The checked-in corpus is `fuzz/corpus/<target>/`: hand-written seeds named `seed-*` (crash
//! regressions among them) and the minimized corpus of the long runs, named by content hash. A
//! run fuzzes a scratch corpus, `target/fuzz-corpus/<target>`, into which the checked-in files
//! are copied first, so inputs libFuzzer generates never land in the checked-in tree by
//! themselves; the scratch corpus persists between local runs and keeps growing. With
//! `--merge`, a clean run ends with libFuzzer's `-merge=1` from the scratch corpus into the
//! checked-in one: only inputs that reach coverage the checked-in corpus does not are added,
//! so it stays a minimized corpus. Crashing inputs go where cargo-fuzz puts them,
//! `fuzz/artifacts/<target>/`; a failing run names the new files.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::cmd::{Cmd, Error, Result, display_path, root};

/// One-line usage, for `cargo xtask --help`.
pub(crate) const USAGE: &str = "cargo xtask fuzz TARGET [--time SECONDS] [--merge] [-- LIBFUZZER_ARGS...]";

/// What `fuzz` does, for `cargo xtask --help`.
pub(crate) const ABOUT: &str =
    "fuzz one target for longer (default 300 s); non-zero exit on a crash; --merge adds new coverage to fuzz/corpus";

/// The environment variable that sets the seconds per target of the CI smoke run.
const SMOKE_SECS_VAR: &str = "TERN_FUZZ_SMOKE_SECS";

/// Seconds per target of the CI smoke run when [`SMOKE_SECS_VAR`] is unset.
const DEFAULT_SMOKE_SECS: u64 = 20;

/// Seconds of `cargo xtask fuzz TARGET` without `--time`.
const DEFAULT_SECS: u64 = 300;

/// Flags given to both `cargo fuzz build` and `cargo fuzz run`. They must match, or the run
/// rebuilds. cargo-fuzz's defaults (release with debug assertions, AddressSanitizer, the host
/// target) work on stable with `RUSTC_BOOTSTRAP=1`; the sanitizer is spelled out so the choice
/// is visible. tern-proto forbids `unsafe`, but httparse uses it (SIMD), so ASan still earns
/// its cost.
const BUILD_FLAGS: [&str; 2] = ["--sanitizer", "address"];

/// Seconds per target for the CI smoke run: `$TERN_FUZZ_SMOKE_SECS`, default 20.
pub(crate) fn smoke_secs() -> Result<u64> {
    match std::env::var(SMOKE_SECS_VAR) {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_SMOKE_SECS),
        Ok(value) if value.trim().is_empty() => Ok(DEFAULT_SMOKE_SECS),
        Ok(value) => parse_secs(&value).map_err(|e| e.context(SMOKE_SECS_VAR)),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(format!("{SMOKE_SECS_VAR} is not valid UTF-8"))),
    }
}

/// The CI smoke run: builds every target once, then fuzzes each for `secs` seconds.
pub(crate) fn smoke(secs: u64) -> Result {
    ensure_cargo_fuzz()?;
    let targets = list_targets()?;
    if targets.is_empty() {
        return Err(Error::new("`cargo fuzz list` found no fuzz targets in fuzz/"));
    }
    eprintln!("fuzz targets: {}; {secs} s each", targets.join(", "));
    fuzz_cmd().arg("build").args(BUILD_FLAGS).run()?;
    for target in &targets {
        run_target(target, secs, &[])?;
    }
    Ok(())
}

/// Runs `cargo xtask fuzz` with its arguments.
pub(crate) fn main(args: &[String]) -> Result {
    let (ours, libfuzzer_args) = match args.iter().position(|a| a == "--") {
        Some(i) => (args.get(..i).unwrap_or_default(), args.get(i + 1..).unwrap_or_default()),
        None => (args, &[][..]),
    };
    let mut target = None;
    let mut secs = DEFAULT_SECS;
    let mut merge = false;
    let mut rest = ours.iter();
    while let Some(arg) = rest.next() {
        if arg == "--merge" {
            merge = true;
        } else if arg == "--time" {
            let value = rest.next().ok_or_else(|| Error::new("--time needs a number of seconds"))?;
            secs = parse_secs(value).map_err(|e| e.context("--time"))?;
        } else if let Some(value) = arg.strip_prefix("--time=") {
            secs = parse_secs(value).map_err(|e| e.context("--time"))?;
        } else if arg.starts_with('-') || target.is_some() {
            return Err(Error::new(format!("unexpected argument `{arg}`; usage: {USAGE}")));
        } else {
            target = Some(arg.as_str());
        }
    }

    ensure_cargo_fuzz()?;
    let targets = list_targets()?;
    let Some(target) = target else {
        return Err(Error::new(format!("which target? usage: {USAGE}\n       targets: {}", targets.join(", "))));
    };
    if !targets.iter().any(|t| t == target) {
        return Err(Error::new(format!("no fuzz target `{target}`; targets: {}", targets.join(", "))));
    }
    run_target(target, secs, libfuzzer_args)?;
    if merge {
        merge_into_checked_in(target)?;
    }
    Ok(())
}

/// Merges the scratch corpus of `target` into `fuzz/corpus/<target>/`: libFuzzer's
/// `-merge=1` copies in only the inputs that add coverage to what is already checked in.
fn merge_into_checked_in(target: &str) -> Result {
    let checked_in = fuzz_dir().join("corpus").join(target);
    let scratch = root().join("target").join("fuzz-corpus").join(target);
    let before = files_in(&checked_in).len();
    fuzz_cmd()
        .arg("run")
        .args(BUILD_FLAGS)
        .arg(target)
        .arg(&checked_in)
        .arg(&scratch)
        .arg("--")
        .arg("-merge=1")
        .run()
        .map_err(|e| e.context(format!("merging the corpus of `{target}`")))?;
    let after = files_in(&checked_in).len();
    eprintln!("corpus: {} now holds {after} file(s), {} new", display_path(&checked_in), after.saturating_sub(before));
    Ok(())
}

/// Parses a positive number of seconds.
fn parse_secs(value: &str) -> Result<u64> {
    match value.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(secs),
        _ => Err(Error::new(format!("`{value}` is not a positive whole number of seconds"))),
    }
}

/// The fuzz crate's directory.
fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// `cargo fuzz` with `RUSTC_BOOTSTRAP=1`, run in `fuzz/`.
fn fuzz_cmd() -> Cmd {
    Cmd::cargo().env("RUSTC_BOOTSTRAP", "1").arg("fuzz").dir(&fuzz_dir())
}

/// Installs cargo-fuzz when `cargo fuzz` is not available.
fn ensure_cargo_fuzz() -> Result {
    if Cmd::cargo().args(["fuzz", "--version"]).probe() {
        return Ok(());
    }
    eprintln!("cargo-fuzz is not installed; installing it");
    Cmd::cargo().args(["install", "cargo-fuzz", "--locked"]).run()
}

/// The fuzz targets, from `cargo fuzz list`.
fn list_targets() -> Result<Vec<String>> {
    let listing = fuzz_cmd().arg("list").read_stdout()?;
    Ok(listing.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
}

/// Fuzzes `target` for `secs` seconds on its scratch corpus; an error naming the crash
/// artifacts when libFuzzer finds a failure.
fn run_target(target: &str, secs: u64, libfuzzer_args: &[String]) -> Result {
    let corpus = scratch_corpus(target)?;
    let artifacts = fuzz_dir().join("artifacts").join(target);
    // Artifacts are named by content hash, so a crash found again overwrites its old file:
    // new or rewritten files are the ones modified since the run started.
    let now = SystemTime::now();
    let started = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);

    let cmd = fuzz_cmd()
        .arg("run")
        .args(BUILD_FLAGS)
        .arg(target)
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg("-print_final_stats=1")
        .args(libfuzzer_args);
    let shown = cmd.shown().to_owned();
    let Err(error) = cmd.run() else {
        return Ok(());
    };

    let new: Vec<PathBuf> = files_in(&artifacts)
        .into_iter()
        .filter(|path| path.metadata().and_then(|m| m.modified()).is_ok_and(|t| t >= started))
        .collect();
    if new.is_empty() {
        return Err(error.context(format!("fuzz target `{target}`")));
    }
    let flags = BUILD_FLAGS.join(" ");
    let mut message = format!("fuzz target `{target}` failed ({shown})");
    for path in &new {
        let in_fuzz_dir = path.strip_prefix(fuzz_dir()).unwrap_or(path).display().to_string();
        message.push_str(&format!(
            "\n  artifact: {}\n  reproduce: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {flags} {target} {in_fuzz_dir})",
            display_path(path)
        ));
    }
    Err(Error::new(message))
}

/// `target/fuzz-corpus/<target>`, created if needed, with the checked-in seeds copied in.
fn scratch_corpus(target: &str) -> Result<PathBuf> {
    let scratch = root().join("target").join("fuzz-corpus").join(target);
    fs::create_dir_all(&scratch).map_err(|e| Error::new(format!("could not create {}: {e}", scratch.display())))?;
    let seeds = fuzz_dir().join("corpus").join(target);
    let seed_files = files_in(&seeds);
    if seed_files.is_empty() {
        eprintln!("warning: no seed corpus in {}", display_path(&seeds));
    }
    for seed in &seed_files {
        let Some(name) = seed.file_name() else {
            continue;
        };
        fs::copy(seed, scratch.join(name))
            .map_err(|e| Error::new(format!("could not copy {}: {e}", seed.display())))?;
    }
    eprintln!("corpus: {} ({} seed(s) from {})", display_path(&scratch), seed_files.len(), display_path(&seeds));
    Ok(scratch)
}

/// The regular files directly in `dir`; empty when `dir` does not exist.
fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries.filter_map(|entry| entry.ok()).map(|entry| entry.path()).filter(|path| path.is_file()).collect()
}

//! `cargo xtask`: tern's build and CI tasks, in plain Rust (std only) so they behave the same
//! on every machine with cargo. The alias lives in `.cargo/config.toml`.
//!
//! ```text
//! cargo xtask ci [--skip-fuzz]           every CI check (README's test command is `cargo xtask ci`)
//! cargo xtask fuzz TARGET [--time SECS] [--merge]
//!                                        fuzz one target for longer
//! cargo xtask faults [--quick] [SCENARIO...]
//!                                        faults and load: 10k connections, vanishing peers, 1M sessions
//! cargo xtask bench [heads|client|server|tls [--quick]]
//!                                        benchmarks, as ratios against peers in the same run
//! cargo xtask interop-setup              the Python venv with httpbin for the interop tests
//! cargo xtask size                       build the ESP32 firmware, write docs/footprint.md
//! ```
//!
//! # Layout
//!
//! One module per subcommand (`ci.rs`, `fuzz.rs`), each with `USAGE`, `ABOUT` and
//! `main(&[String]) -> Result`; shared helpers in `cmd.rs` (run a command, fail loudly) and
//! `steps.rs` (named, timed steps). To add a subcommand (bench, size, interop, ...): write
//! `src/<name>.rs` with those three items and add one line to [`SUBCOMMANDS`].

mod bench;
mod bench_alloc;
mod bench_client;
mod bench_peers;
mod bench_server;
mod bench_tls;
mod chart;
mod ci;
mod cmd;
mod faults;
mod firmware;
mod fuzz;
mod interop;
mod size;
mod steps;

use std::process::ExitCode;

/// A subcommand: its name, usage line, description and entry point.
struct Subcommand {
    name: &'static str,
    usage: &'static str,
    about: &'static str,
    main: fn(&[String]) -> cmd::Result,
}

/// Every subcommand, in the order `--help` lists them.
const SUBCOMMANDS: &[Subcommand] = &[
    Subcommand { name: "ci", usage: ci::USAGE, about: ci::ABOUT, main: ci::main },
    Subcommand { name: "bench", usage: bench::USAGE, about: bench::ABOUT, main: bench::main },
    Subcommand { name: "fuzz", usage: fuzz::USAGE, about: fuzz::ABOUT, main: fuzz::main },
    Subcommand { name: "faults", usage: faults::USAGE, about: faults::ABOUT, main: faults::main },
    Subcommand { name: "size", usage: size::USAGE, about: size::ABOUT, main: size::main },
    Subcommand { name: "interop-setup", usage: interop::USAGE, about: interop::ABOUT, main: interop::main },
];

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(args) => args,
        Err(arg) => {
            eprintln!("error: argument {arg:?} is not valid UTF-8");
            return ExitCode::from(2);
        }
    };
    let Some((name, rest)) = args.split_first() else {
        eprint!("{}", help());
        return ExitCode::from(2);
    };
    if matches!(name.as_str(), "help" | "-h" | "--help") {
        print!("{}", help());
        return ExitCode::SUCCESS;
    }
    let Some(subcommand) = SUBCOMMANDS.iter().find(|s| s.name == name) else {
        eprint!("error: unknown subcommand `{name}`\n\n{}", help());
        return ExitCode::from(2);
    };
    if rest.iter().take_while(|a| *a != "--").any(|a| a == "-h" || a == "--help") {
        println!("usage: {}\n\n{}", subcommand.usage, subcommand.about);
        return ExitCode::SUCCESS;
    }
    match (subcommand.main)(rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nerror: cargo xtask {name}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The `--help` text.
fn help() -> String {
    let mut text = String::from("usage: cargo xtask <subcommand> [args]\n\nsubcommands:\n");
    for s in SUBCOMMANDS {
        text.push_str(&format!("  {:<13} {}\n                {}\n", s.name, s.about, s.usage));
    }
    text
}

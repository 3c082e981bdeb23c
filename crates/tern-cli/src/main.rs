//! `tern`: a curl-compatible HTTP client on tern's engine, a demo and a file server.
//!
//! `tern [OPTIONS] URL...` fetches each URL with one [`tern_std::Client`] (so several URLs share
//! one keep-alive connection), writes bodies to stdout or `-o` files as they arrive, and exits
//! with curl's code for the last URL. The options are a subset of curl's, with curl's
//! meaning: see `tern --help`.
//!
//! A first argument `demo` or `serve` selects a subcommand instead: `tern demo` takes the
//! client on a checked tour of an in-process tern-tokio server, `tern serve` serves a
//! directory with tern-tokio's file server.

mod args;
mod data;
mod demo;
mod exit;
mod output;
mod progress;
mod serve;
mod session;
mod trace;
mod transfer;
mod write_out;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The subcommands: a first argument that is exactly `demo` or `serve` (a host of that name
    // is still reached as `http://demo`). Their parsers see the rest, named after them.
    match std::env::args_os().nth(1).as_ref().and_then(|a| a.to_str()) {
        Some("demo") => return demo::main(std::env::args_os().skip(1)),
        Some("serve") => return serve::main(std::env::args_os().skip(1)),
        _ => {}
    }
    let code = match args::Options::from_env() {
        Ok(opts) => transfer::run(&opts),
        Err(failure) => {
            eprintln!("{}", failure.line());
            failure.code
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

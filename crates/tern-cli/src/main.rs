//! `tern`: a curl-compatible HTTP client on tern's engine.
//!
//! `tern [OPTIONS] URL...` fetches each URL with one [`tern_std::Client`] (so several URLs share
//! one keep-alive connection), writes bodies to stdout or `-o` files as they arrive, and exits
//! with curl's code for the last URL. The options are a subset of curl's, with curl's
//! meaning: see `tern --help`.

mod args;
mod data;
mod exit;
mod output;
mod progress;
mod session;
mod trace;
mod transfer;
mod write_out;

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = match args::Options::from_env() {
        Ok(opts) => transfer::run(&opts),
        Err(failure) => {
            eprintln!("{}", failure.line());
            failure.code
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

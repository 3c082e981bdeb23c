//! `tern demo`: a tern-tokio server on a free loopback port and tern-std's client taking a tour
//! of it (GET, POST, chunked upload and download, a redirect, Basic and Digest
//! authentication, keep-alive, a WebSocket echo), with an ESP-IDF style event log and one
//! checked summary line per step. Exits with 1 when any step fails.

mod digest;
mod log;
mod server;
mod tour;
mod ws;

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use self::log::Log;

/// `tern demo [--quiet]`.
#[derive(Parser, Debug)]
#[command(
    name = "tern demo",
    bin_name = "tern demo",
    about = "Start a tern server on a free loopback port and take tern's client on a checked tour of it"
)]
struct DemoArgs {
    /// Print only the summary lines, one per step.
    #[arg(short, long)]
    quiet: bool,
}

/// Runs the demo; `args` start with the subcommand's name.
pub(crate) fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = DemoArgs::parse_from(args);
    let log = Arc::new(Log::new(args.quiet));
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tern demo: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(log.clone())) {
        Ok((passed, total)) => {
            log.plain(&format!("tern demo: {passed}/{total} steps passed in {} ms", log.millis()));
            if passed == total { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(why) => {
            eprintln!("tern demo: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Starts the server, runs the tour on a blocking thread, stops the server.
async fn run(log: Arc<Log>) -> Result<(usize, usize), String> {
    let (server, shared) = server::start(log.clone()).await.map_err(|e| format!("cannot start the server: {e}"))?;
    let addr = server.local_addr();
    log.info("demo", format_args!("tern-tokio server listening on http://{addr}/"));
    let tour = tour::Tour { log, addr, server: shared };
    let outcome = tokio::task::spawn_blocking(move || tour.run()).await;
    server.stop().await;
    outcome.map_err(|e| format!("the client's tour did not finish: {e}"))
}

/// 64 bits from the standard library's per-process randomness (nonces, masks).
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(u64::from(std::process::id()));
    hasher.finish()
}

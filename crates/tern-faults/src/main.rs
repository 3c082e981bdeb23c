//! `tern-faults [--quick] [SCENARIO...]`: the faults-and-load run (issue 9), on loopback only,
//! bounded in time and in count. `cargo xtask faults` builds it in release and runs it.
//!
//! | Scenario | What it proves |
//! |---|---|
//! | `keepalive` | 10,000 keep-alive connections held open at once on one tern-tokio server, each making requests in rounds; the server holds all of them and closes each once ([`keepalive`]) |
//! | `slow` | clients sending or reading one byte a second take at most `max_open_sockets` slots, fast clients are served meanwhile, and every slow client is timed out ([`slow`]) |
//! | `vanishing-clients` | clients that disappear (FIN or RST) at every state of a request: the server frees the session once, hands no truncated body on as whole, and keeps serving ([`vanishing_clients`]) |
//! | `vanishing-servers` | servers that disappear at every state of a response: the tern-tokio and tern-std clients fail with a precise error, never hang, and work again afterwards ([`vanishing_servers`]) |
//! | `churn` | one million sessions opened and closed in four ways: the open hook, the close hook and the session context's free hook each run exactly once per session, and no file descriptor is left ([`churn`]) |
//!
//! `--quick` runs every scenario smaller (1,000 connections, 20,000 sessions, fewer repeats):
//! the size CI runs. Each scenario prints what it measured; the exit status is non-zero when
//! any scenario failed, with the reason.

mod churn;
mod harness;
mod keepalive;
mod slow;
mod vanishing_clients;
mod vanishing_servers;

use std::process::ExitCode;
use std::time::Instant;

/// A scenario's outcome: what it measured, or why it failed.
type Outcome = Result<String, String>;

/// The scenarios, in the order they run.
const SCENARIOS: [&str; 5] = ["keepalive", "slow", "vanishing-clients", "vanishing-servers", "churn"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(keepalive::CHILD_COMMAND) {
        return keepalive::child_main(args.get(1..).unwrap_or_default());
    }
    let quick = args.iter().any(|a| a == "--quick");
    let mut chosen: Vec<&str> = Vec::new();
    for arg in args.iter().filter(|a| *a != "--quick") {
        match SCENARIOS.iter().find(|s| **s == arg) {
            Some(s) => chosen.push(s),
            None => {
                eprintln!("unknown scenario {arg:?}; usage: tern-faults [--quick] [{}]...", SCENARIOS.join("|"));
                return ExitCode::from(2);
            }
        }
    }
    if chosen.is_empty() {
        chosen = SCENARIOS.to_vec();
    }
    let mut failed = 0;
    for name in chosen {
        let start = Instant::now();
        eprintln!("== {name}{}", if quick { " (quick)" } else { "" });
        // A runtime per scenario: dropping it ends whatever tasks a scenario left behind, so
        // the next one counts its descriptors from a clean start. Threads a scenario left (the
        // tern-std clients of vanishing-servers) close theirs as they end: wait for that too.
        harness::wait_for_steady_fds();
        let outcome = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(runtime) => runtime.block_on(run(name, quick)),
            Err(e) => Err(format!("no tokio runtime: {e}")),
        };
        let secs = start.elapsed().as_secs_f64();
        match outcome {
            Ok(summary) => println!("ok   {name} ({secs:.1} s): {summary}"),
            Err(reason) => {
                failed += 1;
                println!("FAIL {name} ({secs:.1} s): {reason}");
            }
        }
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn run(name: &str, quick: bool) -> Outcome {
    match name {
        "keepalive" => keepalive::run(quick).await,
        "slow" => slow::run(quick).await,
        "vanishing-clients" => vanishing_clients::run(quick).await,
        "vanishing-servers" => vanishing_servers::run(quick).await,
        "churn" => churn::run(quick).await,
        other => Err(format!("no scenario {other:?}")),
    }
}

//! `cargo xtask bench client`: sequential keep-alive requests per second and heap allocations
//! per request of tern's clients against their peers, in the same run, against one server.
//!
//! The server is `hyper_hello` (tern-testkit) on core 0 with one tokio worker. Every client
//! runs as its own process on core 1 and makes its requests one after the other on one
//! connection:
//! - `bench_client` (crates/tern-bench) for tern-std, tern-tokio, ureq 3, reqwest and a null
//!   client (a raw socket writing a canned request and reading a reply of known length: the
//!   floor that the kernel and the server leave);
//! - curl, through URL globbing (`URL?n=[1-N]`: N transfers over one reused connection).
//!
//! Every contender is timed the same way, as a whole process run with N and with 2N requests:
//! N / (t(2N) − t(N)) is its rate with start-up, connect and exit cancelled out. Each round
//! measures every contender once, starting with another one each round, and the figures are
//! medians over the rounds. Allocations per request come from valgrind's dhat the same way
//! (`bench_alloc`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::bench_alloc;
use crate::bench_peers::{TempDir, has, median, pinned, start, target_dir};
use crate::chart;
use crate::cmd::{Cmd, Error, Result, root};

const ROUNDS: usize = 5;
const PORT: u16 = 18_311;
/// The contenders, in the order of the table; `curl` is the curl command, the others are
/// `bench_client`'s clients.
const CONTENDERS: [&str; 6] = ["tern-std", "tern-tokio", "ureq 3", "reqwest", "curl", "null client"];

/// The command line that makes `n` requests of `url` with `contender`.
fn command(contender: &str, bench_client: &Path, url: &str, n: usize) -> (PathBuf, Vec<String>) {
    let client = match contender {
        "curl" => {
            let urls = format!("{url}?n=[1-{n}]");
            return (PathBuf::from("curl"), ["-s", "-f", "-o", "/dev/null", &urls].map(str::to_owned).to_vec());
        }
        "ureq 3" => "ureq",
        "null client" => "null",
        other => other,
    };
    (bench_client.to_path_buf(), vec![client.to_owned(), url.to_owned(), n.to_string()])
}

/// Seconds one run of `contender` takes for `n` requests, as a process on core 1.
fn time_run(contender: &str, bench_client: &Path, url: &str, n: usize) -> Result<f64> {
    let (program, args) = command(contender, bench_client, url, n);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let output = pinned(has("taskset"), "1", &program, &args)
        .output()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", program.display())))?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(Error::new(format!(
            "{contender} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(seconds)
}

/// Requests per second of `contender`: `n` more requests over the time they added.
fn rate(contender: &str, bench_client: &Path, url: &str, n: usize) -> Result<f64> {
    let short = time_run(contender, bench_client, url, n)?;
    let long = time_run(contender, bench_client, url, 2 * n)?;
    Ok(n as f64 / (long - short).max(1e-6))
}

/// Runs the client benchmark: `quick` makes fewer requests per run.
pub(crate) fn main(quick: bool) -> Result {
    if !has("curl") {
        return Err(Error::new("curl is missing: install it (Debian: apt-get install curl)"));
    }
    Cmd::cargo()
        .args(["build", "--release", "-p", "tern-bench", "--bin", "bench_client"])
        .args(["-p", "tern-testkit", "--bin", "hyper_hello"])
        .run()?;
    let release = target_dir().join("release");
    let bench_client = release.join("bench_client");
    let _server = start(&release.join("hyper_hello").to_string_lossy(), PORT)?;
    let url = format!("http://127.0.0.1:{PORT}/hello");
    let n = if quick { 5_000 } else { 20_000 };

    let mut rounds: Vec<Vec<f64>> = Vec::new();
    println!("requests per second, {n} more requests per run, server hyper_hello on core 0");
    println!("{:>5}  {}", "round", CONTENDERS.map(|c| format!("{c:>11}")).join(" "));
    for round in 0..ROUNDS {
        let mut rates = vec![0.0; CONTENDERS.len()];
        for step in 0..CONTENDERS.len() {
            let which = (round + step) % CONTENDERS.len();
            if let (Some(slot), Some(contender)) = (rates.get_mut(which), CONTENDERS.get(which)) {
                *slot = rate(contender, &bench_client, &url, n)?;
            }
        }
        println!("{:>5}  {}", round + 1, rates.iter().map(|r| format!("{r:>11.0}")).collect::<Vec<_>>().join(" "));
        rounds.push(rates);
    }
    let rates: Vec<f64> = (0..CONTENDERS.len())
        .map(|i| median(&rounds.iter().filter_map(|r| r.get(i).copied()).collect::<Vec<_>>()))
        .collect();
    let ratio_to = |tern: usize, i: usize| {
        median(&rounds.iter().filter_map(|r| Some(r.get(tern)? / r.get(i)?)).collect::<Vec<_>>())
    };

    let allocations = if bench_alloc::available() {
        let dir = TempDir(std::env::temp_dir().join(format!("tern-bench-client-{}", std::process::id())));
        std::fs::create_dir_all(&dir.0).map_err(|e| Error::new(format!("cannot create {}: {e}", dir.0.display())))?;
        let mut per_request = Vec::new();
        for contender in CONTENDERS {
            per_request.push(bench_alloc::per_request(&dir.0, |n, log| {
                let (program, args) = command(contender, &bench_client, &url, n);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                bench_alloc::run_client(bench_alloc::under_dhat(&program, &args, log), contender)
            })?);
        }
        Some(per_request)
    } else {
        println!("valgrind is missing: no allocation counts (Debian: apt-get install valgrind)");
        None
    };

    println!();
    println!("medians of {ROUNDS} rounds; ratios are tern's rate over the contender's, per round, then the median");
    println!(
        "{:<12}  {:>10}  {:>16}  {:>18}  {:>14}",
        "client", "req/s", "tern-std / it", "tern-tokio / it", "allocs/request"
    );
    for (i, contender) in CONTENDERS.iter().enumerate() {
        let allocs = allocations.as_ref().and_then(|a| a.get(i)).map_or("-".to_owned(), |a| format!("{a:.1}"));
        println!(
            "{contender:<12}  {:>10.0}  {:>15.2}x  {:>17.2}x  {allocs:>14}",
            rates.get(i).copied().unwrap_or(0.0),
            ratio_to(0, i),
            ratio_to(1, i),
        );
    }
    let bars: Vec<(&str, f64)> = CONTENDERS.iter().copied().zip(rates.iter().copied()).collect();
    let svg = chart::bars(
        "Client: sequential keep-alive GETs per second",
        &format!(
            "cargo xtask bench client · one connection · hyper server on another core · median of {ROUNDS} rounds"
        ),
        "req/s",
        &bars,
    );
    let path = root().join("docs").join("bench-client.svg");
    std::fs::write(&path, svg).map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    println!("chart: {}", path.display());
    Ok(())
}

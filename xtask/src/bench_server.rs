//! `cargo xtask bench server`: server requests per second with wrk, tern-tokio's
//! advanced_tests port (`GET /hello`) against a hyper 1.x hello server answering the same
//! bytes, in the same run, with two more contenders for scale: a null tokio server (no parsing:
//! one canned response per `\r\n\r\n`, `crates/tern-testkit/src/bin/null_server.rs`), the
//! ceiling of the runtime and the loopback, and nginx with `return 200 "Hello World!"`, a
//! reference in C.
//!
//! Every server runs on core 0 (the tokio ones with one worker thread, nginx as one process),
//! and wrk on core 1 (taskset, when there is one), keep-alive with 50 connections; each round
//! measures every contender once, in an order that rotates from round to round so that a noisy
//! neighbour hurts all alike, and the figures reported are the medians of the per-round ratios
//! to tern.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::bench_alloc;
use crate::bench_peers::{self, Server, TempDir, has, listening, median, nginx_binary, pinned, start, target_dir};
use crate::chart;
use crate::cmd::{Cmd, Error, Result, root};

const ROUNDS: usize = 5;
const SECONDS: u32 = 5;
const TERN_PORT: u16 = 18_301;
const HYPER_PORT: u16 = 18_302;
const NULL_PORT: u16 = 18_303;
const NGINX_PORT: u16 = 18_304;

/// nginx.conf: one process, keep-alive without a practical request limit, no access log,
/// `Hello World!` as `text/html` to every request; everything it writes inside `dir`.
fn nginx_conf(dir: &Path) -> String {
    let http = format!(
        r#"    access_log off;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        location / {{
            default_type text/html;
            return 200 "Hello World!";
        }}
    }}
"#
    );
    bench_peers::nginx_conf(dir, 1024, &http)
}

/// nginx's command line with its files in `dir` (written now): `nginx -p DIR -c CONF -e LOG`.
fn nginx_args(dir: &Path) -> Result<Vec<String>> {
    fs::create_dir_all(dir).map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    let conf = dir.join("nginx.conf");
    fs::write(&conf, nginx_conf(dir)).map_err(|e| Error::new(format!("cannot write nginx.conf: {e}")))?;
    let text = |path: &Path| path.to_string_lossy().into_owned();
    Ok(vec!["-p".into(), text(dir), "-c".into(), text(&conf), "-e".into(), text(&dir.join("error.log"))])
}

/// nginx in the foreground as a single process (`master_process off`), pinned to core 0.
fn start_nginx(dir: &Path) -> Result<Server> {
    let binary = nginx_binary()?;
    let args = nginx_args(dir)?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = pinned(has("taskset"), "0", &binary, &args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Error::new(format!("cannot start {}: {e}", binary.display())))?;
    listening(Server(child), "nginx", NGINX_PORT).map_err(|e| {
        let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        Error::new(format!("{e}\n{}", log.trim()))
    })
}

/// Allocations per request of each server (in `programs`' order; `None` for nginx's slot
/// means nginx), from dhat: the server under valgrind, `bench_client null` as its client.
fn allocations(programs: &[Option<PathBuf>], ports: &[u16], bench_client: &Path, dir: &Path) -> Result<Vec<f64>> {
    let mut per_request = Vec::new();
    for (program, &port) in programs.iter().zip(ports) {
        let url = format!("http://127.0.0.1:{port}/hello");
        per_request.push(bench_alloc::per_request(dir, |n, log| {
            let (binary, args) = match program {
                Some(program) => (program.clone(), vec!["--port".to_owned(), port.to_string()]),
                None => (nginx_binary()?, nginx_args(&dir.join("nginx"))?),
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut cmd = bench_alloc::under_dhat(&binary, &args, log);
            cmd.env("TOKIO_WORKER_THREADS", "1");
            bench_alloc::run_server(&mut cmd, &binary.to_string_lossy(), port, || {
                let status = std::process::Command::new(bench_client)
                    .args(["null", &url, &n.to_string()])
                    .stdout(Stdio::null())
                    .status()
                    .map_err(|e| Error::new(format!("cannot run bench_client: {e}")))?;
                if status.success() { Ok(()) } else { Err(Error::new(format!("bench_client null: {status}"))) }
            })
        })?);
    }
    Ok(per_request)
}

/// Requests per second from one wrk run.
fn wrk(port: u16, seconds: u32) -> Result<f64> {
    let url = format!("http://127.0.0.1:{port}/hello");
    let duration = format!("{seconds}s");
    let output = pinned(has("taskset"), "1", Path::new("wrk"), &["-t1", "-c50", "-d", &duration, &url])
        .output()
        .map_err(|e| Error::new(format!("cannot run wrk: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(Error::new(format!("wrk saw errors against port {port}:\n{text}")));
    }
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:")?.trim().parse().ok())
        .ok_or_else(|| Error::new(format!("no Requests/sec in wrk's output:\n{text}")))
}

/// Runs the server benchmark: `quick` runs 3 rounds of 3 s instead of 5 of 5 s.
pub(crate) fn main(quick: bool) -> Result {
    if !has("wrk") {
        return Err(Error::new("wrk is missing: install it (Debian: apt-get install wrk)"));
    }
    let (rounds, seconds) = if quick { (3, 3) } else { (ROUNDS, SECONDS) };
    Cmd::cargo()
        .args(["build", "--release", "-p", "tern-tokio", "--example", "advanced_tests"])
        .args(["-p", "tern-testkit", "--bin", "hyper_hello", "--bin", "null_server"])
        .args(["-p", "tern-bench", "--bin", "bench_client"])
        .run()?;
    let release = target_dir().join("release");
    let nginx_dir = TempDir(std::env::temp_dir().join(format!("tern-bench-nginx-{}", std::process::id())));
    // The contenders, tern first: the ratios are to it. nginx has no program of ours.
    let names = ["tern-tokio", "hyper", "null tokio", "nginx"];
    let ports = [TERN_PORT, HYPER_PORT, NULL_PORT, NGINX_PORT];
    let programs = [
        Some(release.join("examples").join("advanced_tests")),
        Some(release.join("hyper_hello")),
        Some(release.join("null_server")),
        None,
    ];
    let servers = programs
        .iter()
        .zip(ports)
        .map(|(program, port)| match program {
            Some(program) => start(&program.to_string_lossy(), port),
            None => start_nginx(&nginx_dir.0),
        })
        .collect::<Result<Vec<Server>>>()?;
    let mut rates: Vec<[f64; 4]> = Vec::new();
    println!("{:>5}  {:>12}  {:>12}  {:>12}  {:>12}", "round", names[0], names[1], names[2], names[3]);
    for round in 0..rounds {
        // Each round starts with another contender, so none always goes first.
        let mut rate = [0.0; 4];
        for step in 0..ports.len() {
            let which = (round + step) % ports.len();
            if let (Some(slot), Some(&port)) = (rate.get_mut(which), ports.get(which)) {
                *slot = wrk(port, seconds)?;
            }
        }
        println!("{:>5}  {:>12.0}  {:>12.0}  {:>12.0}  {:>12.0}", round + 1, rate[0], rate[1], rate[2], rate[3]);
        rates.push(rate);
    }
    drop(servers);
    let allocations = if bench_alloc::available() {
        Some(allocations(&programs, &ports, &release.join("bench_client"), &nginx_dir.0)?)
    } else {
        println!("valgrind is missing: no allocation counts (Debian: apt-get install valgrind)");
        None
    };
    println!();
    println!("medians of {rounds} rounds; ratio = tern-tokio / contender, per round, then the median");
    println!("{:<12}  {:>12}  {:>8}  {:>11}  {:>14}", "contender", "req/s", "ratio", "rounds", "allocs/request");
    let mut medians = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let of = |r: &[f64; 4]| r.get(i).copied().unwrap_or(0.0);
        let own: Vec<f64> = rates.iter().map(of).collect();
        let ratios: Vec<f64> = rates.iter().map(|r| r[0] / of(r)).collect();
        let (low, high) = ratios.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let range = if i == 0 { "-".to_owned() } else { format!("{low:.2}–{high:.2}") };
        let allocs = allocations.as_ref().and_then(|a| a.get(i)).map_or("-".to_owned(), |a| format!("{a:.1}"));
        println!("{name:<12}  {:>12.0}  {:>7.2}x  {range:>11}  {allocs:>14}", median(&own), median(&ratios));
        medians.push((*name, median(&own)));
    }
    let hyper: Vec<f64> = rates.iter().map(|r| r[0] / r[1]).collect();
    println!("server requests/s, tern-tokio / hyper (median of {rounds} rounds): {:.2}", median(&hyper));
    let svg = chart::bars(
        "Server: keep-alive requests per second (wrk, 50 connections)",
        &format!("cargo xtask bench server · server on one core, wrk on the other · median of {rounds} rounds"),
        "req/s",
        &medians,
    );
    let path = root().join("docs").join("bench-server.svg");
    fs::write(&path, svg).map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    println!("chart: {}", path.display());
    Ok(())
}

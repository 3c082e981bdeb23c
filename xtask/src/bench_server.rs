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
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::bench_peers::{self, TempDir, has, nginx_binary, pinned, target_dir};
use crate::cmd::{Cmd, Error, Result};

const ROUNDS: usize = 5;
const SECONDS: u32 = 5;
const TERN_PORT: u16 = 18_301;
const HYPER_PORT: u16 = 18_302;
const NULL_PORT: u16 = 18_303;
const NGINX_PORT: u16 = 18_304;

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `port` accepts connections.
fn listening(server: Server, name: &str, port: u16) -> Result<Server> {
    let mut server = server;
    for _ in 0..100 {
        if let Ok(Some(status)) = server.0.try_wait() {
            return Err(Error::new(format!("{name} exited with {status}")));
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(Error::new(format!("{name} did not listen on port {port}")))
}

fn start(program: &str, port: u16) -> Result<Server> {
    let port_arg = port.to_string();
    let child = pinned(has("taskset"), "0", Path::new(program), &["--port", &port_arg])
        // One tokio worker each, on the one core they share.
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Error::new(format!("cannot start {program}: {e}")))?;
    listening(Server(child), program, port)
}

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

/// nginx in the foreground as a single process (`master_process off`), pinned to core 0.
fn start_nginx(dir: &Path) -> Result<Server> {
    let binary = nginx_binary()?;
    fs::create_dir_all(dir).map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    let conf = dir.join("nginx.conf");
    let error_log = dir.join("error.log");
    fs::write(&conf, nginx_conf(dir)).map_err(|e| Error::new(format!("cannot write nginx.conf: {e}")))?;
    let (binary_arg, dir_arg) = (binary.to_string_lossy(), dir.to_string_lossy());
    let (conf_arg, log_arg) = (conf.to_string_lossy(), error_log.to_string_lossy());
    let child = pinned(has("taskset"), "0", &binary, &["-p", &dir_arg, "-c", &conf_arg, "-e", &log_arg])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Error::new(format!("cannot start {binary_arg}: {e}")))?;
    listening(Server(child), "nginx", NGINX_PORT).map_err(|e| {
        let log = fs::read_to_string(&error_log).unwrap_or_default();
        Error::new(format!("{e}\n{}", log.trim()))
    })
}

/// Requests per second from one wrk run.
fn wrk(port: u16) -> Result<f64> {
    let url = format!("http://127.0.0.1:{port}/hello");
    let duration = format!("{SECONDS}s");
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

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// Runs the server benchmark.
pub(crate) fn main() -> Result {
    if !has("wrk") {
        return Err(Error::new("wrk is missing: install it (Debian: apt-get install wrk)"));
    }
    Cmd::cargo()
        .args(["build", "--release", "-p", "tern-tokio", "--example", "advanced_tests"])
        .args(["-p", "tern-testkit", "--bin", "hyper_hello", "--bin", "null_server"])
        .run()?;
    let release = target_dir().join("release");
    let bin = |path: PathBuf| path.to_string_lossy().into_owned();
    let nginx_dir = TempDir(std::env::temp_dir().join(format!("tern-bench-nginx-{}", std::process::id())));
    // The contenders, tern first: the ratios are to it.
    let names = ["tern-tokio", "hyper", "null tokio", "nginx"];
    let ports = [TERN_PORT, HYPER_PORT, NULL_PORT, NGINX_PORT];
    let _servers = [
        start(&bin(release.join("examples").join("advanced_tests")), TERN_PORT)?,
        start(&bin(release.join("hyper_hello")), HYPER_PORT)?,
        start(&bin(release.join("null_server")), NULL_PORT)?,
        start_nginx(&nginx_dir.0)?,
    ];
    let mut rates: Vec<[f64; 4]> = Vec::new();
    println!("{:>5}  {:>12}  {:>12}  {:>12}  {:>12}", "round", names[0], names[1], names[2], names[3]);
    for round in 0..ROUNDS {
        // Each round starts with another contender, so none always goes first.
        let mut rate = [0.0; 4];
        for step in 0..ports.len() {
            let which = (round + step) % ports.len();
            if let (Some(slot), Some(&port)) = (rate.get_mut(which), ports.get(which)) {
                *slot = wrk(port)?;
            }
        }
        println!("{:>5}  {:>12.0}  {:>12.0}  {:>12.0}  {:>12.0}", round + 1, rate[0], rate[1], rate[2], rate[3]);
        rates.push(rate);
    }
    println!();
    println!("medians of {ROUNDS} rounds; ratio = tern-tokio / contender, per round, then the median");
    println!("{:<12}  {:>12}  {:>8}  {:>11}", "contender", "req/s", "ratio", "rounds");
    for (i, name) in names.iter().enumerate() {
        let of = |r: &[f64; 4]| r.get(i).copied().unwrap_or(0.0);
        let own: Vec<f64> = rates.iter().map(of).collect();
        let ratios: Vec<f64> = rates.iter().map(|r| r[0] / of(r)).collect();
        let (low, high) = ratios.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let range = if i == 0 { "-".to_owned() } else { format!("{low:.2}–{high:.2}") };
        println!("{name:<12}  {:>12.0}  {:>7.2}x  {range:>11}", median(&own), median(&ratios));
    }
    let hyper: Vec<f64> = rates.iter().map(|r| r[0] / r[1]).collect();
    println!("server requests/s, tern-tokio / hyper (median of {ROUNDS} rounds): {:.2}", median(&hyper));
    Ok(())
}

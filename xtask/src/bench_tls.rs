//! `cargo xtask bench tls [--quick]`: a full TLS handshake and one GET, the `tern` command
//! against curl, each a fresh process, against the same nginx on loopback.
//!
//! The PKI is made with the `openssl` command (an ECDSA P-256 CA and a leaf for `localhost`
//! and `127.0.0.1`, as tern-testkit's), and nginx serves `hello from nginx` over TLS 1.2 and
//! 1.3 (`ssl_protocols` is set: nginx before 1.23.4 leaves TLS 1.3 out by default). nginx runs
//! on core 0, the clients on core 1 (taskset, when there is one). Each round runs
//! `tern -s -o /dev/null --cacert CA https://localhost:PORT/` and the same curl command line,
//! alternating which goes first, and times each process from spawn to exit: process start,
//! TCP connect, the handshake, the GET and exit, all of it. TLS 1.2 rounds add
//! `--tls-max 1.2` to both. nginx logs each request's version, cipher and key exchange
//! group, and the run fails if a client got another version than the one asked for.
//!
//! When tern's `-w` knows `%{time_appconnect}` and `%{time_total}`, both clients also report
//! them and the in-process handshake and total times are compared too; until then the
//! comparison is wall time only, and the report says so.

use std::fs;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::bench_peers::{self, TempDir, conf_path, has, nginx_binary, pinned, target_dir};
use crate::cmd::{Cmd, Error, Result};

/// Rounds per TLS version in a full run.
const ROUNDS: usize = 200;
/// Rounds per TLS version with `--quick`.
const QUICK_ROUNDS: usize = 30;
/// Untimed runs of each client before the timed rounds of each TLS version.
const WARM_UP: usize = 5;
/// The write-out format asking for the in-process times.
const TIMES_FORMAT: &str = "%{time_appconnect} %{time_total}\\n";

/// A TLS version to compare at, and the flags that ask both clients for it.
struct Version {
    /// As the table shows it.
    name: &'static str,
    /// As nginx logs it (`$ssl_protocol`).
    logged: &'static str,
    /// Extra arguments for both clients.
    args: &'static [&'static str],
}

const VERSIONS: [Version; 2] = [
    Version { name: "TLS 1.3", logged: "TLSv1.3", args: &[] },
    Version { name: "TLS 1.2", logged: "TLSv1.2", args: &["--tls-max", "1.2"] },
];

/// One timed run of a client.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Spawn to exit.
    wall: Duration,
    /// The client's `time_appconnect` and `time_total`, when asked for.
    times: Option<(f64, f64)>,
}

/// A running nginx, killed when dropped.
struct Nginx {
    child: Child,
    port: u16,
    access_log: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// The access log's lines so far: `protocol cipher group user-agent`.
    fn logged(&self) -> Result<Vec<String>> {
        let text = fs::read_to_string(&self.access_log)
            .map_err(|e| Error::new(format!("cannot read {}: {e}", self.access_log.display())))?;
        Ok(text.lines().map(str::to_owned).collect())
    }
}

/// Makes the CA (`ca.pem`) and the server's certificate and key (`server.pem`,
/// `server-key.pem`) in `dir`, ECDSA P-256, valid for two days.
fn make_pki(dir: &Path) -> Result {
    let p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    Cmd::new("openssl")
        .args(["req", "-x509"])
        .args(p256)
        .args(["-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tern bench CA"])
        .dir(dir)
        .run()?;
    Cmd::new("openssl")
        .args(["req", "-new"])
        .args(p256)
        .args(["-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=localhost"])
        .dir(dir)
        .run()?;
    let extensions = "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
                      keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";
    fs::write(dir.join("server.ext"), extensions).map_err(|e| Error::new(format!("cannot write server.ext: {e}")))?;
    Cmd::new("openssl")
        .args(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem"])
        .args(["-set_serial", "2", "-days", "2", "-extfile", "server.ext", "-out", "server.pem"])
        .dir(dir)
        .run()
}

/// A loopback port that was free a moment ago.
fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(format!("cannot find a free port: {e}")))
}

/// nginx.conf for TLS 1.2 and 1.3 on `port`, everything it writes inside `dir`.
fn nginx_conf(dir: &Path, port: u16) -> String {
    let http = format!(
        r#"    log_format tls '$ssl_protocol $ssl_cipher $ssl_curve "$http_user_agent"';
    access_log {access_log} tls;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            default_type text/plain;
            return 200 "hello from nginx\n";
        }}
    }}
"#,
        access_log = conf_path(dir, "access.log"),
        cert = conf_path(dir, "server.pem"),
        key = conf_path(dir, "server-key.pem"),
    );
    bench_peers::nginx_conf(dir, 256, &http)
}

/// Starts nginx on a free port, pinned to core 0; retries when the port was taken meanwhile.
fn start_nginx(dir: &Path, taskset: bool) -> Result<Nginx> {
    let binary = nginx_binary()?;
    let conf = dir.join("nginx.conf");
    let error_log = dir.join("error.log");
    let mut why = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        fs::write(&conf, nginx_conf(dir, port)).map_err(|e| Error::new(format!("cannot write nginx.conf: {e}")))?;
        let (dir_arg, conf_arg, log_arg) = (dir.to_string_lossy(), conf.to_string_lossy(), error_log.to_string_lossy());
        let child = pinned(taskset, "0", &binary, &["-p", &dir_arg, "-c", &conf_arg, "-e", &log_arg])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::new(format!("cannot start {}: {e}", binary.display())))?;
        let mut nginx = Nginx { child, port, access_log: dir.join("access.log") };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                why = format!("nginx exited with {status}");
                break;
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(nginx);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(nginx);
        let log = fs::read_to_string(&error_log).unwrap_or_default();
        why = format!("{why}\n{log}");
        if !log.contains("in use") {
            break;
        }
    }
    Err(Error::new(format!("nginx did not start: {}", why.trim())))
}

/// One run of `program args`, timed from spawn to exit; with `with_times`, its write-out is
/// parsed as `time_appconnect time_total`.
fn run_once(taskset: bool, program: &Path, args: &[&str], with_times: bool) -> Result<Sample> {
    let mut cmd = pinned(taskset, "1", program, args);
    cmd.stdin(Stdio::null()).stderr(Stdio::piped()).stdout(if with_times { Stdio::piped() } else { Stdio::null() });
    let started = Instant::now();
    let output = cmd.output().map_err(|e| Error::new(format!("cannot run {}: {e}", program.display())))?;
    let wall = started.elapsed();
    if !output.status.success() {
        return Err(Error::new(format!(
            "`{} {}` failed with {}: {}",
            program.display(),
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let times =
        if with_times {
            let text = String::from_utf8_lossy(&output.stdout);
            Some(parse_times(&text).ok_or_else(|| {
                Error::new(format!("{}: no `time_appconnect time_total` in {text:?}", program.display()))
            })?)
        } else {
            None
        };
    Ok(Sample { wall, times })
}

/// `0.001234 0.002345` as two numbers.
fn parse_times(text: &str) -> Option<(f64, f64)> {
    let mut words = text.split_whitespace();
    let appconnect = words.next()?.parse().ok()?;
    let total = words.next()?.parse().ok()?;
    Some((appconnect, total))
}

/// Whether this `tern` expands `%{time_appconnect}` and `%{time_total}`.
fn tern_reports_times(taskset: bool, tern: &Path, url: &str, ca: &str) -> bool {
    let args = ["-s", "-o", "/dev/null", "--cacert", ca, "-w", TIMES_FORMAT, url];
    let Ok(output) = pinned(taskset, "1", tern, &args).stdin(Stdio::null()).output() else { return false };
    let stderr = String::from_utf8_lossy(&output.stderr);
    output.status.success()
        && !stderr.contains("unknown --write-out variable")
        && parse_times(&String::from_utf8_lossy(&output.stdout)).is_some()
}

/// The value at `fraction` (0.5, 0.9) of `values` by the nearest-rank method.
fn percentile(values: &[f64], fraction: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// What one TLS version's rounds measured, in milliseconds.
struct Summary {
    name: &'static str,
    tern_wall: Vec<f64>,
    curl_wall: Vec<f64>,
    /// `time_appconnect` and `time_total` of each run, when both clients report them.
    tern_times: Vec<(f64, f64)>,
    curl_times: Vec<(f64, f64)>,
    /// tern / curl, round by round.
    round_ratios: Vec<f64>,
    /// `protocol cipher group user-agent` and how many requests nginx logged with it.
    negotiated: Vec<(String, usize)>,
}

/// Runs `rounds` rounds at `version`, alternating which client goes first.
fn measure(
    version: &Version,
    rounds: usize,
    (tern, curl): (&Path, &Path),
    (url, ca): (&str, &str),
    (taskset, with_times): (bool, bool),
    nginx: &Nginx,
) -> Result<Summary> {
    let mut args = vec!["-s", "-o", "/dev/null", "--cacert", ca];
    args.extend_from_slice(version.args);
    if with_times {
        args.extend_from_slice(&["-w", TIMES_FORMAT]);
    }
    args.push(url);
    for _ in 0..WARM_UP {
        run_once(taskset, tern, &args, with_times)?;
        run_once(taskset, curl, &args, with_times)?;
    }
    let logged_before = nginx.logged()?.len();
    let mut summary = Summary {
        name: version.name,
        tern_wall: Vec::new(),
        curl_wall: Vec::new(),
        tern_times: Vec::new(),
        curl_times: Vec::new(),
        round_ratios: Vec::new(),
        negotiated: Vec::new(),
    };
    for round in 0..rounds {
        let (t, c) = if round % 2 == 0 {
            let t = run_once(taskset, tern, &args, with_times)?;
            (t, run_once(taskset, curl, &args, with_times)?)
        } else {
            let c = run_once(taskset, curl, &args, with_times)?;
            (run_once(taskset, tern, &args, with_times)?, c)
        };
        let (t_ms, c_ms) = (t.wall.as_secs_f64() * 1e3, c.wall.as_secs_f64() * 1e3);
        summary.tern_wall.push(t_ms);
        summary.curl_wall.push(c_ms);
        summary.round_ratios.push(t_ms / c_ms);
        summary.tern_times.extend(t.times.map(|(a, b)| (a * 1e3, b * 1e3)));
        summary.curl_times.extend(c.times.map(|(a, b)| (a * 1e3, b * 1e3)));
    }
    let logged = nginx.logged()?;
    for line in logged.get(logged_before..).unwrap_or_default() {
        if !line.starts_with(version.logged) {
            return Err(Error::new(format!("{}: nginx logged another TLS version: {line}", version.name)));
        }
        match summary.negotiated.iter_mut().find(|(seen, _)| seen == line) {
            Some((_, count)) => *count += 1,
            None => summary.negotiated.push((line.clone(), 1)),
        }
    }
    let requests = logged.len().saturating_sub(logged_before);
    if requests != 2 * rounds {
        return Err(Error::new(format!("{}: nginx logged {requests} requests, not {}", version.name, 2 * rounds)));
    }
    Ok(summary)
}

/// `1.234 ms`.
fn ms(value: f64) -> String {
    format!("{value:.2} ms")
}

/// Prints the results as markdown.
fn report(summaries: &[Summary], rounds: usize, taskset: bool, with_times: bool) {
    println!();
    println!(
        "TLS handshake + GET, a fresh process per run, tern / curl against nginx on loopback \
         ({rounds} rounds per version, {})",
        if taskset { "clients on core 1, nginx on core 0" } else { "unpinned: no taskset" }
    );
    println!();
    println!("| TLS | tern median | curl median | ratio | tern p90 | curl p90 | ratio | per-round ratio, median |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in summaries {
        let (tm, cm) = (percentile(&s.tern_wall, 0.5), percentile(&s.curl_wall, 0.5));
        let (t90, c90) = (percentile(&s.tern_wall, 0.9), percentile(&s.curl_wall, 0.9));
        println!(
            "| {} | {} | {} | **{:.2}x** | {} | {} | {:.2}x | {:.2}x |",
            s.name,
            ms(tm),
            ms(cm),
            tm / cm,
            ms(t90),
            ms(c90),
            t90 / c90,
            percentile(&s.round_ratios, 0.5)
        );
    }
    println!();
    if with_times {
        println!("In-process times (`-w '%{{time_appconnect}} %{{time_total}}'`), medians:");
        println!();
        println!("| TLS | tern appconnect | curl appconnect | ratio | tern total | curl total | ratio |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for s in summaries {
            let column = |times: &[(f64, f64)], second: bool| {
                let values: Vec<f64> = times.iter().map(|&(a, t)| if second { t } else { a }).collect();
                percentile(&values, 0.5)
            };
            let (ta, ca) = (column(&s.tern_times, false), column(&s.curl_times, false));
            let (tt, ct) = (column(&s.tern_times, true), column(&s.curl_times, true));
            println!(
                "| {} | {} | {} | {:.2}x | {} | {} | {:.2}x |",
                s.name,
                ms(ta),
                ms(ca),
                ta / ca,
                ms(tt),
                ms(ct),
                tt / ct
            );
        }
    } else {
        println!(
            "In-process times: tern's -w has no %{{time_appconnect}} or %{{time_total}} \
             (crates/tern-cli/src/write_out.rs), so only wall time is compared."
        );
    }
    println!();
    println!("Negotiated, as nginx logged it (protocol, cipher, group, user agent: requests):");
    for s in summaries {
        for (line, count) in &s.negotiated {
            println!("- {line}: {count}");
        }
    }
}

/// Runs the TLS benchmark; `quick` runs fewer rounds.
pub(crate) fn main(quick: bool) -> Result {
    for (tool, install) in [("curl", "curl"), ("openssl", "openssl")] {
        if !has(tool) {
            return Err(Error::new(format!("{tool} is missing: install it (Debian: apt-get install {install})")));
        }
    }
    nginx_binary()?;
    let taskset = has("taskset");
    Cmd::cargo().args(["build", "--release", "-p", "tern-cli"]).run()?;
    let tern = target_dir().join("release").join("tern");
    if !tern.is_file() {
        return Err(Error::new(format!("{} is missing after the build", tern.display())));
    }
    let curl = PathBuf::from("curl");

    let dir = TempDir(std::env::temp_dir().join(format!("tern-bench-tls-{}", std::process::id())));
    fs::create_dir_all(dir.0.join("temp"))
        .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.0.display())))?;
    make_pki(&dir.0)?;
    let nginx = start_nginx(&dir.0, taskset)?;
    let url = format!("https://localhost:{}/", nginx.port);
    let ca_path = dir.0.join("ca.pem");
    let ca = ca_path.to_string_lossy();
    let with_times = tern_reports_times(taskset, &tern, &url, &ca);

    let rounds = if quick { QUICK_ROUNDS } else { ROUNDS };
    let mut summaries = Vec::new();
    for version in &VERSIONS {
        eprintln!("{}: {rounds} rounds of tern and curl against {url}", version.name);
        summaries.push(measure(version, rounds, (&tern, &curl), (&url, &ca), (taskset, with_times), &nginx)?);
    }
    report(&summaries, rounds, taskset, with_times);
    Ok(())
}

//! Peak heap of one TLS client session, measured with dhat against nginx (a separate process,
//! so every byte counted is the client's): what the client holds before any request, what
//! its TLS configuration costs once, what the first `perform()` (TCP connect, full TLS 1.3
//! handshake with an ECDSA P-256 certificate, GET) adds at its peak, what stays held between
//! keep-alive requests, and the same peak for TLS 1.2. The figures are printed as a table
//! (`cargo test -p tern-std --test tls_memory -- --nocapture`) and held under generous
//! ceilings, so that a regression fails.
//!
//! nginx is started here rather than with `tern_testkit::Nginx`: that one keeps nginx's default
//! `ssl_protocols`, which before nginx 1.23.4 leave TLS 1.3 out (Debian 12 ships 1.22.1), so
//! its "TLS 1.3" would quietly be TLS 1.2. This one enables both versions and logs the version
//! of every request, and the test checks it.
//!
//! The TLS configuration (`ClientTls`: the parsed CA, rustls' config, the session-ticket
//! cache) is built before measuring with [`Client::set_tls`], so that its one-time cost is
//! reported on its own line and not in the per-session figures.
//!
//! With `TERN_TLS_MEMORY_PROFILE=FILE`, the test stops after the first TLS 1.3 request and dhat
//! writes its profile to FILE: its global peak ("At t-gmax" in dhat's viewer) is that
//! request's peak, allocation site by allocation site.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
#![cfg(feature = "tls")]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tern_proto::client::{ClientConfig, TlsConfig, TlsVersion};
use tern_std::Client;
use tern_testkit::Pki;
use tern_tls::{ClientTls, TlsBufferLayout, TlsStream};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Ceiling on what one session adds at its peak (TLS 1.3 or 1.2).
const PEAK_CEILING: usize = 160 * 1024;
/// Ceiling on what a kept-alive session holds between requests.
const HELD_CEILING: usize = 96 * 1024;
/// Ceiling on a client before its first request (the engine's buffer and state).
const CLIENT_CEILING: usize = 8 * 1024;
/// Ceiling on the one-time TLS configuration with one CA certificate.
const CONFIG_CEILING: usize = 32 * 1024;
/// Ceiling on what is still held once both clients are dropped.
const LEFT_OVER_CEILING: usize = 4 * 1024;

/// nginx over TLS 1.2 and 1.3 on a free loopback port, its files in `dir`; killed when
/// dropped.
struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Nginx {
    /// Starts nginx with `cert` and `key` (PEM), answering `hello from nginx` to everything and
    /// logging each request's TLS version to `access.log`.
    fn start(dir: &Path, cert: &Path, key: &Path) -> Nginx {
        let dir = dir.join("nginx");
        std::fs::create_dir_all(&dir).unwrap();
        let binary = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join("nginx"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"));
        let mut why = String::new();
        for _ in 0..3 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
            let at = |name: &str| format!("{:?}", dir.join(name).display().to_string());
            let conf = format!(
                "daemon off; master_process off; worker_processes 1; pid {pid}; error_log {err} info;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n\
                 log_format proto '$ssl_protocol';\n\
                 access_log {log} proto;\n\
                 client_body_temp_path {t}; proxy_temp_path {t}; fastcgi_temp_path {t};\n\
                 uwsgi_temp_path {t}; scgi_temp_path {t};\n\
                 keepalive_timeout 30s; keepalive_requests 1000;\n\
                 server {{\n\
                 listen 127.0.0.1:{port} ssl;\n\
                 ssl_protocols TLSv1.2 TLSv1.3;\n\
                 ssl_certificate {cert:?}; ssl_certificate_key {key:?};\n\
                 location / {{ default_type text/plain; return 200 \"hello from nginx\\n\"; }}\n\
                 }}\n}}\n",
                pid = at("nginx.pid"),
                err = at("error.log"),
                log = at("access.log"),
                t = at("temp"),
                cert = cert.display().to_string(),
                key = key.display().to_string(),
            );
            let conf_path = dir.join("nginx.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let mut child = Command::new(&binary)
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&conf_path)
                .arg("-e")
                .arg(dir.join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    why = format!("nginx exited with {status}");
                    break;
                }
                if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                    return Nginx { child, port, dir };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    why = "nginx did not accept connections within 5 s".to_owned();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            if !log.contains("in use") {
                break;
            }
        }
        let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        panic!("{why}\n{log}");
    }

    /// The TLS version of each request so far, as nginx logged it (`TLSv1.3`), once it has
    /// logged `count` of them (nginx writes a request's line after the client may have read
    /// the response) or after 5 s.
    fn protocols(&self, count: usize) -> Vec<String> {
        let started = std::time::Instant::now();
        loop {
            let log = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
            let lines: Vec<String> = log.lines().map(str::to_owned).collect();
            if lines.len() >= count || started.elapsed() > std::time::Duration::from_secs(5) {
                return lines;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bytes held now.
fn held() -> usize {
    dhat::HeapStats::get().curr_bytes
}

/// Runs `f` and returns what it added at its peak over what was held before it, in bytes.
///
/// dhat keeps only the global peak, so the peak of `f` is known only when `f` raises it; the
/// measurements are ordered so that each one does, and this panics when one does not.
fn peak_of<T>(what: &str, f: impl FnOnce() -> T) -> (T, usize) {
    let before = dhat::HeapStats::get();
    let value = f();
    let after = dhat::HeapStats::get();
    assert!(
        after.max_bytes > before.max_bytes,
        "{what}: the global peak did not move ({} bytes), so the peak of this step is unknown; \
         reorder the measurements",
        before.max_bytes
    );
    (value, after.max_bytes - before.curr_bytes)
}

/// A client for `config` with its TLS configuration built up front; returns it with the
/// bytes the client and the configuration took.
fn client<'a>(config: &ClientConfig<'a>) -> (Client<'a>, usize, usize) {
    let start = held();
    let mut client = Client::new(config).unwrap();
    let with_client = held();
    client.set_tls(ClientTls::new(&config.tls).unwrap());
    let with_tls = held();
    (client, with_client - start, with_tls - with_client)
}

/// One GET; it must answer 200.
fn get(client: &mut Client<'_>) {
    client.perform().unwrap();
    assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
}

/// What one session cost, in bytes.
struct Session {
    /// Added at the peak of the first request over what was held before it.
    peak: usize,
    /// Held after the first request.
    held: usize,
    /// Held by the configuration's resumption cache once the session is closed (the tickets
    /// or TLS 1.2 session the server gave, with a copy of its certificate).
    cache: usize,
}

/// Measures the first request of `client` (connect, handshake, GET) and what it leaves.
fn first_request(what: &str, client: &mut Client<'_>) -> Session {
    let before = held();
    let ((), peak) = peak_of(what, || get(client));
    Session { peak, held: held() - before, cache: 0 }
}

/// Closes the connection of `client` and fills in `session.cache`: what stays held over
/// `before_request` (the bytes held before its first request).
fn close(client: &mut Client<'_>, session: &mut Session, before_request: usize) {
    client.close().unwrap();
    session.cache = held() - before_request;
}

/// Checks `ok`; a failure in testing mode saves dhat's profile (`dhat-heap.json`).
fn check(testing: bool, ok: bool, message: &str) {
    if testing {
        dhat::assert!(ok, "{message}");
    } else {
        assert!(ok, "{message}");
    }
}

/// Checks a figure against its ceiling.
fn ceiling(testing: bool, what: &str, value: usize, limit: usize) {
    check(testing, value < limit, &format!("{what}: {value} bytes, ceiling {limit}"));
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn one_tls_client_session_stays_under_its_heap_ceiling() {
    // The peer and the PKI are made before the profiler starts: only the client is counted.
    let pki = Pki::new();
    let nginx = Nginx::start(pki.dir(), &pki.server().cert_path, &pki.server().key_path);
    let url = format!("https://localhost:{}/", nginx.port);
    let tls = TlsConfig { ca_cert: Some(pki.ca_pem().as_bytes()), ..TlsConfig::default() };
    let config13 = ClientConfig { url: Some(&url), tls, ..ClientConfig::default() };
    let config12 = ClientConfig {
        url: Some(&url),
        tls: TlsConfig { tls_version: TlsVersion::Tls12, ..tls },
        ..ClientConfig::default()
    };

    let profile = std::env::var_os("TERN_TLS_MEMORY_PROFILE");
    let testing = profile.is_none();
    let _profiler = match &profile {
        Some(file) => dhat::Profiler::builder().file_name(file).build(),
        None => dhat::Profiler::builder().testing().build(),
    };

    // (a) The client before any request, and its TLS configuration.
    let (mut client13, client_bytes, config13_bytes) = client(&config13);
    let before13 = held();

    // (b) The first request: connect, TLS 1.3 handshake, GET.
    let mut tls13 = first_request("TLS 1.3 first request", &mut client13);
    if !testing {
        eprintln!("TLS 1.3 first request: peak {} bytes over {before13} held before it", tls13.peak);
        return;
    }

    // (c) Held between requests on the kept-alive session, and allocations per warm request.
    const WARM: usize = 20;
    get(&mut client13);
    let held_second = held() - before13;
    let blocks_before = dhat::HeapStats::get().total_blocks;
    for _ in 0..WARM {
        get(&mut client13);
    }
    let held_warm = held() - before13;
    let warm_allocations = dhat::HeapStats::get().total_blocks - blocks_before;
    assert_eq!(client13.connects(), 1, "every request on one TLS connection");

    // (d) A second client, TLS 1.2 only, while the first keeps its session: its peak raises
    // the global one, so it is measured the same way.
    let (mut client12, _, config12_bytes) = client(&config12);
    let before12 = held();
    let mut tls12 = first_request("TLS 1.2 first request", &mut client12);
    close(&mut client12, &mut tls12, before12);
    drop(client12);
    close(&mut client13, &mut tls13, before13);
    drop(client13);
    let after_drop = held();

    let tls_buffer = TlsBufferLayout::DEFAULT.buffer_len();
    let engine_buffer = config13.buffer_len();
    let stream_box = size_of::<TlsStream<TcpStream>>();
    let tern = tls_buffer + stream_box;
    let row = |label: &str, bytes: usize| eprintln!("| {label:<70} | {:>7} |", thousands(bytes));
    eprintln!();
    eprintln!("Heap of one TLS client session: tern-std against nginx, ECDSA P-256, rustls 0.23 + ring");
    eprintln!();
    eprintln!("| {:<70} | {:>7} |", "", "bytes");
    eprintln!("|{}|{}:|", "-".repeat(72), "-".repeat(8));
    row("(a) client created, before any request", client_bytes);
    row("    of which the engine's buffer (ClientConfig::buffer_len)", engine_buffer);
    row("    TLS configuration, once per client (ClientTls::new with 1 CA)", config13_bytes);
    let session = |letter: &str, name: &str, s: &Session| {
        row(&format!("{letter} {name}: peak added by the first perform (connect, handshake, GET)"), s.peak);
        row("    tern: TLS buffer (TlsBufferLayout::DEFAULT.buffer_len)", tls_buffer);
        row("    tern: the boxed TlsStream (rustls' connection struct inline)", stream_box);
        row("    rustls: resumption cache entry (ticket or session, cert copy)", s.cache);
        row("    rustls: connection heap (keys, deframer, cert, record) + host", s.peak.saturating_sub(tern + s.cache));
        row("    held after the first request", s.held);
    };
    session("(b)", "TLS 1.3", &tls13);
    row("(c) TLS 1.3, held between requests on the kept-alive session", held_second);
    row(&format!("    held after request {}", WARM + 2), held_warm);
    row(&format!("    heap allocations in {WARM} warm requests (a count)"), usize::try_from(warm_allocations).unwrap());
    session("(d)", "TLS 1.2", &tls12);
    row("    TLS configuration, TLS 1.2 only", config12_bytes);
    row("one client + session at its peak, TLS 1.3: (a) + config + (b)", client_bytes + config13_bytes + tls13.peak);
    row("held after both clients are dropped", after_drop);
    eprintln!();

    // The versions were the ones asked for: WARM + 2 requests over TLS 1.3, one over TLS 1.2.
    let mut expected = vec!["TLSv1.3".to_owned(); WARM + 2];
    expected.push("TLSv1.2".to_owned());
    assert_eq!(nginx.protocols(expected.len()), expected, "the TLS versions nginx logged");

    ceiling(testing, "client before any request", client_bytes, CLIENT_CEILING);
    ceiling(testing, "TLS configuration", config13_bytes, CONFIG_CEILING);
    ceiling(testing, "TLS 1.3 session peak", tls13.peak, PEAK_CEILING);
    ceiling(testing, "TLS 1.2 session peak", tls12.peak, PEAK_CEILING);
    ceiling(testing, "TLS 1.3 session held between requests", held_second, HELD_CEILING);
    check(testing, held_warm == held_second, "a warm request leaves nothing behind");
    check(testing, tls13.peak > tern && tls12.peak > tern, "the session's buffers are within its peak");
    // No session, buffer or cache outlives the clients (a few bytes of process-wide state
    // would be allowed).
    ceiling(testing, "held after dropping both clients", after_drop, LEFT_OVER_CEILING);
}

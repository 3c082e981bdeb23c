//! What the benchmarks share to run their peers: pinning to a core, server processes and the
//! wait for them to listen, temporary directories, the build output directory, medians, and
//! nginx (its binary and its config's common part).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{Error, Result, root};

/// A directory removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Whether `program --version` runs.
pub(crate) fn has(program: &str) -> bool {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// `program args`, pinned to `core` with taskset when `taskset` is true.
pub(crate) fn pinned(taskset: bool, core: &str, program: &Path, args: &[&str]) -> Command {
    if taskset {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", core]).arg(program).args(args);
        cmd
    } else {
        let mut cmd = Command::new(program);
        cmd.args(args);
        cmd
    }
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` (relative to the workspace root) when
/// set, else `target`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// `nginx` on `PATH`, else Debian's `/usr/sbin/nginx`.
pub(crate) fn nginx_binary() -> Result<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("nginx"))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|path| path.is_file())
        .ok_or_else(|| Error::new("nginx is missing: install it (Debian: apt-get install nginx-light)"))
}

/// `dir/name`, quoted for nginx.conf.
pub(crate) fn conf_path(dir: &Path, name: &str) -> String {
    format!("{:?}", dir.join(name).display().to_string())
}

/// nginx.conf for one foreground process whose files all stay inside `dir`, with
/// `worker_connections` and the `http` block's contents (`http`: logs, keep-alive, servers).
pub(crate) fn nginx_conf(dir: &Path, worker_connections: u32, http: &str) -> String {
    let temp = conf_path(dir, "temp");
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {pid};
error_log {error_log};
events {{
    worker_connections {worker_connections};
}}
http {{
    client_body_temp_path {temp};
    proxy_temp_path {temp};
    fastcgi_temp_path {temp};
    uwsgi_temp_path {temp};
    scgi_temp_path {temp};
{http}}}
"#,
        pid = conf_path(dir, "nginx.pid"),
        error_log = conf_path(dir, "error.log"),
    )
}

/// A server process, killed when dropped.
pub(crate) struct Server(pub(crate) Child);

impl Server {
    /// Ends the server with SIGTERM, which lets valgrind write its report, and waits for it.
    pub(crate) fn terminate(mut self) -> Result {
        let pid = self.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().map_err(|e| Error::new(format!("cannot run kill: {e}")))?;
        self.0.wait().map_err(|e| Error::new(format!("cannot wait for the server: {e}")))?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (up to 60 s: a server under valgrind starts slowly) until `port` accepts connections.
pub(crate) fn listening(server: Server, name: &str, port: u16) -> Result<Server> {
    let mut server = server;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
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

/// `program --port PORT` (a tokio bench server: hyper_hello, null_server, a tern-tokio
/// example) on core 0 with one tokio worker, once it listens.
pub(crate) fn start(program: &str, port: u16) -> Result<Server> {
    let port_arg = port.to_string();
    let child = pinned(has("taskset"), "0", Path::new(program), &["--port", &port_arg])
        // One tokio worker each, on the one core they share.
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Error::new(format!("cannot start {program}: {e}")))?;
    listening(Server(child), program, port)
}

/// The median of `values` (the upper one of an even count); 0 when empty.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

//! What the benchmarks share to run their peers: pinning to a core, temporary directories,
//! the build output directory, and nginx (its binary and its config's common part).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

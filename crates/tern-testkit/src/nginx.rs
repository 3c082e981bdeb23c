//! nginx as a reference HTTP/1.1 server, plain or over TLS, on a free loopback port.
//!
//! Every request gets `200` with the body `hello from nginx\n` (`text/plain`, with a
//! Content-Length); connections are kept alive (30 s, up to 1000 requests). nginx runs in the
//! foreground as a single process (`daemon off; master_process off;`) with its config, pid
//! file, error log and temp paths in a temporary directory, so it needs no root and touches
//! nothing outside it. It is taken from `PATH`, else `/usr/sbin/nginx`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

use crate::process::{START_ATTEMPTS, free_port, stop, wait_until_accepting};

/// The body nginx answers every request with.
pub const HELLO: &str = "hello from nginx\n";

/// A running nginx; killed when dropped.
pub struct Nginx {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Nginx {
    /// nginx serving HTTPS with `cert` (PEM, the chain to send) and `key` (PEM).
    ///
    /// # Panics
    /// When nginx is missing, refuses the config or does not accept connections; the message
    /// holds its error log.
    pub fn start_tls(cert: &Path, key: &Path) -> Nginx {
        // nginx before 1.23.4 (Debian 12 has 1.22) leaves TLS 1.3 out of its default protocols.
        let tls = format!(
            "ssl_certificate {};\n        ssl_certificate_key {};\n        ssl_protocols TLSv1.2 TLSv1.3;\n",
            quote(cert),
            quote(key)
        );
        Nginx::start(" ssl", &tls)
    }

    /// nginx serving plain HTTP.
    ///
    /// # Panics
    /// As [`Nginx::start_tls`].
    pub fn start_plain() -> Nginx {
        Nginx::start("", "")
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    fn start(listen_params: &str, server_extra: &str) -> Nginx {
        let dir = tempfile::Builder::new().prefix("tern-nginx-").tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let conf = dir.path().join("nginx.conf");
        let error_log = dir.path().join("error.log");
        let mut why = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let text = config(dir.path(), &format!("127.0.0.1:{port}{listen_params}"), server_extra);
            fs::write(&conf, text).unwrap_or_else(|e| panic!("write {}: {e}", conf.display()));
            let stderr = File::create(dir.path().join("stderr.log")).unwrap_or_else(|e| panic!("stderr.log: {e}"));
            let mut child = Command::new(binary())
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(&conf)
                .arg("-e")
                .arg(&error_log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start nginx ({}): {e}", binary().display()));
            match wait_until_accepting(&mut child, port) {
                Ok(()) => return Nginx { child, port, dir },
                Err(e) => {
                    stop(&mut child);
                    let log = fs::read_to_string(&error_log).unwrap_or_default()
                        + &fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
                    why = format!("nginx {e}:\n{log}");
                    if !log.contains("in use") {
                        break;
                    }
                }
            }
        }
        panic!("{why}");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// `nginx` on `PATH`, else Debian's `/usr/sbin/nginx`.
fn binary() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("nginx"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}

/// A path as a double-quoted nginx config string.
fn quote(path: &Path) -> String {
    format!("\"{}\"", path.display().to_string().replace('\\', "\\\\").replace('"', "\\\""))
}

/// The whole nginx.conf: everything nginx writes lives under `dir`.
fn config(dir: &Path, listen: &str, server_extra: &str) -> String {
    let at = |name: &str| quote(&dir.join(name));
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {pid};
error_log {error_log} info;
events {{
    worker_connections 64;
}}
http {{
    access_log off;
    client_body_temp_path {body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};
    keepalive_timeout 30s;
    keepalive_requests 1000;
    server {{
        listen {listen};
        {server_extra}
        location / {{
            default_type text/plain;
            return 200 "hello from nginx\n";
        }}
    }}
}}
"#,
        pid = at("nginx.pid"),
        error_log = at("error.log"),
        body = at("client_body_temp"),
        proxy = at("proxy_temp"),
        fastcgi = at("fastcgi_temp"),
        uwsgi = at("uwsgi_temp"),
        scgi = at("scgi_temp"),
    )
}

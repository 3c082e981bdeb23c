//! OpenSSL's command-line TLS peers: [`OpensslServer`] (`openssl s_server`) on a free loopback
//! port, and [`s_client`] (`openssl s_client`) for one exchange with a time limit.
//!
//! `openssl` is taken from `PATH`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{START_ATTEMPTS, free_port, run_with_timeout, stop, wait_until_accepting};

/// A running `openssl s_server`; killed when dropped.
///
/// Its stdin is held open (s_server stops at end of input), and its stdout and stderr go to a
/// log file, read with [`OpensslServer::log`].
pub struct OpensslServer {
    child: Child,
    _stdin: Option<ChildStdin>,
    port: u16,
    _dir: TempDir,
    log: PathBuf,
}

impl OpensslServer {
    /// Runs `openssl s_server -accept 127.0.0.1:PORT -cert CERT -key KEY EXTRA...` on a free
    /// port and waits (at most 5 s) until the port accepts connections. Pass `-www` in `extra`
    /// for a server that answers any GET with an HTTP/1.0 status page and closes.
    ///
    /// The readiness check is a connection that closes at once (s_server logs an "unexpected
    /// eof" for it and goes on), so `-naccept N` would count it.
    ///
    /// # Panics
    /// When openssl cannot start or does not accept connections; the message holds its output.
    pub fn start(cert: &Path, key: &Path, extra: &[&str]) -> OpensslServer {
        let dir =
            tempfile::Builder::new().prefix("tern-s_server-").tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let log = dir.path().join("s_server.log");
        let mut why = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let out = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
            let err = out.try_clone().unwrap_or_else(|e| panic!("clone a file handle: {e}"));
            let mut child = Command::new("openssl")
                .arg("s_server")
                .arg("-accept")
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(cert)
                .arg("-key")
                .arg(key)
                .args(extra)
                .stdin(Stdio::piped())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start openssl s_server: {e}"));
            let stdin = child.stdin.take();
            match wait_until_accepting(&mut child, port) {
                Ok(()) => return OpensslServer { child, _stdin: stdin, port, _dir: dir, log },
                Err(e) => {
                    stop(&mut child);
                    let output = fs::read_to_string(&log).unwrap_or_default();
                    why = format!("openssl s_server {e}:\n{output}");
                    if !output.contains("in use") {
                        break;
                    }
                }
            }
        }
        panic!("{why}");
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What s_server printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Runs `openssl s_client -connect 127.0.0.1:PORT -CAfile CA -servername SERVERNAME
/// -verify_return_error -quiet EXTRA...`, writes `request` to its stdin and closes it, and
/// returns its output once the server closes the connection.
///
/// `-quiet` keeps the connection open after the end of `request` and prints only what the
/// server sent on stdout (handshake errors go to stderr); `-verify_return_error` makes a
/// certificate that does not verify fail the handshake. `-servername` only sets SNI: add
/// `-verify_hostname NAME` (or `-verify_ip`) to `extra` to check the name too. s_client is
/// killed after 10 s; the status then says so (not success). A server that never closes (such
/// as s_server without `-www`) therefore costs the whole 10 s.
///
/// # Panics
/// When openssl cannot start.
pub fn s_client(port: u16, ca: &Path, servername: &str, request: &[u8], extra: &[&str]) -> Output {
    let mut cmd = Command::new("openssl");
    cmd.arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(ca)
        .arg("-servername")
        .arg(servername)
        .args(["-verify_return_error", "-quiet"])
        .args(extra);
    run_with_timeout(cmd, request, Duration::from_secs(10))
}

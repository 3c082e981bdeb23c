//! Test support shared by tern's crates: real peers on loopback ([`HttpBin`], [`HyperServer`],
//! [`OpensslServer`], [`Nginx`]) and a PKI made at test time ([`Pki`]).
//!
//! - [`pki`]: a CA, server and client leaves, and broken certificates (expired, not yet valid,
//!   wrong name, untrusted CA, bad signature), in memory and as PEM files;
//! - [`openssl`]: `openssl s_server` on a free port, and one `openssl s_client` exchange;
//! - [`nginx`]: nginx answering `hello from nginx`, plain or over TLS;
//! - [`differential`]: h11 and hyper fed the hostile-input catalogue, for the differential run
//!   (docs/conformance.md).
//!
//! [`HttpBin`] starts httpbin under gunicorn with the threaded worker (so keep-alive works) on
//! a free loopback port, from the Python virtual environment that `cargo xtask interop-setup`
//! (run by `cargo xtask ci`) creates in `target/interop-venv`. Set `TERN_INTEROP_VENV` to use
//! another one.
//!
//! ```
//! // A CA and its server leaf for `localhost`, in memory and as files removed on drop.
//! let pki = tern_testkit::Pki::new();
//! assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! assert!(pki.server().cert_path.exists() && pki.server().key_path.exists());
//! ```

#![deny(missing_docs)]
#![allow(clippy::panic)] // test support: a peer that cannot start must stop the test, loudly

pub mod bench_peer;
pub mod differential;
mod hyper_server;
pub mod nginx;
pub mod openssl;
pub mod pki;
mod process;

pub use hyper_server::HyperServer;
pub use nginx::Nginx;
pub use openssl::{OpensslServer, s_client};
pub use pki::{CertFiles, Leaf, Pki};

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running httpbin; stopped when dropped.
pub struct HttpBin {
    child: Child,
    port: u16,
}

impl HttpBin {
    /// Starts httpbin on a free loopback port.
    ///
    /// # Panics
    /// When the virtual environment is missing or gunicorn does not start: the test cannot
    /// run without its peer, and says how to get one.
    pub fn start() -> HttpBin {
        let venv = venv_dir();
        let gunicorn = venv.join("bin").join("gunicorn");
        assert!(
            gunicorn.exists(),
            "{} is missing: run `cargo xtask interop-setup` (or set TERN_INTEROP_VENV)",
            gunicorn.display()
        );
        let mut child = Command::new(&gunicorn)
            .args(["-b", "127.0.0.1:0", "-k", "gthread", "--threads", "8", "--keep-alive", "30", "httpbin:app"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", gunicorn.display()));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("gunicorn has no stderr"));
        let mut lines = BufReader::new(stderr).lines();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("gunicorn exited before listening");
            };
            if let Some(rest) = line.split("Listening at: http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                break digits.parse().unwrap_or_else(|_| panic!("bad gunicorn line: {line}"));
            }
        };
        // Keep draining stderr so gunicorn never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        HttpBin { child, port }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }
}

impl Drop for HttpBin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The interop virtual environment.
pub fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TERN_INTEROP_VENV") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv")
}

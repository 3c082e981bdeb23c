//! ESP-IDF's `file_serving` example on tern-tokio: a directory listed, downloaded, uploaded
//! to and deleted from over HTTP, as `examples/protocols/http_server/file_serving` does on
//! the wire (the handlers are [`tern_tokio::file_server`]).
//!
//! ```sh
//! cargo run --release -p tern-tokio --example file_serving -- --port 8005 /tmp/files
//! curl --data-binary @notes.txt http://127.0.0.1:8005/upload/notes.txt
//! curl http://127.0.0.1:8005/notes.txt
//! curl -X POST http://127.0.0.1:8005/delete/notes.txt
//! ```
#![allow(dead_code)] // also compiled into the tests, which use `start` and not `main`

#[path = "support/run.rs"]
mod run;

use std::path::PathBuf;

use tern_proto::server::uri::UriMatch;
use tern_tokio::file_server::{self, FileServerOptions};
use tern_tokio::server::{Config, Error, Server};

/// The example's configuration: ESP-IDF's defaults on `port`, with wildcard matching.
pub fn config(port: u16) -> Config {
    Config { server_port: port, uri_match: UriMatch::Wildcard, ..Config::default() }
}

/// Starts the server serving `root`.
pub async fn start(config: Config, root: impl Into<PathBuf>, options: FileServerOptions) -> Result<Server, Error> {
    let server = Server::start(config).await?;
    file_server::register(&server, root, options)?;
    Ok(server)
}

/// `--port N` and the directory (the first other argument; `.` without one).
fn args() -> (u16, PathBuf) {
    let mut port = 8005;
    let mut root = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--port" {
            port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port);
        } else if root.is_none() {
            root = Some(PathBuf::from(arg));
        }
    }
    (port, root.unwrap_or_else(|| PathBuf::from(".")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (port, root) = args();
    let server = start(config(port), &root, FileServerOptions::default()).await?;
    println!("file_serving: serving {}", root.display());
    run::serve_until_ctrl_c("file_serving", server).await;
    Ok(())
}

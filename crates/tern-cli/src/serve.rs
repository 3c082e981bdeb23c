//! `tern serve [--port N] [--bind ADDR] [--tls CERT KEY] [DIR]`: a directory served over HTTP
//! (or HTTPS with `--tls`) by tern-tokio's file server (listing, download, upload, delete),
//! until Ctrl-C.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use clap::Parser;
use tern_proto::server::uri::UriMatch;
use tern_tls::{ServerTls, ServerTlsOptions};
use tern_tokio::file_server::{self, FileServerOptions};
use tern_tokio::server::{Config, Server};

/// `tern serve [--port N] [--bind ADDR] [--tls CERT KEY] [DIR]`.
#[derive(Parser, Debug)]
#[command(
    name = "tern serve",
    bin_name = "tern serve",
    about = "Serve a directory over HTTP: GET / lists it, GET /NAME downloads, \
             POST /upload/NAME stores the body, POST /delete/NAME deletes; until Ctrl-C"
)]
struct ServeArgs {
    /// The TCP port; 0 picks a free one (the address printed says which).
    #[arg(short, long, default_value_t = 8080)]
    port: u16,
    /// The address to listen on. The default serves this machine only: the file server
    /// accepts uploads and deletes, so exposing it (0.0.0.0) is a choice to make explicitly.
    #[arg(short, long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Serve HTTPS with this certificate chain and private key (PEM or DER files).
    #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
    tls: Option<Vec<PathBuf>>,
    /// The directory to serve.
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

/// The server's TLS configuration from `--tls CERT KEY`.
fn server_tls(files: &[PathBuf]) -> Result<ServerTls, String> {
    let [cert, key] = files else { return Err("--tls takes a certificate file and a key file".to_owned()) };
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path).map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
    };
    let (chain, private_key) = (read(cert, "certificate")?, read(key, "private key")?);
    ServerTls::new(&ServerTlsOptions { cert_chain: &chain, private_key: &private_key, ..ServerTlsOptions::default() })
        .map_err(|e| format!("cannot use {} and {}: {e}", cert.display(), key.display()))
}

/// Runs the file server; `args` start with the subcommand's name.
pub(crate) fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = ServeArgs::parse_from(args);
    if !args.dir.is_dir() {
        eprintln!("tern serve: {} is not a directory", args.dir.display());
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tern serve: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("tern serve: {why}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let tls = args.tls.as_deref().map(server_tls).transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let config = Config {
        tls,
        // A client that fails the handshake is told why on stderr; the server carries on.
        tls_error_fn: Some(Arc::new(|_, peer, e| eprintln!("tern serve: TLS with {peer}: {e}"))),
        bind: args.bind,
        server_port: args.port,
        uri_match: UriMatch::Wildcard,
        // The file server's three handlers, with room to spare.
        max_uri_handlers: 8,
        // Browsers keep idle connections open; a new one should not wait for them (ESP-IDF's
        // file_serving example does the same).
        lru_purge_enable: true,
        ..Config::default()
    };
    let server =
        Server::start(config).await.map_err(|e| format!("cannot listen on {}:{}: {e}", args.bind, args.port))?;
    file_server::register(&server, &args.dir, FileServerOptions::default())
        .map_err(|e| format!("cannot register the file server: {e}"))?;
    println!("tern serve: serving {} on {scheme}://{}/", args.dir.display(), server.local_addr());
    let stopped = tokio::signal::ctrl_c().await;
    println!("tern serve: stopping");
    server.stop().await;
    stopped.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))
}

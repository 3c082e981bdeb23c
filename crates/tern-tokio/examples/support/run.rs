//! What every example's `main` does: take `--port` from the command line, serve until Ctrl-C,
//! then stop the server. (Cargo builds `examples/*.rs` as examples, not this folder.)

use tern_tokio::server::Server;

/// `--port N` from the command line, or `default`.
pub(crate) fn port_arg(default: u16) -> u16 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w.first().is_some_and(|a| a == "--port"))
        .and_then(|w| w.get(1)?.parse().ok())
        .unwrap_or(default)
}

/// Says where `name` listens, serves until Ctrl-C, then stops the server (`httpd_stop`).
pub(crate) async fn serve_until_ctrl_c(name: &str, server: Server) {
    println!("{name} listening on {}", server.local_addr());
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
}

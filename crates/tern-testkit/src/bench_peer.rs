//! What the benchmark peers (`hyper_hello`, `null_server`) share: their command line
//! (`--port N`, default 8080; `--threads N`, default 1 worker) and their accept loop on a
//! tokio runtime with that many workers, `TCP_NODELAY` on every connection.

use std::future::Future;

use tokio::net::TcpStream;

/// The value of `--name N` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w.first().is_some_and(|a| a == name))
        .and_then(|w| w.get(1)?.parse().ok())
        .unwrap_or(default)
}

/// Listens on 127.0.0.1 at `--port`, says so as `NAME listening on ADDR`, and serves each
/// connection with `serve` in a task of its own, for ever.
pub fn run<F, Fut>(name: &str, serve: F) -> std::io::Result<()>
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let port = u16::try_from(arg("--port", 8080)).unwrap_or(8080);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(arg("--threads", 1).max(1)).enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("{name} listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream));
        }
    })
}

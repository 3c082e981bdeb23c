//! ESP-IDF's `async_handlers` example on tern-tokio: long requests served by worker tasks
//! while the server goes on answering quick ones, as
//! `examples/protocols/http_server/async_handlers` does on the wire.
//!
//! - `GET /long`: handed to one of two workers by moving its [`Request`] into it (an async
//!   handler). The worker streams `<div>req: N</div>` (N counts `/long` on this session) and
//!   then 60 `<div>i</div>` chunks a second apart. With both workers busy: `503 Busy`.
//! - `GET /quick`: `random: N`, at once, also while `/long` requests run.
//! - `GET /`: an index page linking both.
//!
//! ```sh
//! cargo run --release -p tern-tokio --example async_handlers -- --port 8004
//! curl -N http://127.0.0.1:8004/long & curl http://127.0.0.1:8004/quick
//! ```
#![allow(dead_code)] // also compiled into the tests, which use `start` and not `main`

#[path = "support/run.rs"]
mod run;

use std::sync::Arc;
use std::time::Duration;

use tern_proto::{Method, StatusCode};
use tern_tokio::server::{Config, Error, HandlerResult, Request, Server, UriHandler};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore, mpsc};

/// Worker tasks serving `/long` (ESP-IDF: `CONFIG_EXAMPLE_MAX_ASYNC_REQUESTS`, 2).
pub const WORKERS: usize = 2;
/// The body of a `/long` refused because every worker is busy.
pub const BUSY: &str = "<div> no workers available. server busy.</div>";
/// The index page.
pub const INDEX: &str = "<div><a href=\"/long\">long</a></div><div><a href=\"/quick\">quick</a></div>";

/// How `/long` streams: `chunks` ticks, `interval` apart (60 × 1 s in the example; tests
/// shorten it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Long {
    /// The number of `<div>i</div>` chunks after the count.
    pub chunks: u32,
    /// The wait before each of them.
    pub interval: Duration,
}

impl Default for Long {
    fn default() -> Self {
        Long { chunks: 60, interval: Duration::from_secs(1) }
    }
}

/// The example's configuration: one session more than there are workers, so that a quick
/// request always finds one, and LRU purge on.
pub fn config(port: u16) -> Config {
    Config { server_port: port, max_open_sockets: WORKERS + 1, lru_purge_enable: true, ..Config::default() }
}

/// A `/long` request on its way to a worker, with the worker it reserved.
struct Job {
    req: Request,
    worker: OwnedSemaphorePermit,
}

/// The session context: how many `/long` requests the session made.
struct LongCount(u32);

/// Starts the workers and the server with `/`, `/long` and `/quick` registered. The workers
/// end once the server is stopped and dropped.
pub async fn start(config: Config, long: Long) -> Result<Server, Error> {
    let server = Server::start(config).await?;
    // A worker is free while it holds no permit; the channel carries the requests to them.
    let free = Arc::new(Semaphore::new(WORKERS));
    let (jobs, queue) = mpsc::channel::<Job>(WORKERS);
    let queue = Arc::new(Mutex::new(queue));
    for _ in 0..WORKERS {
        tokio::spawn(worker(queue.clone(), long));
    }
    server.register_uri_handler(UriHandler::new("/", Method::Get, |mut req: Request| async move {
        req.send(INDEX.as_bytes()).await
    }))?;
    server.register_uri_handler(UriHandler::new("/long", Method::Get, move |req: Request| {
        let (free, jobs) = (free.clone(), jobs.clone());
        async move { submit(req, &free, &jobs).await }
    }))?;
    server.register_uri_handler(UriHandler::new("/quick", Method::Get, |mut req: Request| async move {
        req.send(format!("random: {}\n", random()).as_bytes()).await
    }))?;
    Ok(server)
}

/// `GET /long` on the server: hands the request to a free worker, or answers `503 Busy`.
async fn submit(mut req: Request, free: &Arc<Semaphore>, jobs: &mpsc::Sender<Job>) -> HandlerResult {
    let Ok(worker) = free.clone().try_acquire_owned() else {
        req.set_status(StatusCode::SERVICE_UNAVAILABLE);
        req.set_reason("Busy");
        return req.send(BUSY.as_bytes()).await;
    };
    // A permit means a worker is waiting on the channel, which has room for every worker.
    jobs.try_send(Job { req, worker }).map_err(|_| Error::fail("the workers are gone"))
}

/// One worker: takes requests off the channel until it closes.
async fn worker(queue: Arc<Mutex<mpsc::Receiver<Job>>>, long: Long) {
    loop {
        let job = queue.lock().await.recv().await;
        let Some(Job { mut req, worker }) = job else { return };
        if stream_long(&mut req, long).await.is_err() {
            // The client left or the server stops: the session closes.
            req.fail();
        }
        // The session is served again once the request is dropped
        // (`httpd_req_async_handler_complete`); then the worker is free.
        drop(req);
        drop(worker);
    }
}

/// The long response, on a worker.
async fn stream_long(req: &mut Request, long: Long) -> HandlerResult {
    let count = req
        .with_sess_ctx_or_insert(
            || LongCount(0),
            |count| {
                count.0 += 1;
                count.0
            },
        )
        .ok_or_else(|| Error::fail("the session is gone"))?;
    req.send_chunk(format!("<div>req: {count}</div>\n").as_bytes()).await?;
    for i in 0..long.chunks {
        tokio::time::sleep(long.interval).await;
        req.send_chunk(format!("<div>{i}</div>\n").as_bytes()).await?;
    }
    req.send_chunk(&[]).await
}

/// A pseudo-random number for `/quick` (ESP-IDF: `rand()`); no cryptographic use.
fn random() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(u64::try_from(std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos())).unwrap_or(0));
    (hasher.finish() >> 33) as u32
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = start(config(run::port_arg(8004)), Long::default()).await?;
    run::serve_until_ctrl_c("async_handlers", server).await;
    Ok(())
}

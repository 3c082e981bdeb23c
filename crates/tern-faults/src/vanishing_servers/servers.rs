//! The scripted raw servers on loopback: one listener per case, which reads the request head
//! and writes what its [`Script`] says, then vanishes, closing (FIN: `shutdown(Write)`, then
//! it reads until the client goes) or resetting (RST: `SO_LINGER` 0 and a drop); and the
//! well-behaved server that answers `GET /ok/<n>` with `ok <n>`. Each lane has its own set
//! ([`Servers`]), stopped when dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::script::{CASES, Script, Vanish, answers};

/// How long a server that closed gracefully (or stalls) waits for the client to go.
const LINGER_LIMIT: Duration = Duration::from_secs(30);

/// One scripted listener: its base URL and what it did.
pub(super) struct CaseServer {
    pub(super) base: String,
    /// Connections it vanished from (FIN sent, or reset).
    pub(super) vanished: Arc<AtomicU64>,
}

/// A lane's servers: one per case, and the well-behaved one.
pub(super) struct Endpoints {
    pub(super) ok: String,
    pub(super) cases: Vec<CaseServer>,
}

/// The servers of a lane, stopped when dropped.
pub(super) struct Servers {
    pub(super) endpoints: Arc<Endpoints>,
    _tasks: JoinSet<()>,
}

impl Servers {
    pub(super) async fn start() -> Result<Servers, String> {
        let bind = || async { TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("bind: {e}")) };
        let base = |l: &TcpListener| l.local_addr().map(|a| format!("http://{a}")).map_err(|e| format!("address: {e}"));
        let mut tasks = JoinSet::new();
        let ok_listener = bind().await?;
        let ok = base(&ok_listener)?;
        tasks.spawn(listen(ok_listener, None));
        let mut cases = Vec::with_capacity(CASES.len());
        for case in CASES {
            let listener = bind().await?;
            let server = CaseServer { base: base(&listener)?, vanished: Arc::new(AtomicU64::new(0)) };
            tasks.spawn(listen(listener, Some((case.script, case.vanish, server.vanished.clone()))));
            cases.push(server);
        }
        Ok(Servers { endpoints: Arc::new(Endpoints { ok, cases }), _tasks: tasks })
    }
}

/// Accepts connections and runs the script on each (`None`: the well-behaved server). The
/// connections' tasks end with this one.
async fn listen(listener: TcpListener, script: Option<(Script, Vanish, Arc<AtomicU64>)>) {
    let mut connections = JoinSet::new();
    let mut accepted = 0u64;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        accepted += 1;
        let _ = stream.set_nodelay(true);
        match &script {
            None => connections.spawn(serve_ok(stream)),
            Some((script, vanish, vanished)) => {
                connections.spawn(serve_script(stream, *script, *vanish, accepted, vanished.clone()))
            }
        };
        while connections.try_join_next().is_some() {}
    }
}

/// Reads one request head (its bytes, up to the blank line); bytes after it stay in `pending`.
/// `None` at end of stream or on an error.
async fn read_head(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = pending.split_off(end + 4);
            return Some(std::mem::replace(pending, rest));
        }
        if pending.len() > 64 * 1024 {
            return None;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(buf.get(..n)?),
        }
    }
}

/// Reads and discards until the client goes (or `LINGER_LIMIT`).
async fn drain(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let _ = tokio::time::timeout(LINGER_LIMIT, async {
        while let Ok(n) = stream.read(&mut buf).await
            && n > 0
        {}
    })
    .await;
}

/// Runs `script` on one connection, then vanishes.
async fn serve_script(mut stream: TcpStream, script: Script, vanish: Vanish, conn: u64, vanished: Arc<AtomicU64>) {
    let mut pending = Vec::new();
    for answer in answers(script, conn) {
        if read_head(&mut stream, &mut pending).await.is_none() {
            return;
        }
        if !answer.is_empty() && stream.write_all(&answer).await.is_err() {
            return;
        }
    }
    match vanish {
        Vanish::Fin => {
            let _ = stream.shutdown().await;
            vanished.fetch_add(1, Ordering::SeqCst);
            drain(&mut stream).await;
        }
        Vanish::Rst => {
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
            vanished.fetch_add(1, Ordering::SeqCst);
        }
        Vanish::Stay => drain(&mut stream).await,
    }
}

/// The well-behaved server: `GET /ok/<n>` answers `ok <n>`, on a kept-alive connection.
async fn serve_ok(mut stream: TcpStream) {
    let mut pending = Vec::new();
    while let Some(head) = read_head(&mut stream, &mut pending).await {
        let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
        let target = line.split(|b| *b == b' ').nth(1).unwrap_or_default();
        let body = match target.strip_prefix(b"/ok/") {
            Some(n) => [b"ok ", n].concat(),
            None => b"unexpected request".to_vec(),
        };
        let response =
            [format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(), &body].concat();
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

//! The application: an HTTP server on port 80 and an HTTP client, on the network stack
//! `main` brought up. `main` spawns one task for each function and never looks inside.
//!
//! REPLACED BY tern-embassy: both bodies are bring-up stand-ins on plain embassy-net
//! `TcpSocket`s; they become tern-embassy's `Server` and `Client` with the same signatures.

use embassy_net::Stack;
use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::TcpSocket;
use embassy_time::{Duration, Timer};
use embedded_io_async::Write;
use log::{info, warn};

/// The host the client fetches `/` from, over http on port 80 (`URL_HOST=...` at build time).
const URL_HOST: &str = match option_env!("URL_HOST") {
    Some(host) => host,
    None => "example.com",
};

/// Serves HTTP on port 80, forever.
pub async fn server(stack: Stack<'static>) {
    // REPLACED BY tern-embassy: a fixed answer to whatever arrives, one connection at a time.
    const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\
                              Connection: close\r\n\r\nhello from tern-c3\r\n";
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 512];
    let mut head = [0u8; 1024];
    loop {
        let mut socket = TcpSocket::new(stack, &mut rx, &mut tx);
        socket.set_timeout(Some(Duration::from_secs(10)));
        if let Err(e) = socket.accept(80).await {
            warn!("server: accept: {e:?}");
            continue;
        }
        let peer = socket.remote_endpoint();
        // Read until the end of the request head (or a full buffer, or EOF).
        let mut len = 0;
        while len < head.len() && !head[..len].windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut head[len..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
        }
        let line = head[..len].split(|&b| b == b'\r').next().unwrap_or_default();
        info!("server: {peer:?} {:?}", core::str::from_utf8(line).unwrap_or("?"));
        if let Err(e) = socket.write_all(RESPONSE).await {
            warn!("server: write: {e:?}");
        }
        let _ = socket.flush().await;
        socket.close();
        // Let the FIN go out before the socket is dropped (dropping aborts).
        let _ = socket.flush().await;
    }
}

/// Fetches `http://URL_HOST/` once a minute, forever.
pub async fn client(stack: Stack<'static>) {
    // REPLACED BY tern-embassy: DNS, connect, a hand-written GET, read to EOF.
    let mut rx = [0u8; 2048];
    let mut tx = [0u8; 512];
    loop {
        match get(stack, &mut rx, &mut tx).await {
            Ok((status, bytes)) => info!("client: GET http://{URL_HOST}/: {status}, {bytes} bytes"),
            Err(e) => warn!("client: GET http://{URL_HOST}/: {e}"),
        }
        Timer::after(Duration::from_secs(60)).await;
    }
}

/// One GET: the status code and the number of bytes received.
async fn get(stack: Stack<'static>, rx: &mut [u8], tx: &mut [u8]) -> Result<(u16, usize), &'static str> {
    let addresses = stack.dns_query(URL_HOST, DnsQueryType::A).await.map_err(|_| "DNS failed")?;
    let address = *addresses.first().ok_or("no address")?;
    let mut socket = TcpSocket::new(stack, rx, tx);
    socket.set_timeout(Some(Duration::from_secs(10)));
    socket.connect((address, 80)).await.map_err(|_| "connect failed")?;
    for part in [
        b"GET / HTTP/1.1\r\nHost: ".as_slice(),
        URL_HOST.as_bytes(),
        b"\r\nUser-Agent: tern\r\nConnection: close\r\n\r\n",
    ] {
        socket.write_all(part).await.map_err(|_| "write failed")?;
    }
    socket.flush().await.map_err(|_| "write failed")?;
    // The status line is in the first read; the rest is counted and dropped.
    let mut first = [0u8; 12];
    let mut total = 0;
    let mut buf = [0u8; 256];
    loop {
        let n = socket.read(&mut buf).await.map_err(|_| "read failed")?;
        if n == 0 {
            break;
        }
        if total < first.len() {
            let take = n.min(first.len() - total);
            first[total..total + take].copy_from_slice(&buf[..take]);
        }
        total += n;
    }
    // "HTTP/1.1 200"
    let status = core::str::from_utf8(first.get(9..12).ok_or("short response")?)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("not HTTP")?;
    Ok((status, total))
}

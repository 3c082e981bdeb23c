//! A null HTTP/1.1 server, the runtime's ceiling for the server benchmarks: it parses nothing,
//! and for every `\r\n\r\n` it reads (so pipelined requests each get one) writes the same canned
//! `200 OK` with `Content-Type: text/html` and `Hello World!` that advanced_tests' `/hello` and
//! hyper_hello answer. Bodies are not understood: it is for bodiless requests such as wrk's GETs.
//!
//! `null_server [--port N] [--threads N]` (defaults: 8080, 1 worker thread), on the same tokio
//! runtime as hyper_hello.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/html\r\n\r\nHello World!";
const END: &[u8] = b"\r\n\r\n";

/// How many request heads end in `bytes`, given the `carry` bytes kept from the previous read
/// (at most 3, the start of a terminator split across reads); updates `carry`.
fn heads_ended(carry: &mut Vec<u8>, bytes: &[u8]) -> usize {
    carry.extend_from_slice(bytes);
    let mut count = 0;
    let mut at = 0;
    while let Some(found) = carry.get(at..).and_then(|rest| rest.windows(END.len()).position(|w| w == END)) {
        count += 1;
        at += found + END.len();
    }
    // Keep only what may begin the next terminator: never bytes of one already counted.
    let keep_from = at.max(carry.len().saturating_sub(END.len() - 1));
    carry.drain(..keep_from);
    count
}

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut carry = Vec::with_capacity(buf.len() + END.len());
    let mut out = Vec::new();
    loop {
        let n = stream.read(&mut buf).await?;
        let Some(read) = buf.get(..n).filter(|r| !r.is_empty()) else { return Ok(()) };
        let heads = heads_ended(&mut carry, read);
        if heads == 1 {
            stream.write_all(RESPONSE).await?;
        } else if heads > 1 {
            out.clear();
            for _ in 0..heads {
                out.extend_from_slice(RESPONSE);
            }
            stream.write_all(&out).await?;
        }
    }
}

fn main() -> std::io::Result<()> {
    tern_testkit::bench_peer::run("null_server", |stream| async move {
        let _ = serve(stream).await;
    })
}

#[cfg(test)]
mod tests {
    use super::heads_ended;

    #[test]
    fn counts_pipelined_and_split_heads() {
        let mut carry = Vec::new();
        assert_eq!(heads_ended(&mut carry, b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET"), 2);
        assert_eq!(heads_ended(&mut carry, b" / HTTP/1.1\r\n\r"), 0);
        assert_eq!(heads_ended(&mut carry, b"\n"), 1);
        assert_eq!(heads_ended(&mut carry, b"\r\n\r\n"), 1);
        // No terminator is counted twice, and "\r\n\r\n\r\n" is one head plus a partial one.
        assert_eq!(heads_ended(&mut carry, b"\r\n"), 0);
        assert_eq!(heads_ended(&mut carry, b"x\r\n\r\n"), 1);
    }
}

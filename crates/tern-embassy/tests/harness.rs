//! Self-test of the host harness in `tests/support`: two embassy-net stacks joined in memory
//! (a 100 KB echo, once and twenty times over; a cut link), and the std-socket adapter against a
//! std echo thread.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::Instant;

use embassy_futures::join::join;
use embassy_net::Stack;
use embassy_time::{Duration, with_timeout};
use embedded_io_async::{Read, Write};
use support::{ADDR_A, Net, SocketBuffers, StdStream, accept, close_gracefully, connect};

const PORT: u16 = 80;
const LEN: usize = 100 * 1024;

/// Deterministic, not periodic in any small power of two.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A accepts on port 80 and echoes [`LEN`] bytes; B connects to 10.0.0.1:80 and writes them
/// while reading the echo; then both close gracefully. Returns what B read back.
async fn echo_once(a: Stack<'_>, b: Stack<'_>) -> Vec<u8> {
    let mut server_bufs = SocketBuffers::default();
    let mut client_bufs = SocketBuffers::default();
    let data = payload(LEN);

    let server = async {
        let mut socket = accept(a, &mut server_bufs, PORT).await;
        let mut buf = [0; 2048];
        let mut echoed = 0;
        while echoed < LEN {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "client closed after {echoed} bytes");
            socket.write_all(&buf[..n]).await.unwrap();
            echoed += n;
        }
        let outcome = close_gracefully(&mut socket).await;
        assert!(outcome.is_graceful(), "server close: {outcome:?}");
    };
    let client = async {
        let mut socket = connect(b, &mut client_bufs, (ADDR_A, PORT)).await;
        let (mut reader, mut writer) = socket.split();
        let send = async { writer.write_all(&data).await.unwrap() };
        let receive = async {
            let mut got = Vec::with_capacity(LEN);
            let mut buf = [0; 2048];
            while got.len() < LEN {
                let n = reader.read(&mut buf).await.unwrap();
                assert!(n > 0, "server closed after {} bytes", got.len());
                got.extend_from_slice(&buf[..n]);
            }
            got
        };
        let ((), got) = join(send, receive).await;
        let outcome = close_gracefully(&mut socket).await;
        assert!(outcome.is_graceful(), "client close: {outcome:?}");
        got
    };
    join(server, client).await.1
}

#[test]
fn echo_100_kb_between_two_stacks() {
    let start = Instant::now();
    let got = support::run(echo_once);
    let took = start.elapsed();
    println!("100 KB echo between two in-memory stacks: {took:?}");
    assert!(got == payload(LEN), "echo differs");
    assert!(took.as_millis() < 1000, "took {took:?}");
}

#[test]
fn echo_20_times_each_on_fresh_stacks() {
    let start = Instant::now();
    for round in 0..20 {
        let t = Instant::now();
        let got = support::run(echo_once);
        assert!(got == payload(LEN), "round {round}: echo differs");
        println!("round {round}: {:?}", t.elapsed());
    }
    println!("20 x 100 KB echo, fresh stacks each: {:?}", start.elapsed());
}

#[test]
fn cut_link_drops_packets_and_restores() {
    let start = Instant::now();
    support::run_net(async |net: Net<'_>| {
        let mut server_bufs = SocketBuffers::default();
        let mut client_bufs = SocketBuffers::default();
        let mut server = server_bufs.socket(net.a);
        let mut client = client_bufs.socket(net.b);

        // Cut: the SYN is dropped and the connect does not finish.
        net.link.set_cut(true);
        let (_, timed_out) = join(
            with_timeout(Duration::from_millis(30), server.accept(PORT)),
            with_timeout(Duration::from_millis(30), client.connect((ADDR_A, PORT))),
        )
        .await;
        assert!(timed_out.is_err(), "connect over a cut link: {timed_out:?}");
        assert!(net.link.packets_dropped() >= 1);
        assert_eq!(net.link.packets_b_to_a(), 0);
        client.abort();
        server.abort();
        drop((server, client));

        // Restored: fresh sockets connect at once.
        net.link.set_cut(false);
        let (mut server, mut client) =
            join(accept(net.a, &mut server_bufs, PORT), connect(net.b, &mut client_bufs, (ADDR_A, PORT))).await;
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        let (s, c) = join(close_gracefully(&mut server), close_gracefully(&mut client)).await;
        assert!(s.is_graceful() && c.is_graceful(), "{s:?} {c:?}");
    });
    println!("cut link, then restored: {:?}", start.elapsed());
}

#[test]
fn std_stream_against_std_echo_thread() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0; 4096];
        let mut total = 0;
        loop {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).unwrap();
            total += n;
        }
        total
    });

    let data = payload(LEN);
    let start = Instant::now();
    let got = support::block_on(async {
        let mut writer = StdStream::connect(addr).unwrap();
        let mut reader = writer.try_clone().unwrap();
        let send = async {
            writer.write_all(&data).await.unwrap();
            writer.flush().await.unwrap();
            writer.shutdown_write().unwrap();
        };
        let receive = async {
            let mut got = Vec::with_capacity(LEN);
            let mut buf = [0; 4096];
            loop {
                let n = reader.read(&mut buf).await.unwrap();
                if n == 0 {
                    break got;
                }
                got.extend_from_slice(&buf[..n]);
            }
        };
        join(send, receive).await.1
    });
    println!("100 KB echo over StdStream: {:?}", start.elapsed());
    assert_eq!(echo.join().unwrap(), LEN);
    assert!(got == data, "echo differs");
}

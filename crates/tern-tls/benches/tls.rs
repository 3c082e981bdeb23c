//! TLS in memory: tern-tls (rustls' unbuffered API under a caller's buffer) against rustls'
//! own buffered `ClientConnection`/`ServerConnection`, both ends of each pair the same
//! implementation, no sockets.
//!
//! Both contenders get the very same rustls configurations (tern-tls builds them; the
//! buffered side clones the `Arc`s): ring, an ECDSA P-256 certificate from the testkit's
//! PKI, client resumption off and no TLS 1.3 tickets, so every handshake is a full one.
//! Ciphertext moves through memory the way each API wants it: tern copies `output()` into
//! the peer's `input_space()`; rustls writes with `write_tls` into a reused `Vec` and the
//! peer reads it with `read_tls`. tern sessions reuse their buffers (`into_buffer`), as a
//! device would.
//!
//! - handshakes/s: a client/server pair from nothing to both sides done and nothing in
//!   flight, TLS 1.3 and TLS 1.2;
//! - MB/s: 16 MiB of application data on an established connection, in 16 KiB writes, each
//!   write's records carried over and read out (16 KiB reads) before the next, client to
//!   server and server to client.
//!
//! Rounds interleave the contenders (the order alternates), round 0 warms up and is dropped,
//! and the ratio reported is the median of the per-round ratios (tern/rustls, above 1 is
//! tern faster). Without `--bench` (a test run) it does one small round as a smoke test.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{ErrorKind, Read as _, Write as _};
use std::sync::Arc;
use std::time::Instant;

use tern_testkit::Pki;
use tern_tls::pki_types::ServerName;
use tern_tls::rustls::{ClientConnection, Connection, ProtocolVersion, ServerConnection};
use tern_tls::{ClientTls, Handshake, Read, ServerTls, ServerTlsOptions, TlsConfig, TlsSession, TlsVersion};

type Session = TlsSession<Vec<u8>>;

const WRITE: usize = 16 * 1024;

/// The shared configurations of one TLS version.
struct Configs {
    client: ClientTls,
    server: ServerTls,
}

fn configs(pki: &Pki, version: TlsVersion) -> Configs {
    let options = TlsConfig { ca_cert: Some(pki.ca_pem().as_bytes()), tls_version: version, ..TlsConfig::default() };
    let client = ClientTls::builder(&options).session_cache(0).build().unwrap();
    let server = ServerTls::new(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        ..ServerTlsOptions::default()
    })
    .unwrap();
    let mut config = (**server.rustls_config()).clone();
    config.send_tls13_tickets = 0;
    let server = ServerTls::from_rustls(Arc::new(config), server.layout());
    Configs { client, server }
}

// ---- tern-tls ----

/// Moves all of `from`'s output into `to` (as much as its input region takes).
fn transfer(from: &mut Session, to: &mut Session) -> usize {
    let out = from.output();
    if out.is_empty() {
        return 0;
    }
    let space = to.input_space();
    let n = out.len().min(space.len());
    space[..n].copy_from_slice(&out[..n]);
    from.transmitted(n);
    to.received(n);
    n
}

/// Reads everything `s` has decrypted into `buf`; returns the bytes and their sum.
fn drain(s: &mut Session, buf: &mut [u8]) -> (usize, u64) {
    let (mut n, mut sum) = (0, 0u64);
    loop {
        match s.read(buf).unwrap() {
            Read::Data(k) => {
                n += k;
                sum = buf[..k].iter().fold(sum, |a, &b| a.wrapping_add(u64::from(b)));
            }
            Read::NeedInput => return (n, sum),
            Read::Closed { .. } => panic!("closed"),
        }
    }
}

/// A full tern-tls handshake in buffers `bufs`, given back afterwards.
fn tern_handshake(cfg: &Configs, bufs: &mut [Vec<u8>; 2], expect: ProtocolVersion) -> (Session, Session) {
    let [cb, sb] = bufs;
    let mut c = cfg.client.session("localhost", std::mem::take(cb)).unwrap();
    let mut s = cfg.server.session(std::mem::take(sb)).unwrap();
    loop {
        let hc = c.handshake().unwrap();
        let hs = s.handshake().unwrap();
        let moved = transfer(&mut c, &mut s) + transfer(&mut s, &mut c);
        if hc == Handshake::Done && hs == Handshake::Done && moved == 0 {
            break;
        }
        assert!(moved > 0 || hc == Handshake::Transmit || hs == Handshake::Transmit, "stalled");
    }
    // The server may call itself done before the client's Finished is processed: have both
    // process whatever arrived last, as rustls' loop below does.
    let mut scratch = [0u8; 64];
    assert_eq!(drain(&mut s, &mut scratch).0, 0);
    assert_eq!(drain(&mut c, &mut scratch).0, 0);
    assert!(!c.has_output() && !s.has_output());
    assert_eq!(c.protocol_version(), Some(expect));
    (c, s)
}

#[inline(never)]
fn tern_handshakes(cfg: &Configs, bufs: &mut [Vec<u8>; 2], n: usize, expect: ProtocolVersion) {
    for _ in 0..n {
        let (c, s) = tern_handshake(cfg, bufs, expect);
        *bufs = [c.into_buffer(), s.into_buffer()];
    }
}

/// `total` bytes from `from` to `to` in `WRITE`-byte writes; returns the sum of what arrived.
#[inline(never)]
fn tern_bulk(from: &mut Session, to: &mut Session, data: &[u8], total: usize, buf: &mut [u8]) -> u64 {
    let (mut got, mut sum) = (0, 0u64);
    for _ in 0..total / data.len() {
        let mut off = 0;
        while off < data.len() {
            off += from.write([&data[off..], &[]]).unwrap();
            while from.has_output() {
                assert!(transfer(from, to) > 0);
                let (n, s) = drain(to, buf);
                got += n;
                sum = sum.wrapping_add(s);
            }
        }
    }
    assert_eq!(got, total);
    sum
}

// ---- rustls buffered ----

/// Writes all of `from`'s pending TLS into `net`, and feeds it to `to`.
fn pump(from: &mut Connection, to: &mut Connection, net: &mut Vec<u8>) -> usize {
    net.clear();
    while from.wants_write() {
        from.write_tls(net).unwrap();
    }
    let mut rd = &net[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
    }
    net.len()
}

fn rustls_drain(c: &mut Connection, buf: &mut [u8]) -> (usize, u64) {
    let (mut n, mut sum) = (0, 0u64);
    loop {
        match c.reader().read(buf) {
            Ok(0) => panic!("closed"),
            Ok(k) => {
                n += k;
                sum = buf[..k].iter().fold(sum, |a, &b| a.wrapping_add(u64::from(b)));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return (n, sum),
            Err(e) => panic!("{e}"),
        }
    }
}

fn rustls_handshake(cfg: &Configs, net: &mut Vec<u8>, expect: ProtocolVersion) -> (Connection, Connection) {
    let name = ServerName::try_from("localhost").unwrap();
    let mut c = Connection::Client(ClientConnection::new(cfg.client.rustls_config().clone(), name).unwrap());
    let mut s = Connection::Server(ServerConnection::new(cfg.server.rustls_config().clone()).unwrap());
    loop {
        let moved = pump(&mut c, &mut s, net) + pump(&mut s, &mut c, net);
        if moved == 0 {
            break;
        }
    }
    assert!(!c.is_handshaking() && !s.is_handshaking());
    assert_eq!(c.protocol_version(), Some(expect));
    (c, s)
}

#[inline(never)]
fn rustls_handshakes(cfg: &Configs, net: &mut Vec<u8>, n: usize, expect: ProtocolVersion) {
    for _ in 0..n {
        drop(rustls_handshake(cfg, net, expect));
    }
}

#[inline(never)]
fn rustls_bulk(
    from: &mut Connection,
    to: &mut Connection,
    data: &[u8],
    total: usize,
    buf: &mut [u8],
    net: &mut Vec<u8>,
) -> u64 {
    let (mut got, mut sum) = (0, 0u64);
    for _ in 0..total / data.len() {
        from.writer().write_all(data).unwrap();
        assert!(pump(from, to, net) > 0);
        let (n, s) = rustls_drain(to, buf);
        got += n;
        sum = sum.wrapping_add(s);
    }
    assert_eq!(got, total);
    sum
}

// ---- harness ----

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Per-round times of one contest.
struct Contest {
    name: &'static str,
    enabled: bool,
    tern: Vec<f64>,
    rustls: Vec<f64>,
}

impl Contest {
    /// Times both contenders once, in the given order, and keeps the times if `keep`.
    fn new(name: &'static str, enabled: bool) -> Contest {
        Contest { name, enabled, tern: Vec::new(), rustls: Vec::new() }
    }

    fn run(&mut self, keep: bool, tern_first: bool, tern: impl FnOnce(), rustls: impl FnOnce()) {
        if !self.enabled {
            return;
        }
        let (t, r) = if tern_first {
            let t = time(tern);
            (t, time(rustls))
        } else {
            let r = time(rustls);
            (time(tern), r)
        };
        if keep {
            self.tern.push(t);
            self.rustls.push(r);
        }
    }

    fn report(&self, units: f64, unit: &str) {
        if self.tern.is_empty() {
            return;
        }
        let what = self.name;
        let rate = |t: &[f64]| median(t.iter().map(|s| units / s).collect());
        let ratios: Vec<f64> = self.tern.iter().zip(&self.rustls).map(|(t, r)| r / t).collect();
        let (lo, hi) = ratios.iter().fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        println!(
            "| {what} | {:.0} {unit} | {:.0} {unit} | {:.2} | {lo:.2}..{hi:.2} |",
            rate(&self.tern),
            rate(&self.rustls),
            median(ratios.clone()),
        );
    }
}

fn time(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let arg = |name: &str, default: usize| {
        let args: Vec<String> = std::env::args().collect();
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(default)
    };
    let rounds = if bench { arg("--rounds", 21) } else { 1 };
    let handshakes = if bench { arg("--handshakes", 100) } else { 2 };
    let total = if bench { arg("--mib", 16) * 1024 * 1024 } else { 4 * WRITE };
    // `--only <word>` runs the contests whose name contains it (for profiling one of them).
    let only: Option<String> = {
        let args: Vec<String> = std::env::args().collect();
        args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1).cloned())
    };
    let wanted = |name: &str| only.as_ref().is_none_or(|o| name.contains(o.as_str()));

    let pki = Pki::new();
    let tls13 = configs(&pki, TlsVersion::Tls13);
    let tls12 = configs(&pki, TlsVersion::Tls12);
    let data: Vec<u8> = (0..WRITE).map(|i| (i * 7 % 251) as u8).collect();
    let expect_sum = data.iter().map(|&b| u64::from(b)).sum::<u64>() * (total / WRITE) as u64;
    let (mut buf, mut buf2) = (vec![0u8; WRITE], vec![0u8; WRITE]);
    let mut net = Vec::with_capacity(64 * 1024);
    let layout = tls13.client.layout().buffer_len();
    let mut bufs = [vec![0u8; layout], vec![0u8; layout]];

    // Established connections for the bulk contests.
    let (mut tc, mut ts) =
        tern_handshake(&tls13, &mut [vec![0u8; layout], vec![0u8; layout]], ProtocolVersion::TLSv1_3);
    let (mut rc, mut rs) = rustls_handshake(&tls13, &mut net, ProtocolVersion::TLSv1_3);
    let Connection::Client(client) = &rc else { unreachable!() };
    println!(
        "TLS 1.3 suite {:?}, key exchange {:?}",
        client.negotiated_cipher_suite().map(|s| s.suite()),
        client.negotiated_key_exchange_group().map(|g| g.name())
    );

    let [mut hs13, mut hs12, mut up, mut down] =
        ["handshake TLS 1.3", "handshake TLS 1.2", "bulk client->server TLS 1.3", "bulk server->client TLS 1.3"]
            .map(|name| Contest::new(name, wanted(name)));
    for round in 0..=rounds {
        // Round 0 warms up; the order of the contenders alternates from round to round.
        let keep = round > 0;
        let tern_first = round % 2 == 0;
        hs13.run(
            keep,
            tern_first,
            || tern_handshakes(&tls13, &mut bufs, handshakes, ProtocolVersion::TLSv1_3),
            || rustls_handshakes(&tls13, &mut net, handshakes, ProtocolVersion::TLSv1_3),
        );
        hs12.run(
            keep,
            tern_first,
            || tern_handshakes(&tls12, &mut bufs, handshakes, ProtocolVersion::TLSv1_2),
            || rustls_handshakes(&tls12, &mut net, handshakes, ProtocolVersion::TLSv1_2),
        );
        up.run(
            keep,
            tern_first,
            || assert_eq!(tern_bulk(&mut tc, &mut ts, &data, total, &mut buf), expect_sum),
            || assert_eq!(rustls_bulk(&mut rc, &mut rs, &data, total, &mut buf2, &mut net), expect_sum),
        );
        down.run(
            keep,
            tern_first,
            || assert_eq!(tern_bulk(&mut ts, &mut tc, &data, total, &mut buf), expect_sum),
            || assert_eq!(rustls_bulk(&mut rs, &mut rc, &data, total, &mut buf2, &mut net), expect_sum),
        );
    }

    let mb = total as f64 / 1e6;
    println!(
        "{rounds} rounds (after a warm-up round): {handshakes} handshakes, {} MiB each way per round; medians",
        total / (1024 * 1024)
    );
    println!("| contest | tern-tls | rustls buffered | tern/rustls (median) | per-round range |");
    println!("|---|---:|---:|---:|---:|");
    hs13.report(handshakes as f64, "hs/s");
    hs12.report(handshakes as f64, "hs/s");
    up.report(mb, "MB/s");
    down.report(mb, "MB/s");
}

//! tern-tls sessions fed what a hostile peer or network could send.
//!
//! The first input byte picks the mode; the second, how the rest is split into reads:
//! - 0: a server session receives the rest as the client's first flight;
//! - 1: a client session sends its ClientHello and receives the rest as the server's reply;
//! - 2: a real client/server handshake and exchange, with the rest choosing, per transfer,
//!   how many bytes move and which byte (if any) is flipped on the way.
//!
//! Nothing may panic or loop; an error, once reported, is reported again by every later call;
//! in mode 2 without flips, the handshake completes and the data arrives intact (with flips,
//! it fails or waits for input).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tern_tls::{ClientTls, Handshake, Read, ServerTls, ServerTlsOptions, TlsConfig, TlsError, TlsSession};

const CA: &[u8] = include_bytes!("../fixtures/fuzz-ca.pem");
const CERT: &[u8] = include_bytes!("../fixtures/fuzz-cert.pem");
const KEY: &[u8] = include_bytes!("../fixtures/fuzz-key.pem");

fn configs() -> &'static (ClientTls, ServerTls) {
    static CONFIGS: OnceLock<(ClientTls, ServerTls)> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let client = ClientTls::new(&TlsConfig { ca_cert: Some(CA), ..TlsConfig::default() }).expect("client config");
        let server =
            ServerTls::new(&ServerTlsOptions { cert_chain: CERT, private_key: KEY, ..ServerTlsOptions::default() })
                .expect("server config");
        (client, server)
    })
}

type Session = TlsSession<Vec<u8>>;

/// Delivers `input` in reads of `step` bytes, advancing the session after each; stops at the
/// first error, which must then stay.
fn feed(session: &mut Session, input: &[u8], step: usize) {
    let mut plain = [0u8; 512];
    for read in input.chunks(step.max(1)) {
        let space = session.input_space();
        let n = read.len().min(space.len());
        space[..n].copy_from_slice(&read[..n]);
        session.received(n);
        let first = if session.is_handshaking() { session.handshake().err() } else { session.read(&mut plain).err() };
        if let Some(e) = first {
            assert_eq!(session.handshake().err(), Some(e.clone()), "errors are final");
            return;
        }
        let out = session.output().len();
        session.transmitted(out);
    }
}

fn pump(from: &mut Session, to: &mut Session, step: usize, flip: Option<usize>) -> usize {
    let out = from.output();
    let space_len = to.input_space().len();
    let n = out.len().min(space_len).min(step.max(1));
    if n == 0 {
        return 0;
    }
    let mut bytes = out[..n].to_vec();
    if let Some(at) = flip {
        let at = at % n;
        bytes[at] ^= 0x55;
    }
    to.input_space()[..n].copy_from_slice(&bytes);
    from.transmitted(n);
    to.received(n);
    n
}

fn pair(plan: &[u8]) {
    let (client_tls, server_tls) = configs();
    let mut c = client_tls.session("localhost", vec![0; client_tls.layout().buffer_len()]).expect("client session");
    let mut s = server_tls.session(vec![0; server_tls.layout().buffer_len()]).expect("server session");
    let mut flipped = false;
    let mut moves = plan.chunks(2).cycle().take(10_000);
    let mut idle = 0;
    loop {
        let (ch, sh) = match (c.handshake(), s.handshake()) {
            (Ok(ch), Ok(sh)) => (ch, sh),
            (Err(e), _) | (_, Err(e)) => {
                assert!(flipped || matches!(e, TlsError::Config(_)), "an untouched handshake failed: {e}");
                return;
            }
        };
        if ch == Handshake::Done && sh == Handshake::Done {
            break;
        }
        let Some(m) = moves.next() else { return };
        let step = usize::from(m[0]) + 1;
        let flip = m.get(1).filter(|b| **b < 8).map(|b| usize::from(*b) * 37);
        flipped |= flip.is_some() && (c.has_output() || s.has_output());
        let moved = pump(&mut c, &mut s, step, flip) + pump(&mut s, &mut c, step, flip);
        idle = if moved == 0 { idle + 1 } else { 0 };
        if idle >= 4 {
            // A flipped length field leaves a side waiting for bytes that never come: a real
            // adapter's timeout ends that. Without a flip, a stall is a bug.
            assert!(flipped, "handshake stalled");
            return;
        }
    }
    // Application data both ways, with the plan's step sizes, must arrive intact.
    let data: Vec<u8> = plan.iter().copied().cycle().take(3000).collect();
    let sent = match c.write([&data, &[]]) {
        Ok(n) => n,
        Err(e) => {
            // A flip in the last handshake records surfaces here.
            assert!(flipped, "{e}");
            return;
        }
    };
    let mut got = Vec::new();
    let mut buf = [0u8; 700];
    for _ in 0..10_000 {
        pump(&mut c, &mut s, 1 + usize::from(plan.first().copied().unwrap_or(0)), None);
        match s.read(&mut buf) {
            Ok(Read::Data(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Read::NeedInput) if !c.has_output() => break,
            Ok(_) => {}
            Err(e) => {
                assert!(flipped, "{e}");
                return;
            }
        }
    }
    if !flipped {
        assert_eq!(got, data[..sent], "the data arrived intact");
    }
}

fuzz_target!(|input: &[u8]| {
    let [mode, split, rest @ ..] = input else { return };
    let step = usize::from(*split) * 7 + 1;
    match mode % 3 {
        0 => {
            let (_, server_tls) = configs();
            let mut s = server_tls.session(vec![0; server_tls.layout().buffer_len()]).expect("server session");
            feed(&mut s, rest, step);
        }
        1 => {
            let (client_tls, _) = configs();
            let mut c =
                client_tls.session("localhost", vec![0; client_tls.layout().buffer_len()]).expect("client session");
            assert_eq!(c.handshake().ok(), Some(Handshake::Transmit));
            let hello = c.output().len();
            c.transmitted(hello);
            feed(&mut c, rest, step);
        }
        _ => pair(rest),
    }
});

//! Property tests of WebSocket framing: the receiver's events do not depend on how the input is
//! split, headers round-trip, masking in pieces equals masking whole, valid message streams
//! come back as sent, and hostile bytes never panic or stall.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod pieces;
mod ws_support;

use pieces::split_at;
use proptest::prelude::*;
use tern_proto::Parse;
use tern_proto::ws::{
    CloseCode, FrameHeader, FrameInfo, Opcode, Role, WsError, apply_mask, encode_frame, frame_len, handshake,
    parse_close_payload,
};
use tern_proto::{Method, Version};
use ws_support::{Ev, run};

/// A frame with any header bits, possibly breaking rules.
#[derive(Debug, Clone)]
struct RawFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    /// 0: minimal, 2: 16-bit, 8: 64-bit.
    form: usize,
    payload: Vec<u8>,
}

impl RawFrame {
    fn write(&self, out: &mut Vec<u8>) {
        let len = self.payload.len() as u64;
        out.push(u8::from(self.fin) << 7 | (self.rsv & 7) << 4 | (self.opcode & 0xF));
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let form = if self.form == 0 {
            if len < 126 {
                0
            } else if len <= 0xFFFF {
                2
            } else {
                8
            }
        } else {
            self.form
        };
        match form {
            0 => out.push(mask_bit | len as u8),
            2 if len <= 0xFFFF => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        let mut p = self.payload.clone();
        if let Some(m) = self.mask {
            out.extend_from_slice(&m);
            apply_mask(m, 0, &mut p);
        }
        out.extend_from_slice(&p);
    }
}

/// Payload bytes of several kinds: text, random, close payloads.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => ".{0,40}".prop_map(String::into_bytes),
        3 => prop::collection::vec(any::<u8>(), 0..40),
        2 => (prop_oneof![Just(1000u16), Just(1001), Just(1005), Just(3000), Just(4999), any::<u16>()], ".{0,20}")
            .prop_map(|(c, r)| [c.to_be_bytes().to_vec(), r.into_bytes()].concat()),
        1 => prop::collection::vec(any::<u8>(), 120..300),
    ]
}

/// Frames that mostly follow the rules, sometimes not.
fn raw_frame() -> impl Strategy<Value = RawFrame> {
    (
        prop::bool::weighted(0.7),
        prop_oneof![9 => Just(0u8), 1 => 0u8..8],
        prop_oneof![3 => Just(0x1u8), 3 => Just(0x0), 2 => Just(0x2), 1 => Just(0x8), 2 => Just(0x9), 1 => Just(0xA), 1 => 0u8..16],
        prop_oneof![8 => any::<[u8; 4]>().prop_map(Some), 1 => Just(None)],
        prop_oneof![12 => Just(0usize), 1 => Just(2), 1 => Just(8)],
        payload(),
    )
        .prop_map(|(fin, rsv, opcode, mask, form, payload)| RawFrame { fin, rsv, opcode, mask, form, payload })
}

/// A stream of such frames, perhaps with junk after.
fn raw_stream() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(raw_frame(), 0..8), prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(frames, junk)| {
        let mut out = Vec::new();
        for f in &frames {
            f.write(&mut out);
        }
        out.extend_from_slice(&junk);
        out
    })
}

/// A valid message stream as a client (`masked`) or a server sends it, with the events the
/// peer must report.
fn valid_stream(masked: bool) -> impl Strategy<Value = (Vec<u8>, Vec<Ev>)> {
    let message = (
        any::<bool>(),
        prop_oneof![".{0,60}".prop_map(String::into_bytes), prop::collection::vec(any::<u8>(), 0..200)],
        prop::collection::vec(any::<usize>(), 0..4),
        prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..125)), 0..3),
    );
    (prop::collection::vec(message, 0..5), any::<[u8; 4]>(), prop::option::of(".{0,30}")).prop_map(
        move |(messages, seed, close)| {
            let mut wire = Vec::new();
            let mut evs = Vec::new();
            let mut k = 0u8;
            let mut next_mask = move || {
                k = k.wrapping_add(1);
                masked.then_some([seed[0] ^ k, seed[1], seed[2].wrapping_add(k), seed[3]])
            };
            let push = |wire: &mut Vec<u8>, evs: &mut Vec<Ev>, info: FrameInfo, data: &[u8], mask: Option<[u8; 4]>| {
                let mut frame = vec![0u8; frame_len(data.len(), mask.is_some())];
                encode_frame(info.opcode, info.fin, mask, data, &mut frame).unwrap();
                wire.extend_from_slice(&frame);
                evs.push(Ev::Frame(info));
                if !data.is_empty() {
                    evs.push(Ev::Data(data.to_vec()));
                }
                evs.push(Ev::End(info));
            };
            for (binary, mut data, cuts, controls) in messages {
                let kind = if binary || std::str::from_utf8(&data).is_err() { Opcode::Binary } else { Opcode::Text };
                if kind == Opcode::Text {
                    data = String::from_utf8(data).unwrap().into_bytes();
                }
                let pieces = split_at(&data, &cuts);
                let last = pieces.len() - 1;
                let mut offset = 0u64;
                for (i, piece) in pieces.iter().enumerate() {
                    let opcode = if i == 0 { kind } else { Opcode::Continuation };
                    let info = FrameInfo {
                        opcode,
                        fin: i == last,
                        payload_len: piece.len() as u64,
                        message: kind,
                        message_offset: offset,
                    };
                    push(&mut wire, &mut evs, info, piece, next_mask());
                    offset += piece.len() as u64;
                    if i != last {
                        for (ping, p) in &controls {
                            let op = if *ping { Opcode::Ping } else { Opcode::Pong };
                            let info = FrameInfo {
                                opcode: op,
                                fin: true,
                                payload_len: p.len() as u64,
                                message: op,
                                message_offset: 0,
                            };
                            push(&mut wire, &mut evs, info, p, next_mask());
                        }
                    }
                }
            }
            if let Some(reason) = close {
                let mut payload = [0u8; 125];
                let n = tern_proto::ws::write_close_payload(CloseCode::NORMAL, &reason, &mut payload).unwrap();
                let info = FrameInfo {
                    opcode: Opcode::Close,
                    fin: true,
                    payload_len: n as u64,
                    message: Opcode::Close,
                    message_offset: 0,
                };
                push(&mut wire, &mut evs, info, &payload[..n], next_mask());
                evs.push(Ev::Closed);
            }
            (wire, evs)
        },
    )
}

/// A valid stream with a few bytes changed: rules broken deep inside a stream.
fn mutated_stream() -> impl Strategy<Value = (Vec<u8>, Role)> {
    (any::<bool>(), prop::collection::vec((any::<usize>(), 1u8..=255), 1..4)).prop_flat_map(|(server, flips)| {
        valid_stream(server).prop_map(move |(mut wire, _)| {
            if !wire.is_empty() {
                let len = wire.len();
                for (at, x) in &flips {
                    wire[at % len] ^= x;
                }
            }
            (wire, if server { Role::Server } else { Role::Client })
        })
    })
}

/// A valid header for any opcode.
fn header() -> impl Strategy<Value = FrameHeader> {
    (
        any::<bool>(),
        0u8..8,
        prop_oneof![
            Just(Opcode::Continuation),
            Just(Opcode::Text),
            Just(Opcode::Binary),
            Just(Opcode::Close),
            Just(Opcode::Ping),
            Just(Opcode::Pong)
        ],
        prop::option::of(any::<[u8; 4]>()),
        prop_oneof![0u64..=125, 126u64..=0xFFFF, 0x1_0000u64..=i64::MAX as u64, Just(i64::MAX as u64)],
    )
        .prop_map(|(fin, rsv, opcode, mask, len)| {
            let (fin, payload_len) = if opcode.is_control() { (true, len % 126) } else { (fin, len) };
            FrameHeader { fin, rsv, opcode, mask, payload_len }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any split of any stream (valid or not) gives the same events, errors included.
    #[test]
    fn any_split_gives_the_same_events(
        wire in raw_stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
        server in any::<bool>(),
        max in prop_oneof![Just(u64::MAX), 0u64..300],
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let whole = run(role, max, [&wire[..]]);
        let split = run(role, max, split_at(&wire, &cuts));
        prop_assert_eq!(&split, &whole);
        let bytewise = run(role, max, wire.chunks(1));
        prop_assert_eq!(&bytewise, &whole);
    }

    /// The same for valid streams with a few bytes changed, so that rules break after
    /// frames have gone through, in either role.
    #[test]
    fn any_split_of_a_damaged_stream_gives_the_same_events(
        (wire, role) in mutated_stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
        max in prop_oneof![Just(u64::MAX), 0u64..300],
    ) {
        let whole = run(role, max, [&wire[..]]);
        prop_assert_eq!(&run(role, max, split_at(&wire, &cuts)), &whole);
        prop_assert_eq!(&run(role, max, wire.chunks(1)), &whole);
    }

    /// A valid stream comes back exactly: frames, message info, payloads, close.
    #[test]
    fn valid_streams_come_back_as_sent(
        (masked, (wire, want)) in any::<bool>().prop_flat_map(|m| (Just(m), valid_stream(m))),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        // Clients mask, so a server receives masked frames; servers do not.
        let role = if masked { Role::Server } else { Role::Client };
        prop_assert_eq!(&run(role, u64::MAX, [&wire[..]]), &want);
        prop_assert_eq!(&run(role, u64::MAX, split_at(&wire, &cuts)), &want);
    }

    /// A text frame of arbitrary bytes: no error exactly when the bytes are UTF-8; otherwise
    /// the bytes delivered before the error are exactly those before the proving byte.
    #[test]
    fn text_errors_at_the_proving_byte(
        data in prop_oneof![prop::collection::vec(any::<u8>(), 0..40), ".{0,20}".prop_map(String::into_bytes)],
        mask in any::<[u8; 4]>(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut wire = vec![0u8; frame_len(data.len(), true)];
        encode_frame(Opcode::Text, true, Some(mask), &data, &mut wire).unwrap();
        let evs = run(Role::Server, u64::MAX, split_at(&wire, &cuts));
        let delivered: Vec<u8> = evs.iter().filter_map(|e| if let Ev::Data(d) = e { Some(d.clone()) } else { None }).flatten().collect();
        if std::str::from_utf8(&data).is_ok() {
            prop_assert!(matches!(evs.last(), Some(Ev::End(_))));
            prop_assert_eq!(delivered, data);
        } else {
            prop_assert_eq!(evs.last(), Some(&Ev::Error(WsError::InvalidUtf8)));
            let p = delivered.len();
            prop_assert_eq!(&data[..p], &delivered[..]);
            // Everything delivered could still start valid text...
            prop_assert!(std::str::from_utf8(&data[..p]).map(|_| true).unwrap_or_else(|e| e.error_len().is_none()));
            // ...and one byte more proves it invalid, unless all was delivered (cut short at the end).
            if p < data.len() {
                prop_assert!(std::str::from_utf8(&data[..=p]).is_err_and(|e| e.error_len().is_some()));
            }
        }
    }

    /// Emitting a header and parsing it back gives the same header and length; every strict
    /// prefix is Partial.
    #[test]
    fn header_round_trip(h in header()) {
        let mut buf = [0u8; FrameHeader::MAX_LEN];
        let n = h.emit(&mut buf).unwrap();
        prop_assert_eq!(n, h.buffer_len());
        let bytes = h.to_bytes().unwrap();
        prop_assert_eq!(bytes.as_bytes(), &buf[..n]);
        prop_assert_eq!(FrameHeader::parse(&buf[..n]), Ok(Parse::Complete((h, n))));
        for cut in 0..n {
            prop_assert_eq!(FrameHeader::parse(&buf[..cut]), Ok(Parse::Partial));
        }
        let mut longer = buf[..n].to_vec();
        longer.extend_from_slice(b"payload");
        prop_assert_eq!(FrameHeader::parse(&longer), Ok(Parse::Complete((h, n))));
    }

    /// Parsing a prefix never contradicts parsing the whole.
    #[test]
    fn header_parse_prefixes_agree(bytes in prop::collection::vec(any::<u8>(), 0..16)) {
        let whole = FrameHeader::parse(&bytes);
        for cut in 0..bytes.len() {
            match FrameHeader::parse(&bytes[..cut]) {
                Ok(Parse::Partial) => {}
                other => prop_assert_eq!(other, whole),
            }
        }
        if let Ok(Parse::Complete((h, n))) = whole {
            prop_assert!(n <= bytes.len() && n == h.buffer_len());
        }
    }

    /// Masking piece by piece, at any offsets, equals masking the whole.
    #[test]
    fn masking_in_pieces(
        data in prop::collection::vec(any::<u8>(), 0..200),
        mask in any::<[u8; 4]>(),
        start in any::<u64>(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut whole = data.clone();
        apply_mask(mask, start, &mut whole);
        let mut pieces = Vec::new();
        let mut offset = start;
        for piece in split_at(&data, &cuts) {
            let mut p = piece.to_vec();
            apply_mask(mask, offset, &mut p);
            offset = offset.wrapping_add(p.len() as u64);
            pieces.extend(p);
        }
        prop_assert_eq!(&pieces, &whole);
        // Masking twice is the identity.
        apply_mask(mask, start, &mut whole);
        prop_assert_eq!(whole, data);
    }

    /// Arbitrary bytes never panic or stall, in either role, with any limit.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        max in any::<u64>(),
    ) {
        for role in [Role::Server, Role::Client] {
            let _ = run(role, max, split_at(&bytes, &cuts));
        }
        let _ = FrameHeader::parse(&bytes);
        let _ = parse_close_payload(&bytes);
        let _ = handshake::validate(&Method::Get, Version::Http11, &bytes);
        let _ = handshake::is_upgrade_request(&bytes);
    }
}

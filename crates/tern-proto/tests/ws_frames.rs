//! WebSocket framing through the public API: RFC 6455's examples, every receive rule with its
//! close code, emitting headers and frames, and a cross-check against tungstenite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod ws_support;

use tern_proto::Parse;
use tern_proto::ws::{
    CloseCode, ControlPayload, EncodeError, FrameError, FrameHeader, FrameInfo, FrameReceiver, Opcode, Received, Role,
    WsError, apply_mask, encode_frame, frame_len,
};
use ws_support::{Ev, Pipe, run};

/// `run` on the whole input.
fn whole(role: Role, input: &[u8]) -> Vec<Ev> {
    run(role, u64::MAX, [input])
}

fn info(opcode: Opcode, fin: bool, payload_len: u64, message: Opcode, message_offset: u64) -> FrameInfo {
    FrameInfo { opcode, fin, payload_len, message, message_offset }
}

/// A single final frame's events.
fn single(opcode: Opcode, payload: &[u8]) -> Vec<Ev> {
    let i = info(opcode, true, payload.len() as u64, opcode, 0);
    let mut v = vec![Ev::Frame(i)];
    if !payload.is_empty() {
        v.push(Ev::Data(payload.to_vec()));
    }
    v.push(Ev::End(i));
    v
}

/// A frame with any header bits, for breaking rules: `len` chooses the length form by value
/// unless `form` forces 16 (`Some(2)`) or 64 bits (`Some(8)`).
fn raw(b0: u8, mask: Option<[u8; 4]>, payload: &[u8], form: Option<usize>) -> Vec<u8> {
    let len = payload.len() as u64;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut out = vec![b0];
    match form.unwrap_or(if len < 126 {
        0
    } else if len <= 0xFFFF {
        2
    } else {
        8
    }) {
        0 => out.push(mask_bit | len as u8),
        2 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    let mut p = payload.to_vec();
    if let Some(m) = mask {
        out.extend_from_slice(&m);
        apply_mask(m, 0, &mut p);
    }
    out.extend_from_slice(&p);
    out
}

const M: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

/// A masked frame from a client.
fn client(b0: u8, payload: &[u8]) -> Vec<u8> {
    raw(b0, M, payload, None)
}

/// The error a server-side receiver ends with on `input`.
fn server_error(input: &[u8]) -> WsError {
    match whole(Role::Server, input).last() {
        Some(Ev::Error(e)) => *e,
        other => panic!("no error: {other:?}"),
    }
}

// --- RFC 6455 section 5.7 examples --------------------------------------------------------

#[test]
fn rfc_single_frame_unmasked_text() {
    let input = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(whole(Role::Client, &input), single(Opcode::Text, b"Hello"));
    assert_eq!(FrameHeader::parse(&input), Ok(Parse::Complete((FrameHeader::new(Opcode::Text, 5), 2))));
    let mut out = [0u8; 7];
    assert_eq!(encode_frame(Opcode::Text, true, None, b"Hello", &mut out), Ok(7));
    assert_eq!(out, input);
}

#[test]
fn rfc_single_frame_masked_text() {
    let input = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(whole(Role::Server, &input), single(Opcode::Text, b"Hello"));
    let header = FrameHeader::new(Opcode::Text, 5).with_mask([0x37, 0xfa, 0x21, 0x3d]);
    assert_eq!(FrameHeader::parse(&input), Ok(Parse::Complete((header, 6))));
    let mut out = [0u8; 11];
    assert_eq!(encode_frame(Opcode::Text, true, M, b"Hello", &mut out), Ok(11));
    assert_eq!(out, input);
}

#[test]
fn rfc_fragmented_unmasked_text() {
    let input = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let first = info(Opcode::Text, false, 3, Opcode::Text, 0);
    let second = info(Opcode::Continuation, true, 2, Opcode::Text, 3);
    let want = vec![
        Ev::Frame(first),
        Ev::Data(b"Hel".to_vec()),
        Ev::End(first),
        Ev::Frame(second),
        Ev::Data(b"lo".to_vec()),
        Ev::End(second),
    ];
    assert_eq!(whole(Role::Client, &input), want);
    assert!(first.starts_message() && !first.ends_message());
    assert!(!second.starts_message() && second.ends_message());
    let mut out = [0u8; 9];
    let n = encode_frame(Opcode::Text, false, None, b"Hel", &mut out).unwrap();
    encode_frame(Opcode::Continuation, true, None, b"lo", &mut out[n..]).unwrap();
    assert_eq!(out, input);
}

#[test]
fn rfc_ping_and_pong() {
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(whole(Role::Client, &ping), single(Opcode::Ping, b"Hello"));
    let pong = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(whole(Role::Server, &pong), single(Opcode::Pong, b"Hello"));
    let mut out = [0u8; 11];
    assert_eq!(encode_frame(Opcode::Pong, true, M, b"Hello", &mut out), Ok(11));
    assert_eq!(out, pong);
}

#[test]
fn rfc_256_bytes_and_64_kib_binary() {
    let payload: Vec<u8> = (0..65536u32).map(|i| (i * 7 % 251) as u8).collect();
    for (len, header) in [(256usize, &[0x82u8, 0x7E, 0x01, 0x00][..]), (65536, &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])] {
        let mut input = header.to_vec();
        input.extend_from_slice(&payload[..len]);
        assert_eq!(whole(Role::Client, &input), single(Opcode::Binary, &payload[..len]));
        let h = FrameHeader::new(Opcode::Binary, len as u64);
        assert_eq!(FrameHeader::parse(&input), Ok(Parse::Complete((h, header.len()))));
        let mut out = vec![0u8; frame_len(len, false)];
        assert_eq!(out.len(), header.len() + len);
        encode_frame(Opcode::Binary, true, None, &payload[..len], &mut out).unwrap();
        assert_eq!(out, input);
        // Masked by a client: same payload back.
        let masked = client(0x82, &payload[..len]);
        assert_eq!(masked.len(), frame_len(len, true));
        assert_eq!(whole(Role::Server, &masked), single(Opcode::Binary, &payload[..len]));
    }
}

// --- sequences ------------------------------------------------------------------------------

#[test]
fn control_frames_between_fragments() {
    let mut input = client(0x01, "caf".as_bytes());
    input.extend(client(0x89, b"ping"));
    input.extend(client(0x00, "é ".as_bytes()));
    input.extend(client(0x8a, b""));
    input.extend(client(0x80, "ok".as_bytes()));
    input.extend(client(0x82, &[0xff, 0xfe]));
    let i1 = info(Opcode::Text, false, 3, Opcode::Text, 0);
    let p = info(Opcode::Ping, true, 4, Opcode::Ping, 0);
    let i2 = info(Opcode::Continuation, false, 3, Opcode::Text, 3);
    let q = info(Opcode::Pong, true, 0, Opcode::Pong, 0);
    let i3 = info(Opcode::Continuation, true, 2, Opcode::Text, 6);
    let mut want = vec![
        Ev::Frame(i1),
        Ev::Data(b"caf".to_vec()),
        Ev::End(i1),
        Ev::Frame(p),
        Ev::Data(b"ping".to_vec()),
        Ev::End(p),
        Ev::Frame(i2),
        Ev::Data("é ".as_bytes().to_vec()),
        Ev::End(i2),
        Ev::Frame(q),
        Ev::End(q),
        Ev::Frame(i3),
        Ev::Data(b"ok".to_vec()),
        Ev::End(i3),
    ];
    want.extend(single(Opcode::Binary, &[0xff, 0xfe]));
    assert_eq!(whole(Role::Server, &input), want);
    // Byte by byte: the same.
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run(Role::Server, u64::MAX, &bytes), want);
}

#[test]
fn utf8_sequence_split_across_fragments() {
    let euro = "€".as_bytes();
    let mut input = client(0x01, &euro[..1]);
    input.extend(client(0x89, b""));
    input.extend(client(0x00, &euro[1..2]));
    input.extend(client(0x80, &euro[2..]));
    let evs = whole(Role::Server, &input);
    assert!(!evs.iter().any(|e| matches!(e, Ev::Error(_))), "{evs:?}");
    assert_eq!(evs.iter().filter(|e| matches!(e, Ev::End(_))).count(), 4);
}

#[test]
fn close_ends_the_stream_and_later_bytes_are_not_read() {
    let mut input = client(0x88, b"\x03\xe8bye");
    input.extend(client(0x81, b"after close"));
    let mut rx = FrameReceiver::new(Role::Server, 1024);
    let mut buf = input.clone();
    let mut at = 0;
    let mut control = ControlPayload::new();
    loop {
        let (n, ev) = rx.decode(&mut buf[at..]).unwrap();
        at += n;
        match ev {
            Received::Frame(i) => assert_eq!(i.opcode, Opcode::Close),
            Received::Payload(p) => control.extend(p).unwrap(),
            Received::FrameEnd(_) => {}
            Received::Closed => break,
            Received::NeedMore => panic!("whole frame given"),
        }
    }
    assert_eq!(control.close_frame(), Ok(Some((CloseCode::NORMAL, "bye"))));
    assert_eq!(at, 11);
    assert_eq!(rx.decode(&mut buf[at..]), Ok((0, Received::Closed)));
    assert!(rx.is_closed());
    // An empty close is fine too.
    assert_eq!(whole(Role::Server, &client(0x88, b"")).last(), Some(&Ev::Closed));
}

#[test]
fn reading_in_pieces_tracks_left_len() {
    let payload: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
    let mut input = client(0x82, &payload);
    let mut rx = FrameReceiver::new(Role::Server, 1 << 20);
    let mut at = 0;
    let mut got = Vec::new();
    let mut lefts = Vec::new();
    loop {
        let end = (at + 7).min(input.len());
        let (n, ev) = rx.decode(&mut input[at..end]).unwrap();
        at += n;
        match ev {
            Received::Frame(i) => {
                assert_eq!(rx.frame(), Some(i));
                assert_eq!(rx.payload_remaining(), 300);
            }
            Received::Payload(p) => {
                assert!(p.len() <= 7);
                got.extend_from_slice(p);
                lefts.push(rx.payload_remaining());
            }
            Received::FrameEnd(_) => break,
            Received::NeedMore => {}
            Received::Closed => panic!(),
        }
    }
    assert_eq!(got, payload);
    assert_eq!(lefts.last(), Some(&0));
    assert!(lefts.windows(2).all(|w| w[0] > w[1]));
    assert_eq!(rx.frame(), None);
    assert_eq!(rx.message(), None);
}

#[test]
fn message_accessors() {
    let mut input = client(0x02, b"abc");
    let mut rx = FrameReceiver::new(Role::Server, 100);
    assert_eq!((rx.role(), rx.max_message_len()), (Role::Server, 100));
    let (n, _) = rx.decode(&mut input).unwrap();
    assert_eq!(rx.message(), Some(Opcode::Binary));
    let (_, ev) = rx.decode(&mut input[n..]).unwrap();
    assert_eq!(ev, Received::Payload(b"abc"));
    assert_eq!(rx.message_len(), 3);
    assert!(matches!(rx.decode(&mut []), Ok((0, Received::FrameEnd(i))) if !i.fin));
    assert_eq!(rx.message(), Some(Opcode::Binary));
}

#[test]
fn receiver_is_small() {
    let size = size_of::<FrameReceiver>();
    println!("size_of::<FrameReceiver>() = {size}");
    assert!(size <= 96, "{size}");
}

// --- every receive rule, with its close code ------------------------------------------------

#[test]
fn masking_rules() {
    assert_eq!(server_error(&raw(0x81, None, b"hi", None)), WsError::UnmaskedFrame);
    assert_eq!(WsError::UnmaskedFrame.close_code(), CloseCode::PROTOCOL_ERROR);
    let evs = whole(Role::Client, &client(0x81, b"hi"));
    assert_eq!(evs, vec![Ev::Error(WsError::MaskedFrame)]);
    assert_eq!(WsError::MaskedFrame.close_code().as_u16(), 1002);
}

#[test]
fn reserved_bits() {
    for (bits, rsv) in [(0x40, 0b100), (0x20, 0b010), (0x10, 0b001), (0x70, 0b111)] {
        let e = server_error(&client(0x81 | bits, b"x"));
        assert_eq!(e, WsError::ReservedBits(rsv));
        assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn reserved_opcodes() {
    for op in [0x3u8, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let e = server_error(&client(0x80 | op, b""));
        assert_eq!(e, WsError::Frame(FrameError::ReservedOpcode(op)));
        assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
        // Reported on the first byte alone.
        assert_eq!(run(Role::Server, 10, [&[0x80 | op]]), vec![Ev::Error(e)]);
        assert_eq!(FrameHeader::parse(&[0x80 | op]), Err(FrameError::ReservedOpcode(op)));
    }
}

#[test]
fn control_frames_are_final_and_short() {
    for op in [0x8u8, 0x9, 0xA] {
        let opcode = Opcode::from_bits(op).unwrap();
        let e = server_error(&client(op, b""));
        assert_eq!(e, WsError::FragmentedControl(opcode));
        assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
        let e = server_error(&client(0x80 | op, &[b'a'; 126]));
        assert_eq!(e, WsError::ControlTooLong(opcode));
        assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
    }
    // 125 bytes is the most a ping may carry.
    assert_eq!(whole(Role::Server, &client(0x89, &[7; 125])), single(Opcode::Ping, &[7; 125]));
}

#[test]
fn fragmentation_rules() {
    let e = server_error(&client(0x80, b"orphan"));
    assert_eq!(e, WsError::UnexpectedContinuation);
    assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
    let e = server_error(&client(0x00, b""));
    assert_eq!(e, WsError::UnexpectedContinuation);

    let mut input = client(0x01, b"one");
    input.extend(client(0x81, b"two"));
    let e = server_error(&input);
    assert_eq!(e, WsError::UnfinishedMessage);
    assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);

    let mut input = client(0x02, b"one");
    input.extend(client(0x02, b"two"));
    assert_eq!(server_error(&input), WsError::UnfinishedMessage);

    // After a message ends, a continuation is an orphan again.
    let mut input = client(0x82, b"done");
    input.extend(client(0x80, b"more"));
    assert_eq!(server_error(&input), WsError::UnexpectedContinuation);
}

#[test]
fn message_length_limit() {
    let max = 10u64;
    let at_limit = client(0x82, &[1; 10]);
    assert_eq!(run(Role::Server, max, [&at_limit]), single(Opcode::Binary, &[1; 10]));
    let over = client(0x82, &[1; 11]);
    let evs = run(Role::Server, max, [&over]);
    assert_eq!(evs, vec![Ev::Error(WsError::MessageTooLong { max })]);
    assert_eq!(WsError::MessageTooLong { max }.close_code(), CloseCode::MESSAGE_TOO_BIG);

    // Fragments add up; the frame that crosses the limit fails before its payload.
    let mut input = client(0x01, b"abcd");
    input.extend(client(0x89, &[0; 50]));
    input.extend(client(0x00, b"efgh"));
    input.extend(client(0x80, b"ijk"));
    let evs = run(Role::Server, max, [&input]);
    assert_eq!(evs.last(), Some(&Ev::Error(WsError::MessageTooLong { max })));
    let data: Vec<u8> = evs.iter().filter_map(|e| if let Ev::Data(d) = e { Some(d.clone()) } else { None }).concat();
    assert_eq!(data.len(), 4 + 50 + 4, "control frames do not count, the crossing frame is not delivered");

    // A new message starts from zero.
    let mut input = client(0x82, &[1; 10]);
    input.extend(client(0x82, &[2; 10]));
    assert_eq!(run(Role::Server, max, [&input]).len(), 6);
    // The largest 64-bit length, announced by a continuation: refused from its header.
    let mut input = client(0x02, b"a");
    input.extend([0x80, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]);
    assert_eq!(run(Role::Server, 1000, [&input]).last(), Some(&Ev::Error(WsError::MessageTooLong { max: 1000 })));
}

trait Concat {
    fn concat(self) -> Vec<u8>;
}

impl<I: Iterator<Item = Vec<u8>>> Concat for I {
    fn concat(self) -> Vec<u8> {
        self.flatten().collect()
    }
}

#[test]
fn invalid_utf8_is_reported_where_proven() {
    // Single frame: the bytes before the proof are delivered, then the error.
    let evs = whole(Role::Server, &client(0x81, b"abc\xffdef"));
    let i = info(Opcode::Text, true, 7, Opcode::Text, 0);
    assert_eq!(evs, vec![Ev::Frame(i), Ev::Data(b"abc".to_vec()), Ev::Error(WsError::InvalidUtf8)]);
    assert_eq!(WsError::InvalidUtf8.close_code(), CloseCode::INVALID_PAYLOAD);
    // A truncated sequence followed by a wrong byte: proven at the wrong byte.
    let evs = whole(Role::Server, &client(0x81, b"\xe2\x82\x28"));
    assert_eq!(evs[1..], [Ev::Data(b"\xe2\x82".to_vec()), Ev::Error(WsError::InvalidUtf8)]);
    // Across fragments: the second fragment proves it at its first byte.
    let mut input = client(0x01, b"ok\xe2");
    input.extend(client(0x80, b"\x28"));
    let evs = whole(Role::Server, &input);
    assert_eq!(evs.last(), Some(&Ev::Error(WsError::InvalidUtf8)));
    assert_eq!(evs.len(), 5);
    // Incomplete at the end of the message: at its end.
    let evs = whole(Role::Server, &client(0x81, b"ok\xf0\x9f\x98"));
    assert_eq!(evs[1..], [Ev::Data(b"ok\xf0\x9f\x98".to_vec()), Ev::Error(WsError::InvalidUtf8)]);
    // Incomplete at the end of a non-final fragment is fine.
    let mut input = client(0x01, b"\xf0\x9f");
    input.extend(client(0x80, b"\x98\x80"));
    assert!(!whole(Role::Server, &input).iter().any(|e| matches!(e, Ev::Error(_))));
    // Overlong and surrogate encodings are invalid.
    assert_eq!(server_error(&client(0x81, b"\xc0\xaf")), WsError::InvalidUtf8);
    assert_eq!(server_error(&client(0x81, b"\xed\xa0\x80")), WsError::InvalidUtf8);
    // Binary messages are not checked.
    assert_eq!(whole(Role::Server, &client(0x82, b"\xff\xfe")), single(Opcode::Binary, b"\xff\xfe"));
}

#[test]
fn close_payload_rules() {
    let e = server_error(&client(0x88, b"\x03"));
    assert_eq!(e, WsError::ClosePayloadTooShort);
    assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
    for code in [0u16, 999, 1004, 1005, 1006, 1012, 1015, 1016, 2000, 2999, 5000, 65535] {
        let e = server_error(&client(0x88, &code.to_be_bytes()));
        assert_eq!(e, WsError::InvalidCloseCode(code), "{code}");
        assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
        assert!(!CloseCode(code).is_valid_received());
    }
    for code in [1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice("ünïcode".as_bytes());
        let mut want = single(Opcode::Close, &payload);
        want.push(Ev::Closed);
        assert_eq!(whole(Role::Server, &client(0x88, &payload)), want, "{code}");
        assert!(CloseCode(code).is_valid_received());
    }
    let e = server_error(&client(0x88, b"\x03\xe8bad \xff"));
    assert_eq!(e, WsError::InvalidCloseReason);
    assert_eq!(e.close_code(), CloseCode::INVALID_PAYLOAD);
    // A reason cut inside a character fails at the end of the frame.
    let evs = whole(Role::Server, &client(0x88, b"\x03\xe8\xc3"));
    assert_eq!(evs.last(), Some(&Ev::Error(WsError::InvalidCloseReason)));
    // The close code split across reads is still checked.
    let input = client(0x88, b"\x03\xed");
    let evs = run(Role::Server, 100, [&input[..7], &input[7..]]);
    assert_eq!(evs.last(), Some(&Ev::Error(WsError::InvalidCloseCode(1005))));
}

#[test]
fn length_encoding_rules() {
    // 16-bit form for 125 bytes, 64-bit form for 65535: not minimal.
    let e = server_error(&raw(0x82, M, &[0; 125], Some(2)));
    assert_eq!(e, WsError::Frame(FrameError::NonMinimalLength));
    assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR);
    assert_eq!(server_error(&raw(0x82, M, &[0; 65535], Some(8))), WsError::Frame(FrameError::NonMinimalLength));
    assert_eq!(server_error(&raw(0x82, M, &[0; 0], Some(2))), WsError::Frame(FrameError::NonMinimalLength));
    // The most significant bit of a 64-bit length: refused at its byte.
    let input = [0x82, 0xFF, 0x80];
    assert_eq!(whole(Role::Server, &input), vec![Ev::Error(WsError::Frame(FrameError::LengthOverflow))]);
    assert_eq!(FrameHeader::parse(&input), Err(FrameError::LengthOverflow));
    assert_eq!(FrameHeader::parse(&raw(0x82, None, &[0; 125], Some(2))), Err(FrameError::NonMinimalLength));
    assert_eq!(FrameError::LengthOverflow.close_code(), CloseCode::PROTOCOL_ERROR);
}

#[test]
fn errors_are_sticky() {
    let mut rx = FrameReceiver::new(Role::Server, 100);
    let mut bad = raw(0x81, None, b"x", None);
    assert_eq!(rx.decode(&mut bad), Err(WsError::UnmaskedFrame));
    let mut good = client(0x81, b"x");
    assert_eq!(rx.decode(&mut good), Err(WsError::UnmaskedFrame));
    assert_eq!(rx.decode(&mut []), Err(WsError::UnmaskedFrame));
    assert_eq!(rx.frame(), None);
    // An error after delivered bytes: the frame is still known, then the error repeats.
    let mut rx = FrameReceiver::new(Role::Server, 100);
    let mut input = client(0x88, b"\x03\xe8\xff");
    let (n, _) = rx.decode(&mut input).unwrap();
    let (m, ev) = rx.decode(&mut input[n..]).unwrap();
    assert_eq!(ev, Received::Payload(b"\x03\xe8"));
    assert!(rx.frame().is_some_and(|f| f.is_control()));
    assert_eq!(rx.decode(&mut input[n + m..]), Err(WsError::InvalidCloseReason));
    assert_eq!(rx.decode(&mut input[n + m..]), Err(WsError::InvalidCloseReason));
}

#[test]
fn every_error_converts_to_its_close_code() {
    let cases = [
        (WsError::Frame(FrameError::ReservedOpcode(3)), 1002),
        (WsError::Frame(FrameError::NonMinimalLength), 1002),
        (WsError::ReservedBits(4), 1002),
        (WsError::UnmaskedFrame, 1002),
        (WsError::MaskedFrame, 1002),
        (WsError::FragmentedControl(Opcode::Ping), 1002),
        (WsError::ControlTooLong(Opcode::Close), 1002),
        (WsError::UnexpectedContinuation, 1002),
        (WsError::UnfinishedMessage, 1002),
        (WsError::MessageTooLong { max: 1 }, 1009),
        (WsError::InvalidUtf8, 1007),
        (WsError::ClosePayloadTooShort, 1002),
        (WsError::InvalidCloseCode(1005), 1002),
        (WsError::InvalidCloseReason, 1007),
    ];
    for (e, code) in cases {
        assert_eq!(e.close_code().as_u16(), code, "{e}");
        assert!(!e.to_string().is_empty());
    }
}

// --- frame headers and the encoder -----------------------------------------------------------

#[test]
fn header_lengths_are_minimal() {
    for (len, header_len) in [(0u64, 2usize), (125, 2), (126, 4), (65535, 4), (65536, 10), (i64::MAX as u64, 10)] {
        let h = FrameHeader::new(Opcode::Binary, len);
        assert_eq!(h.buffer_len(), header_len);
        assert_eq!(h.with_mask([1, 2, 3, 4]).buffer_len(), header_len + 4);
        let mut buf = [0u8; FrameHeader::MAX_LEN];
        let n = h.emit(&mut buf).unwrap();
        assert_eq!(n, header_len);
        assert_eq!(FrameHeader::parse(&buf[..n]), Ok(Parse::Complete((h, n))));
        for cut in 0..n {
            assert_eq!(FrameHeader::parse(&buf[..cut]), Ok(Parse::Partial));
        }
    }
}

#[test]
fn header_fields_round_trip() {
    let h = FrameHeader {
        fin: false,
        rsv: 0b101,
        opcode: Opcode::Continuation,
        mask: Some([9, 8, 7, 6]),
        payload_len: 300,
    };
    let bytes = h.to_bytes().unwrap();
    assert_eq!(bytes.as_bytes(), [0x50, 0xFE, 0x01, 0x2C, 9, 8, 7, 6]);
    assert_eq!(FrameHeader::parse(bytes.as_bytes()), Ok(Parse::Complete((h, 8))));
    assert_eq!(h.with_fin(true).to_bytes().unwrap().as_bytes()[0], 0xD0);
}

#[test]
fn refused_headers_write_nothing() {
    let cases = [
        (FrameHeader::new(Opcode::Ping, 126), EncodeError::ControlTooLong(126)),
        (FrameHeader::new(Opcode::Close, 0).with_fin(false), EncodeError::FragmentedControl),
        (FrameHeader { rsv: 8, ..FrameHeader::new(Opcode::Text, 0) }, EncodeError::InvalidReservedBits(8)),
        (FrameHeader::new(Opcode::Binary, 1 << 63), EncodeError::PayloadTooLong(1 << 63)),
    ];
    for (h, e) in cases {
        let mut buf = [0xAAu8; 16];
        assert_eq!(h.emit(&mut buf), Err(e));
        assert_eq!(h.check(), Err(e));
        assert!(buf.iter().all(|&b| b == 0xAA));
    }
    let mut small = [0xAAu8; 3];
    let h = FrameHeader::new(Opcode::Text, 200);
    assert_eq!(h.emit(&mut small), Err(EncodeError::BufferTooSmall { needed: 4, available: 3 }));
    assert_eq!(small, [0xAA; 3]);
    let mut out = [0xAAu8; 6];
    assert_eq!(
        encode_frame(Opcode::Text, true, None, b"Hello", &mut out),
        Err(EncodeError::BufferTooSmall { needed: 7, available: 6 })
    );
    assert_eq!(out, [0xAA; 6]);
    assert_eq!(encode_frame(Opcode::Ping, true, None, &[0; 126], &mut [0; 200]), Err(EncodeError::ControlTooLong(126)));
}

#[test]
fn opcodes() {
    for bits in 0..16u8 {
        match Opcode::from_bits(bits) {
            Ok(op) => {
                assert_eq!(op.bits(), bits);
                assert_eq!(op.is_control(), bits >= 8);
                assert_eq!(op.is_data(), bits < 8);
            }
            Err(e) => assert_eq!(e, FrameError::ReservedOpcode(bits)),
        }
    }
}

#[test]
fn control_payloads() {
    let mut p = ControlPayload::new();
    assert!(p.is_empty());
    p.extend(&[1; 100]).unwrap();
    assert_eq!(p.extend(&[1; 26]), Err(EncodeError::ControlTooLong(126)));
    assert_eq!(p.len(), 100);
    p.extend(&[2; 25]).unwrap();
    assert_eq!(p.len(), 125);
    p.clear();
    assert_eq!(p, ControlPayload::default());
    assert!(ControlPayload::from_slice(&[0; 126]).is_err());
    assert_eq!(ControlPayload::from_slice(b"x").unwrap().as_bytes(), b"x");
    let reason = "r".repeat(123);
    let close = ControlPayload::close(CloseCode(4000), &reason).unwrap();
    assert_eq!(close.len(), 125);
    assert_eq!(close.close_frame(), Ok(Some((CloseCode(4000), reason.as_str()))));
    assert_eq!(ControlPayload::close(CloseCode::NO_STATUS, ""), Err(EncodeError::InvalidCloseCode(1005)));
    assert_eq!(ControlPayload::close(CloseCode::NORMAL, &"r".repeat(124)), Err(EncodeError::CloseReasonTooLong(124)));
    assert_eq!(ControlPayload::new().close_frame(), Ok(None));
    assert_eq!(format!("{:?}", ControlPayload::from_slice(b"ab").unwrap()), "ControlPayload([97, 98])");
}

// --- cross-check with tungstenite -------------------------------------------------------------

use tungstenite::protocol::frame::coding::{Data, OpCode as TOp};
use tungstenite::protocol::frame::{Frame as TFrame, FrameHeader as THeader};
use tungstenite::protocol::{Role as TRole, WebSocket};
use tungstenite::{Bytes, Message};

#[test]
fn tungstenite_client_messages_parse_with_our_server_receiver() {
    let mut ws = WebSocket::from_raw_socket(Pipe::default(), TRole::Client, None);
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    ws.send(Message::text("héllo")).unwrap();
    ws.send(Message::binary(big.clone())).unwrap();
    ws.send(Message::Ping(Bytes::from_static(b"p"))).unwrap();
    ws.send(Message::Close(Some(tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::Away,
        reason: "gone".into(),
    })))
    .unwrap();
    let wire = ws.get_ref().output.clone();
    let mut want = single(Opcode::Text, "héllo".as_bytes());
    want.extend(single(Opcode::Binary, &big));
    want.extend(single(Opcode::Ping, b"p"));
    want.extend(single(Opcode::Close, b"\x03\xe9gone"));
    want.push(Ev::Closed);
    assert_eq!(whole(Role::Server, &wire), want);
    let pieces: Vec<&[u8]> = wire.chunks(977).collect();
    assert_eq!(run(Role::Server, u64::MAX, &pieces), want);
}

#[test]
fn tungstenite_fragments_parse_with_our_receiver() {
    let mut wire = Vec::new();
    let mut f = TFrame::message(Bytes::from_static("frag".as_bytes()), TOp::Data(Data::Text), false);
    f.header_mut().mask = Some([1, 2, 3, 4]);
    f.format(&mut wire).unwrap();
    let mut f = TFrame::ping(Bytes::from_static(b""));
    f.header_mut().mask = Some([5, 6, 7, 8]);
    f.format(&mut wire).unwrap();
    let mut f = TFrame::message(Bytes::from_static("ments".as_bytes()), TOp::Data(Data::Continue), true);
    f.header_mut().mask = Some([9, 9, 9, 9]);
    f.format(&mut wire).unwrap();
    let data: Vec<u8> = whole(Role::Server, &wire)
        .into_iter()
        .filter_map(|e| if let Ev::Data(d) = e { Some(d) } else { None })
        .concat();
    assert_eq!(data, b"fragments");
}

#[test]
fn our_frames_parse_with_tungstenite() {
    // Headers: every length form, masked and not.
    for len in [0usize, 1, 125, 126, 1000, 65535, 65536, 100_000] {
        for mask in [None, Some([0xde, 0xad, 0xbe, 0xef])] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let mut wire = vec![0u8; frame_len(len, mask.is_some())];
            encode_frame(Opcode::Binary, true, mask, &payload, &mut wire).unwrap();
            let mut cursor = std::io::Cursor::new(&wire);
            let (h, plen) = THeader::parse(&mut cursor).unwrap().unwrap();
            assert_eq!(plen, len as u64);
            assert_eq!((h.is_final, h.opcode, h.mask), (true, TOp::Data(Data::Binary), mask));
            assert_eq!(cursor.position() as usize, wire.len() - len);
        }
    }

    // Messages to a tungstenite server: fragmented text with a ping between, binary, close.
    let mut wire = vec![0u8; 1024];
    let mut n = 0;
    let m = |k: u8| Some([k, k.wrapping_mul(3), 7, 1]);
    n += encode_frame(Opcode::Text, false, m(1), "hé".as_bytes(), &mut wire[n..]).unwrap();
    n += encode_frame(Opcode::Ping, true, m(2), b"are you there", &mut wire[n..]).unwrap();
    n += encode_frame(Opcode::Continuation, true, m(3), "llo".as_bytes(), &mut wire[n..]).unwrap();
    n += encode_frame(Opcode::Binary, true, m(4), &[0, 1, 2, 255], &mut wire[n..]).unwrap();
    let close = ControlPayload::close(CloseCode::NORMAL, "bye").unwrap();
    n += encode_frame(Opcode::Close, true, m(5), close.as_bytes(), &mut wire[n..]).unwrap();
    let pipe = Pipe { input: wire[..n].iter().copied().collect(), output: Vec::new() };
    let mut ws = WebSocket::from_raw_socket(pipe, TRole::Server, None);
    assert_eq!(ws.read().unwrap(), Message::Ping(Bytes::from_static(b"are you there")));
    assert_eq!(ws.read().unwrap(), Message::text("héllo"));
    assert_eq!(ws.read().unwrap(), Message::binary(vec![0, 1, 2, 255]));
    match ws.read().unwrap() {
        Message::Close(Some(c)) => assert_eq!((u16::from(c.code), c.reason.as_str()), (1000, "bye")),
        other => panic!("{other:?}"),
    }
    let _ = ws.flush();
    // tungstenite answered the ping with a pong and the close with a close: read them as a client.
    let answers = ws.get_ref().output.clone();
    let mut want = single(Opcode::Pong, b"are you there");
    want.extend(single(Opcode::Close, b"\x03\xe8bye"));
    want.push(Ev::Closed);
    assert_eq!(whole(Role::Client, &answers), want);
}

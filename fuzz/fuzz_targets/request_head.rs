//! Request heads: `RequestHead::parse` on arbitrary bytes, `request_body` on every complete
//! head, and the documented "same answer for any split" contract (head module docs): however
//! the input is cut, the first answer that is not Partial equals the answer for the whole
//! input. Checked here for the input cut in half, for a complete head cut exactly at its end
//! (same answer) and one byte before it (Partial: the start of a valid head is no error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::{EMPTY_SLOT, Limits, Parse, RemoteError, RequestHead, body};

/// Header slots per parse, as a small server would give.
const SLOTS: usize = 32;

type Parsed<'a> = Result<Parse<(RequestHead<'a>, usize)>, RemoteError>;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();

    let mut slots = [EMPTY_SLOT; SLOTS];
    let whole: Parsed<'_> = RequestHead::parse(data, &mut slots, &limits);
    if let Ok(Parse::Complete((head, len))) = &whole {
        assert!(*len > 0 && *len <= data.len(), "head length {len} of {} bytes", data.len());
        let _ = body::request_body(head, &limits);
    }

    // The input arriving in two reads: the answer to the first read alone.
    let k = data.len() / 2;
    let mut prefix_slots = [EMPTY_SLOT; SLOTS];
    let prefix: Parsed<'_> = RequestHead::parse(&data[..k], &mut prefix_slots, &limits);
    if prefix != Ok(Parse::Partial) {
        assert_eq!(prefix, whole, "the first {k} bytes answered; the whole input must answer the same");
    }

    if let Ok(Parse::Complete((_, len))) = whole {
        let mut exact_slots = [EMPTY_SLOT; SLOTS];
        let exact: Parsed<'_> = RequestHead::parse(&data[..len], &mut exact_slots, &limits);
        assert_eq!(exact, whole, "the head alone ({len} bytes) must parse the same");

        let mut short_slots = [EMPTY_SLOT; SLOTS];
        let short: Parsed<'_> = RequestHead::parse(&data[..len - 1], &mut short_slots, &limits);
        assert_eq!(short, Ok(Parse::Partial), "a valid head minus its last byte must be Partial");
    }
});

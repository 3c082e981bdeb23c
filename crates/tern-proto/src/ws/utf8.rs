//! Incremental UTF-8 validation across payload pieces and fragments.

/// Validates UTF-8 that arrives in pieces, keeping at most the three bytes of a sequence
/// begun at the end of one piece and finished in the next.
///
/// Each piece is checked with `core::str::from_utf8` (fast on ASCII); a failure is located
/// at the byte that **proves** the text invalid, so a receiver can deliver exactly the bytes
/// before it, whatever the split: for a sequence cut short by a wrong byte (`E2 82 28`) that is
/// the wrong byte; for a byte that can never start a sequence (`FF`, a stray continuation
/// byte) it is that byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Utf8Validator {
    pending: [u8; 3],
    len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub(crate) const fn new() -> Utf8Validator {
        Utf8Validator { pending: [0; 3], len: 0 }
    }

    /// True when no sequence is left unfinished: the text so far may end here.
    pub(crate) const fn is_complete(&self) -> bool {
        self.len == 0
    }

    /// Validates the next piece. `Err(at)` gives the offset in `piece` of the byte proving
    /// the text invalid; the validator is then of no further use.
    pub(crate) fn feed(&mut self, piece: &[u8]) -> Result<(), usize> {
        let mut rest = piece;
        let mut base = 0;
        if self.len > 0 {
            // Finish the pending sequence one byte at a time: the byte that fails is the proof.
            let mut buf = [0u8; 4];
            let mut n = usize::from(self.len);
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), self.pending.get(..n)) {
                dst.copy_from_slice(src);
            }
            for (i, &b) in piece.iter().enumerate() {
                if let Some(slot) = buf.get_mut(n) {
                    *slot = b;
                }
                n += 1;
                match core::str::from_utf8(buf.get(..n).unwrap_or_default()) {
                    Ok(_) => {
                        self.len = 0;
                        rest = piece.get(i + 1..).unwrap_or_default();
                        base = i + 1;
                        break;
                    }
                    Err(e) if e.error_len().is_some() => return Err(i),
                    Err(_) => {}
                }
            }
            if self.len > 0 {
                // Still unfinished: every byte of `piece` joined the pending sequence.
                self.keep(buf.get(..n).unwrap_or_default());
                return Ok(());
            }
        }
        match core::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) => {
                let valid = e.valid_up_to();
                match e.error_len() {
                    None => {
                        self.keep(rest.get(valid..).unwrap_or_default());
                        Ok(())
                    }
                    Some(bad) => {
                        // A lead byte that can start a sequence is followed by `bad - 1` good
                        // continuation bytes and then the byte that breaks it; any other byte
                        // is wrong by itself.
                        let lead = rest.get(valid).copied().unwrap_or(0);
                        let proof = if (0xC2..=0xF4).contains(&lead) { valid + bad } else { valid };
                        Err(base + proof)
                    }
                }
            }
        }
    }

    /// Keeps the bytes of an unfinished sequence (at most three).
    fn keep(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.pending.len());
        if let (Some(dst), Some(src)) = (self.pending.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.len = n as u8;
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::Utf8Validator;

    /// The proving offset in a single piece, or None when valid (complete or not).
    fn proof(bytes: &[u8]) -> Option<usize> {
        Utf8Validator::new().feed(bytes).err()
    }

    #[test]
    fn proving_byte() {
        assert_eq!(proof("κόσμε".as_bytes()), None);
        assert_eq!(proof(b"ab\xff"), Some(2));
        assert_eq!(proof(b"ab\x80"), Some(2));
        assert_eq!(proof(b"\xe2\x82\x28"), Some(2));
        assert_eq!(proof(b"\xe2\x28"), Some(1));
        assert_eq!(proof(b"\xc0\x80"), Some(0));
        assert_eq!(proof(b"\xe0\x80"), Some(1));
        assert_eq!(proof(b"\xed\xa0\x80"), Some(1));
        assert_eq!(proof(b"\xf4\x90"), Some(1));
        assert_eq!(proof(b"\xf5"), Some(0));
        assert_eq!(proof(b"\xf0\x9f\x98"), None);
    }

    #[test]
    fn every_split_gives_the_same_proof() {
        let cases: [&[u8]; 8] = [
            "héllo wörld €𝄞".as_bytes(),
            b"\xe2\x82\x28xyz",
            b"ok\xf0\x9f\x98\x80ok\xf0\x9f\x98",
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
            b"abc\xf4\x90\x80\x80",
            b"\xc2",
            b"\xe0\xa0\x80\xc3",
            b"\x80",
        ];
        for bytes in cases {
            let whole = Utf8Validator::new().feed(bytes);
            let whole_complete = {
                let mut v = Utf8Validator::new();
                v.feed(bytes).is_ok() && v.is_complete()
            };
            for a in 0..=bytes.len() {
                for b in a..=bytes.len() {
                    let mut v = Utf8Validator::new();
                    let r = v
                        .feed(&bytes[..a])
                        .and_then(|()| v.feed(&bytes[a..b]).map_err(|e| e + a))
                        .and_then(|()| v.feed(&bytes[b..]).map_err(|e| e + b));
                    assert_eq!(r, whole, "{bytes:x?} split at {a}, {b}");
                    if r.is_ok() {
                        assert_eq!(v.is_complete(), whole_complete);
                    }
                }
            }
        }
    }
}

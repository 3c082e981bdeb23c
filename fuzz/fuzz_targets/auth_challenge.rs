//! `WWW-Authenticate` parsing and the Digest answer built from it.
//!
//! The input is cut at NUL bytes into up to four field values and passed to
//! `select_challenge`. A chosen Digest challenge's realm, nonce and opaque are unescaped with
//! exactly `unescaped_len` bytes, then an `Authorization` value is written with `digest_len`
//! bytes exactly (a buffer one byte short is refused as `BufferTooSmall`). A Basic challenge is
//! answered with the realm as the password: `basic_len` bytes exactly, and refused as
//! `InvalidCredentials` while the realm holds a control byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::client::auth::{
    AuthError, Challenge, DigestInput, ParamValue, basic_len, digest_len, select_challenge, write_basic, write_cnonce,
    write_digest,
};

/// Unescapes `value` into a buffer of exactly its `unescaped_len`.
fn unescape(value: &ParamValue<'_>) -> Vec<u8> {
    let mut out = vec![0u8; value.unescaped_len()];
    let n = value.unescape_into(&mut out).expect("unescaped_len is enough");
    assert_eq!(n, out.len(), "unescaped_len is exact");
    assert_eq!(value.unescaped().collect::<Vec<u8>>(), out, "the iterator and unescape_into agree");
    out
}

fuzz_target!(|data: &[u8]| {
    let values: Vec<&[u8]> = data.split(|&b| b == 0).take(4).collect();
    let Ok(Some(challenge)) = select_challenge(values.iter().copied()) else {
        return;
    };
    match challenge {
        Challenge::Basic { realm } => {
            // The realm as the password: control bytes are refused (RFC 7617 section 2).
            let raw = realm.as_ref().map(unescape).unwrap_or_default();
            let password: Vec<u8> = raw.iter().copied().filter(|b| !b.is_ascii_control()).collect();
            if password != raw {
                let mut out = vec![0u8; basic_len(b"user", &raw)];
                assert_eq!(write_basic(b"user", &raw, &mut out), Err(AuthError::InvalidCredentials));
            }
            let mut out = vec![0u8; basic_len(b"user", &password)];
            assert_eq!(write_basic(b"user", &password, &mut out), Ok(out.len()));
            if let Some(short) = out.len().checked_sub(1) {
                let refused = write_basic(b"user", &password, &mut out[..short]);
                assert!(matches!(refused, Err(AuthError::BufferTooSmall { .. })), "one byte short: {refused:?}");
            }
        }
        Challenge::Digest(c) => {
            let realm = unescape(&c.realm);
            let nonce = unescape(&c.nonce);
            let opaque = c.opaque.as_ref().map(unescape);
            let mut cnonce = [0u8; 16];
            write_cnonce(0x0123_4567_89ab_cdef, &mut cnonce);
            let input = DigestInput {
                username: b"user",
                password: b"pass",
                realm: &realm,
                nonce: &nonce,
                opaque: opaque.as_deref(),
                algorithm: c.algorithm,
                qop_auth: c.qop_auth,
                method: "GET",
                uri: "/dir/index.html?x=1",
                nc: 1,
                cnonce: &cnonce,
            };
            let needed = digest_len(&input);
            let mut out = vec![0u8; needed];
            match write_digest(&input, &mut out) {
                Ok(n) => assert_eq!(n, needed, "digest_len is exact"),
                Err(AuthError::BufferTooSmall { .. }) => panic!("digest_len is enough"),
                // A realm or nonce that cannot be sent back (a control byte) is refused.
                Err(_) => return,
            }
            if let Some(short) = needed.checked_sub(1) {
                let refused = write_digest(&input, &mut out[..short]);
                assert!(matches!(refused, Err(AuthError::BufferTooSmall { .. })), "one byte short: {refused:?}");
            }
        }
    }
});

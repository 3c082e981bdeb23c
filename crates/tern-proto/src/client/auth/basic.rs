//! Basic credentials (RFC 7617): `Basic base64(user ":" password)`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{AuthError, Cursor, Sink, check_credentials};

const PREFIX: &[u8] = b"Basic ";

/// The exact length of [`write_basic`]'s output: `Basic ` and the base64 of `user:password`.
///
/// ```
/// assert_eq!(tern_proto::client::auth::basic_len(b"Aladdin", b"open sesame"), 34);
/// ```
pub fn basic_len(user: &[u8], password: &[u8]) -> usize {
    let raw = user.len().saturating_add(1).saturating_add(password.len());
    PREFIX.len().saturating_add(base64::encoded_len(raw, true).unwrap_or(usize::MAX))
}

/// Writes the Basic `Authorization` value `Basic base64(user:password)` to the start of `out`;
/// returns its length, which is [`basic_len`].
///
/// The bytes are encoded as given: RFC 7617 recommends UTF-8 but any bytes go through base64.
///
/// Errors, nothing written: [`AuthError::ColonInUsername`] (the server would split at the
/// first colon, RFC 7617 section 2); [`AuthError::InvalidCredentials`] for a control byte in
/// either part (RFC 7617 section 2); [`AuthError::BufferTooSmall`].
///
/// ```
/// use tern_proto::client::auth::write_basic;
/// let mut out = [0u8; 64];
/// let n = write_basic(b"Aladdin", b"open sesame", &mut out)?;
/// assert_eq!(&out[..n], b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
/// # Ok::<(), tern_proto::client::auth::AuthError>(())
/// ```
pub fn write_basic(user: &[u8], password: &[u8], out: &mut [u8]) -> Result<usize, AuthError> {
    if user.contains(&b':') {
        return Err(AuthError::ColonInUsername);
    }
    check_credentials(user, password)?;
    let needed = basic_len(user, password);
    if out.len() < needed {
        return Err(AuthError::BufferTooSmall { needed, available: out.len() });
    }
    let mut cursor = Cursor::new(out);
    cursor.put(PREFIX);
    encode(user.iter().chain(b":").chain(password).copied(), &mut cursor);
    cursor.finish(needed)
}

/// Base64 of a byte stream, encoded in blocks of whole 3-byte groups so that only the last
/// block has padding; no allocation, no contiguous copy of the input needed.
fn encode<S: Sink>(mut bytes: impl Iterator<Item = u8>, s: &mut S) {
    let mut block = [0u8; 48];
    loop {
        let mut len = 0;
        for (dst, b) in block.iter_mut().zip(bytes.by_ref()) {
            *dst = b;
            len += 1;
        }
        let mut encoded = [0u8; 64];
        let input = block.get(..len).unwrap_or(&[]);
        let n = STANDARD.encode_slice(input, &mut encoded).unwrap_or(0);
        s.put(encoded.get(..n).unwrap_or(&[]));
        if len < block.len() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::auth::Counter;

    #[test]
    fn block_boundaries_match_one_shot_encoding() {
        for len in [0usize, 1, 2, 3, 47, 48, 49, 95, 96, 97, 200] {
            let data: [u8; 200] = core::array::from_fn(|i| i as u8);
            let data = &data[..len];
            let mut one = [0u8; 300];
            let n = STANDARD.encode_slice(data, &mut one).unwrap();
            let mut counter = Counter::default();
            encode(data.iter().copied(), &mut counter);
            assert_eq!(counter.0, n, "len {len}");
            let mut out = [0u8; 300];
            let mut cursor = Cursor::new(&mut out);
            encode(data.iter().copied(), &mut cursor);
            assert_eq!(cursor.finish(n), Ok(n));
            assert_eq!(&out[..n], &one[..n], "len {len}");
        }
    }
}

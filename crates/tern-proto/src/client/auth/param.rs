//! [`ParamValue`]: one auth-param value as received, read without copying.

use super::AuthError;

/// A parameter value as it appeared in a challenge: either a token or the inside of a
/// quoted-string, borrowed from the field value with its backslash escapes still in place.
///
/// Read it with [`ParamValue::unescaped`], copy it out with [`ParamValue::unescape_into`]
/// (sized by [`ParamValue::unescaped_len`]), or compare it with [`ParamValue::eq_ignore_case`].
///
/// Only UTF-8 values are handed out as a `ParamValue` (see [`select_challenge`]).
///
/// [`select_challenge`]: super::select_challenge
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamValue<'a> {
    raw: &'a str,
    quoted: bool,
}

impl<'a> ParamValue<'a> {
    /// A value from a token (`quoted` false) or from the inside of a quoted-string.
    pub(super) const fn new(raw: &'a str, quoted: bool) -> ParamValue<'a> {
        ParamValue { raw, quoted }
    }

    /// The value as received: a token, or the inside of a quoted-string without its quotes
    /// and with its backslash escapes.
    pub const fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the value was a quoted-string.
    pub const fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// The bytes of the value with the escapes removed (`\"` is `"`, `\\` is `\`).
    pub fn unescaped(&self) -> impl Iterator<Item = u8> + 'a {
        let quoted = self.quoted;
        let mut bytes = self.raw.bytes();
        core::iter::from_fn(move || {
            let b = bytes.next()?;
            // The parser never leaves a backslash last inside a quoted-string; keep one if it did.
            if quoted && b == b'\\' { Some(bytes.next().unwrap_or(b)) } else { Some(b) }
        })
    }

    /// Length of the value once the escapes are removed.
    pub fn unescaped_len(&self) -> usize {
        if self.quoted { self.unescaped().count() } else { self.raw.len() }
    }

    /// Copies the value, escapes removed, to the start of `out`; returns the length written.
    ///
    /// [`AuthError::BufferTooSmall`] when `out` is shorter than [`ParamValue::unescaped_len`];
    /// nothing is written then.
    pub fn unescape_into(&self, out: &mut [u8]) -> Result<usize, AuthError> {
        let needed = self.unescaped_len();
        if out.len() < needed {
            return Err(AuthError::BufferTooSmall { needed, available: out.len() });
        }
        for (dst, b) in out.iter_mut().zip(self.unescaped()) {
            *dst = b;
        }
        Ok(needed)
    }

    /// Whether the value, escapes removed, equals `s` ignoring ASCII case.
    pub fn eq_ignore_case(&self, s: &str) -> bool {
        self.unescaped().map(|b| b.to_ascii_lowercase()).eq(s.bytes().map(|b| b.to_ascii_lowercase()))
    }

    /// Whether the value, escapes removed and read as a comma-separated list (RFC 9110 section
    /// 5.6.1, such as `qop="auth,auth-int"`), holds an element equal to `word` ignoring ASCII case.
    pub(super) fn list_contains(&self, word: &str) -> bool {
        let word = word.as_bytes();
        let mut it = self.unescaped().peekable();
        loop {
            while it.next_if(|&b| b == b' ' || b == b'\t').is_some() {}
            let (mut matched, mut same, mut after_space, mut last) = (0usize, true, false, true);
            for b in it.by_ref() {
                match b {
                    b',' => {
                        last = false;
                        break;
                    }
                    b' ' | b'\t' => after_space = true,
                    _ => match word.get(matched) {
                        Some(w) if !after_space && w.eq_ignore_ascii_case(&b) => matched += 1,
                        _ => same = false,
                    },
                }
            }
            if same && matched == word.len() {
                return true;
            }
            if last {
                return false;
            }
        }
    }
}

//! Byte classes of RFC 9110/9112 grammar, shared by the parsers and the writers.
//!
//! Everything the local side writes passes these checks first, so a CR, LF or NUL from the
//! caller can never reach the wire.

/// `tchar` of RFC 9110 section 5.6.2.
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
        | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// A non-empty `token`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// A byte allowed in a field value: HTAB, SP, VCHAR, obs-text. Excludes CR, LF, NUL and the
/// other controls.
pub(crate) const fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// A field value as the local side may write it: allowed bytes only, and no leading or
/// trailing whitespace (RFC 9110 section 5.5).
pub(crate) fn is_writable_field_value(v: &[u8]) -> bool {
    let ws = |b: &u8| *b == b' ' || *b == b'\t';
    v.iter().all(|&b| is_field_value_byte(b)) && !v.first().is_some_and(ws) && !v.last().is_some_and(ws)
}

/// A request-target as the local side may write it: non-empty visible ASCII or obs-text, no
/// whitespace or control bytes.
pub(crate) fn is_writable_target(t: &[u8]) -> bool {
    !t.is_empty() && t.iter().all(|&b| b > b' ' && b != 0x7f)
}

/// A reason phrase: HTAB, SP, VCHAR, obs-text.
pub(crate) fn is_reason(r: &[u8]) -> bool {
    r.iter().all(|&b| is_field_value_byte(b))
}

/// ASCII case-insensitive equality.
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Trims SP and HTAB at both ends (OWS).
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Splits a comma-separated list value into its trimmed, non-empty elements
/// (RFC 9110 section 5.6.1: empty elements are ignored).
pub(crate) fn list_elements(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim_ows).filter(|e| !e.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token(b"GET"));
        assert!(is_token(b"M-SEARCH"));
        assert!(!is_token(b""));
        assert!(!is_token(b"GE T"));
        assert!(!is_token(b"GET\0"));
        assert!(!is_token(b"a:b"));
    }

    #[test]
    fn writable_values_refuse_cr_lf_nul() {
        assert!(is_writable_field_value(b"text/html; charset=utf-8"));
        assert!(is_writable_field_value(b""));
        assert!(is_writable_field_value(b"a\tb"));
        assert!(is_writable_field_value("caf\u{e9}".as_bytes()));
        for bad in [&b"a\rb"[..], b"a\nb", b"a\0b", b"a\x7fb", b" a", b"a "] {
            assert!(!is_writable_field_value(bad), "{bad:?}");
        }
    }

    #[test]
    fn targets() {
        assert!(is_writable_target(b"/"));
        assert!(is_writable_target(b"*"));
        assert!(is_writable_target(b"example.com:443"));
        assert!(!is_writable_target(b""));
        assert!(!is_writable_target(b"/a b"));
        assert!(!is_writable_target(b"/a\r\n"));
    }

    #[test]
    fn lists() {
        let v: [&[u8]; 2] = [b"gzip", b"chunked"];
        assert!(list_elements(b" gzip ,, chunked ").eq(v));
        assert_eq!(list_elements(b" , ").count(), 0);
    }
}

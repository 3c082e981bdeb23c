//! The server's request accessors on arbitrary bytes: `query_of`, `path_of`,
//! `query_key_value`, `cookie_value`, `header_value` (over a raw head), `url_decode`, and URI
//! template matching (`UriMatch`).
//!
//! The input is split at its first two NULs into a target (or query, or template), a key (or
//! cookie name, or path) and raw bytes (a head, or a Cookie value). Checked: every value
//! returned is a slice of what was searched; `url_decode` writes no more than it read, refuses
//! a buffer one byte short, and with `+` as space differs exactly where the input has a
//! literal `+`; an exact template matches only itself, and a wildcard template that does not end
//! in `*` or `?` matches as exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::server::query::{
    DecodeError, cookie_value, header_value, path_of, query_key_value, query_of, url_decode,
};
use tern_proto::server::uri::UriMatch;

/// Whether `part` lies inside `whole` (a borrowed sub-slice, not a copy).
fn within(whole: &[u8], part: &[u8]) -> bool {
    let start = whole.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    at >= start && at + part.len() <= start + whole.len()
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let first = parts.next().unwrap_or_default();
    let second = parts.next().unwrap_or_default();
    let raw = parts.next().unwrap_or_default();
    let target = String::from_utf8_lossy(first);
    let key = String::from_utf8_lossy(second);

    let path = path_of(&target);
    assert!(within(target.as_bytes(), path.as_bytes()));
    assert!(!path.contains('?'), "a path ends before the first ?");
    if let Some(query) = query_of(&target) {
        assert!(within(target.as_bytes(), query.as_bytes()));
        if let Some(value) = query_key_value(query, &key) {
            assert!(within(query.as_bytes(), value.as_bytes()));
            assert!(!value.contains('&'), "a value ends at the next &");
        }
    }
    if let Some(value) = cookie_value(raw, &key) {
        assert!(within(raw, value));
    }
    if let Some(value) = header_value(raw, &key) {
        assert!(within(raw, value));
    }

    let mut plain = vec![0u8; raw.len()];
    let mut form = vec![0u8; raw.len()];
    match (url_decode(raw, false, &mut plain), url_decode(raw, true, &mut form)) {
        (Ok(n), Ok(m)) => {
            assert!(n <= raw.len(), "url_decode grew its input");
            assert_eq!(n, m, "+ as space changes no length");
            for plus_as_space in [false, true] {
                if let Some(short) = n.checked_sub(1) {
                    let refused = url_decode(raw, plus_as_space, &mut vec![0u8; short]);
                    assert!(matches!(refused, Err(DecodeError::BufferTooSmall { .. })), "{refused:?}");
                }
            }
            // Form decoding differs only where a literal `+` became a space; a `%2B` stays `+`.
            let literal_plus = raw.iter().filter(|&&b| b == b'+').count();
            let spaced = plain[..n].iter().zip(&form[..m]).filter(|(a, b)| a != b).count();
            assert_eq!(spaced, literal_plus, "every literal + and nothing else becomes a space");
            for (a, b) in plain[..n].iter().zip(&form[..m]) {
                assert!(a == b || (*a == b'+' && *b == b' '), "{a} vs {b}");
            }
        }
        (Err(DecodeError::BadPercent { at }), Err(DecodeError::BadPercent { at: at2 })) => {
            assert_eq!(at, at2);
            assert_eq!(raw.get(at), Some(&b'%'));
        }
        other => panic!("the two decodings disagree or a buffer as long as the input was too small: {other:?}"),
    }

    let template = &*target;
    assert_eq!(UriMatch::Exact.matches(template, &key), template == &*key);
    let wildcard = UriMatch::Wildcard.matches(template, &key);
    if !template.ends_with(['*', '?']) {
        assert_eq!(wildcard, template == &*key, "a template without a trailing * or ? matches exactly");
    }
    if template.ends_with('*') && !template.ends_with("?*") && key.starts_with(&template[..template.len() - 1]) {
        assert!(wildcard, "{template:?} must match {key:?}");
    }
});

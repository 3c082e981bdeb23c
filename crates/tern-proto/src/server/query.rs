//! Request accessors: the query string, its keys, cookies, header values, URL decoding.
//!
//! These read a request the way ESP-IDF's accessors do, with two corrections listed in
//! `docs/esp-idf-differences.md`: cookie pairs may be separated by `;` with or without a space,
//! and cookie names are case-sensitive (RFC 6265). Values are borrowed, never truncated: where
//! ESP-IDF copies into a caller's buffer and reports `ESP_ERR_HTTPD_RESULT_TRUNC`, the caller
//! here gets the whole value and copies what it wants.

/// The query string of a request-target: what follows the first `?`, without a fragment
/// (`httpd_req_get_url_query_str`, which does not decode it). `None` when there is no `?`.
///
/// ```
/// use tern_proto::server::query::query_of;
/// assert_eq!(query_of("/led?on=1&level=3"), Some("on=1&level=3"));
/// assert_eq!(query_of("/led"), None);
/// ```
pub fn query_of(target: &str) -> Option<&str> {
    let (_, query) = target.split_once('?')?;
    Some(query.split_once('#').map_or(query, |(q, _)| q))
}

/// The path of a request-target: everything before the first `?` (what URI templates match).
pub fn path_of(target: &str) -> &str {
    target.split_once('?').map_or(target, |(path, _)| path)
}

/// The value of `key` in a query string (`httpd_query_key_value`): pairs are separated by `&`,
/// a pair without `=` is skipped, the key is compared ignoring ASCII case (as ESP-IDF does),
/// and the first match wins. The value is returned as sent, still URL-encoded; see
/// [`url_decode`].
///
/// ```
/// use tern_proto::server::query::query_key_value;
/// let query = "ssid=my%20net&Pass=abc&flag&empty=";
/// assert_eq!(query_key_value(query, "ssid"), Some("my%20net"));
/// assert_eq!(query_key_value(query, "pass"), Some("abc"));
/// assert_eq!(query_key_value(query, "flag"), None);
/// assert_eq!(query_key_value(query, "empty"), Some(""));
/// ```
pub fn query_key_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The value of cookie `name` in a `Cookie` header value (`httpd_req_get_cookie_val`): pairs
/// separated by `;` and optional whitespace, the name compared exactly, the value without the
/// double quotes a server may have put around it.
///
/// ```
/// use tern_proto::server::query::cookie_value;
/// let header = b"session=abc123; theme=\"dark\";lang=en";
/// assert_eq!(cookie_value(header, "theme"), Some(&b"dark"[..]));
/// assert_eq!(cookie_value(header, "lang"), Some(&b"en"[..]));
/// assert_eq!(cookie_value(header, "Session"), None);
/// ```
pub fn cookie_value<'h>(header: &'h [u8], name: &str) -> Option<&'h [u8]> {
    header
        .split(|&b| b == b';')
        .map(<[u8]>::trim_ascii)
        .filter_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            let (n, v) = pair.split_at(eq);
            Some((n, v.get(1..)?))
        })
        .find(|(n, _)| *n == name.as_bytes())
        .map(|(_, v)| v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(v))
}

/// The value of header `name` in a raw request head (`httpd_req_get_hdr_value_str`): the
/// first field of that name (ASCII case-insensitive), with leading spaces and tabs removed
/// and trailing whitespace kept, as ESP-IDF keeps it; possibly empty. `head` is the request
/// line and the header section as received, CRLF or LF line endings.
///
/// ```
/// use tern_proto::server::query::header_value;
/// let head = b"GET / HTTP/1.1\r\nHost: esp32\r\nX-Pad:  value  \r\nX-Empty:\r\n\r\n";
/// assert_eq!(header_value(head, "x-pad"), Some(&b"value  "[..]));
/// assert_eq!(header_value(head, "X-Empty"), Some(&b""[..]));
/// assert_eq!(header_value(head, "Accept"), None);
/// ```
pub fn header_value<'h>(head: &'h [u8], name: &str) -> Option<&'h [u8]> {
    let (_, value) = crate::field::raw_fields(head).find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))?;
    let start = value.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(value.len());
    value.get(start..)
}

/// A `%` not followed by two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input has a `%` at this offset without two hex digits after it.
    #[error("bad percent-encoding at byte {at}")]
    BadPercent {
        /// Offset of the `%`.
        at: usize,
    },
    /// `out` is too small; the decoded form needs `needed` bytes.
    #[error("the output buffer holds {available} bytes, the decoded value needs {needed}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
}

/// URL-decodes `input` into `out`: `%XX` becomes the byte it names, and with `plus_as_space`
/// (form data, `application/x-www-form-urlencoded`) `+` becomes a space. Returns the decoded
/// length. Nothing is written when the input is malformed or `out` is too small.
///
/// ```
/// use tern_proto::server::query::url_decode;
/// let mut out = [0u8; 32];
/// let n = url_decode(b"my+net%21", true, &mut out)?;
/// assert_eq!(&out[..n], b"my net!");
/// # Ok::<(), tern_proto::server::query::DecodeError>(())
/// ```
pub fn url_decode(input: &[u8], plus_as_space: bool, out: &mut [u8]) -> Result<usize, DecodeError> {
    let needed = decoded_len(input)?;
    if needed > out.len() {
        return Err(DecodeError::BufferTooSmall { needed, available: out.len() });
    }
    let mut rest = input;
    let mut n = 0;
    while let Some((&b, tail)) = rest.split_first() {
        let (byte, tail) = match (b, tail) {
            (b'%', [hi, lo, tail @ ..]) => (hex(*hi).unwrap_or(0) << 4 | hex(*lo).unwrap_or(0), tail),
            (b'+', _) if plus_as_space => (b' ', tail),
            _ => (b, tail),
        };
        if let Some(slot) = out.get_mut(n) {
            *slot = byte;
        }
        n += 1;
        rest = tail;
    }
    Ok(n)
}

/// The decoded length of `input`, checking every `%XX`.
fn decoded_len(input: &[u8]) -> Result<usize, DecodeError> {
    let mut len = 0;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'%' {
            let ok = matches!(
                (input.get(i + 1).copied().and_then(hex), input.get(i + 2).copied().and_then(hex)),
                (Some(_), Some(_))
            );
            if !ok {
                return Err(DecodeError::BadPercent { at: i });
            }
            i += 3;
        } else {
            i += 1;
        }
        len += 1;
    }
    Ok(len)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_edges() {
        assert_eq!(query_of("/x?"), Some(""));
        assert_eq!(query_of("/x?a=1#frag"), Some("a=1"));
        assert_eq!(query_of("/x?a=1?b=2"), Some("a=1?b=2"));
        assert_eq!(path_of("/x?a=1"), "/x");
        assert_eq!(path_of("/x"), "/x");
        assert_eq!(query_key_value("a=1&a=2", "a"), Some("1"));
        assert_eq!(query_key_value("a=b=c", "a"), Some("b=c"));
        assert_eq!(query_key_value("", "a"), None);
        assert_eq!(query_key_value("=v", ""), Some("v"));
        assert_eq!(query_key_value("ab=1", "a"), None);
    }

    #[test]
    fn cookies() {
        assert_eq!(cookie_value(b"a=1", "a"), Some(&b"1"[..]));
        assert_eq!(cookie_value(b"a=1;b=2", "b"), Some(&b"2"[..]));
        assert_eq!(cookie_value(b"a=1;  b=2 ", "b"), Some(&b"2"[..]));
        assert_eq!(cookie_value(b"ab=1; b=2", "b"), Some(&b"2"[..]));
        assert_eq!(cookie_value(b"a=", "a"), Some(&b""[..]));
        assert_eq!(cookie_value(b"flag; a=1", "flag"), None);
        assert_eq!(cookie_value(b"a=\"", "a"), Some(&b"\""[..]));
    }

    #[test]
    fn headers_keep_trailing_whitespace() {
        let head = b"GET / HTTP/1.1\nA: 1\nA: 2\nB:\t x \t\n\nC: body-like";
        assert_eq!(header_value(head, "a"), Some(&b"1"[..]));
        assert_eq!(header_value(head, "b"), Some(&b"x \t"[..]));
        assert_eq!(header_value(head, "c"), None, "nothing after the head is a header");
        assert_eq!(header_value(b"GET / HTTP/1.1\r\n\r\n", "a"), None);
    }

    #[test]
    fn decoding() {
        let mut out = [0u8; 8];
        assert_eq!(url_decode(b"%41%62+", false, &mut out), Ok(3));
        assert_eq!(&out[..3], b"Ab+");
        assert_eq!(url_decode(b"%4", false, &mut out), Err(DecodeError::BadPercent { at: 0 }));
        assert_eq!(url_decode(b"a%zz", false, &mut out), Err(DecodeError::BadPercent { at: 1 }));
        assert_eq!(
            url_decode(b"123456789", false, &mut out),
            Err(DecodeError::BufferTooSmall { needed: 9, available: 8 })
        );
        assert_eq!(url_decode(b"", true, &mut out), Ok(0));
        assert_eq!(url_decode(b"%e2%9C%93", true, &mut out), Ok(3));
        assert_eq!(&out[..3], "✓".as_bytes());
    }
}

//! The client's URL code on arbitrary text: `Url::parse`, `Url::write` and the Host header,
//! `resolve` of a reference against a base, and `percent_decode`.
//!
//! The input is split at its first NUL into a base URL and a reference (the text of a
//! redirect's `Location`); bytes that are not UTF-8 become U+FFFD, as a header value that is
//! not text would be refused before it got here. Checked:
//! - `buffer_len` and `host_header_len` are exactly what `write` and `write_host_header` write,
//!   and a buffer one byte short is refused as `BufferTooSmall`;
//! - a URL written back parses to the same URL (the written form is the normalized one);
//! - a resolved reference is an absolute URL that parses, and resolving it again against the
//!   same base gives the same bytes;
//! - `percent_decode` writes at most as many bytes as it read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::client::url::{Url, UrlError, percent_decode, resolve, split_userinfo};

/// Room for any resolution: inputs are far shorter than this.
const OUT: usize = 8192;

/// Checks everything `url` can write about itself.
fn check_written(url: &Url<'_>) {
    let mut out = vec![0u8; url.buffer_len()];
    let n = url.write(&mut out).expect("buffer_len is enough for write");
    assert_eq!(n, url.buffer_len(), "write wrote other than buffer_len");
    if let Some(short) = n.checked_sub(1) {
        assert!(
            matches!(url.write(&mut out[..short]), Err(UrlError::BufferTooSmall { .. })),
            "a buffer one byte short must be refused"
        );
    }
    let text = std::str::from_utf8(&out).expect("a written URL is ASCII");
    let again = Url::parse(text).unwrap_or_else(|e| panic!("written URL {text:?} does not parse: {e}"));
    assert_eq!(again, *url, "written URL {text:?} parses to another URL");

    let mut host = vec![0u8; url.host_header_len()];
    let m = url.write_host_header(&mut host).expect("host_header_len is enough");
    assert_eq!(m, host.len(), "write_host_header wrote other than host_header_len");

    let (path, _) = url.target();
    assert!(path.starts_with('/'), "target path {path:?} must start with /");
    if let Some(userinfo) = url.userinfo {
        let (user, _) = split_userinfo(userinfo);
        let mut decoded = vec![0u8; user.len()];
        if let Ok(n) = percent_decode(user, &mut decoded) {
            assert!(n <= user.len());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (base, reference) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let base = String::from_utf8_lossy(base);
    let reference = String::from_utf8_lossy(reference);

    let mut decoded = vec![0u8; reference.len()];
    if let Ok(n) = percent_decode(&reference, &mut decoded) {
        assert!(n <= reference.len(), "percent_decode grew its input");
    }

    let Ok(base) = Url::parse(&base) else {
        return;
    };
    check_written(&base);

    let mut out = vec![0u8; OUT];
    let Ok(n) = resolve(&base, &reference, &mut out) else {
        return;
    };
    let resolved = std::str::from_utf8(&out[..n]).expect("a resolved URL is ASCII").to_owned();
    let url = Url::parse(&resolved).unwrap_or_else(|e| panic!("resolved {resolved:?} does not parse: {e}"));
    check_written(&url);

    let mut twice = vec![0u8; OUT];
    let m = resolve(&base, &resolved, &mut twice).expect("an absolute URL resolves");
    assert_eq!(&twice[..m], resolved.as_bytes(), "resolving {resolved:?} again changed it");
});

//! URLs: parsing, writing, the Host header, origins, percent-decoding, and reference
//! resolution against the examples of RFC 3986 section 5.4.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use proptest::prelude::*;
use tern_proto::client::url::{Scheme, Url, UrlError, percent_decode, resolve, split_userinfo};

/// The base of RFC 3986 section 5.4.
const RFC_BASE: &str = "http://a/b/c/d;p?q";

/// `reference` resolved against `base`, as a String.
fn resolved(base: &str, reference: &str) -> Result<String, UrlError> {
    let base = Url::parse(base).unwrap();
    let mut out = [0u8; 512];
    let n = resolve(&base, reference, &mut out)?;
    Ok(String::from_utf8(out[..n].to_vec()).unwrap())
}

/// `url` written in normalized form.
fn written(url: &Url<'_>) -> String {
    let mut out = vec![0u8; url.buffer_len()];
    assert_eq!(url.write(&mut out), Ok(out.len()));
    String::from_utf8(out).unwrap()
}

/// The Host header value of `url`.
fn host_header(url: &str) -> String {
    let url = Url::parse(url).unwrap();
    let mut out = vec![0u8; url.host_header_len()];
    assert_eq!(url.write_host_header(&mut out), Ok(out.len()));
    String::from_utf8(out).unwrap()
}

/// `input` percent-decoded.
fn decoded(input: &str) -> Result<Vec<u8>, UrlError> {
    let mut out = [0u8; 64];
    let n = percent_decode(input, &mut out)?;
    Ok(out[..n].to_vec())
}

fn check_rfc_examples(examples: &[(&str, &str)]) {
    for &(reference, expected) in examples {
        assert_eq!(resolved(RFC_BASE, reference).as_deref(), Ok(expected), "reference {reference:?}");
    }
}

// ---- RFC 3986 section 5.4 ----

#[test]
fn rfc3986_normal_examples() {
    // Section 5.4.1, fragments dropped from the expected results.
    check_rfc_examples(&[
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q"),
        ("g#s", "http://a/b/c/g"),
        ("g?y#s", "http://a/b/c/g?y"),
        (";x", "http://a/b/c/;x"),
        ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y"),
        ("", "http://a/b/c/d;p?q"),
        (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"),
        ("..", "http://a/b/"),
        ("../", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../..", "http://a/"),
        ("../../", "http://a/"),
        ("../../g", "http://a/g"),
    ]);
}

#[test]
fn rfc3986_normal_example_of_another_scheme_is_unsupported() {
    assert_eq!(resolved(RFC_BASE, "g:h"), Err(UrlError::UnsupportedScheme));
}

#[test]
fn rfc3986_abnormal_examples() {
    // Section 5.4.2, fragments dropped from the expected results.
    check_rfc_examples(&[
        ("../../../g", "http://a/g"),
        ("../../../../g", "http://a/g"),
        ("/./g", "http://a/g"),
        ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."),
        (".g", "http://a/b/c/.g"),
        ("g..", "http://a/b/c/g.."),
        ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"),
        ("./g/.", "http://a/b/c/g/"),
        ("g/./h", "http://a/b/c/g/h"),
        ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
        ("g;x=1/../y", "http://a/b/c/y"),
        ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"),
        ("g#s/./x", "http://a/b/c/g"),
        ("g#s/../x", "http://a/b/c/g"),
        // The backward-compatible reading: the base's own scheme on a relative reference.
        ("http:g", "http://a/b/c/g"),
    ]);
}

// ---- resolve beyond the RFC examples ----

#[test]
fn resolve_absolute_references_are_normalized() {
    assert_eq!(resolved(RFC_BASE, "HTTPS://Other:0443/x/../y?z#f").as_deref(), Ok("https://Other:443/y?z"));
    assert_eq!(resolved(RFC_BASE, "http://o").as_deref(), Ok("http://o"));
    assert_eq!(resolved(RFC_BASE, "http://[::1]:8/a/./b").as_deref(), Ok("http://[::1]:8/a/b"));
    assert_eq!(resolved(RFC_BASE, "ftp://o/x"), Err(UrlError::UnsupportedScheme));
    // Another http(s) scheme without authority is read strictly, and has no host.
    assert_eq!(resolved(RFC_BASE, "https:g"), Err(UrlError::MissingHost));
}

#[test]
fn resolve_trims_ascii_whitespace_and_reports_offsets_in_the_reference() {
    assert_eq!(resolved(RFC_BASE, "  /x \r\n").as_deref(), Ok("http://a/x"));
    assert_eq!(resolved(RFC_BASE, " \t ").as_deref(), Ok("http://a/b/c/d;p?q"));
    assert_eq!(resolved(RFC_BASE, "  /a b"), Err(UrlError::InvalidCharacter { at: 4 }));
    assert_eq!(resolved(RFC_BASE, "/a\u{e9}"), Err(UrlError::InvalidCharacter { at: 2 }));
    assert_eq!(resolved(RFC_BASE, " //u@v@h/"), Err(UrlError::InvalidCharacter { at: 4 }));
}

#[test]
fn resolve_userinfo_follows_the_authority() {
    let base = "http://me:pw@a/b/c";
    assert_eq!(resolved(base, "d?x").as_deref(), Ok("http://me:pw@a/b/d?x"));
    assert_eq!(resolved(base, "/d").as_deref(), Ok("http://me:pw@a/d"));
    assert_eq!(resolved(base, "//h/d").as_deref(), Ok("http://h/d"));
    assert_eq!(resolved(base, "//you@h/d").as_deref(), Ok("http://you@h/d"));
    assert_eq!(resolved(base, "https://h/").as_deref(), Ok("https://h/"));
}

#[test]
fn resolve_against_bases_without_path_or_with_empty_segments() {
    assert_eq!(resolved("http://a", "g").as_deref(), Ok("http://a/g"));
    assert_eq!(resolved("http://a", "").as_deref(), Ok("http://a"));
    assert_eq!(resolved("http://a?q", "?r").as_deref(), Ok("http://a?r"));
    assert_eq!(resolved("http://a:8080", "..").as_deref(), Ok("http://a:8080/"));
    assert_eq!(resolved("http://a//x", "g").as_deref(), Ok("http://a//g"));
    assert_eq!(resolved("http://a/x//y", "../g").as_deref(), Ok("http://a/x/g"));
    assert_eq!(resolved("http://a/", "..//g").as_deref(), Ok("http://a//g"));
    // Dot segments in a kept base path go too.
    assert_eq!(resolved("http://a/b/./c/../d", "").as_deref(), Ok("http://a/b/d"));
    assert_eq!(resolved("https://[::1]/a", "b").as_deref(), Ok("https://[::1]/b"));
}

#[test]
fn resolve_reports_bad_authorities_in_references() {
    assert_eq!(resolved(RFC_BASE, "//"), Err(UrlError::MissingHost));
    assert_eq!(resolved(RFC_BASE, "//h:99999/"), Err(UrlError::InvalidPort));
    assert_eq!(resolved(RFC_BASE, "//[::1/"), Err(UrlError::InvalidIpv6));
    assert_eq!(resolved(RFC_BASE, "http:"), Ok(RFC_BASE.to_string()));
}

#[test]
fn resolve_length_is_exact_and_nothing_written_when_it_does_not_fit() {
    let base = Url::parse(RFC_BASE).unwrap();
    let mut big = [0u8; 64];
    let n = resolve(&base, "../x/./y/..", &mut big).unwrap();
    assert_eq!(&big[..n], b"http://a/b/x/");
    let mut exact = vec![0u8; n];
    assert_eq!(resolve(&base, "../x/./y/..", &mut exact), Ok(n));
    let mut short = vec![0u8; n - 1];
    assert_eq!(
        resolve(&base, "../x/./y/..", &mut short),
        Err(UrlError::BufferTooSmall { needed: n, available: n - 1 })
    );
    assert!(short.iter().all(|&b| b == 0));
}

#[test]
fn resolve_refuses_over_long_input_and_results() {
    let base = Url::parse(RFC_BASE).unwrap();
    let mut out = vec![0u8; 70_000];
    let long = "x".repeat(65_536);
    assert_eq!(resolve(&base, &long, &mut out), Err(UrlError::TooLong));
    let fits_alone = "x".repeat(65_530);
    assert_eq!(resolve(&base, &fits_alone, &mut out), Err(UrlError::TooLong));
}

// ---- parsing ----

#[test]
fn parse_components() {
    let url = Url::parse("http://example.com/a/b?c=d#e").unwrap();
    assert_eq!(
        url,
        Url { scheme: Scheme::Http, userinfo: None, host: "example.com", port: None, path: "/a/b", query: Some("c=d") }
    );
    assert_eq!(url.port_or_default(), 80);
    assert_eq!(url.target(), ("/a/b", Some("c=d")));
}

#[test]
fn parse_uppercase_scheme_keeps_host_case() {
    let url = Url::parse("HTTP://Example.COM").unwrap();
    assert_eq!((url.scheme, url.host, url.path, url.query), (Scheme::Http, "Example.COM", "", None));
    assert_eq!(url.target(), ("/", None));
    assert_eq!(written(&url), "http://Example.COM");
    assert_eq!(Url::parse("hTtPs://h").unwrap().scheme, Scheme::Https);
}

#[test]
fn parse_ports() {
    let port = |s| Url::parse(s).map(|u| u.port);
    assert_eq!(port("http://h:8080/"), Ok(Some(8080)));
    assert_eq!(port("http://h:/"), Ok(None));
    assert_eq!(port("http://h:0/"), Ok(Some(0)));
    assert_eq!(port("http://h:65535"), Ok(Some(65535)));
    assert_eq!(port("http://h:00080?x"), Ok(Some(80)));
    assert_eq!(port("http://h:65536/"), Err(UrlError::InvalidPort));
    assert_eq!(port("http://h:99999999999999999999/"), Err(UrlError::InvalidPort));
    assert_eq!(port("http://h:8a/"), Err(UrlError::InvalidPort));
    assert_eq!(port("http://h:-1/"), Err(UrlError::InvalidPort));
    assert_eq!(port("http://h:80:81/"), Err(UrlError::InvalidPort));
    assert_eq!(Url::parse("https://h:8443").unwrap().port_or_default(), 8443);
    assert_eq!(Url::parse("https://h").unwrap().port_or_default(), 443);
}

#[test]
fn parse_ipv6_literals() {
    let url = Url::parse("http://[::1]:8080").unwrap();
    assert_eq!((url.host, url.port, url.path), ("::1", Some(8080), ""));
    assert_eq!(written(&url), "http://[::1]:8080");
    for good in [
        "[::]",
        "[1:2:3:4:5:6:7:8]",
        "[2001:DB8::8:800:200C:417A]",
        "[::ffff:192.0.2.128]",
        "[1:2:3:4:5:6:1.2.3.4]",
        "[1::]",
        "[1:2:3:4:5:6:7::]",
        "[fe80::1]:80",
    ] {
        assert!(Url::parse(&format!("http://{good}/")).is_ok(), "{good}");
    }
    for bad in [
        "[]",
        "[::1",
        "::1]",
        "[:::1]",
        "[1::2::3]",
        "[1:2:3:4:5:6:7:8:9]",
        "[1:2:3:4:5:6:7]",
        "[1:2:3:4:5:6:7:8::]",
        "[12345::]",
        "[g::]",
        "[::1.2.3]",
        "[::1.2.3.256]",
        "[::01.2.3.4]",
        "[1.2.3.4::]",
        "[fe80::1%25eth0]",
        "[v1.x]",
        "[::1]x",
        "[::1]:80]",
        "h]",
        "a[b",
    ] {
        let url = format!("http://{bad}/");
        let expected = if bad == "[::1]:80]" { UrlError::InvalidPort } else { UrlError::InvalidIpv6 };
        assert_eq!(Url::parse(&url), Err(expected), "{bad}");
    }
}

#[test]
fn parse_userinfo() {
    let url = Url::parse("http://us%40er:p:a%40ss@h/").unwrap();
    assert_eq!(url.userinfo, Some("us%40er:p:a%40ss"));
    assert_eq!(url.host, "h");
    assert_eq!(split_userinfo(url.userinfo.unwrap()), ("us%40er", Some("p:a%40ss")));
    assert_eq!(split_userinfo("user"), ("user", None));
    assert_eq!(split_userinfo(":"), ("", Some("")));
    assert_eq!(Url::parse("http://@h").unwrap().userinfo, Some(""));
    assert_eq!(Url::parse("http://u@[::1]:1").unwrap().host, "::1");
    assert_eq!(Url::parse("http://a@b@c/"), Err(UrlError::InvalidCharacter { at: 8 }));
    assert_eq!(Url::parse("http://a[b@c/"), Err(UrlError::InvalidCharacter { at: 8 }));
    assert_eq!(Url::parse("http://u@/"), Err(UrlError::MissingHost));
}

#[test]
fn parse_query_and_fragment_edges() {
    let parts = |s| {
        let u = Url::parse(s).unwrap();
        (u.host, u.path, u.query)
    };
    assert_eq!(parts("http://h/?"), ("h", "/", Some("")));
    assert_eq!(parts("http://h?"), ("h", "", Some("")));
    assert_eq!(parts("http://h?q"), ("h", "", Some("q")));
    assert_eq!(parts("http://h#f"), ("h", "", None));
    assert_eq!(parts("http://h/#"), ("h", "/", None));
    assert_eq!(parts("http://h/p#f?x"), ("h", "/p", None));
    assert_eq!(parts("http://h/p?a?b/c#f#g"), ("h", "/p", Some("a?b/c")));
    assert_eq!(parts("http://h/a:b@c"), ("h", "/a:b@c", None));
    assert_eq!(parts("http://h//x"), ("h", "//x", None));
    assert_eq!(Url::parse("http://h/?").unwrap().target(), ("/", Some("")));
}

#[test]
fn parse_errors() {
    assert_eq!(Url::parse("ftp://h/"), Err(UrlError::UnsupportedScheme));
    assert_eq!(Url::parse("localhost:8080/x"), Err(UrlError::UnsupportedScheme));
    assert_eq!(Url::parse("/x"), Err(UrlError::RelativeWithoutBase));
    assert_eq!(Url::parse("example.com/x"), Err(UrlError::RelativeWithoutBase));
    assert_eq!(Url::parse("192.168.1.1:80/x"), Err(UrlError::RelativeWithoutBase));
    assert_eq!(Url::parse(""), Err(UrlError::RelativeWithoutBase));
    for no_host in ["http:", "http:/x", "http:x", "http://", "http:///x", "http://:80/", "http://?q", "http://#f"] {
        assert_eq!(Url::parse(no_host), Err(UrlError::MissingHost), "{no_host}");
    }
    assert_eq!(Url::parse("http://h/a b"), Err(UrlError::InvalidCharacter { at: 10 }));
    assert_eq!(Url::parse(" http://h/"), Err(UrlError::InvalidCharacter { at: 0 }));
    assert_eq!(Url::parse("http://h/\u{e9}"), Err(UrlError::InvalidCharacter { at: 9 }));
    assert_eq!(Url::parse("http://h/#a b"), Err(UrlError::InvalidCharacter { at: 11 }));
    for (i, bad) in ["\"", "<", ">", "\\", "^", "`", "{", "|", "}", "\0", "\r", "\n", "\t", "\x7f"].iter().enumerate() {
        let url = format!("http://h/{bad}");
        assert_eq!(Url::parse(&url), Err(UrlError::InvalidCharacter { at: 9 }), "case {i}");
    }
    assert_eq!(Url::parse("http://h:x/"), Err(UrlError::InvalidPort));
    assert_eq!(Url::parse("http://[x]/"), Err(UrlError::InvalidIpv6));
    let long = format!("http://h/{}", "x".repeat(65_535));
    assert_eq!(Url::parse(&long), Err(UrlError::TooLong));
    let longest = format!("http://h/{}", "x".repeat(65_535 - 9));
    assert!(Url::parse(&longest).is_ok());
}

#[test]
fn errors_say_whose_fault() {
    let caller = UrlError::BufferTooSmall { needed: 3, available: 2 }.to_string();
    assert!(caller.contains("caller's buffer"), "{caller}");
    for e in [UrlError::UnsupportedScheme, UrlError::MissingHost, UrlError::TooLong, UrlError::InvalidIpv6] {
        assert!(e.to_string().contains("supplied URL"), "{e}");
    }
    assert!(UrlError::BadPercentEncoding { at: 4 }.to_string().contains("offset 4"));
}

// ---- writing ----

#[test]
fn write_normalized_form() {
    let url = Url::parse("HTTPS://u:p@Host:443/a?b#c").unwrap();
    assert_eq!(written(&url), "https://u:p@Host:443/a?b");
    assert_eq!(written(&Url::parse("http://h?").unwrap()), "http://h?");
    assert_eq!(written(&Url::parse("http://h:0080/").unwrap()), "http://h:80/");
    let built = Url { scheme: Scheme::Http, userinfo: None, host: "fe80::1", port: Some(1), path: "/x", query: None };
    assert_eq!(written(&built), "http://[fe80::1]:1/x");
}

#[test]
fn write_refuses_short_buffers_without_writing() {
    let url = Url::parse("http://example.com:8080/path?q").unwrap();
    let mut short = vec![0u8; url.buffer_len() - 1];
    assert_eq!(
        url.write(&mut short),
        Err(UrlError::BufferTooSmall { needed: url.buffer_len(), available: short.len() })
    );
    assert!(short.iter().all(|&b| b == 0));
    let mut tiny = [0u8; 3];
    assert_eq!(
        url.write_host_header(&mut tiny),
        Err(UrlError::BufferTooSmall { needed: "example.com:8080".len(), available: 3 })
    );
    assert_eq!(tiny, [0; 3]);
}

#[test]
fn host_header_omits_only_the_schemes_default_port() {
    assert_eq!(host_header("http://h/"), "h");
    assert_eq!(host_header("http://h:80/"), "h");
    assert_eq!(host_header("https://h:443/"), "h");
    assert_eq!(host_header("https://h:80/"), "h:80");
    assert_eq!(host_header("http://h:443/"), "h:443");
    assert_eq!(host_header("http://H.example:8080/"), "H.example:8080");
    assert_eq!(host_header("http://[::1]/"), "[::1]");
    assert_eq!(host_header("https://[::1]:443/"), "[::1]");
    assert_eq!(host_header("https://[::1]:8443/"), "[::1]:8443");
    assert_eq!(host_header("http://u:p@10.0.0.1:8080/"), "10.0.0.1:8080");
}

// ---- origins ----

#[test]
fn same_origin_cases() {
    let same = |a, b| Url::parse(a).unwrap().same_origin(&Url::parse(b).unwrap());
    assert!(same("http://h/a", "http://h/b?c"));
    assert!(same("http://h/", "http://h:80/"));
    assert!(same("HTTPS://Example.COM/", "https://example.com:443/x"));
    assert!(same("http://u:p@h/", "http://h/"));
    assert!(same("http://[::A]/", "http://[::a]:80/"));
    assert!(!same("http://h/", "https://h/"));
    assert!(!same("http://h/", "http://h:8080/"));
    assert!(!same("https://h/", "https://h:80/"));
    assert!(!same("http://h/", "http://h.evil/"));
    assert!(!same("http://a.h/", "http://h/"));
}

// ---- percent-decoding ----

#[test]
fn percent_decode_cases() {
    assert_eq!(decoded("plain"), Ok(b"plain".to_vec()));
    assert_eq!(decoded(""), Ok(vec![]));
    assert_eq!(decoded("a%40b"), Ok(b"a@b".to_vec()));
    assert_eq!(decoded("%3a%3A"), Ok(b"::".to_vec()));
    assert_eq!(decoded("a+b"), Ok(b"a+b".to_vec()));
    assert_eq!(decoded("%00%ff%FF"), Ok(vec![0, 0xff, 0xff]));
    assert_eq!(decoded("%2525"), Ok(b"%25".to_vec()));
    assert_eq!(decoded("%C3%A9"), Ok("\u{e9}".as_bytes().to_vec()));
    assert_eq!(decoded("%"), Err(UrlError::BadPercentEncoding { at: 0 }));
    assert_eq!(decoded("ab%4"), Err(UrlError::BadPercentEncoding { at: 2 }));
    assert_eq!(decoded("%41%g1"), Err(UrlError::BadPercentEncoding { at: 3 }));
    assert_eq!(decoded("%4%41"), Err(UrlError::BadPercentEncoding { at: 0 }));
    assert_eq!(decoded("\u{e9}%zz"), Err(UrlError::BadPercentEncoding { at: 2 }));
}

#[test]
fn percent_decode_needs_only_the_decoded_length() {
    let mut out = [0u8; 3];
    assert_eq!(percent_decode("a%40b", &mut out), Ok(3));
    assert_eq!(&out, b"a@b");
    let mut short = [0u8; 2];
    assert_eq!(percent_decode("a%40b", &mut short), Err(UrlError::BufferTooSmall { needed: 3, available: 2 }));
    assert_eq!(short, [0; 2]);
    // A bad encoding is reported before the buffer is considered.
    assert_eq!(percent_decode("%zz", &mut []), Err(UrlError::BadPercentEncoding { at: 0 }));
}

#[test]
fn scheme_facts() {
    assert_eq!((Scheme::Http.default_port(), Scheme::Https.default_port()), (80, 443));
    assert_eq!((Scheme::Http.as_str(), Scheme::Https.as_str()), ("http", "https"));
    assert!(Scheme::Https.is_secure() && !Scheme::Http.is_secure());
}

// ---- properties ----

/// References made mostly of the pieces that matter to resolution.
fn reference() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_string()),
        Just(".".to_string()),
        Just("..".to_string()),
        Just("./".to_string()),
        Just("../".to_string()),
        Just("//".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just(":".to_string()),
        Just("@".to_string()),
        Just("[::1]".to_string()),
        Just("http:".to_string()),
        Just("HTTPS://".to_string()),
        Just("%2e".to_string()),
        Just(" ".to_string()),
        "[a-z0-9]{1,3}",
        "[\\x00-\\x7f]",
    ];
    prop_oneof![proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat()), "[\\x00-\\x7f]{0,40}"]
}

fn base() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(RFC_BASE),
        Just("http://a"),
        Just("https://u:p@[::1]:8443/x/y/?q"),
        Just("http://a//b//c"),
        Just("HTTP://A:80/b/"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn resolve_gives_clean_urls(base in base(), reference in reference()) {
        let base = Url::parse(base).unwrap();
        let mut out = [0u8; 256];
        if let Ok(n) = resolve(&base, &reference, &mut out) {
            let text = std::str::from_utf8(&out[..n]).unwrap();
            let url = Url::parse(text).unwrap();
            for segment in url.path.split('/').skip(1) {
                prop_assert!(segment != "." && segment != "..", "dot segment in {:?}", text);
            }
            prop_assert!(!url.path.contains("/./") && !url.path.contains("/../"));
            // The result is in normal form: writing it again gives the same text.
            prop_assert_eq!(written(&url), text);
            // Exact length: the result fits a buffer of its own length and no shorter.
            let mut exact = vec![0u8; n];
            prop_assert_eq!(resolve(&base, &reference, &mut exact), Ok(n));
            let mut short = vec![0u8; n - 1];
            prop_assert_eq!(
                resolve(&base, &reference, &mut short),
                Err(UrlError::BufferTooSmall { needed: n, available: n - 1 })
            );
            // Resolving a result against the base gives the result.
            let again = resolved(&written(&base), text).unwrap();
            prop_assert_eq!(again.as_str(), text);
        }
    }

    #[test]
    fn parse_and_decode_never_panic(input in "[\\x00-\\x7f]{0,60}") {
        if let Ok(url) = Url::parse(&input) {
            let mut out = vec![0u8; url.buffer_len()];
            prop_assert_eq!(url.write(&mut out), Ok(out.len()));
            prop_assert_eq!(Url::parse(std::str::from_utf8(&out).unwrap()).map(|u| u.host), Ok(url.host));
        }
        let mut out = [0u8; 60];
        if let Ok(n) = percent_decode(&input, &mut out) {
            prop_assert!(n <= input.len());
        }
    }
}

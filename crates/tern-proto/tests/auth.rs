//! HTTP authentication: Digest responses against the RFC examples and an independent
//! formulation, challenge parsing and selection, Basic credentials, and properties (arbitrary
//! bytes never panic; written values read back; lengths are exact).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use proptest::prelude::*;
use sha2::Sha256;
use tern_proto::client::auth::{
    AuthError, AuthType, Challenge, DigestAlgorithm, DigestChallenge, DigestInput, ParamValue, basic_len, digest_len,
    select_challenge, write_basic, write_cnonce, write_digest,
};

// ---------------------------------------------------------------------------------------------
// Helpers

const ALGORITHMS: [DigestAlgorithm; 4] =
    [DigestAlgorithm::Md5, DigestAlgorithm::Md5Sess, DigestAlgorithm::Sha256, DigestAlgorithm::Sha256Sess];

fn digest_string(input: &DigestInput<'_>) -> String {
    let mut out = vec![0u8; digest_len(input)];
    let n = write_digest(input, &mut out).unwrap();
    assert_eq!(n, out.len(), "digest_len is exact");
    String::from_utf8(out).unwrap()
}

fn basic_string(user: &[u8], password: &[u8]) -> String {
    let mut out = vec![0u8; basic_len(user, password)];
    let n = write_basic(user, password, &mut out).unwrap();
    assert_eq!(n, out.len(), "basic_len is exact");
    String::from_utf8(out).unwrap()
}

/// The `response="..."` hash of a written value.
fn response_of(value: &str) -> &str {
    let start = value.find("response=\"").unwrap() + "response=\"".len();
    let len = value[start..].find('"').unwrap();
    &value[start..start + len]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// H(parts joined with ':'), written without the crate's code: one buffer, one-shot digest.
fn h(alg: DigestAlgorithm, parts: &[&[u8]]) -> String {
    let data = parts.join(&b':');
    match alg {
        DigestAlgorithm::Md5 | DigestAlgorithm::Md5Sess => hex(&Md5::digest(&data)),
        DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => hex(&Sha256::digest(&data)),
    }
}

/// RFC 7616 section 3.4.1 (and RFC 2617 section 3.2.2), step by step.
fn expected_response(i: &DigestInput<'_>) -> String {
    let mut ha1 = h(i.algorithm, &[i.username, i.realm, i.password]);
    if matches!(i.algorithm, DigestAlgorithm::Md5Sess | DigestAlgorithm::Sha256Sess) {
        ha1 = h(i.algorithm, &[ha1.as_bytes(), i.nonce, i.cnonce]);
    }
    let ha2 = h(i.algorithm, &[i.method.as_bytes(), i.uri.as_bytes()]);
    if i.qop_auth {
        let nc = format!("{:08x}", i.nc);
        h(i.algorithm, &[ha1.as_bytes(), i.nonce, nc.as_bytes(), i.cnonce, b"auth", ha2.as_bytes()])
    } else {
        h(i.algorithm, &[ha1.as_bytes(), i.nonce, ha2.as_bytes()])
    }
}

fn unescaped(v: &ParamValue<'_>) -> Vec<u8> {
    let mut out = vec![0u8; v.unescaped_len()];
    assert_eq!(v.unescape_into(&mut out).unwrap(), out.len());
    assert!(v.unescaped().eq(out.iter().copied()));
    out
}

fn select(values: &[&str]) -> Result<Option<Challenge<'static>>, AuthError> {
    let owned: Vec<&'static [u8]> =
        values.iter().map(|v| &*Box::leak(v.as_bytes().to_vec().into_boxed_slice())).collect();
    select_challenge(owned)
}

fn digest(values: &[&str]) -> DigestChallenge<'static> {
    match select(values) {
        Ok(Some(Challenge::Digest(d))) => d,
        other => panic!("expected a Digest challenge from {values:?}, got {other:?}"),
    }
}

fn basic_realm(values: &[&str]) -> Option<String> {
    match select(values) {
        Ok(Some(Challenge::Basic { realm })) => realm.map(|r| String::from_utf8(unescaped(&r)).unwrap()),
        other => panic!("expected a Basic challenge from {values:?}, got {other:?}"),
    }
}

fn text(v: &ParamValue<'_>) -> String {
    String::from_utf8(unescaped(v)).unwrap()
}

fn malformed_at(values: &[&str]) -> usize {
    match select(values) {
        Err(AuthError::MalformedChallenge { at }) => at,
        other => panic!("expected MalformedChallenge from {values:?}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Digest: RFC examples

fn rfc7616(algorithm: DigestAlgorithm) -> DigestInput<'static> {
    DigestInput {
        username: b"Mufasa",
        password: b"Circle of Life",
        realm: b"http-auth@example.org",
        nonce: b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        opaque: Some(b"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
        algorithm,
        qop_auth: true,
        method: "GET",
        uri: "/dir/index.html",
        nc: 1,
        cnonce: b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    }
}

#[test]
fn rfc7616_sha256_example() {
    let value = digest_string(&rfc7616(DigestAlgorithm::Sha256));
    assert_eq!(response_of(&value), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    assert_eq!(
        value,
        "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
         nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", algorithm=SHA-256, \
         response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", qop=auth, nc=00000001, \
         cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
    );
}

#[test]
fn rfc7616_md5_example() {
    let value = digest_string(&rfc7616(DigestAlgorithm::Md5));
    assert_eq!(response_of(&value), "8ca523f5e9506fed4657c9700eebdbec");
    assert!(value.contains(", algorithm=MD5, "));
}

#[test]
fn rfc2617_example() {
    let input = DigestInput {
        username: b"Mufasa",
        password: b"Circle Of Life",
        realm: b"testrealm@host.com",
        nonce: b"dcd98b7102dd2f0e8b11d0f600bfb0c093",
        opaque: Some(b"5ccc069c403ebaf9f0171e9517f40e41"),
        algorithm: DigestAlgorithm::Md5,
        qop_auth: true,
        method: "GET",
        uri: "/dir/index.html",
        nc: 1,
        cnonce: b"0a4f113b",
    };
    assert_eq!(
        digest_string(&input),
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
         uri=\"/dir/index.html\", algorithm=MD5, response=\"6629fae49393a05397450978507c4ef1\", qop=auth, \
         nc=00000001, cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
    );
}

#[test]
fn the_rfc_examples_agree_with_the_independent_formulation() {
    for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
        let input = rfc7616(alg);
        assert_eq!(response_of(&digest_string(&input)), expected_response(&input));
    }
}

// ---------------------------------------------------------------------------------------------
// Digest: -sess, no qop, nc, escaping, lengths, refusals

#[test]
fn sess_variants_match_the_independent_formulation() {
    for alg in [DigestAlgorithm::Md5Sess, DigestAlgorithm::Sha256Sess] {
        let input = rfc7616(alg);
        let value = digest_string(&input);
        assert_eq!(response_of(&value), expected_response(&input), "{alg:?}");
        assert_eq!(response_of(&value).len(), alg.hex_len());
        assert!(value.contains(&format!(", algorithm={}, ", alg.as_str())));
        // -sess really differs from the plain algorithm.
        let plain = if alg.is_sha256() { DigestAlgorithm::Sha256 } else { DigestAlgorithm::Md5 };
        assert_ne!(response_of(&value), expected_response(&rfc7616(plain)));
    }
}

#[test]
fn sess_hashes_by_hand() {
    // The -sess HA1 spelled out once more, for MD5-sess, without the helper.
    let input = rfc7616(DigestAlgorithm::Md5Sess);
    let inner = hex(&Md5::digest(b"Mufasa:http-auth@example.org:Circle of Life"));
    let ha1 = hex(&Md5::digest(format!(
        "{inner}:7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    )));
    let ha2 = hex(&Md5::digest(b"GET:/dir/index.html"));
    let response = hex(&Md5::digest(format!(
        "{ha1}:7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:{ha2}"
    )));
    assert_eq!(response_of(&digest_string(&input)), response);
}

#[test]
fn without_qop_the_rfc2069_form_is_written() {
    for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
        let input = DigestInput { qop_auth: false, opaque: None, cnonce: b"", ..rfc7616(alg) };
        let value = digest_string(&input);
        assert_eq!(response_of(&value), expected_response(&input));
        assert!(!value.contains("qop") && !value.contains("nc=") && !value.contains("cnonce"), "{value}");
        assert!(value.ends_with(&format!("response=\"{}\"", response_of(&value))));
    }
}

#[test]
fn nonce_count_is_eight_lower_case_hex_digits() {
    for (nc, text) in [(0x1a2b_u32, "00001a2b"), (u32::MAX, "ffffffff"), (0, "00000000")] {
        let input = DigestInput { nc, ..rfc7616(DigestAlgorithm::Sha256) };
        let value = digest_string(&input);
        assert!(value.contains(&format!(", nc={text}, ")), "{value}");
        assert_eq!(response_of(&value), expected_response(&input));
    }
}

#[test]
fn quoted_values_are_escaped_and_hashed_unescaped() {
    let input = DigestInput {
        username: br#"a"b\c"#,
        realm: br#"r"e\alm"#,
        uri: "/x?q=\"1\"",
        opaque: Some(b"\\"),
        ..rfc7616(DigestAlgorithm::Md5)
    };
    let value = digest_string(&input);
    assert!(value.starts_with(r#"Digest username="a\"b\\c", realm="r\"e\\alm", "#), "{value}");
    assert!(value.contains(r#" uri="/x?q=\"1\"", "#), "{value}");
    assert!(value.ends_with(r#", opaque="\\""#), "{value}");
    assert_eq!(response_of(&value), expected_response(&input));
    // What we write reads back as what we meant.
    let read = digest(&[&value]);
    assert_eq!(unescaped(&read.realm), input.realm);
    assert_eq!(unescaped(&read.opaque.unwrap()), b"\\");
}

#[test]
fn digest_buffer_too_small_writes_nothing() {
    let input = rfc7616(DigestAlgorithm::Sha256);
    let needed = digest_len(&input);
    let mut out = vec![b'#'; needed - 1];
    assert_eq!(write_digest(&input, &mut out), Err(AuthError::BufferTooSmall { needed, available: needed - 1 }));
    assert!(out.iter().all(|&b| b == b'#'));
    assert_eq!(write_digest(&input, &mut []), Err(AuthError::BufferTooSmall { needed, available: 0 }));
    let mut out = vec![0u8; needed + 10];
    assert_eq!(write_digest(&input, &mut out), Ok(needed));
}

#[test]
fn digest_refuses_what_could_inject_or_break_the_header() {
    let ok = rfc7616(DigestAlgorithm::Sha256);
    let mut out = [b'#'; 512];
    let cases: Vec<(DigestInput<'_>, AuthError)> = vec![
        (DigestInput { username: b"a\r\nX-Evil: 1", ..ok }, AuthError::InvalidCredentials),
        (DigestInput { username: b"a\nb", ..ok }, AuthError::InvalidCredentials),
        (DigestInput { username: b"a\0", ..ok }, AuthError::InvalidCredentials),
        (DigestInput { password: b"p\r", ..ok }, AuthError::InvalidCredentials),
        (DigestInput { password: b"\x7f", ..ok }, AuthError::InvalidCredentials),
        (DigestInput { method: "GE T", ..ok }, AuthError::InvalidMethod),
        (DigestInput { method: "", ..ok }, AuthError::InvalidMethod),
        (DigestInput { uri: "/a\r\nX: y", ..ok }, AuthError::InvalidUri),
        (DigestInput { uri: "/a b", ..ok }, AuthError::InvalidUri),
        (DigestInput { uri: "", ..ok }, AuthError::InvalidUri),
        (DigestInput { realm: b"r\r\n", ..ok }, AuthError::InvalidParameter),
        (DigestInput { nonce: b"\0", ..ok }, AuthError::InvalidParameter),
        (DigestInput { opaque: Some(b"\n"), ..ok }, AuthError::InvalidParameter),
        (DigestInput { cnonce: b"ab\rcd", ..ok }, AuthError::InvalidParameter),
        (DigestInput { cnonce: b"", ..ok }, AuthError::InvalidParameter),
        (DigestInput { algorithm: DigestAlgorithm::Md5Sess, qop_auth: false, ..ok }, AuthError::SessWithoutQop),
    ];
    for (input, err) in cases {
        assert_eq!(write_digest(&input, &mut out), Err(err), "{input:?}");
        assert!(out.iter().all(|&b| b == b'#'));
        assert!(!err.is_remote());
    }
    // Tabs are fine inside a quoted-string; an empty cnonce is fine without qop.
    assert!(write_digest(&DigestInput { realm: b"a\tb", ..ok }, &mut out).is_ok());
    assert!(write_digest(&DigestInput { cnonce: b"", qop_auth: false, ..ok }, &mut out).is_ok());
}

#[test]
fn cnonce_is_sixteen_hex_digits() {
    let mut c = [0u8; 16];
    write_cnonce(0, &mut c);
    assert_eq!(&c, b"0000000000000000");
    write_cnonce(u64::MAX, &mut c);
    assert_eq!(&c, b"ffffffffffffffff");
    write_cnonce(0x0123_4567_89ab_cdef, &mut c);
    assert_eq!(&c, b"0123456789abcdef");
}

#[test]
fn digest_input_debug_hides_the_password() {
    let text = format!("{:?}", rfc7616(DigestAlgorithm::Md5));
    assert!(text.contains("<hidden>"));
    assert!(!text.contains(&format!("{:?}", b"Circle of Life")));
}

#[test]
fn algorithm_names() {
    for alg in ALGORITHMS {
        assert_eq!(DigestAlgorithm::from_name(alg.as_str()), Some(alg));
        assert_eq!(DigestAlgorithm::from_name(&alg.as_str().to_lowercase()), Some(alg));
    }
    assert_eq!(DigestAlgorithm::from_name("SHA256"), Some(DigestAlgorithm::Sha256));
    assert_eq!(DigestAlgorithm::from_name("sha256-sess"), Some(DigestAlgorithm::Sha256Sess));
    for bad in ["", "SHA-512-256", "SHA-512", "MD5 ", "md5-session", "SHA-256x"] {
        assert_eq!(DigestAlgorithm::from_name(bad), None, "{bad:?}");
    }
    assert_eq!(AuthType::default(), AuthType::None);
}

// ---------------------------------------------------------------------------------------------
// Challenges

#[test]
fn rfc9110_several_challenges_in_one_value() {
    let v = r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#;
    assert_eq!(basic_realm(&[v]).as_deref(), Some("simple"));
    // Adding a Digest challenge after it makes that the choice.
    let d = digest(&[&format!(r#"{v}, Digest realm="d", nonce="n""#)]);
    assert_eq!(text(&d.realm), "d");
}

#[test]
fn several_header_values() {
    let d = digest(&[r#"Basic realm="a""#, r#"Newauth x=1"#, r#"Digest realm="b", nonce="n", qop="auth""#]);
    assert_eq!(text(&d.realm), "b");
    assert!(d.qop_auth);
    assert_eq!(d.algorithm, DigestAlgorithm::Md5);
    assert_eq!(basic_realm(&[r#"Newauth x=1"#, r#"Basic realm="a""#]).as_deref(), Some("a"));
}

#[test]
fn rfc7616_section_3_7_prefers_sha256() {
    let sha = r#"Digest
       realm="http-auth@example.org",
       qop="auth, auth-int",
       algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
        .replace('\n', "");
    let md5 = sha.replace("SHA-256", "MD5");
    for values in [[&*sha, &*md5], [&*md5, &*sha]] {
        let d = digest(&values);
        assert_eq!(d.algorithm, DigestAlgorithm::Sha256);
        assert!(d.qop_auth && !d.stale);
        assert_eq!(text(&d.realm), "http-auth@example.org");
        assert_eq!(text(&d.nonce), "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
        assert_eq!(text(&d.opaque.unwrap()), "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    }
    // In one value too, and SHA-256-sess counts as the SHA-256 family.
    let one = format!("{md5}, {}", sha.replace("SHA-256", "SHA-256-sess"));
    assert_eq!(digest(&[&one]).algorithm, DigestAlgorithm::Sha256Sess);
}

#[test]
fn preference_and_ties() {
    // Digest over Basic wherever it comes; the first of equals.
    let d = digest(&[r#"Basic realm="x", Digest realm="r", nonce="first", Digest realm="r", nonce="second""#]);
    assert_eq!(text(&d.nonce), "first");
    let d = digest(&[
        r#"Digest realm="r", nonce="a", algorithm=MD5-sess, qop=auth"#,
        r#"Digest realm="r", nonce="b", algorithm=MD5"#,
    ]);
    assert_eq!((text(&d.nonce).as_str(), d.algorithm), ("a", DigestAlgorithm::Md5Sess));
}

#[test]
fn algorithm_quoted_or_not_and_in_any_case() {
    for (alg, want) in [
        ("SHA-256", DigestAlgorithm::Sha256),
        ("\"SHA-256\"", DigestAlgorithm::Sha256),
        ("sha-256", DigestAlgorithm::Sha256),
        ("SHA256", DigestAlgorithm::Sha256),
        ("\"sha-256-SESS\"", DigestAlgorithm::Sha256Sess),
        ("MD5", DigestAlgorithm::Md5),
        ("\"md5\"", DigestAlgorithm::Md5),
        ("Md5-Sess", DigestAlgorithm::Md5Sess),
        ("\"MD5\\-sess\"", DigestAlgorithm::Md5Sess),
    ] {
        let d = digest(&[&format!(r#"Digest realm="r", nonce="n", qop="auth", algorithm={alg}"#)]);
        assert_eq!(d.algorithm, want, "{alg}");
    }
}

#[test]
fn qop_lists() {
    for (qop, auth) in [
        ("\"auth,auth-int\"", true),
        ("\"auth-int, auth\"", true),
        ("\" AUTH \"", true),
        ("auth", true),
        ("\",,auth,\"", true),
        ("\"au\\th\"", true),
    ] {
        let d = digest(&[&format!(r#"Digest realm="r", nonce="n", qop={qop}"#)]);
        assert_eq!(d.qop_auth, auth, "{qop}");
    }
    assert!(!digest(&[r#"Digest realm="r", nonce="n""#]).qop_auth);
    // Only auth-int, or nothing we know: unusable; a Basic offered alongside is taken instead.
    for qop in ["\"auth-int\"", "auth-int", "\"\"", "\"authx\"", "\"au th\"", "\"auth-conf\""] {
        let v = format!(r#"Digest realm="r", nonce="n", qop={qop}"#);
        assert_eq!(select(&[&v]), Ok(None), "{qop}");
        assert_eq!(basic_realm(&[&v, r#"Basic realm="fallback""#]).as_deref(), Some("fallback"));
    }
}

#[test]
fn stale() {
    for (v, stale) in [("stale=TRUE", true), ("stale=\"true\"", true), ("stale=false", false), ("x=1", false)] {
        let d = digest(&[&format!(r#"Digest realm="r", nonce="n", {v}"#)]);
        assert_eq!(d.stale, stale, "{v}");
    }
}

#[test]
fn unusable_digest_challenges_are_skipped() {
    for v in [
        r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#,
        r#"Digest realm="r", nonce="n", algorithm="UNKNOWN""#,
        r#"Digest nonce="n""#,
        r#"Digest realm="r""#,
        r#"Digest realm="r", nonce="n", algorithm=MD5-sess"#,
        r#"Digest realm="r", nonce="n", realm="s""#,
        r#"Digest realm="r", nonce="n", nonce="n""#,
        r#"Digest realm="r", nonce="n", qop="auth", QOP="auth""#,
        r#"Digest abc=="#,
        r#"Digest"#,
        r#"Negotiate abc=="#,
        r#"Bearer realm="api""#,
    ] {
        assert_eq!(select(&[v]), Ok(None), "{v}");
        assert_eq!(basic_realm(&[v, r#"Basic realm="b""#]).as_deref(), Some("b"), "{v}");
    }
    assert_eq!(select(&[]), Ok(None));
    assert_eq!(select(&[""]), Ok(None));
    assert_eq!(select(&[" , ,, "]), Ok(None));
}

#[test]
fn names_are_matched_whole() {
    let d = digest(&[r#"Digest xrealm="evil", realm="good", nonce="n", nonces="evil""#]);
    assert_eq!((text(&d.realm).as_str(), text(&d.nonce).as_str()), ("good", "n"));
    let d = digest(&[r#"Digest opaque="realm=\"evil\"", nonce="n", realm="good""#]);
    assert_eq!(text(&d.realm), "good");
    assert_eq!(text(&d.opaque.unwrap()), r#"realm="evil""#);
    assert_eq!(select(&[r#"Digest xrealm="x", nonce="n""#]), Ok(None));
    assert_eq!(select(&[r#"Digest realmx="x", nonce="n""#]), Ok(None));
    // Names and schemes ignore case.
    let d = digest(&[r#"DIGEST REALM="R", Nonce="N", ALGORITHM=md5-SESS, QOP=AUTH, Stale=True"#]);
    assert_eq!(d.algorithm, DigestAlgorithm::Md5Sess);
    assert!(d.qop_auth && d.stale);
    assert_eq!(basic_realm(&[r#"bAsIc REALM="x""#]).as_deref(), Some("x"));
}

#[test]
fn escapes_and_tokens() {
    let d = digest(&[r#"Digest realm="a\"b\\c\d", nonce=tok.en-1, opaque="""#]);
    assert_eq!(d.realm.raw(), r#"a\"b\\c\d"#);
    assert!(d.realm.is_quoted());
    assert_eq!(d.realm.unescaped_len(), 6);
    assert_eq!(text(&d.realm), r#"a"b\cd"#);
    assert!(d.realm.eq_ignore_case(r#"A"B\CD"#));
    assert!(!d.realm.eq_ignore_case(r#"a\"b\\c\d"#));
    assert_eq!(d.nonce.raw(), "tok.en-1");
    assert!(!d.nonce.is_quoted());
    assert_eq!(text(&d.nonce), "tok.en-1");
    assert_eq!(d.opaque.unwrap().unescaped_len(), 0);
    let mut small = [b'#'; 5];
    assert_eq!(d.realm.unescape_into(&mut small), Err(AuthError::BufferTooSmall { needed: 6, available: 5 }));
    assert_eq!(small, [b'#'; 5]);
    // Non-ASCII UTF-8 goes through; tabs and spaces inside quotes too.
    let d = digest(&["Digest realm=\"caf\u{e9}\t \\ x\", nonce=n"]);
    assert_eq!(text(&d.realm), "caf\u{e9}\t  x");
}

#[test]
fn list_syntax_leniencies() {
    // Whitespace around '=' (BWS), empty list elements, tabs.
    let d = digest(&[",, Digest\trealm = \"r\" ,, nonce=\t\"n\" ,qop=auth,, "]);
    assert_eq!((text(&d.realm).as_str(), text(&d.nonce).as_str(), d.qop_auth), ("r", "n", true));
    // A comma straight after the scheme.
    let d = digest(&[r#"Digest, realm="r", nonce="n""#]);
    assert_eq!(text(&d.nonce), "n");
    // Schemes without parameters, and token68, before and after.
    assert_eq!(basic_realm(&["Negotiate, Basic, NTLM"]), None);
    assert_eq!(basic_realm(&["Negotiate YIIC+/w==, Basic realm=\"x\", NTLM"]).as_deref(), Some("x"));
    assert_eq!(basic_realm(&["Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="]), None);
    // Not UTF-8: the Digest is unusable, the Basic realm is dropped, neither is an error.
    let latin1: &'static [u8] = b"Digest realm=\"caf\xe9\", nonce=\"n\"";
    assert_eq!(select_challenge([latin1]), Ok(None));
    let latin1: &'static [u8] = b"Basic realm=\"caf\xe9\"";
    assert_eq!(select_challenge([latin1]), Ok(Some(Challenge::Basic { realm: None })));
    // userhash is ignored.
    assert_eq!(text(&digest(&[r#"Digest realm="r", nonce="n", userhash=true, charset=UTF-8"#]).nonce), "n");
}

#[test]
fn malformed_values() {
    let cases: &[(&str, usize)] = &[
        (r#"Basic realm="unterminated"#, 25),
        (r#"Digest realm="a" nonce="b""#, 17),
        (r#"Basic"x""#, 5),
        (r#""Basic""#, 0),
        ("Digest realm=\"a\x01\"", 15),
        ("Digest realm=\"a\\", 16),
        ("Digest realm=\"a\\\x7f\"", 16),
        (r#"Basic realm="a", =x"#, 17),
        (r#"Basic realm="a", b="#, 19),
        (r#"Basic realm="a", b=,"#, 19),
        (r#"Basic realm="a", b=/"#, 19),
        (r#"Basic abc==x"#, 11),
        (r#"Basic realm="a"x"#, 15),
        (r#"Basic realm=a"x""#, 13),
        (r#"Basic a b"#, 8),
        (r#"Basic a=b=c"#, 9),
        (r#"Basic =abc"#, 6),
        (r#"Basic realm=, x=1"#, 15),
        (r#"Basic abc=, realm="x""#, 17),
        ("Basic realm=\"x\",\r\n", 16),
        ("Basic\x00", 5),
        ("Basic realm=\"x\" ; y=1", 16),
        ("/", 0),
    ];
    for &(v, at) in cases {
        assert_eq!(malformed_at(&[v]), at, "{v:?}");
        assert!(AuthError::MalformedChallenge { at }.is_remote());
    }
    // A broken value spoils the answer even when another one was usable.
    assert_eq!(malformed_at(&[r#"Digest realm="r", nonce="n""#, r#"Basic realm="x"#]), 14);
}

// ---------------------------------------------------------------------------------------------
// Basic

#[test]
fn rfc7617_examples() {
    assert_eq!(basic_string(b"Aladdin", b"open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    // Section 2.1: "test" / "123£" in UTF-8.
    assert_eq!(basic_string(b"test", "123\u{a3}".as_bytes()), "Basic dGVzdDoxMjPCow==");
}

#[test]
fn basic_bytes_go_through_as_given() {
    assert_eq!(basic_string(b"", b""), "Basic Og==");
    assert_eq!(basic_string(b"u", b"a:b:c"), "Basic dTphOmI6Yw==");
    // ISO-8859-1 bytes, not UTF-8.
    assert_eq!(basic_string(b"test", b"123\xa3"), "Basic dGVzdDoxMjOj");
    // Long enough to cross the encoder's internal blocks.
    for len in [46, 47, 48, 49, 100, 300] {
        let user = vec![b'u'; len];
        let password: Vec<u8> = (0..len).map(|i| 0x80 | (i as u8)).collect();
        let mut raw = user.clone();
        raw.push(b':');
        raw.extend_from_slice(&password);
        let mut want = vec![0u8; raw.len() * 4 / 3 + 4];
        let n = STANDARD.encode_slice(&raw, &mut want).unwrap();
        assert_eq!(basic_string(&user, &password), format!("Basic {}", std::str::from_utf8(&want[..n]).unwrap()));
    }
}

#[test]
fn basic_refusals() {
    let mut out = [b'#'; 64];
    assert_eq!(write_basic(b"a:b", b"p", &mut out), Err(AuthError::ColonInUsername));
    for (user, password) in [(&b"a\r"[..], &b"p"[..]), (b"a", b"p\n"), (b"\0", b""), (b"a", b"\x7f"), (b"\t", b"p")] {
        assert_eq!(write_basic(user, password, &mut out), Err(AuthError::InvalidCredentials));
    }
    assert!(out.iter().all(|&b| b == b'#'));
    let needed = basic_len(b"Aladdin", b"open sesame");
    assert_eq!(needed, 34);
    let mut small = [b'#'; 33];
    assert_eq!(
        write_basic(b"Aladdin", b"open sesame", &mut small),
        Err(AuthError::BufferTooSmall { needed: 34, available: 33 })
    );
    assert!(small.iter().all(|&b| b == b'#'));
    assert_eq!(write_basic(b"Aladdin", b"open sesame", &mut out), Ok(34));
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Pieces that reach the parser's branches more often than random bytes do.
fn grammar_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"Digest"[..]),
        Just(&b"Basic"[..]),
        Just(&b" "[..]),
        Just(&b"\t"[..]),
        Just(&b","[..]),
        Just(&b"="[..]),
        Just(&b"\""[..]),
        Just(&b"\\"[..]),
        Just(&b"realm"[..]),
        Just(&b"nonce"[..]),
        Just(&b"qop"[..]),
        Just(&b"auth"[..]),
        Just(&b"algorithm"[..]),
        Just(&b"SHA-256"[..]),
        Just(&b"stale"[..]),
        Just(&b"\xff"[..]),
        Just(&b"/"[..]),
        Just(&b"\r\n"[..]),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn check_answer(values: &[&[u8]]) {
    match select_challenge(values.iter().copied()) {
        Ok(Some(Challenge::Digest(d))) => {
            for v in [Some(d.realm), Some(d.nonce), d.opaque].into_iter().flatten() {
                unescaped(&v);
            }
        }
        Ok(Some(Challenge::Basic { realm })) => {
            if let Some(r) = realm {
                unescaped(&r);
            }
        }
        Ok(None) => {}
        Err(AuthError::MalformedChallenge { at }) => {
            assert!(values.iter().any(|v| at <= v.len()));
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
}

/// Printable ASCII, quotes and backslashes included.
fn printable(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{0,{max}}}")).unwrap()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(a in prop::collection::vec(any::<u8>(), 0..200), b in prop::collection::vec(any::<u8>(), 0..50)) {
        check_answer(&[&a]);
        check_answer(&[&a, &b]);
    }

    #[test]
    fn grammar_soup_never_panics(a in grammar_soup(), b in grammar_soup()) {
        check_answer(&[&a]);
        check_answer(&[&b, &a]);
    }

    #[test]
    fn written_digest_reads_back_and_hashes_right(
        username in printable(20),
        password in printable(20),
        realm in printable(30),
        nonce in printable(30),
        opaque in prop::option::of(printable(30)),
        alg in 0usize..4,
        qop in any::<bool>(),
        nc in any::<u32>(),
        entropy in any::<u64>(),
        uri in "/[!-~]{0,30}",
    ) {
        let algorithm = ALGORITHMS[alg];
        let qop_auth = qop || algorithm.is_sess();
        let mut cnonce = [0u8; 16];
        write_cnonce(entropy, &mut cnonce);
        let input = DigestInput {
            username: username.as_bytes(), password: password.as_bytes(), realm: realm.as_bytes(),
            nonce: nonce.as_bytes(), opaque: opaque.as_deref().map(str::as_bytes), algorithm, qop_auth,
            method: "POST", uri: &uri, nc, cnonce: &cnonce,
        };
        let value = digest_string(&input);
        prop_assert_eq!(response_of(&value), expected_response(&input));
        let read = digest(&[&value]);
        prop_assert_eq!(unescaped(&read.realm), realm.as_bytes());
        prop_assert_eq!(unescaped(&read.nonce), nonce.as_bytes());
        prop_assert_eq!(read.opaque.map(|o| unescaped(&o)), opaque.map(String::into_bytes));
        prop_assert_eq!(read.algorithm, algorithm);
        prop_assert_eq!(read.qop_auth, qop_auth);
    }

    #[test]
    fn written_basic_decodes_back(user in "[^:\\x00-\\x1f\\x7f]{0,40}", password in "[^\\x00-\\x1f\\x7f]{0,40}") {
        let value = basic_string(user.as_bytes(), password.as_bytes());
        let encoded = value.strip_prefix("Basic ").unwrap();
        let mut decoded = vec![0u8; encoded.len()];
        let n = STANDARD.decode_slice(encoded, &mut decoded).unwrap();
        let want = format!("{user}:{password}");
        prop_assert_eq!(&decoded[..n], want.as_bytes());
    }
}

//! The demo server's side of HTTP Digest authentication (RFC 7616, MD5 with `qop=auth`): it
//! issues challenges and verifies every parameter of the answer, recomputing the response with
//! its own MD5 rather than the client's code under test.
//!
//! A response is accepted only when the scheme is Digest, the username and realm are the
//! expected ones, the nonce is one this guard issued (with a nonce-count above any seen with
//! it: no replays), the `uri` is the request's target, `qop` is `auth`, the algorithm (if
//! named) is MD5, the opaque value is echoed, and
//! `response = MD5(MD5(user:realm:password):nonce:nc:cnonce:auth:MD5(method:uri))`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use md5::{Digest, Md5};

/// Why an `Authorization` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not `Digest` credentials.
    NotDigest,
    /// A parameter the answer needs is missing (or given twice).
    Missing(&'static str),
    /// Another user.
    UnknownUser(String),
    /// Another realm.
    WrongRealm,
    /// A nonce this guard never issued.
    UnknownNonce,
    /// A nonce-count not above the last one accepted with this nonce.
    Replayed,
    /// The digest `uri` is not the request's target.
    UriMismatch,
    /// A `qop` other than `auth`.
    WrongQop,
    /// An algorithm other than MD5.
    WrongAlgorithm,
    /// The opaque value was not echoed.
    WrongOpaque,
    /// A nonce-count that is not 8 hex digits.
    BadNonceCount,
    /// The response hash is not the one the password gives.
    WrongResponse,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotDigest => f.write_str("not Digest credentials"),
            Refusal::Missing(name) => write!(f, "no single `{name}` parameter"),
            Refusal::UnknownUser(user) => write!(f, "unknown user {user:?}"),
            Refusal::WrongRealm => f.write_str("wrong realm"),
            Refusal::UnknownNonce => f.write_str("a nonce this server never issued"),
            Refusal::Replayed => f.write_str("nonce-count replayed"),
            Refusal::UriMismatch => f.write_str("digest uri is not the request target"),
            Refusal::WrongQop => f.write_str("qop is not auth"),
            Refusal::WrongAlgorithm => f.write_str("algorithm is not MD5"),
            Refusal::WrongOpaque => f.write_str("opaque not echoed"),
            Refusal::BadNonceCount => f.write_str("malformed nonce-count"),
            Refusal::WrongResponse => f.write_str("response hash does not match the password"),
        }
    }
}

/// One user's Digest credentials and the nonces issued for them.
#[derive(Debug)]
pub(crate) struct DigestGuard {
    realm: String,
    user: String,
    password: String,
    opaque: String,
    /// Seed of the nonces, different in every run.
    secret: u64,
    /// Issued nonces and the highest nonce-count accepted with each (0: none yet).
    nonces: Mutex<HashMap<String, u32>>,
}

impl DigestGuard {
    pub(crate) fn new(realm: &str, user: &str, password: &str, secret: u64) -> DigestGuard {
        DigestGuard {
            realm: realm.to_owned(),
            user: user.to_owned(),
            password: password.to_owned(),
            opaque: md5_hex(format!("opaque:{secret}").as_bytes()),
            secret,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    /// A fresh `WWW-Authenticate` value: `Digest realm=.., qop="auth", algorithm=MD5, nonce=..,
    /// opaque=..`.
    pub(crate) fn challenge(&self) -> String {
        let nonce = {
            let mut nonces = self.nonces.lock().unwrap_or_else(PoisonError::into_inner);
            let nonce = md5_hex(format!("{}:{}", self.secret, nonces.len()).as_bytes());
            nonces.insert(nonce.clone(), 0);
            nonce
        };
        format!(
            r#"Digest realm="{}", qop="auth", algorithm=MD5, nonce="{nonce}", opaque="{}""#,
            self.realm, self.opaque
        )
    }

    /// Checks the `Authorization` value of a `method` request for `target`; the user's name
    /// when it is accepted.
    pub(crate) fn verify(&self, method: &str, target: &str, authorization: &str) -> Result<String, Refusal> {
        let params = match authorization.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("Digest") => parse_params(rest),
            _ => return Err(Refusal::NotDigest),
        };
        // A parameter given once: `None` when absent; given twice, it is refused as missing.
        let optional = |name: &'static str| -> Result<Option<&str>, Refusal> {
            let mut found = params.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
            match (found.next(), found.next()) {
                (value, None) => Ok(value),
                _ => Err(Refusal::Missing(name)),
            }
        };
        let get = |name: &'static str| optional(name)?.ok_or(Refusal::Missing(name));
        let (username, realm, nonce, uri) = (get("username")?, get("realm")?, get("nonce")?, get("uri")?);
        let (response, qop, nc, cnonce) = (get("response")?, get("qop")?, get("nc")?, get("cnonce")?);
        if username != self.user {
            return Err(Refusal::UnknownUser(username.to_owned()));
        }
        if realm != self.realm {
            return Err(Refusal::WrongRealm);
        }
        if uri != target {
            return Err(Refusal::UriMismatch);
        }
        if qop != "auth" {
            return Err(Refusal::WrongQop);
        }
        if optional("algorithm")?.is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return Err(Refusal::WrongAlgorithm);
        }
        if optional("opaque")? != Some(self.opaque.as_str()) {
            return Err(Refusal::WrongOpaque);
        }
        let count = match u32::from_str_radix(nc, 16) {
            Ok(count) if nc.len() == 8 => count,
            _ => return Err(Refusal::BadNonceCount),
        };
        let mut nonces = self.nonces.lock().unwrap_or_else(PoisonError::into_inner);
        let last = nonces.get_mut(nonce).ok_or(Refusal::UnknownNonce)?;
        if count <= *last {
            return Err(Refusal::Replayed);
        }
        let expected = response_hash(&self.user, &self.realm, &self.password, method, uri, nonce, nc, cnonce);
        if !constant_time_eq(expected.as_bytes(), response.to_ascii_lowercase().as_bytes()) {
            return Err(Refusal::WrongResponse);
        }
        *last = count;
        Ok(username.to_owned())
    }

    /// Accepts `nonce` as if this guard had issued it (for known test vectors).
    #[cfg(test)]
    fn issue(&self, nonce: &str) {
        self.nonces.lock().unwrap_or_else(PoisonError::into_inner).insert(nonce.to_owned(), 0);
    }
}

/// RFC 7616's `response` for `qop=auth` and MD5, in lowercase hex.
#[allow(clippy::too_many_arguments)] // the hash's own inputs, named as in the RFC
fn response_hash(
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
) -> String {
    let ha1 = md5_hex(format!("{user}:{realm}:{password}").as_bytes());
    let ha2 = md5_hex(format!("{method}:{uri}").as_bytes());
    md5_hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes())
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality that does not stop at the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `name=value` pairs of an auth-param list: values are tokens or quoted strings (with
/// backslash escapes), pairs are separated by commas and optional whitespace. A malformed
/// remainder is dropped, so a required parameter in it is reported missing.
fn parse_params(mut rest: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let Some((name, after)) = rest.split_once('=') else { return params };
        let name = name.trim();
        let after = after.trim_start_matches([' ', '\t']);
        let (value, remainder) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, escaped)) => value.push(escaped),
                            None => return params,
                        },
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        c => value.push(c),
                    }
                }
                let Some(end) = end else { return params };
                (value, quoted.get(end..).unwrap_or_default())
            }
            None => {
                let end = after.find([',', ' ', '\t']).unwrap_or(after.len());
                let (token, remainder) = after.split_at(end);
                (token.to_owned(), remainder)
            }
        };
        if name.is_empty() {
            return params;
        }
        params.push((name.to_owned(), value));
        rest = remainder;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use super::*;
    use tern_proto::client::auth::{Challenge, DigestInput, select_challenge, write_digest};

    /// RFC 2617 section 3.5's example (the same computation as RFC 7616's MD5 `qop=auth`).
    const RFC_2617: &str = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;

    fn rfc_guard(password: &str) -> DigestGuard {
        let mut guard = DigestGuard::new("testrealm@host.com", "Mufasa", password, 1);
        guard.opaque = "5ccc069c403ebaf9f0171e9517f40e41".to_owned();
        guard.issue("dcd98b7102dd2f0e8b11d0f600bfb0c093");
        guard
    }

    #[test]
    fn the_rfc_example_is_accepted_once() {
        let guard = rfc_guard("Circle Of Life");
        assert_eq!(guard.verify("GET", "/dir/index.html", RFC_2617), Ok("Mufasa".to_owned()));
        // The same nonce-count again is a replay.
        assert_eq!(guard.verify("GET", "/dir/index.html", RFC_2617), Err(Refusal::Replayed));
    }

    #[test]
    fn a_wrong_password_is_refused() {
        let guard = rfc_guard("Circle of Life");
        assert_eq!(guard.verify("GET", "/dir/index.html", RFC_2617), Err(Refusal::WrongResponse));
    }

    #[test]
    fn every_other_parameter_is_checked() {
        let guard = rfc_guard("Circle Of Life");
        assert_eq!(guard.verify("POST", "/dir/index.html", RFC_2617), Err(Refusal::WrongResponse));
        assert_eq!(guard.verify("GET", "/other", RFC_2617), Err(Refusal::UriMismatch));
        let edit = |from: &str, to: &str| RFC_2617.replace(from, to);
        let cases = [
            (edit("Digest ", "Basic "), Refusal::NotDigest),
            (edit("dcd98b", "dcd98c"), Refusal::UnknownNonce),
            (edit("qop=auth", "qop=auth-int"), Refusal::WrongQop),
            (edit("Mufasa", "Simba"), Refusal::UnknownUser("Simba".to_owned())),
            (edit("testrealm@", "other@"), Refusal::WrongRealm),
            (edit(r#", opaque="5ccc069c403ebaf9f0171e9517f40e41""#, ""), Refusal::WrongOpaque),
            (edit("nc=00000001", "nc=1"), Refusal::BadNonceCount),
            (edit(r#"cnonce="0a4f113b", "#, ""), Refusal::Missing("cnonce")),
            (format!("{RFC_2617}, algorithm=SHA-256"), Refusal::WrongAlgorithm),
            (format!("{RFC_2617}, nc=00000002"), Refusal::Missing("nc")),
            (edit("6629fae4", "6629fae5"), Refusal::WrongResponse),
        ];
        for (authorization, refusal) in cases {
            assert_eq!(guard.verify("GET", "/dir/index.html", &authorization), Err(refusal), "{authorization}");
        }
        // None of those used the nonce up.
        assert!(guard.verify("GET", "/dir/index.html", RFC_2617).is_ok());
    }

    /// tern's client answering the guard's own challenge is accepted, with a growing
    /// nonce-count, and refused with a wrong password.
    #[test]
    fn tern_client_answers_are_accepted_with_the_right_password_only() {
        let guard = DigestGuard::new("tern demo", "tern", "s3cret", 42);
        let challenge = guard.challenge();
        let Some(Challenge::Digest(c)) = select_challenge([challenge.as_bytes()]).unwrap() else { panic!() };
        let (mut nonce_buf, mut opaque_buf) = ([0u8; 64], [0u8; 64]);
        let nonce_len = c.nonce.unescape_into(&mut nonce_buf).unwrap();
        let opaque_len = c.opaque.unwrap().unescape_into(&mut opaque_buf).unwrap();
        let (nonce, opaque) = (&nonce_buf[..nonce_len], &opaque_buf[..opaque_len]);
        let answer = |password: &[u8], nc: u32| {
            let input = DigestInput {
                username: b"tern",
                password,
                realm: b"tern demo",
                nonce,
                opaque: Some(opaque),
                algorithm: c.algorithm,
                qop_auth: c.qop_auth,
                method: "GET",
                uri: "/digest?x=1",
                nc,
                cnonce: b"0123456789abcdef",
            };
            let mut out = [0u8; 512];
            let n = write_digest(&input, &mut out).unwrap();
            String::from_utf8(out[..n].to_vec()).unwrap()
        };
        assert_eq!(guard.verify("GET", "/digest?x=1", &answer(b"wrong", 1)), Err(Refusal::WrongResponse));
        assert_eq!(guard.verify("GET", "/digest?x=1", &answer(b"s3cret", 1)), Ok("tern".to_owned()));
        assert_eq!(guard.verify("GET", "/digest?x=1", &answer(b"s3cret", 1)), Err(Refusal::Replayed));
        assert_eq!(guard.verify("GET", "/digest?x=1", &answer(b"s3cret", 2)), Ok("tern".to_owned()));
    }

    #[test]
    fn params_parse_tokens_quoted_strings_and_escapes() {
        let params = parse_params(r#"a=1, b="x, \"y\"",c=tok ,  d="""#);
        let expected = [("a", "1"), ("b", r#"x, "y""#), ("c", "tok"), ("d", "")];
        assert_eq!(params, expected.map(|(n, v)| (n.to_owned(), v.to_owned())));
        assert_eq!(parse_params(r#"a="unterminated"#), vec![]);
    }
}

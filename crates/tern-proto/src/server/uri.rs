//! Matching a request path against a registered URI template.
//!
//! ESP-IDF compares the template with the path (the request-target up to `?`) byte for byte by
//! default; with `httpd_uri_match_wildcard` installed as `uri_match_fn`, the last one or two
//! characters of a template may be special:
//!
//! | template ends with | means |
//! |---|---|
//! | neither `*` nor `?` | the whole path equals the template |
//! | `*` | the path starts with what comes before the `*` |
//! | `?` | the character before the `?` is optional, and nothing may follow it |
//! | `?*` or `*?` | the character before them is optional; if it is there, anything may follow |
//!
//! A `*` or `?` anywhere else is an ordinary character, and a template that is only `?` (or
//! `?*`) has no character to make optional and never matches. Matching is case-sensitive,
//! without percent-decoding: `/a%20b` and `/a b` are different paths, as in ESP-IDF.

/// How templates are matched: ESP-IDF's `uri_match_fn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UriMatch {
    /// The path equals the template (ESP-IDF's default, `uri_match_fn = NULL`).
    #[default]
    Exact,
    /// ESP-IDF's `httpd_uri_match_wildcard`.
    Wildcard,
}

impl UriMatch {
    /// Whether `path` matches `template` under this rule.
    ///
    /// ```
    /// use tern_proto::server::uri::UriMatch;
    /// assert!(UriMatch::Wildcard.matches("/api/*", "/api/v1/status"));
    /// assert!(!UriMatch::Exact.matches("/api/*", "/api/v1/status"));
    /// assert!(UriMatch::Wildcard.matches("/path/?", "/path"));
    /// ```
    pub fn matches(self, template: &str, path: &str) -> bool {
        match self {
            UriMatch::Exact => template == path,
            UriMatch::Wildcard => match_wildcard(template.as_bytes(), path.as_bytes()),
        }
    }
}

/// ESP-IDF's wildcard rules on bytes.
fn match_wildcard(template: &[u8], path: &[u8]) -> bool {
    let (star, optional) = match template {
        [.., b'?', b'*'] | [.., b'*', b'?'] => (true, true),
        [.., b'*'] => (true, false),
        [.., b'?'] => (false, true),
        _ => (false, false),
    };
    // Characters the special suffix takes: the `*`, the `?`, and the optional character.
    let special = usize::from(star) + 2 * usize::from(optional);
    let Some(required_len) = template.len().checked_sub(special) else {
        // `?` or `?*` alone: no character to make optional.
        return false;
    };
    let (required, rest) = template.split_at(required_len);
    let Some(path_rest) = path.strip_prefix(required) else {
        return false;
    };
    if !optional {
        return star || path_rest.is_empty();
    }
    // The optional character is the first of what the suffix took.
    let optional_char = rest.first();
    match path_rest.split_first() {
        None => true,
        Some((c, after)) => Some(c) == optional_char && (star || after.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::UriMatch::{Exact, Wildcard};

    /// ESP-IDF's behaviour table for `httpd_uri_match_wildcard`: (template, path, matches).
    const WILDCARD_TABLE: &[(&str, &str, bool)] = &[
        // No special characters: exact.
        ("", "", true),
        ("", "/", false),
        ("/", "/", true),
        ("/path", "/path", true),
        ("/path", "/path/", false),
        ("/path/", "/path", false),
        ("/path", "/pat", false),
        ("/path", "/pathx", false),
        // A trailing `*`: prefix.
        ("*", "", true),
        ("*", "/", true),
        ("*", "/anything/at/all", true),
        ("/*", "/", true),
        ("/*", "/x", true),
        ("/*", "", false),
        ("/path/*", "/path/", true),
        ("/path/*", "/path/blabla", true),
        ("/path/*", "/path/bla/bla", true),
        ("/path/*", "/path", false),
        ("/path/*", "/", false),
        ("/path/*", "/pathb", false),
        // A trailing `?`: the character before it is optional, nothing after.
        ("/path/?", "/path", true),
        ("/path/?", "/path/", true),
        ("/path/?", "/pa", false),
        ("/path/?", "/pat", false),
        ("/path/?", "/pathb", false),
        ("/path/?", "/path/alalal", false),
        ("/path/?", "/path//", false),
        // `?*` and `*?`: optional character, then anything once it is there.
        ("/path/?*", "/path", true),
        ("/path/?*", "/path/", true),
        ("/path/?*", "/path/blabla", true),
        ("/path/?*", "/pathb", false),
        ("/path/?*", "/pat", false),
        ("/path/*?", "/path", true),
        ("/path/*?", "/path/", true),
        ("/path/*?", "/path/blabla", true),
        ("/path/*?", "/pathb", false),
        ("/path/*?", "/pat", false),
        // Special characters elsewhere are literal.
        ("/path/*/xxx", "/path/*/xxx", true),
        ("/path/*/xxx", "/path/a/xxx", false),
        ("/path/?/xxx", "/path/?/xxx", true),
        ("/path/?/xxx", "/path//xxx", false),
        // Invalid templates never match.
        ("?", "", false),
        ("?", "a", false),
        ("?*", "", false),
        ("*?", "", false),
        // The smallest valid ones.
        ("a?", "", true),
        ("a?", "a", true),
        ("a?", "b", false),
        ("a?*", "", true),
        ("a?*", "abc", true),
        ("a?*", "bc", false),
    ];

    #[test]
    fn wildcard_table() {
        for &(template, path, expected) in WILDCARD_TABLE {
            assert_eq!(Wildcard.matches(template, path), expected, "template {template:?}, path {path:?}");
        }
    }

    #[test]
    fn exact_is_byte_for_byte() {
        assert!(Exact.matches("/path", "/path"));
        assert!(!Exact.matches("/path", "/Path"));
        assert!(!Exact.matches("/path", "/path/"));
        assert!(!Exact.matches("/path/*", "/path/x"));
        assert!(Exact.matches("/path/*", "/path/*"));
    }
}

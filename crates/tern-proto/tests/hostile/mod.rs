//! The hostile-input catalogue: the data files of this folder (see `README.md` for their
//! format) and their parser, shared by tern-proto's engine runner (`tests/hostile_catalogue.rs`)
//! and tern-tokio's socket runner (`tern-tokio/tests/hostile_socket.rs`).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

/// Requests to the server, with the responses it must answer.
pub const SERVER: &str = include_str!("server.txt");
/// Responses to the client, with what `perform` must return.
pub const CLIENT: &str = include_str!("client.txt");
/// WebSocket frames, with what the receiver (and the server engine) must do.
pub const WEBSOCKET: &str = include_str!("websocket.txt");

/// One case of a catalogue file.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique within its file.
    pub name: String,
    /// The `=== category` heading the case is under.
    pub category: String,
    /// The bytes to send, escapes and repeats expanded.
    pub input: Vec<u8>,
    /// The `expect` line, tokenized.
    pub expect: Vec<Token>,
    /// The `expect` line as written, for messages.
    pub expect_text: String,
    /// Why that outcome is right.
    pub why: String,
    /// Set when tern's current behaviour is believed wrong: the runners run the case, report
    /// what it does and do not fail on it, but fail when it starts passing (so the marker is
    /// removed and the case starts guarding the fix).
    pub known: Option<String>,
    /// Other `key: value` fields (`role` and `method` in some files).
    pub fields: Vec<(String, String)>,
    /// The line the case starts on.
    pub line: usize,
}

impl Case {
    /// The value of an optional field.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A token of an `expect` line: a bare word or a quoted, unescaped string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word(String),
    Quoted(Vec<u8>),
}

impl Token {
    pub fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) => Some(w),
            Token::Quoted(_) => None,
        }
    }
}

/// Parses a catalogue file; panics with the line number on any format error.
pub fn parse(file: &str, text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut category = String::new();
    let mut current: Option<Case> = None;
    let finish = |current: &mut Option<Case>, cases: &mut Vec<Case>| {
        if let Some(case) = current.take() {
            let at = format!("{file}:{} ({})", case.line, case.name);
            assert!(!case.name.is_empty(), "{at}: a case without a name");
            assert!(!case.input.is_empty(), "{at}: a case without input");
            assert!(!case.expect.is_empty(), "{at}: a case without expect");
            assert!(!case.why.is_empty(), "{at}: a case without why");
            assert!(!case.category.is_empty(), "{at}: a case before the first === category");
            assert!(cases.iter().all(|c| c.name != case.name), "{at}: duplicate name");
            cases.push(case);
        }
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        assert!(line.trim_end() == line, "{file}:{n}: trailing whitespace (write \\s or \\x20)");
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            finish(&mut current, &mut cases);
            continue;
        }
        if let Some(name) = line.strip_prefix("=== ") {
            finish(&mut current, &mut cases);
            category = name.to_owned();
            continue;
        }
        let (key, value) = line.split_once(':').unwrap_or_else(|| panic!("{file}:{n}: not `key: value`: {line:?}"));
        let value = value.strip_prefix(' ').unwrap_or(value);
        let case = current.get_or_insert_with(|| Case {
            name: String::new(),
            category: category.clone(),
            input: Vec::new(),
            expect: Vec::new(),
            expect_text: String::new(),
            why: String::new(),
            known: None,
            fields: Vec::new(),
            line: n,
        });
        match key {
            "name" => {
                assert!(case.name.is_empty(), "{file}:{n}: a second name (a blank line is missing?)");
                case.name = value.to_owned();
            }
            "input" => case.input.extend(unescape(value).unwrap_or_else(|e| panic!("{file}:{n}: {e}"))),
            "expect" => {
                assert!(case.expect.is_empty(), "{file}:{n}: a second expect");
                case.expect = tokens(value).unwrap_or_else(|e| panic!("{file}:{n}: {e}"));
                case.expect_text = value.to_owned();
            }
            "why" => {
                if !case.why.is_empty() {
                    case.why.push(' ');
                }
                case.why.push_str(value);
            }
            "known" => {
                let known = case.known.get_or_insert_with(String::new);
                if !known.is_empty() {
                    known.push(' ');
                }
                known.push_str(value);
            }
            other => case.fields.push((other.to_owned(), value.to_owned())),
        }
    }
    finish(&mut current, &mut cases);
    cases
}

/// Expands the escapes of an `input` value: `\r \n \t \s \0 \\ \{ \} \"` and `\xHH`, and
/// `{text*N}` (text, itself escaped, repeated N times).
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                let c = *bytes.get(i + 1).ok_or("a lone backslash at the end")?;
                i += 2;
                match c {
                    b'r' => out.push(b'\r'),
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b's' => out.push(b' '),
                    b'0' => out.push(0),
                    b'\\' | b'{' | b'}' | b'"' => out.push(c),
                    b'x' => {
                        let hex = s.get(i..i + 2).ok_or("\\x needs two hex digits")?;
                        out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad \\x{hex}"))?);
                        i += 2;
                    }
                    other => return Err(format!("unknown escape \\{}", other as char)),
                }
            }
            b'{' => {
                // The matching `}`: the first one not escaped.
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'}' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let inner = s.get(i + 1..j).ok_or("an unclosed {")?;
                let (text, count) = inner.rsplit_once('*').ok_or("{...} needs *N")?;
                let count: usize = count.parse().map_err(|_| format!("bad repeat count {count:?}"))?;
                let unit = unescape(text)?;
                for _ in 0..count {
                    out.extend_from_slice(&unit);
                }
                i = j + 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Splits an `expect` value into words and quoted strings (escapes as in `input`).
pub fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => i += 1,
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let inner = s.get(i + 1..j).ok_or("an unclosed quote")?;
                out.push(Token::Quoted(unescape(inner)?));
                i = j + 1;
            }
            _ => {
                // A word runs to the next space outside quotes (`text:"a b"` is one word).
                let mut j = i;
                let mut quoted = false;
                while j < bytes.len() && (quoted || bytes[j] != b' ') {
                    match bytes[j] {
                        b'\\' if quoted => j += 1,
                        b'"' => quoted = !quoted,
                        _ => {}
                    }
                    j += 1;
                }
                let word = s.get(i..j.min(s.len())).ok_or("an unclosed quote")?;
                if quoted {
                    return Err("an unclosed quote".into());
                }
                out.push(Token::Word(word.to_owned()));
                i = j;
            }
        }
    }
    Ok(out)
}

/// Shows bytes as a catalogue would write them.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'{' => out.push_str("\\{"),
            b'}' => out.push_str("\\}"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// What the server must answer: the responses in order, each with its body when given, and
/// whether the session then closes on its own (`close`) or waits for another request (`keep`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerExpect {
    pub responses: Vec<(u16, Option<Vec<u8>>)>,
    pub close: bool,
}

impl ServerExpect {
    pub fn parse(tokens: &[Token]) -> Result<ServerExpect, String> {
        let mut responses: Vec<(u16, Option<Vec<u8>>)> = Vec::new();
        let mut close = None;
        for t in tokens {
            if close.is_some() {
                return Err("nothing may follow close/keep".into());
            }
            match t {
                Token::Word(w) if w == "close" => close = Some(true),
                Token::Word(w) if w == "keep" => close = Some(false),
                Token::Word(w) => responses.push((w.parse().map_err(|_| format!("not a status: {w}"))?, None)),
                Token::Quoted(body) => {
                    let last = responses.last_mut().ok_or("a body before any status")?;
                    if last.1.is_some() {
                        return Err("two bodies for one status".into());
                    }
                    last.1 = Some(body.clone());
                }
            }
        }
        Ok(ServerExpect { responses, close: close.ok_or("expect must end with close or keep")? })
    }

    /// Whether an outcome (statuses with bodies, and the close) meets this expectation.
    pub fn matches(&self, responses: &[(u16, Vec<u8>)], close: bool) -> bool {
        close == self.close
            && responses.len() == self.responses.len()
            && responses.iter().zip(&self.responses).all(|((status, body), (want, want_body))| {
                status == want && want_body.as_ref().is_none_or(|b| b == body)
            })
    }
}

/// An outcome in the `expect` syntax, for messages.
pub fn show_server(responses: &[(u16, Vec<u8>)], close: bool) -> String {
    let mut out = String::new();
    for (status, body) in responses {
        out.push_str(&format!("{status} \"{}\" ", escape(body)));
    }
    out.push_str(if close { "close" } else { "keep" });
    out
}

/// The result of running every case of a file: the failures, and the known cases with what
/// they do now.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: usize,
    pub failures: Vec<String>,
    pub known: Vec<String>,
}

impl Report {
    /// Records one case: `actual` is `Ok(())` when it met its expectation, or what it did.
    pub fn record(&mut self, case: &Case, actual: Result<(), String>) {
        match (actual, &case.known) {
            (Ok(()), None) => self.passed += 1,
            (Err(got), None) => self.failures.push(format!(
                "{} (line {}): expected `{}`, got `{got}`\n    input: {}",
                case.name,
                case.line,
                case.expect_text,
                escape_short(&case.input)
            )),
            (Ok(()), Some(_)) => self.failures.push(format!(
                "{} (line {}): marked known but now meets `{}`: remove its known: line",
                case.name, case.line, case.expect_text
            )),
            (Err(got), Some(why)) => self.known.push(format!("{}: {got} (known: {why})", case.name)),
        }
    }

    /// Prints the known cases and panics listing every failure.
    pub fn finish(self, what: &str) {
        for k in &self.known {
            eprintln!("{what}: known deviation: {k}");
        }
        assert!(
            self.failures.is_empty(),
            "{what}: {} case(s) failed ({} passed):\n{}",
            self.failures.len(),
            self.passed,
            self.failures.join("\n")
        );
        eprintln!("{what}: {} passed, {} known", self.passed, self.known.len());
    }
}

/// `escape`, with long runs of one byte shortened to the `{x*N}` form.
pub fn escape_short(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let mut j = i;
        while j < bytes.len() && bytes[j] == bytes[i] {
            j += 1;
        }
        if j - i > 16 {
            out.push_str(&format!("{{{}*{}}}", escape(&bytes[i..=i]), j - i));
        } else {
            out.push_str(&escape(&bytes[i..j]));
        }
        i = j;
    }
    out
}

/// The number of cases per category, in file order.
pub fn per_category(cases: &[Case]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for c in cases {
        match out.iter_mut().find(|(k, _)| *k == c.category) {
            Some((_, n)) => *n += 1,
            None => out.push((c.category.clone(), 1)),
        }
    }
    out
}

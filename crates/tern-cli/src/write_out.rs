//! `-w/--write-out`: curl's format with `%{variable}`, `%%` and backslash escapes.

/// What a finished transfer reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Status of the final response; 0 when none arrived.
    pub(crate) http_code: u16,
    /// Body bytes of the final response.
    pub(crate) size_download: u64,
    /// Connections opened for this URL.
    pub(crate) num_connects: u32,
    /// Redirects followed.
    pub(crate) num_redirects: u32,
    /// The URL last fetched.
    pub(crate) url_effective: String,
    /// The final response's Content-Type.
    pub(crate) content_type: Option<String>,
    /// The exit code of this transfer.
    pub(crate) exitcode: i32,
    /// The URL could not be parsed: curl prints no `-w` output for it.
    pub(crate) malformed_url: bool,
    /// From the transfer's start to its end (`%{time_total}`).
    pub(crate) time_total: std::time::Duration,
    /// From the transfer's start to the end of its TLS handshake; zero for http and for a
    /// reused connection (`%{time_appconnect}`).
    pub(crate) time_appconnect: std::time::Duration,
}

/// Expands `format`; unknown variables expand to nothing and are returned by name.
pub(crate) fn render(format: &str, stats: &Stats) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut unknown = Vec::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().copied()) {
            ('\\', Some(e @ ('n' | 'r' | 't' | '\\'))) => {
                chars.next();
                out.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    _ => '\\',
                });
            }
            ('%', Some('%')) => {
                chars.next();
                out.push('%');
            }
            ('%', Some('{')) => {
                chars.next();
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                match variable(&name, stats) {
                    Some(value) => out.push_str(&value),
                    None => unknown.push(name),
                }
            }
            _ => out.push(c),
        }
    }
    (out, unknown)
}

fn variable(name: &str, s: &Stats) -> Option<String> {
    Some(match name {
        "http_code" | "response_code" => format!("{:03}", s.http_code),
        "size_download" => s.size_download.to_string(),
        "num_connects" => s.num_connects.to_string(),
        "num_redirects" => s.num_redirects.to_string(),
        "url_effective" => s.url_effective.clone(),
        "content_type" => s.content_type.clone().unwrap_or_default(),
        "exitcode" => s.exitcode.to_string(),
        // Seconds with microseconds, as curl prints them.
        "time_total" => format!("{:.6}", s.time_total.as_secs_f64()),
        "time_appconnect" => format!("{:.6}", s.time_appconnect.as_secs_f64()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use super::*;

    #[test]
    fn expands_variables_and_escapes() {
        let stats = Stats {
            http_code: 200,
            size_download: 12,
            num_connects: 1,
            num_redirects: 3,
            url_effective: "http://h/get".into(),
            ..Stats::default()
        };
        let (out, unknown) =
            render(r"%{http_code} %{size_download} %{num_connects} %{num_redirects} %{url_effective}%%\n%{x}", &stats);
        assert_eq!(out, "200 12 1 3 http://h/get%\n");
        assert_eq!(unknown, vec!["x".to_owned()]);
        assert_eq!(render("%{http_code}", &Stats::default()).0, "000");
    }
}

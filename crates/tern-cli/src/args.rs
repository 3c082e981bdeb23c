//! Command-line arguments: curl's spelling, parsed by clap, then resolved into [`Options`]
//! (files read, data joined, headers split) before any request is made.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

use crate::data::{self, DataKind};
use crate::exit::Failure;
use tern_proto::client::TlsVersion;

/// `tern [OPTIONS] URL...`: the options are a subset of curl's, with curl's meaning.
#[derive(Parser, Debug)]
#[command(name = "tern", version, about = "Transfer a URL: a curl-compatible subset on the tern HTTP engine")]
#[command(args_override_self = true)]
#[command(
    override_usage = "tern [OPTIONS] URL...\n       tern demo [--quiet]\n       tern serve [--port N] [--bind ADDR] [DIR]"
)]
#[command(after_help = SUBCOMMANDS)]
struct Args {
    /// URLs to fetch, in order, over one client (and one keep-alive connection where possible).
    #[arg(required = true, value_name = "URL")]
    urls: Vec<String>,
    /// Request method to use instead of GET, POST (with -d) or HEAD (with -I).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    request: Option<String>,
    /// Extra header 'Name: value'; 'Name:' removes a header tern would send, 'Name;' sends it empty.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    header: Vec<String>,
    /// POST data, as application/x-www-form-urlencoded; @FILE reads a file without CR and LF.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    data: Vec<String>,
    /// POST data sent exactly as given; @FILE reads a file unchanged.
    #[arg(long = "data-binary", value_name = "DATA")]
    data_binary: Vec<String>,
    /// POST data without the @FILE interpretation.
    #[arg(long = "data-raw", value_name = "DATA")]
    data_raw: Vec<String>,
    /// Credentials 'user:password'.
    #[arg(short = 'u', long = "user", value_name = "USER:PASSWORD")]
    user: Option<String>,
    /// Send Basic credentials with every request (the default with -u).
    #[arg(long)]
    basic: bool,
    /// Answer the server's Digest challenge.
    #[arg(long)]
    digest: bool,
    /// Send no credentials until the server asks, then answer its challenge (Basic or Digest).
    #[arg(long)]
    anyauth: bool,
    /// Follow redirects.
    #[arg(short = 'L', long)]
    location: bool,
    /// Most redirects to follow with -L; -1 for no limit.
    #[arg(long = "max-redirs", value_name = "NUM", default_value_t = 50, allow_negative_numbers = true)]
    max_redirs: i64,
    /// Send HEAD and print the response head.
    #[arg(short = 'I', long)]
    head: bool,
    /// Print the response heads before the body.
    #[arg(short = 'i', long)]
    include: bool,
    /// Write the body to FILE instead of stdout (one -o per URL, in order).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Vec<PathBuf>,
    /// No progress bar and no error messages.
    #[arg(short = 's', long)]
    silent: bool,
    /// With -s, still print error messages.
    #[arg(short = 'S', long = "show-error")]
    show_error: bool,
    /// Print the connection's events and both heads on stderr.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Ask for a byte range (Range: bytes=RANGE), e.g. 0-499.
    #[arg(short = 'r', long, value_name = "RANGE")]
    range: Option<String>,
    /// Seconds allowed for each URL's whole transfer, redirects included.
    #[arg(short = 'm', long = "max-time", value_name = "SECONDS")]
    max_time: Option<f64>,
    /// Seconds allowed for each connect (default 300).
    #[arg(long = "connect-timeout", value_name = "SECONDS")]
    connect_timeout: Option<f64>,
    /// Exit with 22 and print no body when the final status is 400 or more.
    #[arg(short = 'f', long)]
    fail: bool,
    /// User-Agent to send; an empty string sends none.
    #[arg(short = 'A', long = "user-agent", value_name = "NAME")]
    user_agent: Option<String>,
    /// Print FORMAT after each transfer: %{http_code}, %{size_download}, %{num_connects},
    /// %{num_redirects}, %{url_effective}, %{content_type}, %{exitcode}, %{time_appconnect},
    /// %{time_total}; @FILE reads the format from a file.
    #[arg(short = 'w', long = "write-out", value_name = "FORMAT")]
    write_out: Option<String>,
    /// CA certificates (PEM, any number, or one DER) to verify the server with, instead of
    /// the built-in Mozilla roots.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Do not verify the server's certificate (its handshake signature still is).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Client certificate chain (PEM or DER), for mutual TLS; needs --key.
    #[arg(short = 'E', long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Client private key (PEM or DER: PKCS#8, SEC1 or PKCS#1).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Use TLS 1.2 or later (the default: tern offers 1.2 and 1.3).
    #[arg(long = "tlsv1.2")]
    tlsv1_2: bool,
    /// Use TLS 1.3 only.
    #[arg(long = "tlsv1.3")]
    tlsv1_3: bool,
    /// Highest TLS version to use: 1.2 or 1.3.
    #[arg(long = "tls-max", value_name = "VERSION")]
    tls_max: Option<String>,
}

/// The subcommands, for `--help`: selected by a first argument that is exactly their name.
const SUBCOMMANDS: &str = "\
Subcommands (a first argument `demo` or `serve`; fetch a host of that name as http://demo):
  tern demo [--quiet]
          Start a tern server on a free loopback port and take tern's client on a checked tour
          of it (GET, POST, chunked upload and download, redirect, Basic and Digest auth,
          keep-alive, WebSocket echo), printing an ESP-IDF style event log and one line per
          step. --quiet prints only those lines. Exits with 1 if any step fails.
  tern serve [--port N] [--bind ADDR] [--tls CERT KEY] [DIR]
          Serve DIR (default .) on ADDR (default 127.0.0.1) port N (default 8080; 0 picks a
          free one) until Ctrl-C: GET / lists it, GET /NAME downloads, POST /upload/NAME
          stores the body, POST /delete/NAME deletes. --tls serves HTTPS with that
          certificate chain and key (PEM or DER).";

/// How credentials are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthChoice {
    /// Pre-emptive Basic (`-u` alone, `--basic`).
    Basic,
    /// Wait for a Digest challenge (`--digest`).
    Digest,
    /// Wait for any challenge (`--anyauth`).
    Any,
}

/// A `-H` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderArg {
    /// `Name: value` (or `Name;`, with an empty value).
    Set(String, String),
    /// `Name:`: do not send the header.
    Remove(String),
}

/// Everything a run needs, resolved from the arguments.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) urls: Vec<String>,
    pub(crate) method: Option<String>,
    pub(crate) head: bool,
    pub(crate) headers: Vec<HeaderArg>,
    pub(crate) data: Option<Vec<u8>>,
    pub(crate) user: Option<(String, String)>,
    pub(crate) auth: AuthChoice,
    pub(crate) location: bool,
    /// `None`: no limit.
    pub(crate) max_redirs: Option<u32>,
    pub(crate) include: bool,
    pub(crate) outputs: Vec<PathBuf>,
    pub(crate) silent: bool,
    pub(crate) show_error: bool,
    pub(crate) verbose: bool,
    pub(crate) range: Option<String>,
    pub(crate) max_time: Option<Duration>,
    pub(crate) connect_timeout: Duration,
    pub(crate) fail: bool,
    pub(crate) user_agent: Option<String>,
    pub(crate) write_out: Option<String>,
    pub(crate) cacert: Option<Vec<u8>>,
    pub(crate) insecure: bool,
    pub(crate) cert: Option<Vec<u8>>,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) tls_version: TlsVersion,
}

/// The TLS versions curl's flags allow: `--tlsv1.2` is a minimum (tern's default anyway),
/// `--tlsv1.3` a minimum of 1.3, `--tls-max` a maximum.
fn tls_version(min_1_3: bool, max: Option<&str>) -> Result<TlsVersion, Failure> {
    match (min_1_3, max) {
        (_, Some(v)) if v != "1.2" && v != "1.3" => {
            Err(Failure::new(2, format!("--tls-max {v}: tern speaks TLS 1.2 and 1.3 only")))
        }
        (true, Some("1.2")) => Err(Failure::new(35, "--tlsv1.3 with --tls-max 1.2 leaves no TLS version to use")),
        (true, _) => Ok(TlsVersion::Tls13),
        (false, Some("1.2")) => Ok(TlsVersion::Tls12),
        (false, _) => Ok(TlsVersion::Any),
    }
}

/// curl's connect timeout when none is given.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(300);

impl Options {
    /// Parses the process's arguments; clap prints help, version and usage errors itself
    /// (usage errors exit with 2, curl's "failed to initialize").
    pub(crate) fn from_env() -> Result<Options, Failure> {
        let matches = Args::command().get_matches();
        let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        Options::resolve(args, &matches)
    }

    fn resolve(args: Args, matches: &ArgMatches) -> Result<Options, Failure> {
        let data = data::assemble(&data_in_order(&args, matches))?;
        let user = args.user.map(|u| match u.split_once(':') {
            Some((user, pass)) => (user.to_owned(), pass.to_owned()),
            None => (u, String::new()),
        });
        let auth = if args.digest {
            AuthChoice::Digest
        } else if args.anyauth {
            AuthChoice::Any
        } else {
            AuthChoice::Basic
        };
        let write_out = match args.write_out {
            Some(w) => match w.strip_prefix('@') {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| Failure::new(26, format!("cannot read the write-out format from {path}: {e}")))?,
                ),
                None => Some(w),
            },
            None => None,
        };
        Ok(Options {
            urls: args.urls.into_iter().map(with_scheme).collect(),
            method: args.request,
            head: args.head,
            headers: args.header.iter().filter_map(|h| parse_header(h)).collect(),
            data,
            user,
            auth,
            location: args.location,
            max_redirs: u32::try_from(args.max_redirs).ok(),
            include: args.include,
            outputs: args.output,
            silent: args.silent,
            show_error: args.show_error,
            verbose: args.verbose,
            range: args.range,
            max_time: args.max_time.map(|s| seconds("--max-time", s)).transpose()?,
            connect_timeout: args
                .connect_timeout
                .map(|s| seconds("--connect-timeout", s))
                .transpose()?
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            fail: args.fail,
            user_agent: args.user_agent,
            write_out,
            cacert: read_file(args.cacert, 77, "CA certificate")?,
            insecure: args.insecure,
            cert: read_file(args.cert, 58, "client certificate")?,
            key: read_file(args.key, 58, "private key")?,
            tls_version: tls_version(args.tlsv1_3, args.tls_max.as_deref())?,
        })
    }

    /// Whether error messages are printed.
    pub(crate) fn show_errors(&self) -> bool {
        !self.silent || self.show_error
    }
}

/// A URL without a scheme is an http URL, as in curl.
fn with_scheme(url: String) -> String {
    if url.contains("://") { url } else { format!("http://{url}") }
}

/// The -d, --data-binary and --data-raw arguments in command-line order.
fn data_in_order<'a>(args: &'a Args, matches: &ArgMatches) -> Vec<(DataKind, &'a str)> {
    let mut parts: Vec<(usize, DataKind, &str)> = Vec::new();
    for (id, kind, values) in [
        ("data", DataKind::Ascii, &args.data),
        ("data_binary", DataKind::Binary, &args.data_binary),
        ("data_raw", DataKind::Raw, &args.data_raw),
    ] {
        let indices = matches.indices_of(id).into_iter().flatten();
        parts.extend(indices.zip(values).map(|(i, v)| (i, kind, v.as_str())));
    }
    parts.sort_by_key(|(i, _, _)| *i);
    parts.into_iter().map(|(_, kind, v)| (kind, v)).collect()
}

/// curl's -H forms: `Name: value`, `Name:` (remove) and `Name;` (empty value). Anything else
/// is ignored, as curl does.
pub(crate) fn parse_header(arg: &str) -> Option<HeaderArg> {
    if let Some((name, value)) = arg.split_once(':') {
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return None;
        }
        return Some(if value.is_empty() {
            HeaderArg::Remove(name.to_owned())
        } else {
            HeaderArg::Set(name.to_owned(), value.to_owned())
        });
    }
    let name = arg.strip_suffix(';')?.trim();
    (!name.is_empty()).then(|| HeaderArg::Set(name.to_owned(), String::new()))
}

fn seconds(option: &str, secs: f64) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| Failure::new(2, format!("{option}: expected a proper number of seconds, got {secs}")))
}

fn read_file(path: Option<PathBuf>, code: i32, what: &str) -> Result<Option<Vec<u8>>, Failure> {
    path.map(|p| std::fs::read(&p).map_err(|e| Failure::new(code, format!("cannot read {what} {}: {e}", p.display()))))
        .transpose()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use super::*;

    fn parse(argv: &[&str]) -> Options {
        let matches = Args::command().try_get_matches_from(argv).unwrap();
        let args = Args::from_arg_matches(&matches).unwrap();
        Options::resolve(args, &matches).unwrap()
    }

    #[test]
    fn header_forms_follow_curl() {
        assert_eq!(parse_header("X-A: 1"), Some(HeaderArg::Set("X-A".into(), "1".into())));
        assert_eq!(parse_header("Accept:"), Some(HeaderArg::Remove("Accept".into())));
        assert_eq!(parse_header("X-Empty;"), Some(HeaderArg::Set("X-Empty".into(), String::new())));
        assert_eq!(parse_header("nonsense"), None);
    }

    #[test]
    fn data_arguments_join_in_command_line_order() {
        let o = parse(&["tern", "--data-binary", "b", "-d", "a", "--data-raw", "@c", "-d", "d", "http://h/"]);
        assert_eq!(o.data.as_deref(), Some(&b"b&a&@c&d"[..]));
    }

    #[test]
    fn combined_short_flags_and_repeats_parse() {
        let o = parse(&["tern", "-sSfL", "-s", "--max-redirs", "-1", "-u", "user", "http://h/"]);
        assert!(o.silent && o.show_error && o.fail && o.location);
        assert_eq!(o.max_redirs, None);
        assert_eq!(o.user, Some(("user".into(), String::new())));
        assert_eq!(o.auth, AuthChoice::Basic);
    }
}

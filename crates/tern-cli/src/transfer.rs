//! One run: every URL over one client (so one keep-alive connection where the server allows
//! it), each followed through its redirects, with curl's exit code for the last one.
//!
//! Redirects are followed here rather than by the engine (`disable_auto_redirect` plus
//! `set_redirection`), so that each response's fate is known before its body arrives, the
//! method changes as curl changes it, `--max-redirs` counts as curl counts, and a redirect
//! without a Location is an ordinary final response, as in curl. Authentication challenges
//! are answered by the engine inside each `perform`.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tern_proto::client::auth::AuthType;
use tern_proto::client::url::Url;
use tern_proto::client::{ClientConfig, ClientError, DEFAULT_USER_AGENT, TlsConfig};
use tern_proto::{Limits, Method};

use crate::args::{AuthChoice, HeaderArg, Options};
use crate::exit::{self, Context, Failure};
use crate::output::Output;
use crate::progress::Progress;
use crate::session::{Handler, Policy, Session, wire_tap};
use crate::write_out::{self, Stats};

/// The std client with the CLI's event handler.
type Client<'a> = tern_std::Client<'a, Handler>;

/// curl waits for data as long as it takes; the engine wants a bound per read and write.
const IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Fetches every URL; returns the exit code of the last one, as curl does.
pub(crate) fn run(opts: &Options) -> i32 {
    let policy =
        Policy { follow: opts.location, fail: opts.fail, include: opts.include || opts.head, verbose: opts.verbose };
    let session = Rc::new(RefCell::new(Session::new(policy)));
    let mut client: Option<Client<'_>> = None;
    let mut code = 0;
    for (i, url) in opts.urls.iter().enumerate() {
        let out = opts.outputs.get(i).map_or_else(Output::stdout, |path| Output::file(path.clone()));
        let progress = (out.is_file() && !opts.silent && std::io::stderr().is_terminal()).then(Progress::new);
        session.borrow_mut().start_url(out, progress);
        let mut stats = Stats::default();
        let result = fetch(&mut client, opts, url, &session, &mut stats);
        let finished = session.borrow_mut().finish_url(stats.http_code != 0);
        let result = result.and_then(|()| {
            finished.map_err(|e| Failure::new(23, format!("Failure writing output to destination: {e}")))
        });
        code = result.as_ref().err().map_or(0, |f| f.code);
        if let Some(format) = opts.write_out.as_ref().filter(|_| !stats.malformed_url) {
            stats.exitcode = code;
            let (text, unknown) = write_out::render(format, &stats);
            for name in unknown {
                eprintln!("tern: unknown --write-out variable: '{name}'");
            }
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
        }
        if let Err(failure) = result
            && opts.show_errors()
        {
            eprintln!("{}", failure.line());
        }
    }
    code
}

/// Fetches one URL, redirects included, filling `stats` whatever happens.
fn fetch<'a>(
    slot: &mut Option<Client<'a>>,
    opts: &'a Options,
    url: &'a str,
    session: &Rc<RefCell<Session>>,
    stats: &mut Stats,
) -> Result<(), Failure> {
    let start = Instant::now();
    stats.url_effective = url.to_owned();
    let failure = |e: &ClientError, at: &str| exit::from_client(e, &context(at, start, 0));
    let created = match slot {
        Some(client) => client.set_url(url).map(|()| client).map_err(tern_std::Error::Client),
        None => new_client(opts, url, session).map(|client| slot.insert(client)),
    };
    let client = created.map_err(|e| {
        stats.malformed_url =
            matches!(e.client_error(), Some(ClientError::Url(u)) if *u != tern_proto::client::url::UrlError::UnsupportedScheme);
        exit::from_std(&e, &context(url, start, 0))
    })?;
    prepare(client, opts).map_err(|e| failure(&e, url))?;
    let connects = client.connects();
    let mut redirects = 0;
    let result = follow(client, opts, session, start, &mut redirects);
    *stats = Stats {
        http_code: client.status_code().map_or(0, |s| s.as_u16()),
        size_download: session.borrow().size_download(),
        num_connects: client.connects().wrapping_sub(connects),
        num_redirects: redirects,
        url_effective: client.url_str().to_owned(),
        content_type: client.response_header("Content-Type").map(|v| String::from_utf8_lossy(v).into_owned()),
        exitcode: 0,
        malformed_url: false,
        time_total: start.elapsed(),
        // curl's time_appconnect: the end of the TLS handshake, 0 for plain http; for a
        // transfer that reused a connection, 0 too (nothing was connected).
        time_appconnect: match session.borrow().connected_at() {
            Some(at) if client.url_str().starts_with("https:") && at >= start => at.duration_since(start),
            _ => std::time::Duration::ZERO,
        },
    };
    if client.is_persistent_connection() {
        let (host, _) = endpoint(client.url_str());
        session.borrow().note(&format!("Connection to host {host} left intact"));
    }
    result?;
    if opts.fail && stats.http_code >= 400 {
        return Err(Failure::new(22, format!("The requested URL returned error: {}", stats.http_code)));
    }
    Ok(())
}

/// Runs requests until one is not a redirect to follow. `redirects` counts what curl's
/// `num_redirects` counts: redirects followed and requests repeated with credentials. Only the
/// redirects count against `--max-redirs` (curl counts both).
fn follow<'a>(
    client: &mut Client<'a>,
    opts: &'a Options,
    session: &Rc<RefCell<Session>>,
    start: Instant,
    redirects: &mut u32,
) -> Result<(), Failure> {
    let mut followed = 0;
    // The method as curl sees it: -X only renames it on the wire.
    let mut method = if opts.head {
        Method::Head
    } else if opts.data.is_some() {
        Method::Post
    } else {
        Method::Get
    };
    loop {
        let (host, port) = endpoint(client.url_str());
        let cx =
            |s: &Session| Context { host: host.clone(), port, elapsed: start.elapsed(), received: s.size_download() };
        let remaining = match opts.max_time {
            Some(max) => match max.checked_sub(start.elapsed()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => {
                    return Err(exit::from_client(
                        &ClientError::Timeout(tern_proto::client::Stage::Connect),
                        &cx(&session.borrow()),
                    ));
                }
            },
            None => None,
        };
        client.set_request_timeout(remaining);
        session.borrow_mut().start_request(&host, port);
        if let Err(e) = request(client) {
            // tern-std can leave the engine mid-request (a resolve failure, https without
            // TLS); closing brings it back to idle for the next URL.
            let _ = client.close();
            return Err(exit::from_std(&e, &cx(&session.borrow())));
        }
        session.borrow_mut().end_request();
        *redirects += session.borrow().auth_retries();
        if !session.borrow().follows_redirect() {
            return Ok(());
        }
        if let Some(max) = opts.max_redirs.filter(|max| followed >= *max) {
            return Err(Failure::new(47, format!("Maximum ({max}) redirects followed")));
        }
        let status = client.status_code().map_or(0, |s| s.as_u16());
        client.set_redirection().map_err(|e| exit::from_client(&e, &cx(&session.borrow())))?;
        *redirects += 1;
        followed += 1;
        // curl: a 303 turns anything but HEAD into a GET, a 301 or 302 turns a POST into a
        // GET; the body is dropped, but a method given with -X is still sent.
        let to_get = match status {
            303 => method != Method::Head,
            301 | 302 => method == Method::Post,
            _ => false,
        };
        // Always set: curl's rules decide, not the ones set_redirection applies by itself.
        let next = if to_get { custom_method(opts).unwrap_or(Method::Get) } else { client.method() };
        client.set_method(next);
        if to_get {
            method = Method::Get;
            client.set_post_field(None).map_err(|e| exit::from_client(&e, &cx(&session.borrow())))?;
            apply_headers(client, opts).map_err(|e| exit::from_client(&e, &cx(&session.borrow())))?;
            // Without a body there is nothing to send chunked.
            client.delete_header("Transfer-Encoding");
        }
        session.borrow().note(&format!("Issue another request to this URL: '{}'", client.url_str()));
    }
}

/// One request and its response, authentication challenges answered. A body to be sent
/// chunked (`-H 'Transfer-Encoding: chunked'`, as curl does) goes through the streaming calls,
/// which frame it: the engine's `perform` always sends its post field with Content-Length.
/// That flow answers no challenges.
fn request(client: &mut Client<'_>) -> Result<(), tern_std::Error> {
    let chunked = client.get_header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
    match client.post_field() {
        Some(body) if chunked => {
            client.open(None)?;
            client.write(body)?;
            client.fetch_headers()?;
            client.flush_response()
        }
        _ => client.perform(),
    }
}

/// A client for the first URL, with the CLI's handler and wire tap.
fn new_client<'a>(
    opts: &'a Options,
    url: &'a str,
    session: &Rc<RefCell<Session>>,
) -> Result<Client<'a>, tern_std::Error> {
    let config = ClientConfig {
        url: Some(url),
        // Set by `prepare`, after Host, as curl orders them.
        user_agent: "",
        timeout: IDLE_TIMEOUT,
        disable_auto_redirect: true,
        buffer_size: 32 * 1024,
        buffer_size_tx: 8 * 1024,
        store_size: 16 * 1024,
        limits: Limits {
            max_header_section_len: 16 * 1024,
            max_trailer_section_len: 16 * 1024,
            max_body_len: u64::MAX,
            ..Limits::default()
        },
        tls: TlsConfig {
            ca_cert: opts.cacert.as_deref(),
            client_cert: opts.cert.as_deref(),
            client_key: opts.key.as_deref(),
            insecure: opts.insecure,
            tls_version: opts.tls_version,
            ..TlsConfig::default()
        },
        ..ClientConfig::default()
    };
    let mut client = tern_std::Client::with_handler(&config, Handler(session.clone()))?;
    client.set_wire_tap(Some(wire_tap(session.clone())));
    client.set_connect_timeout(Some(opts.connect_timeout));
    Ok(client)
}

/// Everything a URL's first request carries: method, body, headers, credentials. Set again
/// for every URL, since a redirect may have changed the method and another origin drops
/// credentials.
fn prepare<'a>(client: &mut Client<'a>, opts: &'a Options) -> Result<(), ClientError> {
    let method = match &opts.method {
        Some(token) => Method::from_token(token)?,
        None if opts.head => Method::Head,
        None if opts.data.is_some() => Method::Post,
        None => Method::Get,
    };
    client.set_method(method);
    client.set_post_field(opts.data.as_deref())?;
    let user_sets = |name: &str| {
        opts.headers.iter().any(|h| match h {
            HeaderArg::Set(n, _) | HeaderArg::Remove(n) => n.eq_ignore_ascii_case(name),
        })
    };
    // curl's order: Host (set with the URL), User-Agent, Accept, then the -H headers.
    client.delete_header("User-Agent");
    client.delete_header("Accept");
    let user_agent = opts.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
    if !user_agent.is_empty() {
        client.set_header("User-Agent", user_agent)?;
    }
    if !user_sets("Accept") {
        client.set_header("Accept", "*/*")?;
    }
    if let Some(range) = &opts.range {
        client.set_header("Range", &format!("bytes={range}"))?;
    }
    apply_headers(client, opts)?;
    if let Some((user, password)) = &opts.user {
        client.set_username(Some(user))?;
        client.set_password(Some(password))?;
    }
    client.set_authtype(match opts.auth {
        AuthChoice::Basic => AuthType::Basic,
        AuthChoice::Digest => AuthType::Digest,
        AuthChoice::Any => AuthType::None,
    });
    Ok(())
}

/// The method given with `-X`, if it is a valid token.
fn custom_method(opts: &Options) -> Option<Method<'_>> {
    opts.method.as_deref().and_then(|token| Method::from_token(token).ok())
}

/// The `-H` headers, in order.
fn apply_headers(client: &mut Client<'_>, opts: &Options) -> Result<(), ClientError> {
    for header in &opts.headers {
        match header {
            HeaderArg::Set(name, value) => client.set_header(name, value)?,
            HeaderArg::Remove(name) => {
                client.delete_header(name);
            }
        }
    }
    Ok(())
}

/// Host and port of a URL, for messages.
fn endpoint(url: &str) -> (String, u16) {
    Url::parse(url).map_or_else(|_| (String::new(), 0), |u| (u.host.to_owned(), u.port_or_default()))
}

fn context(url: &str, start: Instant, received: u64) -> Context {
    let (host, port) = endpoint(url);
    Context { host, port, elapsed: start.elapsed(), received }
}

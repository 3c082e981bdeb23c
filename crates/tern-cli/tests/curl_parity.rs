//! `tern` against `curl` on the same requests to a local httpbin: same exit code, same status
//! (through `-w %{http_code}`), same body bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;

use common::{assert_same, closed_port, curl, temp_path, tern, without_date};
use tern_testkit::HttpBin;

/// A fixed User-Agent, so bodies that echo the request are the same for both.
const UA: &str = "tern-cli-test/1";

/// `-w` showing what both must agree on.
const W: &str = "\n%{http_code} %{size_download} %{num_redirects} %{url_effective}";

#[test]
fn statuses_and_fixed_bodies_match_curl() {
    let bin = HttpBin::start();
    for path in
        ["/status/200", "/status/201", "/status/204", "/status/404", "/status/418", "/status/500", "/status/304"]
    {
        assert_same(&["-sS", "-w", W, &bin.url(path)]);
    }
    for path in ["/html", "/robots.txt", "/xml", "/json", "/deny", "/encoding/utf8", "/bytes/0"] {
        assert_same(&["-sS", "-w", W, &bin.url(path)]);
    }
    // Random bytes with a fixed seed: Content-Length and (stream-bytes) chunked.
    for path in ["/bytes/1000?seed=7", "/bytes/65536?seed=3", "/stream-bytes/200000?seed=5&chunk_size=977"] {
        let run = assert_same(&["-sS", "-w", "%{http_code} %{size_download}", &bin.url(path)]);
        assert!(run.stdout.len() > 1000, "{path}");
    }
    // The request echoed back, with the same User-Agent.
    for path in ["/get", "/get?a=1&b=two", "/anything/x/y", "/headers", "/user-agent"] {
        assert_same(&["-sS", "-A", UA, "-w", W, &bin.url(path)]);
    }
}

#[test]
fn redirects_match_curl() {
    let bin = HttpBin::start();
    // Without -L the redirect itself is the answer, body and all.
    assert_same(&["-sS", "-w", W, &bin.url("/redirect/1")]);
    assert_same(&["-sS", "-w", W, &bin.url("/redirect-to?url=/get&status_code=307")]);
    for path in ["/redirect/3", "/relative-redirect/2", "/absolute-redirect/2", "/redirect-to?url=/get&status_code=308"]
    {
        let run = assert_same(&["-sS", "-L", "-A", UA, "-w", W, &bin.url(path)]);
        assert!(run.text().contains("200 "), "{path}: {}", run.text());
    }
    // One redirect too many: curl's 47, nothing printed of the third redirect.
    let run = assert_same(&["-sS", "-L", "--max-redirs", "2", "-w", W, &bin.url("/redirect/3")]);
    assert_eq!(run.code, 47);
    assert_same(&["-sS", "-L", "--max-redirs", "0", "-w", W, &bin.url("/redirect/1")]);
    // A POST becomes a GET on 301, 302 and 303 and stays a POST on 307 and 308, body and all.
    for status in ["301", "302", "303", "307", "308"] {
        let url = bin.url(&format!("/redirect-to?url=/anything&status_code={status}"));
        assert_same(&["-sS", "-L", "-A", UA, "-d", "a=1&b=2", "-w", W, &url]);
    }
    // -X renames the method on the wire and keeps it across redirects; a 307 keeps the body.
    let url = bin.url("/redirect-to?url=/anything&status_code=307");
    assert_same(&["-sS", "-L", "-A", UA, "-X", "PUT", "-d", "a=1", "-w", W, &url]);
    // Redirect bodies are not printed with -L, heads are with -i.
    let run = tern(&["-sS", "-L", "-i", "-A", UA, &bin.url("/redirect/2")]);
    let curl_run = curl(&["-sS", "-L", "-i", "-A", UA, &bin.url("/redirect/2")]);
    assert_eq!(without_date(&run.stdout), without_date(&curl_run.stdout));
    assert_eq!(run.text().matches("HTTP/1.1 302 FOUND").count(), 2);
}

#[test]
fn authentication_matches_curl() {
    let bin = HttpBin::start();
    let cases: [(&[&str], &str); 10] = [
        (&["-u", "u:p"], "/basic-auth/u/p"),
        (&["--basic", "-u", "u:p"], "/basic-auth/u/p"),
        (&["-u", "u:wrong"], "/basic-auth/u/p"),
        (&[], "/basic-auth/u/p"),
        (&["-u", "u:p"], "/hidden-basic-auth/u/p"),
        (&["--anyauth", "-u", "u:p"], "/basic-auth/u/p"),
        (&["--digest", "-u", "u:p"], "/digest-auth/auth/u/p/MD5"),
        (&["--digest", "-u", "u:p"], "/digest-auth/auth/u/p/SHA-256"),
        (&["--digest", "-u", "u:wrong"], "/digest-auth/auth/u/p/MD5"),
        (&["--anyauth", "-u", "u:p"], "/digest-auth/auth/u/p/MD5"),
    ];
    for (options, path) in cases {
        let url = bin.url(path);
        let mut args = vec!["-sS", "-w", W];
        args.extend_from_slice(options);
        args.push(&url);
        assert_same(&args);
    }
    // -i shows the challenge and the answer, as curl does.
    let url = bin.url("/digest-auth/auth/u/p/MD5");
    let args = ["-sS", "-i", "--digest", "-u", "u:p", &url];
    let (t, c) = (tern(&args), curl(&args));
    let heads = |s: &str| s.lines().filter(|l| l.starts_with("HTTP/")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(heads(&t.text()), heads(&c.text()));
    assert!(t.text().ends_with("\"user\": \"u\"\n}\n"), "{}", t.text());
}

#[test]
fn request_bodies_headers_and_ranges_match_curl() {
    let bin = HttpBin::start();
    let url = bin.url("/anything");
    let file = temp_path("body.txt");
    std::fs::write(&file, b"a=1\r\nb=2\n&c=3\n").unwrap();
    let at_file = format!("@{}", file.display());
    let cases: [&[&str]; 11] = [
        &["-d", "hello=world"],
        &["-d", "a=1", "-d", "b=2", "--data-binary", "c=3"],
        &["-d", &at_file],
        &["--data-binary", &at_file],
        &["-X", "PUT", "-d", "put-body"],
        &["-X", "DELETE"],
        &["-X", "PATCH", "--data-binary", "x"],
        &["-H", "X-Custom: one two", "-H", "Accept: text/plain", "-H", "X-Empty;"],
        &["-H", "Accept:", "-H", "Content-Type: application/json", "-d", "{\"k\": 1}"],
        &["-H", "Transfer-Encoding: chunked", "-d", "chunked=yes&more=data"],
        &["-H", "Transfer-Encoding: chunked", "--data-binary", &at_file],
    ];
    for options in cases {
        let mut args = vec!["-sS", "-A", UA, "-w", W];
        args.extend_from_slice(options);
        args.push(&url);
        assert_same(&args);
    }
    std::fs::remove_file(&file).unwrap();

    // Ranges.
    let run = assert_same(&["-sS", "-r", "10-99", "-w", W, &bin.url("/range/1000")]);
    assert!(run.text().ends_with("206 90 0 ") || run.text().contains("\n206 90 0 "), "{}", run.text());
    assert_same(&["-sS", "-r", "990-", "-w", W, &bin.url("/range/1000")]);

    // HEAD: the head only.
    let url = bin.url("/get");
    let args = ["-sS", "-I", "-A", UA, &url];
    let (t, c) = (tern(&args), curl(&args));
    assert_eq!((t.code, without_date(&t.stdout)), (c.code, without_date(&c.stdout)));
    assert!(t.text().starts_with("HTTP/1.1 200 OK\r\n") && t.text().ends_with("\r\n\r\n"), "{}", t.text());
    // -i: head then body.
    let url = bin.url("/status/418");
    let args = ["-sS", "-i", "-A", UA, &url];
    let (t, c) = (tern(&args), curl(&args));
    assert_eq!((t.code, without_date(&t.stdout)), (c.code, without_date(&c.stdout)));
}

#[test]
fn chunked_streams_match_curl() {
    let bin = HttpBin::start();
    // /stream/N: chunked JSON lines; compare status and lines (each carries its own id).
    let url = bin.url("/stream/5");
    let args = ["-sS", "-w", "\n%{http_code}", &url];
    let (t, c) = (tern(&args), curl(&args));
    assert_eq!(t.code, c.code);
    let (tl, cl): (Vec<_>, Vec<_>) =
        (t.text().lines().map(str::to_owned).collect(), c.text().lines().map(str::to_owned).collect());
    assert_eq!(tl.len(), 7, "five lines, an empty one, the status");
    assert_eq!(tl.len(), cl.len());
    assert_eq!(tl.last(), cl.last());
    for (i, line) in tl.iter().take(5).enumerate() {
        assert!(line.ends_with(&format!("\"id\": {i}}}")), "{line}");
    }
    // With the same User-Agent the lines are the same bytes.
    assert_same(&["-sS", "-A", UA, &bin.url("/stream/20")]);
    assert_same(&["-sS", "-w", W, &bin.url("/drip?numbytes=50&duration=0.5&code=200")]);
}

#[test]
fn failures_exit_with_curls_codes() {
    let bin = HttpBin::start();
    // -f: 22 and no body for statuses from 400; heads still shown with -i.
    for path in ["/status/404", "/status/500", "/status/418", "/status/200"] {
        assert_same(&["-sS", "-f", "-w", W, &bin.url(path)]);
    }
    let run = assert_same(&["-s", "-f", &bin.url("/status/404")]);
    assert_eq!(run.code, 22);
    let url = bin.url("/status/404");
    let (t, c) = (tern(&["-s", "-f", "-i", &url]), curl(&["-s", "-f", "-i", &url]));
    assert_eq!((t.code, without_date(&t.stdout)), (c.code, without_date(&c.stdout)));
    // Nothing listens: 7.
    let closed = format!("http://127.0.0.1:{}/", closed_port());
    assert_eq!(assert_same(&["-sS", "-w", W, &closed]).code, 7);
    // No such host (no network needed: .invalid never resolves): 6.
    assert_eq!(assert_same(&["-sS", "-w", W, "http://nonexistent.invalid/"]).code, 6);
    // Whole-transfer deadline: 28.
    let run = assert_same(&["-sS", "-m", "1", "-w", "%{http_code}", &bin.url("/delay/3")]);
    assert_eq!(run.code, 28);
    assert!(run.stderr.starts_with("tern: (28) "), "{}", run.stderr);
    // The deadline spans redirects.
    assert_eq!(assert_same(&["-s", "-L", "-m", "1", &bin.url("/redirect-to?url=/delay/3")]).code, 28);
    // A scheme neither supports: 1; a malformed URL: 3.
    assert_eq!(assert_same(&["-sS", "-w", W, "gopherx://127.0.0.1/"]).code, 1);
    assert_same(&["-sS", "-w", W, "http://[::1/"]);
    // The last URL decides the exit code.
    let get = bin.url("/get");
    assert_eq!(assert_same(&["-s", "-o", "/dev/null", "-o", "/dev/null", &closed, &get]).code, 0);
    assert_eq!(assert_same(&["-s", "-o", "/dev/null", "-o", "/dev/null", &get, &closed]).code, 7);
}

#[test]
fn connect_timeout_matches_curl() {
    use socket2::{Domain, SockAddr, Socket, Type};
    // A listener whose accept queue is full: the kernel drops further SYNs, so a connect hangs.
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener.bind(&SockAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let fillers: Vec<Socket> = (0..4)
        .map(|_| {
            let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            s.set_nonblocking(true).unwrap();
            let _ = s.connect(&SockAddr::from(addr));
            s
        })
        .collect();
    let url = format!("http://{addr}/");
    // -m bounds the run where the kernel answers the SYN anyway; the code is 28 either way.
    let started = std::time::Instant::now();
    let run = assert_same(&["-sS", "--connect-timeout", "1", "-m", "5", "-w", "%{http_code}", &url]);
    assert_eq!(run.code, 28);
    assert!(started.elapsed() < std::time::Duration::from_secs(12));
    drop(fillers);
}

#[test]
fn several_urls_share_one_connection_like_curl() {
    let bin = HttpBin::start();
    let (a, b, c) = (bin.url("/get"), bin.url("/status/204"), bin.url("/bytes/100?seed=1"));
    assert_same(&["-sS", "-A", UA, "-w", "\n%{http_code} %{num_connects}\n", &a, &b, &c]);
    let null = ["-o", "/dev/null"];
    let mut args = vec!["-sS", "-w", "%{http_code} %{num_connects}\n", &a, &b, &c];
    args.extend(null.iter().chain(&null).chain(&null));
    assert_eq!(assert_same(&args).text(), "200 1\n204 0\n200 0\n");
    // After -L, the next URL still reuses the connection.
    let (r, g) = (bin.url("/redirect/2"), bin.url("/get"));
    let run = assert_same(&[
        "-sS",
        "-L",
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-w",
        "%{num_connects} %{num_redirects}\n",
        &r,
        &g,
    ]);
    assert_eq!(run.text(), "1 2\n0 0\n");
}

#[test]
fn output_files_match_curl() {
    let bin = HttpBin::start();
    let url = bin.url("/bytes/50000?seed=11");
    let (tern_file, curl_file) = (temp_path("tern.bin"), temp_path("curl.bin"));
    let run = tern(&["-sS", "-o", tern_file.to_str().unwrap(), "-w", "%{http_code} %{size_download}", &url]);
    let curl_run = curl(&["-sS", "-o", curl_file.to_str().unwrap(), "-w", "%{http_code} %{size_download}", &url]);
    assert_eq!((run.code, run.text()), (curl_run.code, curl_run.text()));
    assert_eq!(run.text(), "200 50000");
    // stderr is not a terminal here: no progress bar.
    assert_eq!(run.stderr, "");
    let (t, c) = (std::fs::read(&tern_file).unwrap(), std::fs::read(&curl_file).unwrap());
    assert_eq!(t.len(), 50000);
    assert!(t == c, "files differ");
    // An empty body still creates the file; a failed connect creates none.
    let empty = temp_path("empty.bin");
    assert_eq!(tern(&["-sS", "-o", empty.to_str().unwrap(), &bin.url("/status/204")]).code, 0);
    assert_eq!(std::fs::read(&empty).unwrap(), b"");
    let none = temp_path("none.bin");
    let closed = format!("http://127.0.0.1:{}/", closed_port());
    assert_eq!(tern(&["-s", "-o", none.to_str().unwrap(), &closed]).code, 7);
    assert!(!none.exists());
    for f in [tern_file, curl_file, empty] {
        std::fs::remove_file(f).unwrap();
    }
}

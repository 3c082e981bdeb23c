//! The `file_serving` example (the `file_server` module) over loopback, driven by curl.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's interface, seen from the test crate
#[path = "../examples/file_serving.rs"]
mod file_serving;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tern_tokio::file_server::FileServerOptions;

/// The upload limit the tests use.
const MAX: u64 = 64 * 1024;

/// A fresh directory under the system's temporary one, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tern-file-serving-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("served")).unwrap();
        TempDir(path)
    }

    /// The served directory (`served/` inside, so that escapes have somewhere to land).
    fn root(&self) -> PathBuf {
        self.0.join("served")
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What curl saw.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Runs curl on `path` with `args`; the body lands in `out`.
fn curl_to(addr: SocketAddr, path: &str, args: &[&str], out: &Path) -> Reply {
    let head_file = out.with_extension("head");
    let output = Command::new("curl")
        .args(["-sS", "--path-as-is", "--max-time", "10", "-D"])
        .arg(&head_file)
        .arg("-o")
        .arg(out)
        .args(["-w", "%{http_code}"])
        .args(args)
        .arg(format!("http://127.0.0.1:{}{path}", addr.port()))
        .output()
        .expect("curl runs");
    assert!(output.status.success(), "curl failed: {}", String::from_utf8_lossy(&output.stderr));
    let status = String::from_utf8(output.stdout).unwrap().parse().unwrap();
    let head = std::fs::read_to_string(&head_file).unwrap();
    // The last head, after any `100 Continue`.
    let head = head.rsplit("HTTP/1.1 ").next().unwrap().to_owned();
    let body = std::fs::read(out).unwrap_or_default();
    let _ = std::fs::remove_file(&head_file);
    let _ = std::fs::remove_file(out);
    Reply { status, head, body }
}

fn curl(dir: &TempDir, addr: SocketAddr, path: &str, args: &[&str]) -> Reply {
    curl_to(addr, path, args, &dir.0.join("curl.out"))
}

fn md5(path: &Path) -> String {
    let output = Command::new("md5sum").arg(path).output().expect("md5sum runs");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

/// Bytes that are not all alike.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// The names in the served directory, sorted.
fn served(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir.root()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

/// Sends `request` on a raw connection and reads until the server closes it; fails when it
/// stays open.
fn answer_then_close(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", addr.port())).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("the server closes the session");
    String::from_utf8(answer).unwrap()
}

/// Runs the blocking client `f` against a server on a fresh directory, then stops it.
async fn with_server(f: impl FnOnce(SocketAddr, &TempDir) + Send + 'static) {
    let dir = TempDir::new();
    let options = FileServerOptions { max_file_size: MAX, chunk_size: 4096 };
    let server = file_serving::start(file_serving::config(0), dir.root(), options).await.unwrap();
    let addr = server.local_addr();
    let result = tokio::task::spawn_blocking(move || f(addr, &dir)).await;
    server.stop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_list_download_delete() {
    with_server(|addr, dir| {
        let data = dir.file("data.bin", &pattern(50_000));
        let upload = format!("@{}", data.display());
        let reply = curl(dir, addr, "/upload/data.bin", &["--data-binary", &upload]);
        assert_eq!(reply.status, 303, "{reply:?}");
        assert_eq!(reply.header("Location"), Some("/"));
        assert_eq!(reply.text(), "File uploaded successfully");
        assert_eq!(served(dir), ["data.bin"], "the file, and no temporary one");
        assert_eq!(std::fs::read(dir.root().join("data.bin")).unwrap(), std::fs::read(&data).unwrap());

        let notes = dir.file("notes", b"<b>tern</b>\n");
        let reply = curl(dir, addr, "/upload/my%20notes.html", &["--data-binary", &format!("@{}", notes.display())]);
        assert_eq!(reply.status, 303, "{reply:?}");

        let listing = curl(dir, addr, "/", &[]);
        assert_eq!(listing.status, 200);
        assert_eq!(listing.header("Content-Type"), Some("text/html"));
        let page = listing.text();
        assert!(page.contains("<a href=\"/data.bin\">data.bin</a></td><td>50000</td>"), "{page}");
        assert!(page.contains("<a href=\"/my%20notes.html\">my notes.html</a></td><td>12</td>"), "{page}");
        assert!(page.contains("action=\"/delete/data.bin\""), "{page}");
        assert!(page.contains("action=\"/delete/my%20notes.html\""), "{page}");

        let out = dir.0.join("downloaded");
        let download = curl_to(addr, "/data.bin", &[], &dir.0.join("again"));
        assert_eq!(download.status, 200);
        assert_eq!(download.header("Content-Type"), Some("application/octet-stream"));
        assert_eq!(download.header("Transfer-Encoding"), Some("chunked"));
        let reply = Command::new("curl")
            .args(["-sS", "--max-time", "10", "-o"])
            .arg(&out)
            .arg(format!("http://127.0.0.1:{}/data.bin", addr.port()))
            .status()
            .unwrap();
        assert!(reply.success());
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&data).unwrap());
        assert_eq!(md5(&out), md5(&data));
        let reply = curl(dir, addr, "/my%20notes.html", &[]);
        assert_eq!((reply.status, reply.header("Content-Type")), (200, Some("text/html")));
        assert_eq!(reply.body, b"<b>tern</b>\n");

        let reply = curl(dir, addr, "/delete/data.bin", &["-X", "POST"]);
        assert_eq!(reply.status, 303, "{reply:?}");
        assert_eq!(reply.header("Location"), Some("/"));
        assert_eq!(served(dir), ["my notes.html"]);
        assert!(!curl(dir, addr, "/", &[]).text().contains("data.bin"));
        let reply = curl(dir, addr, "/data.bin", &[]);
        assert_eq!((reply.status, reply.text()), (404, "File does not exist"));
        let reply = curl(dir, addr, "/delete/data.bin", &["-X", "POST"]);
        assert_eq!((reply.status, reply.text()), (400, "File does not exist"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_name_or_a_large_file_is_refused_and_the_session_closed() {
    with_server(|addr, dir| {
        let first = dir.file("first", b"first version");
        let reply = curl(dir, addr, "/upload/a.txt", &["--data-binary", &format!("@{}", first.display())]);
        assert_eq!(reply.status, 303);
        let second = dir.file("second", b"second version");
        let reply = curl(dir, addr, "/upload/a.txt", &["--data-binary", &format!("@{}", second.display())]);
        assert_eq!((reply.status, reply.text()), (400, "File already exists"));
        assert_eq!(reply.header("Connection"), Some("close"));
        assert_eq!(std::fs::read(dir.root().join("a.txt")).unwrap(), b"first version");
        let answer =
            answer_then_close(addr, b"POST /upload/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nFile already exists"), "{answer}");

        let big = dir.file("big", &pattern(MAX as usize + 1));
        let upload = format!("@{}", big.display());
        let reply = curl(dir, addr, "/upload/big.bin", &["--data-binary", &upload]);
        assert_eq!((reply.status, reply.text()), (400, "File too large"));
        // Without a length, the limit is found while streaming.
        let reply = curl(dir, addr, "/upload/big.bin", &["-H", "Transfer-Encoding: chunked", "--data-binary", &upload]);
        assert_eq!((reply.status, reply.text()), (400, "File too large"));
        let exact = dir.file("exact", &pattern(MAX as usize));
        let reply = curl(dir, addr, "/upload/exact.bin", &["--data-binary", &format!("@{}", exact.display())]);
        assert_eq!(reply.status, 303, "a file of exactly the limit is taken");
        let answer = answer_then_close(
            addr,
            format!("POST /upload/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", MAX + 1).as_bytes(),
        );
        assert!(answer.ends_with("\r\n\r\nFile too large"), "{answer}");
        assert_eq!(served(dir), ["a.txt", "exact.bin"], "no partial upload left behind");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_and_missing_files() {
    with_server(|addr, dir| {
        dir.file("secret", b"outside the served directory");
        let body = dir.file("body", b"escaped");
        let upload = format!("@{}", body.display());
        for path in [
            "/../secret",
            "/..%2Fsecret",
            "/%2E%2E%2Fsecret",
            "/..%5Csecret",
            "//etc/passwd",
            "/%2Fetc%2Fpasswd",
            "/..",
            "/sub/file",
        ] {
            let reply = curl(dir, addr, path, &[]);
            assert_eq!((reply.status, reply.text()), (400, "Invalid filename"), "GET {path}");
        }
        for path in
            ["/upload/..%2Fescaped", "/upload/%2Ftmp%2Fescaped", "/upload/..", "/upload/", "/upload/a%5C..%5Cescaped"]
        {
            let reply = curl(dir, addr, path, &["--data-binary", &upload]);
            assert_eq!((reply.status, reply.text()), (400, "Invalid filename"), "POST {path}");
        }
        for path in ["/delete/..%2Fsecret", "/delete/%2E%2E%2Fsecret", "/delete/"] {
            let reply = curl(dir, addr, path, &["-X", "POST"]);
            assert_eq!((reply.status, reply.text()), (400, "Invalid filename"), "POST {path}");
        }
        assert!(dir.0.join("secret").exists());
        assert!(!dir.0.join("escaped").exists());
        assert!(served(dir).is_empty());

        let reply = curl(dir, addr, "/missing.txt", &[]);
        assert_eq!((reply.status, reply.text()), (404, "File does not exist"));
        let reply = curl(dir, addr, "/index.html", &[]);
        assert_eq!((reply.status, reply.header("Location")), (307, Some("/")));
    })
    .await;
}

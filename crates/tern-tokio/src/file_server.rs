//! A directory served over HTTP: listing, download, upload and delete (ESP-IDF's
//! `file_serving` example as a reusable piece; `tern serve` uses it).
//!
//! [`register`] installs three handlers on a server that uses wildcard matching:
//!
//! - `GET /*`: `/` is an HTML page listing the files with their sizes, an upload form and a
//!   delete button each; any other path is the file of that name, sent in chunks of
//!   [`FileServerOptions::chunk_size`] with a content type from its extension
//!   ([`content_type`]). A missing file is `404 File does not exist`.
//! - `POST /upload/<name>`: the body is streamed to a temporary file in the directory, which
//!   is then renamed to `<name>`: `303 See Other` to `/` with `File uploaded successfully`.
//!   Past [`FileServerOptions::max_file_size`]: `400 File too large`; an existing name:
//!   `400 File already exists`.
//! - `POST /delete/<name>`: `303 See Other` to `/`; a missing file: `400 File does not exist`.
//!
//! The directory is flat: a name is one percent-decoded path component, and one with `/`,
//! `\`, `..` or a root or drive prefix is refused with `400 Invalid filename`. As in ESP-IDF,
//! every refusal closes the session after its answer (which says `Connection: close`).
//!
//! ```no_run
//! use tern_proto::server::uri::UriMatch;
//! use tern_tokio::file_server::{self, FileServerOptions};
//! use tern_tokio::server::{Config, Server};
//!
//! # async fn run() -> Result<(), tern_tokio::server::Error> {
//! let config = Config { server_port: 8005, uri_match: UriMatch::Wildcard, ..Config::default() };
//! let server = Server::start(config).await?;
//! file_server::register(&server, "/srv/files", FileServerOptions::default())?;
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tern_proto::server::query::url_decode;
use tern_proto::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::server::{Error, HandlerResult, Request, ServerHandle, UriHandler};

/// How a directory is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileServerOptions {
    /// The largest upload, in bytes (ESP-IDF's example: 200 KiB).
    pub max_file_size: u64,
    /// The size of the buffer a file is read into and sent from, chunk by chunk (ESP-IDF's
    /// example: 8 KiB).
    pub chunk_size: usize,
}

impl Default for FileServerOptions {
    fn default() -> Self {
        FileServerOptions { max_file_size: 200 * 1024, chunk_size: 8192 }
    }
}

/// Registers the file server's handlers (`GET /*`, `POST /upload/*`, `POST /delete/*`) for
/// the directory `root`. The server must use wildcard matching and have 3 free handler slots.
///
/// # Errors
/// The router's refusal when a handler cannot be registered (a full table, or an earlier
/// registration matching one of these).
pub fn register(server: &ServerHandle, root: impl Into<PathBuf>, options: FileServerOptions) -> Result<(), Error> {
    let site = Arc::new(Site { root: root.into(), options });
    let get = site.clone();
    server.register_uri_handler(UriHandler::new("/*", Method::Get, move |req: Request| {
        let site = get.clone();
        async move { site.download(req).await }
    }))?;
    let upload = site.clone();
    server.register_uri_handler(UriHandler::new("/upload/*", Method::Post, move |req: Request| {
        let site = upload.clone();
        async move { site.upload(req).await }
    }))?;
    server.register_uri_handler(UriHandler::new("/delete/*", Method::Post, move |req: Request| {
        let site = site.clone();
        async move { site.delete(req).await }
    }))?;
    Ok(())
}

/// The content type of a file, from its extension (case-insensitive);
/// `application/octet-stream` when unknown.
///
/// ```
/// use tern_tokio::file_server::content_type;
/// assert_eq!(content_type("index.HTML"), "text/html");
/// assert_eq!(content_type("firmware.bin"), "application/octet-stream");
/// ```
pub fn content_type(name: &str) -> &'static str {
    let extension = Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Names of the temporary files uploads are written to, hidden from the listing.
const PARTIAL_PREFIX: &str = ".tern-upload-";

/// The served directory and its options.
struct Site {
    root: PathBuf,
    options: FileServerOptions,
}

impl Site {
    /// `GET /*`: the listing for `/`, otherwise a file.
    async fn download(&self, mut req: Request) -> HandlerResult {
        if req.path() == "/" {
            return self.listing(req).await;
        }
        let Some(name) = file_name(req.path(), "/") else {
            return refuse(&mut req, StatusCode::BAD_REQUEST, "Invalid filename").await;
        };
        let path = self.root.join(&name);
        let is_file = tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file());
        if !is_file {
            if name == "index.html" {
                // ESP-IDF's example: the index page is the listing.
                req.set_status(StatusCode::TEMPORARY_REDIRECT);
                req.set_header("Location", "/");
                return req.send(b"").await;
            }
            return refuse(&mut req, StatusCode::NOT_FOUND, "File does not exist").await;
        }
        let Ok(mut file) = tokio::fs::File::open(&path).await else {
            return refuse(&mut req, StatusCode::INTERNAL_SERVER_ERROR, "Failed to read existing file").await;
        };
        req.set_type(content_type(&name));
        let mut buf = vec![0u8; self.options.chunk_size.max(1)];
        loop {
            // A read error leaves the chunked body unterminated: the client sees it fail.
            let n = file.read(&mut buf).await.map_err(|_| Error::fail("failed to read the file"))?;
            if n == 0 {
                return req.send_chunk(&[]).await;
            }
            req.send_chunk(buf.get(..n).unwrap_or_default()).await?;
        }
    }

    /// The HTML page for `/`.
    async fn listing(&self, mut req: Request) -> HandlerResult {
        let Ok(mut entries) = tokio::fs::read_dir(&self.root).await else {
            return refuse(&mut req, StatusCode::NOT_FOUND, "Directory does not exist").await;
        };
        let mut files = Vec::new();
        while let Ok(Some(entry)) = entries.next_entry().await {
            let Ok(name) = entry.file_name().into_string() else { continue };
            if name.starts_with(PARTIAL_PREFIX) {
                continue;
            }
            if let Ok(meta) = entry.metadata().await
                && meta.is_file()
            {
                files.push((name, meta.len()));
            }
        }
        files.sort();
        let page = listing_page(&files, self.options.max_file_size);
        req.send(page.as_bytes()).await
    }

    /// `POST /upload/*`.
    async fn upload(&self, mut req: Request) -> HandlerResult {
        let Some(name) = file_name(req.path(), "/upload/") else {
            return refuse(&mut req, StatusCode::BAD_REQUEST, "Invalid filename").await;
        };
        let dest = self.root.join(&name);
        if tokio::fs::try_exists(&dest).await.unwrap_or(true) {
            return refuse(&mut req, StatusCode::BAD_REQUEST, "File already exists").await;
        }
        let max = self.options.max_file_size;
        if req.content_len() > max || req.body_remaining().is_some_and(|n| n > max) {
            return refuse(&mut req, StatusCode::BAD_REQUEST, "File too large").await;
        }
        let partial = Partial::new(&self.root);
        let Ok(mut file) = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&partial.path).await else {
            return refuse(&mut req, StatusCode::INTERNAL_SERVER_ERROR, "Failed to create file").await;
        };
        let mut buf = vec![0u8; self.options.chunk_size.max(1)];
        let mut total = 0u64;
        loop {
            let Ok(n) = req.recv(&mut buf).await else {
                return refuse(&mut req, StatusCode::INTERNAL_SERVER_ERROR, "Failed to receive file").await;
            };
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > max {
                // A body without a length (chunked) that grew too long.
                return refuse(&mut req, StatusCode::BAD_REQUEST, "File too large").await;
            }
            if file.write_all(buf.get(..n).unwrap_or_default()).await.is_err() {
                return refuse(&mut req, StatusCode::INTERNAL_SERVER_ERROR, "Failed to write file to storage").await;
            }
        }
        if file.flush().await.is_err() {
            return refuse(&mut req, StatusCode::INTERNAL_SERVER_ERROR, "Failed to write file to storage").await;
        }
        drop(file);
        // Another upload of the same name may have finished meanwhile.
        if tokio::fs::try_exists(&dest).await.unwrap_or(true) {
            return refuse(&mut req, StatusCode::BAD_REQUEST, "File already exists").await;
        }
        if tokio::fs::rename(&partial.path, &dest).await.is_err() {
            return refuse(&mut req, StatusCode::INTERNAL_SERVER_ERROR, "Failed to save file").await;
        }
        partial.keep();
        req.set_status(StatusCode::SEE_OTHER);
        req.set_header("Location", "/");
        req.send(b"File uploaded successfully").await
    }

    /// `POST /delete/*`.
    async fn delete(&self, mut req: Request) -> HandlerResult {
        let Some(name) = file_name(req.path(), "/delete/") else {
            return refuse(&mut req, StatusCode::BAD_REQUEST, "Invalid filename").await;
        };
        let path = self.root.join(&name);
        if !tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) {
            return refuse(&mut req, StatusCode::BAD_REQUEST, "File does not exist").await;
        }
        if tokio::fs::remove_file(&path).await.is_err() {
            return refuse(&mut req, StatusCode::INTERNAL_SERVER_ERROR, "Failed to delete file").await;
        }
        req.set_status(StatusCode::SEE_OTHER);
        req.set_header("Location", "/");
        req.send(b"File deleted successfully").await
    }
}

/// Answers `status` with `message` and closes the session, as the example's handlers do
/// when they return `ESP_FAIL` after an error response.
async fn refuse(req: &mut Request, status: StatusCode, message: &'static str) -> HandlerResult {
    req.set_status(status);
    req.set_type("text/html");
    req.set_header("Connection", "close");
    req.send(message.as_bytes()).await?;
    Err(Error::fail(message))
}

/// The file a request path names below `prefix`: percent-decoded, and exactly one plain
/// path component (no separators, `.` or `..`, root or drive prefix, NUL); `None` otherwise.
fn file_name(path: &str, prefix: &str) -> Option<String> {
    let raw = path.strip_prefix(prefix)?;
    let mut decoded = vec![0u8; raw.len()];
    let n = url_decode(raw.as_bytes(), false, &mut decoded).ok()?;
    decoded.truncate(n);
    let name = String::from_utf8(decoded).ok()?;
    if name.contains(['/', '\\', '\0']) {
        return None;
    }
    let mut components = Path::new(&name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(_)), None) => Some(name),
        _ => None,
    }
}

/// A temporary upload file, removed when dropped unless kept (so that an upload that fails
/// or is abandoned half-way, even by the server stopping, leaves nothing behind).
struct Partial {
    path: PathBuf,
    keep: bool,
}

impl Partial {
    fn new(root: &Path) -> Partial {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = root.join(format!("{PARTIAL_PREFIX}{}-{n}.part", std::process::id()));
        Partial { path, keep: false }
    }

    fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort, and quick: an unlink.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The listing page: an upload form, then a table of the files with a delete button each.
fn listing_page(files: &[(String, u64)], max_file_size: u64) -> String {
    let mut page = String::with_capacity(2048 + files.len() * 256);
    page.push_str(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Files</title></head><body>\n\
         <h2>File server</h2>\n\
         <p><input id=\"file\" type=\"file\"> <button type=\"button\" onclick=\"upload()\">Upload</button></p>\n\
         <table border=\"1\">\n<thead><tr><th>Name</th><th>Size (bytes)</th><th>Delete</th></tr></thead>\n<tbody>\n",
    );
    for (name, size) in files {
        let href = percent_encode(name);
        let text = html_escape(name);
        let _ = writeln!(
            page,
            "<tr><td><a href=\"/{href}\">{text}</a></td><td>{size}</td><td>\
             <form method=\"post\" action=\"/delete/{href}\"><button type=\"submit\">Delete</button></form>\
             </td></tr>"
        );
    }
    let _ = writeln!(
        page,
        "</tbody></table>\n<script>\n\
         function upload() {{\n\
         \x20 var file = document.getElementById(\"file\").files[0];\n\
         \x20 if (!file) {{ alert(\"No file selected!\"); return; }}\n\
         \x20 if (file.size > {max_file_size}) {{ alert(\"File size must be at most {max_file_size} bytes!\"); return; }}\n\
         \x20 fetch(\"/upload/\" + encodeURIComponent(file.name), {{ method: \"POST\", body: file }})\n\
         \x20   .then(function (r) {{ return r.ok ? null : r.text().then(alert); }})\n\
         \x20   .then(function () {{ location.reload(); }});\n\
         }}\n</script>\n</body></html>"
    );
    page
}

/// `name` for a URL path: every byte but the unreserved ones percent-encoded.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `text` for HTML text and attribute values.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_plain_component() {
        assert_eq!(file_name("/a.txt", "/").as_deref(), Some("a.txt"));
        assert_eq!(file_name("/upload/my%20file.bin", "/upload/").as_deref(), Some("my file.bin"));
        assert_eq!(file_name("/..data", "/").as_deref(), Some("..data"));
        for refused in
            ["/", "/..", "/.", "/a/b", "/%2e%2e", "/..%2Fetc", "/%2Fetc%2Fpasswd", "//etc", "/a%5Cb", "/a%00", "/%zz"]
        {
            assert_eq!(file_name(refused, "/"), None, "{refused}");
        }
        assert_eq!(file_name("/other/x", "/upload/"), None);
    }

    #[test]
    fn listing_escapes_names() {
        let page = listing_page(&[("<a&b>.txt".to_owned(), 3)], 10);
        assert!(page.contains("href=\"/%3Ca%26b%3E.txt\""));
        assert!(page.contains("&lt;a&amp;b&gt;.txt</a></td><td>3</td>"));
        assert!(page.contains("action=\"/delete/%3Ca%26b%3E.txt\""));
    }
}

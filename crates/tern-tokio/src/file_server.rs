//! A directory served over HTTP: listing, download, upload and delete (ESP-IDF's
//! `file_serving` example as a reusable piece; `tern serve` uses it). Being built.

use std::path::PathBuf;

use crate::server::{Error, ServerHandle};

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
pub fn register(server: &ServerHandle, root: impl Into<PathBuf>, options: FileServerOptions) -> Result<(), Error> {
    let _ = (server, root.into(), options);
    Ok(())
}

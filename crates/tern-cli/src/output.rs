//! Where a transfer's output goes: stdout, or a file created when the first byte arrives (as
//! curl does, so a failed connect leaves no empty file behind). Bytes are written as they come,
//! never collected.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

/// The destination of one URL's body (and, with `-i`, its heads).
#[derive(Debug)]
pub(crate) struct Output {
    target: Target,
    /// The first write error; later writes are dropped.
    error: Option<io::Error>,
}

#[derive(Debug)]
enum Target {
    Stdout,
    File { path: PathBuf, file: Option<File> },
}

impl Output {
    /// Writes to stdout.
    pub(crate) fn stdout() -> Output {
        Output { target: Target::Stdout, error: None }
    }

    /// Writes to `path` (`-o`), created on the first write.
    pub(crate) fn file(path: PathBuf) -> Output {
        Output { target: Target::File { path, file: None }, error: None }
    }

    /// True when writing to a file.
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.target, Target::File { .. })
    }

    /// Writes `bytes` now. A failure is kept for [`finish`](Self::finish) and stops later writes.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if self.error.is_some() || bytes.is_empty() {
            return;
        }
        let result = match &mut self.target {
            Target::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Target::File { path, file } => open(path, file).and_then(|f| f.write_all(bytes)),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Ends the output: creates the file of an empty body when `create` is set, and returns
    /// the first write error.
    pub(crate) fn finish(&mut self, create: bool) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match &mut self.target {
            Target::Stdout => io::stdout().flush(),
            Target::File { path, file } => {
                if create {
                    open(path, file)?;
                }
                file.as_mut().map_or(Ok(()), |f| f.flush())
            }
        }
    }
}

fn open<'f>(path: &PathBuf, file: &'f mut Option<File>) -> io::Result<&'f mut File> {
    match file {
        Some(f) => Ok(f),
        None => Ok(file.insert(File::create(path)?)),
    }
}

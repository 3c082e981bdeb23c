//! Request bodies from `-d`, `--data-binary` and `--data-raw`, as curl builds them.

use std::io::Read;

use crate::exit::Failure;

/// Which option gave a piece of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataKind {
    /// `-d`: `@file` is read with CR and LF removed.
    Ascii,
    /// `--data-binary`: `@file` is read unchanged.
    Binary,
    /// `--data-raw`: taken literally, `@` included.
    Raw,
}

/// Joins the pieces with `&`, as curl does; `None` when there are none.
pub(crate) fn assemble(parts: &[(DataKind, &str)]) -> Result<Option<Vec<u8>>, Failure> {
    if parts.is_empty() {
        return Ok(None);
    }
    let mut body = Vec::new();
    for (i, (kind, value)) in parts.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        match (kind, value.strip_prefix('@')) {
            (DataKind::Raw, _) | (_, None) => body.extend_from_slice(value.as_bytes()),
            (DataKind::Ascii, Some(path)) => {
                body.extend(read(path)?.into_iter().filter(|b| !matches!(b, b'\r' | b'\n')));
            }
            (DataKind::Binary, Some(path)) => body.extend(read(path)?),
        }
    }
    Ok(Some(body))
}

/// A file's bytes, or stdin's for `-`.
fn read(path: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let result = if path == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    result.map_err(|e| Failure::new(26, format!("Failed to read data from {path}: {e}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use super::*;

    #[test]
    fn files_are_read_as_curl_reads_them() {
        let path = std::env::temp_dir().join(format!("tern-cli-data-{}", std::process::id()));
        std::fs::write(&path, b"a=1\r\nb=2\n").unwrap();
        let at = format!("@{}", path.display());
        let ascii = assemble(&[(DataKind::Ascii, &at)]).unwrap().unwrap();
        let binary = assemble(&[(DataKind::Binary, &at)]).unwrap().unwrap();
        let raw = assemble(&[(DataKind::Raw, &at)]).unwrap().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(ascii, b"a=1b=2");
        assert_eq!(binary, b"a=1\r\nb=2\n");
        assert_eq!(raw, at.as_bytes());
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let err = assemble(&[(DataKind::Ascii, "@/nonexistent/tern-cli")]).unwrap_err();
        assert_eq!(err.code, 26);
    }
}

//! The HTTP version of a message.

/// HTTP/1.0 or HTTP/1.1: the versions tern speaks. Others are refused with
/// [`RemoteError::UnsupportedVersion`](crate::RemoteError::UnsupportedVersion) (505).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Version {
    /// HTTP/1.0: no chunked coding, connections close unless kept alive explicitly.
    Http10,
    /// HTTP/1.1.
    #[default]
    Http11,
}

impl Version {
    /// The version as it appears on the wire, e.g. `"HTTP/1.1"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }

    /// From httparse's minor version digit.
    pub(crate) const fn from_minor(minor: u8) -> Version {
        if minor == 0 { Version::Http10 } else { Version::Http11 }
    }
}

impl core::fmt::Display for Version {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

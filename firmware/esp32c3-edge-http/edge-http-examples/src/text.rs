//! A number written with `core::fmt`, without an allocator.

/// Up to 24 bytes of text written with `core::fmt` (an `i64` in decimal fits).
#[derive(Default)]
pub(crate) struct Decimal {
    bytes: [u8; 24],
    len: usize,
}

impl Decimal {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl core::fmt::Write for Decimal {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

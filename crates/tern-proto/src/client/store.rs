//! The client's store: URL, credentials, request headers and auth state in one caller buffer.
//!
//! ESP-IDF keeps these on the heap. tern keeps them in a byte arena the caller sizes
//! ([`ClientConfig::store_size`](crate::client::ClientConfig::store_size)), so a client needs
//! no allocator and its memory is known up front. Each record is a tag byte, a 16-bit
//! little-endian length and the bytes; a header's bytes are `name:value`, which is also the
//! order they are written in. Records keep their order when replaced, so a header set twice
//! stays where it was first set, as in ESP-IDF.

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    /// The current URL, absolute.
    Url = 1,
    /// The username (plain, already percent-decoded).
    Username = 2,
    /// The password (plain).
    Password = 3,
    /// One request header, `name:value`.
    Header = 4,
    /// Digest realm, unescaped.
    DigestRealm = 5,
    /// Digest nonce, unescaped.
    DigestNonce = 6,
    /// Digest opaque, unescaped.
    DigestOpaque = 7,
    /// The resolved target of a redirect not yet followed.
    Location = 8,
}

/// Bytes of a record's tag and length.
const RECORD_HEAD: usize = 3;

/// A record named for [`Store::check_changes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key<'n> {
    /// The record with this tag.
    Tag(Tag),
    /// The header of this name.
    Header(&'n str),
}

/// The store ran out of room: `needed` more bytes than are free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreFull {
    pub(crate) needed: usize,
    pub(crate) available: usize,
}

/// One record found in the store: where its bytes are.
#[derive(Debug, Clone, Copy)]
struct Found {
    /// Offset of the record's tag byte.
    at: usize,
    /// Offset of its bytes.
    start: usize,
    /// Length of its bytes.
    len: usize,
}

/// The arena. `used` bytes at the front of `buf` hold records back to back.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Store {
    used: usize,
}

impl Store {
    /// Records in order: (tag, bytes) for each.
    pub(crate) fn records<'b>(&self, buf: &'b [u8]) -> impl Iterator<Item = (u8, &'b [u8])> + 'b {
        let mut rest = buf.get(..self.used).unwrap_or(&[]);
        core::iter::from_fn(move || {
            let (head, tail) = rest.split_at_checked(RECORD_HEAD)?;
            let len = usize::from(u16::from_le_bytes([*head.get(1)?, *head.get(2)?]));
            let (bytes, tail) = tail.split_at_checked(len)?;
            rest = tail;
            Some((*head.first()?, bytes))
        })
    }

    fn find(&self, buf: &[u8], matches: impl Fn(u8, &[u8]) -> bool) -> Option<Found> {
        let mut at = 0;
        for (tag, bytes) in self.records(buf) {
            if matches(tag, bytes) {
                return Some(Found { at, start: at + RECORD_HEAD, len: bytes.len() });
            }
            at += RECORD_HEAD + bytes.len();
        }
        None
    }

    /// The bytes of the record with this tag.
    pub(crate) fn get<'b>(&self, buf: &'b [u8], tag: Tag) -> Option<&'b [u8]> {
        let found = self.find(buf, |t, _| t == tag as u8)?;
        buf.get(found.start..found.start + found.len)
    }

    /// The bytes of the record with this tag, as text (URLs and the like are stored as text).
    pub(crate) fn get_str<'b>(&self, buf: &'b [u8], tag: Tag) -> Option<&'b str> {
        core::str::from_utf8(self.get(buf, tag)?).ok()
    }

    /// The value of the request header `name` (ASCII case-insensitive).
    pub(crate) fn header<'b>(&self, buf: &'b [u8], name: &str) -> Option<&'b [u8]> {
        let found = self.find(buf, |t, bytes| t == Tag::Header as u8 && header_named(bytes, name))?;
        buf.get(found.start + name.len() + 1..found.start + found.len)
    }

    /// Request headers in order, as (name, value) bytes (names were checked as tokens when
    /// stored, so the head writer copies them without a UTF-8 pass).
    pub(crate) fn headers<'b>(&self, buf: &'b [u8]) -> impl Iterator<Item = (&'b [u8], &'b [u8])> + 'b {
        self.records(buf).filter(|(tag, _)| *tag == Tag::Header as u8).filter_map(|(_, bytes)| split_header(bytes))
    }

    /// Sets the record with this tag to `parts` concatenated (in place of an old one).
    pub(crate) fn set(&mut self, buf: &mut [u8], tag: Tag, parts: &[&[u8]]) -> Result<(), StoreFull> {
        let found = self.find(buf, |t, _| t == tag as u8);
        self.put(buf, found, tag, parts)
    }

    /// Sets header `name` to `value`, keeping its position when it exists.
    pub(crate) fn set_header(&mut self, buf: &mut [u8], name: &str, value: &[u8]) -> Result<(), StoreFull> {
        let found = self.find(buf, |t, bytes| t == Tag::Header as u8 && header_named(bytes, name));
        self.put(buf, found, Tag::Header, &[name.as_bytes(), b":", value])
    }

    /// Checks, without changing anything, that removing `removals` and then setting each of
    /// `puts` (a key and its new length in bytes: `name:value` for a header) one after the
    /// other would succeed, so that a caller can make several changes all or none. Each key
    /// is named once, spelled the same in both lists.
    pub(crate) fn check_changes(
        &self,
        buf: &[u8],
        removals: &[Key<'_>],
        puts: &[(Key<'_>, usize)],
    ) -> Result<(), StoreFull> {
        let size_of = |key: &Key<'_>| {
            let found = match *key {
                Key::Tag(tag) => self.find(buf, |t, _| t == tag as u8),
                Key::Header(name) => self.find(buf, |t, bytes| t == Tag::Header as u8 && header_named(bytes, name)),
            };
            found.map_or(0, |f| RECORD_HEAD + f.len)
        };
        let mut used = self.used;
        for key in removals {
            used = used.saturating_sub(size_of(key));
        }
        for (key, len) in puts {
            let old = if removals.contains(key) { 0 } else { size_of(key) };
            let new = RECORD_HEAD + len;
            let available = buf.len().saturating_sub(used) + old;
            if u16::try_from(*len).is_err() || new > available {
                return Err(StoreFull { needed: new, available });
            }
            used = used.saturating_sub(old) + new;
        }
        Ok(())
    }

    /// Removes the record with this tag; true if there was one.
    pub(crate) fn remove(&mut self, buf: &mut [u8], tag: Tag) -> bool {
        let found = self.find(buf, |t, _| t == tag as u8);
        self.cut(buf, found)
    }

    /// Removes header `name`; true if it was set.
    pub(crate) fn remove_header(&mut self, buf: &mut [u8], name: &str) -> bool {
        let found = self.find(buf, |t, bytes| t == Tag::Header as u8 && header_named(bytes, name));
        self.cut(buf, found)
    }

    /// Removes every header.
    pub(crate) fn clear_headers(&mut self, buf: &mut [u8]) {
        while self.cut(buf, self.find(buf, |t, _| t == Tag::Header as u8)) {}
    }

    fn cut(&mut self, buf: &mut [u8], found: Option<Found>) -> bool {
        let Some(found) = found else { return false };
        let end = found.start + found.len;
        buf.copy_within(end..self.used, found.at);
        self.used -= end - found.at;
        true
    }

    /// Sets the record with this tag to `len` bytes that `fill` writes (in place of an old
    /// one), for a value that is written rather than copied.
    pub(crate) fn set_with(
        &mut self,
        buf: &mut [u8],
        tag: Tag,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), StoreFull> {
        let found = self.find(buf, |t, _| t == tag as u8);
        fill(self.reserve(buf, found, tag, len)?);
        Ok(())
    }

    fn put(&mut self, buf: &mut [u8], old: Option<Found>, tag: Tag, parts: &[&[u8]]) -> Result<(), StoreFull> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut dst = self.reserve(buf, old, tag, len)?;
        for piece in parts {
            let (head, rest) = dst.split_at_mut(piece.len().min(dst.len()));
            head.copy_from_slice(piece.get(..head.len()).unwrap_or_default());
            dst = rest;
        }
        Ok(())
    }

    /// Makes room for a record of `len` bytes in place of `old` (or at the end), writes its
    /// tag and length, and returns its bytes to fill.
    fn reserve<'b>(
        &mut self,
        buf: &'b mut [u8],
        old: Option<Found>,
        tag: Tag,
        len: usize,
    ) -> Result<&'b mut [u8], StoreFull> {
        let old_total = old.map_or(0, |f| RECORD_HEAD + f.len);
        let available = buf.len().saturating_sub(self.used) + old_total;
        let len16 = u16::try_from(len).map_err(|_| StoreFull { needed: RECORD_HEAD + len, available })?;
        if RECORD_HEAD + len > available {
            return Err(StoreFull { needed: RECORD_HEAD + len, available });
        }
        // Where the record goes: in place of the old one, or at the end.
        let at = old.map_or(self.used, |f| f.at);
        let tail_from = at + old_total;
        let new_total = RECORD_HEAD + len;
        buf.copy_within(tail_from..self.used, at + new_total);
        self.used = self.used - old_total + new_total;
        let [lo, hi] = len16.to_le_bytes();
        if let Some(head) = buf.get_mut(at..at + RECORD_HEAD) {
            head.copy_from_slice(&[tag as u8, lo, hi]);
        }
        Ok(buf.get_mut(at + RECORD_HEAD..at + new_total).unwrap_or_default())
    }
}

fn header_named(bytes: &[u8], name: &str) -> bool {
    bytes.get(..name.len()).is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
        && bytes.get(name.len()) == Some(&b':')
}

fn split_header(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = bytes.iter().position(|&b| b == b':')?;
    let (name, rest) = bytes.split_at(colon);
    Some((name, rest.get(1..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_replace_in_place_and_keep_order() {
        let mut buf = [0u8; 64];
        let mut store = Store::default();
        store.set_header(&mut buf, "User-Agent", b"tern").unwrap();
        store.set_header(&mut buf, "Host", b"a").unwrap();
        store.set(&mut buf, Tag::Url, &[b"http://a/", b"x"]).unwrap();
        store.set_header(&mut buf, "user-agent", b"longer agent").unwrap();
        let headers: Vec<_> = store.headers(&buf).collect();
        assert_eq!(headers, [(&b"user-agent"[..], &b"longer agent"[..]), (b"Host", b"a")]);
        assert_eq!(store.get(&buf, Tag::Url), Some(&b"http://a/x"[..]));
        assert_eq!(store.header(&buf, "HOST"), Some(&b"a"[..]));
        assert!(store.remove_header(&mut buf, "host"));
        assert!(!store.remove_header(&mut buf, "host"));
        assert_eq!(store.headers(&buf).count(), 1);
        store.clear_headers(&mut buf);
        assert_eq!(store.headers(&buf).count(), 0);
        assert_eq!(store.get(&buf, Tag::Url), Some(&b"http://a/x"[..]));
    }

    #[test]
    fn check_changes_follows_the_order_of_the_puts() {
        let mut buf = [0u8; 32];
        let mut store = Store::default();
        store.set(&mut buf, Tag::Url, &[b"0123456789"]).unwrap(); // 13 bytes
        store.set_header(&mut buf, "Host", b"0123456789").unwrap(); // 18 bytes, 1 free
        // The URL grows by 5 before the Host header shrinks by 5: the first put does not fit.
        let puts = [(Key::Tag(Tag::Url), 15), (Key::Header("Host"), 10)];
        assert_eq!(store.check_changes(&buf, &[], &puts), Err(StoreFull { needed: 18, available: 14 }));
        let puts = [(Key::Header("Host"), 10), (Key::Tag(Tag::Url), 15)];
        assert_eq!(store.check_changes(&buf, &[], &puts), Ok(()));
        // A removal frees its room, and a put of a removed key replaces nothing.
        let puts = [(Key::Tag(Tag::Url), 26)];
        assert!(store.check_changes(&buf, &[], &puts).is_err());
        assert_eq!(store.check_changes(&buf, &[Key::Header("host")], &puts), Ok(()));
        assert!(store.check_changes(&buf, &[], &[(Key::Tag(Tag::Username), 70_000)]).is_err());
    }

    #[test]
    fn full_store_refuses_and_changes_nothing() {
        let mut buf = [0u8; 16];
        let mut store = Store::default();
        store.set(&mut buf, Tag::Url, &[b"0123456789"]).unwrap();
        let err = store.set(&mut buf, Tag::Username, &[b"xy"]).unwrap_err();
        assert_eq!(err, StoreFull { needed: 5, available: 3 });
        // Replacing the one record may use its own room.
        store.set(&mut buf, Tag::Url, &[b"0123456789abc"]).unwrap();
        assert_eq!(store.get(&buf, Tag::Url), Some(&b"0123456789abc"[..]));
    }
}

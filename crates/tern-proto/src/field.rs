//! Header fields: the [`Field`] pair, the [`Headers`] view of a parsed head, and the slots
//! the parser fills.

use crate::syntax::eq_ignore_case;

/// Storage for one parsed header field, filled by the head parsers. The number of slots
/// given to a parser is the most header fields it accepts ([`Limit::HeaderCount`]).
///
/// This is `httparse::Header`; make an array of them with [`EMPTY_SLOT`].
///
/// [`Limit::HeaderCount`]: crate::Limit::HeaderCount
pub type HeaderSlot<'a> = httparse::Header<'a>;

/// An empty [`HeaderSlot`], to initialise slot arrays: `[EMPTY_SLOT; 16]`.
pub const EMPTY_SLOT: HeaderSlot<'static> = httparse::EMPTY_HEADER;

/// One header field: a name and a value, borrowed.
///
/// Received fields have a token for a name and a value with no leading or trailing
/// whitespace. Fields the local side writes are checked by the writer: a name that is not a
/// token, or a value with CR, LF, NUL or another control byte, is refused and never written.
///
/// ```
/// use tern_proto::Field;
/// let f = Field::new("Content-Type", "text/plain");
/// assert_eq!(f.value, b"text/plain");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field<'a> {
    /// The field name, as sent (compare with [`Field::is`]).
    pub name: &'a str,
    /// The field value: bytes, since a value may hold obs-text that is not UTF-8.
    pub value: &'a [u8],
}

impl<'a> Field<'a> {
    /// A field from a name and a text value.
    pub const fn new(name: &'a str, value: &'a str) -> Field<'a> {
        Field { name, value: value.as_bytes() }
    }

    /// Whether the field's name is `name`, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        eq_ignore_case(self.name.as_bytes(), name.as_bytes())
    }

    /// The value as text, when it is UTF-8.
    pub fn value_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.value).ok()
    }
}

/// The header fields of a parsed head, in the order received.
///
/// ```
/// use tern_proto::{EMPTY_SLOT, Limits, RequestHead};
/// let mut slots = [EMPTY_SLOT; 8];
/// let (head, _) = RequestHead::parse(b"GET / HTTP/1.1\r\nHost: a\r\nAccept: x\r\naccept: y\r\n\r\n", &mut slots, &Limits::default())
///     .unwrap()
///     .complete()
///     .unwrap();
/// assert_eq!(head.headers.get("host"), Some(&b"a"[..]));
/// assert_eq!(head.headers.get_all("Accept").count(), 2);
/// assert_eq!(head.headers.len(), 3);
/// ```
#[derive(Clone, Copy)]
pub struct Headers<'a> {
    slots: &'a [HeaderSlot<'a>],
}

impl<'a> Headers<'a> {
    pub(crate) fn new(slots: &'a [HeaderSlot<'a>]) -> Headers<'a> {
        Headers { slots }
    }

    /// No fields.
    pub const EMPTY: Headers<'static> = Headers { slots: &[] };

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = Field<'a>> + 'a {
        self.slots.iter().map(|h| Field { name: h.name, value: h.value })
    }

    /// The value of the first field named `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.get_all(name).next()
    }

    /// Every value of fields named `name` (ASCII case-insensitive), in order.
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.slots.iter().filter(move |h| eq_ignore_case(h.name.as_bytes(), name.as_bytes())).map(|h| h.value)
    }

    /// Whether any field is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl core::fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Headers<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Headers<'_> {}

/// The field lines of a complete, already validated head (request or status line first, CRLF or
/// LF line endings), as (name, raw value): the value is everything after the colon, whitespace
/// included, so each caller trims it by its own rule. Stops at the empty line ending the head.
pub(crate) fn raw_fields(head: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    head.split(|&b| b == b'\n')
        .skip(1)
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .take_while(|line| !line.is_empty())
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let (name, rest) = line.split_at(colon);
            Some((name, rest.get(1..)?))
        })
}

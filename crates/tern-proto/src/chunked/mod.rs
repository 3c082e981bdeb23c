//! The chunked transfer coding (RFC 9112 section 7.1): an incremental decoder and a
//! zero-copy encoder.
//!
//! This module owns everything about bodies sent as `Transfer-Encoding: chunked`, after the
//! message head; deciding *whether* a body is chunked is [`body`](crate::body)'s job.
//!
//! - [`ChunkedDecoder`] reads a chunked body from whatever pieces the network delivers,
//!   handing out data as borrowed slices of the caller's input ([`Decoded::Data`]), trailer
//!   fields as borrowed [`Field`](crate::Field)s ([`Decoded::Trailer`]) and the end of the
//!   body ([`Decoded::End`]), and enforcing the body, chunk-extension and trailer-section
//!   [`Limits`](crate::Limits).
//! - The encoder frames data without copying it ([`ChunkHeader`] and [`chunk_parts`], for
//!   vectored writes), or copies it framed into a buffer ([`encode_chunk`], to coalesce
//!   small writes), and ends the body with [`encode_last_chunk`], refusing trailer fields
//!   that are malformed or that would change the message framing.
//!
//! ```
//! use tern_proto::chunked::{encode_chunk, encode_last_chunk, ChunkedDecoder, Decoded};
//! use tern_proto::{Field, Limits};
//!
//! // Encode a body of two chunks and a trailer field into one buffer.
//! let mut wire = [0u8; 64];
//! let mut len = encode_chunk(b"hello, ", &mut wire)?;
//! len += encode_chunk(b"world", &mut wire[len..])?;
//! len += encode_last_chunk(&[Field::new("Checksum", "1a2b")], &mut wire[len..])?;
//! assert_eq!(&wire[..len], b"7\r\nhello, \r\n5\r\nworld\r\n0\r\nChecksum: 1a2b\r\n\r\n");
//!
//! // Decode it back: each call consumes some bytes and yields at most one event.
//! let mut decoder = ChunkedDecoder::new(&Limits::default());
//! let mut input = &wire[..len];
//! let mut body = [0u8; 16];
//! let mut body_len = 0;
//! loop {
//!     let (used, event) = decoder.decode(input)?;
//!     match event {
//!         Decoded::Data(data) => {
//!             body[body_len..body_len + data.len()].copy_from_slice(data);
//!             body_len += data.len();
//!         }
//!         Decoded::Trailer(field) => assert!(field.is("checksum") && field.value == b"1a2b"),
//!         Decoded::End => break,
//!         Decoded::NeedMore => unreachable!("the whole body is in `input`"),
//!     }
//!     input = &input[used..];
//! }
//! assert_eq!(&body[..body_len], b"hello, world");
//! assert_eq!(decoder.body_len(), 12);
//! # Ok::<(), tern_proto::Error>(())
//! ```

mod decoder;
mod encoder;

pub use decoder::{ChunkedDecoder, Decoded};
pub use encoder::{CHUNK_END, ChunkHeader, chunk_len, chunk_parts, encode_chunk, encode_last_chunk, last_chunk_len};

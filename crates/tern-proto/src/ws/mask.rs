//! Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key, position by position.

/// Masks or unmasks (the same operation) `data`, which starts `offset` bytes into a frame's
/// payload. Applying it to a payload piece by piece, each with its own offset, gives the same
/// bytes as applying it to the whole payload at once, so a receiver can unmask what arrives
/// in place, however the network split it.
///
/// ```
/// use tern_proto::ws::apply_mask;
/// let mask = [0x37, 0xfa, 0x21, 0x3d];
/// let mut whole = *b"Hello";
/// apply_mask(mask, 0, &mut whole);
/// assert_eq!(whole, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
///
/// let mut pieces = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let (a, b) = pieces.split_at_mut(3);
/// apply_mask(mask, 0, a);
/// apply_mask(mask, 3, b);
/// assert_eq!(&pieces, b"Hello");
/// ```
pub fn apply_mask(mask: [u8; 4], offset: u64, data: &mut [u8]) {
    let mut key = mask;
    key.rotate_left((offset % 4) as usize);
    let (words, tail) = data.as_chunks_mut::<4>();
    let word_key = u32::from_ne_bytes(key);
    for word in words {
        *word = (u32::from_ne_bytes(*word) ^ word_key).to_ne_bytes();
    }
    for (b, k) in tail.iter_mut().zip(key) {
        *b ^= k;
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::apply_mask;

    /// Position-by-position reference.
    fn reference(mask: [u8; 4], offset: u64, data: &mut [u8]) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= mask[((offset + i as u64) % 4) as usize];
        }
    }

    #[test]
    fn matches_reference_at_every_offset_and_length() {
        let mask = [0x01, 0x23, 0x45, 0x67];
        for offset in 0..9u64 {
            for len in 0..19usize {
                let mut a: [u8; 19] = core::array::from_fn(|i| i as u8 * 7);
                let mut b = a;
                apply_mask(mask, offset, &mut a[..len]);
                reference(mask, offset, &mut b[..len]);
                assert_eq!(a, b, "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn huge_offsets_wrap() {
        let mask = [9, 8, 7, 6];
        let mut a = [0u8; 3];
        apply_mask(mask, u64::MAX, &mut a);
        assert_eq!(a, [6, 9, 8]);
    }
}

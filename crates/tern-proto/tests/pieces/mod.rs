//! Splitting test input into pieces, for the "any split gives the same answer" properties.
#![allow(dead_code, unreachable_pub, clippy::indexing_slicing)]

/// Splits `input` at the (sorted, deduplicated) `cuts`, each taken modulo `input.len() + 1`.
pub fn split_at<'i>(input: &'i [u8], cuts: &[usize]) -> Vec<&'i [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for c in cuts {
        pieces.push(&input[start..c]);
        start = c;
    }
    pieces.push(&input[start..]);
    pieces
}

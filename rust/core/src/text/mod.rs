//! Normalisation, tokenisation and word shingles.
//!
//! Text is normalised with Unicode NFKC and lowercased; words are maximal runs
//! of Unicode alphanumeric characters (`char::is_alphanumeric`); a shingle is a
//! run of `ngram` consecutive words. A text with at least one word but fewer
//! than `ngram` words has exactly one shingle: all of its words. A text with no
//! words has no shingles.
//!
//! The parts, in the order the data flows through them:
//!
//! - `normalisation`: NFKC and lowercasing ([`normalise`]), and the checks
//!   that let the scan skip them (text that only needs ASCII lowercasing).
//! - `word_split`: what a word is, and the words of normalised text
//!   ([`for_each_word`], [`words`]).
//! - `canonical`: the canonical form, the key of exact duplicates
//!   ([`exact_form`]): its definition and the block-wise collapse that the
//!   scan makes it with.
//! - `word_hashing`: the hash of one word ([`word_hash`]), and its form for
//!   words of up to 16 bytes loaded into vector lanes.
//! - `scan`: [`TextScan`], one pass from a text to its canonical form and
//!   word hashes, on the widest vector unit the CPU has.
//! - `block_masks`: the per-block byte masks the scan is built from
//!   (whitespace, non-ASCII bytes, word bytes).
//! - `word_scan`: the portable word scan: word runs from the block masks,
//!   hashed in batches.
//! - `scan_avx512` (x86-64): the block masks and word scan with AVX-512.
//! - `shingles`: word hashes to shingle hashes ([`shingle_set`]).

mod block_masks;
mod canonical;
mod normalisation;
mod scan;
#[cfg(target_arch = "x86_64")]
mod scan_avx512;
mod shingles;
mod word_hashing;
mod word_scan;
mod word_split;

pub use canonical::{exact_form, exact_form_of_normalised};
pub use normalisation::{normalise, normalise_into};
pub use scan::TextScan;
pub use shingles::{shingle_set, shingle_set_of_normalised};
pub use word_hashing::word_hash;
pub use word_split::{for_each_word, words};

#[cfg(test)]
mod tests;

//! Normalisation, tokenisation and word shingles.
//!
//! Text is normalised with Unicode NFKC and lowercased. Its canonical form
//! (the exact-duplicate key) collapses each whitespace run to one space and
//! trims the ends, but drops a whitespace run entirely next to a character
//! of a script written without spaces (Han, kana, Thai, Lao, Khmer,
//! Myanmar, Tibetan, Yi and the like; see `scripts`) or CJK punctuation.
//! Words (tokens) are those of the canonical form: maximal runs of Unicode
//! alphanumeric characters (`char::is_alphanumeric`), except that each
//! letter of a script written without spaces is a token of its own, with
//! the combining marks that follow it. A shingle is a run of `ngram`
//! consecutive tokens: `ngram` words in spaced scripts, `ngram` characters
//! in the others, in one sequence for mixed text. A text with at least one
//! token but fewer than `ngram` has exactly one shingle: all of its tokens.
//! A text with no token has no shingles. Text without characters of those
//! scripts (or CJK punctuation) is tokenised as words alone, as before
//! they were added.
//!
//! The parts, in the order the data flows through them:
//!
//! - `char_props`: the properties of non-ASCII characters that the steps
//!   below ask (alphanumeric, NFKC-stable, own lowercase), from one table
//!   of the Basic Multilingual Plane built on first use.
//! - `normalisation`: NFKC and lowercasing ([`normalise`]), and the checks
//!   that let the scan skip them (text that only needs ASCII lowercasing).
//! - `scripts`: which characters belong to scripts written without spaces,
//!   and the check that routes a text with any of them through their rules.
//! - `word_split`: what a word is, and the words of normalised text
//!   ([`for_each_word`], [`words`]): the one scalar definition, which the
//!   vector word scans call for runs with non-ASCII bytes.
//! - `canonical`: the canonical form, the key of exact duplicates
//!   ([`exact_form`]): its definition and the block-wise collapse that the
//!   scan makes it with (for text without characters of those scripts).
//! - `word_hashing`: the hash of one word ([`word_hash`]), and its form for
//!   words of up to 16 bytes loaded into vector lanes.
//! - `scan`: [`TextScan`], one pass from a text to its canonical form and
//!   word hashes, on the widest vector unit the CPU has.
//! - `block_masks`: the per-block byte masks the scan is built from
//!   (whitespace, non-ASCII bytes, word bytes).
//! - `word_scan`: the portable word scan: word runs from the block masks,
//!   hashed in batches.
//! - `scan_avx2` (x86-64): the block masks with AVX2.
//! - `scan_avx512` (x86-64): the block masks and word scan with AVX-512.
//! - `shingles`: word hashes to shingle hashes ([`shingle_set`]).

mod block_masks;
mod canonical;
mod char_props;
mod normalisation;
mod scan;
#[cfg(target_arch = "x86_64")]
mod scan_avx2;
#[cfg(target_arch = "x86_64")]
mod scan_avx512;
mod scripts;
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
mod script_tests;
#[cfg(test)]
mod tests;

//! One pass over a text for dedup: its exact-duplicate key, whether it has
//! content, and its MinHash signature; and, for verification, its shingle set.
//!
//! [`Sketcher`] is the only entry point the dedup pipeline uses for text, so
//! the tokeniser, the shingle hash and the sketch can change behind it.
//! [`minhash`] holds the signature's kernels.

pub mod minhash;

use std::cell::RefCell;
use std::mem::MaybeUninit;

/// Version of the values a [`Sketcher`] gives for the same options: shingle
/// hashes, signatures and so band keys. Raised whenever any of them change
/// (the pinned tests `dedup::sketch::minhash::tests::signature_values_are_pinned` and
/// `text::tests::shingle_hashes_are_stable` fail first), so that stored
/// sketches, such as the `thresher dedup` work directory's, are never mixed
/// across versions.
///
/// - 2: the lane-friendly word hash.
/// - 3: scripts written without spaces (Han, kana, Thai, Lao, Khmer,
///   Myanmar, Tibetan, Yi and the like; see [`crate::text`]): each of their
///   letters, with the combining marks after it, is a token, and whitespace
///   beside them or CJK punctuation is dropped from the canonical form, so
///   the exact keys, shingle hashes and signatures of texts with such
///   characters changed. Text without them (English, Korean and every
///   other spaced script) keeps the values of version 2, bit for bit
///   (`text::tests::shingle_hashes_are_stable` and the signature pins are
///   unchanged; `text::script_tests::unspaced_shingle_hashes_are_pinned`
///   pins the new ones).
/// - 4: the rounds after the first hash two 32-bit words of each shingle
///   with one multiply-add per round instead of a full 64-bit mix (see
///   [`minhash`]). Signatures of sets that round 0 fills (most texts of
///   well over `num_perm` shingles) keep their values; those of shorter
///   texts, and so their band keys, changed. Shingle hashes and exact keys
///   did not.
/// - 5: the random rounds end at `num_perm / 8`; the bins still empty
///   after them are filled one by one, each by its own multiply-add hash
///   (see [`minhash`]). Signatures of sets the random rounds fill (nearly
///   every set of over about 100 shingles) keep their values; those of
///   shorter texts, and so their band keys, changed.
pub const SKETCH_FORMAT: u32 = 5;

use crate::dedup::exact::{key_of_exact_form_bytes, ExactKey};
use crate::hashsort::HashSorter;
use crate::text::TextScan;
use minhash::MinHasher;

/// What a text contributes to dedup besides its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSketch {
    /// xxh3-128 of the canonical form ([`crate::text::exact_form`]).
    pub exact_key: ExactKey,
    /// False when the text is empty or only whitespace after normalisation.
    pub has_content: bool,
    /// False when the text has no word (so no shingle); its signature is all
    /// `u32::MAX`.
    pub has_shingles: bool,
}

/// Sketches texts for one choice of `ngram`, `num_perm` and `seed`.
#[derive(Debug, Clone)]
pub struct Sketcher {
    ngram: usize,
    hasher: MinHasher,
}

/// Buffers kept by a thread longer than this are dropped after use.
const KEEP_SCRATCH_BYTES: usize = 4 << 20;

thread_local! {
    /// One scan buffer per thread: no allocation per text once warm.
    static SCAN: RefCell<TextScan> = RefCell::new(TextScan::new());
    /// One sorter per thread, for shingle sets.
    static SORTER: RefCell<HashSorter> = RefCell::new(HashSorter::new());
}

/// Runs `f` on this thread's sorter (a fresh one if it is in use).
fn with_sorter<R>(f: impl FnOnce(&mut HashSorter) -> R) -> R {
    SORTER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut sorter) => f(&mut sorter),
        Err(_) => f(&mut HashSorter::new()),
    })
}

/// Runs `f` on this thread's scan buffers (fresh ones if they are in use).
fn with_scan<R>(f: impl FnOnce(&mut TextScan) -> R) -> R {
    SCAN.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scan) => {
            let out = f(&mut scan);
            scan.shrink(KEEP_SCRATCH_BYTES);
            out
        }
        Err(_) => f(&mut TextScan::new()),
    })
}

impl Sketcher {
    /// A sketcher of word `ngram`-shingles with `num_perm` values from `seed`.
    pub fn new(ngram: usize, num_perm: usize, seed: u64) -> Self {
        Self {
            ngram: ngram.max(1),
            hasher: MinHasher::new(num_perm, seed),
        }
    }

    /// Words per shingle.
    pub fn ngram(&self) -> usize {
        self.ngram
    }

    /// Values per signature.
    pub fn num_perm(&self) -> usize {
        self.hasher.num_perm()
    }

    /// Exact key and flags of `text`; writes its signature into `signature`
    /// (length [`Self::num_perm`]).
    pub fn sketch(&self, text: &str, signature: &mut [u32]) -> TextSketch {
        self.sketch_into(text, signature, None)
    }

    /// The signature of `text` alone.
    pub fn signature_into(&self, text: &str, signature: &mut [u32]) {
        with_scan(|scan| {
            scan.scan(text, self.ngram);
            self.hasher.signature_into(scan.shingles(), signature);
        })
    }

    /// [`Self::signature_into`] into memory not yet written (every value of
    /// `signature` is written).
    pub fn signature_into_uninit(&self, text: &str, signature: &mut [MaybeUninit<u32>]) {
        with_scan(|scan| {
            scan.scan(text, self.ngram);
            self.hasher
                .signature_into_uninit(scan.shingles(), signature);
        })
    }

    /// [`Self::sketch`], also appending the text's shingle hashes (in text
    /// order, repeats kept) to `shingles`, so that verification can skip
    /// scanning the text again ([`Self::set_of_shingles`]).
    pub fn sketch_keeping_shingles(
        &self,
        text: &str,
        signature: &mut [u32],
        shingles: &mut Vec<u64>,
    ) -> TextSketch {
        self.sketch_into(text, signature, Some(shingles))
    }

    /// [`Self::sketch`], copying the shingle hashes into `keep` when given.
    fn sketch_into(
        &self,
        text: &str,
        signature: &mut [u32],
        keep: Option<&mut Vec<u64>>,
    ) -> TextSketch {
        with_scan(|scan| {
            let has_shingles = match keep {
                Some(kept) => {
                    let start = kept.len();
                    scan.scan_shingles_into(text, self.ngram, kept);
                    self.hasher.signature_into(&kept[start..], signature);
                    kept.len() > start
                }
                None => {
                    scan.scan(text, self.ngram);
                    self.hasher.signature_into(scan.shingles(), signature);
                    !scan.shingles().is_empty()
                }
            };
            let form = scan.exact_form();
            TextSketch {
                exact_key: key_of_exact_form_bytes(form),
                has_content: !form.is_empty(),
                has_shingles,
            }
        })
    }

    /// The exact key of `text` as [`Self::sketch`] gives it (the same
    /// scan), without its shingles or signature.
    pub fn exact_key(text: &str) -> ExactKey {
        with_scan(|scan| {
            scan.scan_exact_form(text);
            key_of_exact_form_bytes(scan.exact_form())
        })
    }

    /// Hashes of the distinct shingles of `text`, sorted ascending: what
    /// exact Jaccard verification compares.
    pub fn shingle_set(&self, text: &str) -> Vec<u64> {
        with_scan(|scan| {
            scan.scan(text, self.ngram);
            self.set_of_shingles(scan.shingles())
        })
    }

    /// The distinct values of `shingles` (a text's shingle hashes, as
    /// [`Self::sketch_keeping_shingles`] kept them), sorted ascending: the
    /// text's [`Self::shingle_set`].
    pub fn set_of_shingles(&self, shingles: &[u64]) -> Vec<u64> {
        let mut set = Vec::with_capacity(shingles.len());
        with_sorter(|sorter| sorter.sorted_distinct_into(shingles, &mut set));
        set
    }

    /// [`Self::set_of_shingles`] in place: the first values of `shingles`
    /// become the text's [`Self::shingle_set`]; returns its length.
    pub fn sort_into_set(&self, shingles: &mut [u64]) -> usize {
        with_sorter(|sorter| sorter.sorted_distinct_in_slice(shingles))
    }

    /// The signature of a text from its kept shingle hashes: the text's
    /// [`Self::signature_into`].
    pub fn signature_of_shingles(&self, shingles: &[u64], signature: &mut [u32]) {
        self.hasher.signature_into(shingles, signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::exact::exact_key;
    use crate::text::shingle_set;

    #[test]
    fn sketch_agrees_with_the_separate_steps() {
        let sketcher = Sketcher::new(5, 32, 9);
        for text in [
            "The quick brown fox jumps over the lazy dog",
            "  Fréchet   means ",
            "!!!",
            "",
            "日本語 テキスト",
        ] {
            let mut signature = vec![0; 32];
            let sketch = sketcher.sketch(text, &mut signature);
            assert_eq!(sketch.exact_key, exact_key(text));
            assert_eq!(sketch.has_content, !text.trim().is_empty());
            let shingles = shingle_set(text, 5);
            assert_eq!(sketch.has_shingles, !shingles.is_empty());
            assert_eq!(signature, MinHasher::new(32, 9).signature(&shingles));
            let mut alone = vec![0; 32];
            sketcher.signature_into(text, &mut alone);
            assert_eq!(alone, signature);
            assert_eq!(sketcher.shingle_set(text), shingles);
        }
    }
}

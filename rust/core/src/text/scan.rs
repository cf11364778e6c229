//! [`TextScan`]: one pass from a text to its canonical form and word hashes
//! (then its shingles), without an allocation per word; and the dispatch of
//! the block scans to the widest vector unit the CPU has.

use super::block_masks::{BlockMasks, PortableMasks, BLOCK};
use super::canonical::{ascii_exact_form_checked, ascii_exact_form_into, canonical_into, PAD};
use super::normalisation::{has_non_ascii_space, is_normalised_but_ascii_case, normalise_into};
#[cfg(target_arch = "x86_64")]
use super::scan_avx2::Avx2Masks;
#[cfg(target_arch = "x86_64")]
use super::scan_avx512::Avx512Masks;
use super::scripts::has_unspaced;
use super::shingles::shingles_of_words;
use crate::simd::{dispatch, kernel};

/// Reusable buffers for the scan of one text: its canonical form (for the
/// exact key) and its shingle hashes, without an allocation per word or
/// shingle. One per thread is enough; see [`crate::dedup::sketch`].
#[derive(Debug, Default)]
pub struct TextScan {
    /// Canonical form, then at least [`PAD`] more bytes.
    canonical: Vec<u8>,
    canonical_len: usize,
    /// Word hashes, in text order: the first `word_count` (the rest is
    /// room kept from earlier texts, so that no text pays to zero it).
    hashes: Vec<u64>,
    word_count: usize,
    /// Normalised text (non-ASCII input only).
    normalised: String,
    /// Shingle hashes, in text order.
    shingles: Vec<u64>,
}

impl TextScan {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Normalises `text` and scans it: afterwards [`Self::exact_form`] and
    /// [`Self::shingles`] describe it.
    pub fn scan(&mut self, text: &str, ngram: usize) {
        self.scan_text_words(text);
        self.shingle_words(ngram);
    }

    /// The canonical form and word hashes of `text`.
    fn scan_text_words(&mut self, text: &str) {
        // ASCII is already NFKC: lowercase, collapse and hash on the fly. For
        // other text that normalisation leaves alone but for ASCII letters
        // the block scan lowercases those and copies the other characters
        // unchanged.
        if let Some(scanned) = scan_text(text, &mut self.canonical, &mut self.hashes) {
            (self.canonical_len, self.word_count) = scanned;
        } else {
            let mut normalised = std::mem::take(&mut self.normalised);
            normalise_into(text, &mut normalised);
            self.scan_words(&normalised);
            self.normalised = normalised;
        }
    }

    /// Normalises `text` and scans it as [`Self::scan`] does, but makes no
    /// shingles: afterwards [`Self::exact_form`] describes it, and
    /// [`Self::shingles`] is empty.
    pub fn scan_exact_form(&mut self, text: &str) {
        self.scan_text_words(text);
        self.shingles.clear();
    }

    /// [`Self::scan`] for text that is already normalised.
    pub fn scan_normalised(&mut self, normalised: &str, ngram: usize) {
        self.scan_words(normalised);
        self.shingle_words(ngram);
    }

    /// [`Self::scan`], but the shingle hashes are appended to `out` instead
    /// (so that a caller keeping them needs no copy); [`Self::shingles`] is
    /// then empty.
    pub fn scan_shingles_into(&mut self, text: &str, ngram: usize, out: &mut Vec<u64>) {
        self.scan_text_words(text);
        self.shingles.clear();
        let words = self.hashes.get(..self.word_count).unwrap_or_default();
        shingles_of_words(words, ngram, out);
    }

    fn shingle_words(&mut self, ngram: usize) {
        self.shingles.clear();
        let words = self.hashes.get(..self.word_count).unwrap_or_default();
        shingles_of_words(words, ngram, &mut self.shingles);
    }

    fn scan_words(&mut self, normalised: &str) {
        let canonical = &mut self.canonical;
        if has_non_ascii_space(normalised) || has_unspaced(normalised) {
            // The canonical form by the definition (the block collapse
            // keeps every gap and knows only ASCII whitespace), then its
            // words, which for runs with non-ASCII bytes the word scans
            // take from the one scalar definition.
            canonical_into(normalised, canonical);
            self.canonical_len = canonical.len();
            canonical.resize(self.canonical_len + BLOCK + PAD, 0);
            self.word_count =
                canonical_word_hashes(&self.canonical, self.canonical_len, &mut self.hashes);
        } else {
            // All whitespace is ASCII and every gap is kept: the block-wise
            // collapse applies (it copies the bytes of other characters
            // unchanged).
            (self.canonical_len, self.word_count) =
                scan_bytes::<true>(normalised.as_bytes(), canonical, &mut self.hashes);
        }
    }

    /// The canonical form of the last text scanned ([`exact_form`](super::exact_form)).
    pub fn exact_form(&self) -> &[u8] {
        &self.canonical[..self.canonical_len]
    }

    /// Shingle hashes of the last text scanned, in text order, repeats kept.
    pub fn shingles(&self) -> &[u64] {
        &self.shingles
    }

    /// Distinct shingle hashes of the last text scanned, sorted.
    pub fn shingle_set(&self) -> Vec<u64> {
        crate::hashsort::sorted_distinct(&self.shingles)
    }

    /// Gives back memory held for an unusually long text.
    pub fn shrink(&mut self, keep_bytes: usize) {
        if self.canonical.capacity() > keep_bytes {
            self.canonical = Vec::new();
        }
        if self.hashes.capacity() * 8 > keep_bytes {
            self.hashes = Vec::new();
            self.word_count = 0;
        }
        if self.shingles.capacity() * 8 > keep_bytes {
            self.shingles = Vec::new();
        }
        if self.normalised.capacity() > keep_bytes {
            self.normalised = String::new();
        }
    }
}

/// The [`word_hash`](super::word_hash) of every word of the canonical form `buf[..len]`
/// (followed by at least [`PAD`] bytes; any canonical form) to the front of
/// `hashes` (see [`word_hashes`](super::word_scan::word_hashes)); returns how many there are. On the widest
/// vector unit the CPU has.
pub(super) fn canonical_word_hashes(buf: &[u8], len: usize, hashes: &mut Vec<u64>) -> usize {
    dispatch!(
        Avx512 => canonical_word_hashes_avx512(buf, len, hashes),
        Avx2 => canonical_word_hashes_avx2(buf, len, hashes);
        else canonical_word_hashes_portable(buf, len, hashes)
    )
}

kernel!(avx2;
/// [`canonical_word_hashes_portable`] with the AVX2 block masks.
///
/// # Safety
/// The CPU must run [`Level::Avx2`](crate::simd::Level::Avx2).
pub(super) unsafe fn canonical_word_hashes_avx2(
    buf: &[u8],
    len: usize,
    hashes: &mut Vec<u64>,
) -> usize {
    // SAFETY: the caller's contract: the CPU runs AVX2.
    let masks = unsafe { Avx2Masks::new() };
    masks.word_hashes::<true>(buf, len, hashes)
}
);

kernel!(avx512;
/// [`canonical_word_hashes_portable`] with the AVX-512 word scan.
///
/// # Safety
/// The CPU must run [`Level::Avx512`](crate::simd::Level::Avx512).
pub(super) unsafe fn canonical_word_hashes_avx512(
    buf: &[u8],
    len: usize,
    hashes: &mut Vec<u64>,
) -> usize {
    // SAFETY: this function runs only where the CPU runs Level::Avx512.
    let masks = unsafe { Avx512Masks::new() };
    masks.word_hashes::<true>(buf, len, hashes)
}
);

/// The portable [`canonical_word_hashes`], the definition of the others.
#[inline(always)]
pub(super) fn canonical_word_hashes_portable(
    buf: &[u8],
    len: usize,
    hashes: &mut Vec<u64>,
) -> usize {
    PortableMasks.word_hashes::<true>(buf, len, hashes)
}

/// [`TextScan::scan`]'s fast paths in one pass over `text`: its canonical
/// form by the block collapse, which also finds whether `text` is ASCII
/// (so no separate pass checks that); then the word hashes of an ASCII
/// text (as [`scan_bytes`] without `UNICODE`), or of one whose only change under
/// [`normalise`](super::normalise) is ASCII lowercasing and whose whitespace is all ASCII
/// and that has no character of a script written without spaces
/// ([`is_normalised_but_ascii_case`]; as [`scan_bytes`] with `UNICODE`,
/// whose collapse is the same). `None`, with `canonical` overwritten, for
/// any other text.
pub(super) fn scan_text(
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    dispatch!(
        Avx512 => scan_text_avx512(text, canonical, hashes),
        Avx2 => scan_text_avx2(text, canonical, hashes);
        else scan_text_portable(text, canonical, hashes)
    )
}

kernel!(avx2;
/// [`scan_text_portable`] with the AVX2 block masks.
///
/// # Safety
/// The CPU must run [`Level::Avx2`](crate::simd::Level::Avx2).
pub(super) unsafe fn scan_text_avx2(
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    // SAFETY: the caller's contract: the CPU runs AVX2.
    let masks = unsafe { Avx2Masks::new() };
    scan_text_with(masks, text, canonical, hashes)
}
);

kernel!(avx512;
/// [`scan_text_portable`] with the AVX-512 block masks and word scan.
///
/// # Safety
/// The CPU must run [`Level::Avx512`](crate::simd::Level::Avx512).
pub(super) unsafe fn scan_text_avx512(
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    // SAFETY: this function runs only where the CPU runs Level::Avx512.
    let masks = unsafe { Avx512Masks::new() };
    scan_text_with(masks, text, canonical, hashes)
}
);

/// The portable [`scan_text`], the definition of the others.
#[inline(always)]
pub(super) fn scan_text_portable(
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    scan_text_with(PortableMasks, text, canonical, hashes)
}

/// [`scan_text`] with the block masks of `masks`.
#[inline(always)]
fn scan_text_with(
    masks: impl BlockMasks,
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    let (len, high) = ascii_exact_form_checked(masks, text.as_bytes(), canonical);
    if !high {
        return Some((len, masks.word_hashes::<false>(canonical, len, hashes)));
    }
    if is_normalised_but_ascii_case(text) {
        return Some((len, masks.word_hashes::<true>(canonical, len, hashes)));
    }
    None
}

/// Scans `text` that is ASCII (`UNICODE` false) or normalised UTF-8 whose
/// whitespace is all ASCII (`UNICODE` true): its canonical form into
/// `canonical` and its word hashes to the front of `hashes` (see
/// [`word_hashes`](super::word_scan::word_hashes)); returns the length of the canonical form and the
/// number of words. On the widest vector unit the CPU has.
pub(super) fn scan_bytes<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    dispatch!(
        Avx512 => scan_bytes_avx512::<UNICODE>(text, canonical, hashes),
        Avx2 => scan_bytes_avx2::<UNICODE>(text, canonical, hashes);
        else scan_bytes_portable::<UNICODE>(text, canonical, hashes)
    )
}

kernel!(avx2;
/// [`scan_bytes_portable`] with the AVX2 block masks.
///
/// # Safety
/// The CPU must run [`Level::Avx2`](crate::simd::Level::Avx2).
pub(super) unsafe fn scan_bytes_avx2<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    // SAFETY: the caller's contract: the CPU runs AVX2.
    let masks = unsafe { Avx2Masks::new() };
    scan_bytes_with::<UNICODE>(masks, text, canonical, hashes)
}
);

kernel!(avx512;
/// AVX-512 BW builds the byte masks, DQ gives the 64-bit lane multiplies of
/// the word hash (`vpmullq`); POPCNT counts the word starts and ends of a
/// block (without it, LLVM counts bits in vector registers).
///
/// # Safety
/// The CPU must run [`Level::Avx512`](crate::simd::Level::Avx512).
pub(super) unsafe fn scan_bytes_avx512<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    // SAFETY: this function runs only where the CPU runs Level::Avx512.
    let masks = unsafe { Avx512Masks::new() };
    scan_bytes_with::<UNICODE>(masks, text, canonical, hashes)
}
);

/// The portable scan, the definition of the others.
#[inline(always)]
pub(super) fn scan_bytes_portable<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    scan_bytes_with::<UNICODE>(PortableMasks, text, canonical, hashes)
}

/// The scan with the block masks of `masks`. The dispatched scans compile
/// this same code with wider vectors (and, for AVX-512, masks from mask
/// compares that give the portable masks' bits), so they give the same
/// bytes and hashes.
#[inline(always)]
fn scan_bytes_with<const UNICODE: bool>(
    masks: impl BlockMasks,
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    let len = ascii_exact_form_into(masks, text, canonical);
    let words = masks.word_hashes::<UNICODE>(canonical, len, hashes);
    (len, words)
}

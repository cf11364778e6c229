//! The dedup pipeline for one column of texts held in memory: exact keys,
//! signatures, LSH candidates, verification and clusters, by running the
//! passes of [`DedupEngine`] over the whole column.
//!
//! Rows are processed in parallel with rayon; every step produces its output
//! in row order, candidate pairs are sorted, and representatives are chosen
//! by priority then lowest row, so the result is the same for any thread count.

use rayon::prelude::*;

use super::engine::DedupEngine;
use super::exact::ExactKey;
use super::sketch::Sketcher;
use super::{DedupOptions, DedupResult, Edge};
use crate::cancel::Cancel;
use crate::error::{Error, Result};

/// Rows per chunk fed to the verification and scoring passes.
const FEED_ROWS: usize = 1 << 16;

/// Bytes of shingle hashes an in-memory run keeps from its sketch pass for
/// its verification pass, at most: verifying those rows then needs no second
/// scan of their texts.
const KEPT_SHINGLE_BYTES: usize = 256 << 20;

/// Rows of the longest prefix of `texts` whose shingle hashes should fit in
/// `budget` bytes: a text of `n` bytes has at most `n / 2 + 1` words, so at
/// most that many shingles of 8 bytes (unless NFKC gives it more words than
/// that, as `¼` does: [`crate::dedup::verify::kept_shingles::KeptShingles::rows_within`] then trims the prefix).
fn rows_whose_shingles_fit(texts: &[&str], budget: usize) -> usize {
    let mut used = 0usize;
    texts
        .iter()
        .take_while(|text| {
            used = used.saturating_add((text.len() / 2 + 1) * 8);
            used <= budget
        })
        .count()
}

fn check_row_count(n: usize) -> Result<()> {
    if n >= u32::MAX as usize {
        return Err(Error::InvalidArgument(format!("too many rows: {n}")));
    }
    Ok(())
}

/// Asks Linux to back the 2 MiB-aligned part of `buf` (not yet touched) by
/// huge pages: one fault per 2 MiB instead of one per 4 KiB when the rows
/// are written.
fn huge_pages<T>(buf: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buf.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(buf);
        let (from, to) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if from < to {
            // SAFETY: the range lies inside `buf`; the advice changes no
            // contents.
            unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
        }
    }
}

/// MinHash signatures of `texts`, row after row, `num_perm` values each;
/// stops with [`Error::Cancelled`] soon after `cancel` is set.
pub fn signatures(
    texts: &[&str],
    ngram: usize,
    num_perm: usize,
    seed: u64,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let options = DedupOptions {
        ngram,
        num_perm,
        seed,
        ..DedupOptions::default()
    };
    options.validate()?;
    let sketcher = Sketcher::new(ngram, num_perm, seed);
    let len = texts.len() * num_perm;
    // Not zeroed first: every value is written below (a reused heap block
    // would otherwise be cleared by a `memset` of the whole output).
    let mut out: Vec<u32> = Vec::with_capacity(len);
    let rows = &mut out.spare_capacity_mut()[..len];
    huge_pages(rows);
    // `validate` holds `num_perm` to at least 1.
    rows.par_chunks_mut(num_perm)
        .zip(texts.par_iter())
        .for_each(|(slot, text)| {
            if !cancel.is_cancelled() {
                sketcher.signature_into_uninit(text, slot);
            }
        });
    cancel.check()?;
    // SAFETY: not cancelled, so every row's `num_perm` values were written
    // (`signature_into_uninit` writes all of its slice), and the rows
    // cover `len` values.
    unsafe { out.set_len(len) };
    Ok(out)
}

/// The exact keys of `texts`, in row order: the keys [`dedup`] gives them
/// (the same scan as the sketch's, without shingles or signatures); stops
/// with [`Error::Cancelled`] soon after `cancel` is set.
pub fn exact_keys(texts: &[&str], cancel: &Cancel) -> Result<Vec<ExactKey>> {
    let keys = texts
        .par_iter()
        .map(|text| {
            if cancel.is_cancelled() {
                0
            } else {
                Sketcher::exact_key(text)
            }
        })
        .collect();
    cancel.check()?;
    Ok(keys)
}

/// Finds exact and near duplicates among `texts`.
///
/// Rows whose text is empty after normalisation are never duplicates. Rows
/// without a word (only punctuation) can be exact duplicates of each other but
/// are never near duplicates. Exact duplicates are linked to the first row
/// with their key and skip MinHash. The representative of a cluster is its
/// lowest row.
pub fn dedup(texts: &[&str], options: &DedupOptions) -> Result<DedupResult> {
    dedup_cancellable(texts, options, &Cancel::new())
}

/// [`dedup`] that stops with [`Error::Cancelled`] soon after `cancel` is set.
pub fn dedup_cancellable(
    texts: &[&str],
    options: &DedupOptions,
    cancel: &Cancel,
) -> Result<DedupResult> {
    dedup_with_priority(texts, options, None, cancel)
}

/// [`dedup`] whose cluster representatives are the rows of highest
/// `priority` (one value per row; ties go to the lowest row). The passes of
/// [`DedupEngine`] run over `texts` in one go.
pub fn dedup_with_priority(
    texts: &[&str],
    options: &DedupOptions,
    priority: Option<&[i64]>,
    cancel: &Cancel,
) -> Result<DedupResult> {
    dedup_keeping_shingles(texts, options, priority, KEPT_SHINGLE_BYTES, cancel)
}

/// [`dedup_with_priority`] that keeps at most `kept_bytes` of shingle hashes
/// from the sketch pass for the verification pass (the result is the same
/// for any amount).
fn dedup_keeping_shingles(
    texts: &[&str],
    options: &DedupOptions,
    priority: Option<&[i64]>,
    kept_bytes: usize,
    cancel: &Cancel,
) -> Result<DedupResult> {
    let mut engine = verified_engine(texts, options, priority, kept_bytes, cancel)?;
    if engine.cluster(priority, cancel)? > 0 {
        for chunk in texts.chunks(FEED_ROWS) {
            engine.score(chunk, cancel)?;
        }
    }
    engine.result()
}

/// An engine that has run the sketch, candidate and verification passes
/// over `texts`, keeping at most `kept_bytes` of shingle hashes from the
/// sketch pass for verification (and scoring ahead the pairs that the
/// representatives by `priority` will most likely need).
fn verified_engine(
    texts: &[&str],
    options: &DedupOptions,
    priority: Option<&[i64]>,
    kept_bytes: usize,
    cancel: &Cancel,
) -> Result<DedupEngine> {
    check_row_count(texts.len())?;
    let mut engine = DedupEngine::new(options)?;
    // The first rows keep their shingle hashes for verification; the rest
    // are scanned again there.
    let (head, tail) = texts.split_at(rows_whose_shingles_fit(texts, kept_bytes));
    let (sketches, mut kept) = engine.sketch_keeping_shingles(head, cancel)?;
    engine.add(sketches)?;
    let sketches = engine.sketch(tail, cancel)?;
    engine.add(sketches)?;
    kept.truncate(kept.rows_within(kept_bytes));
    let rescanned = &texts[kept.len()..];
    engine.find_candidates(priority, cancel)?;
    engine.verify_kept(&mut kept, cancel)?;
    drop(kept);
    // Fed in chunks, so profiles are dropped as soon as no later row needs
    // them, as in a streamed run.
    for chunk in rescanned.chunks(FEED_ROWS) {
        engine.verify(chunk, cancel)?;
    }
    Ok(engine)
}

/// The verified edges of [`dedup`] alone, without its clusters (so without
/// its clustering and scoring passes).
pub fn similar_pairs(texts: &[&str], options: &DedupOptions) -> Result<Vec<Edge>> {
    similar_pairs_cancellable(texts, options, &Cancel::new())
}

/// [`similar_pairs`] that stops with [`Error::Cancelled`] soon after
/// `cancel` is set.
pub fn similar_pairs_cancellable(
    texts: &[&str],
    options: &DedupOptions,
    cancel: &Cancel,
) -> Result<Vec<Edge>> {
    verified_engine(texts, options, None, KEPT_SHINGLE_BYTES, cancel)?.verified_edges()
}

#[cfg(test)]
mod tests;

//! The dedup pipeline for one column of texts held in memory: exact keys,
//! signatures, LSH candidates, verification and clusters, by running the
//! passes of [`crate::engine::DedupEngine`] over the whole column.
//!
//! Rows are processed in parallel with rayon; every step produces its output
//! in row order, candidate pairs are sorted, and representatives are chosen
//! by priority then lowest row, so the result is the same for any thread count.

use rayon::prelude::*;

use crate::cancel::Cancel;
use crate::engine::DedupEngine;
use crate::error::{Error, Result};
use crate::exact::ExactKey;
use crate::lsh::Banding;
use crate::minhash::{DEFAULT_NUM_PERM, DEFAULT_SEED};
use crate::sketch::Sketcher;

/// How a candidate pair is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Exact Jaccard similarity of the two shingle sets.
    #[default]
    Exact,
    /// The MinHash estimate from the two signatures (cheaper, approximate).
    Signature,
}

/// Options of [`dedup`] and [`similar_pairs`].
#[derive(Debug, Clone, PartialEq)]
pub struct DedupOptions {
    /// Minimum Jaccard similarity of near duplicates, in `(0, 1]`.
    pub threshold: f64,
    /// Words per shingle.
    pub ngram: usize,
    /// Values per MinHash signature.
    pub num_perm: usize,
    /// Seed of the MinHash permutations.
    pub seed: u64,
    /// How candidates are verified.
    pub verify: Verify,
}

impl Default for DedupOptions {
    fn default() -> Self {
        Self {
            threshold: 0.8,
            ngram: 5,
            num_perm: DEFAULT_NUM_PERM,
            seed: DEFAULT_SEED,
            verify: Verify::Exact,
        }
    }
}

impl DedupOptions {
    /// Checks that every option is in range.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::InvalidArgument(format!(
                "threshold must be in (0, 1], got {}",
                self.threshold
            )));
        }
        if self.ngram == 0 {
            return Err(Error::InvalidArgument("ngram must be at least 1".into()));
        }
        if self.num_perm == 0 || self.num_perm > 4096 {
            return Err(Error::InvalidArgument(format!(
                "num_perm must be in 1..=4096, got {}",
                self.num_perm
            )));
        }
        Ok(())
    }

    /// The LSH banding these options use.
    pub fn banding(&self) -> Banding {
        Banding::for_threshold(self.threshold, self.num_perm)
    }
}

/// A verified pair of rows, `a < b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub a: u32,
    pub b: u32,
    /// Jaccard similarity (exact or estimated, per [`Verify`]).
    pub similarity: f64,
    /// Whether the two rows have the same exact key.
    pub exact: bool,
}

/// Per-row results of [`dedup`], all in input row order.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupResult {
    /// Exact-duplicate key of each row.
    pub exact_key: Vec<ExactKey>,
    /// Lowest row of each row's cluster.
    pub cluster_id: Vec<u32>,
    /// Number of rows in each row's cluster.
    pub cluster_size: Vec<u32>,
    /// The representative, for rows that are duplicates.
    pub duplicate_of: Vec<Option<u32>>,
    /// Similarity of each row to its representative (1 for representatives).
    pub similarity: Vec<f64>,
    /// Verified edges, sorted by `(a, b)`: each exact duplicate linked to the
    /// first row with its key, and near-duplicate pairs between distinct texts.
    pub edges: Vec<Edge>,
    /// The banding that produced the candidates.
    pub banding: Banding,
}

impl DedupResult {
    /// Whether `row` is a duplicate of an earlier row.
    pub fn is_duplicate(&self, row: usize) -> bool {
        self.duplicate_of[row].is_some()
    }
}

/// Rows per chunk fed to the verification and scoring passes.
const FEED_ROWS: usize = 1 << 16;

/// Bytes of shingle hashes an in-memory run keeps from its sketch pass for
/// its verification pass, at most: verifying those rows then needs no second
/// scan of their texts.
const KEPT_SHINGLE_BYTES: usize = 256 << 20;

/// Rows of the longest prefix of `texts` whose shingle hashes should fit in
/// `budget` bytes: a text of `n` bytes has at most `n / 2 + 1` words, so at
/// most that many shingles of 8 bytes (unless NFKC gives it more words than
/// that, as `¼` does: [`crate::kept::KeptShingles::rows_within`] then trims the prefix).
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
    let mut out = vec![0u32; texts.len() * num_perm];
    out.par_chunks_mut(num_perm)
        .zip(texts.par_iter())
        .for_each(|(slot, text)| {
            if !cancel.is_cancelled() {
                sketcher.signature_into(text, slot);
            }
        });
    cancel.check()?;
    Ok(out)
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
    let mut engine = verified_engine(texts, options, kept_bytes, cancel)?;
    if engine.cluster(priority, cancel)? > 0 {
        for chunk in texts.chunks(FEED_ROWS) {
            engine.score(chunk, cancel)?;
        }
    }
    engine.result()
}

/// An engine that has run the sketch, candidate and verification passes
/// over `texts`, keeping at most `kept_bytes` of shingle hashes from the
/// sketch pass for verification.
fn verified_engine(
    texts: &[&str],
    options: &DedupOptions,
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
    engine.find_candidates(cancel)?;
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
    verified_engine(texts, options, KEPT_SHINGLE_BYTES, cancel)?.verified_edges()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jaccard::jaccard;
    use crate::minhash::MinHasher;
    use crate::text::shingle_set;

    /// A deterministic pseudo-random text of `n` words from a 5000-word vocabulary.
    fn random_text(seed: u64, n: usize) -> Vec<String> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("w{}", (state >> 33) % 5000)
            })
            .collect()
    }

    /// `words` with every `every`-th word replaced.
    fn edited(words: &[String], every: usize) -> Vec<String> {
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i % every == every / 2 {
                    format!("edit{i}")
                } else {
                    w.clone()
                }
            })
            .collect()
    }

    fn run(texts: &[String], options: &DedupOptions) -> DedupResult {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        dedup(&refs, options).expect("dedup")
    }

    #[test]
    fn known_edits_are_found_and_verified() {
        // 100 base documents; for each, a lightly edited copy (one word in 60:
        // J around 0.85), a heavily edited copy (one word in 6: J well below
        // 0.8) and an exact copy with different case and spacing.
        let mut texts = Vec::new();
        for d in 0..100u64 {
            let base = random_text(d + 1, 300);
            texts.push(base.join(" "));
            texts.push(edited(&base, 60).join(" "));
            texts.push(edited(&base, 6).join(" "));
            texts.push(base.join("  ").to_uppercase());
        }
        let result = run(&texts, &DedupOptions::default());
        for d in 0..100usize {
            let (base, light, heavy, copy) = (4 * d, 4 * d + 1, 4 * d + 2, 4 * d + 3);
            let j_light = jaccard(
                &shingle_set(&texts[base], 5),
                &shingle_set(&texts[light], 5),
            );
            let j_heavy = jaccard(
                &shingle_set(&texts[base], 5),
                &shingle_set(&texts[heavy], 5),
            );
            assert!(j_light >= 0.8 && j_heavy < 0.8, "{j_light} {j_heavy}");
            assert_eq!(result.duplicate_of[light], Some(base as u32));
            assert_eq!(result.similarity[light], j_light);
            assert_eq!(
                result.duplicate_of[heavy], None,
                "J={j_heavy} must not be merged"
            );
            assert_eq!(result.duplicate_of[copy], Some(base as u32));
            assert_eq!(result.similarity[copy], 1.0);
            assert_eq!(result.exact_key[copy], result.exact_key[base]);
            assert_eq!(result.cluster_size[base], 3);
        }
        // Every edge is at or above the threshold.
        assert!(result
            .edges
            .iter()
            .all(|e| e.similarity >= 0.8 && e.a < e.b));
    }

    #[test]
    fn signature_verification_agrees_on_clear_cases() {
        let mut texts = Vec::new();
        for d in 0..50u64 {
            let base = random_text(d + 1000, 400);
            texts.push(base.join(" "));
            texts.push(edited(&base, 100).join(" "));
        }
        let options = DedupOptions {
            verify: Verify::Signature,
            ..DedupOptions::default()
        };
        let result = run(&texts, &options);
        for d in 0..50usize {
            assert_eq!(result.duplicate_of[2 * d + 1], Some(2 * d as u32));
            assert!(result.similarity[2 * d + 1] >= 0.8);
        }
    }

    #[test]
    fn short_and_empty_texts_do_not_collapse() {
        let texts: Vec<String> = [
            "", "", "   ", "!!!", "???", "hello", "world", "hello", "a b", "b a", "a", "", "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let result = run(&texts, &DedupOptions::default());
        let dups: Vec<(usize, u32)> = (0..texts.len())
            .filter_map(|r| result.duplicate_of[r].map(|d| (r, d)))
            .collect();
        // Only the second "hello" is a duplicate; empty and word-less texts
        // stay apart, and short texts with different words are not merged.
        assert_eq!(dups, vec![(7, 5)]);
        assert_eq!(result.cluster_size.iter().filter(|&&s| s > 1).count(), 2);
    }

    #[test]
    fn identical_punctuation_only_texts_are_exact_duplicates() {
        let texts: Vec<String> = ["!!!", "!!!", "?"].iter().map(|s| s.to_string()).collect();
        let result = run(&texts, &DedupOptions::default());
        assert_eq!(result.duplicate_of, vec![None, Some(0), None]);
    }

    #[test]
    fn chained_duplicates_report_similarity_to_the_representative() {
        // b is close to a and c is close to b, but c is farther from a.
        let a = random_text(7, 200);
        let b = edited(&a, 40);
        let c = edited(&b, 37);
        let texts = vec![a.join(" "), b.join(" "), c.join(" ")];
        let options = DedupOptions {
            threshold: 0.7,
            ..DedupOptions::default()
        };
        let result = run(&texts, &options);
        let j_ac = jaccard(&shingle_set(&texts[0], 5), &shingle_set(&texts[2], 5));
        if result.duplicate_of[2] == Some(0) {
            assert_eq!(result.similarity[2], j_ac);
        }
    }

    #[test]
    fn kept_shingles_give_the_result_of_scanning_again() {
        let mut texts = Vec::new();
        for d in 0..200u64 {
            let base = random_text(d % 60 + 1, 80 + (d as usize % 5) * 20);
            texts.push(edited(&base, 40 + (d as usize % 25)).join(" "));
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let total: usize = refs.iter().map(|t| (t.len() / 2 + 1) * 8).sum();
        for verify in [Verify::Exact, Verify::Signature] {
            let options = DedupOptions {
                verify,
                threshold: 0.6,
                ..DedupOptions::default()
            };
            let run_with = |kept: usize| {
                dedup_keeping_shingles(&refs, &options, None, kept, &Cancel::new()).expect("dedup")
            };
            // Nothing kept, every row kept, and a prefix kept.
            let scanned = run_with(0);
            assert!(scanned.edges.len() > 100, "{} edges", scanned.edges.len());
            assert_eq!(rows_whose_shingles_fit(&refs, total), refs.len());
            let half = rows_whose_shingles_fit(&refs, total / 2);
            assert!(half > 0 && half < refs.len());
            for kept in [total, total / 2, 1000] {
                assert_eq!(run_with(kept), scanned, "{verify:?}, {kept} bytes kept");
            }
        }
    }

    #[test]
    fn kept_shingles_beyond_the_estimate_are_trimmed() {
        // "¼ " is 3 bytes and 2 words after NFKC ("1⁄4"): more shingles than
        // the estimate of 1.5 words, so the kept prefix must be trimmed.
        let texts: Vec<String> = (0..60)
            .map(|i| format!("{} w{}", "¼ ".repeat(40 + i % 7), i % 9))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let estimate: usize = refs.iter().map(|t| (t.len() / 2 + 1) * 8).sum();
        let options = DedupOptions {
            threshold: 0.5,
            ..DedupOptions::default()
        };
        let engine = DedupEngine::new(&options).expect("engine");
        let (_, actual) = engine
            .sketch_keeping_shingles(&refs, &Cancel::new())
            .expect("sketch");
        assert!(actual.bytes_before(actual.len()) > estimate);
        assert!(actual.rows_within(estimate) < refs.len());
        let kept = dedup_keeping_shingles(&refs, &options, None, estimate, &Cancel::new());
        let scanned = dedup_keeping_shingles(&refs, &options, None, 0, &Cancel::new());
        let (kept, scanned) = (kept.expect("dedup"), scanned.expect("dedup"));
        assert!(!scanned.edges.is_empty());
        assert_eq!(kept, scanned);
    }

    #[test]
    fn similar_pairs_are_the_edges_of_dedup() {
        // Chains of edits: some rows' representatives are not their verified
        // neighbours, so dedup scores them, which similar_pairs skips.
        let mut texts = Vec::new();
        for d in 0..40u64 {
            let base = random_text(d + 1, 200);
            texts.push(base.join(" "));
            let once = edited(&base, 60);
            texts.push(once.join(" "));
            texts.push(edited(&once, 45).join(" "));
            texts.push(base.join("  ").to_uppercase());
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        for verify in [Verify::Exact, Verify::Signature] {
            let options = DedupOptions {
                threshold: 0.8,
                verify,
                ..DedupOptions::default()
            };
            let pairs = similar_pairs(&refs, &options).expect("similar_pairs");
            let result = dedup(&refs, &options).expect("dedup");
            assert!(pairs.iter().any(|e| e.exact) && pairs.iter().any(|e| !e.exact));
            let scored = (0..refs.len()).filter(|&r| result.similarity[r] < options.threshold);
            assert!(
                scored.count() > 0,
                "no row is scored against a farther representative"
            );
            assert_eq!(pairs, result.edges, "{verify:?}");
        }
    }

    #[test]
    fn same_result_for_any_thread_count() {
        let mut texts = Vec::new();
        for d in 0..300u64 {
            let base = random_text(d % 120 + 1, 120 + (d as usize % 7) * 10);
            texts.push(edited(&base, 20 + (d as usize % 30)).join(" "));
        }
        let results: Vec<DedupResult> = [1, 2, 3, 8]
            .iter()
            .map(|&threads| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                pool.install(|| run(&texts, &DedupOptions::default()))
            })
            .collect();
        assert!(results[0].edges.len() > 100);
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
    }

    #[test]
    fn invalid_options_are_rejected() {
        let texts = ["a"];
        for options in [
            DedupOptions {
                threshold: 0.0,
                ..DedupOptions::default()
            },
            DedupOptions {
                threshold: 1.5,
                ..DedupOptions::default()
            },
            DedupOptions {
                threshold: f64::NAN,
                ..DedupOptions::default()
            },
            DedupOptions {
                ngram: 0,
                ..DedupOptions::default()
            },
            DedupOptions {
                num_perm: 0,
                ..DedupOptions::default()
            },
        ] {
            assert!(matches!(
                dedup(&texts, &options),
                Err(Error::InvalidArgument(_))
            ));
        }
    }

    #[test]
    fn cancelled_calls_stop_with_an_error() {
        let texts = ["a b c d e f", "a b c d e f"];
        let cancel = Cancel::new();
        cancel.cancel();
        assert!(matches!(
            dedup_cancellable(&texts, &DedupOptions::default(), &cancel),
            Err(Error::Cancelled)
        ));
        assert!(matches!(
            signatures(&texts, 5, 8, 1, &cancel),
            Err(Error::Cancelled)
        ));
        assert!(dedup_cancellable(&texts, &DedupOptions::default(), &Cancel::new()).is_ok());
    }

    #[test]
    fn signatures_match_dedup_inputs() {
        let texts = ["one two three four five six", ""];
        let flat = signatures(&texts, 5, 16, 3, &Cancel::new()).expect("signatures");
        let expected = MinHasher::new(16, 3).signature(&shingle_set(texts[0], 5));
        assert_eq!(&flat[..16], expected.as_slice());
        assert!(flat[16..].iter().all(|&v| v == u32::MAX));
    }
}

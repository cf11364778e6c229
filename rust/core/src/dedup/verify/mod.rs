//! Verification: a candidate pair becomes an edge only if its similarity
//! clears the threshold.
//!
//! * [`kept_shingles`]: shingle hashes kept from the sketch pass, so that a
//!   row verified soon after needs no second scan of its text.
//! * [`jaccard`]: exact Jaccard of two sorted shingle sets (a block merge
//!   with an early exit).
//! * [`pair_scorer`]: scores the pairs while texts stream past in row order,
//!   holding a row's profile only while a later partner is still to come.
//! * [`pair_similarities`]: scores pairs whose two texts come together
//!   (a dedup spread over partitions joins them by id);
//!   [`pair_similarities_by_row`] scores pairs of rows of one set of texts,
//!   each text profiled once.

pub mod jaccard;
pub mod kept_shingles;
pub mod pair_scorer;

pub use pair_scorer::PairScorer;

use rayon::prelude::*;

use crate::cancel::Cancel;
use crate::dedup::sketch::Sketcher;
use crate::dedup::Verify;
use crate::error::{Error, Result};
use pair_scorer::Profile;

/// The similarity of each pair `(a[i], b[i])` of texts, as the engine's
/// verification (`cutoff` the threshold) and scoring (`cutoff` 0) compute
/// it: exact where it is at least `cutoff`, below it only some value below
/// `cutoff`. In parallel; the values do not depend on the thread count.
pub fn pair_similarities(
    a: &[&str],
    b: &[&str],
    sketcher: &Sketcher,
    verify: Verify,
    cutoff: f64,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    if a.len() != b.len() {
        return Err(Error::InvalidArgument(format!(
            "{} first texts for {} second texts",
            a.len(),
            b.len()
        )));
    }
    let out = a
        .par_iter()
        .zip(b)
        .with_min_len(64)
        .map(|(x, y)| {
            let (x, y) = (
                Profile::of(x, sketcher, verify),
                Profile::of(y, sketcher, verify),
            );
            x.similarity_at_least(&y, cutoff)
        })
        .collect();
    cancel.check()?;
    Ok(out)
}

/// The similarity of each pair of rows `(x, y)` of `pairs`, between
/// `texts[x]` and `texts[y]`, as [`pair_similarities`] gives it, with each
/// text profiled once however many pairs it is in (a partition's texts,
/// each sent to it once, and its pairs by row). In parallel; the values do
/// not depend on the thread count.
pub fn pair_similarities_by_row(
    texts: &[&str],
    pairs: &[(u32, u32)],
    sketcher: &Sketcher,
    verify: Verify,
    cutoff: f64,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    if let Some(&(x, y)) = pairs
        .iter()
        .find(|&&(x, y)| x.max(y) as usize >= texts.len())
    {
        return Err(Error::InvalidArgument(format!(
            "pair ({x}, {y}) names a row beyond the {} texts",
            texts.len()
        )));
    }
    let profiles: Vec<Profile> = texts
        .par_iter()
        .with_min_len(16)
        .map(|text| Profile::of(text, sketcher, verify))
        .collect();
    cancel.check()?;
    let out = pairs
        .par_iter()
        .with_min_len(256)
        .map(|&(x, y)| profiles[x as usize].similarity_at_least(&profiles[y as usize], cutoff))
        .collect();
    cancel.check()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::DedupOptions;

    #[test]
    fn pair_similarities_are_the_verified_edges_similarities() {
        let texts: Vec<String> = (0..40)
            .map(|i| {
                let words: Vec<String> = (0..60)
                    .map(|w| format!("w{}", (w * 7 + i / 4) % 90))
                    .collect();
                words.join(" ")
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        for verify in Verify::ALL {
            let opts = DedupOptions {
                threshold: 0.5,
                verify,
                ..DedupOptions::default()
            };
            let edges = crate::dedup::similar_pairs(&texts, &opts).unwrap();
            let near: Vec<_> = edges.iter().filter(|e| !e.exact).collect();
            assert!(!near.is_empty());
            let a: Vec<&str> = near.iter().map(|e| texts[e.a as usize]).collect();
            let b: Vec<&str> = near.iter().map(|e| texts[e.b as usize]).collect();
            let sketcher = Sketcher::new(opts.ngram, opts.num_perm, opts.seed);
            let got = pair_similarities(&a, &b, &sketcher, verify, opts.threshold, &Cancel::new())
                .unwrap();
            let want: Vec<f64> = near.iter().map(|e| e.similarity).collect();
            assert_eq!(got, want);
        }
        let sketcher = Sketcher::new(5, 128, 1);
        assert!(
            pair_similarities(&["a"], &[], &sketcher, Verify::Exact, 0.0, &Cancel::new()).is_err()
        );
    }

    #[test]
    fn pair_similarities_by_row_are_those_of_the_texts_paired() {
        let texts: Vec<String> = (0..30)
            .map(|i| {
                let words: Vec<String> = (0..50)
                    .map(|w| format!("w{}", (w * 3 + i / 5) % 70))
                    .collect();
                words.join(" ")
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        // Every pair, each text in many: the same values as texts paired.
        let pairs: Vec<(u32, u32)> = (0..30u32)
            .flat_map(|x| ((x + 1)..30).map(move |y| (x, y)))
            .collect();
        let sketcher = Sketcher::new(5, 128, 1);
        for verify in Verify::ALL {
            for cutoff in [0.0, 0.6] {
                let got = pair_similarities_by_row(
                    &texts,
                    &pairs,
                    &sketcher,
                    verify,
                    cutoff,
                    &Cancel::new(),
                )
                .unwrap();
                let a: Vec<&str> = pairs.iter().map(|&(x, _)| texts[x as usize]).collect();
                let b: Vec<&str> = pairs.iter().map(|&(_, y)| texts[y as usize]).collect();
                let want =
                    pair_similarities(&a, &b, &sketcher, verify, cutoff, &Cancel::new()).unwrap();
                assert_eq!(got, want);
                assert!(got.iter().any(|&v| v >= 0.6) && got.iter().any(|&v| v < 0.6));
            }
        }
        let beyond = [(0, 30)];
        let cancel = Cancel::new();
        assert!(
            pair_similarities_by_row(&texts, &beyond, &sketcher, Verify::Exact, 0.0, &cancel)
                .is_err()
        );
    }
}

//! Dedup: exact and near duplicates of a column of texts, in the order the
//! data flows.
//!
//! 1. [`exact`]: the exact-duplicate key of a text (xxh3-128 of its
//!    canonical form).
//! 2. [`sketch`]: one pass over a text: its exact key, whether it has
//!    content, its MinHash signature and, for verification, its shingles.
//! 3. [`lsh`]: bands of the signature and the candidate pairs of rows that
//!    share a band key.
//! 4. [`verify`]: a candidate becomes an [`Edge`] only if its similarity
//!    (exact Jaccard of the shingle sets by default) clears the threshold.
//! 5. [`cluster`]: union-find over the edges; a representative per cluster.
//!
//! Two drivers run those stages: [`engine`] in passes over a stream of
//! texts that need not fit in memory, and [`in_memory`] over one slice,
//! through the engine. [`arrow`] converts results to and from Arrow.
//!
//! The types every stage shares ([`DedupOptions`], [`Verify`], [`Edge`],
//! [`DedupResult`]) live here, so that no stage imports them from a driver.

pub mod arrow;
pub mod cluster;
pub mod engine;
pub mod exact;
pub mod in_memory;
pub mod lsh;
pub mod sketch;
pub mod verify;

pub use engine::{DedupEngine, RowSketches};
pub use in_memory::{
    dedup, dedup_cancellable, dedup_with_priority, exact_keys, signatures, similar_pairs,
    similar_pairs_cancellable,
};

use crate::dedup::sketch::minhash::{DEFAULT_NUM_PERM, DEFAULT_SEED};
use crate::error::{Error, Result};
use exact::ExactKey;
use lsh::Banding;

/// How a candidate pair is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Exact Jaccard similarity of the two shingle sets.
    #[default]
    Exact,
    /// The MinHash estimate from the two signatures (cheaper, approximate).
    Signature,
}

impl Verify {
    /// Every way of verifying.
    pub const ALL: [Verify; 2] = [Verify::Exact, Verify::Signature];

    /// The name the Python API and the command use.
    pub fn name(self) -> &'static str {
        match self {
            Verify::Exact => "exact",
            Verify::Signature => "signature",
        }
    }
}

impl std::str::FromStr for Verify {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Verify::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Verify::ALL.iter().map(|v| v.name()).collect();
                Error::InvalidArgument(format!("verify must be one of {names:?}, got {s:?}"))
            })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_names_round_trip() {
        for verify in Verify::ALL {
            assert_eq!(verify.name().parse::<Verify>().unwrap(), verify);
        }
        let err = "bogus".parse::<Verify>().unwrap_err().to_string();
        assert!(
            err.contains(r#"["exact", "signature"], got "bogus""#),
            "{err}"
        );
    }
}

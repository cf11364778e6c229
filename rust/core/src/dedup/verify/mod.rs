//! Verification: a candidate pair becomes an edge only if its similarity
//! clears the threshold.
//!
//! * [`kept_shingles`]: shingle hashes kept from the sketch pass, so that a
//!   row verified soon after needs no second scan of its text.
//! * [`jaccard`]: exact Jaccard of two sorted shingle sets (a block merge
//!   with an early exit).
//! * [`pair_scorer`]: scores the pairs while texts stream past in row order,
//!   holding a row's profile only while a later partner is still to come.

pub mod jaccard;
pub mod kept_shingles;
pub mod pair_scorer;

pub use pair_scorer::PairScorer;

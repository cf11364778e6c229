//! thresher-core: parse scraped text dumps and find exact and near duplicates.
//!
//! This crate knows nothing of Python. The binding crate (`rust/python`) only
//! converts Arrow data in and out, releases the GIL and maps errors.
//!
//! * [`ingest`] walks paths, sniffs formats and parses dumps into records.
//! * [`text`] normalises and tokenises text into hashed word shingles.
//! * [`exact`] computes exact-duplicate keys.
//! * [`hashsort`] sorts the shingle hashes exact verification compares;
//!   [`jaccard`] compares them ([`prefetch`] asks for them ahead).
//! * [`minhash`] computes MinHash signatures.
//! * [`sketch`] turns one text into its exact key, flags and signature;
//!   [`kept`] holds shingle hashes from the sketch pass for verification.
//! * [`lsh`] chooses bands and turns signatures into candidate pairs.
//! * [`cluster`] verifies candidates and groups rows into clusters.
//! * [`engine`] runs dedup in passes over streamed texts; [`verify`] scores
//!   pairs as texts stream past.
//! * [`dedup`] runs the passes over texts held in memory.
//! * [`cpu`] checks the CPU features the vector kernels need.

mod arrow_batch;
pub mod cancel;
pub mod cluster;
pub mod cpu;
pub mod dedup;
pub mod engine;
pub mod error;
pub mod exact;
pub mod hashsort;
pub mod ingest;
pub mod jaccard;
pub mod kept;
pub mod lsh;
pub mod minhash;
pub mod prefetch;
pub mod sketch;
pub mod tables;
pub mod text;
pub mod verify;

pub use cancel::Cancel;
pub use dedup::{
    dedup, dedup_cancellable, dedup_with_priority, similar_pairs, DedupOptions, DedupResult, Edge,
    Verify,
};
pub use engine::{DedupEngine, RowSketches};
pub use error::{Error, Result};

//! thresher-core: parse scraped text dumps and find exact and near duplicates.
//!
//! This crate knows nothing of Python. The binding crate (`rust/python`) only
//! converts Arrow data in and out, releases the GIL and maps errors.
//!
//! The stages, in the order the data flows (each imports only those above it
//! in this list, never one below):
//!
//! * [`ingest`] walks paths, sniffs formats, opens containers and parses
//!   dumps into records, handed out as Arrow batches.
//! * [`text`] normalises and tokenises text into hashed word shingles.
//! * [`dedup`] finds exact and near duplicates: exact keys, sketches
//!   (MinHash signatures), LSH, verification, clusters, and the two drivers
//!   (streaming and in memory).
//! * [`index`] keeps what dedup needs of kept documents on disk, so that
//!   new texts are deduplicated against them without reading them again.
//!
//! Support, used by the stages and using none of them:
//!
//! * [`simd`] says which vector kernels the CPU can run; [`simd::prefetch`]
//!   asks for memory ahead of use.
//! * [`hashsort`] sorts and groups 64-bit hash values.
//! * [`cancel`] and [`error`]: cancellation and the crate's error type.
//! * [`heap`] gives freed heap memory back to the operating system.
//! * [`process_pool`] keeps a rayon pool per process (rebuilt after `fork`).
//! * [`parquet_join`] joins Parquet part files into one in bounded memory.

pub mod cancel;
pub mod dedup;
pub mod error;
pub mod hashsort;
pub mod heap;
pub mod index;
pub mod ingest;
pub mod parquet_join;
pub mod process_pool;
pub mod simd;
pub mod text;

mod arrow_batch;

pub use cancel::Cancel;
pub use dedup::{
    dedup, dedup_cancellable, dedup_with_priority, similar_pairs, DedupEngine, DedupOptions,
    DedupResult, Edge, RowSketches, Verify,
};
pub use error::{Error, Result};

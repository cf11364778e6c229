//! Containers: compressed streams (gzip, zstd, bzip2, xz) and archives (tar,
//! zip), read member by member and never extracted to disk.
//!
//! Every member goes back through [`member::read_member`], so containers nest
//! to any depth up to [`Limits::max_depth`]. Decompressed bytes pass through a
//! limiting reader that enforces the byte limits (per member, per input) and
//! the expansion ratio that catches decompression bombs. Entry names are only
//! reported (`../x` and `/etc/x` included, as stored), never used as paths.
//!
//! A failed read is reported once, by the parser that saw it (through
//! [`ReadContext::read_failed`]); a container that then finds its own stream
//! broken stops without a second row.
//!
//! - `compression`: gzip, zstd, bzip2 and xz streams;
//! - `tar_archive`: tar archives, streamed entry by entry;
//! - `zip_archive`: zip archives, read in place or held in memory;
//! - `limited_reader`: the readers all of them put around a member's bytes
//!   (byte counts, limits, expansion ratio).
//!
//! [`member::read_member`]: crate::ingest::member::read_member
//! [`Limits::max_depth`]: crate::ingest::Limits::max_depth
//! [`ReadContext::read_failed`]: crate::ingest::bounded::ReadContext::read_failed

mod compression;
mod limited_reader;
mod tar_archive;
mod zip_archive;

pub use compression::read_compressed;
pub use tar_archive::read_tar;
pub use zip_archive::{read_zip_file, read_zip_stream};

#[cfg(test)]
mod tests;

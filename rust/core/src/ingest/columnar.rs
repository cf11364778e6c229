//! Columnar formats: Parquet and Arrow IPC, read batch by batch.

use std::fs::File;
use std::io::Read;

use super::member::ReadContext;
use super::{ErrorKind, Format, Location};

/// Reads a Parquet file on disk.
pub fn read_parquet(_file: File, loc: &Location, cx: &mut ReadContext<'_>) {
    cx.error(loc, 0, ErrorKind::Unsupported, "parquet not read yet");
}

/// Reads an Arrow IPC file on disk.
pub fn read_arrow(_file: File, loc: &Location, cx: &mut ReadContext<'_>) {
    cx.error(loc, 0, ErrorKind::Unsupported, "arrow not read yet");
}

/// Reads a Parquet or Arrow member of a stream (held in memory up to
/// `max_buffered_bytes`, as these formats need random access).
pub fn read_buffered(
    _reader: &mut dyn Read,
    format: Format,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) {
    cx.error(
        loc,
        0,
        ErrorKind::Unsupported,
        format!("{} not read yet", format.name()),
    );
}

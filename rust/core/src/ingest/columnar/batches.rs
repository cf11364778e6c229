//! What reading Parquet and Arrow IPC share: holding a member that needs
//! random access in memory, calling the libraries on untrusted bytes (a
//! panic or an error becomes a [`Failure`]) and reporting what failed, and
//! turning a sequence of record batches into records.

use std::io::{self, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use parquet::errors::ParquetError;

use super::columns::{read_batch, Plan};
use crate::ingest::bounded::{read_bounded, ReadContext};
use crate::ingest::location::Location;
use crate::ingest::record::{ErrorKind, Format};

/// Reads the rest of a member into memory, or reports why it cannot be.
pub(super) fn buffer_member(
    reader: &mut dyn Read,
    format: Format,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Option<Vec<u8>> {
    let limit = cx.options.limits.max_buffered_bytes;
    match read_bounded(reader, limit) {
        Ok((_, true)) => {
            cx.error(
                loc,
                0,
                ErrorKind::Limit,
                format!(
                    "{} {} is larger than max_buffered_bytes ({limit} bytes); it needs random \
                     access, so it must be held in memory, and was not read",
                    human_name(format),
                    loc.noun()
                ),
            );
            None
        }
        Ok((bytes, false)) => Some(bytes),
        Err(e) => {
            cx.read_failed(loc, 0, &e);
            None
        }
    }
}

/// Why a library call on untrusted bytes failed.
pub(super) enum Failure {
    /// Reading the underlying input failed (I/O, a limit, a truncated stream).
    Read(io::Error),
    /// The bytes do not parse, or the library panicked on them.
    Invalid(String),
}

impl From<ArrowError> for Failure {
    fn from(err: ArrowError) -> Self {
        match err {
            ArrowError::IoError(_, e) => Failure::Read(e),
            other => Failure::Invalid(other.to_string()),
        }
    }
}

impl From<ParquetError> for Failure {
    fn from(err: ParquetError) -> Self {
        match err {
            ParquetError::External(e) => match e.downcast::<io::Error>() {
                Ok(io) => Failure::Read(*io),
                Err(other) => Failure::Invalid(other.to_string()),
            },
            other => Failure::Invalid(other.to_string()),
        }
    }
}

/// Runs a library call that parses untrusted bytes, turning a panic into a
/// [`Failure`] (the Parquet and Arrow readers can panic on malformed input).
pub(super) fn guarded<T, E: Into<Failure>>(
    format: Format,
    call: impl FnOnce() -> Result<T, E>,
) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(err.into()),
        Err(_) => Err(Failure::Invalid(format!(
            "{} reader failed on malformed input",
            format.name()
        ))),
    }
}

/// Reports a member whose schema or footer could not be read at all.
pub(super) fn report_unreadable(
    format: Format,
    failure: Failure,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) {
    match failure {
        Failure::Read(e) => cx.read_failed(loc, 0, &e),
        Failure::Invalid(reason) => cx.error(
            loc,
            0,
            ErrorKind::Corrupt,
            format!(
                "not a readable {} {}: {reason}",
                human_name(format),
                loc.noun()
            ),
        ),
    }
}

/// Reports a failure while reading rows, at the row reached.
pub(super) fn report_failure(
    failure: Failure,
    row: u64,
    consequence: &str,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) {
    match failure {
        Failure::Read(e) => cx.read_failed(loc, row, &e),
        Failure::Invalid(reason) => cx.error(
            loc,
            row,
            ErrorKind::Corrupt,
            format!("corrupt data at row {row}: {reason}; {consequence}"),
        ),
    }
}

/// "Parquet" or "Arrow IPC", for messages.
fn human_name(format: Format) -> &'static str {
    match format {
        Format::Parquet => "Parquet",
        Format::Arrow => "Arrow IPC",
        other => other.name(),
    }
}

/// How reading a sequence of batches ended.
pub(super) enum Outcome {
    /// All batches read; the number of rows.
    Done(u64),
    /// The sink asked to stop.
    Stopped,
    /// A batch failed to decode at row number `row` (rows before it are kept).
    Failed { row: u64, failure: Failure },
}

/// Turns every batch into records; `first_row` is the row number of the
/// first row of the first batch.
pub(super) fn read_batches(
    mut batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
    first_row: u64,
    plan: &Plan,
    format: Format,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Outcome {
    let mut row = first_row;
    loop {
        if cx.sink.is_stopped() {
            return Outcome::Stopped;
        }
        let batch = match guarded(format, || batches.next().transpose()) {
            Ok(Some(batch)) => batch,
            Ok(None) => return Outcome::Done(row - first_row),
            Err(failure) => return Outcome::Failed { row, failure },
        };
        if let Err(reason) = read_batch(&batch, row, plan, format, loc, cx) {
            let failure = Failure::Invalid(reason);
            return Outcome::Failed { row, failure };
        }
        row = row.saturating_add(batch.num_rows() as u64);
    }
}

//! Reading inputs whole into memory: every file under some paths, or one
//! member's bytes. Both go through the same machinery as the streaming
//! [`scan`].

use std::path::PathBuf;

use super::bounded::{ByteBudget, ReadContext};
use super::location::Location;
use super::member;
use super::options::IngestOptions;
use super::record::{IngestError, Ingested};
use super::scan;
use crate::cancel::Cancel;
use crate::error::Result;

/// Everything read from a set of inputs, records as Arrow batches (the
/// schema of [`crate::ingest::arrow::records_batch`]) in `doc_id` order.
#[derive(Debug, Default)]
pub struct Scanned {
    pub records: Vec<arrow_array::RecordBatch>,
    pub errors: Vec<IngestError>,
}

/// Reads every file under `paths` (files or directories) in parallel and
/// collects the records in `doc_id` order; stops with [`Error::Cancelled`]
/// soon after `cancel` is set.
///
/// [`Error::Cancelled`]: crate::error::Error::Cancelled
pub fn ingest_paths(
    paths: &[PathBuf],
    options: &IngestOptions,
    cancel: &Cancel,
) -> Result<Scanned> {
    let config = scan::ScanConfig {
        batch_size: usize::MAX,
        ..scan::ScanConfig::default()
    };
    let mut scanner = scan::Scanner::start(paths, options, config)?;
    let mut out = Scanned::default();
    while let Some(batch) = scanner.next_batch_cancellable(cancel)? {
        out.records.extend(batch.records);
        out.errors.extend(batch.errors);
    }
    Ok(out)
}

/// Parses the bytes of one member held in memory (tests, fuzzing, small
/// inputs): containers inside are unwrapped as for files.
pub fn ingest_bytes(source: &str, bytes: &[u8], options: &IngestOptions) -> Ingested {
    collected(options, |cx| {
        member::read_member(&mut &bytes[..], &Location::file(source), 0, cx)
    })
}

/// Everything `read` reports, given a context of `options` with the
/// input budget of one input.
pub(crate) fn collected(
    options: &IngestOptions,
    read: impl FnOnce(&mut ReadContext<'_>),
) -> Ingested {
    let mut out = Ingested::default();
    let budget = ByteBudget::new(options.limits.max_input_bytes);
    let mut cx = ReadContext {
        options,
        sink: &mut out,
        input_budget: &budget,
    };
    read(&mut cx);
    out
}

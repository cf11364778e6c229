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
    /// Input records skipped on purpose, counted by key (see
    /// [`Sink::skipped`](super::Sink::skipped)).
    pub skipped: std::collections::BTreeMap<String, u64>,
}

/// Reads every file under `paths` (files or directories) in parallel and
/// collects the records in `doc_id` order, at most
/// [`Limits::max_records`](super::Limits::max_records) of each input (the
/// others are counted in a `limit` row); stops with [`Error::Cancelled`]
/// soon after `cancel` is set.
///
/// [`Error::Cancelled`]: crate::error::Error::Cancelled
pub fn ingest_paths(
    paths: &[PathBuf],
    options: &IngestOptions,
    cancel: &Cancel,
) -> Result<Scanned> {
    // Every batch is kept: no block is recycled, each has its own memory.
    let config = scan::ScanConfig {
        batch_size: usize::MAX,
        ..scan::ScanConfig::default()
    };
    let mut scanner = scan::Scanner::start_with(paths, options, config, false)?
        .keeping_per_input(options.limits.max_records);
    let mut out = Scanned::default();
    while let Some(batch) = scanner.next_batch_cancellable(cancel)? {
        out.records.extend(batch.records);
        out.errors.extend(batch.errors);
    }
    out.skipped = scanner.skipped();
    Ok(out)
}

/// Parses the bytes of one member held in memory (tests, fuzzing, small
/// inputs): containers inside are unwrapped as for files.
pub fn ingest_bytes(source: &str, bytes: &[u8], options: &IngestOptions) -> Ingested {
    collected(options, |cx| {
        cx.input_budget.set_input_bytes(bytes.len() as u64);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::options::{Limits, TextUnit};
    use crate::ingest::ErrorKind;
    use arrow_array::{Array, UInt64Array};

    #[test]
    fn records_past_max_records_are_counted_in_one_limit_row_per_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lines: String = (0..10).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("a.txt"), &lines).expect("write");
        std::fs::write(dir.path().join("b.txt"), "one\ntwo\nthree\n").expect("write");
        let options = IngestOptions {
            text_unit: TextUnit::Line,
            limits: Limits {
                max_records: 4,
                ..Limits::default()
            },
            ..IngestOptions::default()
        };
        let out = ingest_paths(&[dir.path().to_path_buf()], &options, &Cancel::new()).unwrap();
        let rows: usize = out.records.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 4 + 3);
        let ids: Vec<u64> = out
            .records
            .iter()
            .flat_map(|b| {
                let ids = b.column(0).as_any().downcast_ref::<UInt64Array>().unwrap();
                ids.values().to_vec()
            })
            .collect();
        assert_eq!(ids, (0..7).collect::<Vec<u64>>());
        assert_eq!(out.errors.len(), 1);
        let e = &out.errors[0];
        assert!(e.source.ends_with("a.txt"));
        assert_eq!((e.offset, e.kind), (4 * 7, ErrorKind::Limit));
        assert_eq!(
            e.reason,
            "more records than max_records (4) in this input: the 6 records after the first 4 \
             were read but not kept (from this offset on); thresher.scan reads inputs of any size"
        );
    }
}

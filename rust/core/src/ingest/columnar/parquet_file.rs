//! Parquet: files on disk or held in memory, read one row group at a time so
//! that a corrupt row group costs only its own rows.

use std::fs::File;
use std::io;

use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::reader::ChunkReader;

use super::batches::{guarded, read_batches, report_failure, report_unreadable, Outcome};
use super::columns::Plan;
use crate::ingest::bounded::ReadContext;
use crate::ingest::location::Location;
use crate::ingest::read_meter::FileMeter;
use crate::ingest::record::{ErrorKind, Format};

/// Rows per record batch asked of the readers.
pub const BATCH_ROWS: usize = 8192;

/// Reads a Parquet file on disk, one row group at a time, counting each row
/// group's compressed bytes on `meter` (for progress) once it is read.
pub fn read_parquet(
    file: File,
    loc: &Location,
    cx: &mut ReadContext<'_>,
    meter: Option<&FileMeter<'_>>,
) {
    read_parquet_input(file, loc, cx, meter);
}

/// A Parquet input that can be handed to one reader per row group.
pub(super) trait ParquetInput: ChunkReader + Sized + 'static {
    /// Another handle on the same bytes.
    fn reopen(&self) -> io::Result<Self>;
}

impl ParquetInput for File {
    fn reopen(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

impl ParquetInput for Bytes {
    fn reopen(&self) -> io::Result<Self> {
        Ok(self.clone())
    }
}

/// Reads a Parquet file (on disk or in memory), one row group at a time.
pub(super) fn read_parquet_input<T: ParquetInput>(
    input: T,
    loc: &Location,
    cx: &mut ReadContext<'_>,
    meter: Option<&FileMeter<'_>>,
) {
    let metadata = match guarded(Format::Parquet, || {
        ArrowReaderMetadata::load(&input, ArrowReaderOptions::new())
    }) {
        Ok(metadata) => metadata,
        Err(failure) => {
            report_unreadable(Format::Parquet, failure, loc, cx);
            return;
        }
    };
    let plan = match Plan::new(metadata.schema(), cx.options) {
        Ok(plan) => plan,
        Err(reason) => {
            cx.error(loc, 0, ErrorKind::MissingField, reason);
            return;
        }
    };
    let groups = metadata.metadata().row_groups();
    if groups.iter().all(|group| group.num_rows() <= 0) {
        let reason = format!("Parquet {} with no rows", loc.noun());
        cx.error(loc, 0, ErrorKind::Empty, reason);
        return;
    }
    check_row_count(&metadata, loc, cx);
    let mut first_row = 0u64;
    for (index, group) in groups.iter().enumerate() {
        if cx.sink.is_stopped() {
            return;
        }
        let rows = u64::try_from(group.num_rows()).unwrap_or(0);
        let span = RowGroup {
            index,
            first_row,
            end_row: first_row.saturating_add(rows),
        };
        first_row = read_row_group(&input, &metadata, group, &span, &plan, loc, cx);
        if let Some(meter) = meter {
            meter.add(u64::try_from(group.compressed_size()).unwrap_or(0));
        }
    }
}

/// Reports a file whose metadata and row groups disagree on the number of
/// rows (the row groups are read all the same).
fn check_row_count(metadata: &ArrowReaderMetadata, loc: &Location, cx: &mut ReadContext<'_>) {
    let claimed = metadata.metadata().file_metadata().num_rows();
    let held = metadata
        .metadata()
        .row_groups()
        .iter()
        .fold(0i64, |sum, group| sum.saturating_add(group.num_rows()));
    if claimed != held {
        let reason = format!(
            "corrupt metadata: the file claims {claimed} rows but its row groups {held}; the row \
             groups are read"
        );
        cx.error(loc, 0, ErrorKind::Corrupt, reason);
    }
}

/// Where a Parquet row group sits among the rows of its file.
struct RowGroup {
    index: usize,
    first_row: u64,
    end_row: u64,
}

impl RowGroup {
    /// "row group 1 (rows 3..6)".
    fn describe(&self) -> String {
        format!(
            "row group {} (rows {}..{})",
            self.index, self.first_row, self.end_row
        )
    }
}

/// Reads one row group; a corrupt row group is reported and its remaining
/// rows skipped, the next row groups are still read. Returns the row number
/// where the next row group starts: after the rows it held, or after the
/// rows its metadata claims when it could not be read to the end.
fn read_row_group<T: ParquetInput>(
    input: &T,
    metadata: &ArrowReaderMetadata,
    group: &RowGroupMetaData,
    span: &RowGroup,
    plan: &Plan,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> u64 {
    let limit = cx.options.limits.max_buffered_bytes;
    if let Err(reason) = check_row_group(group, input.len(), limit) {
        let kind = match reason {
            RowGroupProblem::TooLarge(_) => ErrorKind::Limit,
            RowGroupProblem::OutOfBounds(_) => ErrorKind::Corrupt,
        };
        let text = format!(
            "{}: {}; its rows are skipped",
            span.describe(),
            reason.text()
        );
        cx.error(loc, span.first_row, kind, text);
        return span.end_row;
    }
    let handle = match input.reopen() {
        Ok(handle) => handle,
        Err(e) => {
            cx.read_failed(loc, span.first_row, &e);
            return span.end_row;
        }
    };
    let reader = guarded(Format::Parquet, || {
        ParquetRecordBatchReaderBuilder::new_with_metadata(handle, metadata.clone())
            .with_row_groups(vec![span.index])
            .with_batch_size(BATCH_ROWS)
            .build()
    });
    let outcome = match reader {
        Ok(reader) => read_batches(reader, span.first_row, plan, Format::Parquet, loc, cx),
        Err(failure) => Outcome::Failed {
            row: span.first_row,
            failure,
        },
    };
    match outcome {
        Outcome::Done(rows) => {
            let end = span.first_row.saturating_add(rows);
            if end != span.end_row {
                let reason = format!("corrupt metadata: {} holds {rows} rows", span.describe());
                cx.error(loc, end, ErrorKind::Corrupt, reason);
            }
            end
        }
        Outcome::Stopped => span.end_row,
        Outcome::Failed { row, failure } => {
            let end = span.end_row.max(row);
            let rest = format!(
                "{} is corrupt; its rows {row}..{end} are skipped",
                span.describe()
            );
            report_failure(failure, row, &rest, loc, cx);
            end
        }
    }
}

/// Why a row group is not read at all.
enum RowGroupProblem {
    /// Compressed bytes of the row group, more than `max_buffered_bytes`.
    TooLarge(u64),
    /// A column chunk said to lie outside the file.
    OutOfBounds(String),
}

impl RowGroupProblem {
    fn text(&self) -> String {
        match self {
            RowGroupProblem::TooLarge(bytes) => format!(
                "{bytes} compressed bytes, more than max_buffered_bytes, and a row group is held \
                 in memory to be read"
            ),
            RowGroupProblem::OutOfBounds(what) => what.clone(),
        }
    }
}

/// Checks a row group's column chunks against the file (the reader would
/// allocate whatever size the metadata claims) and against the memory limit.
fn check_row_group(
    group: &RowGroupMetaData,
    file_len: u64,
    limit: u64,
) -> Result<(), RowGroupProblem> {
    let mut total = 0u64;
    for column in group.columns() {
        let start = column
            .dictionary_page_offset()
            .unwrap_or(column.data_page_offset());
        let len = column.compressed_size();
        let range = u64::try_from(start)
            .ok()
            .zip(u64::try_from(len).ok())
            .and_then(|(start, len)| start.checked_add(len).map(|end| (len, end)))
            .filter(|&(_, end)| end <= file_len);
        let Some((len, _)) = range else {
            return Err(RowGroupProblem::OutOfBounds(format!(
                "column chunk {:?} claims bytes {start}+{len}, outside the file ({file_len} bytes)",
                column.column_path().string()
            )));
        };
        total = total.saturating_add(len);
    }
    if total > limit {
        return Err(RowGroupProblem::TooLarge(total));
    }
    Ok(())
}

//! Write Parquet files in bounded memory: a streaming sink, and the join of
//! part files built on it.
//!
//! The `thresher` command writes its large outputs through [`ParquetSink`]:
//! `kept.parquet` and `duplicates.parquet` batch by batch as pass 4 makes
//! them, and `scan --out` as one part file per batch joined by
//! [`join_parquet`]. Polars' streaming sink held most of the joined table
//! while joining (about 2.5 bytes per byte of text on 180 MB of text); the
//! sink holds the rows of the row group it is filling and of the row groups
//! being encoded (one per thread, at most), whatever the number of batches.
//! The rows it holds are the caller's batches, sliced, not copies.
//!
//! Row groups hold `row_group_rows` rows each (the last one fewer), counted
//! over the whole output. Each is encoded on a thread of its own, handed its
//! rows in slices cut at the same places counted from the row group's first
//! row, and appended in order, so the file is the same for any split of the
//! same rows into batches or parts, and any number of threads.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_cast::cast;
use arrow_schema::{DataType, Field, Schema};
use arrow_select::concat::concat_batches;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::ThreadPool;

use crate::error::{Error, Result};
use crate::process_pool::ProcessPool;

/// The column of documents' texts, written without a dictionary or
/// statistics.
const TEXT_COLUMN: &str = "text";

/// Rows decoded from a part, and handed to a row group's encoder, at a
/// time: small against a row group, so that few rows are held converted.
const READ_BATCH_ROWS: usize = 1024;

fn io_error(path: &Path, what: &str, err: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{}: cannot {what}: {err}", path.display()))
}

fn open_part(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let file = File::open(path).map_err(|e| io_error(path, "open part", e))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| io_error(path, "read part", e))
}

/// Whether two schemas have the same fields (names, types, nullability),
/// ignoring their metadata.
fn same_fields(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields().iter().zip(b.fields().iter()).all(|(x, y)| {
            x.name() == y.name()
                && x.data_type() == y.data_type()
                && x.is_nullable() == y.is_nullable()
        })
}

/// A Parquet file written batch by batch in bounded memory (zstd, row
/// groups of a fixed number of rows); see the module documentation.
///
/// Row groups are encoded in parallel on the encoders' pool (see
/// [`encoders`]), up to `threads` of a sink's at a time, and appended to the
/// file in order: the file's bytes do not depend on the number of threads.
pub struct ParquetSink {
    out: PathBuf,
    schema: Arc<Schema>,
    file: SerializedFileWriter<File>,
    columns: ArrowRowGroupWriterFactory,
    row_group_rows: usize,
    /// Rows not yet handed to an encoder (fewer than `row_group_rows`).
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    rows: u64,
    /// Row groups handed to an encoder so far.
    row_groups: usize,
    /// Row groups being encoded, oldest first.
    encoding: VecDeque<Receiver<Result<Vec<ArrowColumnChunk>>>>,
    threads: usize,
}

impl ParquetSink {
    /// Create (or truncate) `out` for rows of `schema`, in row groups of
    /// `row_group_rows` rows. Making the file appear atomically is the
    /// caller's business.
    pub fn create(out: &Path, schema: Arc<Schema>, row_group_rows: usize) -> Result<Self> {
        if row_group_rows == 0 {
            return Err(Error::InvalidArgument("row_group_rows must be > 0".into()));
        }
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(row_group_rows));
        if schema.field_with_name(TEXT_COLUMN).is_ok() {
            // Documents' texts are nearly all distinct, and their minimum
            // and maximum help no reader: a dictionary tried on each row
            // group's first values, and statistics compared on every value,
            // were work for nothing.
            let text = ColumnPath::from(TEXT_COLUMN);
            props = props
                .set_column_dictionary_enabled(text.clone(), false)
                .set_column_statistics_enabled(text, EnabledStatistics::None);
        }
        let props = props.build();
        let file = File::create(out).map_err(|e| io_error(out, "create", e))?;
        let (file, columns) = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(|e| io_error(out, "write", e))?;
        Ok(Self {
            out: out.to_path_buf(),
            schema,
            file,
            columns,
            row_group_rows,
            pending: Vec::new(),
            pending_rows: 0,
            rows: 0,
            row_groups: 0,
            encoding: VecDeque::new(),
            threads: default_threads(),
        })
    }

    /// Encode at most `threads` row groups at a time (at least one).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The schema of the file's rows.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Append the rows of `batch`, which must have the sink's fields (names,
    /// nullability and types; metadata aside), except that a string or
    /// binary column may come in another layout (views, say) of the sink's
    /// one. The rows are converted to the sink's layout a slice at a time as
    /// they are encoded, so the sink holds no copy of the batch.
    pub fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let schema = batch.schema();
        if !same_fields(&schema, &self.schema)
            && !same_fields(&large_schema(&schema), &large_schema(&self.schema))
        {
            return Err(Error::InvalidArgument(format!(
                "{}: a batch's columns differ from the file's",
                self.out.display()
            )));
        }
        self.rows += batch.num_rows() as u64;
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        while self.pending_rows >= self.row_group_rows {
            self.encode_pending(self.row_group_rows)?;
        }
        Ok(())
    }

    /// Hand the first `n` pending rows, a row group, to an encoder thread,
    /// once fewer than `threads` are busy.
    fn encode_pending(&mut self, n: usize) -> Result<()> {
        while self.encoding.len() >= self.threads {
            self.append_oldest()?;
        }
        let (rows, rest) = split_rows(&self.pending, n);
        self.pending_rows -= n;
        self.pending = rest;
        let writers = self
            .columns
            .create_column_writers(self.row_groups)
            .map_err(|e| io_error(&self.out, "write", e))?;
        self.row_groups += 1;
        let schema = self.schema.clone();
        let out = self.out.clone();
        let (send, encoded) = mpsc::channel();
        encoders()?.spawn(move || {
            // The sink may be gone (dropped after an error): then nobody waits.
            let _ = send.send(encode_row_group(&out, &schema, writers, rows));
        });
        self.encoding.push_back(encoded);
        Ok(())
    }

    /// Wait for the oldest row group being encoded and append it to the file.
    fn append_oldest(&mut self) -> Result<()> {
        let Some(encoded) = self.encoding.pop_front() else {
            return Ok(());
        };
        let chunks = encoded.recv().map_err(|_| {
            Error::Internal(format!(
                "{}: a row group's encoder panicked",
                self.out.display()
            ))
        })??;
        let mut row_group = self
            .file
            .next_row_group()
            .map_err(|e| io_error(&self.out, "write", e))?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut row_group)
                .map_err(|e| io_error(&self.out, "write", e))?;
        }
        row_group
            .close()
            .map_err(|e| io_error(&self.out, "write", e))?;
        Ok(())
    }

    /// Write the last rows and the footer; return the number of rows.
    pub fn finish(mut self) -> Result<u64> {
        if self.pending_rows > 0 {
            self.encode_pending(self.pending_rows)?;
        }
        while !self.encoding.is_empty() {
            self.append_oldest()?;
        }
        self.file
            .close()
            .map_err(|e| io_error(&self.out, "write", e))?;
        Ok(self.rows)
    }
}

/// The pool every sink encodes its row groups on, of [`default_threads`]
/// threads, started at the first use. Its own pool, not the caller's: a
/// sink waits for its row groups, which must never wait for the waiting
/// thread to be free (the caller may be a worker of a pool of one). A child
/// made by `fork` does not inherit the pool's threads, so a new pool is
/// built when the process id changes.
fn encoders() -> Result<Arc<ThreadPool>> {
    static POOL: ProcessPool = ProcessPool::new();
    POOL.get(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(default_threads())
            .thread_name(|i| format!("thresher-parquet-{i}"))
            .build()
    })
    .map_err(|e| Error::Internal(format!("cannot start the Parquet encoders: {e}")))
}

/// Threads a sink encodes on by default: `RAYON_NUM_THREADS` (what
/// `--threads` sets), else the number of CPUs.
fn default_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
}

/// Encode the rows of one row group (`pieces`, in order) with its column
/// `writers`, a slice of `READ_BATCH_ROWS` rows at a time counted from the
/// row group's first row (the writers cut pages where the slices end, so
/// the bytes do not depend on how the rows came in).
fn encode_row_group(
    out: &Path,
    schema: &Arc<Schema>,
    mut writers: Vec<ArrowColumnWriter>,
    pieces: Vec<RecordBatch>,
) -> Result<Vec<ArrowColumnChunk>> {
    let mut rest = pieces;
    let mut rest_rows: usize = rest.iter().map(RecordBatch::num_rows).sum();
    while rest_rows > 0 {
        let n = rest_rows.min(READ_BATCH_ROWS);
        let (rows, tail) = split_rows(&rest, n);
        let slice = conformed(schema, &rows)?;
        rest = tail;
        rest_rows -= n;
        let mut leaf_writers = writers.iter_mut();
        for (field, column) in schema.fields().iter().zip(slice.columns()) {
            for leaf in compute_leaves(field, column).map_err(|e| io_error(out, "write", e))? {
                let writer = leaf_writers.next().ok_or_else(|| {
                    Error::Internal(format!("{}: more leaves than columns", out.display()))
                })?;
                writer.write(&leaf).map_err(|e| io_error(out, "write", e))?;
            }
        }
    }
    writers
        .into_iter()
        .map(|w| w.close().map_err(|e| io_error(out, "write", e)))
        .collect()
}

/// `field` with a string or binary type in its large layout (64-bit
/// offsets), the one the command's Parquet outputs declare whatever layout
/// the batches come in (Polars hands out views).
fn large_field(field: &Field) -> Field {
    let data_type = match field.data_type() {
        DataType::Utf8 | DataType::Utf8View => DataType::LargeUtf8,
        DataType::Binary | DataType::BinaryView => DataType::LargeBinary,
        other => other.clone(),
    };
    field.clone().with_data_type(data_type)
}

/// `schema` with every string and binary column in its large layout.
pub fn large_schema(schema: &Schema) -> Arc<Schema> {
    let fields: Vec<Field> = schema.fields().iter().map(|f| large_field(f)).collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with its columns cast to the types of `schema` (which has its
/// fields but perhaps other string or binary layouts), under `schema`.
fn conform(batch: &RecordBatch, schema: &Arc<Schema>) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields().iter())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                cast(column, field.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Write the rows of `parts`, in order, into one Parquet file at `out`
/// through a [`ParquetSink`] and return how many rows it holds. Every part
/// must have the fields of the first; `parts` must not be empty. `out` is
/// created or truncated; making it appear atomically is the caller's
/// business.
pub fn join_parquet(parts: &[PathBuf], out: &Path, row_group_rows: usize) -> Result<u64> {
    let first = parts
        .first()
        .ok_or_else(|| Error::InvalidArgument("no part files to join".into()))?;
    let schema: Arc<Schema> = open_part(first)?.schema().clone();
    let mut sink = ParquetSink::create(out, schema.clone(), row_group_rows)?;
    for path in parts {
        let builder = open_part(path)?;
        if !same_fields(builder.schema(), &schema) {
            return Err(Error::Internal(format!(
                "{}: its columns differ from those of {}",
                path.display(),
                first.display()
            )));
        }
        let reader = builder
            .with_batch_size(READ_BATCH_ROWS)
            .build()
            .map_err(|e| io_error(path, "read part", e))?;
        for batch in reader {
            sink.write(batch?)?;
        }
    }
    sink.finish()
}

/// The first `n` rows of `pending` (as slices of its batches), and the
/// rows after them.
fn split_rows(pending: &[RecordBatch], n: usize) -> (Vec<RecordBatch>, Vec<RecordBatch>) {
    let mut head = Vec::new();
    let mut rest = Vec::new();
    let mut taken = 0;
    for batch in pending {
        let want = n - taken;
        if want == 0 {
            rest.push(batch.clone());
        } else if batch.num_rows() <= want {
            taken += batch.num_rows();
            head.push(batch.clone());
        } else {
            head.push(batch.slice(0, want));
            rest.push(batch.slice(want, batch.num_rows() - want));
            taken = n;
        }
    }
    (head, rest)
}

/// `pieces` as one batch of `schema`'s types (string columns that every
/// piece holds as views stay views: see [`encoded_schema`]).
fn conformed(schema: &Arc<Schema>, pieces: &[RecordBatch]) -> Result<RecordBatch> {
    let target = encoded_schema(schema, pieces);
    let pieces = pieces
        .iter()
        .map(|piece| conform(piece, &target))
        .collect::<Result<Vec<_>>>()?;
    Ok(concat_batches(&target, &pieces)?)
}

/// The schema rows are handed to the encoder in: `schema` (the file's),
/// except that a string or binary column that every one of `pieces` holds
/// as views stays in views. The encoder writes the bytes of views as it
/// writes those of the large layout (the file declares the large layout
/// either way), so the text is not copied into the large layout first.
fn encoded_schema(schema: &Arc<Schema>, pieces: &[RecordBatch]) -> Arc<Schema> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let view = match field.data_type() {
                DataType::LargeUtf8 => DataType::Utf8View,
                DataType::LargeBinary => DataType::BinaryView,
                _ => return field.as_ref().clone(),
            };
            let all_views = !pieces.is_empty()
                && pieces
                    .iter()
                    .all(|piece| piece.column(i).data_type() == &view);
            if all_views {
                field.as_ref().clone().with_data_type(view)
            } else {
                field.as_ref().clone()
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, StringArray};

    fn write_part(path: &Path, start: i64, n: i64) {
        let ids = Int64Array::from_iter_values(start..start + n);
        let texts = StringArray::from_iter_values(
            (start..start + n).map(|i| format!("text {i} {}", "w".repeat(i as usize % 900))),
        );
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(ids) as ArrayRef),
            ("text", Arc::new(texts) as ArrayRef),
        ])
        .unwrap();
        let mut w =
            ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn joined(dir: &Path, splits: &[i64], name: &str) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut start = 0;
        for (i, &n) in splits.iter().enumerate() {
            let path = dir.join(format!("{name}-{i}.parquet"));
            write_part(&path, start, n);
            parts.push(path);
            start += n;
        }
        let out = dir.join(format!("{name}.parquet"));
        assert_eq!(join_parquet(&parts, &out, 3000).unwrap(), start as u64);
        std::fs::read(out).unwrap()
    }

    #[test]
    fn rows_in_order_and_same_bytes_for_any_split() {
        let dir = tempfile::tempdir().unwrap();
        let a = joined(dir.path(), &[7000], "a");
        let b = joined(dir.path(), &[7, 0, 1500, 2100, 1000, 2393], "b");
        assert_eq!(a, b);
        let file = File::open(dir.path().join("b.parquet")).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let groups: Vec<i64> = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, vec![3000, 3000, 1000]);
        let ids: Vec<i64> = builder
            .build()
            .unwrap()
            .flat_map(|b| {
                let b = b.unwrap();
                let col = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .clone();
                col.values().to_vec()
            })
            .collect();
        assert_eq!(ids, (0..7000).collect::<Vec<_>>());
    }

    #[test]
    fn sink_gives_the_bytes_of_the_join_for_any_batches() {
        let dir = tempfile::tempdir().unwrap();
        let joined = joined(dir.path(), &[7000], "a");
        let source = dir.path().join("source.parquet");
        write_part(&source, 0, 7000);
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&source).unwrap())
            .unwrap()
            .with_batch_size(777)
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        let out = dir.path().join("sink.parquet");
        let mut sink = ParquetSink::create(&out, batches[0].schema(), 3000).unwrap();
        sink.write(batches[0].slice(0, 0)).unwrap();
        for batch in batches {
            sink.write(batch).unwrap();
        }
        assert_eq!(sink.finish().unwrap(), 7000);
        assert_eq!(std::fs::read(out).unwrap(), joined);
    }

    #[test]
    fn threads_do_not_change_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.parquet");
        write_part(&source, 0, 7000);
        let batches: Vec<RecordBatch> =
            ParquetRecordBatchReaderBuilder::try_new(File::open(&source).unwrap())
                .unwrap()
                .with_batch_size(1111)
                .build()
                .unwrap()
                .map(|b| b.unwrap())
                .collect();
        let write = |threads: usize| {
            let out = dir.path().join(format!("threads-{threads}.parquet"));
            let mut sink = ParquetSink::create(&out, batches[0].schema(), 1000)
                .unwrap()
                .with_threads(threads);
            for batch in &batches {
                sink.write(batch.clone()).unwrap();
            }
            assert_eq!(sink.finish().unwrap(), 7000);
            std::fs::read(out).unwrap()
        };
        let one = write(1);
        assert_eq!(write(3), one);
        assert_eq!(write(8), one);
    }

    #[test]
    fn sink_refuses_a_batch_of_other_columns() {
        let dir = tempfile::tempdir().unwrap();
        let ids = |v: Vec<i64>| {
            RecordBatch::try_from_iter([("id", Arc::new(Int64Array::from(v)) as ArrayRef)]).unwrap()
        };
        let out = dir.path().join("out.parquet");
        let mut sink = ParquetSink::create(&out, ids(vec![1]).schema(), 10).unwrap();
        sink.write(ids(vec![1, 2])).unwrap();
        let texts = RecordBatch::try_from_iter([(
            "id",
            Arc::new(StringArray::from(vec!["1"])) as ArrayRef,
        )])
        .unwrap();
        assert!(sink.write(texts).is_err());
        assert!(ParquetSink::create(&out, ids(vec![]).schema(), 0).is_err());
    }

    #[test]
    fn sink_stores_views_in_the_large_layout() {
        use arrow_array::{Array, LargeStringArray, StringViewArray};
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            (
                "text",
                Arc::new(StringViewArray::from(vec![Some("a"), None])) as ArrayRef,
            ),
        ])
        .unwrap();
        let schema = large_schema(&batch.schema());
        assert_eq!(schema.field(1).data_type(), &DataType::LargeUtf8);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.parquet");
        let mut sink = ParquetSink::create(&out, schema.clone(), 10).unwrap();
        sink.write(batch).unwrap();
        assert_eq!(sink.finish().unwrap(), 2);
        let read: Vec<RecordBatch> =
            ParquetRecordBatchReaderBuilder::try_new(File::open(&out).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(|b| b.unwrap())
                .collect();
        assert_eq!(read[0].schema().field(1).data_type(), &DataType::LargeUtf8);
        let text = read[0]
            .column(1)
            .as_any()
            .downcast_ref::<LargeStringArray>()
            .unwrap();
        assert_eq!((text.value(0), text.is_null(1)), ("a", true));
    }

    #[test]
    fn views_and_the_large_layout_give_the_same_file() {
        use arrow_array::{LargeStringArray, StringViewArray};
        let texts: Vec<Option<String>> = (0..5000)
            .map(|i| (i % 7 != 3).then(|| format!("text {i} {}", "x".repeat(i % 40))))
            .collect();
        let ids = Arc::new(Int64Array::from_iter_values(0..5000)) as ArrayRef;
        let views = RecordBatch::try_from_iter([
            ("id", ids.clone()),
            (
                "text",
                Arc::new(StringViewArray::from_iter(texts.clone())) as ArrayRef,
            ),
        ])
        .unwrap();
        let large = RecordBatch::try_from_iter([
            ("id", ids),
            (
                "text",
                Arc::new(LargeStringArray::from_iter(texts)) as ArrayRef,
            ),
        ])
        .unwrap();
        let schema = large.schema();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, batches: Vec<RecordBatch>| {
            let out = dir.path().join(name);
            let mut sink = ParquetSink::create(&out, schema.clone(), 2048).unwrap();
            for batch in batches {
                sink.write(batch).unwrap();
            }
            assert_eq!(sink.finish().unwrap(), 5000);
            std::fs::read(&out).unwrap()
        };
        let expected = write("large.parquet", vec![large.clone()]);
        assert_eq!(write("views.parquet", vec![views.clone()]), expected);
        // Views and the large layout mixed within a slice handed to the encoder.
        let mixed = vec![
            views.slice(0, 1500),
            large.slice(1500, 1000),
            views.slice(2500, 2500),
        ];
        assert_eq!(write("mixed.parquet", mixed), expected);
    }

    #[test]
    fn refuses_parts_with_other_columns_and_no_parts() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.parquet");
        write_part(&good, 0, 3);
        let other = dir.path().join("other.parquet");
        let batch =
            RecordBatch::try_from_iter([("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef)])
                .unwrap();
        let mut w =
            ArrowWriter::try_new(File::create(&other).unwrap(), batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let out = dir.path().join("out.parquet");
        assert!(join_parquet(&[good, other], &out, 10).is_err());
        assert!(join_parquet(&[], &out, 10).is_err());
    }
}

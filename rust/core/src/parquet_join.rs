//! Join Parquet part files into one Parquet file in bounded memory.
//!
//! The `thresher` command writes its large outputs (`kept.parquet`,
//! `duplicates.parquet`, `scan --out`) as one part file per batch, then joins
//! them. Polars' streaming sink held most of the joined table while doing so
//! (about 2.5 bytes per byte of text on 180 MB of text); this join holds one
//! read batch and one row group being encoded, whatever the number of parts.
//!
//! Row groups hold `row_group_rows` rows each (the last one fewer), counted
//! over the whole output, so the file is the same for any split of the same
//! rows into parts.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use arrow_select::concat::concat_batches;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};

/// Rows decoded from a part, and handed to the writer, at a time: small
/// against a row group, so that the read side adds little to the row group
/// being encoded.
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

/// Write the rows of `parts`, in order, into one Parquet file at `out`
/// (zstd-compressed, row groups of `row_group_rows` rows) and return how many
/// rows it holds. Every part must have the fields of the first; `parts` must
/// not be empty. `out` is created or truncated; making it appear atomically
/// is the caller's business.
pub fn join_parquet(parts: &[PathBuf], out: &Path, row_group_rows: usize) -> Result<u64> {
    let first = parts
        .first()
        .ok_or_else(|| Error::InvalidArgument("no part files to join".into()))?;
    if row_group_rows == 0 {
        return Err(Error::InvalidArgument("row_group_rows must be > 0".into()));
    }
    let schema: Arc<Schema> = open_part(first)?.schema().clone();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(row_group_rows))
        .build();
    let file = File::create(out).map_err(|e| io_error(out, "create", e))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
        .map_err(|e| io_error(out, "write", e))?;
    let mut rows = 0u64;
    let mut pending: Vec<RecordBatch> = Vec::new();
    let mut pending_rows = 0usize;
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
            let batch = batch?.with_schema(schema.clone())?;
            rows += batch.num_rows() as u64;
            pending_rows += batch.num_rows();
            pending.push(batch);
            while pending_rows >= READ_BATCH_ROWS {
                let (chunk, rest) = split_pending(&schema, &pending, READ_BATCH_ROWS)?;
                writer
                    .write(&chunk)
                    .map_err(|e| io_error(out, "write", e))?;
                pending_rows = rest.iter().map(RecordBatch::num_rows).sum();
                pending = rest;
            }
        }
    }
    if pending_rows > 0 {
        let (chunk, _) = split_pending(&schema, &pending, pending_rows)?;
        writer
            .write(&chunk)
            .map_err(|e| io_error(out, "write", e))?;
    }
    writer.close().map_err(|e| io_error(out, "write", e))?;
    Ok(rows)
}

/// The first `n` rows of `pending` as one batch, and the rows after them.
/// The writer cuts pages where its write calls cut the rows, so it is
/// handed batches of `READ_BATCH_ROWS` rows counted from the file's first
/// row, whatever the parts: the file is the same for any split into parts.
fn split_pending(
    schema: &Arc<Schema>,
    pending: &[RecordBatch],
    n: usize,
) -> Result<(RecordBatch, Vec<RecordBatch>)> {
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
    Ok((concat_batches(schema, &head)?, rest))
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

//! Records and input errors as Arrow record batches: the schema every
//! ingest path hands out.

use std::sync::Arc;

use arrow_array::builder::GenericStringBuilder;
use arrow_array::{ArrayRef, BooleanArray, OffsetSizeTrait, RecordBatch, StringArray, UInt64Array};
use arrow_schema::SchemaRef;

use crate::arrow_batch::batch_of as batch;
use crate::error::Result;
use crate::ingest::record::{IngestError, Record};

/// Records as a batch: `doc_id`, `source`, `member`, `offset`, `part`, `format`,
/// `title`, `text`, `id`, `url`, `date`, `meta`, `invalid_utf8`. `doc_id`
/// counts from `first_doc_id`. The schema is the same for every batch.
pub fn records_batch(records: &[Record], first_doc_id: u64) -> Result<RecordBatch> {
    with_doc_ids(&record_fields_batch(records)?, first_doc_id)
}

/// The schema of [`records_batch`].
pub fn records_schema() -> Result<SchemaRef> {
    Ok(records_batch(&[], 0)?.schema())
}

/// Prepends a `doc_id` column counting from `first_doc_id` to a batch of
/// [`record_fields_batch`].
pub fn with_doc_ids(fields: &RecordBatch, first_doc_id: u64) -> Result<RecordBatch> {
    let n = fields.num_rows() as u64;
    let ids: ArrayRef = Arc::new(UInt64Array::from_iter_values(
        first_doc_id..first_doc_id + n,
    ));
    let schema = fields.schema();
    let mut columns = vec![("doc_id", ids, false)];
    for (field, array) in schema.fields().iter().zip(fields.columns()) {
        columns.push((field.name().as_str(), array.clone(), field.is_nullable()));
    }
    batch(columns)
}

/// A string column with its buffers sized up front (one allocation each).
fn strings<'a, O: OffsetSizeTrait>(
    records: &'a [Record],
    get: impl Fn(&'a Record) -> Option<&'a str>,
) -> ArrayRef {
    let bytes = records.iter().map(|r| get(r).map_or(0, str::len)).sum();
    let mut builder = GenericStringBuilder::<O>::with_capacity(records.len(), bytes);
    for record in records {
        builder.append_option(get(record));
    }
    Arc::new(builder.finish())
}

/// Records as a batch without `doc_id` (see [`records_batch`]); workers
/// build these in parallel and the consumer only numbers them.
pub fn record_fields_batch(records: &[Record]) -> Result<RecordBatch> {
    batch(vec![
        (
            "source",
            strings::<i32>(records, |r| Some(&r.source)),
            false,
        ),
        (
            "member",
            strings::<i32>(records, |r| r.member.as_deref()),
            true,
        ),
        (
            "offset",
            Arc::new(UInt64Array::from_iter_values(
                records.iter().map(|r| r.offset),
            )),
            false,
        ),
        (
            "part",
            Arc::new(UInt64Array::from_iter(records.iter().map(|r| r.part))),
            true,
        ),
        (
            "format",
            strings::<i32>(records, |r| Some(r.format.name())),
            false,
        ),
        (
            "title",
            strings::<i64>(records, |r| r.title.as_deref()),
            true,
        ),
        ("text", strings::<i64>(records, |r| Some(&r.text)), false),
        ("id", strings::<i32>(records, |r| r.id.as_deref()), true),
        ("url", strings::<i32>(records, |r| r.url.as_deref()), true),
        ("date", strings::<i32>(records, |r| r.date.as_deref()), true),
        ("meta", strings::<i64>(records, |r| r.meta.as_deref()), true),
        (
            "invalid_utf8",
            Arc::new(BooleanArray::from_iter(
                records.iter().map(|r| Some(r.invalid_utf8)),
            )),
            false,
        ),
    ])
}

/// Errors as a batch: `source`, `member`, `offset`, `kind`, `reason`.
pub fn errors_batch(errors: &[IngestError]) -> Result<RecordBatch> {
    batch(vec![
        (
            "source",
            Arc::new(StringArray::from_iter_values(
                errors.iter().map(|e| &e.source),
            )),
            false,
        ),
        (
            "member",
            Arc::new(StringArray::from_iter(
                errors.iter().map(|e| e.member.as_deref()),
            )),
            true,
        ),
        (
            "offset",
            Arc::new(UInt64Array::from_iter_values(
                errors.iter().map(|e| e.offset),
            )),
            false,
        ),
        (
            "kind",
            Arc::new(StringArray::from_iter_values(
                errors.iter().map(|e| e.kind.name()),
            )),
            false,
        ),
        (
            "reason",
            Arc::new(StringArray::from_iter_values(
                errors.iter().map(|e| &e.reason),
            )),
            false,
        ),
    ])
}

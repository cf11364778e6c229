//! Records and input errors as Arrow record batches: the schema every
//! ingest path hands out.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBufferBuilder, LargeStringBuilder, StringBuilder, UInt64Builder,
};
use arrow_array::{ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow_schema::SchemaRef;

use crate::arrow_batch::batch_of as batch;
use crate::error::{Error, Result};
use crate::ingest::record::{IngestError, Record, RecordRef};

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

/// Records appended one by one straight into Arrow buffers, each field
/// copied once from wherever the parser holds it: what [`record_fields_batch`]
/// builds from owned records, and the scan's workers from borrowed ones.
#[derive(Debug)]
pub struct RecordsBuilder {
    source: StringBuilder,
    member: StringBuilder,
    offset: Vec<u64>,
    part: UInt64Builder,
    format: StringBuilder,
    title: LargeStringBuilder,
    text: LargeStringBuilder,
    id: StringBuilder,
    url: StringBuilder,
    date: StringBuilder,
    meta: LargeStringBuilder,
    invalid_utf8: BooleanBufferBuilder,
    /// Bytes of the strings of the columns with 32-bit offsets.
    narrow_bytes: usize,
    /// Bytes of all strings appended.
    bytes: usize,
}

impl Default for RecordsBuilder {
    fn default() -> Self {
        RecordsBuilder::with_capacity(0, 0)
    }
}

impl RecordsBuilder {
    /// Room for `rows` records with `text_bytes` bytes of text without
    /// growing (it grows past them).
    pub fn with_capacity(rows: usize, text_bytes: usize) -> Self {
        RecordsBuilder {
            source: StringBuilder::with_capacity(rows, 0),
            member: StringBuilder::with_capacity(rows, 0),
            offset: Vec::with_capacity(rows),
            part: UInt64Builder::with_capacity(rows),
            format: StringBuilder::with_capacity(rows, 0),
            title: LargeStringBuilder::with_capacity(rows, 0),
            text: LargeStringBuilder::with_capacity(rows, text_bytes),
            id: StringBuilder::with_capacity(rows, 0),
            url: StringBuilder::with_capacity(rows, 0),
            date: StringBuilder::with_capacity(rows, 0),
            meta: LargeStringBuilder::with_capacity(rows, 0),
            invalid_utf8: BooleanBufferBuilder::new(rows),
            narrow_bytes: 0,
            bytes: 0,
        }
    }

    /// Records appended since the last [`RecordsBuilder::finish`].
    pub fn len(&self) -> usize {
        self.offset.len()
    }

    /// Whether no record was appended since the last [`RecordsBuilder::finish`].
    pub fn is_empty(&self) -> bool {
        self.offset.is_empty()
    }

    /// Bytes of the strings appended (as [`Record::heap_bytes`] counts them).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether `record` can be appended: the columns with 32-bit offsets
    /// (`source`, `member`, `format`, `id`, `url`, `date`) hold at most
    /// `i32::MAX` bytes.
    pub fn fits(&self, record: &RecordRef<'_>) -> bool {
        self.narrow_bytes + narrow_bytes(record) <= i32::MAX as usize
    }

    /// Appends one record; the caller checks [`RecordsBuilder::fits`]
    /// first (else the append panics).
    pub fn append(&mut self, record: &RecordRef<'_>) {
        self.source.append_value(record.source);
        self.member.append_option(record.member);
        self.offset.push(record.offset);
        self.part.append_option(record.part);
        self.format.append_value(record.format.name());
        self.title.append_option(record.title);
        self.text.append_value(record.text);
        self.id.append_option(record.id);
        self.url.append_option(record.url);
        self.date.append_option(record.date);
        self.meta.append_option(record.meta);
        self.invalid_utf8.append(record.invalid_utf8);
        self.narrow_bytes += narrow_bytes(record);
        self.bytes += record.heap_bytes();
    }

    /// The records appended as a batch without `doc_id` (the schema of
    /// [`record_fields_batch`]); the builder is then empty.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        self.narrow_bytes = 0;
        self.bytes = 0;
        let offset = UInt64Array::from(std::mem::take(&mut self.offset));
        let invalid = BooleanArray::new(self.invalid_utf8.finish(), None);
        let string = |b: &mut StringBuilder| -> ArrayRef { Arc::new(b.finish()) };
        let source = string(&mut self.source);
        let member = string(&mut self.member);
        let format = string(&mut self.format);
        let id = string(&mut self.id);
        let url = string(&mut self.url);
        let date = string(&mut self.date);
        let large = |b: &mut LargeStringBuilder| -> ArrayRef { Arc::new(b.finish()) };
        let title = large(&mut self.title);
        let text = large(&mut self.text);
        let meta = large(&mut self.meta);
        batch(vec![
            ("source", source, false),
            ("member", member, true),
            ("offset", Arc::new(offset), false),
            ("part", Arc::new(self.part.finish()), true),
            ("format", format, false),
            ("title", title, true),
            ("text", text, false),
            ("id", id, true),
            ("url", url, true),
            ("date", date, true),
            ("meta", meta, true),
            ("invalid_utf8", Arc::new(invalid), false),
        ])
    }
}

/// Bytes of `record`'s strings in columns with 32-bit offsets.
fn narrow_bytes(record: &RecordRef<'_>) -> usize {
    let optional = |s: Option<&str>| s.map_or(0, str::len);
    record.source.len()
        + record.format.name().len()
        + optional(record.member)
        + optional(record.id)
        + optional(record.url)
        + optional(record.date)
}

/// Records as a batch without `doc_id` (see [`records_batch`]); workers
/// build these in parallel and the consumer only numbers them.
pub fn record_fields_batch(records: &[Record]) -> Result<RecordBatch> {
    let text = records.iter().map(|r| r.text.len()).sum();
    let mut builder = RecordsBuilder::with_capacity(records.len(), text);
    for record in records {
        let record = record.borrowed();
        if !builder.fits(&record) {
            return Err(Error::InvalidArgument(
                "records hold more than 2 GiB of source, member, id, url or date: \
                 too many for one batch"
                    .into(),
            ));
        }
        builder.append(&record);
    }
    builder.finish()
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

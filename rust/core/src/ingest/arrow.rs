//! Records and input errors as Arrow record batches: the schema every
//! ingest path hands out.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBufferBuilder, LargeStringBuilder, StringBuilder, UInt64Builder,
};
use arrow_array::{
    ArrayRef, BooleanArray, LargeStringArray, RecordBatch, StringArray, UInt64Array,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::SchemaRef;

use crate::arrow_batch::batch_of as batch;
use crate::error::{Error, Result};
use crate::ingest::record::{IngestError, Record, RecordRef};
use crate::ingest::recycle::BlockPool;

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
    /// The text column's bytes and offsets, built by hand so that the
    /// bytes can live in a recycled block.
    text: Vec<u8>,
    text_offsets: Vec<i64>,
    /// Where the text's block comes from and goes back to, if anywhere.
    pool: Option<Arc<BlockPool>>,
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

/// Room for a chunk of records: rows and bytes of the string columns, so
/// that a builder sized like the last chunk seldom grows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capacities {
    pub rows: usize,
    pub source: usize,
    pub member: usize,
    pub title: usize,
    pub text: usize,
    /// Bytes of each of `id`, `url`, `date` and `meta`.
    pub other: usize,
}

impl Default for RecordsBuilder {
    fn default() -> Self {
        RecordsBuilder::with_capacity(0, 0)
    }
}

/// The text column of `offsets` into `values`.
fn text_array(values: Buffer, offsets: Vec<i64>) -> ArrayRef {
    // SAFETY: `offsets` start at 0, never decrease and end at the length
    // of `values`, and each lies between two `&str`s appended whole, so
    // on a character boundary of valid UTF-8 (see `RecordsBuilder::append`).
    let array = unsafe {
        let offsets = OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets));
        LargeStringArray::new_unchecked(offsets, values, None)
    };
    Arc::new(array)
}

impl RecordsBuilder {
    /// Room for `rows` records with `text_bytes` bytes of text without
    /// growing (it grows past them).
    pub fn with_capacity(rows: usize, text_bytes: usize) -> Self {
        let room = Capacities {
            rows,
            text: text_bytes,
            ..Capacities::default()
        };
        RecordsBuilder::new(None, &room, Vec::with_capacity(text_bytes))
    }

    /// A builder with `room`, its text in a block of `pool`, lent to the
    /// batch [`RecordsBuilder::finish`] makes (see [`super::recycle`]).
    pub fn recycling(pool: &Arc<BlockPool>, room: &Capacities) -> Self {
        // A little more room than the last chunk's text, so that a chunk a
        // little larger does not grow (and copy) its block.
        let text = pool.take(room.text + room.text / 16);
        RecordsBuilder::new(Some(Arc::clone(pool)), room, text)
    }

    fn new(pool: Option<Arc<BlockPool>>, room: &Capacities, text: Vec<u8>) -> Self {
        let rows = room.rows;
        let mut text_offsets = Vec::with_capacity(rows + 1);
        text_offsets.push(0);
        RecordsBuilder {
            source: StringBuilder::with_capacity(rows, room.source),
            member: StringBuilder::with_capacity(rows, room.member),
            offset: Vec::with_capacity(rows),
            part: UInt64Builder::with_capacity(rows),
            format: StringBuilder::with_capacity(rows, 16 * rows),
            title: LargeStringBuilder::with_capacity(rows, room.title),
            text,
            text_offsets,
            pool,
            id: StringBuilder::with_capacity(rows, room.other),
            url: StringBuilder::with_capacity(rows, room.other),
            date: StringBuilder::with_capacity(rows, room.other),
            meta: LargeStringBuilder::with_capacity(rows, room.other),
            invalid_utf8: BooleanBufferBuilder::new(rows),
            narrow_bytes: 0,
            bytes: 0,
        }
    }

    /// The room the records appended so far take, to size the next
    /// builder alike.
    pub fn capacities(&self) -> Capacities {
        Capacities {
            rows: self.len(),
            source: self.source.values_slice().len(),
            member: self.member.values_slice().len(),
            title: self.title.values_slice().len(),
            text: self.text.len(),
            other: [
                self.id.values_slice().len(),
                self.url.values_slice().len(),
                self.date.values_slice().len(),
                self.meta.values_slice().len(),
            ]
            .into_iter()
            .max()
            .unwrap_or(0),
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
        self.text.extend_from_slice(record.text.as_bytes());
        self.text_offsets.push(self.text.len() as i64);
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
        let text = self.finish_text();
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

impl RecordsBuilder {
    /// The text column; the builder's text is then empty. A block of the
    /// pool is lent to the column when the text fills at least an eighth of
    /// it; less text is copied out and the block goes back at once, so that
    /// a small chunk that is kept does not hold a large block. Without a
    /// pool, spare capacity past an eighth is given back.
    fn finish_text(&mut self) -> ArrayRef {
        let mut values = std::mem::take(&mut self.text);
        let offsets = std::mem::replace(&mut self.text_offsets, vec![0]);
        let values = match &self.pool {
            Some(pool) if values.len() >= values.capacity() / 8 => pool.buffer(values),
            Some(pool) => {
                let exact = Buffer::from_slice_ref(&values);
                pool.give_back(values);
                exact
            }
            None => {
                if values.capacity() - values.len() > values.len() / 8 {
                    values.shrink_to_fit();
                }
                Buffer::from_vec(values)
            }
        };
        text_array(values, offsets)
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

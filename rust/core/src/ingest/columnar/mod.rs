//! Columnar formats: Parquet and Arrow IPC (file and stream formats), read
//! batch by batch. Every row is one record:
//!
//! - `text` comes from the column named by `text_field` (a string column; a
//!   dictionary of strings or a binary column is accepted and decoded, binary
//!   lossily, flagging invalid UTF-8);
//! - `title` and `id` come from the `title_field` and `id_field` columns when
//!   they exist (any type; numbers are written out in decimal);
//! - `meta` is every other column of the row as a JSON object (`None` when
//!   there are no other columns): numbers, booleans and nulls as such, strings
//!   as strings, everything else (dates, timestamps, decimals, binary, nested
//!   values) as the string Arrow's display formatting gives it.
//!
//! `offset`, of records and of error rows alike, is the **row number** in the
//! file (0-based, counting across batches, Parquet row groups and Arrow record
//! batches), not a byte offset.
//!
//! Parquet files are read one row group at a time, so a corrupt row group
//! costs only its own rows. The Parquet and Arrow libraries can panic on some
//! malformed inputs: every call that parses untrusted bytes goes through
//! [`guarded`], which turns a panic into a `corrupt` error row.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, Float32Array, Float64Array,
    Int64Array, LargeBinaryArray, LargeStringArray, RecordBatch, StringArray, StringViewArray,
    UInt64Array,
};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{ArrowError, DataType, Schema};
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::errors::ParquetError;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::reader::ChunkReader;

use super::bounded::{error_kind, limit_error, read_bounded, read_up_to, ReadContext};
use super::location::Location;
use super::options::IngestOptions;
use super::record::{ErrorKind, Format, Record};

/// Rows per record batch asked of the readers.
pub const BATCH_ROWS: usize = 8192;

/// The magic bytes that start an Arrow IPC file (as opposed to a stream).
const ARROW_FILE_MAGIC: &[u8] = b"ARROW1";

/// How values that are neither numbers, booleans nor strings are written.
static DISPLAY: FormatOptions<'static> = FormatOptions::new();

/// Reads a Parquet file on disk, one row group at a time.
pub fn read_parquet(file: File, loc: &Location, cx: &mut ReadContext<'_>) {
    read_parquet_input(file, loc, cx);
}

/// Reads an Arrow IPC file (format `ARROW1`) on disk.
pub fn read_arrow(file: File, loc: &Location, cx: &mut ReadContext<'_>) {
    match guarded(Format::Arrow, || {
        FileReader::try_new(BufReader::new(file), None)
    }) {
        Ok(reader) => read_ipc_file(reader, loc, cx),
        Err(failure) => report_unreadable(Format::Arrow, failure, loc, cx),
    }
}

/// Reads a Parquet or Arrow member of a stream. Parquet and Arrow IPC files
/// need random access and are held in memory (at most `max_buffered_bytes`,
/// a `limit` row otherwise); the Arrow IPC stream format is read as it comes.
pub fn read_buffered(
    reader: &mut dyn Read,
    format: Format,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) {
    match format {
        Format::Parquet => {
            if let Some(bytes) = buffer_member(reader, format, loc, cx) {
                read_parquet_input(Bytes::from(bytes), loc, cx);
            }
        }
        Format::Arrow => read_arrow_member(reader, loc, cx),
        other => cx.error(
            loc,
            0,
            ErrorKind::Unsupported,
            format!("{} is not a columnar format", other.name()),
        ),
    }
}

/// Reads an Arrow member of a stream: buffered when it is an IPC file,
/// streamed when it is an IPC stream.
fn read_arrow_member(reader: &mut dyn Read, loc: &Location, cx: &mut ReadContext<'_>) {
    let mut magic = [0u8; ARROW_FILE_MAGIC.len()];
    let n = match read_up_to(reader, &mut magic) {
        Ok(n) => n,
        Err(e) => {
            cx.read_failed(loc, 0, &e);
            return;
        }
    };
    let mut stream = Cursor::new(magic[..n].to_vec()).chain(reader);
    if magic[..n] == *ARROW_FILE_MAGIC {
        let Some(bytes) = buffer_member(&mut stream, Format::Arrow, loc, cx) else {
            return;
        };
        match guarded(Format::Arrow, || {
            FileReader::try_new(Cursor::new(bytes), None)
        }) {
            Ok(reader) => read_ipc_file(reader, loc, cx),
            Err(failure) => report_unreadable(Format::Arrow, failure, loc, cx),
        }
        return;
    }
    let stream = KeepFirstError::new(stream);
    match guarded(Format::Arrow, || {
        StreamReader::try_new_buffered(stream, None)
    }) {
        Ok(reader) => read_ipc_stream(reader, loc, cx),
        Err(failure) => report_unreadable(Format::Arrow, failure, loc, cx),
    }
}

/// A reader that keeps a copy of the first error it passes on. The Arrow
/// stream reader takes an `UnexpectedEof` where a message should start for
/// the end of the stream, which is also how a cut gzip or zstd stream fails:
/// kept here, that failure is still reported.
struct KeepFirstError<R> {
    inner: R,
    first_error: Option<io::Error>,
}

impl<R> KeepFirstError<R> {
    fn new(inner: R) -> Self {
        KeepFirstError {
            inner,
            first_error: None,
        }
    }
}

impl<R: Read> Read for KeepFirstError<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        if let Err(e) = &result {
            if e.kind() != io::ErrorKind::Interrupted && self.first_error.is_none() {
                self.first_error = Some(copy_error(e));
            }
        }
        result
    }
}

/// An error of the same error-row kind and message as `err`.
fn copy_error(err: &io::Error) -> io::Error {
    match error_kind(err) {
        ErrorKind::Limit => limit_error(err.to_string()),
        _ => io::Error::new(err.kind(), err.to_string()),
    }
}

/// Reads the record batches of an Arrow IPC stream. A read error the Arrow
/// reader took for the end of the stream is reported, and so are bytes after
/// its end (a damaged message can read as the end-of-stream marker): they
/// are rows that could not be read.
fn read_ipc_stream<R: Read>(
    mut reader: StreamReader<BufReader<KeepFirstError<R>>>,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) {
    let schema = reader.schema();
    let Some(rows) = read_ipc(&schema, &mut reader, loc, cx) else {
        return;
    };
    if let Some(err) = reader.get_mut().get_mut().first_error.take() {
        cx.read_failed(loc, rows, &err);
        return;
    }
    match read_up_to(reader.get_mut(), &mut [0u8; 1]) {
        Ok(0) => report_if_empty(rows, loc, cx),
        Ok(_) => cx.error(
            loc,
            rows,
            ErrorKind::Corrupt,
            format!(
                "corrupt data at row {rows}: the Arrow IPC stream ends before its bytes do; the \
                 rest is not read"
            ),
        ),
        Err(e) => cx.read_failed(loc, rows, &e),
    }
}

/// Reads the rest of a member into memory, or reports why it cannot be.
fn buffer_member(
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

/// Reads the record batches an Arrow IPC file's footer lists; a listed
/// batch the reader does not produce (its message is not a record batch) is
/// corrupt, not the end of the file.
fn read_ipc_file<R: Read + Seek>(
    mut reader: FileReader<R>,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) {
    let schema = reader.schema();
    let total = reader.num_batches();
    let batches = (0..total).map(move |i| {
        reader.next().unwrap_or_else(|| {
            Err(ArrowError::IpcError(format!(
                "record batch {i} of the {total} the footer lists is missing"
            )))
        })
    });
    if let Some(rows) = read_ipc(&schema, batches, loc, cx) {
        report_if_empty(rows, loc, cx);
    }
}

/// Reports an Arrow IPC file or stream read to its end without a row.
fn report_if_empty(rows: u64, loc: &Location, cx: &mut ReadContext<'_>) {
    if rows == 0 {
        let reason = format!("Arrow IPC {} with no rows", loc.noun());
        cx.error(loc, 0, ErrorKind::Empty, reason);
    }
}

/// Reads the record batches of an Arrow IPC file or stream. Returns the
/// number of rows when every batch was read.
fn read_ipc(
    schema: &Schema,
    batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Option<u64> {
    let plan = match Plan::new(schema, cx.options) {
        Ok(plan) => plan,
        Err(reason) => {
            cx.error(loc, 0, ErrorKind::MissingField, reason);
            return None;
        }
    };
    match read_batches(batches, 0, &plan, Format::Arrow, loc, cx) {
        Outcome::Done(rows) => Some(rows),
        Outcome::Stopped => None,
        Outcome::Failed { row, failure } => {
            report_failure(failure, row, "the rest of it is skipped", loc, cx);
            None
        }
    }
}

/// A Parquet input that can be handed to one reader per row group.
trait ParquetInput: ChunkReader + Sized + 'static {
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
fn read_parquet_input<T: ParquetInput>(input: T, loc: &Location, cx: &mut ReadContext<'_>) {
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

/// Why a library call on untrusted bytes failed.
enum Failure {
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
fn guarded<T, E: Into<Failure>>(
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
fn report_unreadable(format: Format, failure: Failure, loc: &Location, cx: &mut ReadContext<'_>) {
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
fn report_failure(
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
enum Outcome {
    /// All batches read; the number of rows.
    Done(u64),
    /// The sink asked to stop.
    Stopped,
    /// A batch failed to decode at row number `row` (rows before it are kept).
    Failed { row: u64, failure: Failure },
}

/// Turns every batch into records; `first_row` is the row number of the
/// first row of the first batch.
fn read_batches(
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

/// Which columns make the text, title, id and meta of a record.
struct Plan {
    text_name: String,
    text: usize,
    title: Option<usize>,
    id: Option<usize>,
    /// The meta columns and their keys, JSON-encoded with the colon (`"lang":`).
    meta: Vec<(usize, String)>,
}

impl Plan {
    /// The plan for `schema`, or why no record can be read from it (the
    /// reason of a `missing_field` row).
    fn new(schema: &Schema, options: &IngestOptions) -> Result<Plan, String> {
        let name = &options.text_field;
        let Ok(text) = schema.index_of(name) else {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(format!(
                "no text column {name:?}; the columns are {names:?}; nothing read"
            ));
        };
        let text_type = schema.field(text).data_type();
        if !is_text_type(text_type) {
            return Err(format!(
                "text column {name:?} holds {text_type}, not strings; nothing read"
            ));
        }
        let find = |field: &Option<String>| field.as_ref().and_then(|f| schema.index_of(f).ok());
        let title = find(&options.title_field);
        let id = find(&options.id_field);
        let meta = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != text && Some(i) != title && Some(i) != id)
            .map(|(i, field)| {
                let mut key = String::new();
                push_json_str(&mut key, field.name());
                key.push(':');
                (i, key)
            })
            .collect();
        Ok(Plan {
            text_name: name.clone(),
            text,
            title,
            id,
            meta,
        })
    }
}

/// Whether a column of this type can be read as text.
fn is_text_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView => true,
        DataType::Dictionary(_, values) => is_text_type(values),
        _ => false,
    }
}

/// Turns the rows of one batch into records; `first_row` is the row number of
/// its first row. An error (a column the batch cannot provide) means no row
/// of the batch was read.
fn read_batch(
    batch: &RecordBatch,
    first_row: u64,
    plan: &Plan,
    format: Format,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Result<(), String> {
    let column = |index: usize| {
        batch
            .columns()
            .get(index)
            .ok_or_else(|| format!("the batch has no column {index}"))
    };
    let text_array = unpack_dictionary(column(plan.text)?);
    let text = StrColumn::text(text_array.as_ref())
        .ok_or_else(|| format!("text column holds {}", text_array.data_type()))?;
    let title = plan.title.map(column).transpose()?.map(unpack_dictionary);
    let title = title.as_ref().map(|a| Label::new(a.as_ref()));
    let id = plan.id.map(column).transpose()?.map(unpack_dictionary);
    let id = id.as_ref().map(|a| Label::new(a.as_ref()));
    let meta_arrays = plan
        .meta
        .iter()
        .map(|(index, _)| column(*index).map(prepare_meta))
        .collect::<Result<Vec<ArrayRef>, String>>()?;
    let meta: Vec<(&str, MetaColumn<'_>)> = plan
        .meta
        .iter()
        .zip(&meta_arrays)
        .map(|((_, key), array)| (key.as_str(), MetaColumn::new(array.as_ref())))
        .collect();
    let columns = BatchColumns {
        text,
        title,
        id,
        meta,
    };
    for i in 0..batch.num_rows() {
        if cx.sink.is_stopped() {
            return Ok(());
        }
        let row = first_row.saturating_add(i as u64);
        if let Some(record) = columns.record(i, row, plan, format, loc, cx) {
            cx.sink.record(record);
        }
    }
    Ok(())
}

/// The columns of one batch, ready to read row by row.
struct BatchColumns<'a> {
    text: StrColumn<'a>,
    title: Option<Label<'a>>,
    id: Option<Label<'a>>,
    meta: Vec<(&'a str, MetaColumn<'a>)>,
}

impl BatchColumns<'_> {
    /// The record of row `i` of the batch (row number `row` in the file), or
    /// `None` after reporting why there is none.
    fn record(
        &self,
        i: usize,
        row: u64,
        plan: &Plan,
        format: Format,
        loc: &Location,
        cx: &mut ReadContext<'_>,
    ) -> Option<Record> {
        let name = &plan.text_name;
        let Some(cell) = self.text.get(i) else {
            let reason = format!("text column {name:?} is null in row {row}; row skipped");
            cx.error(loc, row, ErrorKind::MissingField, reason);
            return None;
        };
        let max = cx.options.limits.max_record_bytes;
        if cell.len() as u64 > max {
            let reason = format!(
                "text of row {row} is {} bytes, more than max_record_bytes ({max}); row skipped",
                cell.len()
            );
            cx.error(loc, row, ErrorKind::Limit, reason);
            return None;
        }
        let (text, invalid_utf8) = cell.to_text();
        if invalid_utf8 {
            let reason = format!(
                "invalid UTF-8 in text column {name:?} of row {row}; replaced with U+FFFD, the \
                 record is kept and flagged"
            );
            cx.error(loc, row, ErrorKind::InvalidUtf8, reason);
        }
        let mut record = loc.record(row, format, text);
        record.invalid_utf8 = invalid_utf8;
        record.title = self.title.as_ref().and_then(|t| t.get(i));
        record.id = self.id.as_ref().and_then(|t| t.get(i));
        record.meta = self.meta_json(i);
        Some(record)
    }

    /// The meta columns of row `i` as a JSON object; `None` without any.
    fn meta_json(&self, i: usize) -> Option<String> {
        if self.meta.is_empty() {
            return None;
        }
        let mut out = String::from("{");
        for (n, (key, column)) in self.meta.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(key);
            column.write_json(i, &mut out);
        }
        out.push('}');
        Some(out)
    }
}

/// A dictionary-encoded column with its values looked up (the array itself
/// otherwise, or when the lookup fails).
fn unpack_dictionary(array: &ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Dictionary(_, values) => {
            arrow_cast::cast(array, values).unwrap_or_else(|_| array.clone())
        }
        _ => array.clone(),
    }
}

/// A meta column in the layout [`MetaColumn`] reads: dictionaries unpacked,
/// integers widened to 64 bits, half floats to `f32`, and timestamps with a
/// named time zone (which needs a time zone database to display) moved to UTC.
fn prepare_meta(array: &ArrayRef) -> ArrayRef {
    let array = unpack_dictionary(array);
    let target = match array.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => DataType::Int64,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => DataType::UInt64,
        DataType::Float16 => DataType::Float32,
        DataType::Timestamp(unit, Some(tz)) if !is_fixed_offset(tz) => {
            DataType::Timestamp(*unit, Some("+00:00".into()))
        }
        _ => return array,
    };
    arrow_cast::cast(&array, &target).unwrap_or(array)
}

/// Whether a time zone is a fixed offset ("+09:00", "-0930", "+01").
fn is_fixed_offset(tz: &str) -> bool {
    let bytes = tz.as_bytes();
    matches!(bytes.first(), Some(b'+' | b'-'))
        && matches!(bytes.len(), 3 | 5 | 6)
        && bytes[1..].iter().all(|b| b.is_ascii_digit() || *b == b':')
}

/// One value of a text column.
enum Cell<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl Cell<'_> {
    fn len(&self) -> usize {
        match self {
            Cell::Str(s) => s.len(),
            Cell::Bytes(b) => b.len(),
        }
    }

    /// The value as text, and whether invalid UTF-8 was replaced.
    fn to_text(&self) -> (String, bool) {
        match self {
            Cell::Str(s) => ((*s).to_owned(), false),
            Cell::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => (s.to_owned(), false),
                Err(_) => (String::from_utf8_lossy(b).into_owned(), true),
            },
        }
    }
}

/// A string or binary column of a batch, whichever layout it uses.
enum StrColumn<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    BinaryView(&'a BinaryViewArray),
}

impl<'a> StrColumn<'a> {
    /// A string column; `None` for other types.
    fn strings(array: &'a dyn Array) -> Option<Self> {
        if let Some(a) = array.as_string_opt::<i32>() {
            Some(StrColumn::Utf8(a))
        } else if let Some(a) = array.as_string_opt::<i64>() {
            Some(StrColumn::LargeUtf8(a))
        } else {
            array.as_string_view_opt().map(StrColumn::Utf8View)
        }
    }

    /// A string or binary column; `None` for other types.
    fn text(array: &'a dyn Array) -> Option<Self> {
        if let Some(column) = Self::strings(array) {
            Some(column)
        } else if let Some(a) = array.as_binary_opt::<i32>() {
            Some(StrColumn::Binary(a))
        } else if let Some(a) = array.as_binary_opt::<i64>() {
            Some(StrColumn::LargeBinary(a))
        } else {
            array.as_binary_view_opt().map(StrColumn::BinaryView)
        }
    }

    fn array(&self) -> &'a dyn Array {
        match self {
            StrColumn::Utf8(a) => *a,
            StrColumn::LargeUtf8(a) => *a,
            StrColumn::Utf8View(a) => *a,
            StrColumn::Binary(a) => *a,
            StrColumn::LargeBinary(a) => *a,
            StrColumn::BinaryView(a) => *a,
        }
    }

    /// The value of row `i`; `None` when it is null (or out of range).
    fn get(&self, i: usize) -> Option<Cell<'a>> {
        let array = self.array();
        if i >= array.len() || array.is_null(i) {
            return None;
        }
        Some(match self {
            StrColumn::Utf8(a) => Cell::Str(a.value(i)),
            StrColumn::LargeUtf8(a) => Cell::Str(a.value(i)),
            StrColumn::Utf8View(a) => Cell::Str(a.value(i)),
            StrColumn::Binary(a) => Cell::Bytes(a.value(i)),
            StrColumn::LargeBinary(a) => Cell::Bytes(a.value(i)),
            StrColumn::BinaryView(a) => Cell::Bytes(a.value(i)),
        })
    }
}

/// A title or id column: text as it is, other types as Arrow displays them
/// (integers in decimal).
enum Label<'a> {
    Text(StrColumn<'a>),
    Display(&'a dyn Array, Option<ArrayFormatter<'a>>),
}

impl<'a> Label<'a> {
    fn new(array: &'a dyn Array) -> Self {
        match StrColumn::text(array) {
            Some(column) => Label::Text(column),
            None => Label::Display(array, ArrayFormatter::try_new(array, &DISPLAY).ok()),
        }
    }

    /// The value of row `i`; `None` when it is null or cannot be displayed.
    fn get(&self, i: usize) -> Option<String> {
        match self {
            Label::Text(column) => column.get(i).map(|cell| cell.to_text().0),
            Label::Display(array, formatter) => {
                if i >= array.len() || is_null(*array, i) {
                    return None;
                }
                formatter.as_ref().map(|f| f.value(i).to_string())
            }
        }
    }
}

/// Whether row `i` is null, taking arrays that are all null (the `Null` type)
/// into account.
fn is_null(array: &dyn Array, i: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(i)
}

/// A meta column of a batch, read without per-value dispatch through
/// trait objects for the common types.
enum MetaColumn<'a> {
    Null,
    Bool(&'a BooleanArray),
    Int(&'a Int64Array),
    UInt(&'a UInt64Array),
    F32(&'a Float32Array),
    F64(&'a Float64Array),
    Str(StrColumn<'a>),
    /// Any other type, as the string Arrow's display formatting gives.
    Display(&'a dyn Array, ArrayFormatter<'a>),
    /// A type that cannot even be displayed: its values are written as a
    /// string naming the type.
    Opaque(&'a dyn Array),
}

impl<'a> MetaColumn<'a> {
    /// The reader of an array made by [`prepare_meta`].
    fn new(array: &'a dyn Array) -> Self {
        if array.data_type() == &DataType::Null {
            return MetaColumn::Null;
        }
        if let Some(a) = array.as_boolean_opt() {
            return MetaColumn::Bool(a);
        }
        if let Some(a) = array.as_primitive_opt::<Int64Type>() {
            return MetaColumn::Int(a);
        }
        if let Some(a) = array.as_primitive_opt::<UInt64Type>() {
            return MetaColumn::UInt(a);
        }
        if let Some(a) = array.as_primitive_opt::<Float32Type>() {
            return MetaColumn::F32(a);
        }
        if let Some(a) = array.as_primitive_opt::<Float64Type>() {
            return MetaColumn::F64(a);
        }
        if let Some(column) = StrColumn::strings(array) {
            return MetaColumn::Str(column);
        }
        match ArrayFormatter::try_new(array, &DISPLAY) {
            Ok(formatter) => MetaColumn::Display(array, formatter),
            Err(_) => MetaColumn::Opaque(array),
        }
    }

    fn array(&self) -> Option<&'a dyn Array> {
        match self {
            MetaColumn::Null => None,
            MetaColumn::Bool(a) => Some(*a),
            MetaColumn::Int(a) => Some(*a),
            MetaColumn::UInt(a) => Some(*a),
            MetaColumn::F32(a) => Some(*a),
            MetaColumn::F64(a) => Some(*a),
            MetaColumn::Str(column) => Some(column.array()),
            MetaColumn::Display(a, _) | MetaColumn::Opaque(a) => Some(*a),
        }
    }

    /// Appends the value of row `i` as JSON.
    fn write_json(&self, i: usize, out: &mut String) {
        let Some(array) = self.array() else {
            out.push_str("null");
            return;
        };
        if i >= array.len() || array.is_null(i) {
            out.push_str("null");
            return;
        }
        match self {
            MetaColumn::Null => out.push_str("null"),
            MetaColumn::Bool(a) => out.push_str(if a.value(i) { "true" } else { "false" }),
            MetaColumn::Int(a) => push_display(out, a.value(i)),
            MetaColumn::UInt(a) => push_display(out, a.value(i)),
            MetaColumn::F32(a) => push_f32(out, a.value(i)),
            MetaColumn::F64(a) => push_f64(out, a.value(i)),
            MetaColumn::Str(column) => match column.get(i) {
                Some(Cell::Str(s)) => push_json_str(out, s),
                Some(cell) => push_json_str(out, &cell.to_text().0),
                None => out.push_str("null"),
            },
            MetaColumn::Display(_, formatter) => {
                out.push('"');
                let _ = write!(JsonEscaped(out), "{}", formatter.value(i));
                out.push('"');
            }
            MetaColumn::Opaque(a) => {
                push_json_str(out, &format!("<{} value>", a.data_type()));
            }
        }
    }
}

/// Appends a value's `Display` form (numbers).
fn push_display(out: &mut String, value: impl std::fmt::Display) {
    let _ = write!(out, "{value}");
}

/// Appends a JSON number for a finite `f64` (`1.0`, `1e300`), or a string
/// (`"NaN"`, `"inf"`, `"-inf"`) as JSON has no other way to say them.
fn push_f64(out: &mut String, value: f64) {
    match serde_json::Number::from_f64(value) {
        Some(number) => push_display(out, number),
        None => push_non_finite(out, value),
    }
}

/// Appends a JSON number for a finite `f32`, in its own shortest form (`0.1`,
/// not `0.10000000149011612`), or a string for NaN and infinities.
fn push_f32(out: &mut String, value: f32) {
    if !value.is_finite() {
        push_non_finite(out, f64::from(value));
        return;
    }
    let start = out.len();
    push_display(out, value);
    if !out[start..].contains('.') {
        out.push_str(".0");
    }
}

fn push_non_finite(out: &mut String, value: f64) {
    out.push_str(if value.is_nan() {
        "\"NaN\""
    } else if value > 0.0 {
        "\"inf\""
    } else {
        "\"-inf\""
    });
}

/// Appends `s` as a JSON string, quotes included.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let _ = JsonEscaped(out).write_str(s);
    out.push('"');
}

/// Writes text into a string with JSON string escaping (no quotes).
struct JsonEscaped<'a>(&'a mut String);

impl std::fmt::Write for JsonEscaped<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let out = &mut *self.0;
        let mut plain = 0;
        for (i, c) in s.char_indices() {
            let escape = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\u{08}' => "\\b",
                '\u{0c}' => "\\f",
                c if (c as u32) < 0x20 => "",
                _ => continue,
            };
            out.push_str(&s[plain..i]);
            if escape.is_empty() {
                let _ = write!(out, "\\u{:04x}", c as u32);
            } else {
                out.push_str(escape);
            }
            plain = i + c.len_utf8();
        }
        out.push_str(&s[plain..]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Int32Builder, ListBuilder};
    use arrow_array::types::Int32Type;
    use arrow_array::{
        Date32Array, Decimal128Array, DictionaryArray, Int32Array, NullArray,
        TimestampMillisecondArray, UInt8Array,
    };
    use arrow_ipc::writer::{FileWriter, StreamWriter};
    use arrow_schema::{Field, SchemaRef, TimeUnit};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    use super::*;
    use crate::ingest::bounded::ByteBudget;
    use crate::ingest::{ingest_bytes, IngestError, Ingested, Sink};

    /// The rows of the sample: text, title, id, lang, score.
    type Row = (
        Option<&'static str>,
        Option<&'static str>,
        i64,
        Option<&'static str>,
        Option<f64>,
    );

    const ROWS: [Row; 6] = [
        (Some("alpha doc"), Some("A"), 10, Some("en"), Some(0.5)),
        (Some("beta \"q\"\n"), None, 11, Some("fr"), None),
        (Some("gamma"), Some("C"), 12, None, Some(2.0)),
        (Some("delta"), Some("D"), 13, Some("de"), Some(1e300)),
        (Some("epsilon"), Some("E"), 14, Some("en"), Some(-0.25)),
        (Some("zeta"), Some("Z"), 15, Some("it"), Some(3.0)),
    ];

    /// The meta of each row of [`ROWS`].
    const METAS: [&str; 6] = [
        r#"{"lang":"en","score":0.5}"#,
        r#"{"lang":"fr","score":null}"#,
        r#"{"lang":null,"score":2.0}"#,
        r#"{"lang":"de","score":1e+300}"#,
        r#"{"lang":"en","score":-0.25}"#,
        r#"{"lang":"it","score":3.0}"#,
    ];

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("text", DataType::Utf8, true),
            Field::new("title", DataType::Utf8, true),
            Field::new("id", DataType::Int64, false),
            Field::new("lang", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
        ]))
    }

    fn batch(rows: &[Row]) -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.3))),
            Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.4))),
        ];
        RecordBatch::try_new(schema(), columns).unwrap()
    }

    /// The sample rows in two batches of three.
    fn batches(rows: &[Row]) -> Vec<RecordBatch> {
        rows.chunks(3).map(batch).collect()
    }

    /// A Parquet file with one row group per batch, and the metadata of its
    /// row groups.
    fn parquet_with(
        batches: &[RecordBatch],
        props: WriterProperties,
    ) -> (Vec<u8>, Vec<RowGroupMetaData>) {
        let schema = batches.first().map(|b| b.schema()).unwrap_or_else(schema);
        let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props)).unwrap();
        for b in batches {
            writer.write(b).unwrap();
            writer.flush().unwrap();
        }
        let groups = writer.flushed_row_groups().to_vec();
        (writer.into_inner().unwrap(), groups)
    }

    fn parquet(batches: &[RecordBatch]) -> Vec<u8> {
        parquet_with(batches, WriterProperties::builder().build()).0
    }

    fn arrow_file(batches: &[RecordBatch]) -> Vec<u8> {
        let mut writer = FileWriter::try_new(Vec::new(), &batches[0].schema()).unwrap();
        for b in batches {
            writer.write(b).unwrap();
        }
        writer.into_inner().unwrap()
    }

    fn arrow_stream(batches: &[RecordBatch]) -> Vec<u8> {
        let mut writer = StreamWriter::try_new(Vec::new(), &batches[0].schema()).unwrap();
        for b in batches {
            writer.write(b).unwrap();
        }
        writer.into_inner().unwrap()
    }

    /// Runs `read` with a context that collects everything.
    fn collect(options: &IngestOptions, read: impl FnOnce(&mut ReadContext<'_>)) -> Ingested {
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

    /// Writes `bytes` to a temporary file and reads it with `read`.
    fn read_file_with(
        bytes: &[u8],
        options: &IngestOptions,
        read: fn(File, &Location, &mut ReadContext<'_>),
    ) -> Ingested {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut tmp, bytes).unwrap();
        let file = tmp.reopen().unwrap();
        collect(options, |cx| read(file, &Location::file("f"), cx))
    }

    /// The records the sample rows make.
    fn expected(source: &str, format: Format) -> Vec<Record> {
        ROWS.iter()
            .zip(METAS)
            .enumerate()
            .map(|(i, (row, meta))| Record {
                source: source.to_owned(),
                member: None,
                offset: i as u64,
                format,
                id: Some(row.2.to_string()),
                title: row.1.map(str::to_owned),
                text: row.0.unwrap().to_owned(),
                url: None,
                date: None,
                meta: Some(meta.to_owned()),
                invalid_utf8: false,
            })
            .collect()
    }

    fn error(offset: u64, kind: ErrorKind, reason: &str) -> IngestError {
        Location::file("f").error(offset, kind, reason)
    }

    fn kinds(out: &Ingested) -> Vec<(u64, ErrorKind)> {
        out.errors.iter().map(|e| (e.offset, e.kind)).collect()
    }

    #[test]
    fn parquet_file_rows_become_records_across_row_groups() {
        let (bytes, groups) = parquet_with(&batches(&ROWS), WriterProperties::builder().build());
        assert_eq!(groups.len(), 2);
        let out = read_file_with(&bytes, &IngestOptions::default(), read_parquet);
        assert_eq!(out.errors, vec![]);
        assert_eq!(out.records, expected("f", Format::Parquet));
    }

    #[test]
    fn parquet_in_a_stream_gives_the_same_records() {
        let bytes = parquet(&batches(&ROWS));
        let out = ingest_bytes("f", &bytes, &IngestOptions::default());
        assert_eq!(out.errors, vec![]);
        assert_eq!(out.records, expected("f", Format::Parquet));
    }

    #[test]
    fn arrow_ipc_file_on_disk_and_in_a_stream() {
        let bytes = arrow_file(&batches(&ROWS));
        let on_disk = read_file_with(&bytes, &IngestOptions::default(), read_arrow);
        assert_eq!(on_disk.errors, vec![]);
        assert_eq!(on_disk.records, expected("f", Format::Arrow));
        let in_stream = ingest_bytes("f", &bytes, &IngestOptions::default());
        assert_eq!(in_stream.errors, vec![]);
        assert_eq!(in_stream.records, expected("f", Format::Arrow));
    }

    #[test]
    fn arrow_ipc_stream_is_read_without_buffering() {
        let bytes = arrow_stream(&batches(&ROWS));
        let mut options = IngestOptions::default();
        // Far smaller than the stream: it must not be held in memory.
        options.limits.max_buffered_bytes = 16;
        let out = ingest_bytes("f", &bytes, &options);
        assert_eq!(out.errors, vec![]);
        assert_eq!(out.records, expected("f", Format::Arrow));
    }

    #[test]
    fn text_field_can_name_another_column_and_null_text_skips_only_its_row() {
        let options = IngestOptions {
            text_field: "lang".to_owned(),
            title_field: None,
            ..IngestOptions::default()
        };
        let out = ingest_bytes("f", &parquet(&batches(&ROWS)), &options);
        assert_eq!(
            out.errors,
            vec![error(
                2,
                ErrorKind::MissingField,
                "text column \"lang\" is null in row 2; row skipped"
            )]
        );
        let got: Vec<(u64, &str, Option<&str>, Option<&str>)> = out
            .records
            .iter()
            .map(|r| {
                (
                    r.offset,
                    r.text.as_str(),
                    r.id.as_deref(),
                    r.meta.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    0,
                    "en",
                    Some("10"),
                    Some(r#"{"text":"alpha doc","title":"A","score":0.5}"#)
                ),
                (
                    1,
                    "fr",
                    Some("11"),
                    Some(r#"{"text":"beta \"q\"\n","title":null,"score":null}"#)
                ),
                (
                    3,
                    "de",
                    Some("13"),
                    Some(r#"{"text":"delta","title":"D","score":1e+300}"#)
                ),
                (
                    4,
                    "en",
                    Some("14"),
                    Some(r#"{"text":"epsilon","title":"E","score":-0.25}"#)
                ),
                (
                    5,
                    "it",
                    Some("15"),
                    Some(r#"{"text":"zeta","title":"Z","score":3.0}"#)
                ),
            ]
        );
    }

    #[test]
    fn null_text_in_the_text_column_is_reported_at_its_row() {
        let mut rows = ROWS;
        rows[4].0 = None;
        let out = read_file_with(
            &arrow_file(&batches(&rows)),
            &IngestOptions::default(),
            read_arrow,
        );
        assert_eq!(
            out.errors,
            vec![error(
                4,
                ErrorKind::MissingField,
                "text column \"text\" is null in row 4; row skipped"
            )]
        );
        let mut want = expected("f", Format::Arrow);
        want.remove(4);
        assert_eq!(out.records, want);
    }

    #[test]
    fn missing_text_column_is_one_error_listing_the_columns() {
        let options = IngestOptions {
            text_field: "body".to_owned(),
            ..IngestOptions::default()
        };
        for bytes in [parquet(&batches(&ROWS)), arrow_stream(&batches(&ROWS))] {
            let out = ingest_bytes("f", &bytes, &options);
            assert_eq!(out.records, vec![]);
            assert_eq!(
                out.errors,
                vec![error(
                    0,
                    ErrorKind::MissingField,
                    "no text column \"body\"; the columns are [\"text\", \"title\", \"id\", \
                     \"lang\", \"score\"]; nothing read"
                )]
            );
        }
    }

    #[test]
    fn non_string_text_column_is_one_error_naming_its_type() {
        let options = IngestOptions {
            text_field: "score".to_owned(),
            ..IngestOptions::default()
        };
        let out = ingest_bytes("f", &parquet(&batches(&ROWS)), &options);
        assert_eq!(out.records, vec![]);
        assert_eq!(
            out.errors,
            vec![error(
                0,
                ErrorKind::MissingField,
                "text column \"score\" holds Float64, not strings; nothing read"
            )]
        );
    }

    #[test]
    fn dictionary_and_binary_text_columns_are_read() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "text",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("title", DataType::Binary, true),
        ]));
        let text: DictionaryArray<Int32Type> = vec!["same", "other", "same"].into_iter().collect();
        let title = BinaryArray::from_opt_vec(vec![Some(b"ok"), None, Some(b"x")]);
        let b = RecordBatch::try_new(schema, vec![Arc::new(text), Arc::new(title)]).unwrap();
        let out = ingest_bytes(
            "f",
            &arrow_stream(std::slice::from_ref(&b)),
            &IngestOptions::default(),
        );
        assert_eq!(out.errors, vec![]);
        let got: Vec<(&str, Option<&str>, Option<&str>)> = out
            .records
            .iter()
            .map(|r| (r.text.as_str(), r.title.as_deref(), r.meta.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("same", Some("ok"), None),
                ("other", None, None),
                ("same", Some("x"), None)
            ]
        );

        // Binary text with invalid UTF-8 is decoded lossily and flagged.
        let schema = Arc::new(Schema::new(vec![Field::new(
            "text",
            DataType::Binary,
            false,
        )]));
        let text = BinaryArray::from_vec(vec![b"fine", b"bad \xff byte"]);
        let b = RecordBatch::try_new(schema, vec![Arc::new(text)]).unwrap();
        let out = ingest_bytes("f", &parquet(&[b]), &IngestOptions::default());
        assert_eq!(
            kinds(&out),
            vec![(1, ErrorKind::InvalidUtf8)],
            "{:?}",
            out.errors
        );
        let got: Vec<(u64, &str, bool)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.text.as_str(), r.invalid_utf8))
            .collect();
        assert_eq!(
            got,
            vec![(0, "fine", false), (1, "bad \u{fffd} byte", true)]
        );
    }

    #[test]
    fn meta_writes_each_type_as_json() {
        let mut list = ListBuilder::new(Int32Builder::new());
        list.append_value([Some(1), Some(2)]);
        list.append_null();
        let fields = vec![
            Field::new("text", DataType::Utf8, false),
            Field::new("id", DataType::Utf8, true),
            Field::new("flag", DataType::Boolean, true),
            Field::new("small", DataType::Int32, true),
            Field::new("byte", DataType::UInt8, true),
            Field::new("half", DataType::Float16, true),
            Field::new("single", DataType::Float32, true),
            Field::new("double", DataType::Float64, true),
            Field::new("day", DataType::Date32, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("money", DataType::Decimal128(7, 2), true),
            Field::new("list", list.finish().data_type().clone(), true),
            Field::new("nothing", DataType::Null, true),
            Field::new(
                "tag",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("odd \"key\"", DataType::Utf8, true),
        ];
        let mut list = ListBuilder::new(Int32Builder::new());
        list.append_value([Some(1), Some(2)]);
        list.append_null();
        let tag: DictionaryArray<Int32Type> = vec![Some("red"), None].into_iter().collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["a", "b"])),
            Arc::new(StringArray::from(vec![Some("x1"), None])),
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            Arc::new(Int32Array::from(vec![Some(-7), None])),
            Arc::new(UInt8Array::from(vec![Some(255), None])),
            arrow_cast::cast(
                &Float32Array::from(vec![Some(1.5), None]),
                &DataType::Float16,
            )
            .unwrap(),
            Arc::new(Float32Array::from(vec![Some(0.1), Some(f32::NAN)])),
            Arc::new(Float64Array::from(vec![Some(f64::INFINITY), Some(1.0)])),
            Arc::new(Date32Array::from(vec![Some(19723), None])),
            Arc::new(
                TimestampMillisecondArray::from(vec![Some(1_704_164_645_000), None])
                    .with_timezone("UTC"),
            ),
            Arc::new(
                Decimal128Array::from(vec![Some(12345), None])
                    .with_precision_and_scale(7, 2)
                    .unwrap(),
            ),
            Arc::new(list.finish()),
            Arc::new(NullArray::new(2)),
            Arc::new(tag),
            Arc::new(StringArray::from(vec![Some("tab\tctl\u{1}é\\"), None])),
        ];
        let b = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let out = ingest_bytes("f", &arrow_stream(&[b]), &IngestOptions::default());
        assert_eq!(out.errors, vec![]);
        let metas: Vec<&str> = out
            .records
            .iter()
            .map(|r| r.meta.as_deref().unwrap())
            .collect();
        assert_eq!(
            metas,
            vec![
                concat!(
                    r#"{"flag":true,"small":-7,"byte":255,"half":1.5,"single":0.1,"#,
                    r#""double":"inf","day":"2024-01-01","at":"2024-01-02T03:04:05Z","#,
                    r#""money":"123.45","list":"[1, 2]","nothing":null,"tag":"red","#,
                    r#""odd \"key\"":"tab\tctl\u0001é\\"}"#
                ),
                concat!(
                    r#"{"flag":null,"small":null,"byte":null,"half":null,"single":"NaN","#,
                    r#""double":1.0,"day":null,"at":null,"money":null,"list":null,"#,
                    r#""nothing":null,"tag":null,"odd \"key\"":null}"#
                ),
            ]
        );
        for meta in metas {
            let value: serde_json::Value = serde_json::from_str(meta).unwrap();
            assert!(value.is_object());
        }
        let ids: Vec<Option<&str>> = out.records.iter().map(|r| r.id.as_deref()).collect();
        assert_eq!(ids, vec![Some("x1"), None]);
    }

    #[test]
    fn truncated_parquet_is_one_corrupt_row() {
        let bytes = parquet(&batches(&ROWS));
        let cut = &bytes[..bytes.len() - 100];
        let on_disk = read_file_with(cut, &IngestOptions::default(), read_parquet);
        let in_stream = ingest_bytes("f", cut, &IngestOptions::default());
        for out in [on_disk, in_stream] {
            assert_eq!(out.records, vec![]);
            assert_eq!(kinds(&out), vec![(0, ErrorKind::Corrupt)]);
            assert!(
                out.errors[0]
                    .reason
                    .starts_with("not a readable Parquet file: "),
                "{}",
                out.errors[0].reason
            );
        }
    }

    #[test]
    fn garbage_after_par1_is_one_corrupt_row() {
        let mut bytes = b"PAR1".to_vec();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..4000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push((state >> 24) as u8);
        }
        let on_disk = read_file_with(&bytes, &IngestOptions::default(), read_parquet);
        let in_stream = ingest_bytes("f", &bytes, &IngestOptions::default());
        for out in [on_disk, in_stream] {
            assert_eq!(out.records, vec![]);
            assert_eq!(kinds(&out), vec![(0, ErrorKind::Corrupt)]);
        }
    }

    /// A sample without dictionary pages, compressed or not, and the offset
    /// of the text column's data page in the second row group.
    fn plain_parquet(compression: Compression) -> (Vec<u8>, usize, usize) {
        let props = WriterProperties::builder()
            .set_dictionary_enabled(false)
            .set_compression(compression)
            .build();
        let (bytes, groups) = parquet_with(&batches(&ROWS), props);
        let chunk = groups[1].column(0);
        let start = chunk.data_page_offset() as usize;
        (bytes, start, chunk.compressed_size() as usize)
    }

    #[test]
    fn corrupt_page_header_skips_only_its_row_group() {
        let (mut bytes, start, _) = plain_parquet(Compression::UNCOMPRESSED);
        bytes[start..start + 8].fill(0xff);
        let on_disk = read_file_with(&bytes, &IngestOptions::default(), read_parquet);
        let in_stream = ingest_bytes("f", &bytes, &IngestOptions::default());
        for out in [on_disk, in_stream] {
            assert_eq!(out.records, expected("f", Format::Parquet)[..3].to_vec());
            assert_eq!(kinds(&out), vec![(3, ErrorKind::Corrupt)]);
            let reason = &out.errors[0].reason;
            assert!(
                reason.starts_with("corrupt data at row 3: ")
                    && reason.ends_with(
                        "; row group 1 (rows 3..6) is corrupt; its rows 3..6 are skipped"
                    ),
                "{reason}"
            );
        }
    }

    #[test]
    fn flipped_byte_in_a_compressed_data_page_is_corrupt_and_keeps_earlier_rows() {
        let (mut bytes, start, len) = plain_parquet(Compression::SNAPPY);
        bytes[start + len / 2] ^= 0xff;
        let out = ingest_bytes("f", &bytes, &IngestOptions::default());
        assert_eq!(out.records, expected("f", Format::Parquet)[..3].to_vec());
        assert_eq!(
            kinds(&out),
            vec![(3, ErrorKind::Corrupt)],
            "{:?}",
            out.errors
        );
    }

    /// Checks what any damaged input may give: records in row order, and
    /// either all six rows or at least one error row (rows are never lost
    /// silently).
    fn check_sane(out: &Ingested, what: &str) {
        let offsets: Vec<u64> = out.records.iter().map(|r| r.offset).collect();
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "{what}: {offsets:?}"
        );
        assert!(
            offsets == [0, 1, 2, 3, 4, 5] || !out.errors.is_empty(),
            "{what}: {offsets:?}"
        );
    }

    #[test]
    fn every_single_byte_flip_is_survived() {
        let (parquet_bytes, _, _) = plain_parquet(Compression::SNAPPY);
        let inputs = [
            ("parquet", parquet_bytes),
            ("arrow file", arrow_file(&batches(&ROWS))),
            ("arrow stream", arrow_stream(&batches(&ROWS))),
        ];
        for (name, bytes) in inputs {
            for i in 0..bytes.len() {
                let mut damaged = bytes.clone();
                damaged[i] ^= 0x5a;
                let out = ingest_bytes("f", &damaged, &IngestOptions::default());
                check_sane(&out, &format!("{name}, byte {i}"));
            }
        }
    }

    #[test]
    fn truncated_arrow_keeps_the_rows_before_the_cut() {
        let stream = arrow_stream(&batches(&ROWS));
        let out = ingest_bytes("f", &stream[..stream.len() - 40], &IngestOptions::default());
        assert_eq!(out.records, expected("f", Format::Arrow)[..3].to_vec());
        assert_eq!(
            kinds(&out),
            vec![(3, ErrorKind::Corrupt)],
            "{:?}",
            out.errors
        );

        let file = arrow_file(&batches(&ROWS));
        let out = read_file_with(
            &file[..file.len() - 20],
            &IngestOptions::default(),
            read_arrow,
        );
        assert_eq!(out.records, vec![]);
        assert_eq!(kinds(&out), vec![(0, ErrorKind::Corrupt)]);
    }

    /// Found by fuzzing: a gzip-compressed Arrow stream cut just after its
    /// last batch gave every row and no error row; the Arrow reader took the
    /// decoder's `UnexpectedEof` for the end of the stream. Every cut must be
    /// reported, with the rows before it kept.
    #[test]
    fn every_cut_of_a_compressed_arrow_stream_is_reported() {
        use std::io::Write as _;
        let mut writer = StreamWriter::try_new(Vec::new(), &schema()).unwrap();
        for b in batches(&ROWS) {
            writer.write(&b).unwrap();
        }
        writer.finish().unwrap();
        let stream = writer.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&stream).unwrap();
        let gz = gz.finish().unwrap();
        let all = expected("f", Format::Arrow);
        for cut in 2..gz.len() {
            let out = ingest_bytes("f", &gz[..cut], &IngestOptions::default());
            let rows = out.records.len();
            assert_eq!(out.records, all[..rows].to_vec(), "cut at {cut}");
            assert_eq!(
                kinds(&out),
                vec![(rows as u64, ErrorKind::Corrupt)],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn buffered_member_over_the_limit_is_a_limit_row() {
        let mut options = IngestOptions::default();
        options.limits.max_buffered_bytes = 100;
        for (bytes, name) in [
            (parquet(&batches(&ROWS)), "Parquet"),
            (arrow_file(&batches(&ROWS)), "Arrow IPC"),
        ] {
            let out = ingest_bytes("f", &bytes, &options);
            assert_eq!(out.records, vec![]);
            assert_eq!(
                out.errors,
                vec![error(
                    0,
                    ErrorKind::Limit,
                    &format!(
                        "{name} file is larger than max_buffered_bytes (100 bytes); it needs \
                         random access, so it must be held in memory, and was not read"
                    )
                )]
            );
        }
    }

    #[test]
    fn row_group_over_the_limit_is_skipped_on_disk() {
        let mut options = IngestOptions::default();
        options.limits.max_buffered_bytes = 10;
        let out = read_file_with(&parquet(&batches(&ROWS)), &options, read_parquet);
        assert_eq!(out.records, vec![]);
        assert_eq!(
            kinds(&out),
            vec![(0, ErrorKind::Limit), (3, ErrorKind::Limit)]
        );
        assert!(out.errors[1]
            .reason
            .starts_with("row group 1 (rows 3..6): "));
    }

    #[test]
    fn no_rows_is_an_empty_row() {
        let empty = RecordBatch::new_empty(schema());
        let out = ingest_bytes(
            "f",
            &parquet(std::slice::from_ref(&empty)),
            &IngestOptions::default(),
        );
        assert_eq!(
            out.errors,
            vec![error(0, ErrorKind::Empty, "Parquet file with no rows")]
        );
        let out = ingest_bytes("f", &arrow_stream(&[empty]), &IngestOptions::default());
        assert_eq!(
            out.errors,
            vec![error(0, ErrorKind::Empty, "Arrow IPC file with no rows")]
        );
    }

    /// A sink that stops after `after` records.
    struct StopAfter {
        out: Ingested,
        after: usize,
    }

    impl Sink for StopAfter {
        fn record(&mut self, record: Record) {
            self.out.record(record);
        }
        fn error(&mut self, error: IngestError) {
            self.out.error(error);
        }
        fn is_stopped(&self) -> bool {
            self.out.records.len() >= self.after
        }
    }

    #[test]
    fn a_stopped_sink_gets_no_more_rows() {
        let options = IngestOptions::default();
        let mut sink = StopAfter {
            out: Ingested::default(),
            after: 2,
        };
        let budget = ByteBudget::new(u64::MAX);
        let mut cx = ReadContext {
            options: &options,
            sink: &mut sink,
            input_budget: &budget,
        };
        let bytes = parquet(&batches(&ROWS));
        read_buffered(
            &mut &bytes[..],
            Format::Parquet,
            &Location::file("f"),
            &mut cx,
        );
        assert_eq!(
            sink.out.records,
            expected("f", Format::Parquet)[..2].to_vec()
        );
        assert_eq!(sink.out.errors, vec![]);
    }

    #[test]
    fn a_panicking_reader_becomes_a_failure() {
        let result = guarded(Format::Parquet, || -> Result<(), ArrowError> {
            panic!("malformed")
        });
        match result {
            Err(Failure::Invalid(reason)) => {
                assert_eq!(reason, "parquet reader failed on malformed input")
            }
            _ => panic!("the panic was not caught"),
        }
    }

    #[test]
    fn json_escaping_round_trips() {
        let tricky = "q\" b\\ \n\r\t\u{8}\u{c}\u{0}\u{1f} é ✓";
        let mut out = String::new();
        push_json_str(&mut out, tricky);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), tricky);
        assert_eq!(out, "\"q\\\" b\\\\ \\n\\r\\t\\b\\f\\u0000\\u001f é ✓\"");
    }
}

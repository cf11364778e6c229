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
mod tests;

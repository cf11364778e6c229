//! Arrow IPC: files (`ARROW1`, read through their footer) and streams
//! (read as they come).

use std::io::{self, BufReader, Cursor, Read, Seek};

use arrow_array::RecordBatch;
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{ArrowError, Schema};

use super::batches::{
    buffer_member, guarded, read_batches, report_failure, report_unreadable, Outcome,
};
use super::columns::Plan;
use crate::ingest::bounded::{error_kind, limit_error, read_up_to, ReadContext};
use crate::ingest::location::Location;
use crate::ingest::record::{ErrorKind, Format};

/// The magic bytes that start an Arrow IPC file (as opposed to a stream).
const ARROW_FILE_MAGIC: &[u8] = b"ARROW1";

/// Reads an Arrow IPC file (format `ARROW1`) on disk (`file`, or a reader
/// that counts what is read of it, for progress).
pub fn read_arrow<F: Read + Seek>(file: F, loc: &Location, cx: &mut ReadContext<'_>) {
    match guarded(Format::Arrow, || {
        FileReader::try_new(BufReader::new(file), None)
    }) {
        Ok(reader) => read_ipc_file(reader, loc, cx),
        Err(failure) => report_unreadable(Format::Arrow, failure, loc, cx),
    }
}

/// Reads an Arrow member of a stream: buffered when it is an IPC file,
/// streamed when it is an IPC stream.
pub(super) fn read_arrow_member(reader: &mut dyn Read, loc: &Location, cx: &mut ReadContext<'_>) {
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

//! Columnar formats: Parquet and Arrow IPC (file and stream formats), read
//! batch by batch. Every row is one record:
//!
//! - each field comes, row by row, from the first of its columns (the
//!   columns named by its [`FieldNames`](crate::ingest::FieldNames), in
//!   their order) that is not null in the row: row 5 may take `content` when
//!   `text` is null in it;
//! - `text` from the `text_field` columns that hold strings (a dictionary of
//!   strings or a binary column is accepted and decoded, binary lossily,
//!   flagging invalid UTF-8; a column of another type makes no text, and
//!   its values stay in `meta`). A file with none of them is one `missing_field`
//!   row; a row where they are all null, a `missing_field` row for the row;
//! - `title`, `id` and `url` from the `title_field`, `id_field` and
//!   `url_field` columns (any type; numbers are written out in decimal);
//! - `date` from the `date_field` columns (`date_columns`: Arrow dates and
//!   timestamps, epoch numbers, date strings); a value that is not a date is
//!   a `field` row, the record kept without a date and the value in `meta`;
//! - `meta` is every other column of the row as a JSON object (`None` when
//!   there is none), leaving out the columns whose values became fields and
//!   the nulls of columns that may make a field: numbers, booleans and nulls
//!   as such, strings as strings, everything else (dates, timestamps,
//!   decimals, binary, nested values) as the string Arrow's display
//!   formatting gives it.
//!
//! `offset`, of records and of error rows alike, is the **row number** in the
//! file (0-based, counting across batches, Parquet row groups and Arrow record
//! batches), not a byte offset.
//!
//! Parquet files are read one row group at a time, so a corrupt row group
//! costs only its own rows. The Parquet and Arrow libraries can panic on some
//! malformed inputs: every call that parses untrusted bytes goes through
//! [`guarded`], which turns a panic into a `corrupt` error row.
//!
//! - `parquet_file`: Parquet, row group by row group;
//! - `ipc`: Arrow IPC files and streams;
//! - `batches`: what both share: buffering, guarded library calls, and
//!   record batches turned into records;
//! - `columns`: which columns make text, title, id, URL, date and meta,
//!   and the record of each row;
//! - `date_columns`: a column of any type read as dates;
//! - `text_columns`: string and binary columns in every Arrow layout;
//! - `meta`: the other columns of a row as a JSON object.
//!
//! [`guarded`]: batches::guarded

mod batches;
mod columns;
mod date_columns;
mod ipc;
mod meta;
mod parquet_file;
mod text_columns;

use std::io::Read;

use bytes::Bytes;

use crate::ingest::bounded::ReadContext;
use crate::ingest::location::Location;
use crate::ingest::record::{ErrorKind, Format};
use batches::buffer_member;
use ipc::read_arrow_member;
use parquet_file::read_parquet_input;

pub use ipc::read_arrow;
pub use parquet_file::{read_parquet, BATCH_ROWS};

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
                read_parquet_input(Bytes::from(bytes), loc, cx, None);
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

#[cfg(test)]
mod field_tests;
#[cfg(test)]
mod tests;

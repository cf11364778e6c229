//! Ingest: walk paths, unwrap containers (compression, tar, zip) sniffed from
//! their content and nested to any depth, detect each member's format, and
//! parse it into records. Problems become error rows; nothing is dropped
//! silently.
//!
//! Members are streamed, never extracted to disk. `doc_id` is stable: files in
//! sorted path order, then members in archive order, then records in member
//! order, whatever the thread count.
//!
//! The modules, in the order data flows through them:
//!
//! - [`options`]: what to read and how (format choice, fields, text unit,
//!   safety limits); [`record`]: what comes out (records, error rows,
//!   formats); [`location`]: where each came from (file and member path).
//! - [`walk`]: the files under the input paths, in sorted order.
//! - [`scan`]: reads files in parallel and hands out records in batches, in
//!   `doc_id` order; [`collect`]: the same, or one member's bytes, whole into
//!   memory.
//! - [`member`]: one member: sniffed, then unwrapped or parsed; a file or
//!   member that gives no record is an `empty` row (`no_records`);
//!   [`sniff`]: containers and formats recognised from the first bytes;
//!   [`bounded`]: reading under the byte budget and safety limits;
//!   [`read_meter`]: the bytes of an input file read so far, for progress.
//! - [`container`]: compressed streams, tar and zip, whose members go back
//!   through [`member`].
//! - [`dates`]: a date field's value (a string, an epoch number, an Arrow
//!   date or timestamp) parsed into the one form records hold.
//! - [`decode`] and [`lines`]: text decoding and line reading the text
//!   parsers share; [`charset`]: the character set of a web payload, chosen
//!   as browsers choose it, and its text; [`html`]: HTML to the text a
//!   reader sees, which `html_fields` applies to text members and fields
//!   when asked; [`text_units`] cuts the records of every format into
//!   lines or paragraphs (`text_unit`), after that.
//! - One parser per format: [`paper_listing`], [`plain_text`], [`jsonl`],
//!   [`warc`] (WARC and WET), [`columnar`] (Parquet and Arrow IPC).
//! - [`sink`]: where parsers put records and error rows, and count the
//!   records they skip on purpose (web-archive records that are not
//!   documents, of a content type not read, or empty).
//! - [`arrow`]: records and error rows as Arrow record batches, built as
//!   the records come; [`recycle`]: the blocks the scan's text columns are
//!   written into, reused from chunk to chunk.

pub mod arrow;
pub mod bounded;
pub mod charset;
pub mod collect;
pub mod columnar;
pub mod container;
pub mod dates;
pub mod decode;
pub mod html;
mod html_fields;
pub mod jsonl;
pub mod lines;
pub mod location;
pub mod member;
mod no_records;
pub mod options;
pub mod paper_listing;
pub mod plain_text;
pub mod read_meter;
pub mod record;
pub mod recycle;
pub mod scan;
pub mod sink;
pub mod sniff;
pub mod text_units;
pub mod walk;
pub mod warc;

pub use collect::{ingest_bytes, ingest_paths, Scanned};
pub use location::Location;
pub use options::{ContentTypes, FieldNames, HtmlMode, IngestOptions, Limits, TextUnit};
pub use record::{ErrorKind, Format, FormatChoice, IngestError, Ingested, Record, RecordRef};
pub use sink::Sink;
pub use sniff::SNIFF_BYTES;

//! What ingest hands out: records (one document each, with its provenance),
//! error rows, and the formats they come from.

use crate::error::{Error, Result};

/// A dump format thresher can parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A paper-listing page dump: boilerplate, then title and abstract lines.
    PaperListing,
    /// Plain text: one document per file, line or paragraph.
    PlainText,
    /// JSON Lines: one JSON object per line.
    Jsonl,
    /// WARC: web archive records (HTTP responses and resources).
    Warc,
    /// WET: Common Crawl's WARC files of extracted text (conversion records).
    Wet,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (file or stream format).
    Arrow,
}

impl Format {
    /// Every format, in the order of [`Format::name`]'s documentation.
    pub const ALL: [Format; 7] = [
        Format::PaperListing,
        Format::PlainText,
        Format::Jsonl,
        Format::Warc,
        Format::Wet,
        Format::Parquet,
        Format::Arrow,
    ];

    /// The name used in the `format` column and the `format=` option.
    pub fn name(self) -> &'static str {
        match self {
            Format::PaperListing => "paper_listing",
            Format::PlainText => "text",
            Format::Jsonl => "jsonl",
            Format::Warc => "warc",
            Format::Wet => "wet",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }
}

/// Which format to parse inputs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatChoice {
    /// Detect per member from its content.
    #[default]
    Auto,
    /// Parse every (innermost) member as this format.
    Fixed(Format),
}

impl std::str::FromStr for FormatChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s == "auto" {
            return Ok(FormatChoice::Auto);
        }
        match Format::ALL.into_iter().find(|f| f.name() == s) {
            Some(f) => Ok(FormatChoice::Fixed(f)),
            None => {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                Err(Error::InvalidArgument(format!(
                    "unknown format {s:?}; expected \"auto\" or one of {names:?}"
                )))
            }
        }
    }
}

/// One document with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The input file.
    pub source: String,
    /// Path inside an archive, levels joined by
    /// [`location::MEMBER_SEPARATOR`](super::location::MEMBER_SEPARATOR);
    /// `None` for plain (or only compressed) files.
    pub member: Option<String>,
    /// Byte offset of the record in the decompressed member; the row number
    /// for Parquet and Arrow. A unit of `text_unit = "line"` or
    /// `"paragraph"` has its source record's offset, except in plain text,
    /// where it is the unit's own byte offset.
    pub offset: u64,
    /// With `text_unit = "line"` or `"paragraph"`, the unit's index in its
    /// source record (0-based; in plain text, its index among the member's
    /// units); `None` with `text_unit = "file"` (see
    /// [`text_units`](super::text_units)).
    pub part: Option<u64>,
    pub format: Format,
    /// The record's own id (a JSONL/Parquet/Arrow id field, a WARC record id).
    pub id: Option<String>,
    pub title: Option<String>,
    pub text: String,
    /// The URL: a JSONL/Parquet/Arrow url field, a WARC/WET target URI.
    pub url: Option<String>,
    /// The date, normalised by [`dates`](super::dates) (RFC 3339 in UTC): a
    /// JSONL/Parquet/Arrow date field, a WARC/WET `WARC-Date`.
    pub date: Option<String>,
    /// Other fields as a JSON object (JSONL fields, Parquet columns, WARC
    /// headers of interest).
    pub meta: Option<String>,
    /// The text held invalid UTF-8, replaced with U+FFFD.
    pub invalid_utf8: bool,
}

impl Record {
    /// The record with its fields borrowed.
    pub fn borrowed(&self) -> RecordRef<'_> {
        RecordRef {
            source: &self.source,
            member: self.member.as_deref(),
            offset: self.offset,
            part: self.part,
            format: self.format,
            id: self.id.as_deref(),
            title: self.title.as_deref(),
            text: &self.text,
            url: self.url.as_deref(),
            date: self.date.as_deref(),
            meta: self.meta.as_deref(),
            invalid_utf8: self.invalid_utf8,
        }
    }

    /// Bytes held by the record's strings.
    pub fn heap_bytes(&self) -> usize {
        let optional = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.source.len()
            + self.text.len()
            + optional(&self.member)
            + optional(&self.id)
            + optional(&self.title)
            + optional(&self.url)
            + optional(&self.date)
            + optional(&self.meta)
    }
}

/// A [`Record`] whose fields are borrowed from the parser's buffers (see
/// [`Sink::record_ref`](super::Sink::record_ref)): a sink that copies the
/// fields where they go (Arrow buffers) needs no `String` of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// See [`Record::source`].
    pub source: &'a str,
    /// See [`Record::member`].
    pub member: Option<&'a str>,
    /// See [`Record::offset`].
    pub offset: u64,
    /// See [`Record::part`].
    pub part: Option<u64>,
    pub format: Format,
    /// See [`Record::id`].
    pub id: Option<&'a str>,
    pub title: Option<&'a str>,
    pub text: &'a str,
    /// See [`Record::url`].
    pub url: Option<&'a str>,
    /// See [`Record::date`].
    pub date: Option<&'a str>,
    /// See [`Record::meta`].
    pub meta: Option<&'a str>,
    /// See [`Record::invalid_utf8`].
    pub invalid_utf8: bool,
}

impl RecordRef<'_> {
    /// The record with fields of its own.
    pub fn to_record(&self) -> Record {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        Record {
            source: self.source.to_owned(),
            member: owned(self.member),
            offset: self.offset,
            part: self.part,
            format: self.format,
            id: owned(self.id),
            title: owned(self.title),
            text: self.text.to_owned(),
            url: owned(self.url),
            date: owned(self.date),
            meta: owned(self.meta),
            invalid_utf8: self.invalid_utf8,
        }
    }

    /// Bytes of the record's strings (as [`Record::heap_bytes`]).
    pub fn heap_bytes(&self) -> usize {
        let optional = |s: Option<&str>| s.map_or(0, str::len);
        self.source.len()
            + self.text.len()
            + optional(self.member)
            + optional(self.id)
            + optional(self.title)
            + optional(self.url)
            + optional(self.date)
            + optional(self.meta)
    }
}

/// What kind of problem an error row reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A file or directory could not be opened, listed or read.
    Io,
    /// A compressed stream or archive is corrupt or truncated.
    Corrupt,
    /// A safety limit was hit (decompressed size, ratio, record length,
    /// nesting depth, buffered size).
    Limit,
    /// Binary content where text was expected.
    Binary,
    /// A file or member with no text.
    Empty,
    /// Invalid UTF-8, decoded with U+FFFD; the record is kept and flagged.
    InvalidUtf8,
    /// A JSON line or a structured record that does not parse.
    Malformed,
    /// The text field is missing or not a string.
    MissingField,
    /// A field value that does not parse (a date); the record is kept.
    Field,
    /// A line of a paper-listing dump that could not be paired.
    Unpaired,
    /// An archive entry that is not a regular file (a link, a device), or a
    /// feature that is not supported (encrypted zip entries).
    Unsupported,
}

impl ErrorKind {
    /// The name used in the `kind` column of the errors table.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Limit => "limit",
            ErrorKind::Binary => "binary",
            ErrorKind::Empty => "empty",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::Malformed => "malformed",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::Field => "field",
            ErrorKind::Unpaired => "unpaired",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// Input that could not become a record, or a record that needs a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestError {
    pub source: String,
    pub member: Option<String>,
    /// Byte offset of the problem in the decompressed member (a row number
    /// for Parquet and Arrow).
    pub offset: u64,
    pub kind: ErrorKind,
    pub reason: String,
}

/// Everything read from a set of inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    pub records: Vec<Record>,
    pub errors: Vec<IngestError>,
    /// Input records skipped on purpose, counted by key (see
    /// [`Sink::skipped`](super::Sink::skipped)).
    pub skipped: std::collections::BTreeMap<String, u64>,
}

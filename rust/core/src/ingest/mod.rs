//! Ingest: walk paths, sniff each file's format from its content, and parse
//! it into records. Problems become error rows; nothing is dropped silently.
//!
//! `doc_id` is stable: files in sorted path order, then records in file order.

pub mod decode;
pub mod paper_listing;
pub mod plain_text;
pub mod walk;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cancel::Cancel;
use crate::error::{Error, Result};

/// Bytes of a file's start that format detection looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A dump format thresher can parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A paper-listing page dump: boilerplate, then title and abstract lines.
    PaperListing,
    /// Plain text: one document per file.
    PlainText,
}

impl Format {
    /// The name used in the `format` column and the `format=` option.
    pub fn name(self) -> &'static str {
        match self {
            Format::PaperListing => "paper_listing",
            Format::PlainText => "text",
        }
    }
}

/// Which format to parse inputs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatChoice {
    /// Detect per file from its content.
    #[default]
    Auto,
    /// Parse every file as this format.
    Fixed(Format),
}

impl std::str::FromStr for FormatChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(FormatChoice::Auto),
            "paper_listing" => Ok(FormatChoice::Fixed(Format::PaperListing)),
            "text" => Ok(FormatChoice::Fixed(Format::PlainText)),
            other => Err(Error::InvalidArgument(format!(
                "unknown format {other:?}; expected \"auto\", \"paper_listing\" or \"text\""
            ))),
        }
    }
}

/// One document with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The input file.
    pub source: String,
    /// Path inside an archive; `None` for plain files.
    pub member: Option<String>,
    /// Byte offset of the record in the (decompressed) file.
    pub offset: u64,
    pub format: Format,
    pub title: Option<String>,
    pub text: String,
}

/// Input that could not become a record, or a record that needs a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestError {
    pub source: String,
    pub member: Option<String>,
    /// Byte offset of the problem in the (decompressed) file.
    pub offset: u64,
    pub reason: String,
}

/// Everything read from a set of inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    pub records: Vec<Record>,
    pub errors: Vec<IngestError>,
}

/// Reads every file under `paths` (files or directories) in parallel; stops
/// with [`Error::Cancelled`] soon after `cancel` is set.
pub fn ingest_paths(paths: &[PathBuf], choice: FormatChoice, cancel: &Cancel) -> Result<Ingested> {
    let walked = walk::collect_files(paths);
    let per_file: Vec<Ingested> = walked
        .files
        .par_iter()
        .map(|path| {
            if cancel.is_cancelled() {
                Ingested::default()
            } else {
                ingest_file(path, choice)
            }
        })
        .collect();
    cancel.check()?;
    let mut out = Ingested {
        records: Vec::new(),
        errors: walked.errors,
    };
    for part in per_file {
        out.records.extend(part.records);
        out.errors.extend(part.errors);
    }
    Ok(out)
}

/// Reads one file.
pub fn ingest_file(path: &Path, choice: FormatChoice) -> Ingested {
    let source = path.to_string_lossy().into_owned();
    match std::fs::read(path) {
        Ok(bytes) => ingest_bytes(&source, None, &bytes, choice),
        Err(e) => Ingested {
            records: Vec::new(),
            errors: vec![IngestError {
                source,
                member: None,
                offset: 0,
                reason: format!("cannot read file: {e}"),
            }],
        },
    }
}

/// Parses the bytes of one file (or archive member).
pub fn ingest_bytes(
    source: &str,
    member: Option<&str>,
    bytes: &[u8],
    choice: FormatChoice,
) -> Ingested {
    let mut out = Ingested::default();
    let error = |offset: u64, reason: String| IngestError {
        source: source.to_owned(),
        member: member.map(str::to_owned),
        offset,
        reason,
    };
    if let Some(offset) = decode::binary_marker(bytes) {
        out.errors.push(error(
            offset as u64,
            format!("binary content (NUL or control bytes near byte {offset}); file not parsed"),
        ));
        return out;
    }
    let decoded = decode::Decoded::new(bytes);
    for bad in decoded.invalid_spans() {
        out.errors.push(error(
            bad.offset as u64,
            format!(
                "invalid UTF-8 ({} byte(s)); replaced with U+FFFD, the record is kept",
                bad.len
            ),
        ));
    }
    let text = decoded.text();
    if text.trim().is_empty() {
        out.errors.push(error(0, "empty file: no text".to_owned()));
        return out;
    }
    let format = match choice {
        FormatChoice::Fixed(f) => f,
        FormatChoice::Auto => {
            let mut end = text.len().min(SNIFF_BYTES);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            if paper_listing::looks_like_listing(&text[..end]) {
                Format::PaperListing
            } else {
                Format::PlainText
            }
        }
    };
    let record = |offset: usize, title: Option<String>, body: String| Record {
        source: source.to_owned(),
        member: member.map(str::to_owned),
        offset: decoded.original_offset(offset) as u64,
        format,
        title,
        text: body,
    };
    match format {
        Format::PaperListing => {
            let parsed = paper_listing::parse(text);
            for paper in parsed.papers {
                out.records
                    .push(record(paper.offset as usize, Some(paper.title), paper.text));
            }
            for line in parsed.unpaired {
                let offset = decoded.original_offset(line.offset as usize) as u64;
                out.errors.push(error(offset, line.reason));
            }
        }
        Format::PlainText => {
            if let Some(doc) = plain_text::whole_file(text) {
                out.records.push(record(doc.offset, None, doc.text));
            }
        }
    }
    out
}

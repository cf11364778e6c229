//! Where parsers put what they read.

use super::record::{IngestError, Ingested, Record, RecordRef};

/// The key [`Sink::skipped`] counts empty payloads and texts under.
pub const SKIPPED_EMPTY: &str = "empty";

/// The key [`Sink::skipped`] counts a WARC record that is not a document
/// under: `warc/` and its type (`warc/revisit`, `warc/request`,
/// `warc/warcinfo`, `warc/metadata`).
pub fn skipped_warc_type(warc_type: &str) -> String {
    format!("warc/{warc_type}")
}

/// Receives records and error rows in input order. A parser checks
/// [`Sink::is_stopped`] between records and returns early when it is set
/// (the consumer went away or the run was cancelled).
pub trait Sink {
    fn record(&mut self, record: Record);
    /// Receives a record whose fields are borrowed from the parser, as
    /// [`Sink::record`] does: parsers that hold a record's text in their
    /// own buffers hand it on this way, so that a sink that copies the
    /// fields anyway (into Arrow buffers) makes no `String`s. By default
    /// the record is made owned and handed to [`Sink::record`].
    fn record_ref(&mut self, record: RecordRef<'_>) {
        self.record(record.to_record());
    }
    fn error(&mut self, error: IngestError);
    /// Counts an input record skipped on purpose, not as an error, under
    /// `key`: the bare MIME type of a web-archive record whose content type
    /// is not read (`image/png`), [`skipped_warc_type`] for a WARC record
    /// that is not a document, [`SKIPPED_EMPTY`] for an empty payload or
    /// text.
    fn skipped(&mut self, key: &str);
    fn is_stopped(&self) -> bool {
        false
    }
}

/// Collects everything in memory (tests and small inputs).
impl Sink for Ingested {
    fn record(&mut self, record: Record) {
        self.records.push(record);
    }

    fn error(&mut self, error: IngestError) {
        self.errors.push(error);
    }

    fn skipped(&mut self, key: &str) {
        *self.skipped.entry(key.to_owned()).or_default() += 1;
    }
}

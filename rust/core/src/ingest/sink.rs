//! Where parsers put what they read.

use super::record::{IngestError, Ingested, Record};

/// Receives records and error rows in input order. A parser checks
/// [`Sink::is_stopped`] between records and returns early when it is set
/// (the consumer went away or the run was cancelled).
pub trait Sink {
    fn record(&mut self, record: Record);
    fn error(&mut self, error: IngestError);
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
}

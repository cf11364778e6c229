//! Inputs that give nothing: an input file or archive member that yields
//! zero records is itself an `empty` error row, saying why.
//!
//! Every read of a file or member ([`super::member`]) runs under
//! [`report_if_no_records`], a sink that counts what passes through it. When
//! the read gave no record and no `empty` row at offset 0 (the row a parser
//! writes for an empty member, or the one this module wrote for a member
//! inside), it writes one at offset 0, whose reason sums up the member's
//! error rows by kind with the first reason of each (`no records from this
//! file: 693 missing_field rows (first: no text field "text"; found ...)`), and the records skipped
//! on purpose by key (`12 records skipped: image/png 10, warc/request 2`).
//!
//! So each file or innermost member that gives no records has one `empty`
//! row of its own; a container (a tar, a zip, a compressed stream) has none
//! in addition to its members' rows, and one of its own only when no member
//! inside has one (the archive could not be listed, or held nothing that
//! was read).

use std::collections::BTreeMap;

use super::bounded::ReadContext;
use super::location::Location;
use super::record::{ErrorKind, IngestError, Record};
use super::sink::Sink;

/// Longest first reason quoted per kind, in bytes (cut at a character).
const MAX_QUOTED_REASON: usize = 300;

/// Runs `read` (the read of the file or member at `loc`); then, if it gave
/// no record and no `empty` row at offset 0, reports an `empty` row at
/// offset 0 of `loc` saying why.
pub(super) fn report_if_no_records(
    loc: &Location,
    cx: &mut ReadContext<'_>,
    read: impl FnOnce(&mut ReadContext<'_>),
) {
    let mut counts = Counting {
        inner: &mut *cx.sink,
        records: 0,
        empty_reported: false,
        errors: Vec::new(),
        skipped: BTreeMap::new(),
    };
    let mut inner = ReadContext {
        options: cx.options,
        sink: &mut counts,
        input_budget: cx.input_budget,
    };
    read(&mut inner);
    if counts.records > 0 || counts.empty_reported || counts.is_stopped() {
        return;
    }
    let reason = counts.reason(loc.noun());
    counts.inner.error(loc.error(0, ErrorKind::Empty, reason));
}

/// Error rows of one kind: how many, and the first one's reason.
struct KindCount {
    kind: ErrorKind,
    count: u64,
    first: String,
}

/// A sink that counts what it hands on.
struct Counting<'a> {
    inner: &'a mut dyn Sink,
    records: u64,
    /// An `empty` row at offset 0 went through.
    empty_reported: bool,
    /// Error rows by kind, in the order each kind first came.
    errors: Vec<KindCount>,
    skipped: BTreeMap<String, u64>,
}

impl Counting<'_> {
    /// Why nothing came: the error rows by kind (most first) with the first
    /// reason of each, and the skipped records by key (most first).
    fn reason(&self, noun: &str) -> String {
        let mut parts = Vec::new();
        if !self.errors.is_empty() {
            let mut kinds: Vec<&KindCount> = self.errors.iter().collect();
            // Stable: kinds with as many rows stay in the order they came.
            kinds.sort_by(|a, b| b.count.cmp(&a.count));
            let each: Vec<String> = kinds
                .iter()
                .map(|k| match k.count {
                    1 => format!("1 {} row ({})", k.kind.name(), quoted(&k.first)),
                    n => format!(
                        "{n} {} rows (first: {})",
                        k.kind.name(),
                        quoted(&k.first)
                    ),
                })
                .collect();
            parts.push(each.join(", "));
        }
        if !self.skipped.is_empty() {
            let total: u64 = self.skipped.values().sum();
            let mut keys: Vec<(&String, &u64)> = self.skipped.iter().collect();
            keys.sort_by(|a, b| b.1.cmp(a.1));
            let each: Vec<String> = keys.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let records = if total == 1 { "record" } else { "records" };
            parts.push(format!("{total} {records} skipped: {}", each.join(", ")));
        }
        if parts.is_empty() {
            return format!("no records from this {noun}");
        }
        format!("no records from this {noun}: {}", parts.join("; "))
    }
}

/// `reason` cut to [`MAX_QUOTED_REASON`] bytes.
fn quoted(reason: &str) -> String {
    if reason.len() <= MAX_QUOTED_REASON {
        return reason.to_owned();
    }
    let mut end = MAX_QUOTED_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &reason[..end])
}

impl Sink for Counting<'_> {
    fn record(&mut self, record: Record) {
        self.records += 1;
        self.inner.record(record);
    }

    fn error(&mut self, error: IngestError) {
        if error.kind == ErrorKind::Empty && error.offset == 0 {
            self.empty_reported = true;
        }
        match self.errors.iter_mut().find(|k| k.kind == error.kind) {
            Some(k) => k.count += 1,
            None => self.errors.push(KindCount {
                kind: error.kind,
                count: 1,
                first: error.reason.clone(),
            }),
        }
        self.inner.error(error);
    }

    fn skipped(&mut self, key: &str) {
        match self.skipped.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                self.skipped.insert(key.to_owned(), 1);
            }
        }
        self.inner.skipped(key);
    }

    fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}

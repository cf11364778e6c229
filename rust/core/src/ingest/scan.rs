//! Streaming ingest: files are read in parallel by worker threads, and their
//! records come out in batches in `doc_id` order (files in sorted order, then
//! members, then records), whatever the thread count.
//!
//! Memory stays bounded: a worker may only start a file that is less than
//! [`ScanConfig::window`] files ahead of the one being consumed, and each file
//! hands its records over through a channel of [`CHANNEL_CHUNKS`] chunks of at
//! most [`CHUNK_RECORDS`] records or [`CHUNK_BYTES`] bytes of text.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use arrow_array::RecordBatch;
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use super::bounded::{ByteBudget, ReadContext};
use super::location::Location;
use super::member;
use super::options::IngestOptions;
use super::read_meter::FileMeter;
use super::record::{ErrorKind, IngestError, Record, RecordRef};
use super::recycle::BlockPool;
use super::sink::Sink;
use super::walk;
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::ingest::arrow as tables;

/// Records per chunk handed from a worker to the consumer.
pub const CHUNK_RECORDS: usize = 4096;
/// Bytes of strings (text, title, meta, ...) per chunk handed from a worker
/// to the consumer.
pub const CHUNK_BYTES: usize = 8 << 20;
/// Chunks a file's channel holds before its worker waits.
pub const CHANNEL_CHUNKS: usize = 2;

/// Error rows that end a batch early (before `batch_size` records).
pub const MAX_PENDING_ERRORS: usize = 65_536;

/// How a scan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanConfig {
    /// Records per batch (the last batch may be shorter, and so may a batch
    /// that ends with [`MAX_PENDING_ERRORS`] error rows).
    pub batch_size: usize,
    /// Worker threads; 0 means rayon's thread count (`RAYON_NUM_THREADS`, else
    /// the number of CPUs).
    pub threads: usize,
    /// Files that may be read ahead of the one being consumed; 0 means twice
    /// the thread count.
    pub window: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            batch_size: 65_536,
            threads: 0,
            window: 0,
        }
    }
}

/// Records and error rows in `doc_id` order. The records come as Arrow
/// batches of [`crate::ingest::arrow::records_batch`]'s schema (several when the
/// batch spans chunks; slices share the workers' buffers, nothing is copied).
#[derive(Debug, Default)]
pub struct Batch {
    /// `doc_id` of the first record.
    pub first_doc_id: u64,
    pub records: Vec<RecordBatch>,
    pub errors: Vec<IngestError>,
}

impl Batch {
    /// Number of records.
    pub fn num_rows(&self) -> usize {
        self.records.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Counters for progress bars, updated as the scan goes.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    /// Bytes of the input files done (as stored, before decompression), in
    /// `doc_id` order: a file counts once all its records are handed out.
    pub bytes_done: AtomicU64,
    /// The sizes of the input files (as stored), summed when the walk ends.
    pub bytes_total: AtomicU64,
    /// Bytes of the input files read so far (as stored, so the compressed
    /// bytes of compressed files and archives), live inside each file: a
    /// file counts at most its size as it is read, and exactly its size
    /// once done, so this ends at `bytes_total`. Workers read ahead of the
    /// records handed out, so it runs ahead of `bytes_done`.
    pub bytes_read: AtomicU64,
    pub records: AtomicU64,
    pub errors: AtomicU64,
    /// Input records skipped on purpose (see [`Scanner::skipped`]), in the
    /// files done.
    pub skipped: AtomicU64,
}

impl Progress {
    /// The counters now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            files_total: self.files_total.load(Ordering::Relaxed),
            files_done: self.files_done.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProgressSnapshot {
    pub files_total: u64,
    pub files_done: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub bytes_read: u64,
    pub records: u64,
    pub errors: u64,
    pub skipped: u64,
}

enum Chunk {
    Read {
        /// Records as [`tables::record_fields_batch`] (no `doc_id` yet).
        records: Option<RecordBatch>,
        errors: Vec<IngestError>,
    },
    Done {
        bytes: u64,
        /// The file's skipped records, by key.
        skipped: BTreeMap<String, u64>,
    },
}

/// The consumer's position, shared with the workers so that they do not read
/// too far ahead.
struct Window {
    consumed: Mutex<usize>,
    moved: Condvar,
    size: usize,
}

/// A running scan. Dropping it stops the workers.
pub struct Scanner {
    receivers: Vec<Option<Receiver<Chunk>>>,
    current: usize,
    pending_records: VecDeque<RecordBatch>,
    pending_rows: usize,
    pending_errors: Vec<IngestError>,
    batch_size: usize,
    next_doc_id: u64,
    window: Arc<Window>,
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
    workers: Vec<JoinHandle<()>>,
    /// The blocks of the batches' text, if recycled.
    pool: Option<Arc<BlockPool>>,
    /// Records kept of one input, if limited (see [`Scanner::keeping_per_input`]).
    keep_per_input: Option<u64>,
    /// Records of the current input so far, kept or not.
    input_records: u64,
    /// The first record of the current input not kept, and how many were not.
    not_kept: Option<(IngestError, u64)>,
    /// Skipped records of the files done, by key.
    skipped: BTreeMap<String, u64>,
}

impl Scanner {
    /// Walks `paths` and starts the workers. The blocks the batches' text
    /// is written into are recycled (see [`super::recycle`]): the memory of
    /// the batches dropped is reused for the next ones.
    pub fn start(paths: &[PathBuf], options: &IngestOptions, config: ScanConfig) -> Result<Self> {
        Scanner::start_with(paths, options, config, true)
    }

    /// As [`Scanner::start`]; without `recycle`, each batch's text has
    /// memory of its own, sized to it (for a caller that keeps every batch).
    pub(crate) fn start_with(
        paths: &[PathBuf],
        options: &IngestOptions,
        config: ScanConfig,
        recycle: bool,
    ) -> Result<Self> {
        options.validate()?;
        if config.batch_size == 0 {
            return Err(Error::InvalidArgument("batch_size must be positive".into()));
        }
        let threads = match config.threads {
            0 => rayon::current_num_threads(),
            n => n,
        }
        .max(1);
        let walked = walk::collect_files(paths, options.follow_symlinks);
        // The sizes now, as the walk left them: what each file counts in
        // `bytes_read` once done, whatever it holds when read.
        let sizes: Arc<Vec<u64>> = Arc::new(
            walked
                .files
                .iter()
                .map(|path| std::fs::metadata(path).map_or(0, |m| m.len()))
                .collect(),
        );
        let files = Arc::new(walked.files);
        let progress = Arc::new(Progress::default());
        progress
            .files_total
            .store(files.len() as u64, Ordering::Relaxed);
        progress
            .bytes_total
            .store(sizes.iter().sum(), Ordering::Relaxed);
        progress
            .errors
            .store(walked.errors.len() as u64, Ordering::Relaxed);
        let window = Arc::new(Window {
            consumed: Mutex::new(0),
            moved: Condvar::new(),
            size: match config.window {
                0 => 2 * threads,
                n => n,
            },
        });
        let stop = Arc::new(AtomicBool::new(false));
        // Blocks alive at once: a few chunks per file read ahead, the
        // consumer's batch and the frames the caller holds; only the idle
        // ones are kept.
        let pool = recycle.then(|| {
            BlockPool::new(
                4 * window.size + 16,
                CHUNK_BYTES + CHUNK_BYTES / 8,
                4 * CHUNK_BYTES,
            )
        });
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..files.len()).map(|_| bounded(CHANNEL_CHUNKS)).unzip();
        let senders = Arc::new(senders);
        let next_file = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for i in 0..threads.min(files.len()) {
            let job = Worker {
                files: files.clone(),
                sizes: sizes.clone(),
                progress: progress.clone(),
                senders: senders.clone(),
                next_file: next_file.clone(),
                window: window.clone(),
                stop: stop.clone(),
                options: options.clone(),
                pool: pool.clone(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("thresher-ingest-{i}"))
                .spawn(move || job.run())
                .map_err(|e| Error::Internal(format!("cannot start threads: {e}")))?;
            workers.push(handle);
        }
        Ok(Scanner {
            receivers: receivers.into_iter().map(Some).collect(),
            current: 0,
            pending_records: VecDeque::new(),
            pending_rows: 0,
            pending_errors: walked.errors,
            batch_size: config.batch_size,
            next_doc_id: 0,
            window,
            stop,
            progress,
            workers,
            pool,
            keep_per_input: None,
            input_records: 0,
            not_kept: None,
            skipped: BTreeMap::new(),
        })
    }

    /// Keeps at most `limit` records of each input file; the others are
    /// read and counted in one `limit` row (at the first of them) after the
    /// input's other rows, and `doc_id`s go on without a gap. This is what
    /// bounds the memory of [`super::ingest_paths`]
    /// ([`super::Limits::max_records`]).
    pub fn keeping_per_input(mut self, limit: u64) -> Self {
        self.keep_per_input = Some(limit);
        self
    }

    /// The records of `batch` that are kept under
    /// [`Scanner::keeping_per_input`]; the others are counted.
    fn keep(&mut self, batch: RecordBatch) -> RecordBatch {
        let rows = batch.num_rows() as u64;
        let seen = self.input_records;
        self.input_records += rows;
        let Some(limit) = self.keep_per_input else {
            return batch;
        };
        if seen + rows <= limit {
            return batch;
        }
        let kept = limit.saturating_sub(seen) as usize;
        let dropped = rows - kept as u64;
        match &mut self.not_kept {
            Some((_, count)) => *count += dropped,
            None => {
                let first = first_row_location(&batch, kept);
                self.not_kept = Some((first, dropped));
            }
        }
        batch.slice(0, kept)
    }

    /// The row for the records of the input just read that were not kept.
    fn report_not_kept(&mut self) {
        self.input_records = 0;
        let Some((mut row, count)) = self.not_kept.take() else {
            return;
        };
        let limit = self.keep_per_input.unwrap_or(0);
        row.reason = format!(
            "more records than max_records ({limit}) in this input: the {count} records after the \
             first {limit} were read but not kept (from this offset on); thresher.scan reads \
             inputs of any size"
        );
        self.progress.errors.fetch_add(1, Ordering::Relaxed);
        self.pending_errors.push(row);
    }

    /// The input records skipped on purpose so far, by key (see
    /// [`Sink::skipped`]): those of the files whose records have all been
    /// handed out, so the same at the same point of any scan of the same
    /// inputs, whatever the thread count.
    pub fn skipped(&self) -> BTreeMap<String, u64> {
        self.skipped.clone()
    }

    /// The live counters.
    pub fn progress(&self) -> ProgressSnapshot {
        self.progress.snapshot()
    }

    /// The counters, to read from another thread while the scan runs.
    pub fn progress_handle(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// The next batch, or `None` when everything has been read.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        self.next_batch_cancellable(&Cancel::new())
    }

    /// The next batch; stops with [`Error::Cancelled`] soon after `cancel` is
    /// set (the scan can go on afterwards).
    pub fn next_batch_cancellable(&mut self, cancel: &Cancel) -> Result<Option<Batch>> {
        // A batch ends at `batch_size` records, or early once
        // `MAX_PENDING_ERRORS` error rows wait (a member of nothing but bad
        // lines), so that memory stays bounded.
        while self.pending_rows < self.batch_size
            && self.pending_errors.len() < MAX_PENDING_ERRORS
            && self.current < self.receivers.len()
        {
            let Some(receiver) = &self.receivers[self.current] else {
                self.advance(0, BTreeMap::new());
                continue;
            };
            match receiver.recv_timeout(Duration::from_millis(50)) {
                Ok(Chunk::Read { records, errors }) => {
                    let rows = records.as_ref().map_or(0, RecordBatch::num_rows);
                    let p = &self.progress;
                    p.records.fetch_add(rows as u64, Ordering::Relaxed);
                    p.errors.fetch_add(errors.len() as u64, Ordering::Relaxed);
                    let records = records.map(|r| self.keep(r));
                    let kept = records.as_ref().map_or(0, RecordBatch::num_rows);
                    self.pending_rows += kept;
                    self.pending_records
                        .extend(records.filter(|r| r.num_rows() > 0));
                    self.pending_errors.extend(errors);
                }
                Ok(Chunk::Done { bytes, skipped }) => self.advance(bytes, skipped),
                Err(RecvTimeoutError::Timeout) => cancel.check()?,
                Err(RecvTimeoutError::Disconnected) => {
                    // Only if a worker thread died outside the panic guard.
                    let error = Location::file("<scan>").error(
                        0,
                        ErrorKind::Io,
                        format!(
                            "worker stopped before finishing input file #{}",
                            self.current
                        ),
                    );
                    self.pending_errors.push(error);
                    self.advance(0, BTreeMap::new());
                }
            }
        }
        if self.pending_rows == 0 && self.pending_errors.is_empty() {
            return Ok(None);
        }
        let records = self.take_rows(self.pending_rows.min(self.batch_size))?;
        let batch = Batch {
            first_doc_id: self.next_doc_id,
            records,
            errors: std::mem::take(&mut self.pending_errors),
        };
        self.next_doc_id += batch.num_rows() as u64;
        Ok(Some(batch))
    }

    /// The first `rows` pending records, numbered; chunks are sliced, not copied.
    fn take_rows(&mut self, mut rows: usize) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        let mut doc_id = self.next_doc_id;
        while rows > 0 {
            let Some(front) = self.pending_records.pop_front() else {
                break;
            };
            let part = if front.num_rows() > rows {
                self.pending_records
                    .push_front(front.slice(rows, front.num_rows() - rows));
                front.slice(0, rows)
            } else {
                front
            };
            rows -= part.num_rows();
            self.pending_rows -= part.num_rows();
            out.push(tables::with_doc_ids(&part, doc_id)?);
            doc_id += part.num_rows() as u64;
        }
        Ok(out)
    }

    /// Moves on to the next file, counting its skipped records, and lets
    /// the workers read further ahead.
    fn advance(&mut self, bytes: u64, skipped: BTreeMap<String, u64>) {
        self.report_not_kept();
        let total: u64 = skipped.values().sum();
        for (key, count) in skipped {
            *self.skipped.entry(key).or_default() += count;
        }
        self.progress.skipped.fetch_add(total, Ordering::Relaxed);
        self.receivers[self.current] = None;
        self.current += 1;
        let p = &self.progress;
        p.files_done.fetch_add(1, Ordering::Relaxed);
        p.bytes_done.fetch_add(bytes, Ordering::Relaxed);
        let mut consumed = self
            .window
            .consumed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *consumed = self.current;
        self.window.moved.notify_all();
    }
}

/// An error row at the source, member and offset of row `i` of a batch of
/// [`tables::record_fields_batch`] (its reason to be filled in).
fn first_row_location(batch: &RecordBatch, i: usize) -> IngestError {
    use arrow_array::{Array, StringArray, UInt64Array};
    let string = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .filter(|c| i < c.len() && c.is_valid(i))
            .map(|c| c.value(i).to_owned())
    };
    let offset = batch
        .column_by_name("offset")
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        .filter(|c| i < c.len())
        .map_or(0, |c| c.value(i));
    let loc = Location {
        source: string("source").unwrap_or_default().into(),
        member: string("member"),
    };
    loc.error(offset, ErrorKind::Limit, String::new())
}

impl Iterator for Scanner {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        self.next_batch().transpose()
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receivers makes blocked sends fail.
        self.receivers.clear();
        {
            let _guard = self
                .window
                .consumed
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.window.moved.notify_all();
        }
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
        // Batches still held give their blocks back to nothing.
        if let Some(pool) = &self.pool {
            pool.close();
        }
    }
}

struct Worker {
    files: Arc<Vec<PathBuf>>,
    /// The files' sizes when the walk ended.
    sizes: Arc<Vec<u64>>,
    progress: Arc<Progress>,
    senders: Arc<Vec<Sender<Chunk>>>,
    next_file: Arc<AtomicUsize>,
    window: Arc<Window>,
    stop: Arc<AtomicBool>,
    options: IngestOptions,
    pool: Option<Arc<BlockPool>>,
}

impl Worker {
    fn run(self) {
        let mut room = tables::Capacities::default();
        loop {
            let k = self.next_file.fetch_add(1, Ordering::Relaxed);
            if k >= self.files.len() || !self.wait_for_window(k) {
                return;
            }
            let path = &self.files[k];
            let mut sink = ChannelSink::new(&self.senders[k], &self.stop, self.pool.as_ref(), room);
            let meter = FileMeter::new(&self.progress.bytes_read, self.sizes[k]);
            let read = catch_unwind(AssertUnwindSafe(|| {
                let budget = ByteBudget::new(self.options.limits.max_input_bytes);
                let mut cx = ReadContext {
                    options: &self.options,
                    sink: &mut sink,
                    input_budget: &budget,
                };
                member::read_file_metered(path, &mut cx, Some(&meter));
            }));
            meter.finish();
            if let Err(panic) = read {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown".to_owned());
                sink.error(Location::path(path).error(
                    0,
                    ErrorKind::Io,
                    format!("internal error while reading this file ({message}); please report it"),
                ));
            }
            sink.flush();
            room = sink.room;
            let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let skipped = std::mem::take(&mut sink.skipped);
            if self.senders[k]
                .send(Chunk::Done { bytes, skipped })
                .is_err()
            {
                return;
            }
        }
    }

    /// Waits until file `k` is within the window; false when the scan stops.
    fn wait_for_window(&self, k: usize) -> bool {
        let mut consumed = self
            .window
            .consumed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while k >= *consumed + self.window.size && !self.stop.load(Ordering::Relaxed) {
            consumed = self
                .window
                .moved
                .wait(consumed)
                .unwrap_or_else(|e| e.into_inner());
        }
        !self.stop.load(Ordering::Relaxed)
    }
}

/// Hands a worker's records to the consumer in chunks, each record
/// appended straight into the chunk's Arrow buffers.
struct ChannelSink<'a> {
    sender: &'a Sender<Chunk>,
    stop: &'a AtomicBool,
    records: tables::RecordsBuilder,
    /// The room of the last full chunk, for the next chunks.
    room: tables::Capacities,
    pool: Option<&'a Arc<BlockPool>>,
    errors: Vec<IngestError>,
    skipped: BTreeMap<String, u64>,
    disconnected: bool,
}

impl<'a> ChannelSink<'a> {
    /// A sink whose chunks start with `room` (that of the last full chunk
    /// of the worker's previous file).
    fn new(
        sender: &'a Sender<Chunk>,
        stop: &'a AtomicBool,
        pool: Option<&'a Arc<BlockPool>>,
        room: tables::Capacities,
    ) -> Self {
        ChannelSink {
            sender,
            stop,
            records: builder(pool, &room),
            room,
            pool,
            errors: Vec::new(),
            skipped: BTreeMap::new(),
            disconnected: false,
        }
    }

    fn flush(&mut self) {
        if self.records.is_empty() && self.errors.is_empty() {
            return;
        }
        let mut errors = std::mem::take(&mut self.errors);
        let records = if self.records.is_empty() {
            None
        } else {
            // The next chunk is likely the size of this one, if full.
            if self.records.len() >= CHUNK_RECORDS || self.records.bytes() >= CHUNK_BYTES {
                self.room = self.records.capacities();
            }
            let next = builder(self.pool, &self.room);
            let full = std::mem::replace(&mut self.records, next);
            match { full }.finish() {
                Ok(batch) => Some(batch),
                Err(e) => {
                    // Not expected: the columns are as the schema wants them.
                    let reason = format!("records could not be converted to Arrow: {e}");
                    errors.push(Location::file("<scan>").error(0, ErrorKind::Io, reason));
                    None
                }
            }
        };
        if self.sender.send(Chunk::Read { records, errors }).is_err() {
            self.disconnected = true;
        }
    }
}

/// A chunk's builder with `room`, its text in a block of `pool` if there
/// is one.
fn builder(pool: Option<&Arc<BlockPool>>, room: &tables::Capacities) -> tables::RecordsBuilder {
    match pool {
        Some(pool) => tables::RecordsBuilder::recycling(pool, room),
        None => tables::RecordsBuilder::with_capacity(room.rows, room.text),
    }
}

impl Sink for ChannelSink<'_> {
    fn record(&mut self, record: Record) {
        self.record_ref(record.borrowed());
    }

    fn record_ref(&mut self, record: RecordRef<'_>) {
        if !self.records.fits(&record) {
            self.flush();
            if !self.records.fits(&record) {
                // Only for a record of more than 2 GiB of source, member,
                // id, url or date, which the limits do not let through.
                let loc = Location {
                    source: record.source.into(),
                    member: record.member.map(str::to_owned),
                };
                let reason = "record could not be converted to Arrow: over 2 GiB of \
                              source, member, id, url or date";
                self.error(loc.error(record.offset, ErrorKind::Io, reason));
                return;
            }
        }
        self.records.append(&record);
        if self.records.len() >= CHUNK_RECORDS || self.records.bytes() >= CHUNK_BYTES {
            self.flush();
        }
    }

    fn error(&mut self, error: IngestError) {
        self.errors.push(error);
        if self.errors.len() >= CHUNK_RECORDS {
            self.flush();
        }
    }

    fn skipped(&mut self, key: &str) {
        *self.skipped.entry(key.to_owned()).or_default() += 1;
    }

    fn is_stopped(&self) -> bool {
        self.disconnected || self.stop.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_files(dir: &std::path::Path, n: usize) {
        for i in 0..n {
            let body: String = (0..=(i % 7))
                .map(|j| format!("doc {i} part {j} words\n\n"))
                .collect();
            std::fs::write(dir.join(format!("f{i:03}.txt")), body).expect("write");
        }
    }

    fn scan_all(
        paths: &[PathBuf],
        options: &IngestOptions,
        config: ScanConfig,
    ) -> (RecordBatch, Vec<IngestError>, Vec<usize>) {
        let mut scanner = Scanner::start(paths, options, config).expect("start");
        let (mut records, mut errors, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        let mut rows = 0;
        while let Some(batch) = scanner.next_batch().expect("batch") {
            assert_eq!(batch.first_doc_id, rows as u64);
            rows += batch.num_rows();
            sizes.push(batch.num_rows());
            records.extend(batch.records);
            errors.extend(batch.errors);
        }
        let schema = tables::records_schema().expect("schema");
        let all = arrow_select::concat::concat_batches(&schema, &records).expect("concat");
        (all, errors, sizes)
    }

    #[test]
    fn same_records_for_any_threads_and_batch_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(dir.path(), 40);
        std::fs::write(dir.path().join("empty.txt"), "").expect("write");
        let paths = vec![dir.path().to_path_buf(), dir.path().join("missing")];
        let options = IngestOptions::default();
        let one = ScanConfig {
            batch_size: 1000,
            threads: 1,
            window: 1,
        };
        let (reference, ref_errors, _) = scan_all(&paths, &options, one);
        assert_eq!(reference.num_rows(), 40);
        assert_eq!(ref_errors.len(), 2);
        for (batch_size, threads) in [(1, 4), (3, 2), (7, 8), (100_000, 3)] {
            let config = ScanConfig {
                batch_size,
                threads,
                window: 0,
            };
            let (records, errors, sizes) = scan_all(&paths, &options, config);
            assert_eq!(records, reference);
            assert_eq!(errors, ref_errors);
            assert!(sizes[..sizes.len() - 1].iter().all(|&s| s == batch_size));
        }
    }

    #[test]
    fn bytes_read_advance_inside_one_compressed_file_and_end_at_its_size() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.jsonl.gz");
        let file = std::fs::File::create(&path).expect("create");
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        // Words from a random generator, so that the file stays large once
        // compressed (about 4 MB).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for i in 0..40_000 {
            let words: Vec<String> = (0..24)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    format!("{:x}", state >> 40)
                })
                .collect();
            writeln!(gz, "{{\"text\": \"{i} {}\"}}", words.join(" ")).expect("write");
        }
        gz.finish().expect("finish");
        let size = std::fs::metadata(&path).expect("metadata").len();
        assert!(size > 3_000_000, "{size}");
        let config = ScanConfig {
            batch_size: 500,
            threads: 1,
            window: 0,
        };
        let mut scanner =
            Scanner::start(&[path], &IngestOptions::default(), config).expect("start");
        assert_eq!(scanner.progress().bytes_total, size);
        let mut seen = Vec::new();
        let mut rows = 0;
        while let Some(batch) = scanner.next_batch().expect("batch") {
            rows += batch.num_rows();
            seen.push(scanner.progress().bytes_read);
        }
        assert_eq!(rows, 40_000);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        let inside: Vec<u64> = seen
            .iter()
            .copied()
            .filter(|&b| b > 0 && b < size)
            .collect();
        assert!(
            inside.len() >= 2 && inside[0] < inside[inside.len() - 1],
            "{seen:?}"
        );
        let end = scanner.progress();
        assert_eq!(
            (end.bytes_read, end.bytes_done, end.bytes_total),
            (size, size, size)
        );
    }

    #[test]
    fn dropping_a_scan_midway_stops_the_workers() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(dir.path(), 50);
        let config = ScanConfig {
            batch_size: 1,
            threads: 3,
            window: 2,
        };
        let mut scanner = Scanner::start(
            &[dir.path().to_path_buf()],
            &IngestOptions::default(),
            config,
        )
        .expect("start");
        assert!(scanner.next_batch().expect("batch").is_some());
        drop(scanner);
    }

    #[test]
    fn cancel_returns_cancelled() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(dir.path(), 3);
        let mut scanner = Scanner::start(
            &[dir.path().to_path_buf()],
            &IngestOptions::default(),
            ScanConfig::default(),
        )
        .expect("start");
        let cancel = Cancel::new();
        cancel.cancel();
        // Either everything was already there, or the wait saw the cancel.
        match scanner.next_batch_cancellable(&cancel) {
            Ok(Some(batch)) => assert_eq!(batch.num_rows(), 3),
            Err(Error::Cancelled) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

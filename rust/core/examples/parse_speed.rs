//! Single-thread throughput of the paper-listing reader on a generated dump
//! held in memory: `cargo run --release -p thresher-core --example parse_speed`.
//!
//! The dump (about 500 MB; set `PARSE_SPEED_MB` to change it) is a page
//! header followed by title/abstract pairs of realistic lengths (titles of
//! 40–150 characters, abstracts of 600–1800), ASCII with a few Unicode words,
//! blank lines in between. It is read through `paper_listing::read` from a
//! `&[u8]` into a sink that only counts, so the figure is the parser's own
//! speed (records come with borrowed fields, only titles are `String`s); run
//! 4 reads through a 256 KiB `BufReader`, as from a file, and run 5 also
//! appends every record into Arrow columns, in chunks as the scan's workers
//! make them (text blocks recycled, each chunk dropped once made: what a
//! consumer that drops its frames costs). Throughput is given per
//! wall-clock second and per second of this thread's CPU time (Linux), which
//! holds on a busy machine too.

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Instant;

use thresher_core::ingest::arrow::{Capacities, RecordsBuilder};
use thresher_core::ingest::bounded::{ByteBudget, ReadContext};
use thresher_core::ingest::member::READ_BUFFER_BYTES;
use thresher_core::ingest::recycle::BlockPool;
use thresher_core::ingest::scan::{CHUNK_BYTES, CHUNK_RECORDS};
use thresher_core::ingest::{
    paper_listing, IngestError, IngestOptions, Location, Record, RecordRef, Sink,
};

/// Counts what the reader emits.
#[derive(Default)]
struct Counter {
    records: u64,
    errors: u64,
    text_bytes: u64,
}

impl Sink for Counter {
    fn record(&mut self, record: Record) {
        self.record_ref(record.borrowed());
    }

    fn record_ref(&mut self, record: RecordRef<'_>) {
        self.records += 1;
        self.text_bytes += record.text.len() as u64;
    }

    fn error(&mut self, error: IngestError) {
        if self.errors < 5 {
            eprintln!("error row: {error:?}");
        }
        self.errors += 1;
    }

    // Paper listings skip nothing on purpose.
    fn skipped(&mut self, _key: &str) {}
}

/// Counts what the reader emits and appends the records into Arrow
/// columns, chunk by chunk, as the scan's workers do.
struct ToArrow {
    counter: Counter,
    pool: Arc<BlockPool>,
    builder: RecordsBuilder,
    chunks: u64,
}

impl ToArrow {
    fn new() -> Self {
        let pool = BlockPool::new(16, CHUNK_BYTES + CHUNK_BYTES / 8, 4 * CHUNK_BYTES);
        ToArrow {
            builder: RecordsBuilder::recycling(&pool, &Capacities::default()),
            pool,
            counter: Counter::default(),
            chunks: 0,
        }
    }

    fn flush(&mut self) {
        let rows = self.builder.len();
        let room = self.builder.capacities();
        let mut full = std::mem::replace(
            &mut self.builder,
            RecordsBuilder::recycling(&self.pool, &room),
        );
        let built = full.finish().map_or(0, |batch| batch.num_rows());
        assert_eq!(built, rows, "every record of the chunk is in its batch");
        self.chunks += 1;
    }
}

impl Sink for ToArrow {
    fn record(&mut self, record: Record) {
        self.record_ref(record.borrowed());
    }

    fn record_ref(&mut self, record: RecordRef<'_>) {
        self.counter.record_ref(record);
        self.builder.append(&record);
        if self.builder.len() >= CHUNK_RECORDS || self.builder.bytes() >= CHUNK_BYTES {
            self.flush();
        }
    }

    fn error(&mut self, error: IngestError) {
        self.counter.error(error);
    }

    fn skipped(&mut self, _key: &str) {}
}

/// Small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const TITLE_WORDS: &[&str] = &[
    "Sparse",
    "Neural",
    "Kernel",
    "Models",
    "Diffusion",
    "Transformers",
    "for",
    "of",
    "and",
    "via",
    "Learning",
    "Robust",
    "Graph",
    "Attention",
    "Scaling",
    "Laws",
    "Agents",
    "Reasoning",
    "with",
    "Language",
    "Vision",
    "Efficient",
    "Long-Context",
    "Retrieval",
    "Benchmark",
    "Alignment",
    "Reward",
    "Policy",
    "Optimisation",
    "Fréchet",
    "Große",
    "Über",
    "the",
    "in",
];

const ABSTRACT_WORDS: &[&str] = &[
    "we",
    "study",
    "the",
    "problem",
    "of",
    "learning",
    "sparse",
    "representations",
    "from",
    "noisy",
    "data",
    "and",
    "show",
    "that",
    "our",
    "method",
    "improves",
    "over",
    "strong",
    "baselines",
    "on",
    "several",
    "benchmarks",
    "with",
    "provable",
    "guarantees",
    "under",
    "distribution",
    "shift",
    "experiments",
    "confirm",
    "theory",
    "in",
    "practice",
    "a",
    "to",
    "model",
    "training",
    "large",
    "language",
    "models",
    "naïve",
    "estimation",
    "is",
    "by",
    "results",
    "across",
    "tasks",
    "this",
    "approach",
    "reduces",
    "cost",
    "significantly",
];

const HEADER: &[&str] = &[
    "new",
    "",
    "Get trending papers in your email inbox once a day!",
    "",
    "Get trending papers in your email inbox!",
    "",
    "Subscribe",
    "",
    "Trending Papers",
    "",
    "byAK and the research community",
    "",
];

fn push_title(out: &mut Vec<u8>, rng: &mut Rng) {
    let want = 40 + rng.below(111);
    let start = out.len();
    while out.len() - start < want {
        if out.len() > start {
            out.push(b' ');
        }
        out.extend_from_slice(rng.pick(TITLE_WORDS).as_bytes());
    }
    out.push(b'\n');
}

fn push_abstract(out: &mut Vec<u8>, rng: &mut Rng) {
    let want = 600 + rng.below(1201);
    let start = out.len();
    while out.len() - start < want {
        if out.len() > start {
            out.push(b' ');
        }
        let words = 8 + rng.below(20);
        for w in 0..words {
            let word = rng.pick(ABSTRACT_WORDS).as_bytes();
            if w == 0 {
                out.push(word[0].to_ascii_uppercase());
                out.extend_from_slice(&word[1..]);
            } else {
                out.push(b' ');
                out.extend_from_slice(word);
            }
        }
        out.push(b'.');
    }
    out.push(b'\n');
}

/// A listing dump of at least `target` bytes and the number of papers in it.
fn generate(target: usize) -> (Vec<u8>, u64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(target + 4096);
    for line in HEADER {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    let mut papers = 0;
    while out.len() < target {
        push_title(&mut out, &mut rng);
        out.push(b'\n');
        push_abstract(&mut out, &mut rng);
        out.push(b'\n');
        papers += 1;
    }
    (out, papers)
}

/// Nanoseconds this thread has run on a CPU (Linux), so that the figure
/// holds on a busy machine too; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn main() {
    let mb: usize = std::env::var("PARSE_SPEED_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let started = Instant::now();
    let (dump, papers) = generate(mb << 20);
    println!(
        "generated {} bytes, {papers} papers in {:.2} s",
        dump.len(),
        started.elapsed().as_secs_f64()
    );
    let mut options = IngestOptions::default();
    // Only the old whole-member reader needed this; harmless otherwise.
    options.limits.max_buffered_bytes = u64::MAX;
    let loc = Location::file("generated.txt");
    // Runs 1-3 read the slice itself; run 4 goes through a `BufReader` of
    // the size `read_member` uses, as a file or a decompressed stream would;
    // run 5 does too, and builds the Arrow columns.
    for run in 1..=5 {
        let budget = ByteBudget::new(u64::MAX);
        let mut counter = Counter::default();
        let mut to_arrow = ToArrow::new();
        let sink: &mut dyn Sink = if run < 5 { &mut counter } else { &mut to_arrow };
        let mut cx = ReadContext {
            options: &options,
            sink,
            input_budget: &budget,
        };
        let mut slice: &[u8] = &dump;
        let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, &dump[..]);
        let (reader, how): (&mut dyn BufRead, &str) = match run {
            1..=3 => (&mut slice, "&[u8]"),
            4 => (&mut buffered, "BufReader"),
            _ => (&mut buffered, "BufReader, into Arrow"),
        };
        let cpu_before = thread_cpu_ns();
        let started = Instant::now();
        paper_listing::read(reader, &loc, &mut cx);
        if run == 5 {
            to_arrow.flush();
        }
        let secs = started.elapsed().as_secs_f64();
        let sink = if run < 5 { &counter } else { &to_arrow.counter };
        let cpu = match (cpu_before, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => format!(
                ", {:.0} MB/s of CPU time ({:.3} s)",
                dump.len() as f64 / ((b - a) as f64 / 1e9) / 1e6,
                (b - a) as f64 / 1e9
            ),
            _ => String::new(),
        };
        println!(
            "run {run} ({how}): {:.0} MB/s wall ({} bytes in {secs:.3} s){cpu}; {} records, {} errors, {} text bytes",
            dump.len() as f64 / secs / 1e6,
            dump.len(),
            sink.records,
            sink.errors,
            sink.text_bytes
        );
        assert_eq!(sink.records, papers, "every generated paper is read");
    }
}

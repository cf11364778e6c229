//! Rough single-thread timing of the text -> signature path on generated
//! text: `cargo run --release -p thresher-core --example signature_speed`.
//! Times are this thread's CPU time (see `Clock`). The comparisons with
//! other libraries live in `benches/`.

use std::time::Instant;

/// A clock of this thread's time on a CPU (from `/proc/thread-self/schedstat`,
/// in seconds), so that other work on a shared machine inflates the figures
/// less; wall time where that file is missing.
struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

impl Clock {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    fn seconds(&self) -> f64 {
        match (self.cpu, cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }
}

use thresher_core::dedup::sketch::minhash::MinHasher;
use thresher_core::dedup::sketch::Sketcher;
use thresher_core::text::TextScan;

/// Generated documents of `words` words each; one word in `accent_every`
/// gets a non-ASCII letter (0: pure ASCII).
fn corpus(docs: usize, words: usize, accent_every: u64) -> Vec<String> {
    let mut state = 1u64;
    (0..docs)
        .map(|_| {
            (0..words)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let w = (state >> 40) % 20_000;
                    if accent_every > 0 && w.is_multiple_of(accent_every) {
                        format!("Wörd{w}")
                    } else {
                        format!("word{w}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Passes over the documents so that each phase sees at least this many
/// bytes (the CPU clock ticks coarsely); `SIGNATURE_SPEED_MIN_BYTES` sets
/// another figure (a small one for a run under a profiler).
fn min_bytes() -> usize {
    std::env::var("SIGNATURE_SPEED_MIN_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000_000)
}

/// `SIGNATURE_SPEED_SCAN_REPEATS=N`: times only the scan, `N` times over
/// the same bytes, and prints the best and the median rate (for comparing
/// builds of the scan on a noisy machine).
fn scan_repeats() -> Option<usize> {
    std::env::var("SIGNATURE_SPEED_SCAN_REPEATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
}

/// `SIGNATURE_SPEED_SKETCH_REPEATS=N`: times only the sketch (the shingles
/// of each text to its signature), `N` times over the same texts, and prints
/// the best and the median rate (for comparing builds of the sketch).
fn sketch_repeats() -> Option<usize> {
    std::env::var("SIGNATURE_SPEED_SKETCH_REPEATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
}

/// `SIGNATURE_SPEED_SKETCH_LENS=20,60,40-72`: the set sizes timed by
/// `SIGNATURE_SPEED_SKETCH_REPEATS` (default 20, 40, 60, 90, 120, 200, 400,
/// 2000). A range `LOW-HIGH` gives sets of sizes drawn from it, as real
/// texts come: the sketch's loops then end after a different count from
/// one set to the next, as they do on a corpus.
fn sketch_lens() -> Vec<(usize, usize)> {
    let parse = |item: &str| -> Option<(usize, usize)> {
        match item.trim().split_once('-') {
            Some((low, high)) => Some((low.parse().ok()?, high.parse().ok()?)),
            None => item.trim().parse().ok().map(|n| (n, n)),
        }
    };
    std::env::var("SIGNATURE_SPEED_SKETCH_LENS")
        .ok()
        .map(|v| v.split(',').filter_map(parse).collect())
        .unwrap_or_else(|| {
            [20, 40, 60, 90, 120, 200, 400, 2000]
                .map(|n| (n, n))
                .to_vec()
        })
}

fn run_sketch_only(label: &str, docs: &[String], repeats: usize) {
    let mut scan = TextScan::new();
    let sets: Vec<Vec<u64>> = docs
        .iter()
        .map(|d| {
            scan.scan(d, 5);
            scan.shingles().to_vec()
        })
        .collect();
    time_sketch(label, &sets, repeats);
}

/// Sets of `low..=high` random shingle hashes (each size drawn at random),
/// about a million hashes in all.
fn random_sets((low, high): (usize, usize)) -> Vec<Vec<u64>> {
    let (low, high) = (low.max(1), high.max(low.max(1)));
    let mut state = (low * 1_000_003 + high) as u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state ^ (state >> 29)
    };
    let mut sets = Vec::new();
    let mut total = 0;
    while total < 1 << 20 {
        let len = low + (next() % (high - low + 1) as u64) as usize;
        sets.push((0..len).map(|_| next()).collect::<Vec<u64>>());
        total += len;
    }
    sets
}

fn time_sketch(label: &str, sets: &[Vec<u64>], repeats: usize) {
    let total: usize = sets.iter().map(Vec::len).sum();
    let passes = (min_bytes() / 8).div_ceil(total.max(1));
    let hasher = MinHasher::new(128, 42);
    let mut out = vec![0u32; 128];
    let mut check = 0u64;
    let mut rates: Vec<f64> = (0..repeats)
        .map(|_| {
            let started = Clock::start();
            for _ in 0..passes {
                for set in sets {
                    hasher.signature_into(set, &mut out);
                    check = check.wrapping_add(u64::from(out[0]) ^ u64::from(out[127]));
                }
            }
            (total * passes) as f64 / 1e6 / started.seconds()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    println!(
        "{label}: sketch best {:.1} M shingles/s, median {:.1} of {repeats} x {passes} passes \
         over {} texts, {total} shingles [{check}]",
        rates[repeats - 1],
        rates[repeats / 2],
        sets.len(),
    );
}

fn run_scan_only(label: &str, docs: &[String], repeats: usize) {
    let bytes: usize = docs.iter().map(String::len).sum();
    let passes = min_bytes().div_ceil(bytes.max(1));
    let mb = (bytes * passes) as f64 / 1e6;
    let mut scan = TextScan::new();
    let mut check = 0usize;
    let mut rates: Vec<f64> = (0..repeats)
        .map(|_| {
            let started = Clock::start();
            for _ in 0..passes {
                for d in docs {
                    scan.scan(d, 5);
                    check = check.wrapping_add(scan.shingles().len() + scan.exact_form().len());
                }
            }
            mb / started.seconds()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    println!(
        "{label}: scan best {:.0} MB/s, median {:.0} MB/s of {repeats} x {mb:.1} MB [{check}]",
        rates[repeats - 1],
        rates[repeats / 2],
    );
}

fn run(label: &str, docs: &[String]) {
    if docs.is_empty() {
        return;
    }
    if let Some(repeats) = sketch_repeats() {
        run_sketch_only(label, docs, repeats);
        return;
    }
    if let Some(repeats) = scan_repeats() {
        run_scan_only(label, docs, repeats);
        return;
    }
    let bytes: usize = docs.iter().map(String::len).sum();
    let passes = min_bytes().div_ceil(bytes.max(1));
    let mb = (bytes * passes) as f64 / 1e6;
    let hasher = MinHasher::new(128, 42);
    let sketcher = Sketcher::new(5, 128, 42);

    // Scan: normalise, canonical form, words, shingle hashes (no sketch).
    let mut scan = TextScan::new();
    let started = Clock::start();
    let mut shingles = 0usize;
    let mut sets: Vec<Vec<u64>> = Vec::with_capacity(docs.len());
    for pass in 0..passes {
        for d in docs {
            scan.scan(d, 5);
            shingles += scan.shingles().len();
            if pass == 0 {
                sets.push(scan.shingles().to_vec());
            }
        }
    }
    let scanning = started.seconds();

    // Sketch alone, over the shingles of each text.
    let started = Clock::start();
    let mut out = vec![0u32; 128];
    let mut check = 0u64;
    for _ in 0..passes {
        for set in &sets {
            hasher.signature_into(set, &mut out);
            check = check.wrapping_add(u64::from(out[0]));
        }
    }
    let sketching = started.seconds();

    // The whole path dedup takes: exact key, flags and signature.
    let started = Clock::start();
    for _ in 0..passes {
        for d in docs {
            let s = sketcher.sketch(d, &mut out);
            check = check.wrapping_add(u64::from(out[1]) ^ s.exact_key as u64);
        }
    }
    let full = started.seconds();

    // What verification needs: the sorted, distinct shingles.
    let started = Clock::start();
    for _ in 0..passes {
        for d in docs {
            let set = sketcher.shingle_set(d);
            check = check.wrapping_add(set.first().copied().unwrap_or(0));
        }
    }
    let sets_time = started.seconds();
    println!(
        "{label}: {} docs x {passes} passes, {mb:.1} MB, {shingles} shingles: scan {:.0} MB/s, sketch {:.0} M shingles/s \
         ({:.0} MB/s), Sketcher::sketch {:.0} MB/s ({:.0} docs/s), shingle_set {:.0} MB/s [{check}]",
        docs.len(),
        mb / scanning,
        shingles as f64 / 1e6 / sketching,
        mb / sketching,
        mb / full,
        (docs.len() * passes) as f64 / full,
        mb / sets_time,
    );
}

fn main() {
    // `signature_speed FILE`: also the texts of FILE, separated by NUL bytes
    // (for instance the bench corpus, written out from Python).
    if let Some(path) = std::env::args().nth(1) {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let docs: Vec<String> = bytes
                    .split(|&b| b == 0)
                    .map(|d| String::from_utf8_lossy(d).into_owned())
                    .collect();
                let (ascii, other): (Vec<String>, Vec<String>) =
                    docs.iter().cloned().partition(|d| d.is_ascii());
                run(&format!("{path}, all"), &docs);
                run(&format!("{path}, ASCII docs"), &ascii);
                run(&format!("{path}, non-ASCII docs"), &other);
                if std::env::var_os("SIGNATURE_SPEED_FILE_ONLY").is_some() {
                    return;
                }
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
    if let Some(repeats) = sketch_repeats() {
        for (low, high) in sketch_lens() {
            let label = if low == high {
                format!("{low} random shingles")
            } else {
                format!("{low}-{high} random shingles")
            };
            time_sketch(&label, &random_sets((low, high)), repeats);
        }
        return;
    }
    run("ASCII, 200 words", &corpus(20_000, 200, 0));
    run("ASCII, 2000 words", &corpus(2_000, 2_000, 0));
    run("ASCII, 30 words", &corpus(100_000, 30, 0));
    run("1 word in 50 accented, 200 words", &corpus(20_000, 200, 50));
}

//! Single-thread timing of the exact-Jaccard merges on the candidate pairs
//! of a real corpus (a file of texts separated by NUL bytes):
//! `cargo run --release -p thresher-core --example merge_speed -- CORPUS`.
//! The pairs are those the default banding makes candidates; the sets are
//! the texts' sorted shingle sets. For each merge this CPU runs (element
//! by element, AVX2 blocks of 4, AVX-512 blocks of 8), it prints the best
//! of 50 rounds over all pairs at the default threshold, in ms and in ns per
//! pair, and checks that every merge decides every pair alike.

use std::time::Instant;

use thresher_core::dedup::lsh::candidate_pairs_of_keys;
use thresher_core::dedup::sketch::Sketcher;
use thresher_core::dedup::verify::jaccard::{jaccard_at_least_by, BlockMerge};
use thresher_core::{Cancel, DedupEngine, DedupOptions};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        return eprintln!("usage: merge_speed CORPUS (texts separated by NUL bytes)");
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => return eprintln!("cannot read {path}: {e}"),
    };
    let texts: Vec<&str> = text.split('\0').collect();
    let options = DedupOptions::default();
    let sketches = match DedupEngine::new(&options).and_then(|e| e.sketch(&texts, &Cancel::new())) {
        Ok(sketches) => sketches,
        Err(e) => return eprintln!("sketch failed: {e}"),
    };
    let rows: Vec<u32> = (0..texts.len() as u32).collect();
    let pairs = candidate_pairs_of_keys(&sketches.band_keys, sketches.bands, &rows);
    let sketcher = Sketcher::new(options.ngram, options.num_perm, options.seed);
    let sets: Vec<Vec<u64>> = texts.iter().map(|t| sketcher.shingle_set(t)).collect();
    println!(
        "{} texts, {} candidate pairs, threshold {}",
        texts.len(),
        pairs.len(),
        options.threshold
    );
    let mut reference: Option<Vec<bool>> = None;
    for blocks in BlockMerge::supported() {
        let mut best = f64::INFINITY;
        let mut decided = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            decided = pairs
                .iter()
                .map(|&(a, b)| {
                    let (a, b) = (&sets[a as usize], &sets[b as usize]);
                    jaccard_at_least_by(blocks, a, b, options.threshold) >= options.threshold
                })
                .collect();
            best = best.min(started.elapsed().as_secs_f64());
        }
        let same = reference.get_or_insert_with(|| decided.clone()) == &decided;
        println!(
            "  {:<8} {:7.3} ms  {:6.1} ns per pair  {} above the threshold{}",
            format!("{blocks:?}"),
            best * 1e3,
            best * 1e9 / pairs.len().max(1) as f64,
            decided.iter().filter(|&&d| d).count(),
            if same { "" } else { "  DIFFERENT DECISIONS" }
        );
    }
}

//! Single-thread timing of `lsh::candidate_pairs_of_ids`, the candidates
//! kernel of `thresher.ray` (one partition of every row's band keys), on
//! generated entries: 200,000 rows of 21 bands, three in ten rows copying
//! half the band keys of an earlier row:
//! `RAYON_NUM_THREADS=1 cargo run --release -p thresher-core --example pairs_speed`.
//! Prints the best of 5 runs.

use std::time::Instant;

use thresher_core::dedup::lsh::{candidate_pairs_of_ids, BandEntry};

fn entries(rows: u64, bands: u32) -> Vec<BandEntry> {
    let mut state = 1u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state ^ (state >> 29)
    };
    let key_of =
        |row: u64, band: u32| (row * 31 + u64::from(band)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(rows as usize * bands as usize);
    for row in 0..rows {
        let source = (row > 10 && next() % 10 < 3).then(|| next() % row);
        for band in 0..bands {
            let key = match source {
                Some(source) if band % 2 == 0 => key_of(source, band),
                Some(_) => next(),
                None => key_of(row, band),
            };
            out.push(BandEntry { band, key, id: row });
        }
    }
    out
}

fn main() {
    let all = entries(200_000, 21);
    let mut best = f64::INFINITY;
    let mut pairs = 0;
    for _ in 0..5 {
        let mut these = all.clone();
        let start = Instant::now();
        pairs = candidate_pairs_of_ids(&mut these).len();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("{} entries: best {best:.3} s, {pairs} pairs", all.len());
}

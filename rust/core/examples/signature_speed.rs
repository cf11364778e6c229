//! Rough single-thread timing of the text -> signature path on generated
//! text: `cargo run --release -p thresher-core --example signature_speed`.
//! The comparisons with other libraries live in `benches/`.

use std::time::Instant;

use thresher_core::minhash::MinHasher;
use thresher_core::text::{normalise, shingle_set_of_normalised};

fn main() {
    let mut state = 1u64;
    let docs: Vec<String> = (0..20_000)
        .map(|_| {
            (0..200)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    format!("word{}", (state >> 40) % 20_000)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let hasher = MinHasher::new(128, 42);

    let started = Instant::now();
    let sets: Vec<Vec<u64>> = docs
        .iter()
        .map(|d| shingle_set_of_normalised(&normalise(d), 5))
        .collect();
    let shingling = started.elapsed().as_secs_f64();
    let shingles: usize = sets.iter().map(Vec::len).sum();

    let started = Instant::now();
    let mut out = vec![0u32; 128];
    let mut check = 0u64;
    for set in &sets {
        hasher.signature_into(set, &mut out);
        check = check.wrapping_add(out[0] as u64);
    }
    let sketching = started.elapsed().as_secs_f64();
    println!(
        "{} docs, {:.1} MB, {} shingles: shingling {:.1} MB/s, sketching {:.1} M shingles/s ({:.1} MB/s), total {:.1} MB/s [{check}]",
        docs.len(),
        bytes as f64 / 1e6,
        shingles,
        bytes as f64 / 1e6 / shingling,
        shingles as f64 / 1e6 / sketching,
        bytes as f64 / 1e6 / sketching,
        bytes as f64 / 1e6 / (shingling + sketching),
    );
}

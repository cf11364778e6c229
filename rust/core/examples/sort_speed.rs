//! Single-thread timing of `HashSorter` on the shingle hashes of a real
//! corpus (a file of texts separated by NUL bytes):
//! `cargo run --release -p thresher-core --example sort_speed -- CORPUS`.
//! Prints the best of 50 rounds, in ns per input value, for the sorter,
//! its in-place form (timed with a copy of each list), its counting sort
//! alone (the path of CPUs without AVX-512, and the sorter before the
//! probing table) and `sort_unstable` + `dedup`, overall and by list
//! length; then the same for random lists of distinct values.

use std::time::Instant;

use thresher_core::dedup::sketch::minhash::DEFAULT_SEED;
use thresher_core::dedup::sketch::Sketcher;
use thresher_core::hashsort::HashSorter;

/// The best time of 50 runs of `f`, in seconds.
fn best<F: FnMut()>(mut f: F) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..50 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

/// Times the sorters on `lists` (`total` values) and prints one line.
fn report(label: &str, lists: &[&Vec<u64>]) {
    let total: usize = lists.iter().map(|v| v.len()).sum();
    if total == 0 {
        return;
    }
    let mut sorter = HashSorter::new();
    let mut out = Vec::new();
    let mut copy = Vec::new();
    let mut sum = 0usize;
    let old = best(|| {
        for v in lists {
            sorter.sorted_distinct_by_counting_into(v, &mut out);
            sum += out.len();
        }
    });
    let new = best(|| {
        for v in lists {
            sorter.sorted_distinct_into(v, &mut out);
            sum += out.len();
        }
    });
    // Includes copying each list (as the comparison sort below does).
    let in_place = best(|| {
        for v in lists {
            copy.clear();
            copy.extend_from_slice(v);
            sum += sorter.sorted_distinct_in_slice(&mut copy);
        }
    });
    let pdq = best(|| {
        for v in lists {
            out.clear();
            out.extend_from_slice(v);
            out.sort_unstable();
            out.dedup();
            sum += out.len();
        }
    });
    let ns = |t: f64| t * 1e9 / total as f64;
    println!(
        "{label:>14} {total:>8} values: counting sort {:.2}  sorter {:.2}  in place {:.2}  sort_unstable {:.2} ns/value  (speed-up {:.2}x; {sum})",
        ns(old),
        ns(new),
        ns(in_place),
        ns(pdq),
        old / new,
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: sort_speed CORPUS (texts separated by NUL bytes)")?;
    let text = std::fs::read_to_string(path)?;
    let sketcher = Sketcher::new(5, 128, DEFAULT_SEED);
    let mut signature = vec![0u32; 128];
    let lists: Vec<Vec<u64>> = text
        .split('\0')
        .map(|t| {
            let mut shingles = Vec::new();
            sketcher.sketch_keeping_shingles(t, &mut signature, &mut shingles);
            shingles
        })
        .collect();
    let mut sorter = HashSorter::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for v in &lists {
        sorter.sorted_distinct_into(v, &mut a);
        sorter.sorted_distinct_by_counting_into(v, &mut b);
        assert_eq!(a, b, "the sorters disagree");
    }
    let all: Vec<&Vec<u64>> = lists.iter().collect();
    report("all", &all);
    for (lo, hi) in [(0, 128), (128, 512), (512, 2048), (2048, usize::MAX)] {
        let some: Vec<&Vec<u64>> = all
            .iter()
            .copied()
            .filter(|v| (lo..hi).contains(&v.len()))
            .collect();
        report(&format!("len {lo}..{}", hi.min(99_999)), &some);
    }
    // Distinct values spread evenly, for comparison (the corpus repeats some).
    let mut state = 1u64;
    for n in [200usize, 1000] {
        let random: Vec<Vec<u64>> = (0..1_000_000 / n)
            .map(|_| {
                (0..n)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        state ^ (state >> 29)
                    })
                    .collect()
            })
            .collect();
        report(&format!("random {n}"), &random.iter().collect::<Vec<_>>());
    }
    Ok(())
}

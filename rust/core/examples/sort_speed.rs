//! Single-thread timing of `HashSorter` on the shingle hashes of a real
//! corpus (a file of texts separated by NUL bytes):
//! `cargo run --release -p thresher-core --example sort_speed -- CORPUS`.
//! Prints the best of 50 rounds, in ns per input value, for the sorter,
//! its in-place form (timed with a copy of each list), the counting sort it replaced (copied here, so that
//! both are timed in one run) and `sort_unstable` + `dedup`, overall and by
//! list length; then the same for random lists of distinct values.

use std::time::Instant;

use thresher_core::hashsort::HashSorter;
use thresher_core::minhash::DEFAULT_SEED;
use thresher_core::sketch::Sketcher;

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

/// The sorter before the probing table: a counting pass on the top bits
/// (two to four buckets per value), a scatter, an insertion pass, `dedup`.
#[derive(Default)]
struct CountingSorter {
    ends: Vec<u32>,
}

impl CountingSorter {
    fn sorted_distinct_into(&mut self, values: &[u64], out: &mut Vec<u64>) {
        out.clear();
        let n = values.len();
        if !(32..=4 << 16).contains(&n) {
            out.extend_from_slice(values);
            out.sort_unstable();
            out.dedup();
            return;
        }
        let bits = (usize::BITS - (n - 1).leading_zeros() + 1).min(16);
        let shift = 64 - bits;
        let ends = &mut self.ends;
        ends.clear();
        ends.resize((1 << bits) + 1, 0);
        for &v in values {
            ends[(v >> shift) as usize + 1] += 1;
        }
        let mut total = 0u32;
        for end in ends.iter_mut() {
            total += *end;
            *end = total;
        }
        out.resize(n, 0);
        for &v in values {
            let end = &mut ends[(v >> shift) as usize + 1];
            *end -= 1;
            out[*end as usize] = v;
        }
        if !insertion_sort(out, 8 * n) {
            out.sort_unstable();
        }
        out.dedup();
    }
}

fn insertion_sort(values: &mut [u64], max_moves: usize) -> bool {
    let mut moves = 0usize;
    for i in 1..values.len() {
        let v = values[i];
        if values[i - 1] <= v {
            continue;
        }
        let mut j = i;
        while j > 0 && values[j - 1] > v {
            values[j] = values[j - 1];
            j -= 1;
        }
        values[j] = v;
        moves += i - j;
        if moves > max_moves {
            return false;
        }
    }
    true
}

/// Times the sorters on `lists` (`total` values) and prints one line.
fn report(label: &str, lists: &[&Vec<u64>]) {
    let total: usize = lists.iter().map(|v| v.len()).sum();
    if total == 0 {
        return;
    }
    let mut sorter = HashSorter::new();
    let mut counting = CountingSorter::default();
    let mut out = Vec::new();
    let mut copy = Vec::new();
    let mut sum = 0usize;
    let old = best(|| {
        for v in lists {
            counting.sorted_distinct_into(v, &mut out);
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
        "{label:>14} {total:>8} values: old {:.2}  new {:.2}  in place {:.2}  sort_unstable {:.2} ns/value  (speed-up {:.2}x; {sum})",
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
    let mut counting = CountingSorter::default();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for v in &lists {
        sorter.sorted_distinct_into(v, &mut a);
        counting.sorted_distinct_into(v, &mut b);
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

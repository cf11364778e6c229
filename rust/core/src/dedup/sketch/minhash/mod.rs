//! MinHash signatures over hashed shingles: fast similarity sketching.
//!
//! The sketch is the *fast similarity sketch* of Dahlgaard, Knudsen and
//! Thorup (FOCS 2017), an O(n + k log k) replacement for classic
//! k-permutation MinHash with the same estimator (the share of equal
//! positions) and the same guarantee per position: for two sets of Jaccard
//! similarity J, each position is equal with probability J (plus 2^-32 for
//! an accidental equality of two different values).
//!
//! Each shingle hash `x` is thrown at the `k` bins in rounds. Let
//! `e = max(1, k / 8)`. In round `r < e` it lands in a pseudo-random bin
//! with the key `(r, v)`; in round `e + b` (`b < k`) it lands in bin `b`
//! (so every bin is hit by every shingle once), again with key `(r, v)`.
//! Each bin keeps its smallest key, compared as `r << 32 | v`; the
//! signature holds the `v` of every bin. Keys of round `r` are all below
//! those of round `r + 1`, so the random rounds stop as soon as no bin is
//! empty (one round for sets much larger than `k`), and the bins still
//! empty after round `e - 1` are filled one by one, each by the minimum of
//! its own hash over the set.
//!
//! The throws:
//! - round 0: `z = mix64(x + round_key[0])`, the bin the high 32 bits of
//!   `z` scaled to `k` (Lemire's multiply-shift), `v` its low 32 bits;
//! - rounds `1 <= r < e`, which short texts need several of: the shingle's
//!   two words `(p, q)`, the halves of `mix64(x + round_key[1])`, hashed as
//!   `u = p * a_r + q * b_r` modulo 2^32 (`a_r` the odd-made high half of
//!   `round_key[r]`, `b_r` its low half); the bin is `u` scaled to `k`, and
//!   `v = u`. One mix per shingle, then two 32-bit multiply-adds per round,
//!   eight shingles to a vector register. For two shingles the pair of
//!   hashes of two rounds is uniform whenever `a_r b_s - a_s b_r` is odd,
//!   so rounds draw afresh; the error tests below hold it to the classic
//!   level;
//! - round `e + b`: the same hash of `(p, q)` with the multipliers of
//!   `round_key[k + b]`, `v = u`.
//!
//! Why the random rounds end at `k / 8`: a set of `n < k` shingles fills
//! its last bins slowly (about `(k / n) ln k` rounds of `n` throws to fill
//! them all, the last rounds filling one bin or none), while a bin of its
//! own round costs `n` multiply-adds and minima, cheaper than a round's
//! throws. Ending the random rounds at `k / 8` (16 for the default 128)
//! changes no value of a set of more than about 100 shingles but rarely,
//! and keeps the error of sets of 20 or more shingles where it was (the
//! bins filled one by one are classic MinHash, with replacement between
//! bins; for 5 shingles the error rose from 0.0282 to 0.0300, classic
//! MinHash being 0.0396).
//!
//! The bin minimum of `A` and of `B` agree exactly when the minimum over
//! `A ∪ B` lies in `A ∩ B`. Every throw is a function of the shingle's hash
//! alone, the same for every shingle, so for shingle hashes drawn at random
//! each shingle of `A ∪ B` is as likely as any other to hold it: the
//! probability is `|A ∩ B| / |A ∪ B|`. Round 0 is one-permutation hashing
//! (bins see disjoint shingles, so errors are those of sampling without
//! replacement, below classic MinHash); later rounds fill the bins it left
//! empty with fresh draws instead of copies of other bins, so short texts
//! keep the classic error too (see the tests at the end).
//!
//! `round_key` is a splitmix64 stream started at the seed. An empty set has
//! the signature of all `u32::MAX`. Values depend only on the shingle hashes
//! and the seed, never on the CPU or the build. The AVX2 path (chosen at run
//! time, also on AVX-512 CPUs) uses that a bin filled in one round never
//! changes in a later one (its key is smaller): after round 0 it applies
//! only the throws into bins still empty, found with a bitmap test on 8
//! shingles at once, and fills the bins left by lane minima. The tests
//! check every path against the definition written the slow way.
//!
//! The parts: this file holds [`MinHasher`] (the round keys, the signature
//! of a shingle set) and the choice of kernel; `portable` the portable
//! kernel, the definition of the values; `avx2` the AVX2 bitmap kernel of
//! the later rounds.

#[cfg(target_arch = "x86_64")]
mod avx2;
mod portable;

use portable::{mix64, sketch, sketch_with};

use crate::simd::{dispatch, kernel};
use std::mem::MaybeUninit;

/// Default number of permutations.
pub const DEFAULT_NUM_PERM: usize = 128;
/// Default seed of the permutations.
pub const DEFAULT_SEED: u64 = 42;

/// Bin of the accumulator that no shingle has reached yet.
const EMPTY: u64 = u64::MAX;

/// Widths up to this keep their bins on the stack.
const STACK_BINS: usize = 512;

/// Widths up to this (the default among them) use a smaller stack array.
const SMALL_STACK_BINS: usize = DEFAULT_NUM_PERM;

/// The sketch of one signature width and seed.
#[derive(Debug, Clone)]
pub struct MinHasher {
    /// `2 * num_perm` round keys.
    round_keys: Vec<u64>,
    num_perm: usize,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mix64(*state)
}

impl MinHasher {
    /// The sketch of `num_perm` values from `seed`.
    pub fn new(num_perm: usize, seed: u64) -> Self {
        let mut state = seed;
        let round_keys = (0..2 * num_perm).map(|_| splitmix64(&mut state)).collect();
        Self {
            round_keys,
            num_perm,
        }
    }

    /// Number of values in a signature.
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Writes the signature of `shingles` into `out`: its first
    /// `num_perm` values (the rest, if `out` is longer, `u32::MAX`).
    /// `shingles` may hold a hash more than once; order does not matter.
    ///
    /// Uses AVX2 where the CPU has it (detected at run time, so
    /// a portable build gets it too); every path computes the same values.
    pub fn signature_into(&self, shingles: &[u64], out: &mut [u32]) {
        // SAFETY: `MaybeUninit<u32>` has the layout of `u32`, and
        // `signature_into_uninit` writes only initialised values.
        let out = unsafe {
            std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<MaybeUninit<u32>>(), out.len())
        };
        self.signature_into_uninit(shingles, out);
    }

    /// [`Self::signature_into`] into memory not yet written: every value
    /// of `out` is written, so a caller's buffer needs no zeroing first.
    pub fn signature_into_uninit(&self, shingles: &[u64], out: &mut [MaybeUninit<u32>]) {
        let k = self.num_perm;
        let (out, past) = out.split_at_mut(k.min(out.len()));
        past.fill(MaybeUninit::new(u32::MAX));
        if k == 0 || shingles.is_empty() {
            out.fill(MaybeUninit::new(u32::MAX));
            return;
        }
        // The usual widths sketch on the stack: no allocation per text, and
        // for the default width no more bins to fill than it uses.
        if k <= SMALL_STACK_BINS {
            let mut stack = [EMPTY; SMALL_STACK_BINS];
            self.sketch_bins(shingles, &mut stack[..k], out);
        } else if k <= STACK_BINS {
            let mut stack = [EMPTY; STACK_BINS];
            self.sketch_bins(shingles, &mut stack[..k], out);
        } else {
            self.sketch_bins(shingles, &mut vec![EMPTY; k], out);
        }
    }

    /// The sketch into `acc` (length `num_perm`, all [`EMPTY`]), then its
    /// values into `out`, each written once.
    #[inline(always)]
    fn sketch_bins(&self, shingles: &[u64], acc: &mut [u64], out: &mut [MaybeUninit<u32>]) {
        sketch_dispatched(&self.round_keys, shingles, acc);
        for (slot, &key) in out.iter_mut().zip(acc.iter()) {
            slot.write(key as u32);
        }
    }

    /// The signature of `shingles`.
    pub fn signature(&self, shingles: &[u64]) -> Vec<u32> {
        let mut out = vec![0; self.num_perm()];
        self.signature_into(shingles, &mut out);
        out
    }
}

/// [`sketch`] on the widest vector unit the CPU has.
fn sketch_dispatched(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    dispatch!(
        Avx2 => sketch_avx2(round_keys, shingles, acc);
        else sketch(round_keys, shingles, acc)
    )
}

kernel!(avx2;
/// [`sketch`] compiled for AVX2, its later rounds by [`avx2`]'s bitmap.
///
/// # Safety
/// The CPU must run [`Level::Avx2`](crate::simd::Level::Avx2).
unsafe fn sketch_avx2(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    // The closure inherits this function's features.
    sketch_with(round_keys, shingles, acc, |keys, p, q, acc| {
        avx2::later_rounds_avx2(keys, p, q, acc)
    })
}
);

/// Share of positions where two signatures agree: the MinHash estimate of
/// Jaccard similarity. Empty-set signatures (all `u32::MAX`) estimate 0.
pub fn estimated_jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.iter().all(|&v| v == u32::MAX) {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

#[cfg(test)]
mod tests;

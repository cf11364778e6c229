//! Shingle hashes: the polynomial of `ngram` consecutive word hashes, one
//! shingle per lane, on the widest vector unit the CPU has.

use super::scan::TextScan;
use crate::simd::{dispatch, kernel};

/// Hashes of the distinct word `ngram`-shingles of `text`, sorted ascending.
///
/// Each word is hashed with [`word_hash`](super::word_hash); a shingle's hash is the
/// polynomial `sum_j w_j * B^(n-1-j)` (mod 2^64) of its `n` word hashes, so
/// no string is built per shingle or word. The MinHash sketch mixes these
/// hashes again, per seed, before use.
pub fn shingle_set(text: &str, ngram: usize) -> Vec<u64> {
    let mut scan = TextScan::new();
    scan.scan(text, ngram);
    scan.shingle_set()
}

/// [`shingle_set`] for text that is already normalised.
pub fn shingle_set_of_normalised(normalised: &str, ngram: usize) -> Vec<u64> {
    let mut scan = TextScan::new();
    scan.scan_normalised(normalised, ngram);
    scan.shingle_set()
}

/// Base of the shingle polynomial: odd, and `B - 1` has a single factor 2,
/// so swapping two words changes the hash unless they agree on 63 bits.
pub(super) const SHINGLE_BASE: u64 = 0x9E37_79B9_7F4A_7C17;

/// Shingles this wide or narrower are hashed by the vectorised kernel.
pub(super) const MAX_VECTOR_NGRAM: usize = 16;

/// The hashes of the `ngram` shingles of `words` (one shingle of all words
/// when there are fewer than `ngram`), appended to `out`:
/// `sum_j w[i + j] * B^(n-1-j)`, each shingle on its own, so that the loop
/// vectorises instead of rolling one long dependency chain.
pub(super) fn shingles_of_words(words: &[u64], ngram: usize, out: &mut Vec<u64>) {
    if words.is_empty() {
        return;
    }
    let n = ngram.max(1).min(words.len());
    if n > MAX_VECTOR_NGRAM {
        out.extend(words.windows(n).map(|window| {
            window
                .iter()
                .fold(0u64, |h, &w| h.wrapping_mul(SHINGLE_BASE).wrapping_add(w))
        }));
        return;
    }
    // powers[j] = B^(n-1-j)
    let mut powers = [0u64; MAX_VECTOR_NGRAM];
    let mut p = 1u64;
    for j in (0..n).rev() {
        powers[j] = p;
        p = p.wrapping_mul(SHINGLE_BASE);
    }
    shingle_kernel_dispatched(words, &powers[..n], out);
}

/// [`shingle_kernel`] on the widest vector unit the CPU has.
fn shingle_kernel_dispatched(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    dispatch!(
        Avx512 => shingle_kernel_avx512(words, powers, out),
        Avx2 => shingle_kernel_avx2(words, powers, out);
        else shingle_kernel(words, powers, out)
    )
}

kernel!(avx2;
/// [`shingle_kernel`] compiled for AVX2.
///
/// # Safety
/// The CPU must run [`Level::Avx2`](crate::simd::Level::Avx2).
unsafe fn shingle_kernel_avx2(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    shingle_kernel(words, powers, out)
}
);

kernel!(avx512;
/// [`shingle_kernel`] compiled for AVX-512 (64-bit lane multiplies,
/// `vpmullq`).
///
/// # Safety
/// The CPU must run [`Level::Avx512`](crate::simd::Level::Avx512).
unsafe fn shingle_kernel_avx512(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    shingle_kernel(words, powers, out)
}
);

/// Appends `sum_j words[i + j] * powers[j]` (mod 2^64) for each of the
/// `words.len() - powers.len() + 1` shingles to `out`, one power
/// at a time over the new shingles (the first column is written as it is
/// appended, so they are not zeroed first).
#[inline(always)]
pub(super) fn shingle_kernel(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    macro_rules! fused {
        ($($n:literal)*) => {
            match powers.len() {
                $($n => return shingle_kernel_fused::<$n>(words, powers, out),)*
                _ => {}
            }
        };
    }
    fused!(2 3 4 5 6 7 8);
    let count = (words.len() + 1).saturating_sub(powers.len());
    let start = out.len();
    let Some((&p0, rest)) = powers.split_first() else {
        out.resize(start + count, 0);
        return;
    };
    let first = words.get(..count).unwrap_or_default();
    out.extend(first.iter().map(|&w| w.wrapping_mul(p0)));
    let out = &mut out[start..];
    for (j, &p) in rest.iter().enumerate().map(|(j, p)| (j + 1, p)) {
        let Some(column) = words.get(j..j + count) else {
            return;
        };
        for (slot, &w) in out.iter_mut().zip(column) {
            *slot = slot.wrapping_add(w.wrapping_mul(p));
        }
    }
}

/// [`shingle_kernel`] for `N` powers known when compiled: each shingle's
/// sum in registers (its `N` words loaded once each, one store), where the
/// column loop loads and stores every shingle once per power.
#[inline(always)]
fn shingle_kernel_fused<const N: usize>(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    let Ok(powers) = <[u64; N]>::try_from(powers) else {
        return;
    };
    out.extend(words.windows(N).map(|window| {
        window
            .iter()
            .zip(&powers)
            .fold(0u64, |h, (&w, &p)| h.wrapping_add(w.wrapping_mul(p)))
    }));
}

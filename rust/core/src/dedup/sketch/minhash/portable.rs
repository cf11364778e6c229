//! The portable kernel, the definition of the sketch: one mix per shingle
//! and round, each bin keeping its smallest key, rounds until no bin is
//! empty. The other kernels give the same values.

use super::EMPTY;

/// The multipliers of [`mix64`] (shared with its vector form).
pub(super) const MIX_MUL: [u64; 2] = [0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB];

/// The splitmix64 finaliser: a bijection of `u64` with full avalanche.
#[inline(always)]
pub(super) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(MIX_MUL[0]);
    z = (z ^ (z >> 27)).wrapping_mul(MIX_MUL[1]);
    z ^ (z >> 31)
}

/// Bin in `0..k` of a mixed value: its high 32 bits scaled to `k`.
#[inline(always)]
pub(super) fn bin_of(z: u64, k: usize) -> usize {
    (((z >> 32) * k as u64) >> 32) as usize
}

/// Shingles mixed together before they are scattered to their bins.
const CHUNK: usize = 16;

/// The portable kernel: the bin minima of all rounds that can still change
/// one, into `acc` (length `k`, all [`EMPTY`]; `round_keys` of length `2k`).
#[inline(always)]
pub(super) fn sketch(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    let k = acc.len();
    if shingles.is_empty() {
        return;
    }
    for (round, &key) in round_keys.iter().enumerate().take(k) {
        throw_round(shingles, key, round, acc);
        if !acc.contains(&EMPTY) {
            return;
        }
    }
    fill_by_bin(round_keys, shingles, acc);
}

/// Round `round < k` of every shingle (`shingles` not empty).
#[inline(always)]
fn throw_round(shingles: &[u64], key: u64, round: usize, acc: &mut [u64]) {
    let high = (round as u64) << 32;
    let mut chunks = shingles.chunks_exact(CHUNK);
    for chunk in &mut chunks {
        throw_chunk(chunk, key, high, acc);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // A full chunk again: the first shingle repeated is no new
        // element (a minimum does not change when it sees it twice).
        let mut padded = [shingles[0]; CHUNK];
        padded[..rest.len()].copy_from_slice(rest);
        throw_chunk(&padded, key, high, acc);
    }
}

/// Fills the bins still empty after `k` rounds: round `k + b` sends every
/// shingle to bin `b`, so its minimum fills it.
pub(super) fn fill_by_bin(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    let k = acc.len();
    for (b, slot) in acc.iter_mut().enumerate() {
        if *slot != EMPTY {
            continue;
        }
        let round = k + b;
        let key = round_keys[round];
        let low = shingles
            .iter()
            .map(|&x| mix64(x.wrapping_add(key)) & 0xFFFF_FFFF)
            .min()
            .unwrap_or(0xFFFF_FFFF);
        *slot = ((round as u64) << 32) | low;
    }
}

/// One round for one chunk of shingles: mixes, bins and keys computed
/// together (this part vectorises), then each bin keeps its minimum.
#[inline(always)]
fn throw_chunk(chunk: &[u64], key: u64, high: u64, acc: &mut [u64]) {
    let k = acc.len();
    let mut bins = [0usize; CHUNK];
    let mut keys = [0u64; CHUNK];
    for ((b, v), &x) in bins.iter_mut().zip(keys.iter_mut()).zip(chunk) {
        let z = mix64(x.wrapping_add(key));
        *b = bin_of(z, k);
        *v = high | (z & 0xFFFF_FFFF);
    }
    for (&b, &v) in bins.iter().zip(&keys) {
        if let Some(slot) = acc.get_mut(b) {
            *slot = (*slot).min(v);
        }
    }
}

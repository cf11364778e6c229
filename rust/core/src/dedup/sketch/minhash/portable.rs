//! The portable kernel, the definition of the sketch: round 0 mixes each
//! shingle fully, the later rounds hash two 32-bit words of it with one
//! multiply-add each, each bin keeps its smallest key, and rounds go on
//! until no bin is empty. The other kernels give the same values.

use super::EMPTY;
use std::mem::MaybeUninit;

/// The multipliers of [`mix64`].
const MIX_MUL: [u64; 2] = [0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB];

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

/// The two words a shingle's later rounds hash: the high and low halves of
/// `mix64(x + round_keys[1])`.
#[inline(always)]
pub(super) fn later_words(x: u64, key: u64) -> (u32, u32) {
    let z = mix64(x.wrapping_add(key));
    ((z >> 32) as u32, z as u32)
}

/// The multipliers of round `r` (`1 <= r < k`), from its round key: the
/// high half made odd, and the low half.
#[inline(always)]
pub(super) fn later_multipliers(key: u64) -> (u32, u32) {
    ((key >> 32) as u32 | 1, key as u32)
}

/// A later round's hash of a shingle's words `(p, q)`: `p * a + q * b`
/// modulo 2^32. Its bin is the hash scaled to `k`, its key the hash.
#[inline(always)]
pub(super) fn later_hash(p: u32, q: u32, (a, b): (u32, u32)) -> u32 {
    p.wrapping_mul(a).wrapping_add(q.wrapping_mul(b))
}

/// Bin in `0..k` of a later round's hash (Lemire's scaling).
#[inline(always)]
pub(super) fn later_bin(u: u32, k: usize) -> usize {
    ((u64::from(u) * k as u64) >> 32) as usize
}

/// The random rounds end before round `random_rounds_end(k)`: after them,
/// round `random_rounds_end(k) + b` sends every shingle to bin `b`. For a
/// set of `n < k` shingles the random rounds fill all bins after about
/// `(k / n) ln k` rounds of `n` throws, the last ones filling a bin or two
/// each; a bin of its own round costs `n` throws too, so ending the random
/// rounds at `k / 8` and filling the few bins left one by one costs fewer
/// throws than drawing them (for 20 to 100 shingles and `k = 128`, about
/// 15% fewer in all).
#[inline(always)]
pub(super) fn random_rounds_end(k: usize) -> usize {
    (k / 8).max(1)
}

/// Shingles of round 0 whose bins and keys are computed (a loop that
/// vectorises) before they are applied.
const ROUND_BLOCK: usize = 256;

/// Shingles whose later words stay on the stack.
pub(super) const STACK_WORDS: usize = 256;

/// The portable kernel: the bin minima of all rounds that can still change
/// one, into `acc` (length `k`, all [`EMPTY`]; `round_keys` of length `2k`).
#[inline(always)]
pub(super) fn sketch(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    sketch_with(round_keys, shingles, acc, later_rounds)
}

/// Round 0, then, while a bin is empty, `later`: the random later rounds,
/// given the words of every shingle, and the fill of the bins they leave
/// empty (as [`later_rounds`] does).
#[inline(always)]
pub(super) fn sketch_with(
    round_keys: &[u64],
    shingles: &[u64],
    acc: &mut [u64],
    later: impl FnOnce(&[u64], &[u32], &[u32], &mut [u64]),
) {
    if shingles.is_empty() {
        return;
    }
    throw_round(shingles, round_keys[0], acc);
    if !acc.contains(&EMPTY) {
        return;
    }
    let n = shingles.len();
    // Uninitialised on the stack: a short text would otherwise pay to zero
    // 2 KiB that it never reads.
    let (mut p_stack, mut q_stack) = (
        [MaybeUninit::<u32>::uninit(); STACK_WORDS],
        [MaybeUninit::<u32>::uninit(); STACK_WORDS],
    );
    let (mut p_heap, mut q_heap) = (Vec::new(), Vec::new());
    let (p, q) = if n <= STACK_WORDS {
        (&mut p_stack[..n], &mut q_stack[..n])
    } else {
        p_heap.resize(n, MaybeUninit::uninit());
        q_heap.resize(n, MaybeUninit::uninit());
        (&mut p_heap[..], &mut q_heap[..])
    };
    for ((p, q), &x) in p.iter_mut().zip(q.iter_mut()).zip(shingles) {
        let (hi, lo) = later_words(x, round_keys[1]);
        p.write(hi);
        q.write(lo);
    }
    // SAFETY: the loop above wrote all `n` values of both (`p` and `q`
    // have the length of `shingles`); `MaybeUninit<u32>` has the layout of
    // `u32`.
    let (p, q) = unsafe {
        (
            std::slice::from_raw_parts(p.as_ptr().cast::<u32>(), n),
            std::slice::from_raw_parts(q.as_ptr().cast::<u32>(), n),
        )
    };
    later(round_keys, p, q, acc);
}

/// Round 0 of every shingle (`shingles` not empty), a block at a time: the
/// block's bins and keys are computed into two arrays first, then each bin
/// keeps its minimum.
///
/// Two loops over memory, on purpose. Fused, with the mix in vector lanes
/// (as LLVM does for a short fixed block under AVX2), each minimum waits for
/// its bin to be extracted from a register, and on an AMD Zen 4 a throw
/// cost 6 to 8 ns instead of 1.3 to 1.5 ns (`benches/RESULTS.md`, section
/// 2).
#[inline(always)]
fn throw_round(shingles: &[u64], key: u64, acc: &mut [u64]) {
    let k = acc.len();
    debug_assert!(u32::try_from(k).is_ok(), "bins are held as u32");
    // Uninitialised: a short text would otherwise pay to zero 2 KiB.
    let mut bins = [MaybeUninit::<u32>::uninit(); ROUND_BLOCK];
    let mut keys = [MaybeUninit::<u32>::uninit(); ROUND_BLOCK];
    for block in shingles.chunks(ROUND_BLOCK) {
        let n = block.len();
        for ((bin, value), &x) in bins[..n].iter_mut().zip(&mut keys[..n]).zip(block) {
            let z = mix64(x.wrapping_add(key));
            bin.write(bin_of(z, k) as u32);
            value.write(z as u32);
        }
        for (bin, value) in bins[..n].iter().zip(&keys[..n]) {
            // SAFETY: the loop above wrote the first `n` of both.
            let (bin, value) = unsafe { (bin.assume_init(), value.assume_init()) };
            if let Some(slot) = acc.get_mut(bin as usize) {
                *slot = (*slot).min(u64::from(value));
            }
        }
    }
}

/// Rounds `1..random_rounds_end(k)` until no bin is empty: in round `r`
/// each shingle's hash [`later_hash`] goes to its bin with the key
/// `r << 32 | hash`. A bin filled in an earlier round keeps its value (its
/// key is smaller). Then [`fill_by_bin`] for the bins still empty.
#[inline(always)]
pub(super) fn later_rounds(round_keys: &[u64], p: &[u32], q: &[u32], acc: &mut [u64]) {
    let k = acc.len();
    let end = random_rounds_end(k);
    for (round, &key) in round_keys.iter().enumerate().take(end).skip(1) {
        let multipliers = later_multipliers(key);
        let high = (round as u64) << 32;
        for (&p, &q) in p.iter().zip(q) {
            let u = later_hash(p, q, multipliers);
            let slot = &mut acc[later_bin(u, k)];
            *slot = (*slot).min(high | u64::from(u));
        }
        if !acc.contains(&EMPTY) {
            return;
        }
    }
    fill_by_bin(round_keys, p, q, acc);
}

/// Fills the bins still empty after the random rounds: round `end + b`
/// (`end` = [`random_rounds_end`]) sends every shingle to bin `b` with the
/// hash [`later_hash`] of the multipliers of `round_keys[k + b]`, so the
/// smallest hash fills it. A loop of multiply-adds and minima, which
/// vectorises.
#[inline(always)]
fn fill_by_bin(round_keys: &[u64], p: &[u32], q: &[u32], acc: &mut [u64]) {
    let k = acc.len();
    let end = random_rounds_end(k);
    for (b, slot) in acc.iter_mut().enumerate() {
        if *slot != EMPTY {
            continue;
        }
        let multipliers = later_multipliers(round_keys[k + b]);
        let low = p
            .iter()
            .zip(q)
            .map(|(&p, &q)| later_hash(p, q, multipliers))
            .min()
            .unwrap_or(u32::MAX);
        *slot = (((end + b) as u64) << 32) | u64::from(low);
    }
}

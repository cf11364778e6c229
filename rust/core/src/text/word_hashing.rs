//! The hash of one word: 16-byte blocks through a 64-bit mixer from a fixed
//! seed, so that shingle hashes never change; and the same hash of a word
//! of up to 16 bytes from its two loaded halves, for vector lanes.

/// Seed of the word hash; fixed so that shingle hashes never change.
pub(super) const WORD_HASH_SEED: u64 = 0x7468_7265_7368_6572; // "thresher"

/// Multiplier of a word's length, mixed into its last block.
pub(super) const WORD_LEN_MUL: u64 = 0xe703_7ed1_a0b4_28db;
/// Bytes of a word taken per block of the word hash.
pub(super) const WORD_BLOCK: usize = 16;

/// A bijective 64-bit mixer (Pelle Evensen's "moremur" finaliser): every
/// output bit depends on every input bit. Only 64-bit multiplies, shifts
/// and xors, so a loop of them vectorises (AVX-512 `vpmullq`), unlike a
/// 64x64->128 multiply.
#[inline(always)]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 27;
    x = x.wrapping_mul(0x3C79_AC49_2BA7_B653);
    x ^= x >> 33;
    x = x.wrapping_mul(0x1C69_B3F7_4AC4_AE35);
    x ^ (x >> 27)
}

/// One 16-byte block (little-endian halves `lo`, `hi`, zero-padded) into
/// the word state. `mix` is a bijection, so for a given state and `hi` no
/// two `lo` collide, and two blocks that differ in `lo` collide only when
/// their `mix(state ^ lo)` differ exactly by the `hi` difference: a chance
/// of about 2^-64.
#[inline(always)]
fn word_block(state: u64, lo: u64, hi: u64) -> u64 {
    mix(mix(state ^ lo) ^ hi)
}

/// Hash of one (normalised) word's UTF-8 bytes: from a fixed seed (so that
/// shingle hashes never change), each 16-byte block in turn goes through
/// [`word_block`]; the last one (a zero block for the empty word) has
/// `len * WORD_LEN_MUL` xor-ed into its high half. Words of up to 16 bytes
/// are one block, which [`short_word_hash`] computes in vector lanes.
pub fn word_hash(word: &[u8]) -> u64 {
    let len_term = (word.len() as u64).wrapping_mul(WORD_LEN_MUL);
    let (head, last) = word.split_at(word.len().saturating_sub(1) / WORD_BLOCK * WORD_BLOCK);
    let mut state = WORD_HASH_SEED;
    for block in head.chunks_exact(WORD_BLOCK) {
        let (lo, hi) = block.split_at(8);
        state = word_block(state, le_u64(lo), le_u64(hi));
    }
    let mut padded = [0u8; WORD_BLOCK];
    padded[..last.len()].copy_from_slice(last);
    let (lo, hi) = padded.split_at(8);
    word_block(state, le_u64(lo), le_u64(hi) ^ len_term)
}

/// The little-endian `u64` of 8 bytes (0 for a slice of another length).
#[inline(always)]
pub(super) fn le_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_le_bytes)
}

/// The lowest `n` bits set (all 64 when `n >= 64`).
#[inline(always)]
fn low_bits(n: u64) -> u64 {
    !u64::MAX.checked_shl(n as u32).unwrap_or(0)
}

/// [`word_hash`] of a word of `len <= 16` bytes whose first 16 bytes, and
/// whatever follows them, were loaded as `lo` and `hi`: the bytes past the
/// word are masked off here, in lanes, rather than per word.
#[inline(always)]
pub(super) fn short_word_hash(lo: u64, hi: u64, len: u64) -> u64 {
    let bits = 8 * len;
    let lo = lo & low_bits(bits);
    let hi = hi & low_bits(bits.saturating_sub(64));
    word_block(WORD_HASH_SEED, lo, hi ^ len.wrapping_mul(WORD_LEN_MUL))
}

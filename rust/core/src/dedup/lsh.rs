//! LSH banding: choose bands and rows, hash each band of a signature, and
//! turn equal band keys into candidate pairs.
//!
//! With `b` bands of `r` rows, a pair of Jaccard similarity `J` becomes a
//! candidate with probability `1 - (1 - J^r)^b`. thresher picks the banding
//! that keeps that probability at least [`MIN_RECALL_AT_THRESHOLD`] for a pair
//! exactly at the threshold and, among those, has the most rows (fewest
//! chance candidates below the threshold).

use rayon::prelude::*;

use crate::hashsort::for_each_group_of_equal_keys;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Probability with which a pair exactly at the threshold must become a candidate.
pub const MIN_RECALL_AT_THRESHOLD: f64 = 0.99;

/// A banding of a signature: `bands * rows <= num_perm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Banding {
    pub bands: usize,
    pub rows: usize,
}

impl Banding {
    /// Probability that a pair of Jaccard similarity `jaccard` shares a band.
    pub fn candidate_probability(&self, jaccard: f64) -> f64 {
        1.0 - (1.0 - jaccard.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The banding with the most rows whose candidate probability at
    /// `threshold` is at least [`MIN_RECALL_AT_THRESHOLD`]. Where no banding
    /// reaches it (tiny `num_perm`), one row per band, which comes closest.
    pub fn for_threshold(threshold: f64, num_perm: usize) -> Banding {
        let num_perm = num_perm.max(1);
        (1..=num_perm)
            .rev()
            .map(|rows| Banding {
                bands: num_perm / rows,
                rows,
            })
            .find(|b| b.candidate_probability(threshold) >= MIN_RECALL_AT_THRESHOLD)
            .unwrap_or(Banding {
                bands: num_perm,
                rows: 1,
            })
    }

    /// Hash of band `band` of `signature`. The band index seeds the hash so
    /// that equal values in different bands never meet.
    pub fn band_key(&self, signature: &[u32], band: usize) -> u64 {
        let values = &signature[band * self.rows..(band + 1) * self.rows];
        xxh3_64_with_seed(le_bytes(values, &mut Vec::new()), band as u64)
    }

    /// Keys of every band of `signature`, written into `out` (length `bands`).
    pub fn band_keys_into(&self, signature: &[u32], out: &mut [u64]) {
        for (band, slot) in out.iter_mut().enumerate().take(self.bands) {
            *slot = self.band_key(signature, band);
        }
    }
}

/// The little-endian bytes of `values`: the values' own memory on
/// little-endian targets, else a copy in `buffer`.
fn le_bytes<'a>(values: &'a [u32], buffer: &'a mut Vec<u8>) -> &'a [u8] {
    if cfg!(target_endian = "little") {
        // SAFETY: any initialised `u32`s are valid bytes; the slice covers
        // exactly their memory and borrows it for as long as `values`.
        unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), values.len() * 4) }
    } else {
        buffer.clear();
        buffer.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        buffer
    }
}

/// Buckets of at most this many rows give all their pairs. A larger bucket
/// (thousands of near-identical texts) gives, for each member, its pair with
/// the bucket's first row and with the next [`LARGE_BUCKET_WINDOW`] rows, so
/// candidate generation stays linear in the bucket size; clusters still form
/// through the verified pairs.
pub const FULL_BUCKET_ROWS: usize = 128;
/// Neighbours (in row order) each member of a large bucket is paired with.
pub const LARGE_BUCKET_WINDOW: usize = 8;

/// A pair `(a, b)` packed as `a << 32 | b`, so that pairs sort as integers.
#[inline(always)]
fn pack(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

/// Pairs of one bucket of rows sorted ascending, appended to `pairs` (packed).
fn bucket_pairs(rows: &[u32], pairs: &mut Vec<u64>) {
    each_bucket_pair(rows, |a, b| pairs.push(pack(a, b)));
}

/// Calls `pair` on each pair of one bucket of rows (or ids) sorted
/// ascending: every pair of a bucket of up to [`FULL_BUCKET_ROWS`];
/// beyond, each member with its next [`LARGE_BUCKET_WINDOW`] and with the
/// first, which still connects the bucket.
#[inline(always)]
fn each_bucket_pair<T: Copy>(rows: &[T], mut pair: impl FnMut(T, T)) {
    if rows.len() <= FULL_BUCKET_ROWS {
        for (i, &a) in rows.iter().enumerate() {
            rows[i + 1..].iter().for_each(|&b| pair(a, b));
        }
        return;
    }
    let first = rows[0];
    for (i, &a) in rows.iter().enumerate() {
        if i > LARGE_BUCKET_WINDOW {
            pair(first, a);
        }
        let end = (i + 1 + LARGE_BUCKET_WINDOW).min(rows.len());
        rows[i + 1..end].iter().for_each(|&b| pair(a, b));
    }
}

/// One row's key in one band, for [`candidate_pairs_of_ids`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BandEntry {
    pub band: u32,
    pub key: u64,
    pub id: u64,
}

/// Candidate pairs `(a, b)`, `a < b`, sorted and free of repeats, among
/// rows named by ids and given as one [`BandEntry`] per row and band, in
/// any order: the pairs [`candidate_pairs_of_keys`] gives for the same rows
/// when their ids ascend as their row indices do. `entries` may be one
/// partition of all entries, split by key: every entry of a `(band, key)`
/// must then be in the same call, and the union of the calls' pairs is the
/// whole set. Reorders `entries`.
///
/// Most `(band, key)`s have one entry and give no pair, so a filter goes
/// first (as in [`grouped_by_table`]): two bitmaps on a hash of the band
/// and key, of the bits seen and of those seen again. Only entries whose
/// bit was seen again can share their `(band, key)`; they alone are sorted
/// (see [`ID_FILTER_EXTRA_BITS`]).
pub fn candidate_pairs_of_ids(entries: &mut [BandEntry]) -> Vec<(u64, u64)> {
    let maybe_shared = maybe_shared_entries(entries);
    let entries = &mut entries[..maybe_shared];
    entries.par_sort_unstable();
    let mut pairs = Vec::new();
    let mut bucket: Vec<u64> = Vec::new();
    for group in entries.chunk_by(|x, y| (x.band, x.key) == (y.band, y.key)) {
        if group.len() < 2 {
            continue;
        }
        bucket.clear();
        bucket.extend(group.iter().map(|e| e.id));
        bucket.dedup();
        each_bucket_pair(&bucket, |a, b| pairs.push((a, b)));
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// Bits of the filter of [`grouped_by_table`] and [`maybe_shared_entries`]
/// for `n` values: `2^extra` to twice that many per value.
#[inline(always)]
fn filter_bits(n: usize, extra: u32) -> u32 {
    usize::BITS - n.leading_zeros() + extra
}

/// The filter's bit of a 64-bit hash: its top `filter_bits` bits.
#[inline(always)]
fn filter_bit(hash: u64, filter_bits: u32) -> usize {
    (hash >> (64 - filter_bits)) as usize
}

/// Fills the filter's two bitmaps (of `2^filter_bits` bits) from the values'
/// `bits`: `seen`, the bits seen, and `seen_again`, those seen twice or
/// more. A value whose bit is not in `seen_again` is the only one with it.
#[inline(always)]
fn mark_repeats(
    bits: impl Iterator<Item = usize>,
    filter_bits: u32,
    seen: &mut Vec<u64>,
    seen_again: &mut Vec<u64>,
) {
    let words = (1usize << filter_bits).div_ceil(64);
    for bitmap in [&mut *seen, &mut *seen_again] {
        bitmap.clear();
        bitmap.resize(words, 0);
    }
    for bit in bits {
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        seen_again[word] |= seen[word] & mask;
        seen[word] |= mask;
    }
}

/// Whether `bit` is set in `bitmap`.
#[inline(always)]
fn is_set(bitmap: &[u64], bit: usize) -> bool {
    (bitmap[bit / 64] >> (bit % 64)) & 1 == 1
}

/// Filter bits per entry in [`maybe_shared_entries`]: 4 to 8. Its entries
/// are all the bands of a partition (millions), so bitmaps as dense as
/// [`FILTER_EXTRA_BITS`] makes them leave the cache: on 4.2 million
/// entries (200,000 rows of 21 bands, a third of them copies) the call
/// took 0.29 s with 16 to 32 bits, 0.18 s with these, 0.35 s with none.
const ID_FILTER_EXTRA_BITS: u32 = 2;

/// Moves the entries whose `(band, key)` may be shared (their filter bit
/// was seen twice) to the front of `entries`, in their order; returns how
/// many there are. An entry left behind has a `(band, key)` of its own.
fn maybe_shared_entries(entries: &mut [BandEntry]) -> usize {
    let n = entries.len();
    if n < 2 {
        return 0;
    }
    let filter_bits = filter_bits(n, ID_FILTER_EXTRA_BITS);
    let bit_of = |e: &BandEntry| {
        // The key is a hash already; the band is mixed in so that equal
        // keys of different bands fall apart.
        filter_bit(
            e.key ^ u64::from(e.band).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            filter_bits,
        )
    };
    let (mut seen, mut seen_again) = (Vec::new(), Vec::new());
    mark_repeats(
        entries.iter().map(bit_of),
        filter_bits,
        &mut seen,
        &mut seen_again,
    );
    let mut kept = 0;
    for i in 0..n {
        if is_set(&seen_again, bit_of(&entries[i])) {
            entries.swap(kept, i);
            kept += 1;
        }
    }
    kept
}

/// Bands of at most this many rows group their rows in a hash table (it
/// stays in the L2 cache); larger ones sort them.
const MAX_TABLED_ROWS: usize = 1 << 18;

/// No row: the end of a chain, or a free slot of the table.
const NONE: u32 = u32::MAX;

/// Reusable buffers of [`band_pairs`].
#[derive(Default)]
struct BandBuffers {
    /// The band's key of each of the rows, by index.
    full: Vec<u64>,
    /// The filter's bitmaps: bits seen, and seen again.
    seen: Vec<u64>,
    seen_again: Vec<u64>,
    /// Indices whose bit was seen again: the only ones that may share a key.
    maybe_shared: Vec<u32>,
    /// Open addressing on the key's top bits: the last row (its position in
    /// `maybe_shared`) with that key.
    table: Vec<u32>,
    /// For each position in `maybe_shared`, the previous one with its key.
    previous: Vec<u32>,
    /// Slots whose key has at least two rows, in the order they got them.
    shared: Vec<usize>,
    bucket: Vec<u32>,
}

/// The packed pairs of one band: its rows grouped by key (rows of a group
/// ascending), each group giving its [`bucket_pairs`]. Groups come in an
/// order of their own; the caller sorts all pairs.
fn band_pairs(
    band_keys: &[u64],
    bands: usize,
    band: usize,
    rows: &[u32],
    max_tabled_rows: usize,
    buffers: &mut BandBuffers,
) -> Vec<u64> {
    buffers.full.clear();
    buffers.full.extend(
        rows.iter()
            .map(|&row| band_keys[row as usize * bands + band]),
    );
    let mut pairs = Vec::new();
    if rows.len() <= max_tabled_rows {
        grouped_by_table(rows, buffers, &mut pairs);
    } else {
        grouped_by_sort(rows, buffers, &mut pairs);
    }
    pairs
}

/// Filter bits per row in [`grouped_by_table`]: `2^FILTER_EXTRA_BITS` to
/// twice that many, so that few rows of keys of their own pass the filter.
const FILTER_EXTRA_BITS: u32 = 4;

/// [`band_pairs`] by a hash table. Most rows have a key of their own, so a
/// filter goes first: two bitmaps on the keys' top bits, one of the bits
/// seen, one of those seen again. Only rows whose bit was seen again can
/// share their key; they alone go into the table (small enough for the L1
/// cache), where each is linked to the last one before it with its key.
fn grouped_by_table(rows: &[u32], buffers: &mut BandBuffers, pairs: &mut Vec<u64>) {
    let BandBuffers {
        full,
        seen,
        seen_again,
        maybe_shared,
        table,
        previous,
        shared,
        bucket,
    } = buffers;
    let n = rows.len();
    let filter_bits = filter_bits(n, FILTER_EXTRA_BITS);
    mark_repeats(
        full.iter().map(|&key| filter_bit(key, filter_bits)),
        filter_bits,
        seen,
        seen_again,
    );
    // The indices whose bit was seen again, ascending (without a branch).
    maybe_shared.clear();
    maybe_shared.resize(n, 0);
    let mut count = 0usize;
    for (index, &key) in full.iter().enumerate() {
        maybe_shared[count] = index as u32;
        count += usize::from(is_set(seen_again, filter_bit(key, filter_bits)));
    }
    maybe_shared.truncate(count);
    if count < 2 {
        return;
    }
    // Two to four slots per row in the table.
    let bits = usize::BITS - count.leading_zeros() + 1;
    let mask = (1usize << bits) - 1;
    table.clear();
    table.resize(1 << bits, NONE);
    previous.clear();
    previous.resize(count, NONE);
    shared.clear();
    // Table entries and links are positions in `maybe_shared`.
    for (at, &index) in maybe_shared.iter().enumerate() {
        let key = full[index as usize];
        let mut slot = (key >> (64 - bits)) as usize;
        loop {
            let last = table[slot];
            if last == NONE {
                table[slot] = at as u32;
                break;
            }
            if full[maybe_shared[last as usize] as usize] == key {
                if previous[last as usize] == NONE {
                    shared.push(slot);
                }
                previous[at] = last;
                table[slot] = at as u32;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    for &slot in shared.iter() {
        bucket.clear();
        let mut at = table[slot];
        while at != NONE {
            bucket.push(rows[maybe_shared[at as usize] as usize]);
            at = previous[at as usize];
        }
        bucket.reverse();
        bucket_pairs(bucket, pairs);
    }
}

/// [`band_pairs`] by sorting (see [`for_each_group_of_equal_keys`]).
fn grouped_by_sort(rows: &[u32], buffers: &mut BandBuffers, pairs: &mut Vec<u64>) {
    let BandBuffers { full, bucket, .. } = buffers;
    for_each_group_of_equal_keys(
        0..rows.len() as u32,
        |index| full[index as usize],
        |key| (key >> 32) as u32,
        |indices| {
            // Indices ascending, and so are their rows.
            bucket.clear();
            bucket.extend(indices.iter().map(|&i| rows[i as usize]));
            bucket_pairs(bucket, pairs);
        },
    );
}

/// Candidate pairs `(a, b)` with `a < b` among `rows` (ascending, distinct):
/// pairs that share at least one band key. `band_keys` holds `bands` keys
/// per row, row after row, for every row of the index (`rows` index into
/// it). Each band groups its rows by key on its own (in parallel: a hash table,
/// or a sort for bands of very many rows); the result is sorted
/// and free of repeats, so it does not depend on the thread count.
pub fn candidate_pairs_of_keys(band_keys: &[u64], bands: usize, rows: &[u32]) -> Vec<(u32, u32)> {
    candidate_pairs_grouped(band_keys, bands, rows, MAX_TABLED_ROWS)
}

/// [`candidate_pairs_of_keys`], grouping a band's rows in a hash table up
/// to `max_tabled_rows` rows, by sorting beyond.
fn candidate_pairs_grouped(
    band_keys: &[u64],
    bands: usize,
    rows: &[u32],
    max_tabled_rows: usize,
) -> Vec<(u32, u32)> {
    if bands == 0 || rows.len() < 2 {
        return Vec::new();
    }
    let per_band: Vec<Vec<u64>> = (0..bands)
        .into_par_iter()
        .map_init(BandBuffers::default, |buffers, band| {
            band_pairs(band_keys, bands, band, rows, max_tabled_rows, buffers)
        })
        .collect();
    let mut pairs: Vec<u64> = Vec::with_capacity(per_band.iter().map(Vec::len).sum());
    for band in per_band {
        pairs.extend(band);
    }
    // Rows are dense, so most bytes of the packed pairs are constant: the
    // radix sort skips those.
    radsort::sort(&mut pairs);
    pairs.dedup();
    pairs
        .into_iter()
        .map(|packed| ((packed >> 32) as u32, packed as u32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candidate pairs `(a, b)` with `a < b` among `items`: pairs that share at
    /// least one band key. `items[i]` is `(row, signature)`; rows must be
    /// distinct. The result is sorted and free of repeats.
    fn candidate_pairs(items: &[(u32, &[u32])], banding: Banding) -> Vec<(u32, u32)> {
        let mut sorted: Vec<(u32, &[u32])> = items.to_vec();
        sorted.sort_unstable_by_key(|&(row, _)| row);
        let max_row = sorted.last().map_or(0, |&(row, _)| row as usize + 1);
        let mut keys = vec![0u64; max_row * banding.bands];
        for &(row, sig) in &sorted {
            let at = row as usize * banding.bands;
            banding.band_keys_into(sig, &mut keys[at..at + banding.bands]);
        }
        let rows: Vec<u32> = sorted.iter().map(|&(row, _)| row).collect();
        candidate_pairs_of_keys(&keys, banding.bands, &rows)
    }

    #[test]
    fn default_banding_catches_threshold_pairs() {
        let b = Banding::for_threshold(0.8, 128);
        assert_eq!(b, Banding { bands: 21, rows: 6 });
        assert!(b.candidate_probability(0.8) >= 0.99);
        // One more row would miss too many pairs at the threshold.
        let tighter = Banding {
            bands: 128 / 7,
            rows: 7,
        };
        assert!(tighter.candidate_probability(0.8) < 0.99);
    }

    #[test]
    fn banding_reaches_target_for_many_thresholds() {
        for t in [0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 1.0] {
            for k in [16, 64, 128, 256] {
                let b = Banding::for_threshold(t, k);
                assert!(b.bands * b.rows <= k);
                assert!(
                    b.candidate_probability(t) >= MIN_RECALL_AT_THRESHOLD,
                    "t={t} k={k} {b:?}"
                );
            }
        }
    }

    #[test]
    fn equal_bands_make_candidates() {
        let banding = Banding { bands: 2, rows: 2 };
        let s0 = [1, 2, 3, 4];
        let s1 = [1, 2, 9, 9];
        let s2 = [7, 7, 3, 4];
        let s3 = [5, 6, 7, 8];
        let items: Vec<(u32, &[u32])> = vec![(0, &s0), (1, &s1), (2, &s2), (3, &s3)];
        assert_eq!(candidate_pairs(&items, banding), vec![(0, 1), (0, 2)]);
    }

    #[test]
    fn large_buckets_give_linear_pairs_that_still_connect() {
        let banding = Banding { bands: 1, rows: 2 };
        let n = 5000u32;
        let sig = [7u32, 7];
        let items: Vec<(u32, &[u32])> = (0..n).map(|r| (r, &sig[..])).collect();
        let pairs = candidate_pairs(&items, banding);
        assert!(pairs.len() <= n as usize * (LARGE_BUCKET_WINDOW + 1));
        // Every row meets the first row or a near neighbour, so the bucket is connected.
        assert!(pairs.iter().all(|&(a, b)| a < b));
        let joined = crate::dedup::cluster::clusters(n as usize, &pairs, None);
        assert!(joined.representative.iter().all(|&r| r == 0));
        // Small buckets give every pair.
        let few: Vec<(u32, &[u32])> = (0..10).map(|r| (r, &sig[..])).collect();
        assert_eq!(candidate_pairs(&few, banding).len(), 45);
    }

    #[test]
    fn keys_that_share_their_high_half_stay_apart() {
        // One band; rows 0, 2 and 3 share the high 32 bits of their key, but
        // only rows 0 and 3 (and 1 and 4) have equal keys.
        let high = 0xDEAD_BEEF_0000_0000u64;
        let keys = [high | 1, 7, high | 2, high | 1, 7];
        let rows: Vec<u32> = (0..5).collect();
        assert_eq!(
            candidate_pairs_of_keys(&keys, 1, &rows),
            vec![(0, 3), (1, 4)]
        );
        // The same with more rows than a full bucket.
        let n = FULL_BUCKET_ROWS as u64 + 50;
        let keys: Vec<u64> = (0..n).map(|r| high | (r % 2)).collect();
        let rows: Vec<u32> = (0..n as u32).collect();
        let pairs = candidate_pairs_of_keys(&keys, 1, &rows);
        assert!(pairs.iter().all(|&(a, b)| a % 2 == b % 2 && a < b));
        let joined = crate::dedup::cluster::clusters(n as usize, &pairs, None);
        assert!((0..n as usize).all(|r| joined.representative[r] as usize == r % 2));
    }

    #[test]
    fn table_and_sort_group_rows_alike() {
        // Keys from a small set (large groups), keys sharing their high
        // half or their top bits but not equal, and rows with gaps.
        let mut state = 11u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 20
        };
        let bands = 3;
        let n = 3000u32;
        let keys: Vec<u64> = (0..n as usize * bands)
            .map(|_| match next() % 4 {
                0 => next() % 40,
                1 => 0xABCD_0000_0000_0000 | (next() % 50),
                2 => (next() % 30) << 58,
                _ => next(),
            })
            .collect();
        let rows: Vec<u32> = (0..n).filter(|r| r % 7 != 3).collect();
        let mut brute = Vec::new();
        for (i, &a) in rows.iter().enumerate() {
            for &b in &rows[i + 1..] {
                let (ka, kb) = (a as usize * bands, b as usize * bands);
                if (0..bands).any(|band| keys[ka + band] == keys[kb + band]) {
                    brute.push((a, b));
                }
            }
        }
        let tabled = candidate_pairs_grouped(&keys, bands, &rows, usize::MAX);
        let sorted = candidate_pairs_grouped(&keys, bands, &rows, 0);
        assert_eq!(tabled, sorted);
        // Groups over FULL_BUCKET_ROWS give a subset that still connects.
        assert!(tabled.iter().all(|p| brute.binary_search(p).is_ok()));
        let small: Vec<u32> = rows
            .iter()
            .copied()
            .filter(|r| r % 5 == 0)
            .take(200)
            .collect();
        let tabled = candidate_pairs_grouped(&keys, bands, &small, usize::MAX);
        let expected: Vec<(u32, u32)> = brute
            .iter()
            .copied()
            .filter(|&(a, b)| small.binary_search(&a).is_ok() && small.binary_search(&b).is_ok())
            .collect();
        assert!(expected.len() > 100);
        assert_eq!(tabled, expected);
    }

    #[test]
    fn pairs_of_ids_split_by_key_are_the_pairs_of_rows() {
        // Buckets small and large (beyond FULL_BUCKET_ROWS), in 4 bands.
        let bands = 4;
        let n = 600u32;
        let band_keys: Vec<u64> = (0..n)
            .flat_map(|row| {
                (0..bands as u64).map(move |band| match band {
                    0 => u64::from(row % 3),
                    1 => u64::from(row / 7),
                    2 => u64::from(row) * 1_000 + 5,
                    _ => u64::from(row % 200 == 0),
                })
            })
            .collect();
        // Rows: every third one is left out, as exact copies are.
        let rows: Vec<u32> = (0..n).filter(|r| r % 3 != 1).collect();
        let expected: Vec<(u64, u64)> = candidate_pairs_of_keys(&band_keys, bands, &rows)
            .into_iter()
            .map(|(a, b)| (u64::from(a) * 10 + 7, u64::from(b) * 10 + 7))
            .collect();
        assert!(expected.len() > 1000);
        let mut entries: Vec<BandEntry> = rows
            .iter()
            .rev()
            .flat_map(|&row| {
                let keys = &band_keys[row as usize * bands..(row as usize + 1) * bands];
                keys.iter().enumerate().map(move |(band, &key)| BandEntry {
                    band: band as u32,
                    key,
                    id: u64::from(row) * 10 + 7,
                })
            })
            .collect();
        assert_eq!(candidate_pairs_of_ids(&mut entries.clone()), expected);
        // Split by key into 3 partitions: the union is the same.
        let mut union = Vec::new();
        for part in 0..3 {
            let mut mine: Vec<BandEntry> = entries
                .iter()
                .copied()
                .filter(|e| e.key % 3 == part)
                .collect();
            union.extend(candidate_pairs_of_ids(&mut mine));
        }
        union.sort_unstable();
        union.dedup();
        assert_eq!(union, expected);
        entries.clear();
        assert!(candidate_pairs_of_ids(&mut entries).is_empty());
    }

    #[test]
    fn same_values_in_different_bands_do_not_collide() {
        let banding = Banding { bands: 2, rows: 2 };
        let s0 = [1, 2, 3, 4];
        let s1 = [3, 4, 1, 2];
        let items: Vec<(u32, &[u32])> = vec![(0, &s0), (1, &s1)];
        assert!(candidate_pairs(&items, banding).is_empty());
    }

    /// The pairs of every `(band, key)` shared by several ids, the slow way.
    fn pairs_by_definition(entries: &[BandEntry]) -> Vec<(u64, u64)> {
        let mut groups: std::collections::BTreeMap<(u32, u64), Vec<u64>> = Default::default();
        for e in entries {
            groups.entry((e.band, e.key)).or_default().push(e.id);
        }
        let mut pairs = Vec::new();
        for ids in groups.values_mut() {
            ids.sort_unstable();
            ids.dedup();
            each_bucket_pair(ids, |a, b| pairs.push((a, b)));
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    #[test]
    fn ids_pairs_keep_every_shared_key_past_the_filter() {
        // Many keys of their own, a few shared (within and across bands,
        // the same key in two bands, an id repeated), at sizes around the
        // filter's bit counts.
        let mut state = 3u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state
        };
        for n in [0usize, 1, 2, 3, 63, 64, 65, 1000, 40_000] {
            let mut entries: Vec<BandEntry> = (0..n)
                .map(|i| BandEntry {
                    band: (next() % 7) as u32,
                    key: next(),
                    id: i as u64,
                })
                .collect();
            for i in 0..n / 10 {
                let from = entries[(next() % n as u64) as usize];
                let band = if i % 3 == 0 {
                    (from.band + 1) % 7
                } else {
                    from.band
                };
                let id = if i % 5 == 0 { from.id } else { (n + i) as u64 };
                entries.push(BandEntry { band, id, ..from });
            }
            let expected = pairs_by_definition(&entries);
            assert_eq!(
                candidate_pairs_of_ids(&mut entries),
                expected,
                "{n} entries"
            );
        }
    }
}

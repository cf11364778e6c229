//! Sorting hash values: the distinct values of a list, ascending.
//!
//! Shingle hashes are spread evenly over `u64`, so a value's top bits say
//! roughly where it belongs. On CPUs with AVX-512 (lists of 32 to 2^15
//! values), each value goes into a probing table with four to eight slots
//! per value, at its home slot (its top bits) or, if that is taken, at the
//! first slot after it that keeps the table in order (walking past smaller
//! values, shifting larger ones along: linear probing that keeps order). A
//! value already there is skipped, so repeats cost nothing. The common
//! cases (home free or holding the value; home taken but the next slot
//! free) take no branch. `vpcompressq` then packs the table's values, in
//! order, into the output eight slots at a time, and clears the table for
//! the next list. On the corpus this is about 1.4 times as fast as the
//! counting sort below; a portable compaction exists (for other CPUs it
//! would cost more than the counting sort, so they keep that).
//!
//! Otherwise (and for values that crowd the table) one counting pass on the
//! top bits, with two to four buckets per value, puts them in order up to
//! the few values that share a bucket; one insertion-sort pass then
//! finishes the order, moving only those, and `dedup` drops repeats.
//!
//! Both give up on values not spread evenly (all in a few slots or
//! buckets) after a few moves per value and fall back to the comparison
//! sort, so any input costs O(n log n); the result is the same for any
//! input.

use rayon::prelude::*;

use crate::simd::{dispatch, kernel, Level};

/// Lists shorter than this are sorted by comparison.
const MIN_BUCKETED: usize = 32;

/// At most `2^MAX_BUCKET_BITS` buckets (the counts stay in the L1/L2 cache).
const MAX_BUCKET_BITS: u32 = 16;

/// Lists with more values per bucket than this (too long for the cap on
/// buckets) are sorted by comparison.
const MAX_VALUES_PER_BUCKET: usize = 4;

/// The insertion pass (and the probing table's shifts) give up after this
/// many moves per value (values spread evenly need well under one).
const MAX_MOVES_PER_VALUE: usize = 8;

/// Lists longer than this skip the probing table (it would outgrow the L2
/// cache) and take the buckets.
const MAX_TABLED: usize = 1 << 15;

/// The probing table has `2^TABLE_EXTRA_BITS` to twice that many slots per
/// value: few values find their slot taken, and the compaction stays short.
const TABLE_EXTRA_BITS: u32 = 2;

/// A free slot of the probing table (the value itself is counted apart).
const EMPTY: u64 = u64::MAX;

/// Reusable memory for [`HashSorter::sorted_distinct_into`] and
/// [`HashSorter::sorted_distinct_in_slice`].
#[derive(Debug, Default)]
pub struct HashSorter {
    /// Per bucket, where its values end in the output (then, after the
    /// scatter, where they begin).
    ends: Vec<u32>,
    /// The probing table: all [`EMPTY`] between calls.
    table: Vec<u64>,
    /// The output for [`Self::sorted_distinct_in_slice`].
    scratch: Vec<u64>,
    /// After [`Self::probe`]: the values it took, the slots that may hold
    /// one, and whether [`EMPTY`] was among them.
    probed: usize,
    used: usize,
    has_empty: bool,
}

impl HashSorter {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distinct values of `values`, ascending, into `out` (cleared first).
    pub fn sorted_distinct_into(&mut self, values: &[u64], out: &mut Vec<u64>) {
        self.sorted_distinct_with(values, out, compress_detected());
    }

    /// [`Self::sorted_distinct_into`] by the counting sort alone: the path
    /// of CPUs without AVX-512, for comparisons.
    pub fn sorted_distinct_by_counting_into(&mut self, values: &[u64], out: &mut Vec<u64>) {
        self.sorted_distinct_with(values, out, false);
    }

    /// [`Self::sorted_distinct_into`], trying the probing table if `tabled`.
    fn sorted_distinct_with(&mut self, values: &[u64], out: &mut Vec<u64>, tabled: bool) {
        out.clear();
        let n = values.len();
        if !(MIN_BUCKETED..=MAX_VALUES_PER_BUCKET << MAX_BUCKET_BITS).contains(&n) {
            out.extend_from_slice(values);
            out.sort_unstable();
            out.dedup();
            return;
        }
        if tabled && n <= MAX_TABLED && self.probe(values) {
            self.compact_into(out);
            return;
        }
        self.buckets(values, out);
    }

    /// [`Self::sorted_distinct_into`] written back over the first values of
    /// `values` (a slice of a larger buffer, so the output goes through
    /// scratch space and is copied back); returns how many there are.
    pub fn sorted_distinct_in_slice(&mut self, values: &mut [u64]) -> usize {
        let mut out = std::mem::take(&mut self.scratch);
        self.sorted_distinct_into(values, &mut out);
        let len = out.len();
        values[..len].copy_from_slice(&out);
        self.scratch = out;
        len
    }

    /// Puts the distinct values of `values` (`MIN_BUCKETED..=MAX_TABLED` of
    /// them) into the probing table, ascending with free slots between
    /// ([`EMPTY`] itself is only noted); false, with the table cleared
    /// again, if they crowd it (values not spread evenly).
    ///
    /// Each value has a home slot, its top bits, and sits at or after it,
    /// with no free slot between: a value finding its home taken walks past
    /// the smaller values there and shifts the larger ones one slot along.
    fn probe(&mut self, values: &[u64]) -> bool {
        let n = values.len();
        let bits = usize::BITS - (n - 1).leading_zeros() + TABLE_EXTRA_BITS;
        let shift = 64 - bits;
        // The home slots, then room for a run pushed past the last of them
        // (at most `n` values), then a last chunk for the compaction.
        let len = (1 << bits) + n + LANES;
        if self.table.len() < len {
            self.table.resize(len, EMPTY);
        }
        let table = &mut self.table[..len];
        let budget = MAX_MOVES_PER_VALUE * n;
        let mut moves = 0usize;
        let mut used = 0usize;
        let mut has_empty = false;
        for &v in values {
            has_empty |= v == EMPTY;
            let home = (v >> shift) as usize;
            let (x, y) = (table[home], table[home + 1]);
            // Zero if the home is free or holds `v` already (most values).
            let home_fits = (x ^ v).min(!x);
            // Most of the rest: the next slot is free. Both cases without a
            // branch (one that values spread evenly would mispredict): the
            // smaller of `x` and `v` stays home, the larger goes next.
            if home_fits.min(!y) == 0 {
                table[home] = x.min(v);
                table[home + 1] = if home_fits == 0 { y } else { x.max(v) };
                used = used.max(home + 2);
                continue;
            }
            let mut j = home;
            while table[j] < v {
                j += 1;
            }
            // `v` is new unless here (`EMPTY` stops here too, at a free slot).
            if table[j] != v {
                let mut carry = v;
                loop {
                    carry = std::mem::replace(&mut table[j], carry);
                    j += 1;
                    if carry == EMPTY {
                        break;
                    }
                }
                used = used.max(j);
            }
            moves += j - home;
            if moves > budget {
                table[..used].fill(EMPTY);
                return false;
            }
        }
        self.probed = n;
        self.used = used;
        self.has_empty = has_empty;
        true
    }

    /// The values [`Self::probe`] put in the table, in order, into `out`
    /// (its first values overwritten: it may be the probed list); clears
    /// the table.
    fn compact_into(&mut self, out: &mut Vec<u64>) {
        let table = &mut self.table[..self.used.next_multiple_of(LANES)];
        out.resize(self.probed + LANES, 0);
        let kept = compact(table, out);
        out.truncate(kept);
        if self.has_empty {
            out.push(EMPTY);
        }
    }

    /// The counting sort on the top bits, then the insertion pass, into
    /// `out` (empty); `values` has `MIN_BUCKETED..=MAX_VALUES_PER_BUCKET <<
    /// MAX_BUCKET_BITS` values.
    fn buckets(&mut self, values: &[u64], out: &mut Vec<u64>) {
        let n = values.len();
        // Two to four buckets per value: the next power of two above 2n.
        let bits = (usize::BITS - (n - 1).leading_zeros() + 1).min(MAX_BUCKET_BITS);
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
        // `ends[b + 1]` is the end of bucket `b`; fill each bucket from its end.
        out.resize(n, 0);
        for &v in values {
            let end = &mut ends[(v >> shift) as usize + 1];
            *end -= 1;
            out[*end as usize] = v;
        }
        if !insertion_sort(out, MAX_MOVES_PER_VALUE * n) {
            // Values crowd a few buckets (not hashes spread evenly): the
            // comparison sort bounds the time.
            out.sort_unstable();
        }
        out.dedup();
    }
}
/// Values in a 512-bit vector.
const LANES: usize = 8;

/// Whether the CPU compacts the probing table with AVX-512 (without it, the
/// table costs more than the buckets).
fn compress_detected() -> bool {
    Level::Avx512.runs_here()
}

/// The values of `table` other than [`EMPTY`], in order, into the start of
/// `out`, and their number; `table` (a whole number of [`LANES`]) is all
/// [`EMPTY`] after. `out` has room for those values and [`LANES`] more.
fn compact(table: &mut [u64], out: &mut [u64]) -> usize {
    dispatch!(Avx512 => compact_avx512(table, out); else compact_portable(table, out))
}

/// [`compact`] one slot at a time.
fn compact_portable(table: &mut [u64], out: &mut [u64]) -> usize {
    let mut kept = 0;
    for slot in table {
        let v = std::mem::replace(slot, EMPTY);
        out[kept] = v;
        kept += usize::from(v != EMPTY);
    }
    kept
}

kernel!(avx512;
/// [`compact`] eight slots at a time: each chunk's values packed to the
/// front of a vector (`vpcompressq`), which is stored whole at the end of
/// the output so far.
fn compact_avx512(table: &mut [u64], out: &mut [u64]) -> usize {
    use std::arch::x86_64::*;
    let empty = _mm512_set1_epi64(EMPTY as i64);
    let mut kept = 0;
    for chunk in table.chunks_exact_mut(LANES) {
        // SAFETY: `chunk` holds the 8 values read.
        let v = unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) };
        let full = _mm512_cmpneq_epi64_mask(v, empty);
        let packed = _mm512_maskz_compress_epi64(full, v);
        let dst = &mut out[kept..kept + LANES];
        // SAFETY: `dst` and `chunk` hold the 8 values written.
        unsafe {
            _mm512_storeu_si512(dst.as_mut_ptr().cast(), packed);
            _mm512_storeu_si512(chunk.as_mut_ptr().cast(), empty);
        }
        kept += full.count_ones() as usize;
    }
    kept
}
);

/// Sorts `values` in place, which is fast when each value is already close
/// to its place; gives up (returning false, `values` reordered but not
/// sorted) after `max_moves` moves.
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

/// Lists of ids longer than this are grouped by [`for_each_group_of_equal_keys`]
/// with a sort on every thread; shorter ones with the hash sorter.
pub(crate) const SORTED_ON_ONE_THREAD: usize = 1 << 18;

/// Calls `group` with each set of two or more of `ids` whose keys
/// (`key_of`) are equal, the ids of a set ascending. Keys are hashes whose
/// top 32 bits (`top`) are spread evenly: one integer sort of
/// `top << 32 | id` orders the ids by key, then by id, and each run of
/// equal tops is split by the full key (a run almost always holds one key;
/// splitting it keeps the result exact). Sets come in an order of their own.
pub fn for_each_group_of_equal_keys<K: Ord + Copy>(
    ids: impl IntoParallelIterator<Item = u32>,
    key_of: impl Fn(u32) -> K + Sync,
    top: impl Fn(K) -> u32 + Sync,
    mut group: impl FnMut(&[u32]),
) {
    let mut packed: Vec<u64> = ids
        .into_par_iter()
        .map(|id| (u64::from(top(key_of(id))) << 32) | u64::from(id))
        .collect();
    if packed.len() <= SORTED_ON_ONE_THREAD {
        let len = HashSorter::new().sorted_distinct_in_slice(&mut packed);
        packed.truncate(len);
    } else {
        packed.par_sort_unstable();
    }
    let mut split: Vec<(K, u32)> = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    for run in packed.chunk_by(|x, y| x >> 32 == y >> 32) {
        if run.len() < 2 {
            continue;
        }
        let first = key_of(run[0] as u32);
        if run.iter().all(|&p| key_of(p as u32) == first) {
            ids.clear();
            ids.extend(run.iter().map(|&p| p as u32));
            group(&ids);
            continue;
        }
        split.clear();
        split.extend(run.iter().map(|&p| (key_of(p as u32), p as u32)));
        split.sort_unstable();
        for equal in split.chunk_by(|x, y| x.0 == y.0).filter(|g| g.len() > 1) {
            ids.clear();
            ids.extend(equal.iter().map(|&(_, id)| id));
            group(&ids);
        }
    }
}

/// The distinct values of `values`, ascending.
pub fn sorted_distinct(values: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(values.len());
    HashSorter::new().sorted_distinct_into(values, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(values: &[u64]) -> Vec<u64> {
        let mut v = values.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    }

    proptest! {
        /// Any values: spread, clustered in a few buckets, or repeated.
        #[test]
        fn same_as_sort_and_dedup(
            values in prop::collection::vec(any::<u64>(), 0..3000),
            clustered in prop::collection::vec(0u64..50, 0..3000),
        ) {
            let mut sorter = HashSorter::new();
            let mut out = Vec::new();
            sorter.sorted_distinct_into(&values, &mut out);
            prop_assert_eq!(&out, &reference(&values));
            // Few distinct values, all in the lowest bucket.
            sorter.sorted_distinct_into(&clustered, &mut out);
            prop_assert_eq!(&out, &reference(&clustered));
            let mut both = values.clone();
            both.extend(clustered.iter().map(|c| c << 58));
            prop_assert_eq!(sorted_distinct(&both), reference(&both));
        }
    }

    /// Both entry points, every path, against the reference.
    fn check_all_ways(values: &[u64]) -> Result<(), TestCaseError> {
        let want = reference(values);
        let mut sorter = HashSorter::new();
        let mut out = vec![7; 3];
        sorter.sorted_distinct_into(values, &mut out);
        prop_assert_eq!(&out, &want);
        let mut in_place = values.to_vec();
        let len = sorter.sorted_distinct_in_slice(&mut in_place);
        prop_assert_eq!(&in_place[..len], &want[..]);
        // The buckets alone (the path of CPUs without AVX-512).
        if (MIN_BUCKETED..=MAX_VALUES_PER_BUCKET << MAX_BUCKET_BITS).contains(&values.len()) {
            let mut buckets = Vec::new();
            sorter.buckets(values, &mut buckets);
            prop_assert_eq!(&buckets, &want);
        }
        // The probing table with either compaction, where it takes them.
        if (MIN_BUCKETED..=MAX_TABLED).contains(&values.len()) && sorter.probe(values) {
            let mut portable = vec![0; values.len() + LANES];
            let used = sorter.used.next_multiple_of(LANES);
            let kept = compact_portable(&mut sorter.table[..used], &mut portable);
            portable.truncate(kept);
            if sorter.has_empty {
                portable.push(EMPTY);
            }
            prop_assert_eq!(&portable, &want);
            prop_assert!(sorter.table.iter().all(|&s| s == EMPTY));
        }
        prop_assert!(sorter.table.iter().all(|&s| s == EMPTY));
        Ok(())
    }

    /// Spread values, with repeats, [`EMPTY`] and its neighbours mixed in.
    fn spread_with_repeats() -> impl Strategy<Value = Vec<u64>> {
        (
            prop::collection::vec(any::<u64>(), 0..3000),
            prop::collection::vec((any::<prop::sample::Index>(), 0u8..4), 0..400),
            prop::collection::vec(prop::sample::select(vec![EMPTY, EMPTY - 1, 0, 1]), 0..4),
        )
            .prop_map(|(mut values, copies, extremes)| {
                if !values.is_empty() {
                    for (i, times) in copies {
                        let v = values[i.index(values.len())];
                        values.extend(std::iter::repeat_n(v, times.into()));
                    }
                }
                values.extend(extremes);
                values
            })
    }

    proptest! {
        #[test]
        fn every_path_agrees(values in spread_with_repeats()) {
            check_all_ways(&values)?;
        }

        /// Lengths around the cut to the table and its overflow slots.
        #[test]
        fn lengths_around_the_cuts(
            n in prop::sample::select(vec![
                MIN_BUCKETED - 1, MIN_BUCKETED, MIN_BUCKETED + 1, 63, 64, 65,
                MAX_TABLED - 1, MAX_TABLED, MAX_TABLED + 1,
            ]),
            seed in any::<u64>(),
            top in any::<bool>(),
        ) {
            let mut state = seed;
            let values: Vec<u64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    // All in the last home slots: runs pushed into the overflow.
                    if top { state | (EMPTY << 8) } else { state }
                })
                .collect();
            check_all_ways(&values)?;
        }

        /// Values in a few clusters (long runs of taken slots), shuffled or
        /// descending.
        #[test]
        fn clustered_values(
            centres in prop::collection::vec(any::<u64>(), 1..4),
            offsets in prop::collection::vec((any::<prop::sample::Index>(), 0u64..5000), 32..3000),
            descending in any::<bool>(),
        ) {
            let mut values: Vec<u64> = offsets
                .iter()
                .map(|(i, d)| centres[i.index(centres.len())].wrapping_add(*d))
                .collect();
            if descending {
                values.sort_unstable_by(|a, b| b.cmp(a));
            }
            check_all_ways(&values)?;
        }
    }

    #[test]
    fn avx512_and_portable_compaction_agree() {
        if !compress_detected() {
            eprintln!("skipped: the CPU lacks AVX-512");
            return;
        }
        let mut state = 3u64;
        for n in [0, 8, 64, 1000] {
            let mut table: Vec<u64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    if state >> 62 == 0 {
                        state
                    } else {
                        EMPTY
                    }
                })
                .collect();
            table.sort_unstable();
            let mut copy = table.clone();
            let (mut a, mut b) = (vec![0; n + LANES], vec![0; n + LANES]);
            let ka = compact(&mut table, &mut a);
            let kb = compact_portable(&mut copy, &mut b);
            assert_eq!(a[..ka], b[..kb], "n = {n}");
            assert!(table.iter().chain(&copy).all(|&s| s == EMPTY));
        }
    }

    #[test]
    fn in_place_handles_the_extremes() {
        let mut sorter = HashSorter::new();
        for values in [
            vec![],
            vec![EMPTY; 100],
            vec![5; 100],
            (0..100_000u64).rev().collect(),
            (0..40u64).chain([EMPTY, 0, EMPTY]).collect(),
        ] {
            let mut in_place = values.clone();
            let len = sorter.sorted_distinct_in_slice(&mut in_place);
            assert_eq!(in_place[..len], reference(&values));
        }
    }

    #[test]
    fn crowding_the_table_falls_back_and_leaves_it_clear() {
        // Distinct, ascending and descending, all in one home slot.
        let mut sorter = HashSorter::new();
        for values in [
            (0..5000u64).collect::<Vec<_>>(),
            (0..5000u64).rev().collect(),
        ] {
            assert!(!sorter.probe(&values));
            assert!(sorter.table.iter().all(|&s| s == EMPTY));
            let mut out = Vec::new();
            sorter.sorted_distinct_into(&values, &mut out);
            assert_eq!(out, reference(&values));
        }
        // Many repeats of the last value of one long run.
        let values: Vec<u64> = (0..200u64).chain(std::iter::repeat_n(199, 5000)).collect();
        assert!(!sorter.probe(&values));
    }

    #[test]
    fn extremes_and_sizes_around_the_cuts() {
        let cap = MAX_VALUES_PER_BUCKET << MAX_BUCKET_BITS;
        for n in [0, 1, 31, 32, 33, 1 << 15, (1 << 16) + 3, cap, cap + 1] {
            let mut state = n as u64;
            let mut values: Vec<u64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    state
                })
                .collect();
            values.extend([0, u64::MAX, u64::MAX, 0]);
            assert_eq!(sorted_distinct(&values), reference(&values), "n = {n}");
        }
    }

    #[test]
    fn values_crowding_one_bucket_fall_back_to_the_comparison_sort() {
        // Distinct, descending, all below 2^40: one bucket, the worst order.
        let values: Vec<u64> = (0..100_000u64).rev().collect();
        let mut out = Vec::new();
        HashSorter::new().sorted_distinct_into(&values, &mut out);
        assert_eq!(out, reference(&values));
        let mut moved = values.clone();
        assert!(!insertion_sort(&mut moved, 8 * values.len()));
    }
}

//! Similarity of pairs of rows, computed while the texts stream past in row
//! order, holding only what a later row still needs.
//!
//! A [`PairScorer`] is given pairs `(a, b)` with `a < b`. As batches of texts
//! arrive, it builds the profile (shingle set, or signature) of each row that
//! takes part in a pair, scores every pair whose second row has arrived, and
//! keeps a profile only until the last row paired with it has been seen. So
//! memory follows the rows with a partner still to come, not the corpus; fed
//! everything at once, it is the in-memory verification.
//!
//! Beside the pairs scored down to a cutoff, it can be given pairs scored
//! exactly, in the same pass ([`PairScorer::with_exact_pairs`]): the engine
//! scores ahead the pairs its scoring pass will most likely need.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::cancel::Cancel;
use crate::dedup::sketch::minhash::estimated_jaccard;
use crate::dedup::sketch::Sketcher;
use crate::dedup::verify::jaccard::jaccard_at_least;
use crate::dedup::verify::kept_shingles::KeptShingles;
use crate::dedup::Verify;
use crate::error::{Error, Result};
use crate::simd::prefetch::prefetch_start;

/// What verification compares of one text.
#[derive(Debug, Clone, PartialEq)]
pub enum Profile {
    /// Sorted, distinct shingle hashes (exact Jaccard).
    Shingles(Vec<u64>),
    /// MinHash signature (estimated Jaccard).
    Signature(Vec<u32>),
}

impl Profile {
    /// The profile of `text` for `verify`.
    pub fn of(text: &str, sketcher: &Sketcher, verify: Verify) -> Profile {
        match verify {
            Verify::Exact => Profile::Shingles(sketcher.shingle_set(text)),
            Verify::Signature => {
                let mut signature = vec![0u32; sketcher.num_perm()];
                sketcher.signature_into(text, &mut signature);
                Profile::Signature(signature)
            }
        }
    }

    /// A view of the profile.
    pub fn view(&self) -> ProfileView<'_> {
        match self {
            Profile::Shingles(set) => ProfileView::Shingles(set),
            Profile::Signature(signature) => ProfileView::Signature(signature),
        }
    }

    /// Jaccard similarity of two profiles of the same kind (0 otherwise).
    pub fn similarity(&self, other: &Profile) -> f64 {
        self.similarity_at_least(other, 0.0)
    }

    /// [`Self::similarity`] where it is at least `cutoff`; below it, only
    /// some value below `cutoff` (see [`jaccard_at_least`]), found sooner.
    pub fn similarity_at_least(&self, other: &Profile, cutoff: f64) -> f64 {
        self.view().similarity_at_least(other.view(), cutoff)
    }
}

/// A borrowed [`Profile`]: verification compares profiles where they lie
/// (in a batch's buffers, or sorted in place among kept shingle hashes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProfileView<'a> {
    /// Sorted, distinct shingle hashes (exact Jaccard).
    Shingles(&'a [u64]),
    /// MinHash signature (estimated Jaccard).
    Signature(&'a [u32]),
}

impl ProfileView<'_> {
    /// [`Profile::similarity_at_least`] of two views.
    pub fn similarity_at_least(self, other: ProfileView<'_>, cutoff: f64) -> f64 {
        match (self, other) {
            (ProfileView::Shingles(a), ProfileView::Shingles(b)) => jaccard_at_least(a, b, cutoff),
            (ProfileView::Signature(a), ProfileView::Signature(b)) => estimated_jaccard(a, b),
            _ => 0.0,
        }
    }

    /// An owned copy.
    pub fn to_profile(self) -> Profile {
        match self {
            ProfileView::Shingles(set) => Profile::Shingles(set.to_vec()),
            ProfileView::Signature(signature) => Profile::Signature(signature.to_vec()),
        }
    }
}

/// What verification built from a row's kept hashes.
enum Built {
    /// Its set is the first this many hashes (sorted in place).
    Set(usize),
    Signature(Vec<u32>),
}

/// Two lists of `(row, last use)`, each ascending by row with distinct
/// rows, merged into one: a row in both gets the later use.
fn merge_last_uses(
    a: impl Iterator<Item = (u32, u32)>,
    b: impl Iterator<Item = (u32, u32)>,
) -> Vec<(u32, u32)> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let mut merged = Vec::new();
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(&x), Some(&y)) if x.0 == y.0 => {
                a.next();
                b.next();
                (x.0, x.1.max(y.1))
            }
            (Some(&x), Some(&y)) if x.0 < y.0 => {
                a.next();
                x
            }
            (_, Some(&y)) => {
                b.next();
                y
            }
            (Some(&x), None) => {
                a.next();
                x
            }
            (None, None) => return merged,
        };
        merged.push(next);
    }
}

/// A pair given to be scored down to the cutoff.
const GIVEN_CUT: u8 = 1;
/// A pair given to be scored exactly.
const GIVEN_EXACT: u8 = 2;

/// Scored pairs, each with its similarity, sorted by pair.
pub type Scored = Vec<((u32, u32), f64)>;

/// Scores pairs of rows from texts fed in row order. See the module docs.
#[derive(Debug)]
pub struct PairScorer {
    sketcher: Sketcher,
    verify: Verify,
    /// Similarities below this are only known to be below it.
    cutoff: f64,
    rows: u32,
    /// Pairs sorted by `(a, b)`, each `a < b`.
    pairs: Vec<(u32, u32)>,
    /// Which list each pair came from: [`GIVEN_CUT`], [`GIVEN_EXACT`] or both.
    given: Vec<u8>,
    similarity: Vec<f64>,
    /// Indices into `pairs`, ordered by `(b, a)`: the order pairs complete.
    by_second: Vec<u32>,
    scored: usize,
    /// Every row in a pair, ascending, with the last row that needs it.
    needed: Vec<(u32, u32)>,
    next_needed: usize,
    /// Profiles of earlier rows still needed, with their last use.
    held: HashMap<u32, (Profile, u32)>,
    next_row: u32,
}

impl PairScorer {
    /// A scorer for `pairs` (each `a < b < rows`) over `rows` rows. A
    /// similarity below `cutoff` is reported only as some value below it
    /// (`0.0`: every similarity exactly), which saves work in verification.
    pub fn new(
        sketcher: Sketcher,
        verify: Verify,
        cutoff: f64,
        rows: u32,
        pairs: Vec<(u32, u32)>,
    ) -> Result<Self> {
        Self::with_exact_pairs(sketcher, verify, cutoff, rows, pairs, Vec::new())
    }

    /// [`Self::new`] that also scores `exact_pairs` (each `a < b < rows`)
    /// exactly, whatever the cutoff; [`Self::finish_split`] tells the two
    /// lists apart. A pair in both lists is scored once, exactly (above the
    /// cutoff, the value is the same either way).
    pub fn with_exact_pairs(
        sketcher: Sketcher,
        verify: Verify,
        cutoff: f64,
        rows: u32,
        pairs: Vec<(u32, u32)>,
        exact_pairs: Vec<(u32, u32)>,
    ) -> Result<Self> {
        let mut tagged: Vec<((u32, u32), u8)> = pairs
            .into_iter()
            .map(|pair| (pair, GIVEN_CUT))
            .chain(exact_pairs.into_iter().map(|pair| (pair, GIVEN_EXACT)))
            .collect();
        tagged.sort_unstable();
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(tagged.len());
        let mut given: Vec<u8> = Vec::with_capacity(tagged.len());
        for (pair, tag) in tagged {
            match given.last_mut() {
                Some(last) if pairs.last() == Some(&pair) => *last |= tag,
                _ => {
                    pairs.push(pair);
                    given.push(tag);
                }
            }
        }
        if let Some(&(a, b)) = pairs.iter().find(|&&(a, b)| a >= b || b >= rows) {
            return Err(Error::InvalidArgument(format!(
                "pair ({a}, {b}) is not a < b < {rows}"
            )));
        }
        let mut by_second: Vec<u32> = (0..pairs.len() as u32).collect();
        radsort::sort_by_key(&mut by_second, |&i| {
            let (a, b) = pairs[i as usize];
            (u64::from(b) << 32) | u64::from(a)
        });
        // Each row's last use: its last partner as the first row of a pair
        // (pairs are sorted by `(a, b)`), or itself as the second.
        let as_first = pairs
            .chunk_by(|x, y| x.0 == y.0)
            .map(|run| (run[0].0, run[run.len() - 1].1));
        let mut as_second: Vec<(u32, u32)> = by_second
            .iter()
            .map(|&i| pairs[i as usize].1)
            .map(|b| (b, b))
            .collect();
        as_second.dedup();
        let needed = merge_last_uses(as_first, as_second.into_iter());
        Ok(Self {
            sketcher,
            verify,
            cutoff,
            rows,
            similarity: vec![f64::NAN; pairs.len()],
            pairs,
            given,
            by_second,
            scored: 0,
            needed,
            next_needed: 0,
            held: HashMap::new(),
            next_row: 0,
        })
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The rows in pairs, ascending: only their texts are read; any text
    /// (an empty one) may be fed for the other rows.
    pub fn rows_in_pairs(&self) -> impl Iterator<Item = u32> + '_ {
        self.needed.iter().map(|&(row, _)| row)
    }

    /// Rows fed so far.
    pub fn rows_fed(&self) -> u32 {
        self.next_row
    }

    /// Feeds the texts of the next rows (starting at [`Self::rows_fed`]).
    pub fn feed(&mut self, texts: &[&str], cancel: &Cancel) -> Result<()> {
        let (start, end, wanted) = self.next_batch(texts.len())?;
        let (sketcher, verify) = (&self.sketcher, self.verify);
        let local: Vec<Profile> = self.needed[wanted.clone()]
            .par_iter()
            .map(|&(row, _)| {
                if cancel.is_cancelled() {
                    return Profile::Shingles(Vec::new());
                }
                Profile::of(texts[(row - start) as usize], sketcher, verify)
            })
            .collect();
        cancel.check()?;
        let local: Vec<ProfileView<'_>> = local.iter().map(Profile::view).collect();
        self.score_batch(end, wanted, &local)
    }

    /// [`Self::feed`] of the next `kept.len()` rows from their shingle
    /// hashes, as [`Sketcher::sketch_keeping_shingles`] kept them: the same
    /// scores, without scanning the texts again. The hashes of rows in a
    /// pair are sorted in place into their sets; every row is released after.
    pub fn feed_kept(&mut self, kept: &mut KeptShingles, cancel: &Cancel) -> Result<()> {
        let (start, end, wanted) = self.next_batch(kept.len())?;
        let rows: Vec<usize> = self.needed[wanted.clone()]
            .iter()
            .map(|&(row, _)| (row - start) as usize)
            .collect();
        let (sketcher, verify) = (&self.sketcher, self.verify);
        let built = kept.map_rows_mut(&rows, |_, hashes| {
            if cancel.is_cancelled() {
                return Built::Set(0);
            }
            match verify {
                Verify::Exact => Built::Set(sketcher.sort_into_set(hashes)),
                Verify::Signature => {
                    let mut signature = vec![0u32; sketcher.num_perm()];
                    sketcher.signature_of_shingles(hashes, &mut signature);
                    Built::Signature(signature)
                }
            }
        });
        cancel.check()?;
        let local: Vec<ProfileView<'_>> = rows
            .iter()
            .zip(&built)
            .map(|(&row, built)| match built {
                Built::Set(len) => ProfileView::Shingles(&kept.row(row)[..*len]),
                Built::Signature(signature) => ProfileView::Signature(signature),
            })
            .collect();
        self.score_batch(end, wanted, &local)?;
        kept.release_before(kept.len());
        Ok(())
    }

    /// The first row and the end of a batch of `count` rows fed next, and
    /// the range of [`Self::needed`] its rows in pairs take.
    fn next_batch(&self, count: usize) -> Result<(u32, u32, std::ops::Range<usize>)> {
        let start = self.next_row;
        let end = start as u64 + count as u64;
        if end > self.rows as u64 {
            return Err(Error::Usage(format!(
                "fed {end} rows, but there are only {}",
                self.rows
            )));
        }
        let end = end as u32;
        let first = self.next_needed;
        let last = first + self.needed[first..].partition_point(|&(row, _)| row < end);
        Ok((start, end, first..last))
    }

    /// Scores the pairs a batch ending at row `end` completes, from the
    /// profiles `local` of its rows in pairs (`wanted`, in order), and keeps
    /// the profiles a later row still needs.
    fn score_batch(
        &mut self,
        end: u32,
        wanted: std::ops::Range<usize>,
        local: &[ProfileView<'_>],
    ) -> Result<()> {
        let last = wanted.end;
        let wanted = &self.needed[wanted];
        // Where each row of the batch has its profile in `local`, if it has one.
        let start = self.next_row;
        let mut slot = vec![u32::MAX; (end - start) as usize];
        for (k, &(row, _)) in wanted.iter().enumerate() {
            slot[(row - start) as usize] = k as u32;
        }
        let local_of = |row: u32| -> Option<ProfileView<'_>> {
            let k = *slot.get(row.checked_sub(start)? as usize)?;
            local.get(k as usize).copied()
        };
        // Pairs completed by this batch.
        let done_from = self.scored;
        let mut done_to = done_from;
        while done_to < self.by_second.len() && self.pairs[self.by_second[done_to] as usize].1 < end
        {
            done_to += 1;
        }
        let (pairs, given, held) = (&self.pairs, &self.given, &self.held);
        let cutoff_of = |i: u32| {
            if given[i as usize] & GIVEN_EXACT != 0 {
                0.0
            } else {
                self.cutoff
            }
        };
        let order = &self.by_second[done_from..done_to];
        let scores: Vec<(u32, f64)> = order
            .par_iter()
            .enumerate()
            .map(|(k, &i)| {
                // The sets of the next pair were sorted long before: ask for
                // their first cache lines while this pair is compared.
                if let Some(&next) = order.get(k + 1) {
                    let (a, b) = pairs[next as usize];
                    for row in [a, b] {
                        if let Some(ProfileView::Shingles(set)) = local_of(row) {
                            prefetch_start(set);
                        }
                    }
                }
                let (a, b) = pairs[i as usize];
                let pa = local_of(a).or_else(|| held.get(&a).map(|(p, _)| p.view()));
                let pb = local_of(b);
                let similarity = match (pa, pb) {
                    (Some(pa), Some(pb)) => pa.similarity_at_least(pb, cutoff_of(i)),
                    _ => f64::NAN,
                };
                (i, similarity)
            })
            .collect();
        for (i, similarity) in scores {
            if similarity.is_nan() {
                return Err(Error::Internal(format!(
                    "pair {:?} was scored before both its rows were seen",
                    self.pairs[i as usize]
                )));
            }
            self.similarity[i as usize] = similarity;
        }
        self.scored = done_to;
        // Drop what no later row needs; keep what one does.
        self.held.retain(|_, (_, until)| *until >= end);
        for (&(row, until), profile) in wanted.iter().zip(local) {
            if until >= end {
                self.held.insert(row, (profile.to_profile(), until));
            }
        }
        self.next_needed = last;
        self.next_row = end;
        Ok(())
    }

    /// The pairs of both lists and their similarities, once every row has
    /// been fed.
    pub fn finish(self) -> Result<Scored> {
        self.check_finished()?;
        Ok(self.pairs.into_iter().zip(self.similarity).collect())
    }

    /// [`Self::finish`] split by list: the pairs given as `pairs`, then
    /// those given as `exact_pairs` (a pair given in both is in both).
    pub fn finish_split(self) -> Result<(Scored, Scored)> {
        self.check_finished()?;
        let (mut cut, mut exact) = (Vec::new(), Vec::new());
        for ((pair, similarity), given) in
            self.pairs.into_iter().zip(self.similarity).zip(self.given)
        {
            if given & GIVEN_CUT != 0 {
                cut.push((pair, similarity));
            }
            if given & GIVEN_EXACT != 0 {
                exact.push((pair, similarity));
            }
        }
        Ok((cut, exact))
    }

    fn check_finished(&self) -> Result<()> {
        if self.next_row != self.rows {
            return Err(Error::Usage(format!(
                "verification was fed {} of {} rows",
                self.next_row, self.rows
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::verify::jaccard::jaccard;

    fn texts() -> Vec<String> {
        (0..40)
            .map(|i| {
                let base = i % 7;
                (0..30)
                    .map(|w| {
                        if w == i % 30 {
                            format!("edit{i}")
                        } else {
                            format!("w{base}x{w}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn all_pairs(n: u32) -> Vec<(u32, u32)> {
        (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect()
    }

    #[test]
    fn any_batching_gives_the_in_memory_scores() {
        let texts = texts();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let sketcher = Sketcher::new(3, 32, 1);
        let n = refs.len() as u32;
        let pairs: Vec<(u32, u32)> = all_pairs(n)
            .into_iter()
            .filter(|&(a, b)| (a + b) % 3 == 0)
            .collect();
        let expected: Vec<f64> = pairs
            .iter()
            .map(|&(a, b)| {
                jaccard(
                    &sketcher.shingle_set(refs[a as usize]),
                    &sketcher.shingle_set(refs[b as usize]),
                )
            })
            .collect();
        for batch in [1, 3, 7, 40] {
            let mut scorer =
                PairScorer::new(sketcher.clone(), Verify::Exact, 0.0, n, pairs.clone())
                    .expect("scorer");
            for chunk in refs.chunks(batch) {
                scorer.feed(chunk, &Cancel::new()).expect("feed");
            }
            let scored = scorer.finish().expect("finish");
            let got: Vec<f64> = scored.iter().map(|&(_, s)| s).collect();
            assert_eq!(got, expected, "batch {batch}");
        }
    }

    #[test]
    fn exact_pairs_are_scored_exactly_beside_the_cut_ones() {
        let texts = texts();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let sketcher = Sketcher::new(3, 32, 1);
        let n = refs.len() as u32;
        let exact_of = |a: u32, b: u32| {
            jaccard(
                &sketcher.shingle_set(refs[a as usize]),
                &sketcher.shingle_set(refs[b as usize]),
            )
        };
        let cut: Vec<(u32, u32)> = all_pairs(n)
            .into_iter()
            .filter(|&(a, b)| (a + b) % 3 == 0)
            .collect();
        let exact: Vec<(u32, u32)> = all_pairs(n)
            .into_iter()
            .filter(|&(a, b)| (a * b) % 5 == 1)
            .collect();
        // A cutoff above most similarities: most cut pairs stop early.
        let cutoff = 0.95;
        for batch in [1, 7, 40] {
            let mut scorer = PairScorer::with_exact_pairs(
                sketcher.clone(),
                Verify::Exact,
                cutoff,
                n,
                cut.clone(),
                exact.clone(),
            )
            .expect("scorer");
            for chunk in refs.chunks(batch) {
                scorer.feed(chunk, &Cancel::new()).expect("feed");
            }
            let (got_cut, got_exact) = scorer.finish_split().expect("finish");
            assert_eq!(got_cut.iter().map(|&(p, _)| p).collect::<Vec<_>>(), cut);
            assert_eq!(got_exact.iter().map(|&(p, _)| p).collect::<Vec<_>>(), exact);
            for &((a, b), similarity) in &got_exact {
                assert_eq!(similarity, exact_of(a, b), "batch {batch}");
            }
            for &((a, b), similarity) in &got_cut {
                let expected = exact_of(a, b);
                if exact.contains(&(a, b)) || expected >= cutoff {
                    assert_eq!(similarity, expected, "in both lists, or above the cutoff");
                } else {
                    assert!(similarity < cutoff);
                }
            }
        }
    }

    #[test]
    fn profiles_are_dropped_after_their_last_use() {
        let texts = texts();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let sketcher = Sketcher::new(3, 32, 1);
        // Only neighbours are paired: at most one profile is held between batches.
        let pairs: Vec<(u32, u32)> = (1..40).map(|b| (b - 1, b)).collect();
        let mut scorer =
            PairScorer::new(sketcher.clone(), Verify::Exact, 0.0, 40, pairs).expect("scorer");
        for chunk in refs.chunks(1) {
            scorer.feed(chunk, &Cancel::new()).expect("feed");
            assert!(scorer.held.len() <= 1);
        }
        for ((a, b), similarity) in scorer.finish().expect("finish") {
            let expected = jaccard(
                &sketcher.shingle_set(refs[a as usize]),
                &sketcher.shingle_set(refs[b as usize]),
            );
            assert_eq!(similarity, expected);
        }
    }

    #[test]
    fn rows_are_needed_until_their_last_partner() {
        let mut state = 3u64;
        let mut next = move |n: u32| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32 % n
        };
        let pairs: Vec<(u32, u32)> = (0..500)
            .map(|_| (next(60), next(60)))
            .filter(|&(a, b)| a < b)
            .collect();
        let scorer = PairScorer::new(
            Sketcher::new(3, 16, 1),
            Verify::Exact,
            0.0,
            60,
            pairs.clone(),
        )
        .expect("scorer");
        let mut expected: std::collections::BTreeMap<u32, u32> = Default::default();
        for (a, b) in pairs {
            for (row, until) in [(a, b), (b, b)] {
                let last = expected.entry(row).or_insert(until);
                *last = (*last).max(until);
            }
        }
        assert_eq!(scorer.needed, expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn incomplete_or_excess_feeding_is_an_error() {
        let sketcher = Sketcher::new(3, 16, 1);
        let mut scorer = PairScorer::new(sketcher.clone(), Verify::Signature, 0.0, 3, vec![(0, 2)])
            .expect("scorer");
        scorer
            .feed(&["a b c", "d e f"], &Cancel::new())
            .expect("feed");
        assert!(scorer.feed(&["x", "y"], &Cancel::new()).is_err());
        let scorer =
            PairScorer::new(sketcher.clone(), Verify::Exact, 0.0, 3, vec![(0, 2)]).expect("scorer");
        assert!(scorer.finish().is_err());
        assert!(PairScorer::new(sketcher, Verify::Exact, 0.0, 3, vec![(2, 1)]).is_err());
    }
}

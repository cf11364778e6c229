//! Dedup in passes over a stream of texts, for corpora whose text does not
//! fit in memory; [`crate::dedup`] runs the same passes over one slice.
//!
//! 1. **Sketch** ([`DedupEngine::sketch`], stateless, any batch size): each
//!    text's exact key, flags and LSH band keys. The signature is dropped as
//!    soon as its band keys exist. [`DedupEngine::add`] appends the sketches
//!    as the next rows: about `16 + 8 * bands + 2` bytes per row.
//! 2. **Candidates** ([`DedupEngine::find_candidates`]): exact duplicates by
//!    sorting keys; LSH candidate pairs among the distinct texts that have
//!    shingles, band by band in parallel.
//! 3. **Verification** ([`DedupEngine::verify`], texts again in row order): a
//!    [`PairScorer`] holds a row's profile only while a later partner is to
//!    come. [`DedupEngine::restore_edges`] skips this pass on resume.
//! 4. **Clusters** ([`DedupEngine::cluster`]): union-find over the exact and
//!    verified edges; representatives by priority, then lowest row.
//! 5. **Scores** ([`DedupEngine::score`], texts a third time, only when some
//!    row's representative is not one of its verified neighbours): the
//!    similarity of each row to its representative. Verification already
//!    scores, exactly, each row of a group of three or more candidates with
//!    the group's most likely representative (the one `priority` picks among
//!    rows joined by candidate pairs and exact copies); when verification
//!    leaves the group whole, this pass has nothing to read.
//!
//! Every step gives the same result for any thread count and batch size.

use rayon::prelude::*;

use crate::cancel::Cancel;
use crate::dedup::cluster::{clusters, Clusters};
use crate::dedup::exact::ExactKey;
use crate::dedup::lsh::{candidate_pairs_of_keys, Banding};
use crate::dedup::sketch::Sketcher;
use crate::dedup::verify::kept_shingles::{KeptBlock, KeptShingles, BLOCK_ROWS};
use crate::dedup::verify::pair_scorer::Scored;
use crate::dedup::verify::PairScorer;
use crate::dedup::{DedupOptions, DedupResult, Edge};
use crate::error::{Error, Result};
use crate::hashsort::for_each_group_of_equal_keys;

/// Sketches of consecutive rows, column by column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSketches {
    /// Exact-duplicate key of each row.
    pub exact_key: Vec<ExactKey>,
    /// Whether each row has content (not empty after normalisation).
    pub has_content: Vec<bool>,
    /// Whether each row has at least one shingle.
    pub has_shingles: Vec<bool>,
    /// `bands` keys per row, row after row (zeros for rows without shingles).
    pub band_keys: Vec<u64>,
    /// Keys per row in `band_keys`.
    pub bands: usize,
}

impl RowSketches {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.exact_key.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.exact_key.is_empty()
    }

    fn check(&self) -> Result<()> {
        let n = self.len();
        if self.has_content.len() != n
            || self.has_shingles.len() != n
            || self.band_keys.len() != n * self.bands
        {
            return Err(Error::InvalidArgument(
                "sketch columns have different lengths".into(),
            ));
        }
        Ok(())
    }
}

/// Where the engine is in its passes.
#[derive(Debug)]
enum Phase {
    /// Rows are being added.
    Adding,
    /// Texts are being fed to verify the candidates.
    Verifying(PairScorer),
    /// Verified near edges (similarity at or above the threshold), sorted;
    /// and the pairs scored ahead for the scoring pass, sorted.
    Verified { near: Vec<Edge>, ahead: Scored },
    /// Clusters are known; texts are being fed to score rows against their
    /// representatives.
    Scoring {
        near: Vec<Edge>,
        clusters: Clusters,
        similarity: Vec<f64>,
        /// Rows waiting for a score, and the pair (canonical rows) it is.
        waiting: Vec<(u32, (u32, u32))>,
        scorer: PairScorer,
    },
    /// Everything is known.
    Done {
        near: Vec<Edge>,
        clusters: Clusters,
        similarity: Vec<f64>,
    },
}

/// Dedup in passes; see the module docs.
#[derive(Debug)]
pub struct DedupEngine {
    options: DedupOptions,
    banding: Banding,
    sketcher: Sketcher,
    rows: RowSketches,
    /// The first row with each row's exact key (itself for rows without content).
    exact_rep: Vec<u32>,
    phase: Phase,
}

fn phase_error(expected: &str) -> Error {
    Error::Usage(format!("dedup engine: {expected}"))
}

impl DedupEngine {
    /// An empty engine for `options`.
    pub fn new(options: &DedupOptions) -> Result<Self> {
        options.validate()?;
        let banding = options.banding();
        Ok(Self {
            options: options.clone(),
            banding,
            sketcher: Sketcher::new(options.ngram, options.num_perm, options.seed),
            rows: RowSketches {
                bands: banding.bands,
                ..RowSketches::default()
            },
            exact_rep: Vec::new(),
            phase: Phase::Adding,
        })
    }

    /// The options.
    pub fn options(&self) -> &DedupOptions {
        &self.options
    }

    /// The LSH banding.
    pub fn banding(&self) -> Banding {
        self.banding
    }

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Sketches of `texts` (in parallel); stateless, so batches can be
    /// sketched in any order and stored.
    pub fn sketch(&self, texts: &[&str], cancel: &Cancel) -> Result<RowSketches> {
        Ok(self.sketch_rows(texts, false, cancel)?.0)
    }

    /// [`Self::sketch`], also keeping each text's shingle hashes (8 bytes per
    /// word), so that [`Self::verify_kept`] can verify these rows without
    /// scanning their texts again.
    pub fn sketch_keeping_shingles(
        &self,
        texts: &[&str],
        cancel: &Cancel,
    ) -> Result<(RowSketches, KeptShingles)> {
        self.sketch_rows(texts, true, cancel)
    }

    fn sketch_rows(
        &self,
        texts: &[&str],
        keep_shingles: bool,
        cancel: &Cancel,
    ) -> Result<(RowSketches, KeptShingles)> {
        let bands = self.banding.bands;
        let k = self.sketcher.num_perm();
        // Every banding has a band; the keys of one are kept even without.
        let key_slots = bands.max(1);
        let mut band_keys = vec![0u64; texts.len() * key_slots];
        let (sketcher, banding) = (&self.sketcher, self.banding);
        type Flags = (ExactKey, bool, bool);
        let per_block: Vec<(Vec<Flags>, KeptBlock)> = band_keys
            .par_chunks_mut(key_slots * BLOCK_ROWS)
            .zip(texts.par_chunks(BLOCK_ROWS))
            .map_init(
                || vec![0u32; k],
                |signature, (keys, texts)| {
                    let mut kept = if keep_shingles {
                        // About one hash per 6 bytes of text; the Vec grows if need be.
                        KeptBlock::with_capacity(texts.iter().map(|t| t.len() / 6).sum())
                    } else {
                        KeptBlock::default()
                    };
                    if cancel.is_cancelled() {
                        return (Vec::new(), kept);
                    }
                    let flags = texts
                        .iter()
                        .zip(keys.chunks_mut(key_slots))
                        .map(|(text, keys)| {
                            let sketch = if keep_shingles {
                                let sketch = sketcher.sketch_keeping_shingles(
                                    text,
                                    signature,
                                    kept.hashes_mut(),
                                );
                                kept.end_row();
                                sketch
                            } else {
                                sketcher.sketch(text, signature)
                            };
                            if sketch.has_shingles {
                                banding.band_keys_into(signature, keys);
                            }
                            (sketch.exact_key, sketch.has_content, sketch.has_shingles)
                        })
                        .collect();
                    (flags, kept)
                },
            )
            .collect();
        cancel.check()?;
        if bands == 0 {
            band_keys.clear();
        }
        let flags = per_block.iter().flat_map(|(flags, _)| flags);
        let sketches = RowSketches {
            exact_key: flags.clone().map(|f| f.0).collect(),
            has_content: flags.clone().map(|f| f.1).collect(),
            has_shingles: flags.map(|f| f.2).collect(),
            band_keys,
            bands,
        };
        let kept = if keep_shingles {
            KeptShingles::from_blocks(per_block.into_iter().map(|(_, kept)| kept).collect())
        } else {
            KeptShingles::default()
        };
        Ok((sketches, kept))
    }

    /// Appends `sketches` as the next rows.
    pub fn add(&mut self, sketches: RowSketches) -> Result<()> {
        if !matches!(self.phase, Phase::Adding) {
            return Err(phase_error("rows can only be added before find_candidates"));
        }
        sketches.check()?;
        if sketches.bands != self.banding.bands {
            return Err(Error::InvalidArgument(format!(
                "sketches have {} band keys per row, the engine uses {}",
                sketches.bands, self.banding.bands
            )));
        }
        if self.rows.len() + sketches.len() >= u32::MAX as usize {
            return Err(Error::InvalidArgument("too many rows".into()));
        }
        let RowSketches {
            exact_key,
            has_content,
            has_shingles,
            band_keys,
            ..
        } = sketches;
        self.rows.exact_key.extend(exact_key);
        self.rows.has_content.extend(has_content);
        self.rows.has_shingles.extend(has_shingles);
        self.rows.band_keys.extend(band_keys);
        Ok(())
    }

    /// The first row with each row's exact key, by grouping the rows with
    /// content by key.
    fn resolve_exact_duplicates(&mut self) {
        let n = self.rows.len();
        let (keys, has_content) = (&self.rows.exact_key, &self.rows.has_content);
        let mut exact_rep: Vec<u32> = (0..n as u32).collect();
        for_each_group_of_equal_keys(
            (0..n as u32)
                .into_par_iter()
                .filter(|&r| has_content[r as usize]),
            |r| keys[r as usize],
            |key| (key >> 96) as u32,
            |rows| {
                for &row in &rows[1..] {
                    exact_rep[row as usize] = rows[0];
                }
            },
        );
        self.exact_rep = exact_rep;
    }

    /// `(first row with the key, row)` of every exact copy, by row.
    fn exact_links(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.exact_rep
            .iter()
            .enumerate()
            .filter(|&(row, &rep)| rep != row as u32)
            .map(|(row, &rep)| (rep, row as u32))
    }

    /// Rows that take part in LSH: distinct texts with shingles.
    fn canonical_rows(&self) -> Vec<u32> {
        (0..self.rows.len() as u32)
            .into_par_iter()
            .filter(|&r| self.exact_rep[r as usize] == r && self.rows.has_shingles[r as usize])
            .collect()
    }

    /// Resolves exact duplicates and finds the LSH candidate pairs; returns
    /// how many pairs [`Self::verify`] will check. `priority` (one value per
    /// row), if given, should be what [`Self::cluster`] will get: it picks
    /// the representatives whose pairs verification scores ahead for the
    /// scoring pass (the result is the same either way).
    pub fn find_candidates(&mut self, priority: Option<&[i64]>, cancel: &Cancel) -> Result<usize> {
        if !matches!(self.phase, Phase::Adding) {
            return Err(phase_error("find_candidates was already called"));
        }
        self.check_priority(priority)?;
        self.resolve_exact_duplicates();
        cancel.check()?;
        let canonical = self.canonical_rows();
        let pairs = candidate_pairs_of_keys(&self.rows.band_keys, self.banding.bands, &canonical);
        self.drop_band_keys();
        cancel.check()?;
        let count = pairs.len();
        let ahead = self.pairs_to_score_ahead(&pairs, priority);
        cancel.check()?;
        let scorer = PairScorer::with_exact_pairs(
            self.sketcher.clone(),
            self.options.verify,
            self.options.threshold,
            self.rows.len() as u32,
            pairs,
            ahead,
        )?;
        self.phase = Phase::Verifying(scorer);
        Ok(count)
    }

    fn check_priority(&self, priority: Option<&[i64]>) -> Result<()> {
        let n = self.rows.len();
        match priority {
            Some(p) if p.len() != n => Err(Error::InvalidArgument(format!(
                "priority has {} values for {n} rows",
                p.len()
            ))),
            _ => Ok(()),
        }
    }

    /// The pairs the scoring pass will most likely need, scored during
    /// verification so that the texts need not be read a third time. Rows
    /// joined by candidate pairs (`pairs`, among canonical rows) and by exact
    /// copies form groups whose representative `priority` picks, as
    /// [`Self::cluster`] will if verification keeps every group whole. Each
    /// canonical row of a group with three or more canonical rows is paired
    /// with its representative's canonical row. (In a group of two, the one
    /// pair is the candidate itself: verified, it is an edge; rejected, the
    /// rows are not in one cluster.)
    fn pairs_to_score_ahead(
        &self,
        pairs: &[(u32, u32)],
        priority: Option<&[i64]>,
    ) -> Vec<(u32, u32)> {
        if pairs.is_empty() {
            return Vec::new();
        }
        let n = self.rows.len();
        let exact_rep = &self.exact_rep;
        let mut links: Vec<(u32, u32)> = self.exact_links().collect();
        links.extend_from_slice(pairs);
        let groups = clusters(n, &links, priority);
        drop(links);
        // Canonical rows in candidate pairs, ascending, and how many of them
        // each group (by its representative) holds.
        let mut paired: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        paired.par_sort_unstable();
        paired.dedup();
        let mut canonical_in_group = vec![0u32; n];
        for &row in &paired {
            canonical_in_group[groups.representative[row as usize] as usize] += 1;
        }
        paired
            .into_iter()
            .filter_map(|row| {
                let rep = groups.representative[row as usize];
                if canonical_in_group[rep as usize] < 3 {
                    return None;
                }
                let with = exact_rep[rep as usize];
                (with != row).then_some((row.min(with), row.max(with)))
            })
            .collect()
    }

    /// Feeds the texts of the next rows to verification (rows in the order
    /// they were added, in batches of any size).
    pub fn verify(&mut self, texts: &[&str], cancel: &Cancel) -> Result<()> {
        match &mut self.phase {
            Phase::Verifying(scorer) => scorer.feed(texts, cancel),
            _ => Err(phase_error("verify needs find_candidates first")),
        }
    }

    /// [`Self::verify`] of the next `kept.len()` rows from their shingle
    /// hashes, as [`Self::sketch_keeping_shingles`] kept them: the same
    /// result, without scanning the texts again. The hashes are sorted in
    /// place and released as verification moves past them. Batches of
    /// texts and of kept hashes may alternate.
    pub fn verify_kept(&mut self, kept: &mut KeptShingles, cancel: &Cancel) -> Result<()> {
        match &mut self.phase {
            Phase::Verifying(scorer) => scorer.feed_kept(kept, cancel),
            _ => Err(phase_error("verify needs find_candidates first")),
        }
    }

    /// Ends verification once every row has been fed.
    fn finish_verification(&mut self) -> Result<()> {
        if let Phase::Verifying(scorer) = &self.phase {
            // Without candidates there is nothing to verify: the pass may be skipped.
            if !scorer.is_empty() && scorer.rows_fed() as usize != self.rows.len() {
                return Err(phase_error(&format!(
                    "verification has seen {} of {} rows",
                    scorer.rows_fed(),
                    self.rows.len()
                )));
            }
            let Phase::Verifying(scorer) = std::mem::replace(&mut self.phase, Phase::Adding) else {
                unreachable!("matched above")
            };
            let threshold = self.options.threshold;
            let (scored, ahead) = if scorer.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                scorer.finish_split()?
            };
            let near: Vec<Edge> = scored
                .into_iter()
                .filter(|&(_, similarity)| similarity >= threshold)
                .map(|((a, b), similarity)| Edge {
                    a,
                    b,
                    similarity,
                    exact: false,
                })
                .collect();
            self.phase = Phase::Verified { near, ahead };
        }
        Ok(())
    }

    /// Every verified edge: each exact duplicate linked to the first row with
    /// its key, and the near-duplicate pairs, sorted by `(a, b)`.
    pub fn verified_edges(&mut self) -> Result<Vec<Edge>> {
        self.finish_verification()?;
        let near = match &self.phase {
            Phase::Verified { near, .. } => near,
            Phase::Scoring { near, .. } | Phase::Done { near, .. } => near,
            _ => return Err(phase_error("verified_edges needs every row verified")),
        };
        let mut edges: Vec<Edge> = self
            .exact_links()
            .map(|(a, b)| Edge {
                a,
                b,
                similarity: 1.0,
                exact: true,
            })
            .collect();
        edges.extend_from_slice(near);
        edges.par_sort_unstable_by_key(|e| (e.a, e.b));
        Ok(edges)
    }

    /// Takes the edges of an earlier, finished verification (from
    /// [`Self::verified_edges`]) instead of running it again. Call after
    /// every row has been added.
    pub fn restore_edges(&mut self, edges: &[Edge]) -> Result<()> {
        if !matches!(self.phase, Phase::Adding) {
            return Err(phase_error("restore_edges must come right after add"));
        }
        self.resolve_exact_duplicates();
        let n = self.rows.len() as u32;
        let mut near = Vec::new();
        for e in edges {
            if e.a >= e.b || e.b >= n {
                return Err(Error::InvalidArgument(format!(
                    "edge ({}, {}) is not a < b < {n}",
                    e.a, e.b
                )));
            }
            if e.exact {
                if self.exact_rep[e.b as usize] != e.a {
                    return Err(Error::InvalidArgument(format!(
                        "edge ({}, {}) is marked exact, but the rows' keys say otherwise: \
                         the edges are not from these rows",
                        e.a, e.b
                    )));
                }
            } else {
                near.push(*e);
            }
        }
        near.sort_unstable_by_key(|e| (e.a, e.b));
        self.drop_band_keys();
        self.phase = Phase::Verified {
            near,
            ahead: Vec::new(),
        };
        Ok(())
    }

    /// Frees the band keys (8 bytes per band per row, 168 at the defaults):
    /// once the candidates are found, or the edges restored, nothing reads
    /// them again, and the later passes then hold about 22 bytes per row
    /// instead of 190.
    fn drop_band_keys(&mut self) {
        self.rows.band_keys = Vec::new();
    }

    /// Builds the clusters and picks their representatives: highest
    /// `priority` (one value per row), then lowest row. Returns how many rows
    /// still need their similarity to the representative from
    /// [`Self::score`]; when 0, [`Self::result`] can be called directly.
    pub fn cluster(&mut self, priority: Option<&[i64]>, cancel: &Cancel) -> Result<usize> {
        self.finish_verification()?;
        if matches!(self.phase, Phase::Verified { .. }) {
            self.check_priority(priority)?;
        }
        let (near, ahead) = match std::mem::replace(&mut self.phase, Phase::Adding) {
            Phase::Verified { near, ahead } => (near, ahead),
            other => {
                self.phase = other;
                return Err(phase_error("cluster needs every row verified, once"));
            }
        };
        let n = self.rows.len();
        let mut links: Vec<(u32, u32)> = self.exact_links().collect();
        links.extend(near.iter().map(|e| (e.a, e.b)));
        let clusters = clusters(n, &links, priority);
        drop(links);
        cancel.check()?;
        // Similarity to the representative: 1 for itself and exact copies,
        // the verified edge or the pair scored ahead where there is one,
        // else a score to compute.
        let exact_rep = &self.exact_rep;
        let edge_similarity = |a: u32, b: u32| -> Option<f64> {
            match near.binary_search_by_key(&(a, b), |e| (e.a, e.b)) {
                Ok(i) => Some(near[i].similarity),
                Err(_) => ahead
                    .binary_search_by_key(&(a, b), |&(pair, _)| pair)
                    .ok()
                    .map(|i| ahead[i].1),
            }
        };
        let known: Vec<Option<f64>> = (0..n)
            .into_par_iter()
            .map(|row| {
                let rep = clusters.representative[row];
                let (ca, cb) = (exact_rep[row], exact_rep[rep as usize]);
                if ca == cb {
                    Some(1.0)
                } else {
                    edge_similarity(ca.min(cb), ca.max(cb))
                }
            })
            .collect();
        drop(ahead);
        let similarity: Vec<f64> = known.iter().map(|s| s.unwrap_or(f64::NAN)).collect();
        let waiting: Vec<(u32, (u32, u32))> = known
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .map(|(row, _)| {
                let (ca, cb) = (
                    exact_rep[row],
                    exact_rep[clusters.representative[row] as usize],
                );
                (row as u32, (ca.min(cb), ca.max(cb)))
            })
            .collect();
        let count = waiting.len();
        if waiting.is_empty() {
            self.phase = Phase::Done {
                near,
                clusters,
                similarity,
            };
        } else {
            let scorer = PairScorer::new(
                self.sketcher.clone(),
                self.options.verify,
                0.0,
                n as u32,
                waiting.iter().map(|&(_, pair)| pair).collect(),
            )?;
            self.phase = Phase::Scoring {
                near,
                clusters,
                similarity,
                waiting,
                scorer,
            };
        }
        Ok(count)
    }

    /// The rows whose texts [`Self::score`] reads, ascending. Every row is
    /// still fed in order, but any text (an empty one) will do for the
    /// others, so a caller can skip reading them.
    pub fn rows_to_score(&self) -> Result<Vec<u32>> {
        match &self.phase {
            Phase::Scoring { scorer, .. } => Ok(scorer.rows_in_pairs().collect()),
            Phase::Done { .. } => Ok(Vec::new()),
            _ => Err(phase_error("rows_to_score needs cluster first")),
        }
    }

    /// Feeds the texts of the next rows to the scoring pass.
    pub fn score(&mut self, texts: &[&str], cancel: &Cancel) -> Result<()> {
        match &mut self.phase {
            Phase::Scoring { scorer, .. } => scorer.feed(texts, cancel),
            _ => Err(phase_error(
                "score is only needed when cluster returned rows to score",
            )),
        }
    }

    fn finish_scoring(&mut self) -> Result<()> {
        if let Phase::Scoring { scorer, .. } = &self.phase {
            if scorer.rows_fed() as usize != self.rows.len() {
                return Err(phase_error(&format!(
                    "scoring has seen {} of {} rows",
                    scorer.rows_fed(),
                    self.rows.len()
                )));
            }
            let Phase::Scoring {
                near,
                clusters,
                mut similarity,
                waiting,
                scorer,
            } = std::mem::replace(&mut self.phase, Phase::Adding)
            else {
                unreachable!("matched above")
            };
            let scored = scorer.finish()?;
            for (row, pair) in waiting {
                let i = scored
                    .binary_search_by_key(&pair, |&(p, _)| p)
                    .map_err(|_| Error::Internal("a scored pair is missing".into()))?;
                similarity[row as usize] = scored[i].1;
            }
            self.phase = Phase::Done {
                near,
                clusters,
                similarity,
            };
        }
        Ok(())
    }

    /// The per-row results and the edges.
    pub fn result(&mut self) -> Result<DedupResult> {
        self.finish_scoring()?;
        let edges = self.verified_edges()?;
        let Phase::Done {
            clusters,
            similarity,
            ..
        } = &self.phase
        else {
            return Err(phase_error(
                "result needs cluster (and score, when asked for) first",
            ));
        };
        let duplicate_of = clusters
            .representative
            .iter()
            .enumerate()
            .map(|(row, &rep)| (rep != row as u32).then_some(rep))
            .collect();
        Ok(DedupResult {
            exact_key: self.rows.exact_key.clone(),
            cluster_id: clusters.representative.clone(),
            cluster_size: clusters.size.clone(),
            duplicate_of,
            similarity: similarity.clone(),
            edges,
            banding: self.banding,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::dedup;
    use crate::hashsort::SORTED_ON_ONE_THREAD;

    /// Families of related texts: copies with edits, exact copies, short and
    /// empty rows.
    fn corpus() -> Vec<String> {
        let mut state = 9u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut texts = Vec::new();
        for family in 0..30 {
            let base: Vec<String> = (0..120).map(|_| format!("w{}", next() % 3000)).collect();
            for copy in 0..(1 + family % 5) {
                let mut words = base.clone();
                for _ in 0..copy * 2 {
                    let at = next() % words.len();
                    words[at] = format!("e{}", next() % 100);
                }
                texts.push(words.join(" "));
            }
            if family % 4 == 0 {
                texts.push(base.join("  ").to_uppercase());
            }
            if family % 6 == 0 {
                texts.push(String::new());
                texts.push("?!".into());
            }
        }
        texts
    }

    fn streamed(
        texts: &[&str],
        options: &DedupOptions,
        batch: usize,
        priority: Option<&[i64]>,
        restore: Option<&[Edge]>,
    ) -> DedupResult {
        streamed_guessing(texts, options, batch, priority, priority, restore).0
    }

    /// [`streamed`] whose `find_candidates` gets `guessed` as the priority,
    /// and the rows `cluster` left to score.
    fn streamed_guessing(
        texts: &[&str],
        options: &DedupOptions,
        batch: usize,
        guessed: Option<&[i64]>,
        priority: Option<&[i64]>,
        restore: Option<&[Edge]>,
    ) -> (DedupResult, usize) {
        let cancel = Cancel::new();
        let mut engine = DedupEngine::new(options).expect("engine");
        for chunk in texts.chunks(batch) {
            let sketches = engine.sketch(chunk, &cancel).expect("sketch");
            engine.add(sketches).expect("add");
        }
        match restore {
            Some(edges) => engine.restore_edges(edges).expect("restore"),
            None => {
                engine
                    .find_candidates(guessed, &cancel)
                    .expect("candidates");
                for chunk in texts.chunks(batch) {
                    engine.verify(chunk, &cancel).expect("verify");
                }
            }
        }
        let to_score = engine.cluster(priority, &cancel).expect("cluster");
        if to_score > 0 {
            for chunk in texts.chunks(batch) {
                engine.score(chunk, &cancel).expect("score");
            }
        }
        (engine.result().expect("result"), to_score)
    }

    /// The first row with each row's key (itself without content), the
    /// slow way.
    fn first_rows(keys: &[ExactKey], has_content: &[bool]) -> Vec<u32> {
        let mut first: std::collections::HashMap<ExactKey, u32> = Default::default();
        (0..keys.len())
            .map(|r| match has_content[r] {
                true => *first.entry(keys[r]).or_insert(r as u32),
                false => r as u32,
            })
            .collect()
    }

    fn exact_reps(keys: Vec<ExactKey>, has_content: Vec<bool>) -> Vec<u32> {
        let mut engine = DedupEngine::new(&DedupOptions::default()).expect("engine");
        let n = keys.len();
        let bands = engine.banding().bands;
        engine
            .add(RowSketches {
                exact_key: keys,
                has_content,
                has_shingles: vec![false; n],
                band_keys: vec![0; n * bands],
                bands,
            })
            .expect("add");
        engine.resolve_exact_duplicates();
        engine.exact_rep
    }

    #[test]
    fn exact_duplicates_link_to_the_first_row_with_their_key() {
        // Keys that often share their top 32 bits but differ below, and
        // rows without content; then enough rows for the parallel sort.
        for n in [3000, SORTED_ON_ONE_THREAD + 5000] {
            let mut state = n as u64;
            let mut next = move || {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                state >> 33
            };
            let keys: Vec<ExactKey> = (0..n)
                .map(|_| (ExactKey::from(next() % 40) << 96) | ExactKey::from(next() % 3000))
                .collect();
            let has_content: Vec<bool> = (0..n).map(|_| next() % 10 != 0).collect();
            let expected = first_rows(&keys, &has_content);
            assert!(expected.iter().enumerate().any(|(r, &f)| f != r as u32));
            assert_eq!(exact_reps(keys, has_content), expected, "{n} rows");
        }
    }

    #[test]
    fn streaming_in_any_batches_equals_in_memory() {
        let texts = corpus();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let options = DedupOptions {
            threshold: 0.7,
            ..DedupOptions::default()
        };
        let whole = dedup(&refs, &options).expect("dedup");
        assert!(whole.edges.iter().filter(|e| !e.exact).count() > 20);
        assert!(whole.edges.iter().any(|e| e.exact));
        for batch in [1, 7, 64, refs.len()] {
            assert_eq!(
                streamed(&refs, &options, batch, None, None),
                whole,
                "batch {batch}"
            );
        }
        // Restored edges give the same result without verification.
        assert_eq!(
            streamed(&refs, &options, 13, None, Some(&whole.edges)),
            whole
        );
    }

    #[test]
    fn priority_picks_representatives_and_scores_them() {
        let texts = corpus();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let options = DedupOptions {
            threshold: 0.7,
            ..DedupOptions::default()
        };
        let longest: Vec<i64> = refs.iter().map(|t| t.len() as i64).collect();
        let whole =
            crate::dedup::dedup_with_priority(&refs, &options, Some(&longest), &Cancel::new())
                .expect("dedup");
        assert_eq!(streamed(&refs, &options, 5, Some(&longest), None), whole);
        let sketcher = Sketcher::new(options.ngram, options.num_perm, options.seed);
        for row in 0..refs.len() {
            let rep = whole.cluster_id[row] as usize;
            // The representative is the longest of its cluster, lowest row on ties.
            for other in 0..refs.len() {
                if whole.cluster_id[other] as usize == rep {
                    assert!(
                        longest[other] < longest[rep]
                            || (longest[other] == longest[rep] && other >= rep)
                    );
                }
            }
            // Similarity is to the representative, computed exactly.
            if rep != row && whole.exact_key[rep] != whole.exact_key[row] {
                let expected = crate::dedup::verify::jaccard::jaccard(
                    &sketcher.shingle_set(refs[row]),
                    &sketcher.shingle_set(refs[rep]),
                );
                assert_eq!(whole.similarity[row], expected);
            }
        }
        assert!(whole.duplicate_of.iter().flatten().count() > 10);
    }

    #[test]
    fn verification_scores_ahead_what_the_representatives_need() {
        let texts = corpus();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let options = DedupOptions {
            threshold: 0.7,
            ..DedupOptions::default()
        };
        let latest: Vec<i64> = (0..refs.len() as i64).collect();
        let shortest: Vec<i64> = refs.iter().map(|t| -(t.len() as i64)).collect();
        let priorities = [None, Some(&latest[..]), Some(&shortest[..])];
        let (mut right_guesses_scored, mut wrong_guesses_scored) = (0, 0);
        for priority in priorities {
            let whole =
                crate::dedup::dedup_with_priority(&refs, &options, priority, &Cancel::new())
                    .expect("dedup");
            // Guessed right, the scoring pass is left only the groups that
            // verification split.
            let (result, right) = streamed_guessing(&refs, &options, 5, priority, priority, None);
            assert_eq!(result, whole);
            right_guesses_scored += right;
            // Guessed wrong (or not at all), it scores what is missing.
            for guessed in priorities.into_iter().filter(|&g| g != priority) {
                let (result, wrong) =
                    streamed_guessing(&refs, &options, 7, guessed, priority, None);
                assert_eq!(result, whole);
                assert!(right <= wrong, "{right} > {wrong}");
                wrong_guesses_scored += wrong;
            }
            // Restored edges carry no scores ahead.
            let (result, restored) =
                streamed_guessing(&refs, &options, 9, priority, priority, Some(&whole.edges));
            assert_eq!(result, whole);
            assert!(right <= restored, "{right} > {restored}");
        }
        assert!(
            right_guesses_scored * 2 < wrong_guesses_scored,
            "{right_guesses_scored} rows to score guessed right, {wrong_guesses_scored} wrong"
        );
    }

    #[test]
    fn passes_out_of_order_are_errors() {
        let options = DedupOptions::default();
        let cancel = Cancel::new();
        let mut engine = DedupEngine::new(&options).expect("engine");
        assert!(engine.verify(&["a"], &cancel).is_err());
        assert!(engine.result().is_err());
        // Same shingles, different exact keys: a certain candidate pair.
        let texts = ["a b c d e f", "a, b, c, d, e, f"];
        let sketches = engine.sketch(&texts, &cancel).expect("sketch");
        engine.add(sketches.clone()).expect("add");
        assert_eq!(
            engine.find_candidates(None, &cancel).expect("candidates"),
            1
        );
        assert!(engine.add(sketches).is_err());
        // Not every row verified yet.
        assert!(engine.cluster(None, &cancel).is_err());
        engine.verify(&texts, &cancel).expect("verify");
        assert_eq!(engine.cluster(None, &cancel).expect("cluster"), 0);
        let result = engine.result().expect("result");
        assert_eq!(result.duplicate_of, vec![None, Some(0)]);
    }

    #[test]
    fn verification_without_candidates_needs_no_texts() {
        let cancel = Cancel::new();
        let mut engine = DedupEngine::new(&DedupOptions::default()).expect("engine");
        let texts = ["one two three", "one two three", "four five six seven"];
        let sketches = engine.sketch(&texts, &cancel).expect("sketch");
        engine.add(sketches).expect("add");
        assert_eq!(
            engine.find_candidates(None, &cancel).expect("candidates"),
            0
        );
        assert_eq!(engine.verified_edges().expect("edges").len(), 1);
        assert_eq!(engine.cluster(None, &cancel).expect("cluster"), 0);
        assert_eq!(engine.result().expect("result").cluster_size, vec![2, 2, 1]);
    }

    #[test]
    fn restored_edges_must_match_the_rows() {
        let options = DedupOptions::default();
        let cancel = Cancel::new();
        let mut engine = DedupEngine::new(&options).expect("engine");
        let sketches = engine
            .sketch(&["one two", "three four"], &cancel)
            .expect("sketch");
        engine.add(sketches).expect("add");
        let wrong = [Edge {
            a: 0,
            b: 1,
            similarity: 1.0,
            exact: true,
        }];
        assert!(engine.restore_edges(&wrong).is_err());
    }
}

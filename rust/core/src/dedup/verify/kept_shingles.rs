//! Shingle hashes kept from the sketch pass for the verification pass, so
//! that verifying a row needs no second scan of its text.
//!
//! The hashes of consecutive rows are stored back to back in blocks of
//! [`BLOCK_ROWS`] rows: one allocation per block, not per row, and blocks
//! can be sketched in parallel and released as verification moves past them.

/// Rows per block.
pub const BLOCK_ROWS: usize = 64;

/// The shingle hashes of up to [`BLOCK_ROWS`] consecutive rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptBlock {
    /// The rows' hashes, row after row (in text order, repeats kept).
    hashes: Vec<u64>,
    /// Where each row's hashes end in `hashes`.
    ends: Vec<usize>,
}

impl KeptBlock {
    /// An empty block with room for about `hashes` hashes.
    pub fn with_capacity(hashes: usize) -> Self {
        Self {
            hashes: Vec::with_capacity(hashes),
            ends: Vec::with_capacity(BLOCK_ROWS),
        }
    }

    /// The buffer the next row's hashes are appended to; call
    /// [`Self::end_row`] after appending them.
    pub fn hashes_mut(&mut self) -> &mut Vec<u64> {
        &mut self.hashes
    }

    /// Ends the row whose hashes were appended last.
    pub fn end_row(&mut self) {
        self.ends.push(self.hashes.len());
    }

    /// Rows in the block.
    pub fn rows(&self) -> usize {
        self.ends.len()
    }

    fn range(&self, row: usize) -> std::ops::Range<usize> {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        start..self.ends[row]
    }

    /// Keeps the first `rows` rows.
    fn truncate(&mut self, rows: usize) {
        if rows < self.ends.len() {
            self.ends.truncate(rows);
            self.hashes.truncate(self.ends.last().copied().unwrap_or(0));
        }
    }
}

/// The kept shingle hashes of consecutive rows; row `i` is the `i`-th row
/// they were kept for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptShingles {
    /// Full blocks of [`BLOCK_ROWS`] rows, then at most one shorter block.
    blocks: Vec<KeptBlock>,
    rows: usize,
    /// Rows before this were released (their blocks dropped).
    released: usize,
}

impl KeptShingles {
    /// The rows of `blocks`, in order; every block but the last must hold
    /// [`BLOCK_ROWS`] rows.
    pub fn from_blocks(blocks: Vec<KeptBlock>) -> Self {
        let rows = blocks.iter().map(KeptBlock::rows).sum();
        debug_assert!(blocks.iter().rev().skip(1).all(|b| b.rows() == BLOCK_ROWS));
        Self {
            blocks,
            rows,
            released: 0,
        }
    }

    /// Rows kept (released ones included).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was kept.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The hashes of `row` (empty once released).
    pub fn row(&self, row: usize) -> &[u64] {
        if row < self.released {
            return &[];
        }
        let block = &self.blocks[row / BLOCK_ROWS];
        &block.hashes[block.range(row % BLOCK_ROWS)]
    }

    /// Bytes of hashes the rows before `rows` hold.
    pub fn bytes_before(&self, rows: usize) -> usize {
        let rows = rows.min(self.rows);
        let full = rows / BLOCK_ROWS;
        let whole: usize = self.blocks[..full].iter().map(|b| b.hashes.len()).sum();
        let part = match (rows % BLOCK_ROWS, self.blocks.get(full)) {
            (0, _) | (_, None) => 0,
            (r, Some(block)) => block.ends[r - 1],
        };
        (whole + part) * 8
    }

    /// The number of leading rows whose hashes fit in `budget` bytes.
    pub fn rows_within(&self, budget: usize) -> usize {
        // Bytes before a row grow with the row: find the last that fits.
        let (mut low, mut high) = (0, self.rows);
        while low < high {
            let mid = low + (high - low).div_ceil(2);
            if self.bytes_before(mid) <= budget {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        low
    }

    /// Keeps the first `rows` rows.
    pub fn truncate(&mut self, rows: usize) {
        if rows >= self.rows {
            return;
        }
        let blocks = rows.div_ceil(BLOCK_ROWS);
        self.blocks.truncate(blocks);
        if let Some(last) = self.blocks.last_mut() {
            last.truncate(rows - (blocks - 1) * BLOCK_ROWS);
        }
        self.blocks.shrink_to_fit();
        self.rows = rows;
    }

    /// Drops the hashes of the rows before `rows` that share no block with
    /// a later row.
    pub fn release_before(&mut self, rows: usize) {
        let rows = rows.min(self.rows);
        let whole = if rows == self.rows {
            self.blocks.len()
        } else {
            rows / BLOCK_ROWS
        };
        for block in &mut self.blocks[..whole] {
            *block = KeptBlock::default();
        }
        self.released = self.released.max(whole * BLOCK_ROWS).min(self.rows);
    }

    /// Calls `f(row, hashes)` for each row of `rows` (ascending, kept, not
    /// released), with mutable access to its hashes, in parallel by block,
    /// and returns the results in the order of `rows`.
    pub fn map_rows_mut<T: Send>(
        &mut self,
        rows: &[usize],
        f: impl Fn(usize, &mut [u64]) -> T + Sync,
    ) -> Vec<T> {
        use rayon::prelude::*;
        debug_assert!(rows.windows(2).all(|w| w[0] < w[1]));
        debug_assert!(rows.first().is_none_or(|&r| r >= self.released));
        // The rows of each block: a run of `rows`.
        let mut per_block: Vec<(&mut KeptBlock, usize, &[usize])> = Vec::new();
        let mut rest = rows;
        for (b, block) in self.blocks.iter_mut().enumerate() {
            if rest.is_empty() {
                break;
            }
            let first = b * BLOCK_ROWS;
            let count = rest.partition_point(|&r| r < first + BLOCK_ROWS);
            if count > 0 {
                let (mine, later) = rest.split_at(count);
                per_block.push((block, first, mine));
                rest = later;
            }
        }
        assert!(rest.is_empty(), "row {} was not kept", rest[0]);
        let nested: Vec<Vec<T>> = per_block
            .into_par_iter()
            .map(|(block, first, mine)| {
                mine.iter()
                    .map(|&row| {
                        let range = block.range(row - first);
                        f(row, &mut block.hashes[range])
                    })
                    .collect()
            })
            .collect();
        nested.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `0..n`, row `r` holding `r % 5` hashes `r * 10 + i`.
    fn kept(n: usize) -> KeptShingles {
        let blocks = (0..n)
            .step_by(BLOCK_ROWS)
            .map(|first| {
                let mut block = KeptBlock::with_capacity(0);
                for r in first..(first + BLOCK_ROWS).min(n) {
                    block
                        .hashes_mut()
                        .extend((0..r % 5).map(|i| (r * 10 + i) as u64));
                    block.end_row();
                }
                block
            })
            .collect();
        KeptShingles::from_blocks(blocks)
    }

    fn expected(r: usize) -> Vec<u64> {
        (0..r % 5).map(|i| (r * 10 + i) as u64).collect()
    }

    #[test]
    fn rows_read_back_across_blocks() {
        let k = kept(3 * BLOCK_ROWS + 7);
        assert_eq!(k.len(), 3 * BLOCK_ROWS + 7);
        for r in 0..k.len() {
            assert_eq!(k.row(r), expected(r), "row {r}");
        }
        let bytes: usize = (0..k.len()).map(|r| (r % 5) * 8).sum();
        assert_eq!(k.bytes_before(k.len()), bytes);
        assert_eq!(
            k.bytes_before(BLOCK_ROWS + 3),
            (0..BLOCK_ROWS + 3).map(|r| (r % 5) * 8).sum::<usize>()
        );
    }

    #[test]
    fn budget_truncate_and_release() {
        let mut k = kept(2 * BLOCK_ROWS + 10);
        for budget in [0, 8, 100, 1000, usize::MAX] {
            let rows = k.rows_within(budget);
            assert!(k.bytes_before(rows) <= budget);
            assert!(rows == k.len() || k.bytes_before(rows + 1) > budget);
        }
        k.truncate(BLOCK_ROWS + 5);
        assert_eq!(k.len(), BLOCK_ROWS + 5);
        assert_eq!(k.row(BLOCK_ROWS + 4), expected(BLOCK_ROWS + 4));
        k.release_before(BLOCK_ROWS + 1);
        assert!(k.row(3).is_empty());
        assert_eq!(k.row(BLOCK_ROWS + 1), expected(BLOCK_ROWS + 1));
        k.release_before(k.len());
        assert!(k.row(BLOCK_ROWS + 1).is_empty());
    }

    #[test]
    fn rows_are_mapped_in_place_in_order() {
        let mut k = kept(3 * BLOCK_ROWS);
        let rows: Vec<usize> = (0..k.len()).filter(|r| r % 3 == 1).collect();
        let sums = k.map_rows_mut(&rows, |row, hashes| {
            hashes.iter_mut().for_each(|h| *h += 1);
            (row, hashes.len())
        });
        assert_eq!(sums, rows.iter().map(|&r| (r, r % 5)).collect::<Vec<_>>());
        for r in 0..k.len() {
            let mut want = expected(r);
            if r % 3 == 1 {
                want.iter_mut().for_each(|h| *h += 1);
            }
            assert_eq!(k.row(r), want);
        }
    }
}

//! Clusters of duplicate rows: union-find whose root is always the lowest row
//! of its set, so results do not depend on the order of unions, and the
//! choice of each cluster's representative by a keep policy.

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

/// Union-find shared by threads: unions run in parallel (lock-free, by
/// compare-and-swap) and the root of a set is its
/// lowest row, so the sets and their roots do not depend on the order or
/// interleaving of unions.
#[derive(Debug)]
pub struct ConcurrentUnionFind {
    parent: Vec<AtomicU32>,
}

impl ConcurrentUnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).map(AtomicU32::new).collect(),
        }
    }

    /// The lowest row of the set holding `row`. Halves the path on the way
    /// (a parent is only ever replaced by one of its ancestors).
    pub fn find(&self, mut row: u32) -> u32 {
        loop {
            let parent = self.parent[row as usize].load(Ordering::Acquire);
            if parent == row {
                return row;
            }
            let grandparent = self.parent[parent as usize].load(Ordering::Acquire);
            if grandparent != parent {
                let _ = self.parent[row as usize].compare_exchange(
                    parent,
                    grandparent,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
            }
            row = parent;
        }
    }

    /// Merges the sets of `a` and `b`; the lower root becomes the root.
    pub fn union(&self, a: u32, b: u32) {
        loop {
            let (ra, rb) = (self.find(a), self.find(b));
            if ra == rb {
                return;
            }
            let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
            // Only a root may be linked; if `high` stopped being one, retry.
            if self.parent[high as usize]
                .compare_exchange(high, low, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// The root of every row, computed in parallel.
    pub fn roots(&self) -> Vec<u32> {
        (0..self.parent.len() as u32)
            .into_par_iter()
            .map(|row| self.find(row))
            .collect()
    }
}

/// Clusters of rows and their representatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clusters {
    /// The representative of each row's cluster (the row itself for singletons).
    pub representative: Vec<u32>,
    /// Number of rows in each row's cluster.
    pub size: Vec<u32>,
}

/// Joins `n` rows along `edges` (in parallel) and picks each cluster's
/// representative: the row with the highest `priority`, ties (and no
/// priority at all) going to the lowest row. The result depends only on the
/// set of edges, never on their order or on the thread count.
pub fn clusters(n: usize, edges: &[(u32, u32)], priority: Option<&[i64]>) -> Clusters {
    let uf = ConcurrentUnionFind::new(n);
    edges.par_iter().for_each(|&(a, b)| uf.union(a, b));
    let roots = uf.roots();
    let mut size = vec![0u32; n];
    for &root in &roots {
        size[root as usize] += 1;
    }
    // The best row of each set, kept at its root. Rows are visited in order,
    // so a tie keeps the lower row.
    let mut best: Vec<u32> = (0..n as u32).collect();
    if let Some(priority) = priority {
        for (row, &root) in roots.iter().enumerate() {
            let current = best[root as usize] as usize;
            if priority[row] > priority[current] {
                best[root as usize] = row as u32;
            }
        }
    }
    let representative = roots.par_iter().map(|&root| best[root as usize]).collect();
    let size = roots.par_iter().map(|&root| size[root as usize]).collect();
    Clusters {
        representative,
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Sequential union-find, the reference the concurrent one is checked
    /// against: disjoint sets over rows `0..n`, the root of a set its lowest row.
    #[derive(Debug, Clone)]
    pub struct UnionFind {
        parent: Vec<u32>,
    }

    impl UnionFind {
        /// `n` singleton sets.
        pub fn new(n: usize) -> Self {
            Self {
                parent: (0..n as u32).collect(),
            }
        }

        /// The lowest row of the set holding `row`.
        pub fn find(&mut self, row: u32) -> u32 {
            let mut root = row;
            while self.parent[root as usize] != root {
                root = self.parent[root as usize];
            }
            // Path compression.
            let mut current = row;
            while self.parent[current as usize] != root {
                let next = self.parent[current as usize];
                self.parent[current as usize] = root;
                current = next;
            }
            root
        }

        /// Merges the sets of `a` and `b`; the lower root becomes the root.
        pub fn union(&mut self, a: u32, b: u32) {
            let (ra, rb) = (self.find(a), self.find(b));
            if ra != rb {
                let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
                self.parent[high as usize] = low;
            }
        }

        /// Root of every row, and the size of every row's set.
        pub fn roots_and_sizes(&mut self) -> (Vec<u32>, Vec<u32>) {
            let n = self.parent.len();
            let roots: Vec<u32> = (0..n as u32).map(|r| self.find(r)).collect();
            let mut counts = vec![0u32; n];
            for &r in &roots {
                counts[r as usize] += 1;
            }
            let sizes = roots.iter().map(|&r| counts[r as usize]).collect();
            (roots, sizes)
        }
    }

    #[test]
    fn lowest_row_represents_its_set() {
        let mut uf = UnionFind::new(6);
        uf.union(4, 2);
        uf.union(5, 4);
        uf.union(3, 1);
        let (roots, sizes) = uf.roots_and_sizes();
        assert_eq!(roots, vec![0, 1, 2, 1, 2, 2]);
        assert_eq!(sizes, vec![1, 2, 3, 2, 3, 3]);
    }

    proptest! {
        #[test]
        fn roots_do_not_depend_on_union_order(
            edges in prop::collection::vec((0u32..50, 0u32..50), 0..80),
            rotation in 0usize..80,
        ) {
            let mut forward = UnionFind::new(50);
            for &(a, b) in &edges { forward.union(a, b); }
            let mut shuffled = edges.clone();
            if !shuffled.is_empty() {
                let k = rotation % shuffled.len();
                shuffled.rotate_left(k);
                shuffled.reverse();
            }
            let mut other = UnionFind::new(50);
            for &(a, b) in &shuffled { other.union(b, a); }
            let (r1, _) = forward.roots_and_sizes();
            let (r2, _) = other.roots_and_sizes();
            prop_assert_eq!(&r1, &r2);
            for (row, &root) in r1.iter().enumerate() {
                prop_assert!(root as usize <= row);
            }
            // The concurrent union-find, on many threads, agrees.
            let concurrent = ConcurrentUnionFind::new(50);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().expect("pool");
            pool.install(|| shuffled.par_iter().for_each(|&(a, b)| concurrent.union(a, b)));
            prop_assert_eq!(&concurrent.roots(), &r1);
        }
    }

    #[test]
    fn representatives_follow_priority_then_lowest_row() {
        let edges = [(0, 2), (2, 4), (1, 3)];
        let first = clusters(6, &edges, None);
        assert_eq!(first.representative, vec![0, 1, 0, 1, 0, 5]);
        assert_eq!(first.size, vec![3, 2, 3, 2, 3, 1]);
        let priority = [5, 1, 9, 1, 9, 0];
        let ranked = clusters(6, &edges, Some(&priority));
        // 2 and 4 tie at 9: the lower row wins; 1 and 3 tie: 1 wins.
        assert_eq!(ranked.representative, vec![2, 1, 2, 1, 2, 5]);
        assert_eq!(ranked.size, first.size);
    }

    #[test]
    fn many_threads_join_a_long_chain() {
        let n = 20_000u32;
        let edges: Vec<(u32, u32)> = (1..n).rev().map(|b| (b - 1, b)).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(8)
            .build()
            .expect("pool");
        let result = pool.install(|| clusters(n as usize, &edges, None));
        assert!(result.representative.iter().all(|&r| r == 0));
        assert!(result.size.iter().all(|&s| s == n));
    }
}

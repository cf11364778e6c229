//! Clusters of duplicate rows: union-find whose representative is always the
//! lowest row of its set, so results do not depend on the order of unions.

/// Disjoint sets over rows `0..n`; the root of a set is its lowest row.
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        }
    }
}

//! Give the heap's free memory back to the operating system.
//!
//! glibc's allocator keeps memory that Rust code freed (the verify pass's
//! shingle sets, for one) in its arenas, and Polars allocates from another
//! allocator that cannot reuse it, so without this the freed memory stays in
//! the process's resident set until it exits.

/// Return the free pages of the C heap to the operating system (glibc's
/// `malloc_trim`); does nothing with other C libraries. Cheap next to a pass
/// over a corpus: call it when a pass has dropped large structures.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only inspects and shrinks the allocator's own free
    // lists; it takes no pointers and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_keeps_live_allocations_intact() {
        let kept: Vec<Vec<u64>> = (0..1000).map(|i| vec![i; 1000]).collect();
        let freed: Vec<Vec<u64>> = (0..1000).map(|i| vec![i; 1000]).collect();
        drop(freed);
        release_free_memory();
        assert!(kept
            .iter()
            .enumerate()
            .all(|(i, v)| v.iter().all(|&x| x == i as u64)));
    }
}

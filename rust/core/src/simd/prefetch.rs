//! Hints to bring memory into the cache ahead of use. They change no
//! result: verification reads shingle hashes written long before (in the
//! sketch pass), and the start of each list is a cache miss that the
//! hardware prefetcher, which follows a list once it is read, cannot foresee.

/// Cache lines of a list that [`prefetch_start`] asks for.
const LINES: usize = 4;

/// Values of a list in a 64-byte cache line.
const VALUES_PER_LINE: usize = 8;

/// A hint to bring the first cache lines of `values` in.
#[inline]
pub fn prefetch_start(values: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    for line in values.chunks(VALUES_PER_LINE).take(LINES) {
        // SAFETY: a prefetch dereferences nothing, and SSE is part of x86_64.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

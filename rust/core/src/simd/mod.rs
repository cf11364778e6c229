//! CPU features checked at run time, so that one portable build takes the
//! vector kernels where the CPU has them (each kernel gives the same values
//! as its portable twin).

/// Whether the CPU has AVX-512F and POPCNT: the 512-bit integer kernels of
/// the set sort's compaction and of the Jaccard merge.
pub fn has_avx512f_popcnt() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has AVX2 and POPCNT: the 256-bit Jaccard merge, for CPUs
/// without AVX-512.
pub fn has_avx2_popcnt() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
pub mod prefetch;

//! Which vector kernels this CPU runs, decided once at run time, so that one
//! portable build takes the widest kernels the CPU has. Every kernel gives
//! the same values as its portable twin; only the speed differs.
//!
//! The CPU's [`Level`] is one of a few sets of features, each written once
//! (in [`levels!`]'s invocation below) and each containing the one before.
//! Kernels use them in two ways:
//!
//! * a kernel is defined under [`kernel!`]`(avx2; ...)`, which compiles it
//!   with exactly its level's `#[target_feature]`s;
//! * a caller picks the widest kernel the CPU can run with [`dispatch!`],
//!   which checks [`level`] and then calls that kernel.
//!
//! So the features a kernel is compiled with and the features checked
//! before it is called can never differ.
//!
//! [`prefetch`] asks for memory ahead of use.

pub mod prefetch;

use std::sync::atomic::{AtomicU8, Ordering};

/// Defines [`Level`] from its feature lists, and the [`kernel!`] macro that
/// compiles a function with one level's features.
macro_rules! levels {
    ($($(#[$doc:meta])* $level:ident ($tag:ident): [$($feature:tt),+];)+) => {
        /// A set of CPU features some kernels need, from none to the most;
        /// each level has every feature of the levels below it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum Level {
            /// No vector extension beyond the target's baseline.
            Portable,
            $($(#[$doc])* $level,)+
        }

        impl Level {
            /// Every level, from the least to the most.
            pub const ALL: &'static [Level] = &[Level::Portable, $(Level::$level),+];

            /// The CPU features of this level, as `#[target_feature]` names.
            pub fn features(self) -> &'static [&'static str] {
                match self {
                    Level::Portable => &[],
                    $(Level::$level => &[$($feature),+],)+
                }
            }

            /// Whether the CPU has every feature of this level (asked of
            /// the CPU, not cached; [`level`] caches the answer).
            fn detected(self) -> bool {
                match self {
                    Level::Portable => true,
                    #[cfg(target_arch = "x86_64")]
                    $(Level::$level => true $(&& std::arch::is_x86_feature_detected!($feature))+,)+
                    #[cfg(not(target_arch = "x86_64"))]
                    _ => false,
                }
            }
        }

        /// Compiles the function that follows with the `#[target_feature]`s
        /// of one level, named by its tag (`avx2`, `avx512`, `avx512vbmi`),
        /// on x86_64 only. Call it through [`dispatch!`], which checks the
        /// same level first.
        macro_rules! kernel {
            $(
                ($tag; $item:item) => {
                    #[cfg(target_arch = "x86_64")]
                    $(#[target_feature(enable = $feature)])+
                    $item
                };
            )+
        }
        pub(crate) use kernel;
    };
}

levels! {
    /// AVX2 with BMI1, BMI2 and POPCNT (x86-64-v3).
    Avx2 (avx2): ["avx2", "bmi1", "bmi2", "popcnt"];
    /// AVX-512 F, BW, DQ and VL, with everything of [`Level::Avx2`].
    Avx512 (avx512): [
        "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "bmi1", "bmi2", "popcnt"
    ];
    /// [`Level::Avx512`] with AVX-512 VBMI (byte permutes).
    Avx512Vbmi (avx512vbmi): [
        "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512vbmi", "avx2", "bmi1", "bmi2",
        "popcnt"
    ];
}

/// No level decided yet.
const UNKNOWN: u8 = u8::MAX;

/// The level [`level`] decided, or [`UNKNOWN`].
static LEVEL: AtomicU8 = AtomicU8::new(UNKNOWN);

/// The widest level this CPU runs, decided on the first call (one atomic
/// load after that).
#[inline]
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        UNKNOWN => {
            let level = Level::ALL
                .iter()
                .rev()
                .copied()
                .find(|level| level.detected())
                .unwrap_or(Level::Portable);
            LEVEL.store(level as u8, Ordering::Relaxed);
            level
        }
        known => Level::ALL[usize::from(known)],
    }
}

impl Level {
    /// Whether this CPU runs kernels of this level.
    pub fn runs_here(self) -> bool {
        self <= level()
    }
}

/// Calls the kernel of the widest level the CPU runs, else the portable
/// expression: `dispatch!(Avx512 => kernel_avx512(x), Avx2 =>
/// kernel_avx2(x); else portable(x))`, levels from the widest down. Each
/// kernel must be defined with [`kernel!`] for its level (its feature list
/// is then the one checked here).
macro_rules! dispatch {
    ($($level:ident => $kernel:expr),+ ; else $portable:expr $(,)?) => {
        'dispatch: {
            #[cfg(target_arch = "x86_64")]
            {
                let cpu = $crate::simd::level();
                $(
                    if cpu >= $crate::simd::Level::$level {
                        // SAFETY: the CPU has every feature of this level,
                        // which are the features the kernel enables.
                        break 'dispatch unsafe { $kernel };
                    }
                )+
            }
            $portable
        }
    };
}
pub(crate) use dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_contain_the_levels_below() {
        for pair in Level::ALL.windows(2) {
            let (lower, higher) = (pair[0], pair[1]);
            assert!(lower < higher);
            for feature in lower.features() {
                assert!(
                    higher.features().contains(feature),
                    "{higher:?} lacks {feature}"
                );
            }
        }
    }

    #[test]
    fn the_level_is_the_widest_detected() {
        let level = level();
        assert_eq!(level, super::level(), "cached");
        assert!(level.detected());
        for &other in Level::ALL {
            assert_eq!(other.runs_here(), other <= level);
        }
        if let Some(&above) = Level::ALL.get(level as usize + 1) {
            assert!(!above.detected());
        }
    }
}

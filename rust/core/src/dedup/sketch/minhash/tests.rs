use super::portable::{
    bin_of, later_bin, later_hash, later_multipliers, later_words, random_rounds_end,
};
use super::*;
use crate::dedup::verify::jaccard::jaccard;
use crate::simd::Level;
use crate::text::shingle_set;
use proptest::prelude::*;

#[test]
fn signatures_are_deterministic_and_seeded() {
    let s = shingle_set("the quick brown fox jumps over the lazy dog again", 3);
    let h = MinHasher::new(64, 7);
    assert_eq!(h.signature(&s), MinHasher::new(64, 7).signature(&s));
    assert_ne!(h.signature(&s), MinHasher::new(64, 8).signature(&s));
    assert!(h.signature(&[]).iter().all(|&v| v == u32::MAX));
    assert_eq!(estimated_jaccard(&h.signature(&[]), &h.signature(&[])), 0.0);
    assert!(MinHasher::new(0, 1).signature(&s).is_empty());
    // Duplicates and order do not matter.
    let mut doubled: Vec<u64> = s.iter().rev().copied().collect();
    doubled.extend_from_slice(&s);
    assert_eq!(h.signature(&doubled), h.signature(&s));
    // A single shingle fills every bin (through the fixed rounds).
    assert!(h.signature(&s[..1]).iter().all(|&v| v != u32::MAX));
}

#[test]
fn outputs_of_any_length_get_every_value_written() {
    let h = MinHasher::new(16, 5);
    let set: Vec<u64> = (0..40).map(|i| i * 7919).collect();
    let full = h.signature(&set);
    // Longer than the width: the values past it are `u32::MAX`.
    let mut long = vec![0u32; 20];
    h.signature_into(&set, &mut long);
    assert_eq!(&long[..16], full.as_slice());
    assert!(long[16..].iter().all(|&v| v == u32::MAX));
    // Shorter: the first values of the same signature.
    let mut short = vec![0u32; 10];
    h.signature_into(&set, &mut short);
    assert_eq!(short.as_slice(), &full[..10]);
    // Not yet written: every value is, for a set and for the empty set.
    for (shingles, want) in [(&set[..], full.clone()), (&[][..], vec![u32::MAX; 16])] {
        let mut slots = vec![std::mem::MaybeUninit::<u32>::uninit(); 18];
        h.signature_into_uninit(shingles, &mut slots);
        // SAFETY: `signature_into_uninit` writes every slot.
        let got: Vec<u32> = slots.iter().map(|v| unsafe { v.assume_init() }).collect();
        assert_eq!(&got[..16], want.as_slice());
        assert_eq!(&got[16..], &[u32::MAX; 2]);
    }
}

#[test]
fn signature_values_are_pinned() {
    // Signatures must be identical across builds and CPUs; stored
    // signatures depend on these values (tokeniser, shingle hash, seed
    // stream and sketch together). Changed with the word hash (see
    // `text::tests::shingle_hashes_are_stable`), then with the later
    // rounds' multiply-add hash (format 4: the short texts here changed,
    // the long one, filled by round 0, did not), then with the end of the
    // random rounds at `k / 8` (format 5: at width 8 there are none, every
    // bin round 0 leaves is filled on its own; `fox_128` pins the rounds
    // and the fill at the default width). A change here must raise
    // `sketch::SKETCH_FORMAT`.
    let h = MinHasher::new(8, DEFAULT_SEED);
    let fox = shingle_set("The quick brown fox jumps over the lazy dog", 5);
    let short = shingle_set("Fréchet means", 5);
    let long = shingle_set(&words_text(&(0..300).collect::<Vec<_>>()), 5);
    let long = MinHasher::new(128, DEFAULT_SEED).signature(&long);
    let fox_128 = MinHasher::new(128, DEFAULT_SEED).signature(&fox);
    assert_eq!(
        (&fox_128[..8], &fox_128[120..]),
        (
            &[
                5856253, 21401182, 397430947, 113878434, 1373263159, 11184793, 1278922836,
                918738534
            ][..],
            &[
                2590927138, 4067594182, 376035657, 2980898367, 4185166050, 4194892364, 4240021024,
                4274606035
            ][..]
        )
    );
    assert_eq!(
        (
            h.signature(&fox),
            h.signature(&short),
            &long[..8],
            &long[120..]
        ),
        (
            vec![
                1373263159, 2307490241, 288902743, 518538006, 907090654, 766591526, 1700527931,
                5856253
            ],
            vec![
                137893404, 3901251421, 3746617782, 3889817215, 2142290805, 2017403478, 584955354,
                3024590125
            ],
            &[
                44086024, 168469390, 1249241638, 815025368, 154881420, 210562348, 573208056,
                2390293455
            ][..],
            &[
                2761631611, 1410959118, 124137891, 2432460390, 2405954952, 2175566322, 518939865,
                585116898
            ][..]
        )
    );
}

/// The kernel written the slow way: every round to the end, no chunks.
fn naive(h: &MinHasher, shingles: &[u64]) -> Vec<u32> {
    let k = h.num_perm();
    let keys = &h.round_keys;
    let end = random_rounds_end(k);
    let mut acc = vec![EMPTY; k];
    for round in 0..end + k {
        for &x in shingles {
            let (b, v) = if round == 0 {
                let z = mix64(x.wrapping_add(keys[0]));
                (bin_of(z, k), z & 0xFFFF_FFFF)
            } else {
                let (p, q) = later_words(x, keys[1]);
                if round < end {
                    let u = later_hash(p, q, later_multipliers(keys[round]));
                    (later_bin(u, k), u64::from(u))
                } else {
                    let b = round - end;
                    (
                        b,
                        u64::from(later_hash(p, q, later_multipliers(keys[k + b]))),
                    )
                }
            };
            acc[b] = acc[b].min(((round as u64) << 32) | v);
        }
    }
    acc.iter().map(|&v| v as u32).collect()
}

/// Checks every kernel the CPU can run against [`naive`].
fn check_every_path(num_perm: usize, seed: u64, shingles: &[u64]) -> Result<(), TestCaseError> {
    let h = MinHasher::new(num_perm, seed);
    let expected = naive(&h, shingles);
    let values = |kernel: &dyn Fn(&mut [u64])| {
        let mut acc = vec![EMPTY; num_perm];
        if !shingles.is_empty() {
            kernel(&mut acc);
        }
        acc.iter().map(|&v| v as u32).collect::<Vec<_>>()
    };
    prop_assert_eq!(
        &values(&|acc| sketch(&h.round_keys, shingles, acc)),
        &expected
    );
    #[cfg(target_arch = "x86_64")]
    if Level::Avx2.runs_here() {
        // SAFETY: the CPU runs the kernel's level.
        let avx2 = values(&|acc| unsafe { sketch_avx2(&h.round_keys, shingles, acc) });
        prop_assert_eq!(&avx2, &expected);
    }
    prop_assert_eq!(h.signature(shingles), expected);
    Ok(())
}

#[test]
fn usual_widths_and_lengths_match_the_definition() {
    // Every one of them, at lengths that take one round, many, or the
    // fixed ones, and around the AVX2 kernel's limit of 256 bins.
    let mut state = 5;
    let shingles: Vec<u64> = (0..1500).map(|_| splitmix64(&mut state)).collect();
    for p in 0..=10 {
        for len in [1, 7, 8, 9, 30, 129, 1500] {
            check_every_path(1 << p, p as u64, &shingles[..len]).unwrap();
        }
    }
    for k in [255, 257] {
        for len in [1, 9, 30, 300] {
            check_every_path(k, k as u64, &shingles[..len]).unwrap();
        }
    }
}

/// Shingle hashes, some of them repeated (drawn from a small range).
fn shingle_lists(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        prop::collection::vec(any::<u64>(), len.clone()),
        prop::collection::vec(0u64..40, len),
    ]
}

proptest! {
    /// Every kernel gives exactly the values of the definition (no early
    /// stop, no chunks), for any width.
    #[test]
    fn dispatched_kernel_matches_portable(
        shingles in shingle_lists(0..300),
        num_perm in 1usize..70,
        seed in any::<u64>(),
    ) {
        check_every_path(num_perm, seed, &shingles)?;
    }

    /// The same for the usual widths, those around the limits of the
    /// kernels, and short texts (many rounds, often the fixed ones).
    #[test]
    fn dispatched_kernel_matches_portable_at_usual_widths(
        shingles in prop_oneof![shingle_lists(1..50), shingle_lists(50..700)],
        num_perm in prop::sample::select(
            vec![64usize, 127, 128, 129, 200, 256, 511, 512, 513, 600],
        ),
        seed in any::<u64>(),
    ) {
        check_every_path(num_perm, seed, &shingles)?;
    }
}

fn words_text(words: &[u16]) -> String {
    words
        .iter()
        .map(|w| format!("w{w}"))
        .collect::<Vec<_>>()
        .join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The estimate's standard error is sqrt(J(1-J)/k); allow 4.5 sigma
    /// plus the granularity of one position.
    #[test]
    fn estimate_stays_within_expected_error(
        base in prop::collection::vec(0u16..2000, 40..400),
        edits in prop::collection::vec((0usize..400, 0u16..2000), 0..200),
        seed in any::<u64>(),
    ) {
        let mut other = base.clone();
        for (pos, word) in edits {
            let len = other.len();
            other[pos % len] = word;
        }
        let (a, b) = (shingle_set(&words_text(&base), 3), shingle_set(&words_text(&other), 3));
        let exact = jaccard(&a, &b);
        let k = 256;
        let h = MinHasher::new(k, seed);
        let estimate = estimated_jaccard(&h.signature(&a), &h.signature(&b));
        let sigma = (exact * (1.0 - exact) / k as f64).sqrt();
        prop_assert!((estimate - exact).abs() <= 4.5 * sigma + 1.0 / k as f64,
            "exact {exact} estimate {estimate} sigma {sigma}");
    }
}

#[test]
fn estimate_is_unbiased_over_many_seeds() {
    let a = shingle_set(&words_text(&(0..300).collect::<Vec<_>>()), 2);
    let b = shingle_set(&words_text(&(100..400).collect::<Vec<_>>()), 2);
    let exact = jaccard(&a, &b);
    let trials = 200;
    let mean: f64 = (0..trials)
        .map(|seed| {
            let h = MinHasher::new(128, seed);
            estimated_jaccard(&h.signature(&a), &h.signature(&b))
        })
        .sum::<f64>()
        / trials as f64;
    // Standard error of the mean: sqrt(J(1-J)/128/200) ~ 0.0029.
    assert!((mean - exact).abs() < 0.012, "mean {mean} exact {exact}");
}

/// Classic k-permutation MinHash (the sketch before this one), as the
/// yardstick of the error tests.
fn classic(shingles: &[u64], k: usize, seed: u64) -> Vec<u32> {
    let mut state = seed;
    (0..k)
        .map(|_| {
            let a = splitmix64(&mut state) | 1;
            let b = splitmix64(&mut state);
            shingles
                .iter()
                .map(|&x| (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32)
                .min()
                .unwrap_or(u32::MAX)
        })
        .collect()
}

/// Pairs of random sets of `len` shingles and a spread of similarities:
/// `(a, b, exact Jaccard)`.
fn generated_pairs(len: usize, count: usize, seed: u64) -> Vec<(Vec<u64>, Vec<u64>, f64)> {
    let mut state = seed;
    (0..count)
        .map(|i| {
            // Shared share from 0.3 to 1.
            let shared = len * (30 + (i * 70) / count.max(1)) / 100;
            let common: Vec<u64> = (0..shared).map(|_| splitmix64(&mut state)).collect();
            let mut a = common.clone();
            let mut b = common;
            a.extend((shared..len).map(|_| splitmix64(&mut state)));
            b.extend((shared..len).map(|_| splitmix64(&mut state)));
            a.sort_unstable();
            b.sort_unstable();
            let j = jaccard(&a, &b);
            (a, b, j)
        })
        .collect()
}

/// (RMSE, bias, RMSE of an ideal classic MinHash) over pairs and seeds.
fn error_of(
    pairs: &[(Vec<u64>, Vec<u64>, f64)],
    k: usize,
    sign: impl Fn(&[u64], u64) -> Vec<u32>,
) -> (f64, f64, f64) {
    let (mut sq, mut sum, mut ideal, mut n) = (0.0, 0.0, 0.0, 0.0);
    for seed in 0..8u64 {
        for (a, b, j) in pairs {
            let e = estimated_jaccard(&sign(a, seed), &sign(b, seed)) - j;
            sq += e * e;
            sum += e;
            ideal += j * (1.0 - j) / k as f64;
            n += 1.0;
        }
    }
    ((sq / n).sqrt(), sum / n, (ideal / n).sqrt())
}

#[test]
fn estimate_error_is_at_the_classic_level_for_short_and_long_texts() {
    let k = 128;
    // Short texts (20 to 100 shingles, where most bins need more than
    // one round), texts with about k shingles, and long texts.
    for (len, count) in [(20, 150), (50, 150), (100, 120), (128, 120), (1000, 40)] {
        let pairs = generated_pairs(len, count, len as u64);
        let (rmse, bias, ideal) = error_of(&pairs, k, |s, seed| {
            MinHasher::new(k, seed ^ 0xABCD).signature(s)
        });
        let (classic_rmse, classic_bias, _) =
            error_of(&pairs, k, |s, seed| classic(s, k, seed ^ 0xABCD));
        eprintln!(
            "{len} shingles: rmse {rmse:.4} bias {bias:+.4}; classic {classic_rmse:.4} \
             {classic_bias:+.4}; ideal classic {ideal:.4}"
        );
        // The RMSE of `count * 8` estimates is itself uncertain by about
        // 1/sqrt(2 * count * 8): allow 12% over the ideal classic figure.
        assert!(rmse <= ideal * 1.12, "{len}: rmse {rmse} ideal {ideal}");
        assert!(
            bias.abs() <= 3.0 * ideal / ((count * 8) as f64).sqrt() + 0.002,
            "{len}: bias {bias}"
        );
    }
}

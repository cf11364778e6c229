use super::*;
use crate::dedup::sketch::minhash::MinHasher;
use crate::dedup::verify::jaccard::jaccard;
use crate::dedup::Verify;
use crate::text::shingle_set;

/// A deterministic pseudo-random text of `n` words from a 5000-word vocabulary.
fn random_text(seed: u64, n: usize) -> Vec<String> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            format!("w{}", (state >> 33) % 5000)
        })
        .collect()
}

/// `words` with every `every`-th word replaced.
fn edited(words: &[String], every: usize) -> Vec<String> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i % every == every / 2 {
                format!("edit{i}")
            } else {
                w.clone()
            }
        })
        .collect()
}

fn run(texts: &[String], options: &DedupOptions) -> DedupResult {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    dedup(&refs, options).expect("dedup")
}

#[test]
fn known_edits_are_found_and_verified() {
    // 100 base documents; for each, a lightly edited copy (one word in 60:
    // J around 0.85), a heavily edited copy (one word in 6: J well below
    // 0.8) and an exact copy with different case and spacing.
    let mut texts = Vec::new();
    for d in 0..100u64 {
        let base = random_text(d + 1, 300);
        texts.push(base.join(" "));
        texts.push(edited(&base, 60).join(" "));
        texts.push(edited(&base, 6).join(" "));
        texts.push(base.join("  ").to_uppercase());
    }
    let result = run(&texts, &DedupOptions::default());
    for d in 0..100usize {
        let (base, light, heavy, copy) = (4 * d, 4 * d + 1, 4 * d + 2, 4 * d + 3);
        let j_light = jaccard(
            &shingle_set(&texts[base], 5),
            &shingle_set(&texts[light], 5),
        );
        let j_heavy = jaccard(
            &shingle_set(&texts[base], 5),
            &shingle_set(&texts[heavy], 5),
        );
        assert!(j_light >= 0.8 && j_heavy < 0.8, "{j_light} {j_heavy}");
        assert_eq!(result.duplicate_of[light], Some(base as u32));
        assert_eq!(result.similarity[light], j_light);
        assert_eq!(
            result.duplicate_of[heavy], None,
            "J={j_heavy} must not be merged"
        );
        assert_eq!(result.duplicate_of[copy], Some(base as u32));
        assert_eq!(result.similarity[copy], 1.0);
        assert_eq!(result.exact_key[copy], result.exact_key[base]);
        assert_eq!(result.cluster_size[base], 3);
    }
    // Every edge is at or above the threshold.
    assert!(result
        .edges
        .iter()
        .all(|e| e.similarity >= 0.8 && e.a < e.b));
}

#[test]
fn signature_verification_agrees_on_clear_cases() {
    let mut texts = Vec::new();
    for d in 0..50u64 {
        let base = random_text(d + 1000, 400);
        texts.push(base.join(" "));
        texts.push(edited(&base, 100).join(" "));
    }
    let options = DedupOptions {
        verify: Verify::Signature,
        ..DedupOptions::default()
    };
    let result = run(&texts, &options);
    for d in 0..50usize {
        assert_eq!(result.duplicate_of[2 * d + 1], Some(2 * d as u32));
        assert!(result.similarity[2 * d + 1] >= 0.8);
    }
}

#[test]
fn short_and_empty_texts_do_not_collapse() {
    let texts: Vec<String> = [
        "", "", "   ", "!!!", "???", "hello", "world", "hello", "a b", "b a", "a", "", "x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let result = run(&texts, &DedupOptions::default());
    let dups: Vec<(usize, u32)> = (0..texts.len())
        .filter_map(|r| result.duplicate_of[r].map(|d| (r, d)))
        .collect();
    // Only the second "hello" is a duplicate; empty and word-less texts
    // stay apart, and short texts with different words are not merged.
    assert_eq!(dups, vec![(7, 5)]);
    assert_eq!(result.cluster_size.iter().filter(|&&s| s > 1).count(), 2);
}

#[test]
fn identical_punctuation_only_texts_are_exact_duplicates() {
    let texts: Vec<String> = ["!!!", "!!!", "?"].iter().map(|s| s.to_string()).collect();
    let result = run(&texts, &DedupOptions::default());
    assert_eq!(result.duplicate_of, vec![None, Some(0), None]);
}

#[test]
fn chained_duplicates_report_similarity_to_the_representative() {
    // b is close to a and c is close to b, but c is farther from a.
    let a = random_text(7, 200);
    let b = edited(&a, 40);
    let c = edited(&b, 37);
    let texts = vec![a.join(" "), b.join(" "), c.join(" ")];
    let options = DedupOptions {
        threshold: 0.7,
        ..DedupOptions::default()
    };
    let result = run(&texts, &options);
    let j = |x: usize, y: usize| jaccard(&shingle_set(&texts[x], 5), &shingle_set(&texts[y], 5));
    // The texts make a chain: only its links clear the threshold.
    assert!(j(0, 1) >= 0.7 && j(1, 2) >= 0.7, "{} {}", j(0, 1), j(1, 2));
    assert!(j(0, 2) < 0.7, "{}", j(0, 2));
    assert_eq!(result.duplicate_of, vec![None, Some(0), Some(0)]);
    assert_eq!(result.similarity[1], j(0, 1));
    assert_eq!(result.similarity[2], j(0, 2));
}

#[test]
fn kept_shingles_give_the_result_of_scanning_again() {
    let mut texts = Vec::new();
    for d in 0..200u64 {
        let base = random_text(d % 60 + 1, 80 + (d as usize % 5) * 20);
        texts.push(edited(&base, 40 + (d as usize % 25)).join(" "));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let total: usize = refs.iter().map(|t| (t.len() / 2 + 1) * 8).sum();
    for verify in [Verify::Exact, Verify::Signature] {
        let options = DedupOptions {
            verify,
            threshold: 0.6,
            ..DedupOptions::default()
        };
        let run_with = |kept: usize| {
            dedup_keeping_shingles(&refs, &options, None, kept, &Cancel::new()).expect("dedup")
        };
        // Nothing kept, every row kept, and a prefix kept.
        let scanned = run_with(0);
        assert!(scanned.edges.len() > 100, "{} edges", scanned.edges.len());
        assert_eq!(rows_whose_shingles_fit(&refs, total), refs.len());
        let half = rows_whose_shingles_fit(&refs, total / 2);
        assert!(half > 0 && half < refs.len());
        for kept in [total, total / 2, 1000] {
            assert_eq!(run_with(kept), scanned, "{verify:?}, {kept} bytes kept");
        }
    }
}

#[test]
fn kept_shingles_beyond_the_estimate_are_trimmed() {
    // "¼ " is 3 bytes and 2 words after NFKC ("1⁄4"): more shingles than
    // the estimate of 1.5 words, so the kept prefix must be trimmed.
    let texts: Vec<String> = (0..60)
        .map(|i| format!("{} w{}", "¼ ".repeat(40 + i % 7), i % 9))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let estimate: usize = refs.iter().map(|t| (t.len() / 2 + 1) * 8).sum();
    let options = DedupOptions {
        threshold: 0.5,
        ..DedupOptions::default()
    };
    let engine = DedupEngine::new(&options).expect("engine");
    let (_, actual) = engine
        .sketch_keeping_shingles(&refs, &Cancel::new())
        .expect("sketch");
    assert!(actual.bytes_before(actual.len()) > estimate);
    assert!(actual.rows_within(estimate) < refs.len());
    let kept = dedup_keeping_shingles(&refs, &options, None, estimate, &Cancel::new());
    let scanned = dedup_keeping_shingles(&refs, &options, None, 0, &Cancel::new());
    let (kept, scanned) = (kept.expect("dedup"), scanned.expect("dedup"));
    assert!(!scanned.edges.is_empty());
    assert_eq!(kept, scanned);
}

#[test]
fn similar_pairs_are_the_edges_of_dedup() {
    // Chains of edits: some rows' representatives are not their verified
    // neighbours, so dedup scores them, which similar_pairs skips.
    let mut texts = Vec::new();
    for d in 0..40u64 {
        let base = random_text(d + 1, 200);
        texts.push(base.join(" "));
        let once = edited(&base, 60);
        texts.push(once.join(" "));
        texts.push(edited(&once, 45).join(" "));
        texts.push(base.join("  ").to_uppercase());
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for verify in [Verify::Exact, Verify::Signature] {
        let options = DedupOptions {
            threshold: 0.8,
            verify,
            ..DedupOptions::default()
        };
        let pairs = similar_pairs(&refs, &options).expect("similar_pairs");
        let result = dedup(&refs, &options).expect("dedup");
        assert!(pairs.iter().any(|e| e.exact) && pairs.iter().any(|e| !e.exact));
        let scored = (0..refs.len()).filter(|&r| result.similarity[r] < options.threshold);
        assert!(
            scored.count() > 0,
            "no row is scored against a farther representative"
        );
        assert_eq!(pairs, result.edges, "{verify:?}");
    }
}

#[test]
fn same_result_for_any_thread_count() {
    let mut texts = Vec::new();
    for d in 0..300u64 {
        let base = random_text(d % 120 + 1, 120 + (d as usize % 7) * 10);
        texts.push(edited(&base, 20 + (d as usize % 30)).join(" "));
    }
    let results: Vec<DedupResult> = [1, 2, 3, 8]
        .iter()
        .map(|&threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| run(&texts, &DedupOptions::default()))
        })
        .collect();
    assert!(results[0].edges.len() > 100);
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
}

#[test]
fn invalid_options_are_rejected() {
    let texts = ["a"];
    for options in [
        DedupOptions {
            threshold: 0.0,
            ..DedupOptions::default()
        },
        DedupOptions {
            threshold: 1.5,
            ..DedupOptions::default()
        },
        DedupOptions {
            threshold: f64::NAN,
            ..DedupOptions::default()
        },
        DedupOptions {
            ngram: 0,
            ..DedupOptions::default()
        },
        DedupOptions {
            num_perm: 0,
            ..DedupOptions::default()
        },
    ] {
        assert!(matches!(
            dedup(&texts, &options),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn cancelled_calls_stop_with_an_error() {
    let texts = ["a b c d e f", "a b c d e f"];
    let cancel = Cancel::new();
    cancel.cancel();
    assert!(matches!(
        dedup_cancellable(&texts, &DedupOptions::default(), &cancel),
        Err(Error::Cancelled)
    ));
    assert!(matches!(
        signatures(&texts, 5, 8, 1, &cancel),
        Err(Error::Cancelled)
    ));
    assert!(dedup_cancellable(&texts, &DedupOptions::default(), &Cancel::new()).is_ok());
}

#[test]
fn signatures_match_dedup_inputs() {
    let texts = ["one two three four five six", ""];
    let flat = signatures(&texts, 5, 16, 3, &Cancel::new()).expect("signatures");
    let expected = MinHasher::new(16, 3).signature(&shingle_set(texts[0], 5));
    assert_eq!(&flat[..16], expected.as_slice());
    assert!(flat[16..].iter().all(|&v| v == u32::MAX));
}

#[test]
fn signatures_of_many_rows_fill_every_row() {
    // 12,000 rows of 128 values: 6 MB of output, so the huge-page advice
    // covers part of it; every row must still be its text's signature.
    let texts: Vec<String> = (0..12_000u64)
        .map(|i| format!("row {i} of {} words here", i % 97))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let flat = signatures(&refs, 5, 128, 7, &Cancel::new()).expect("signatures");
    let hasher = MinHasher::new(128, 7);
    for (row, text) in flat.chunks(128).zip(&texts) {
        assert_eq!(row, hasher.signature(&shingle_set(text, 5)).as_slice());
    }
}

#[test]
fn exact_keys_are_those_of_dedup_and_of_the_definition() {
    // ASCII, other scripts, text that NFKC changes, whitespace of every
    // kind, scripts without spaces, empty and punctuation-only texts.
    let texts = [
        "Hello  World",
        "hello world\n",
        "Grüße aus Köln",
        "ﬁne ﬂour ¼ cup",
        "tab\there\u{00a0}and\u{2003}there",
        "日本語の テキスト です",
        "",
        "   ",
        "!!!",
        "Ｆｕｌｌｗｉｄｔｈ text",
    ];
    let refs: Vec<&str> = texts.to_vec();
    let keys = exact_keys(&refs, &Cancel::new()).expect("keys");
    let result = dedup(&refs, &DedupOptions::default()).expect("dedup");
    assert_eq!(keys, result.exact_key);
    for (text, key) in texts.iter().zip(&keys) {
        assert_eq!(*key, crate::dedup::exact::exact_key(text), "{text:?}");
    }
    assert_eq!(keys[0], keys[1]);
}

#[test]
fn exact_keys_stop_when_cancelled() {
    let cancel = Cancel::new();
    cancel.cancel();
    assert!(matches!(
        exact_keys(&["a b c"], &cancel),
        Err(Error::Cancelled)
    ));
}

//! Normalisation, tokenisation and word shingles.
//!
//! Text is normalised with Unicode NFKC and lowercased; words are maximal runs
//! of Unicode alphanumeric characters (`char::is_alphanumeric`); a shingle is a
//! run of `ngram` consecutive words. A text with at least one word but fewer
//! than `ngram` words has exactly one shingle: all of its words. A text with no
//! words has no shingles.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Seed of the word hash; fixed so that shingle hashes never change.
const WORD_HASH_SEED: u64 = 0x7468_7265_7368_6572; // "thresher"

/// NFKC-normalised, lowercased copy of `text`.
pub fn normalise(text: &str) -> String {
    if text.is_ascii() {
        // ASCII is already in NFKC.
        return text.to_ascii_lowercase();
    }
    if text.contains('Σ') {
        // `str::to_lowercase` handles the final sigma, `char::to_lowercase` cannot.
        return text.nfkc().collect::<String>().to_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    let mut push = |c: char| {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    };
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.chars().for_each(&mut push);
    } else {
        text.nfkc().for_each(&mut push);
    }
    out
}

/// Calls `f` with every word of an already normalised text, in order.
pub fn for_each_word<'a>(normalised: &'a str, mut f: impl FnMut(&'a str)) {
    if normalised.is_ascii() {
        // Same words as below: for ASCII, alphanumeric means [0-9A-Za-z].
        let bytes = normalised.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && !bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if i > start {
                f(&normalised[start..i]);
            }
        }
        return;
    }
    let mut start: Option<usize> = None;
    for (i, c) in normalised.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            f(&normalised[s..i]);
        }
    }
    if let Some(s) = start {
        f(&normalised[s..]);
    }
}

/// The words of `text` after normalisation, as owned strings (for tests and tools).
pub fn words(text: &str) -> Vec<String> {
    let normalised = normalise(text);
    let mut out = Vec::new();
    for_each_word(&normalised, |w| out.push(w.to_owned()));
    out
}

/// Hashes of the distinct word `ngram`-shingles of `text`, sorted ascending.
///
/// Each word is hashed with xxh3; a shingle's hash is xxh3 of the little-endian
/// bytes of its word hashes, so no string is built per shingle.
pub fn shingle_set(text: &str, ngram: usize) -> Vec<u64> {
    let normalised = normalise(text);
    shingle_set_of_normalised(&normalised, ngram)
}

/// [`shingle_set`] for text that is already normalised.
pub fn shingle_set_of_normalised(normalised: &str, ngram: usize) -> Vec<u64> {
    let ngram = ngram.max(1);
    let mut word_hash_bytes: Vec<u8> = Vec::with_capacity(normalised.len());
    for_each_word(normalised, |w| {
        word_hash_bytes
            .extend_from_slice(&xxh3_64_with_seed(w.as_bytes(), WORD_HASH_SEED).to_le_bytes())
    });
    let word_count = word_hash_bytes.len() / 8;
    if word_count == 0 {
        return Vec::new();
    }
    let width = ngram.min(word_count) * 8;
    let mut shingles: Vec<u64> = word_hash_bytes
        .windows(width)
        .step_by(8)
        .map(xxh3_64)
        .collect();
    shingles.sort_unstable();
    shingles.dedup();
    shingles
}

/// Canonical form for exact-duplicate keys: normalised, whitespace runs
/// collapsed to one space, trimmed.
pub fn exact_form(text: &str) -> String {
    exact_form_of_normalised(&normalise(text))
}

/// [`exact_form`] for text that is already normalised.
pub fn exact_form_of_normalised(normalised: &str) -> String {
    let mut out = String::with_capacity(normalised.len());
    for word in normalised.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Exact Jaccard similarity of two sorted, deduplicated sets.
/// Two empty sets have similarity 0: there is nothing to compare.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0usize, 0usize, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_alphanumerics() {
        assert_eq!(
            words("Hello, World! x2 -- ok_go"),
            ["hello", "world", "x2", "ok", "go"]
        );
        assert_eq!(
            words("Fréchet means ﬁle Ⅻ"),
            ["fréchet", "means", "file", "xii"]
        );
        assert_eq!(words("日本語 テキスト"), ["日本語", "テキスト"]);
        assert!(words("  ... !!! ").is_empty());
        assert!(words("").is_empty());
    }

    proptest::proptest! {
        /// The fast paths agree with the definition: NFKC, then full lowercasing.
        #[test]
        fn normalise_is_nfkc_then_lowercase(text in "\\PC{0,40}", ascii in "[ -~]{0,40}") {
            for t in [&text, &ascii] {
                let reference = t.nfkc().collect::<String>().to_lowercase();
                proptest::prop_assert_eq!(normalise(t), reference);
            }
        }
    }

    proptest::proptest! {
        /// The ASCII fast path splits words exactly like the general path.
        #[test]
        fn ascii_words_match_general_split(text in "[ -~\t\n]{0,60}") {
            let mut fast = Vec::new();
            for_each_word(&text, |w| fast.push(w.to_owned()));
            // Appending a non-ASCII separator forces the general path.
            let general_input = format!("{text}\u{a0}");
            let mut general = Vec::new();
            for_each_word(&general_input, |w| general.push(w.to_owned()));
            proptest::prop_assert_eq!(fast, general);
        }
    }

    #[test]
    fn final_sigma_is_lowercased_in_context() {
        assert_eq!(normalise("ΟΔΟΣ"), "οδος");
    }

    #[test]
    fn shingles_count_distinct_ngrams() {
        assert_eq!(shingle_set("a b c d e f", 5).len(), 2);
        assert_eq!(shingle_set("a b a b a b a b", 2).len(), 2);
        // Fewer words than n: one shingle made of all words.
        assert_eq!(shingle_set("one two", 5).len(), 1);
        assert_ne!(shingle_set("one two", 5), shingle_set("two one", 5));
        assert!(shingle_set("", 5).is_empty());
        assert!(shingle_set("?!", 5).is_empty());
        // Case, punctuation and spacing do not matter.
        assert_eq!(
            shingle_set("The cat, sat ON the mat.", 3),
            shingle_set("the cat sat on   the mat", 3)
        );
    }

    #[test]
    fn shingle_hashes_are_stable() {
        // Signatures depend on these values; they must never change silently.
        let s = shingle_set("alpha beta gamma", 2);
        assert_eq!(s.len(), 2);
        let again = shingle_set_of_normalised("alpha beta gamma", 2);
        assert_eq!(s, again);
    }

    #[test]
    fn exact_form_collapses_whitespace_and_case() {
        assert_eq!(exact_form("  Hello\t\nWORLD  "), "hello world");
        assert_eq!(exact_form("ﬁne"), "fine");
        assert_eq!(exact_form(" \n "), "");
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[1], &[1]), 1.0);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
    }
}

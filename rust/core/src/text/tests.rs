use super::block_masks::{BlockMasks, PortableMasks, BLOCK};
use super::canonical::{exact_form, exact_form_of_normalised, PAD};
use super::normalisation::{
    has_non_ascii_space, is_nfkc_quick_yes, is_normalised_but_ascii_case, normalise,
};
use super::scan::{scan_bytes, scan_bytes_portable, scan_text, scan_text_portable, TextScan};
#[cfg(target_arch = "x86_64")]
use super::scan::{scan_bytes_avx2, scan_bytes_avx512, scan_text_avx2, scan_text_avx512};
#[cfg(target_arch = "x86_64")]
use super::scan_avx2::Avx2Masks;
#[cfg(target_arch = "x86_64")]
use super::scan_avx512::Avx512Masks;
use super::scripts::has_unspaced;
use super::shingles::{
    shingle_kernel, shingle_set, shingle_set_of_normalised, shingles_of_words, MAX_VECTOR_NGRAM,
    SHINGLE_BASE,
};
use super::word_hashing::{le_u64, short_word_hash, word_hash, WORD_BLOCK};
use super::word_split::{decode_utf8, for_each_word, for_each_word_of_utf8, is_word_char, words};
use crate::simd::Level;
use unicode_normalization::UnicodeNormalization;

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
    assert!(words("  ... !!! ").is_empty());
    assert!(words("").is_empty());
}

proptest::proptest! {
    /// The fast paths agree with the definition: NFKC, then full lowercasing.
    #[test]
    fn normalise_is_nfkc_then_lowercase(
        text in "\\PC{0,40}",
        ascii in "[ -~]{0,40}",
        // ASCII beside what NFKC changes: combining marks (which join the
        // letter before them), ligatures, superscripts, Hangul jamo,
        // two-part Indic vowels, half-width kana and their sound marks,
        // singletons, a non-breaking space, capital sigma.
        // Long ASCII runs between capitals outside ASCII, for the 16-byte
        // skips of lowercasing, and now and then a character that is not a
        // stable starter (a combining mark, a ligature) after them.
        runs in "([a-zA-Z .]{0,40}[\u{c9}\u{e9}\u{410}-\u{44f}\u{130}\u{1e9e}]{0,2}[\u{301}\u{fb01}]?){0,6}",
        mixed in "[a-zA-Z0-9 .\u{300}-\u{308}\u{327}\u{334}\u{fb01}\u{b2}\u{1100}\u{1161}\u{11a8}\u{b47}\u{b3e}\u{ff76}\u{ff9e}\u{2126}\u{212b}\u{a0}\u{e9}\u{3a3}\u{2026}]{0,40}",
    ) {
        for t in [&text, &ascii, &runs, &mixed] {
            let reference = t.nfkc().collect::<String>().to_lowercase();
            proptest::prop_assert_eq!(normalise(t), reference);
        }
    }
}

proptest::proptest! {
    /// The settled-text check is the NFKC quick check, every other
    /// character its own lowercase, no whitespace outside ASCII and no
    /// character of a script written without spaces.
    #[test]
    fn settled_text_check_matches_definition(
        text in "\\PC{0,40}",
        mixed in "[a-zA-Z0-9 .\u{85}\u{a0}\u{1680}\u{2000}-\u{200b}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}\u{e9}\u{2019}\u{3a3}\u{df}\u{65e5}\u{301}\u{fb01}]{0,30}",
    ) {
        for t in [&text, &mixed] {
            let own_lowercase = t.chars().all(|c| {
                let mut lower = c.to_lowercase();
                c.is_ascii() || (lower.next() == Some(c) && lower.next().is_none())
            });
            let definition = is_nfkc_quick_yes(t)
                && own_lowercase
                && !has_non_ascii_space(t)
                && !has_unspaced(t);
            proptest::prop_assert_eq!(is_normalised_but_ascii_case(t), definition);
        }
    }
}

proptest::proptest! {
    /// The byte-wise word split is the `str` one (of the canonical form
    /// where a script written without spaces asks for it, else of the text
    /// itself, in place); on bytes that are not UTF-8 the decoder fails
    /// where `str::from_utf8` does.
    #[test]
    fn utf8_word_split_matches_str_split(
        text in "\\PC{0,40}",
        mixed in "[a-z0-9 .\u{e9}\u{2019}\u{2014}\u{3a3}\u{df}\u{65e5}\u{301}\u{1f600}\u{430}]{0,30}",
        bytes in proptest::collection::vec(0u8..=255, 0..12),
    ) {
        for t in [&text, &mixed] {
            let unspaced = has_unspaced(t);
            let base = if unspaced { exact_form_of_normalised(t) } else { t.clone() };
            let mut expected = Vec::new();
            for_each_word(t, |w| {
                let at = if unspaced { 0 } else { w.as_ptr() as usize - t.as_ptr() as usize };
                expected.push((w.to_owned(), at));
            });
            let mut got = Vec::new();
            for_each_word_of_utf8(base.as_bytes(), |from, len| {
                let at = if unspaced { 0 } else { from };
                got.push((base[from..from + len].to_owned(), at));
            });
            proptest::prop_assert_eq!(got, expected);
        }
        let mut valid = true;
        let mut i = 0;
        while let Some(&lead) = bytes.get(i) {
            match decode_utf8(&bytes, i, lead) {
                Some((_, n)) => i += n,
                None => {
                    valid = false;
                    break;
                }
            }
        }
        proptest::prop_assert_eq!(valid, std::str::from_utf8(&bytes).is_ok());
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
fn word_chars_are_the_alphanumerics() {
    for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
        assert_eq!(is_word_char(c), c.is_alphanumeric(), "{c:?}");
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
    // (Changed once, when the word hash moved from 128-bit folded
    // multiplies to the lane-friendly `mix` blocks.) A change here must
    // raise `sketch::SKETCH_FORMAT`.
    let s = shingle_set("alpha beta gamma", 2);
    assert_eq!(s.len(), 2);
    let again = shingle_set_of_normalised("alpha beta gamma", 2);
    assert_eq!(s, again);
    assert_eq!(
        (
            word_hash(b"alpha"),
            word_hash("fréchet".as_bytes()),
            word_hash(b"a_word_longer_than_sixteen_bytes"),
            s,
        ),
        (
            9097672829848147324,
            16435541788247156766,
            5719972558785217847,
            vec![4315074042576028455, 7309723370073228712]
        )
    );
}

/// Shingle hashes by the definition: word hashes of [`words`], then the
/// polynomial of every window, computed afresh.
fn reference_shingles(text: &str, ngram: usize) -> Vec<u64> {
    let hashes: Vec<u64> = words(text)
        .iter()
        .map(|w| word_hash(w.as_bytes()))
        .collect();
    if hashes.is_empty() {
        return Vec::new();
    }
    let n = ngram.max(1).min(hashes.len());
    hashes
        .windows(n)
        .map(|win| {
            win.iter()
                .fold(0u64, |h, &w| h.wrapping_mul(SHINGLE_BASE).wrapping_add(w))
        })
        .collect()
}

proptest::proptest! {
    /// The fused scan (ASCII fast path, bit-mask tokeniser, padded word
    /// loads, rolling shingles) gives the definition's canonical form
    /// and shingle hashes, in order.
    #[test]
    fn scan_matches_definition(
        text in "\\PC{0,80}",
        ascii in "[ -~\t\n\r\u{b}\u{c}\u{1c}\u{1f}]{0,300}",
        long_word in "[a-zA-Z0-9]{15,70}",
        ngram in 1usize..7,
    ) {
        let joined = format!("{ascii} {long_word}{ascii}");
        for t in [&text, &ascii, &joined] {
            let mut scan = TextScan::new();
            scan.scan(t, ngram);
            let form = exact_form(t);
            proptest::prop_assert_eq!(scan.exact_form(), form.as_bytes());
            proptest::prop_assert_eq!(scan.shingles(), &reference_shingles(t, ngram)[..]);
            let mut sorted = reference_shingles(t, ngram);
            sorted.sort_unstable();
            sorted.dedup();
            proptest::prop_assert_eq!(shingle_set(t, ngram), sorted.clone());
            proptest::prop_assert_eq!(shingle_set_of_normalised(&normalise(t), ngram), sorted);
        }
    }
}

proptest::proptest! {
    /// Mostly-ASCII text with a few non-ASCII characters, lowercase or
    /// not, normalised or not (the path that skips normalisation when
    /// only ASCII letters would change, and the one that does not).
    #[test]
    fn mixed_text_scan_matches_definition(
        text in "[a-zA-Z0-9 \\t\\n.,éèüÜßẞΣσς’—ﬁ日Ⅻ\u{301}\u{a0}]{0,120}",
        ngram in 1usize..6,
    ) {
        let mut scan = TextScan::new();
        scan.scan(&text, ngram);
        let form = exact_form(&text);
        proptest::prop_assert_eq!(scan.exact_form(), form.as_bytes());
        proptest::prop_assert_eq!(scan.shingles(), &reference_shingles(&text, ngram)[..]);
    }
}

/// A scan into given buffers, returning its two lengths.
type Scan<'a> = &'a dyn Fn(&mut Vec<u8>, &mut Vec<u64>) -> (usize, usize);

/// Every dispatched scan of `text` gives the portable one's bytes and
/// hashes, bit for bit.
fn check_dispatched<const UNICODE: bool>(
    text: &str,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let text = text.as_bytes();
    let (mut c0, mut h0) = (Vec::new(), Vec::new());
    let (len, n) = scan_bytes_portable::<UNICODE>(text, &mut c0, &mut h0);
    let check = |scan: Scan<'_>| {
        // Buffers left over from a longer text: their old contents
        // must not show.
        let (mut c1, mut h1) = (vec![b'q'; 500], vec![7u64; 300]);
        proptest::prop_assert_eq!(scan(&mut c1, &mut h1), (len, n));
        proptest::prop_assert_eq!(&c1[..len], &c0[..len]);
        proptest::prop_assert_eq!(&h1[..n], &h0[..n]);
        Ok(())
    };
    check(&|c, h| scan_bytes::<UNICODE>(text, c, h))?;
    #[cfg(target_arch = "x86_64")]
    {
        if Level::Avx2.runs_here() {
            // SAFETY: the CPU has what the function enables.
            check(&|c, h| unsafe { scan_bytes_avx2::<UNICODE>(text, c, h) })?;
        }
        if Level::Avx512.runs_here() {
            // SAFETY: as above.
            check(&|c, h| unsafe { scan_bytes_avx512::<UNICODE>(text, c, h) })?;
        }
    }
    Ok(())
}

proptest::proptest! {
    /// The dispatched scans agree with the portable one, on ASCII
    /// (long words included) and on mostly-ASCII lowercase text.
    #[test]
    fn dispatched_scan_matches_portable(
        text in "[ -~\t\n\r]{0,400}",
        long_words in "([a-z0-9]{10,40}[ .\n]{1,3}){0,12}",
        mixed in "[a-z0-9 \t\n.,éèüß’—日\u{301}]{0,300}",
    ) {
        check_dispatched::<false>(&text)?;
        check_dispatched::<false>(&long_words)?;
        check_dispatched::<true>(&mixed)?;
        check_dispatched::<true>(&long_words)?;
    }
}

/// [`scan_text`] on every vector unit there is against the portable one,
/// and against the scans it stands for.
fn check_scan_text(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
    let (mut c0, mut h0) = (Vec::new(), Vec::new());
    let portable = scan_text_portable(text, &mut c0, &mut h0);
    let expected = if text.is_ascii() {
        Some(scan_bytes_portable::<false>(
            text.as_bytes(),
            &mut c0,
            &mut h0,
        ))
    } else if is_normalised_but_ascii_case(text) {
        Some(scan_bytes_portable::<true>(
            text.as_bytes(),
            &mut c0,
            &mut h0,
        ))
    } else {
        None
    };
    proptest::prop_assert_eq!(portable, expected);
    let check = |scan: ScanText<'_>| {
        let (mut c1, mut h1) = (vec![b'q'; 500], vec![7u64; 300]);
        let got = scan(&mut c1, &mut h1);
        proptest::prop_assert_eq!(got, expected);
        if let Some((len, n)) = got {
            proptest::prop_assert_eq!(&c1[..len], &c0[..len]);
            proptest::prop_assert_eq!(&h1[..n], &h0[..n]);
        }
        Ok(())
    };
    check(&|c, h| scan_text(text, c, h))?;
    #[cfg(target_arch = "x86_64")]
    {
        if Level::Avx2.runs_here() {
            // SAFETY: the CPU has what the function enables.
            check(&|c, h| unsafe { scan_text_avx2(text, c, h) })?;
        }
        if Level::Avx512.runs_here() {
            // SAFETY: as above.
            check(&|c, h| unsafe { scan_text_avx512(text, c, h) })?;
        }
    }
    Ok(())
}

type ScanText<'a> = &'a dyn Fn(&mut Vec<u8>, &mut Vec<u64>) -> Option<(usize, usize)>;

proptest::proptest! {
    /// The one-pass scan is the check then the scan, on every vector unit.
    #[test]
    fn scan_text_matches_checked_scans(
        text in "[ -~\t\n\r]{0,400}",
        mixed in "[a-zA-Z0-9 \t\n.,\u{e9}\u{c9}\u{fc}\u{df}\u{2019}\u{2014}\u{a0}\u{3000}\u{65e5}\u{301}\u{fb01}\u{3a3}]{0,300}",
    ) {
        check_scan_text(&text)?;
        check_scan_text(&mixed)?;
    }
}

proptest::proptest! {
    /// Texts of several segments of the AVX-512 word scan (runs across
    /// segment ends, runs longer than a segment, blocks dense with
    /// words, long and non-ASCII words in a group of 8) on every vector
    /// unit, against the portable scans.
    #[test]
    fn long_texts_scan_like_portable(
        ascii in proptest::collection::vec(
            ("[a-z0-9]{0,20}|[a-z]{1000,1100}|[a-z]|[a-z]{17,40}", "[ .\n]{1,3}|\t"),
            0..400,
        ),
        mixed in proptest::collection::vec(
            ("[a-z0-9]{0,20}|[a-z]{1000,1100}|[a-z]|[a-z0-9\u{e9}\u{2019}\u{2014}\u{65e5}\u{301}]{1,24}", "[ .\n]{1,3}"),
            0..400,
        ),
    ) {
        for (parts, unicode) in [(&ascii, false), (&mixed, true)] {
            let text: String = parts.iter().map(|(w, sep)| format!("{w}{sep}")).collect();
            for t in [&text[..], text.trim_end()] {
                if unicode {
                    check_dispatched::<true>(t)?;
                } else {
                    check_dispatched::<false>(t)?;
                }
                check_scan_text(t)?;
            }
        }
    }
}

/// `fast`'s block masks are the portable ones on `bytes` (one block).
#[cfg(target_arch = "x86_64")]
fn masks_match_portable(
    fast: impl BlockMasks,
    bytes: &[u8],
) -> Result<(), proptest::test_runner::TestCaseError> {
    let block = <[u8; BLOCK]>::try_from(bytes).unwrap_or([0; BLOCK]);
    proptest::prop_assert_eq!(fast.map(&block), PortableMasks.map(&block));
    proptest::prop_assert_eq!(
        fast.words::<true>(&block),
        PortableMasks.words::<true>(&block)
    );
    proptest::prop_assert_eq!(
        fast.words::<false>(&block),
        PortableMasks.words::<false>(&block)
    );
    for n in 0..BLOCK {
        proptest::prop_assert_eq!(
            fast.map_rest(&bytes[..n]),
            PortableMasks.map_rest(&bytes[..n])
        );
    }
    Ok(())
}

proptest::proptest! {
    /// The AVX2 block masks are the portable ones, on any bytes.
    #[test]
    fn avx2_masks_match_portable(bytes in proptest::collection::vec(0u8..=255, BLOCK)) {
        #[cfg(target_arch = "x86_64")]
        if Level::Avx2.runs_here() {
            // SAFETY: the CPU has AVX2.
            masks_match_portable(unsafe { Avx2Masks::new() }, &bytes)?;
        }
    }

    /// The AVX-512 block masks are the portable ones, on any bytes.
    #[test]
    fn avx512_masks_match_portable(bytes in proptest::collection::vec(0u8..=255, BLOCK)) {
        #[cfg(target_arch = "x86_64")]
        if Level::Avx512.runs_here() {
            // SAFETY: the CPU has AVX-512 F and BW.
            masks_match_portable(unsafe { Avx512Masks::new() }, &bytes)?;
        }
    }
}

proptest::proptest! {
    /// Every shingle width, on every vector unit (the fused kernels up
    /// to 8 words, the column loop above), is the definition's fold.
    #[test]
    fn shingle_kernels_match_definition(
        words in proptest::collection::vec(proptest::num::u64::ANY, 0..60),
    ) {
        for ngram in 1..=MAX_VECTOR_NGRAM + 2 {
            // Appended after what `got` holds already.
            let mut got = vec![7u64];
            shingles_of_words(&words, ngram, &mut got);
            proptest::prop_assert_eq!(got.remove(0), 7);
            let n = ngram.min(words.len()).max(1);
            let expected: Vec<u64> = if words.is_empty() {
                Vec::new()
            } else {
                words
                    .windows(n)
                    .map(|w| w.iter().fold(0u64, |h, &x| h.wrapping_mul(SHINGLE_BASE).wrapping_add(x)))
                    .collect()
            };
            proptest::prop_assert_eq!(&got, &expected);
            let mut powers = vec![0u64; n];
            let mut p = 1u64;
            for j in (0..n).rev() {
                powers[j] = p;
                p = p.wrapping_mul(SHINGLE_BASE);
            }
            if !words.is_empty() {
                got.clear();
                shingle_kernel(&words, &powers, &mut got);
                proptest::prop_assert_eq!(&got, &expected);
            }
        }
    }
}

#[test]
fn short_word_loads_match_word_hash() {
    let text: Vec<u8> = (0..80u8).map(|i| b'a' + i % 26).collect();
    let mut buf = text.clone();
    buf.extend_from_slice(&[b'x'; PAD]);
    for start in 0..8 {
        for len in 0..=WORD_BLOCK {
            let (lo, hi) = buf[start..start + WORD_BLOCK].split_at(8);
            assert_eq!(
                short_word_hash(le_u64(lo), le_u64(hi), len as u64),
                word_hash(&text[start..start + len]),
                "{start} {len}"
            );
        }
    }
}

#[test]
fn unicode_whitespace_is_collapsed_like_split_whitespace() {
    let mut scan = TextScan::new();
    for text in [
        "a\u{85}b",
        "a\u{a0} b",
        " \u{1680}x\u{2000}\u{200a}y\u{2028}\u{2029}",
        "p\u{202f}q\u{205f}r\u{3000}s ",
        "don\u{2019}t \u{2014} stop \u{2192}",
        "\u{2029}",
        "é\u{200b}è",
        "\u{c2}",
    ] {
        scan.scan(text, 2);
        assert_eq!(scan.exact_form(), exact_form(text).as_bytes(), "{text:?}");
        let n = normalise(text);
        scan.scan_normalised(&n, 2);
        assert_eq!(
            scan.exact_form(),
            exact_form_of_normalised(&n).as_bytes(),
            "{n:?}"
        );
        assert_eq!(
            scan.shingles(),
            &reference_shingles(text, 2)[..],
            "{text:?}"
        );
    }
}

#[test]
fn exact_form_collapses_whitespace_and_case() {
    assert_eq!(exact_form("  Hello\t\nWORLD  "), "hello world");
    assert_eq!(exact_form("ﬁne"), "fine");
    assert_eq!(exact_form(" \n "), "");
}

#[test]
fn padded_tail_is_the_rest_followed_by_zeros() {
    use super::block_masks::padded_tail;
    let text: Vec<u8> = (1..=200u8).collect();
    for len in 0..text.len() {
        let text = &text[..len];
        for rest in 0..BLOCK.min(len + 1) {
            let mut expected = [0u8; BLOCK];
            expected[..rest].copy_from_slice(&text[len - rest..]);
            let got = padded_tail(text, rest);
            if len < BLOCK {
                assert_eq!(got, None, "len {len}");
            } else {
                assert_eq!(got, Some(expected), "len {len} rest {rest}");
            }
        }
    }
}

//! Scripts written without spaces: the words, canonical form and shingles
//! of every path against a definition written here character by
//! character, on mixed-script text.

use super::canonical::{canonical_into, exact_form, exact_form_of_normalised, PAD};
use super::char_props::{is_unspaced_letter, CharProps, MARK};
use super::normalisation::normalise;
use super::scan::{canonical_word_hashes, canonical_word_hashes_portable, TextScan};
#[cfg(target_arch = "x86_64")]
use super::scan::{canonical_word_hashes_avx2, canonical_word_hashes_avx512};
use super::scripts::{has_unspaced, is_unspaced, joins_without_space};
use super::shingles::{shingle_set, shingle_set_of_normalised, SHINGLE_BASE};
use super::word_hashing::word_hash;
use super::word_split::{for_each_word, words};
use crate::simd::Level;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Whitespace beside `c` is dropped: by the ranges, or CJK punctuation.
fn defined_joiner(c: char) -> bool {
    ('\u{3001}'..='\u{303F}').contains(&c) || is_unspaced(c)
}

/// The canonical form by the definition: normalise, then each whitespace
/// run becomes one space, or nothing at either end or beside a joiner.
fn defined_form(text: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in normalise(text).chars() {
        if c.is_whitespace() {
            gap = !out.is_empty();
            continue;
        }
        let before = out.chars().next_back();
        if gap && !before.is_some_and(defined_joiner) && !defined_joiner(c) {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

/// The tokens by the definition, from the defined canonical form: a letter
/// or number (and word character) of an unspaced script starts a token that takes the marks
/// right after it; other alphanumeric characters make runs.
fn defined_words(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    // Which kind of token the last one is, if it is still open.
    let mut open: Option<bool> = None;
    for c in defined_form(text).chars() {
        let group = c.general_category_group();
        let unspaced = is_unspaced(c);
        let letter = unspaced
            && c.is_alphanumeric()
            && matches!(
                group,
                GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
            );
        let grows = match open {
            Some(true) => group == GeneralCategoryGroup::Mark,
            Some(false) => !unspaced && c.is_alphanumeric(),
            None => false,
        };
        if grows {
            if let Some(last) = tokens.last_mut() {
                last.push(c);
            }
        } else if letter || (!unspaced && c.is_alphanumeric()) {
            tokens.push(c.to_string());
            open = Some(letter);
        } else {
            open = None;
        }
    }
    tokens
}

/// Shingle hashes, in order, of the defined tokens.
fn defined_shingles(text: &str, ngram: usize) -> Vec<u64> {
    let hashes: Vec<u64> = defined_words(text)
        .iter()
        .map(|w| word_hash(w.as_bytes()))
        .collect();
    if hashes.is_empty() {
        return Vec::new();
    }
    let n = ngram.clamp(1, hashes.len());
    hashes
        .windows(n)
        .map(|w| {
            w.iter()
                .fold(0u64, |h, &x| h.wrapping_mul(SHINGLE_BASE).wrapping_add(x))
        })
        .collect()
}

/// A class of characters of every kind the rules tell apart, for the
/// generators.
macro_rules! mixed {
    () => {
        "[a-zA-Z0-9 \\t\\n.,éÜß\u{301}\u{a0}\u{3000}\
                     日本語漢字\u{2f00}\u{f900}\u{20000}\u{2a6d6}\u{fe00}\u{e0100}\
                     ひらがなカタナ\u{3099}\u{309b}\u{ff76}\u{ff9e}\u{30fc}\u{30fb}\u{3005}\
                     、。「」！\u{ff08}\
                     ภาษาไทย\u{e31}\u{e34}\u{e48}\u{e49}\u{e4c}\u{e50}\
                     ພາສາ\u{eb0}\u{ec8}ខ្មែរ\u{17b6}\u{17d2}မြန်\u{103c}\u{1039}\u{f40}\u{f0b}\u{f72}\
                     ꆈ한국어\u{1100}\u{1161}ㄅ\u{1b001}\u{17000}\u{0915}\u{093e}]"
    };
}

fn check_all_paths(text: &str, ngram: usize) -> Result<(), proptest::test_runner::TestCaseError> {
    let form = defined_form(text);
    proptest::prop_assert_eq!(&exact_form(text), &form);
    let n = normalise(text);
    proptest::prop_assert_eq!(&exact_form_of_normalised(&n), &form);
    let expected_words = defined_words(text);
    proptest::prop_assert_eq!(&words(text), &expected_words);
    let mut got = Vec::new();
    for_each_word(&n, |w| got.push(w.to_owned()));
    proptest::prop_assert_eq!(&got, &expected_words);
    let expected = defined_shingles(text, ngram);
    let mut scan = TextScan::new();
    scan.scan(text, ngram);
    proptest::prop_assert_eq!(scan.exact_form(), form.as_bytes());
    proptest::prop_assert_eq!(scan.shingles(), &expected[..]);
    scan.scan_normalised(&n, ngram);
    proptest::prop_assert_eq!(scan.exact_form(), form.as_bytes());
    proptest::prop_assert_eq!(scan.shingles(), &expected[..]);
    let mut set = expected.clone();
    set.sort_unstable();
    set.dedup();
    proptest::prop_assert_eq!(&shingle_set(text, ngram), &set);
    proptest::prop_assert_eq!(&shingle_set_of_normalised(&n, ngram), &set);
    Ok(())
}

/// The word hashes of a canonical form on every vector unit there is are
/// the portable ones, and those of the defined words.
fn check_word_scans(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
    let mut canonical = Vec::new();
    canonical_into(&normalise(text), &mut canonical);
    let len = canonical.len();
    canonical.resize(len + PAD, 0);
    let expected: Vec<u64> = defined_words(text)
        .iter()
        .map(|w| word_hash(w.as_bytes()))
        .collect();
    type Scan<'a> = &'a dyn Fn(&mut Vec<u64>) -> usize;
    let check = |scan: Scan<'_>| {
        // Room left over from a longer text must not show.
        let mut hashes = vec![7u64; 300];
        let n = scan(&mut hashes);
        proptest::prop_assert_eq!(&hashes[..n], &expected[..]);
        Ok(())
    };
    check(&|h| canonical_word_hashes_portable(&canonical, len, h))?;
    check(&|h| canonical_word_hashes(&canonical, len, h))?;
    #[cfg(target_arch = "x86_64")]
    {
        if Level::Avx2.runs_here() {
            // SAFETY: the CPU has what the function enables.
            check(&|h| unsafe { canonical_word_hashes_avx2(&canonical, len, h) })?;
        }
        if Level::Avx512.runs_here() {
            // SAFETY: as above.
            check(&|h| unsafe { canonical_word_hashes_avx512(&canonical, len, h) })?;
        }
    }
    Ok(())
}

proptest::proptest! {
    /// Every path (plain functions, the scan of raw and of normalised
    /// text, shingle sets) gives the definition's canonical form, words
    /// and shingles on random mixed-script text.
    #[test]
    fn mixed_scripts_match_definition(text in concat!(mixed!(), "{0,80}"), ngram in 1usize..6) {
        check_all_paths(&text, ngram)?;
        check_word_scans(&text)?;
    }

    /// Long mixed texts (several segments of the AVX-512 word scan, long
    /// ASCII words beside unspaced letters, groups of 8 runs) on every
    /// vector unit.
    #[test]
    fn long_mixed_texts_scan_like_definition(
        parts in proptest::collection::vec(
            (concat!("[a-z0-9]{0,20}|[a-z]{17,40}|", mixed!(), "{1,30}"), "[ .\n]{1,3}|\u{3001}|"),
            0..200,
        ),
    ) {
        let text: String = parts.iter().map(|(w, sep)| format!("{w}{sep}")).collect();
        check_all_paths(&text, 3)?;
        check_word_scans(&text)?;
    }

    /// The byte-level check finds what the character-level one does.
    #[test]
    fn has_unspaced_is_any_joiner(text in concat!(mixed!(), "{0,40}|\\PC{0,40}")) {
        proptest::prop_assert_eq!(has_unspaced(&text), text.chars().any(defined_joiner));
    }
}

#[test]
fn each_unspaced_letter_is_a_word() {
    assert_eq!(
        words("日本語 テキスト"),
        ["日", "本", "語", "テ", "キ", "ス", "ト"]
    );
    assert_eq!(words("東京タワー"), ["東", "京", "タ", "ワ", "ー"]);
    // Han and Latin in one sequence; digits and Latin stay runs.
    assert_eq!(
        words("Rust言語で2024年にHello world"),
        ["rust", "言", "語", "で", "2024", "年", "に", "hello", "world"]
    );
    // Punctuation separates, and halfwidth kana becomes fullwidth.
    assert_eq!(words("「ｶﾞｲﾄﾞ」、OK。"), ["ガ", "イ", "ド", "ok"]);
}

#[test]
fn thai_marks_stay_with_their_letter() {
    // ภาษาไทย: ษ and ไ; ที่ has a vowel and a tone mark on one consonant.
    assert_eq!(words("ภาษาไทย"), ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"]);
    assert_eq!(words("ที่นี่"), ["ที่", "นี่"]);
    // A line break between a letter and its mark changes nothing.
    assert_eq!(words("ที\n่นี่"), ["ที่", "นี่"]);
    // A mark with no letter before it is no word, and no part of one.
    assert_eq!(words("\u{e48}a\u{e34}b"), ["a", "b"]);
    // Khmer and Myanmar: the sign and the virama stay with their letter.
    assert_eq!(words("ខ្មែរ"), ["ខ្", "មែ", "រ"]);
    assert_eq!(words("မြန်"), ["မြ", "န်"]);
    // Variation selectors and combining voicing marks too.
    assert_eq!(words("葛\u{e0100}城"), ["葛\u{e0100}", "城"]);
}

#[test]
fn korean_stays_word_based() {
    assert_eq!(words("한국어 텍스트입니다"), ["한국어", "텍스트입니다"]);
    assert_eq!(exact_form("한국어\n텍스트  입니다"), "한국어 텍스트 입니다");
    assert!(!has_unspaced("한국어 텍스트"));
}

#[test]
fn whitespace_beside_unspaced_text_is_dropped() {
    // Line breaks inside Japanese, Chinese and Thai.
    assert_eq!(exact_form("日本語の\nテキスト"), "日本語のテキスト");
    assert_eq!(exact_form(" 中文\n  文本 "), "中文文本");
    assert_eq!(exact_form("ภาษา\r\nไทย"), "ภาษาไทย");
    // Beside CJK punctuation, and on either side of the gap.
    assert_eq!(exact_form("終わり。 Next"), "終わり。next");
    assert_eq!(exact_form("Hello 世界 again"), "hello世界again");
    assert_eq!(exact_form("「 quoted 」"), "「quoted」");
    assert_eq!(exact_form("a \u{3000} b 、 c"), "a b、c");
    // Fullwidth punctuation becomes ASCII: the gap is kept unless the
    // other side joins.
    assert_eq!(exact_form("ok！ fine"), "ok! fine");
    assert_eq!(exact_form("ok！ 日本"), "ok!日本");
    // Korean, and every text without such characters, keep their spaces.
    assert_eq!(exact_form("한국 어"), "한국 어");
    assert_eq!(exact_form("  Hello\t\nWORLD  "), "hello world");
    // The same words whatever the wrapping.
    assert_eq!(
        shingle_set("日本語のテキストです", 3),
        shingle_set("日本語の\nテキス\nトです", 3)
    );
}

#[test]
fn text_without_unspaced_scripts_has_the_words_of_before() {
    // Maximal runs of alphanumeric characters, as before the scripts.
    assert_eq!(
        words("Hello, World! x2 -- ok_go Fréchet ﬁle Ⅻ 한국어"),
        [
            "hello",
            "world",
            "x2",
            "ok",
            "go",
            "fréchet",
            "file",
            "xii",
            "한국어"
        ]
    );
    // A mark after a Latin letter is still no word character.
    assert_eq!(words("q\u{301}b c"), ["q", "b", "c"]);
}

#[test]
fn unspaced_letters_are_word_characters() {
    // The standard library's tables (`is_alphanumeric`) may be of an older
    // Unicode version than the general categories': characters it does not
    // know yet are no word characters, so no letters.
    let same_version = char::UNICODE_VERSION == {
        let (a, b, c) = unicode_properties::UNICODE_VERSION;
        (a as u8, b as u8, c as u8)
    };
    let props = CharProps::get();
    // The table's answers, which the word split reads.
    let mark_by_flags = |c: char| props.has(c, MARK);
    let letter_by_flags = |c: char| is_unspaced_letter(props.of(c));
    let mut letters = 0;
    for c in (0x0E00..0x40000).filter_map(char::from_u32) {
        let group = c.general_category_group();
        let l_or_n = matches!(
            group,
            GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
        );
        let letter = letter_by_flags(c);
        assert_eq!(
            letter,
            is_unspaced(c) && c.is_alphanumeric() && !mark_by_flags(c),
            "{c:?}"
        );
        if letter {
            letters += 1;
            assert!(l_or_n, "{c:?}");
        } else if same_version {
            assert!(!(is_unspaced(c) && l_or_n), "{c:?}");
        }
        assert_eq!(
            mark_by_flags(c),
            group == GeneralCategoryGroup::Mark,
            "{c:?}"
        );
        assert_eq!(joins_without_space(c), defined_joiner(c), "{c:?}");
    }
    for c in (0..0x0E00).filter_map(char::from_u32) {
        assert!(!is_unspaced(c) && !letter_by_flags(c), "{c:?}");
        assert_eq!(
            mark_by_flags(c),
            c.general_category_group() == GeneralCategoryGroup::Mark,
            "{c:?}"
        );
    }
    // Han alone has more than 90,000.
    assert!(letters > 90_000, "{letters}");
}

#[test]
fn unspaced_shingle_hashes_are_pinned() {
    // Values of `SKETCH_FORMAT` 3, which made each letter of these
    // scripts a token. A change here must raise `SKETCH_FORMAT`.
    assert_eq!(
        (
            shingle_set("日本語のテキスト", 2),
            shingle_set("ภาษาไทย ที่นี่", 3),
        ),
        (
            vec![
                2572373241485882477,
                4625828626981469606,
                11394752823932639252,
                11465089339876526118,
                16014588520391920973,
                18149253325464527351,
                18291289251516944790
            ],
            vec![
                19173022757690499,
                6242021736425639622,
                9775456476627466704,
                11936289504888259675,
                15318211764295002674,
                15377287499302797614,
                16265063978841508233
            ]
        )
    );
}

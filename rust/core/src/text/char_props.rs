//! The per-character properties that normalisation and the word split ask
//! of non-ASCII text, for the whole Basic Multilingual Plane in one table.
//!
//! `char::is_alphanumeric`, `char::to_lowercase`, the NFKC quick check of
//! `unicode-normalization`, the general category of `unicode-properties`
//! and the script ranges of `scripts::is_unspaced` each search a table of
//! ranges per character. In text outside Latin-1
//! every character paid those searches several times, and the scan of
//! Cyrillic text ran 25 times slower than that of ASCII
//! (`benches/RESULTS.md`, section 2, "Text in other languages"). The table
//! holds, for each code point below U+10000, the answers of those same
//! functions, computed once per process when first asked (about 65,000
//! characters, 8 ms on a 2.4 GHz AMD EPYC); code points above it (rare
//! outside the scripts written without spaces) ask the functions
//! themselves. The answers are theirs, so nothing changes but the time.

use std::sync::OnceLock;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfkc_quick, IsNormalized};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use super::scripts::{is_unspaced, joins_without_space};

/// `char::is_alphanumeric`.
pub(super) const WORD: u8 = 1;
/// NFKC quick check "yes" with canonical combining class 0: a starter that
/// the quick check of a text passes and restarts after, as after ASCII.
pub(super) const STABLE: u8 = 1 << 1;
/// `char::to_lowercase` gives the character itself, alone.
pub(super) const OWN_LOWERCASE: u8 = 1 << 2;
/// [`STABLE`] and [`OWN_LOWERCASE`], not whitespace, and not a character
/// that [`joins_without_space`]: normalisation and the canonical form leave
/// it as it is (see `normalisation::is_normalised_but_ascii_case`).
pub(super) const SETTLED: u8 = 1 << 3;

/// A combining mark: general category Mn, Mc or Me.
pub(super) const MARK: u8 = 1 << 4;

/// A character of a script written without spaces ([`is_unspaced`]).
pub(super) const UNSPACED: u8 = 1 << 5;

/// Whether a character with these flags is a letter or number of a script
/// written without spaces: [`UNSPACED`], a word character and not a
/// combining mark. Such a letter is one token with the marks that follow
/// it (general category L or N; a test checks).
#[inline]
pub(super) fn is_unspaced_letter(flags: u8) -> bool {
    flags & (UNSPACED | WORD | MARK) == UNSPACED | WORD
}

/// Code points in the table: the Basic Multilingual Plane.
const TABLE_LEN: usize = 0x1_0000;

/// The properties of `c`, computed by the functions the table stands for.
fn compute(c: char) -> u8 {
    let mut props = 0;
    if c.is_alphanumeric() {
        props |= WORD;
    }
    if canonical_combining_class(c) == 0 && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
        props |= STABLE;
    }
    if c.general_category_group() == GeneralCategoryGroup::Mark {
        props |= MARK;
    }
    if is_unspaced(c) {
        props |= UNSPACED;
    }
    let mut lower = c.to_lowercase();
    if lower.next() == Some(c) && lower.next().is_none() {
        props |= OWN_LOWERCASE;
    }
    if props & (STABLE | OWN_LOWERCASE) == STABLE | OWN_LOWERCASE
        && !c.is_whitespace()
        && !joins_without_space(c)
    {
        props |= SETTLED;
    }
    props
}

/// The table of the Basic Multilingual Plane (surrogates, which are not
/// characters, hold 0).
fn table() -> &'static [u8; TABLE_LEN] {
    static TABLE: OnceLock<Box<[u8; TABLE_LEN]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Box::new([0u8; TABLE_LEN]);
        for (u, slot) in (0u32..).zip(table.iter_mut()) {
            if let Some(c) = char::from_u32(u) {
                *slot = compute(c);
            }
        }
        table
    })
}

/// The properties of characters, from the table where it has them; get it
/// once per text (the first call in a process builds the table).
#[derive(Clone, Copy)]
pub(super) struct CharProps(&'static [u8; TABLE_LEN]);

impl CharProps {
    /// The table, built on first use.
    #[inline]
    pub(super) fn get() -> Self {
        Self(table())
    }

    /// The properties of `c` (the flags above).
    #[inline]
    pub(super) fn of(self, c: char) -> u8 {
        match self.0.get(c as usize) {
            Some(&props) => props,
            None => compute(c),
        }
    }

    /// Whether `c` has every flag of `flags`.
    #[inline]
    pub(super) fn has(self, c: char, flags: u8) -> bool {
        self.of(c) & flags == flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_what_the_functions_give() {
        let props = CharProps::get();
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(props.of(c), compute(c), "{c:?}");
        }
    }

    #[test]
    fn flags_of_familiar_characters() {
        let props = CharProps::get();
        // Cyrillic: letters, the capital not its own lowercase.
        assert!(props.has('ж', WORD | STABLE | OWN_LOWERCASE | SETTLED));
        assert!(props.has('Ж', WORD | STABLE));
        assert!(!props.has('Ж', OWN_LOWERCASE));
        // A combining acute accent: a mark, not a starter.
        assert_eq!(props.of('\u{301}') & (WORD | STABLE | MARK), MARK);
        // The kana voicing mark; a katakana letter is not a mark.
        assert!(props.has('\u{3099}', MARK));
        assert!(!props.has('\u{30ab}', MARK));
        // The "fi" ligature: NFKC changes it.
        assert!(!props.has('\u{fb01}', STABLE));
        // Em space: NFKC makes it a space.
        assert!(props.has('\u{2003}', OWN_LOWERCASE));
        assert!(!props.has('\u{2003}', STABLE));
        assert!(!props.has('\u{2003}', SETTLED));
        // Ideographic full stop: stable, but joins without space.
        assert!(props.has('\u{3002}', STABLE | OWN_LOWERCASE));
        assert!(!props.has('\u{3002}', SETTLED));
        // Han: joins without space.
        assert!(props.has('中', WORD | STABLE | OWN_LOWERCASE | UNSPACED));
        assert!(!props.has('中', SETTLED));
        // A Thai vowel sign: a mark of a script written without spaces.
        assert!(props.has('\u{e34}', MARK | UNSPACED));
        assert!(!props.has('ж', UNSPACED));
        // Beyond the table: computed.
        assert!(props.has('𝒜', WORD));
        assert!(!props.has('𝒜', STABLE));
    }
}

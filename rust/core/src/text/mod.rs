//! Normalisation, tokenisation and word shingles.
//!
//! Text is normalised with Unicode NFKC and lowercased; words are maximal runs
//! of Unicode alphanumeric characters (`char::is_alphanumeric`); a shingle is a
//! run of `ngram` consecutive words. A text with at least one word but fewer
//! than `ngram` words has exactly one shingle: all of its words. A text with no
//! words has no shingles.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Seed of the word hash; fixed so that shingle hashes never change.
const WORD_HASH_SEED: u64 = 0x7468_7265_7368_6572; // "thresher"

/// NFKC-normalised, lowercased copy of `text`.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalise_into(text, &mut out);
    out
}

/// [`normalise`] into `out` (cleared first), reusing its memory.
pub fn normalise_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        // ASCII is already in NFKC.
        out.push_str(text);
        out.make_ascii_lowercase();
        return;
    }
    if is_nfkc_quick_yes(text) {
        lowercase_into(text, out);
    } else {
        let nfkc: String = text.nfkc().collect();
        lowercase_into(&nfkc, out);
    }
}

/// Whether `check` holds for every maximal run of non-ASCII characters of
/// `text` (ASCII bytes between the runs are skipped).
fn every_non_ascii_run(text: &str, check: impl Fn(&str) -> bool) -> bool {
    let mut rest = text;
    loop {
        rest = &rest[ascii_prefix_len(rest.as_bytes())..];
        if rest.is_empty() {
            return true;
        }
        let run = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii())
            .map_or(rest.len(), |(i, _)| i);
        if !check(&rest[..run]) {
            return false;
        }
        rest = &rest[run..];
    }
}

/// `is_nfkc_quick(text) == Yes`, checking only the runs of non-ASCII
/// characters: an ASCII character is NFKC-stable with combining class 0, so
/// the check restarts after it as from the start of a text.
fn is_nfkc_quick_yes(text: &str) -> bool {
    every_non_ascii_run(text, |run| is_nfkc_quick(run.chars()) == IsNormalized::Yes)
}

/// Whether `normalise(text)` only lowercases the ASCII letters of `text`
/// and all of its whitespace is ASCII: `text` is in NFKC
/// ([`is_nfkc_quick_yes`]) and each of its other characters is its own
/// lowercase and not whitespace (so `!has_non_ascii_space(text)`, found in
/// the same pass). Not inlined: in `TextScan::scan` it displaced the ASCII
/// path's code (about 5% slower there).
#[inline(never)]
fn is_normalised_but_ascii_case(text: &str) -> bool {
    every_non_ascii_run(text, |run| {
        if run.chars().all(is_settled_char) {
            // The common case (curly quotes, dashes), without the tables;
            // none of these is whitespace.
            return true;
        }
        let own_lowercase = run.chars().all(|c| {
            let mut lower = c.to_lowercase();
            !c.is_whitespace() && lower.next() == Some(c) && lower.next().is_none()
        });
        own_lowercase && is_nfkc_quick(run.chars()) == IsNormalized::Yes
    })
}

/// Common non-ASCII characters that are not whitespace or alphanumeric, are
/// their own lowercase, and are NFKC quick-check "yes" starters
/// (combining class 0), so that the quick check restarts after them as
/// after an ASCII character (a test checks these properties).
#[inline]
fn is_plain_symbol(c: char) -> bool {
    matches!(
        c,
        '\u{a9}'
            | '\u{ae}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201c}'
            | '\u{201d}'
            | '\u{2022}'
            | '\u{2190}'..='\u{2193}' | '\u{2212}'
    )
}

/// The lowercase Latin-1 letters (U+00DF to U+00FF but U+00F7): alphanumeric,
/// their own lowercase, NFKC quick-check "yes" starters (checked by a test).
#[inline]
fn is_latin1_lowercase(c: char) -> bool {
    matches!(c, '\u{df}'..='\u{ff}') && c != '\u{f7}'
}

/// Whether `c` is known, without Unicode tables, to be left alone by
/// [`normalise`] (and starts the NFKC quick check afresh): [`is_plain_symbol`] or
/// [`is_latin1_lowercase`].
#[inline]
fn is_settled_char(c: char) -> bool {
    is_plain_symbol(c) || is_latin1_lowercase(c)
}

/// `c.is_alphanumeric()`, without the table lookups for the commonest
/// non-ASCII characters.
#[inline]
fn is_word_char(c: char) -> bool {
    if is_plain_symbol(c) {
        return false;
    }
    is_latin1_lowercase(c) || c.is_alphanumeric()
}

/// Whether `text` has a whitespace character outside ASCII (U+0085, U+00A0,
/// U+1680, U+2000 to U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), found
/// from their UTF-8 lead bytes.
fn has_non_ascii_space(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(i) = memchr::memchr3(0xC2, 0xE1, 0xE2, &bytes[at..]) {
        let i = at + i;
        let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
        let space = match bytes[i] {
            0xC2 => matches!(next(1), 0x85 | 0xA0),
            0xE1 => next(1) == 0x9A && next(2) == 0x80,
            _ => match next(1) {
                0x80 => matches!(next(2), 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF),
                0x81 => next(2) == 0x9F,
                _ => false,
            },
        };
        if space {
            return true;
        }
        at = i + 1;
    }
    // U+3000 is E3 80 80.
    memchr::memmem::find(bytes, "\u{3000}".as_bytes()).is_some()
}

/// Appends the full lowercase of `text` to `out`: ASCII runs in bulk, other
/// characters one by one; `str::to_lowercase` where a capital sigma needs
/// its context (final sigma).
fn lowercase_into(text: &str, out: &mut String) {
    if text.contains('Σ') {
        out.push_str(&text.to_lowercase());
        return;
    }
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = ascii_prefix_len(rest.as_bytes());
        let (run, tail) = rest.split_at(ascii);
        let from = out.len();
        out.push_str(run);
        out[from..].make_ascii_lowercase();
        let mut chars = tail.chars();
        rest = "";
        while let Some(c) = chars.next() {
            if c.is_ascii() {
                // Back up to this character: the next ASCII run starts here.
                let after = chars.as_str();
                rest = &tail[tail.len() - after.len() - 1..];
                break;
            }
            out.extend(c.to_lowercase());
        }
    }
}

/// Length of the ASCII prefix of `bytes`, 16 bytes at a time.
#[inline]
fn ascii_prefix_len(bytes: &[u8]) -> usize {
    let mut n = 0;
    for chunk in bytes.chunks(16) {
        if chunk.is_ascii() {
            n += chunk.len();
        } else {
            return n + chunk.iter().take_while(|b| b.is_ascii()).count();
        }
    }
    n
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
        if is_word_char(c) {
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

/// [`for_each_word`] of the UTF-8 bytes `text`, decoded as it goes (no
/// separate validation pass): calls `f` with each word's offset and length.
/// Stops at the first byte that is not valid UTF-8 (the canonical form,
/// made from a `str`, has none).
#[inline(always)]
fn for_each_word_of_utf8(text: &[u8], mut f: impl FnMut(usize, usize)) {
    let mut start: Option<usize> = None;
    let mut i = 0;
    while let Some(&lead) = text.get(i) {
        let Some((c, n)) = decode_utf8(text, i, lead) else {
            return;
        };
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            f(s, i - s);
        }
        i += n;
    }
    if let Some(s) = start {
        f(s, text.len() - s);
    }
}

/// The character whose UTF-8 encoding starts with `lead` at `text[i]`, and
/// the length of that encoding; `None` unless it is well formed (shortest
/// form, no surrogate, at most U+10FFFF), as `str::from_utf8` has it.
#[inline(always)]
fn decode_utf8(text: &[u8], i: usize, lead: u8) -> Option<(char, usize)> {
    let (n, min, bits) = match lead {
        0x00..=0x7F => return Some((char::from(lead), 1)),
        0xC2..=0xDF => (2, 0x80, lead & 0x1F),
        0xE0..=0xEF => (3, 0x800, lead & 0x0F),
        0xF0..=0xF4 => (4, 0x1_0000, lead & 0x07),
        _ => return None,
    };
    let mut u = u32::from(bits);
    for &b in text.get(i + 1..i + n)? {
        if b & 0xC0 != 0x80 {
            return None;
        }
        u = (u << 6) | u32::from(b & 0x3F);
    }
    if u < min {
        return None;
    }
    char::from_u32(u).map(|c| (c, n))
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
/// Each word is hashed with [`word_hash`]; a shingle's hash is the
/// polynomial `sum_j w_j * B^(n-1-j)` (mod 2^64) of its `n` word hashes, so
/// no string is built per shingle or word. The MinHash sketch mixes these
/// hashes again, per seed, before use.
pub fn shingle_set(text: &str, ngram: usize) -> Vec<u64> {
    let mut scan = TextScan::new();
    scan.scan(text, ngram);
    scan.shingle_set()
}

/// [`shingle_set`] for text that is already normalised.
pub fn shingle_set_of_normalised(normalised: &str, ngram: usize) -> Vec<u64> {
    let mut scan = TextScan::new();
    scan.scan_normalised(normalised, ngram);
    scan.shingle_set()
}

/// Base of the shingle polynomial: odd, and `B - 1` has a single factor 2,
/// so swapping two words changes the hash unless they agree on 63 bits.
const SHINGLE_BASE: u64 = 0x9E37_79B9_7F4A_7C17;
/// Multiplier of a word's length, mixed into its last block.
const WORD_LEN_MUL: u64 = 0xe703_7ed1_a0b4_28db;
/// Bytes of a word taken per block of the word hash.
const WORD_BLOCK: usize = 16;

/// A bijective 64-bit mixer (Pelle Evensen's "moremur" finaliser): every
/// output bit depends on every input bit. Only 64-bit multiplies, shifts
/// and xors, so a loop of them vectorises (AVX-512 `vpmullq`), unlike a
/// 64x64->128 multiply.
#[inline(always)]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 27;
    x = x.wrapping_mul(0x3C79_AC49_2BA7_B653);
    x ^= x >> 33;
    x = x.wrapping_mul(0x1C69_B3F7_4AC4_AE35);
    x ^ (x >> 27)
}

/// One 16-byte block (little-endian halves `lo`, `hi`, zero-padded) into
/// the word state. `mix` is a bijection, so for a given state and `hi` no
/// two `lo` collide, and two blocks that differ in `lo` collide only when
/// their `mix(state ^ lo)` differ exactly by the `hi` difference: a chance
/// of about 2^-64.
#[inline(always)]
fn word_block(state: u64, lo: u64, hi: u64) -> u64 {
    mix(mix(state ^ lo) ^ hi)
}

/// Hash of one (normalised) word's UTF-8 bytes: from a fixed seed (so that
/// shingle hashes never change), each 16-byte block in turn goes through
/// [`word_block`]; the last one (a zero block for the empty word) has
/// `len * WORD_LEN_MUL` xor-ed into its high half. Words of up to 16 bytes
/// are one block, which [`short_word_hash`] computes in vector lanes.
pub fn word_hash(word: &[u8]) -> u64 {
    let len_term = (word.len() as u64).wrapping_mul(WORD_LEN_MUL);
    let (head, last) = word.split_at(word.len().saturating_sub(1) / WORD_BLOCK * WORD_BLOCK);
    let mut state = WORD_HASH_SEED;
    for block in head.chunks_exact(WORD_BLOCK) {
        let (lo, hi) = block.split_at(8);
        state = word_block(state, le_u64(lo), le_u64(hi));
    }
    let mut padded = [0u8; WORD_BLOCK];
    padded[..last.len()].copy_from_slice(last);
    let (lo, hi) = padded.split_at(8);
    word_block(state, le_u64(lo), le_u64(hi) ^ len_term)
}

/// The little-endian `u64` of 8 bytes (0 for a slice of another length).
#[inline(always)]
fn le_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_le_bytes)
}

/// The lowest `n` bits set (all 64 when `n >= 64`).
#[inline(always)]
fn low_bits(n: u64) -> u64 {
    !u64::MAX.checked_shl(n as u32).unwrap_or(0)
}

/// [`word_hash`] of a word of `len <= 16` bytes whose first 16 bytes, and
/// whatever follows them, were loaded as `lo` and `hi`: the bytes past the
/// word are masked off here, in lanes, rather than per word.
#[inline(always)]
fn short_word_hash(lo: u64, hi: u64, len: u64) -> u64 {
    let bits = 8 * len;
    let lo = lo & low_bits(bits);
    let hi = hi & low_bits(bits.saturating_sub(64));
    word_block(WORD_HASH_SEED, lo, hi ^ len.wrapping_mul(WORD_LEN_MUL))
}

/// Zero bytes kept after the canonical form, so that words can be loaded
/// 16 bytes at a time.
const PAD: usize = 16;

/// Reusable buffers for the scan of one text: its canonical form (for the
/// exact key) and its shingle hashes, without an allocation per word or
/// shingle. One per thread is enough; see [`crate::sketch`].
#[derive(Debug, Default)]
pub struct TextScan {
    /// Canonical form, then at least [`PAD`] more bytes.
    canonical: Vec<u8>,
    canonical_len: usize,
    /// Word hashes, in text order: the first `word_count` (the rest is
    /// room kept from earlier texts, so that no text pays to zero it).
    hashes: Vec<u64>,
    word_count: usize,
    /// Normalised text (non-ASCII input only).
    normalised: String,
    /// Shingle hashes, in text order.
    shingles: Vec<u64>,
}

impl TextScan {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Normalises `text` and scans it: afterwards [`Self::exact_form`] and
    /// [`Self::shingles`] describe it.
    pub fn scan(&mut self, text: &str, ngram: usize) {
        self.scan_text_words(text);
        self.shingle_words(ngram);
    }

    /// The canonical form and word hashes of `text`.
    fn scan_text_words(&mut self, text: &str) {
        // ASCII is already NFKC: lowercase, collapse and hash on the fly. For
        // other text that normalisation leaves alone but for ASCII letters
        // the block scan lowercases those and copies the other characters
        // unchanged.
        if let Some(scanned) = scan_text(text, &mut self.canonical, &mut self.hashes) {
            (self.canonical_len, self.word_count) = scanned;
        } else {
            let mut normalised = std::mem::take(&mut self.normalised);
            normalise_into(text, &mut normalised);
            self.scan_words(&normalised);
            self.normalised = normalised;
        }
    }

    /// [`Self::scan`] for text that is already normalised.
    pub fn scan_normalised(&mut self, normalised: &str, ngram: usize) {
        self.scan_words(normalised);
        self.shingle_words(ngram);
    }

    /// [`Self::scan`], but the shingle hashes are appended to `out` instead
    /// (so that a caller keeping them needs no copy); [`Self::shingles`] is
    /// then empty.
    pub fn scan_shingles_into(&mut self, text: &str, ngram: usize, out: &mut Vec<u64>) {
        self.scan_text_words(text);
        self.shingles.clear();
        let words = self.hashes.get(..self.word_count).unwrap_or_default();
        shingles_of_words(words, ngram, out);
    }

    fn shingle_words(&mut self, ngram: usize) {
        self.shingles.clear();
        let words = self.hashes.get(..self.word_count).unwrap_or_default();
        shingles_of_words(words, ngram, &mut self.shingles);
    }

    fn scan_words(&mut self, normalised: &str) {
        let canonical = &mut self.canonical;
        if has_non_ascii_space(normalised) {
            canonical.clear();
            for word in normalised.split_whitespace() {
                if !canonical.is_empty() {
                    canonical.push(b' ');
                }
                canonical.extend_from_slice(word.as_bytes());
            }
            self.canonical_len = canonical.len();
            canonical.resize(self.canonical_len + BLOCK + PAD, 0);
            // Same words as the general split: non-ASCII runs are split by
            // `char::is_alphanumeric` (words of the canonical form are those
            // of the normalised text: whitespace is never alphanumeric).
            self.word_count = word_hashes::<true>(
                PortableMasks,
                &self.canonical,
                self.canonical_len,
                &mut self.hashes,
            );
        } else {
            // All whitespace is ASCII: the block-wise collapse applies (it
            // copies the bytes of other characters unchanged).
            (self.canonical_len, self.word_count) =
                scan_bytes::<true>(normalised.as_bytes(), canonical, &mut self.hashes);
        }
    }

    /// The canonical form of the last text scanned ([`exact_form`]).
    pub fn exact_form(&self) -> &[u8] {
        &self.canonical[..self.canonical_len]
    }

    /// Shingle hashes of the last text scanned, in text order, repeats kept.
    pub fn shingles(&self) -> &[u64] {
        &self.shingles
    }

    /// Distinct shingle hashes of the last text scanned, sorted.
    pub fn shingle_set(&self) -> Vec<u64> {
        crate::hashsort::sorted_distinct(&self.shingles)
    }

    /// Gives back memory held for an unusually long text.
    pub fn shrink(&mut self, keep_bytes: usize) {
        if self.canonical.capacity() > keep_bytes {
            self.canonical = Vec::new();
        }
        if self.hashes.capacity() * 8 > keep_bytes {
            self.hashes = Vec::new();
            self.word_count = 0;
        }
        if self.shingles.capacity() * 8 > keep_bytes {
            self.shingles = Vec::new();
        }
        if self.normalised.capacity() > keep_bytes {
            self.normalised = String::new();
        }
    }
}

/// Shingles this wide or narrower are hashed by the vectorised kernel.
const MAX_VECTOR_NGRAM: usize = 16;

/// The hashes of the `ngram` shingles of `words` (one shingle of all words
/// when there are fewer than `ngram`), appended to `out`:
/// `sum_j w[i + j] * B^(n-1-j)`, each shingle on its own, so that the loop
/// vectorises instead of rolling one long dependency chain.
fn shingles_of_words(words: &[u64], ngram: usize, out: &mut Vec<u64>) {
    if words.is_empty() {
        return;
    }
    let n = ngram.max(1).min(words.len());
    if n > MAX_VECTOR_NGRAM {
        out.extend(words.windows(n).map(|window| {
            window
                .iter()
                .fold(0u64, |h, &w| h.wrapping_mul(SHINGLE_BASE).wrapping_add(w))
        }));
        return;
    }
    // powers[j] = B^(n-1-j)
    let mut powers = [0u64; MAX_VECTOR_NGRAM];
    let mut p = 1u64;
    for j in (0..n).rev() {
        powers[j] = p;
        p = p.wrapping_mul(SHINGLE_BASE);
    }
    shingle_kernel_dispatched(words, &powers[..n], out);
}

fn shingle_kernel_dispatched(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU supports the features the function enables.
            unsafe { shingle_kernel_avx512(words, powers, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            unsafe { shingle_kernel_avx2(words, powers, out) };
            return;
        }
    }
    shingle_kernel(words, powers, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn shingle_kernel_avx2(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    shingle_kernel(words, powers, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
unsafe fn shingle_kernel_avx512(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    shingle_kernel(words, powers, out)
}

/// Appends `sum_j words[i + j] * powers[j]` (mod 2^64) for each of the
/// `words.len() - powers.len() + 1` shingles to `out`, one power
/// at a time over the new shingles (the first column is written as it is
/// appended, so they are not zeroed first).
#[inline(always)]
fn shingle_kernel(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    macro_rules! fused {
        ($($n:literal)*) => {
            match powers.len() {
                $($n => return shingle_kernel_fused::<$n>(words, powers, out),)*
                _ => {}
            }
        };
    }
    fused!(2 3 4 5 6 7 8);
    let count = (words.len() + 1).saturating_sub(powers.len());
    let start = out.len();
    let Some((&p0, rest)) = powers.split_first() else {
        out.resize(start + count, 0);
        return;
    };
    let first = words.get(..count).unwrap_or_default();
    out.extend(first.iter().map(|&w| w.wrapping_mul(p0)));
    let out = &mut out[start..];
    for (j, &p) in rest.iter().enumerate().map(|(j, p)| (j + 1, p)) {
        let Some(column) = words.get(j..j + count) else {
            return;
        };
        for (slot, &w) in out.iter_mut().zip(column) {
            *slot = slot.wrapping_add(w.wrapping_mul(p));
        }
    }
}

/// [`shingle_kernel`] for `N` powers known when compiled: each shingle's
/// sum in registers (its `N` words loaded once each, one store), where the
/// column loop loads and stores every shingle once per power.
#[inline(always)]
fn shingle_kernel_fused<const N: usize>(words: &[u64], powers: &[u64], out: &mut Vec<u64>) {
    let Ok(powers) = <[u64; N]>::try_from(powers) else {
        return;
    };
    out.extend(words.windows(N).map(|window| {
        window
            .iter()
            .zip(&powers)
            .fold(0u64, |h, (&w, &p)| h.wrapping_add(w.wrapping_mul(p)))
    }));
}

/// Whitespace as `char::is_whitespace` has it, for ASCII bytes.
#[inline(always)]
fn is_ascii_space(c: u8) -> bool {
    c == b' ' || c.wrapping_sub(b'\t') < 5
}

/// Bytes of the canonical form handled as one block.
const BLOCK: usize = 64;

/// Scans `text` that is ASCII (`UNICODE` false) or normalised UTF-8 whose
/// whitespace is all ASCII (`UNICODE` true): its canonical form into
/// `canonical` and its word hashes to the front of `hashes` (see
/// [`word_hashes`]); returns the length of the canonical form and the
/// number of words. On the widest vector unit the CPU has.
fn scan_bytes<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512_scan() {
            // SAFETY: the CPU supports the features the function enables.
            return unsafe { scan_bytes_avx512::<UNICODE>(text, canonical, hashes) };
        }
        if has_avx2_scan() {
            // SAFETY: as above.
            return unsafe { scan_bytes_avx2::<UNICODE>(text, canonical, hashes) };
        }
    }
    scan_bytes_portable::<UNICODE>(text, canonical, hashes)
}

/// Whether the CPU has what [`scan_bytes_avx2`] enables.
#[cfg(target_arch = "x86_64")]
fn has_avx2_scan() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
}

/// Whether the CPU has what [`scan_bytes_avx512`] enables.
#[cfg(target_arch = "x86_64")]
fn has_avx512_scan() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("popcnt")
        && has_avx2_scan()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2")]
unsafe fn scan_bytes_avx2<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    scan_bytes_with::<UNICODE>(PortableMasks, text, canonical, hashes)
}

/// AVX-512 BW builds the byte masks, DQ gives the 64-bit lane multiplies of
/// the word hash (`vpmullq`); POPCNT counts the word starts and ends of a
/// block (without it, LLVM counts bits in vector registers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,bmi1,bmi2,popcnt")]
unsafe fn scan_bytes_avx512<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    // SAFETY: this function runs only where the CPU has the features it
    // enables, AVX-512 F and BW among them.
    let masks = unsafe { Avx512Masks::new() };
    scan_bytes_with::<UNICODE>(masks, text, canonical, hashes)
}

/// The portable scan, the definition of the others.
#[inline(always)]
fn scan_bytes_portable<const UNICODE: bool>(
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    scan_bytes_with::<UNICODE>(PortableMasks, text, canonical, hashes)
}

/// The scan with the block masks of `masks`. The dispatched scans compile
/// this same code with wider vectors (and, for AVX-512, masks from mask
/// compares that give the portable masks' bits), so they give the same
/// bytes and hashes.
#[inline(always)]
fn scan_bytes_with<const UNICODE: bool>(
    masks: impl BlockMasks,
    text: &[u8],
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> (usize, usize) {
    let len = ascii_exact_form_into(masks, text, canonical);
    let words = masks.word_hashes::<UNICODE>(canonical, len, hashes);
    (len, words)
}

/// [`TextScan::scan`]'s fast paths in one pass over `text`: its canonical
/// form by the block collapse, which also finds whether `text` is ASCII
/// (so no separate pass checks that); then the word hashes of an ASCII
/// text (as [`scan_bytes`] without `UNICODE`), or of one whose only change under
/// [`normalise`] is ASCII lowercasing and whose whitespace is all ASCII
/// ([`is_normalised_but_ascii_case`]; as [`scan_bytes`] with `UNICODE`,
/// whose collapse is the same). `None`, with `canonical` overwritten, for
/// any other text.
fn scan_text(text: &str, canonical: &mut Vec<u8>, hashes: &mut Vec<u64>) -> Option<(usize, usize)> {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512_scan() {
            // SAFETY: the CPU supports the features the function enables.
            return unsafe { scan_text_avx512(text, canonical, hashes) };
        }
        if has_avx2_scan() {
            // SAFETY: as above.
            return unsafe { scan_text_avx2(text, canonical, hashes) };
        }
    }
    scan_text_portable(text, canonical, hashes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2")]
unsafe fn scan_text_avx2(
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    scan_text_with(PortableMasks, text, canonical, hashes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,bmi1,bmi2,popcnt")]
unsafe fn scan_text_avx512(
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    // SAFETY: this function runs only where the CPU has the features it
    // enables, AVX-512 F and BW among them.
    let masks = unsafe { Avx512Masks::new() };
    scan_text_with(masks, text, canonical, hashes)
}

/// The portable [`scan_text`], the definition of the others.
#[inline(always)]
fn scan_text_portable(
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    scan_text_with(PortableMasks, text, canonical, hashes)
}

/// [`scan_text`] with the block masks of `masks`.
#[inline(always)]
fn scan_text_with(
    masks: impl BlockMasks,
    text: &str,
    canonical: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) -> Option<(usize, usize)> {
    let (len, high) = ascii_exact_form_checked(masks, text.as_bytes(), canonical);
    if !high {
        return Some((len, masks.word_hashes::<false>(canonical, len, hashes)));
    }
    if is_normalised_but_ascii_case(text) {
        return Some((len, masks.word_hashes::<true>(canonical, len, hashes)));
    }
    None
}

/// The per-block byte masks of the scan. [`PortableMasks`] is their
/// definition; [`Avx512Masks`] gives the same results with AVX-512BW
/// compares into mask registers, which LLVM does not make of the portable
/// loops (it assembles their bits in vector registers instead).
trait BlockMasks: Copy {
    /// [`map_block`].
    fn map(self, block: &[u8; BLOCK]) -> Mapped;
    /// [`map_block`] of `rest` (shorter than a block) padded with zeros.
    #[inline(always)]
    fn map_rest(self, rest: &[u8]) -> Mapped {
        let mut b = [0u8; BLOCK];
        let n = rest.len().min(BLOCK);
        b[..n].copy_from_slice(&rest[..n]);
        self.map(&b)
    }
    /// [`word_masks`].
    fn words<const UNICODE: bool>(self, block: &[u8; BLOCK]) -> (u64, u64);
    /// [`word_hashes`] with these masks.
    #[inline(always)]
    fn word_hashes<const UNICODE: bool>(
        self,
        buf: &[u8],
        len: usize,
        hashes: &mut Vec<u64>,
    ) -> usize {
        word_hashes::<UNICODE>(self, buf, len, hashes)
    }
}

/// The portable block masks.
#[derive(Clone, Copy)]
struct PortableMasks;

impl BlockMasks for PortableMasks {
    #[inline(always)]
    fn map(self, block: &[u8; BLOCK]) -> Mapped {
        map_block(block)
    }

    #[inline(always)]
    fn words<const UNICODE: bool>(self, block: &[u8; BLOCK]) -> (u64, u64) {
        word_masks::<UNICODE>(block)
    }
}

/// The block masks from AVX-512BW instructions; a value exists only where
/// the CPU has AVX-512 F and BW.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Avx512Masks(());

#[cfg(target_arch = "x86_64")]
impl Avx512Masks {
    /// # Safety
    /// The CPU must have AVX-512 F and BW.
    unsafe fn new() -> Self {
        Self(())
    }
}

#[cfg(target_arch = "x86_64")]
impl BlockMasks for Avx512Masks {
    #[inline(always)]
    fn map(self, block: &[u8; BLOCK]) -> Mapped {
        use std::arch::x86_64::*;
        let mut mapped = [0u8; BLOCK];
        // SAFETY: `self` proves the CPU has AVX-512 F and BW; the load and
        // the store touch the 64 bytes of `block` and `mapped`.
        let (spaces, high) = unsafe {
            let c = _mm512_loadu_si512(block.as_ptr().cast());
            let byte = |b: u8| _mm512_set1_epi8(b as i8);
            let below =
                |from: u8, n: u8| _mm512_cmplt_epu8_mask(_mm512_sub_epi8(c, byte(from)), byte(n));
            // As `is_ascii_space` and `to_ascii_lowercase`.
            let spaces = _mm512_cmpeq_epi8_mask(c, byte(b' ')) | below(b'\t', 5);
            let lower = _mm512_mask_add_epi8(c, below(b'A', 26), c, byte(0x20));
            let out = _mm512_mask_mov_epi8(lower, spaces, byte(b' '));
            _mm512_storeu_si512(mapped.as_mut_ptr().cast(), out);
            (spaces, _mm512_movepi8_mask(c))
        };
        (mapped, spaces, high)
    }

    #[inline(always)]
    fn map_rest(self, rest: &[u8]) -> Mapped {
        use std::arch::x86_64::*;
        let n = rest.len().min(BLOCK);
        let mut b = [0u8; BLOCK];
        // SAFETY: `self` proves the CPU has AVX-512 F and BW; the masked
        // load reads only the first `n` bytes, which `rest` has (the other
        // lanes are zero and their memory is not touched); the store writes
        // the 64 bytes of `b`.
        unsafe {
            let v = _mm512_maskz_loadu_epi8(!bits_from(n), rest.as_ptr().cast());
            _mm512_storeu_si512(b.as_mut_ptr().cast(), v);
        }
        self.map(&b)
    }

    #[inline(always)]
    fn words<const UNICODE: bool>(self, block: &[u8; BLOCK]) -> (u64, u64) {
        use std::arch::x86_64::*;
        // SAFETY: as in `map`; the load reads the 64 bytes of `block`.
        unsafe {
            let c = _mm512_loadu_si512(block.as_ptr().cast());
            let byte = |b: u8| _mm512_set1_epi8(b as i8);
            let below =
                |from: u8, n: u8| _mm512_cmplt_epu8_mask(_mm512_sub_epi8(c, byte(from)), byte(n));
            let alnum = below(b'a', 26) | below(b'0', 10);
            let high = if UNICODE { _mm512_movepi8_mask(c) } else { 0 };
            (alnum | high, high)
        }
    }

    #[inline(always)]
    fn word_hashes<const UNICODE: bool>(
        self,
        buf: &[u8],
        len: usize,
        hashes: &mut Vec<u64>,
    ) -> usize {
        avx512_word_hashes::<UNICODE>(self, buf, len, hashes)
    }
}

/// A block mapped by [`map_block`], the bit mask of its whitespace and that
/// of its non-ASCII bytes.
type Mapped = ([u8; BLOCK], u64, u64);

/// One block mapped byte for byte: whitespace to a space, letters to lower
/// case; and the bit masks of its whitespace and of its non-ASCII bytes.
#[inline(always)]
fn map_block(block: &[u8; BLOCK]) -> Mapped {
    let mut mapped = [0u8; BLOCK];
    let mut spaces = 0u64;
    let mut high = 0u64;
    for (i, (&c, m)) in block.iter().zip(mapped.iter_mut()).enumerate() {
        let space = is_ascii_space(c);
        *m = if space { b' ' } else { c.to_ascii_lowercase() };
        spaces |= u64::from(space) << i;
        high |= u64::from(c >= 0x80) << i;
    }
    (mapped, spaces, high)
}

/// Appends the canonical form of one block at `out[len..]` (which has room
/// for 64 more bytes) and returns the new length. `valid`: the bytes of the
/// block that are text; `prev_space`: bit 0 set when the byte before the
/// block was whitespace (or nothing was written yet). A whitespace byte after
/// whitespace is dropped, the others are kept (whitespace as a space,
/// letters lowercased), copied in runs: no branch per byte.
#[inline(always)]
fn collapse_block(
    masks: impl BlockMasks,
    block: &[u8; BLOCK],
    valid: u64,
    out: &mut [u8],
    len: usize,
    prev_space: &mut u64,
) -> (usize, u64) {
    let mapped = masks.map(block);
    let high = mapped.2;
    (collapse_mapped(mapped, valid, out, len, prev_space), high)
}

/// [`collapse_block`] of a block already mapped by [`map_block`].
#[inline(always)]
fn collapse_mapped(
    (mapped, spaces, _): Mapped,
    valid: u64,
    out: &mut [u8],
    mut len: usize,
    prev_space: &mut u64,
) -> usize {
    let dropped = spaces & ((spaces << 1) | *prev_space);
    *prev_space = spaces >> 63;
    let mut keep = !dropped & valid;
    if keep == u64::MAX {
        if let Some(dst) = out.get_mut(len..len + BLOCK) {
            dst.copy_from_slice(&mapped);
            return len + BLOCK;
        }
    }
    // Each run is copied as a whole block from its start: a fixed-size copy
    // (two vector moves, no call to `memmove`). The bytes past the run are
    // overwritten by the next run or block, or lie past the end (where the
    // padding is written last).
    let mut source = [0u8; 2 * BLOCK];
    source[..BLOCK].copy_from_slice(&mapped);
    while keep != 0 {
        let from = keep.trailing_zeros() as usize;
        let run = (!(keep >> from)).trailing_zeros() as usize;
        if let (Some(dst), Some(src)) = (
            out.get_mut(len..len + BLOCK),
            source.get(from..from + BLOCK),
        ) {
            dst.copy_from_slice(src);
        }
        len += run;
        keep &= bits_from(from + run);
    }
    len
}

/// Writes the canonical form of `text` (lowercased, whitespace runs
/// collapsed to one space, trimmed) to the front of `out`, followed by at
/// least [`PAD`] bytes; returns its length. `text` is ASCII, or UTF-8 whose
/// only whitespace is ASCII and whose non-ASCII characters are already in
/// lower case (their bytes are copied unchanged). Works on 64-byte blocks.
#[inline(always)]
fn ascii_exact_form_into(masks: impl BlockMasks, text: &[u8], out: &mut Vec<u8>) -> usize {
    ascii_exact_form_checked(masks, text, out).0
}

/// [`ascii_exact_form_into`], and whether `text` has a non-ASCII byte (for
/// any `text`: the canonical form is the same for every bit of `UNICODE`).
#[inline(always)]
fn ascii_exact_form_checked(
    masks: impl BlockMasks,
    text: &[u8],
    out: &mut Vec<u8>,
) -> (usize, bool) {
    // Every byte read is written first (or is padding written below): only
    // room is needed, so memory kept from earlier texts is not zeroed again.
    let room = text.len() + BLOCK + PAD;
    if out.len() < room {
        out.resize(room, 0);
    }
    let mut len = 0usize;
    // Leading whitespace is dropped like a run after a space.
    let mut prev_space = 1u64;
    let mut high = 0u64;
    let mut blocks = text.chunks_exact(BLOCK);
    for block in &mut blocks {
        let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
            continue;
        };
        let block_high;
        (len, block_high) = collapse_block(masks, block, u64::MAX, out, len, &mut prev_space);
        high |= block_high;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mapped = masks.map_rest(rest);
        high |= mapped.2;
        len = collapse_mapped(mapped, !bits_from(rest.len()), out, len, &mut prev_space);
    }
    if len > 0 && out[len - 1] == b' ' {
        len -= 1;
    }
    out[len..len + PAD].fill(0);
    (len, high != 0)
}

/// Bit `i` set when byte `i` of the block may be part of a word: a lowercase
/// ASCII letter or digit or (with `UNICODE`) a byte of a non-ASCII character;
/// and the mask of the non-ASCII bytes.
#[inline(always)]
fn word_masks<const UNICODE: bool>(block: &[u8; BLOCK]) -> (u64, u64) {
    let mut m = 0u64;
    let mut high = 0u64;
    for (i, &c) in block.iter().enumerate() {
        let alnum = c.wrapping_sub(b'a') < 26 || c.wrapping_sub(b'0') < 10;
        m |= u64::from(alnum || (UNICODE && c >= 0x80)) << i;
        if UNICODE {
            high |= u64::from(c >= 0x80) << i;
        }
    }
    (m, high)
}

/// Bits `from..` of a block.
#[inline(always)]
fn bits_from(from: usize) -> u64 {
    u64::MAX.checked_shl(from as u32).unwrap_or(0)
}

/// Words taken per batch of [`WordBatch`].
const BATCH: usize = 64;
/// A slot's `len` when its `lo` is already the word's hash (a word longer
/// than 16 bytes, hashed on its own).
const HASHED: u64 = u64::MAX;

/// Word hashes written to the front of a slice with room for all of them.
/// Finding words and hashing them are split: the word scan only loads each
/// word's first 16 bytes into a batch; a full batch is hashed by one plain
/// loop over the slots, which vectorises (8 words per AVX-512 step), where
/// hashing word by word would be a chain of scalar multiplies per word.
struct WordBatch<'a> {
    slots: &'a mut WordSlots,
    held: usize,
    out: &'a mut [u64],
    count: usize,
}

/// The words held by a [`WordBatch`]: each one's first 16 bytes (or its
/// hash) and its length. Apart from the batch's counters, so that these
/// stay in registers rather than being written back with every word.
struct WordSlots {
    lo: [u64; BATCH],
    hi: [u64; BATCH],
    len: [u64; BATCH],
}

impl WordSlots {
    #[inline(always)]
    fn new() -> Self {
        Self {
            lo: [0; BATCH],
            hi: [0; BATCH],
            len: [0; BATCH],
        }
    }
}

impl<'a> WordBatch<'a> {
    #[inline(always)]
    fn new(slots: &'a mut WordSlots, out: &'a mut [u64]) -> Self {
        Self {
            slots,
            held: 0,
            out,
            count: 0,
        }
    }

    /// Adds the word `buf[start..start + len]`.
    #[inline(always)]
    fn push(&mut self, buf: &[u8], start: usize, len: usize) {
        if self.held >= BATCH {
            self.flush();
        }
        let slot = self.held % BATCH;
        match buf.get(start..start + WORD_BLOCK) {
            Some(bytes) if len <= WORD_BLOCK => {
                let (lo, hi) = bytes.split_at(8);
                self.slots.lo[slot] = le_u64(lo);
                self.slots.hi[slot] = le_u64(hi);
                self.slots.len[slot] = len as u64;
            }
            _ => {
                self.slots.lo[slot] = word_hash(buf.get(start..start + len).unwrap_or_default());
                self.slots.len[slot] = HASHED;
            }
        }
        self.held += 1;
    }

    /// Hashes the held words to the output.
    #[inline(always)]
    fn flush(&mut self) {
        let held = self.held.min(BATCH);
        // The slice has room for every word (see `word_hashes`), so this
        // always writes.
        if let Some(out) = self.out.get_mut(self.count..self.count + held) {
            let slots = &*self.slots;
            let slots = slots.lo.iter().zip(&slots.hi).zip(&slots.len);
            for (h, ((&lo, &hi), &len)) in out.iter_mut().zip(slots) {
                *h = if len == HASHED {
                    lo
                } else {
                    short_word_hash(lo, hi, len)
                };
            }
            self.count += held;
        }
        self.held = 0;
    }

    /// Hashes what is held; returns the number of words.
    #[inline(always)]
    fn finish(mut self) -> usize {
        self.flush();
        self.count
    }
}

/// Where the word scan stands between blocks.
struct WordCursor {
    in_word: bool,
    start: usize,
    /// Bit 0: whether the last byte of the previous block was in a word.
    carry: u64,
    /// Whether the run being read has a non-ASCII byte in an earlier block.
    high_before: bool,
}

impl WordCursor {
    /// Each change between word and not is one set bit. Word starts and
    /// ends alternate, so they are taken in pairs with `trailing_zeros`:
    /// one step per word, no branch per byte nor on the state.
    #[inline(always)]
    fn block<const UNICODE: bool>(
        &mut self,
        (m, high): (u64, u64),
        base: usize,
        buf: &[u8],
        hashes: &mut WordBatch<'_>,
    ) {
        let before = (m << 1) | self.carry;
        self.carry = m >> 63;
        let mut starts = m & !before;
        let mut ends = !m & before;
        if self.in_word {
            if ends == 0 {
                // The run goes on through the whole block.
                self.high_before |= UNICODE && high != 0;
                return;
            }
            let end = ends.trailing_zeros() as usize;
            ends &= ends - 1;
            let unicode = UNICODE && (self.high_before || high & !bits_from(end) != 0);
            self.emit::<UNICODE>(buf, base + end, unicode, hashes);
            self.in_word = false;
        }
        // Each remaining end closes the lowest remaining start.
        while ends != 0 {
            let start = starts.trailing_zeros() as usize;
            let end = ends.trailing_zeros() as usize;
            starts &= starts.wrapping_sub(1);
            ends &= ends - 1;
            self.start = base + start;
            let unicode = UNICODE && high & bits_from(start) & !bits_from(end) != 0;
            self.emit::<UNICODE>(buf, base + end, unicode, hashes);
        }
        if starts != 0 {
            // A run goes on into the next block.
            let start = starts.trailing_zeros() as usize;
            self.start = base + start;
            self.in_word = true;
            self.high_before = UNICODE && high & bits_from(start) != 0;
        }
    }

    /// The run `start..end` ends: one ASCII word, or (with non-ASCII bytes)
    /// the words `char::is_alphanumeric` finds in it.
    #[inline(always)]
    fn emit<const UNICODE: bool>(
        &self,
        buf: &[u8],
        end: usize,
        unicode: bool,
        hashes: &mut WordBatch<'_>,
    ) {
        if !(UNICODE && unicode) {
            hashes.push(buf, self.start, end - self.start);
            return;
        }
        // Runs start and end at ASCII bytes (or the ends), so at character
        // boundaries of the UTF-8 canonical form.
        let Some(run) = buf.get(self.start..end) else {
            return;
        };
        for_each_word_of_utf8(run, |from, len| hashes.push(buf, self.start + from, len));
    }
}

/// Writes the [`word_hash`] of every word of the normalised, lowercase text
/// `buf[..len]` (followed by at least [`PAD`] bytes; with `UNICODE`, any
/// UTF-8, else ASCII only) to the front of `hashes`, in order, and returns
/// how many there are. `hashes` is lengthened when it has too little room;
/// what follows the words is left as it was.
#[inline(always)]
fn word_hashes<const UNICODE: bool>(
    masks: impl BlockMasks,
    buf: &[u8],
    len: usize,
    hashes: &mut Vec<u64>,
) -> usize {
    let text = &buf[..len.min(buf.len())];
    // Words are separated by at least one byte, so there are at most
    // ceil(len / 2) of them.
    let room = text.len() / 2 + 1;
    if hashes.len() < room {
        hashes.resize(room, 0);
    }
    let mut slots = WordSlots::new();
    let mut hashes = WordBatch::new(&mut slots, hashes);
    let mut cursor = WordCursor {
        in_word: false,
        start: 0,
        carry: 0,
        high_before: false,
    };
    let mut base = 0usize;
    let mut blocks = text.chunks_exact(BLOCK);
    for block in &mut blocks {
        let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
            continue;
        };
        cursor.block::<UNICODE>(masks.words::<UNICODE>(block), base, buf, &mut hashes);
        base += BLOCK;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // The last partial block is read in place from `buf` where it has
        // room for a whole block (the canonical form always has), its bits
        // past the text cleared: the same masks as for a zero-padded copy,
        // whose padding is never a word byte.
        let valid = !bits_from(rest.len());
        let (m, high) = match buf.get(base..base + BLOCK).map(<&[u8; BLOCK]>::try_from) {
            Some(Ok(block)) => masks.words::<UNICODE>(block),
            _ => {
                let mut b = [0u8; BLOCK];
                b[..rest.len()].copy_from_slice(rest);
                masks.words::<UNICODE>(&b)
            }
        };
        cursor.block::<UNICODE>((m & valid, high & valid), base, buf, &mut hashes);
    }
    if cursor.in_word {
        let unicode = UNICODE && cursor.high_before;
        cursor.emit::<UNICODE>(buf, text.len(), unicode, &mut hashes);
    }
    hashes.finish()
}

/// Bytes of text whose word starts and ends the AVX-512 word scan finds
/// before it hashes those words.
#[cfg(target_arch = "x86_64")]
const SEGMENT: usize = 16 * BLOCK;
/// Room for the word starts (or ends) of one segment: at most one per two
/// bytes, and a store of 16 past the last one.
#[cfg(target_arch = "x86_64")]
const SEGMENT_ROOM: usize = SEGMENT / 2 + 16;

/// [`word_hashes`] on AVX-512, the same hashes in the same order. Word runs
/// are found in segments of [`SEGMENT`] bytes: the offsets of their starts
/// and ends (one bit each in the block masks) are compressed into two lists
/// with `vpcompressd`, 16 bit positions per instruction, with no branch per
/// word; then the runs are hashed 8 at a time, their first 16 bytes
/// gathered from the text. A group with a run longer than 16 bytes (or,
/// with `UNICODE`, one with a non-ASCII byte) is handled run by run, as
/// [`WordCursor::emit`] does.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn avx512_word_hashes<const UNICODE: bool>(
    masks: Avx512Masks,
    buf: &[u8],
    len: usize,
    hashes: &mut Vec<u64>,
) -> usize {
    use std::mem::MaybeUninit;
    let text_len = len.min(buf.len());
    if buf.len() - text_len < PAD {
        // The gathers below read 16 bytes from each word start.
        return word_hashes::<UNICODE>(masks, buf, len, hashes);
    }
    let room = text_len / 2 + 1;
    if hashes.len() < room {
        hashes.resize(room, 0);
    }
    let out = &mut hashes[..];
    let mut starts = MaybeUninit::<[u32; SEGMENT_ROOM]>::uninit();
    let mut ends = MaybeUninit::<[u32; SEGMENT_ROOM]>::uninit();
    let (starts, ends) = (
        starts.as_mut_ptr().cast::<u32>(),
        ends.as_mut_ptr().cast::<u32>(),
    );
    let mut count = 0usize;
    // The start of a run still open at the start of the segment.
    let mut pending: Option<usize> = None;
    let mut carry = 0u64;
    let mut seg_base = 0usize;
    while seg_base < text_len {
        let seg_end = (seg_base + SEGMENT).min(text_len);
        let (mut n_starts, mut n_ends) = (0usize, 0usize);
        let mut at = seg_base;
        while at < seg_end {
            let m = match buf.get(at..at + BLOCK).map(<&[u8; BLOCK]>::try_from) {
                Some(Ok(block)) => masks.words::<UNICODE>(block).0,
                _ => {
                    let mut b = [0u8; BLOCK];
                    let rest = buf.get(at..text_len).unwrap_or_default();
                    b[..rest.len()].copy_from_slice(rest);
                    masks.words::<UNICODE>(&b).0
                }
            };
            // Only the last block of the text is partial (a segment is
            // whole blocks); its bits past the text are cleared.
            let m = m & !bits_from(seg_end - at);
            let before = (m << 1) | carry;
            carry = m >> 63;
            let rel = (at - seg_base) as u32;
            // SAFETY: the lists have room for every start (end) of the
            // segment, at most one per two of its bytes, and the 16 that
            // one store writes past the last.
            unsafe {
                compress_positions(masks, m & !before, rel, starts, &mut n_starts);
                compress_positions(masks, !m & before, rel, ends, &mut n_ends);
            }
            at += BLOCK;
        }
        // Runs pair the starts and ends in order; the first end closes
        // the run left open by earlier segments, if any.
        let mut first_end = 0;
        if let Some(start) = pending {
            if n_ends == 0 {
                // The run goes on through the whole segment.
                seg_base = seg_end;
                continue;
            }
            // SAFETY: `n_ends > 0` entries of `ends` are written.
            let end = seg_base + unsafe { *ends } as usize;
            emit_run::<UNICODE>(buf, start, end, out, &mut count);
            first_end = 1;
            pending = None;
        }
        let runs = n_ends - first_end;
        // SAFETY: the first `n_starts >= runs` starts and `n_ends` ends are
        // written; their offsets are at most the segment's length from
        // `seg_base`, and the text has `PAD` bytes after it.
        unsafe {
            hash_runs::<UNICODE>(
                masks,
                buf,
                seg_base,
                starts,
                ends.add(first_end),
                runs,
                out,
                &mut count,
            );
        }
        if n_starts > runs {
            // SAFETY: entry `runs < n_starts` is written.
            pending = Some(seg_base + unsafe { *starts.add(runs) } as usize);
        }
        seg_base = seg_end;
    }
    if let Some(start) = pending {
        emit_run::<UNICODE>(buf, start, text_len, out, &mut count);
    }
    count
}

/// Writes the offsets `rel + i` of the set bits `i` of `bits`, in order,
/// to `out[*count..]` and adds their number to `*count`.
///
/// # Safety
/// `out[*count..*count + popcount(bits) + 16]` must be writable.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn compress_positions(
    _: Avx512Masks,
    bits: u64,
    rel: u32,
    out: *mut u32,
    count: &mut usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: `Avx512Masks` proves the CPU has AVX-512 F; each store writes
    // 16 entries from `*count`, within the caller's room.
    unsafe {
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for c in 0..4u32 {
            let chunk = (bits >> (16 * c)) as u16;
            let at = _mm512_add_epi32(iota, _mm512_set1_epi32((rel + 16 * c) as i32));
            let v = _mm512_maskz_compress_epi32(chunk, at);
            _mm512_storeu_si512(out.add(*count).cast(), v);
            *count += chunk.count_ones() as usize;
        }
    }
}

/// The words of the run `buf[start..end]` to `out[*count..]`, one by one: one
/// word, or with `UNICODE` and non-ASCII bytes the words
/// [`for_each_word_of_utf8`] finds in it (as [`WordCursor::emit`]).
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn emit_run<const UNICODE: bool>(
    buf: &[u8],
    start: usize,
    end: usize,
    out: &mut [u64],
    count: &mut usize,
) {
    let run = buf.get(start..end).unwrap_or_default();
    let mut put = |from: usize, len: usize| {
        // A short word from its first 16 bytes, as `WordBatch::push`.
        let hash = match buf.get(start + from..start + from + WORD_BLOCK) {
            Some(bytes) if len <= WORD_BLOCK => {
                let (lo, hi) = bytes.split_at(8);
                short_word_hash(le_u64(lo), le_u64(hi), len as u64)
            }
            _ => word_hash(run.get(from..from + len).unwrap_or_default()),
        };
        if let Some(slot) = out.get_mut(*count) {
            *slot = hash;
        }
        *count += 1;
    };
    if UNICODE && !run.is_ascii() {
        for_each_word_of_utf8(run, put);
    } else {
        put(0, run.len());
    }
}

/// The words of the `runs` runs `seg_base + starts[i] .. seg_base + ends[i]`
/// to `out[*count..]`, 8 runs at a time in vector lanes.
///
/// # Safety
/// `starts` and `ends` must have `runs` entries written; each run must lie
/// in `buf` with at least 16 bytes of `buf` from its start.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn hash_runs<const UNICODE: bool>(
    _: Avx512Masks,
    buf: &[u8],
    seg_base: usize,
    starts: *const u32,
    ends: *const u32,
    runs: usize,
    out: &mut [u64],
    count: &mut usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: `Avx512Masks` proves the CPU has AVX-512 F, DQ and VL; the
    // masked loads read only the `runs` entries written; the gathers read
    // 16 bytes from each run's start, which `buf` has (the caller's
    // promise); the store writes `out[*count..*count + lanes]`, checked.
    unsafe {
        let seg = buf.as_ptr().add(seg_base);
        let ones = _mm512_set1_epi64(-1);
        // `mix` in lanes (a macro, not a closure: a closure would not
        // inherit the caller's target features, and its intrinsics would
        // be calls).
        macro_rules! mix {
            ($x:expr) => {{
                let x = $x;
                let x = _mm512_xor_si512(x, _mm512_srli_epi64::<27>(x));
                let x = _mm512_mullo_epi64(x, _mm512_set1_epi64(0x3C79_AC49_2BA7_B653));
                let x = _mm512_xor_si512(x, _mm512_srli_epi64::<33>(x));
                let x = _mm512_mullo_epi64(x, _mm512_set1_epi64(0x1C69_B3F7_4AC4_AE35));
                _mm512_xor_si512(x, _mm512_srli_epi64::<27>(x))
            }};
        }
        let mut i = 0;
        while i < runs {
            let lanes = (runs - i).min(8);
            let lane_mask = (0xFFu32 >> (8 - lanes)) as __mmask8;
            let s = _mm256_maskz_loadu_epi32(lane_mask, starts.add(i).cast());
            let e = _mm256_maskz_loadu_epi32(lane_mask, ends.add(i).cast());
            let len = _mm512_cvtepu32_epi64(_mm256_sub_epi32(e, s));
            let zero = _mm512_setzero_si512();
            let lo = _mm512_mask_i32gather_epi64::<1>(zero, lane_mask, s, seg.cast());
            let hi = _mm512_mask_i32gather_epi64::<1>(zero, lane_mask, s, seg.add(8).cast());
            // As `short_word_hash`: the bytes past the word cleared.
            let bits = _mm512_slli_epi64::<3>(len);
            let lo = _mm512_andnot_si512(_mm512_sllv_epi64(ones, bits), lo);
            let hi_bits = _mm512_sub_epi64(
                _mm512_max_epu64(bits, _mm512_set1_epi64(64)),
                _mm512_set1_epi64(64),
            );
            let hi = _mm512_andnot_si512(_mm512_sllv_epi64(ones, hi_bits), hi);
            let mut odd =
                _mm512_mask_cmpgt_epu64_mask(lane_mask, len, _mm512_set1_epi64(WORD_BLOCK as i64));
            if UNICODE {
                odd |= _mm512_mask_test_epi64_mask(
                    lane_mask,
                    _mm512_or_si512(lo, hi),
                    _mm512_set1_epi64(0x8080_8080_8080_8080_u64 as i64),
                );
            }
            let len_term = _mm512_mullo_epi64(len, _mm512_set1_epi64(WORD_LEN_MUL as i64));
            let state = _mm512_xor_si512(_mm512_set1_epi64(WORD_HASH_SEED as i64), lo);
            let h = mix!(_mm512_xor_si512(
                mix!(state),
                _mm512_xor_si512(hi, len_term)
            ));
            if odd == 0 && *count + lanes <= out.len() {
                _mm512_mask_storeu_epi64(out.as_mut_ptr().add(*count).cast(), lane_mask, h);
                *count += lanes;
            } else {
                // In order: the lanes' hashes where they hold, the runs of
                // the other lanes one by one.
                let mut lane_hashes = [0u64; 8];
                _mm512_storeu_si512(lane_hashes.as_mut_ptr().cast(), h);
                for (lane, &hash) in lane_hashes.iter().enumerate().take(lanes) {
                    if odd & (1 << lane) == 0 {
                        if let Some(slot) = out.get_mut(*count) {
                            *slot = hash;
                        }
                        *count += 1;
                    } else {
                        let start = seg_base + *starts.add(i + lane) as usize;
                        let end = seg_base + *ends.add(i + lane) as usize;
                        emit_run::<UNICODE>(buf, start, end, out, count);
                    }
                }
            }
            i += 8;
        }
    }
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
        /// The settled-text check is the NFKC quick check, every other
        /// character its own lowercase, and no whitespace outside ASCII.
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
                let definition = is_nfkc_quick_yes(t) && own_lowercase && !has_non_ascii_space(t);
                proptest::prop_assert_eq!(is_normalised_but_ascii_case(t), definition);
            }
        }
    }

    proptest::proptest! {
        /// The byte-wise word split is the `str` one; on bytes that are not
        /// UTF-8 the decoder fails where `str::from_utf8` does.
        #[test]
        fn utf8_word_split_matches_str_split(
            text in "\\PC{0,40}",
            mixed in "[a-z0-9 .\u{e9}\u{2019}\u{2014}\u{3a3}\u{df}\u{65e5}\u{301}\u{1f600}\u{430}]{0,30}",
            bytes in proptest::collection::vec(0u8..=255, 0..12),
        ) {
            for t in [&text, &mixed] {
                let mut expected = Vec::new();
                for_each_word(t, |w| {
                    expected.push((w.as_ptr() as usize - t.as_ptr() as usize, w.len()));
                });
                let mut got = Vec::new();
                for_each_word_of_utf8(t.as_bytes(), |from, len| got.push((from, len)));
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
    fn settled_chars_have_the_properties_the_fast_paths_assume() {
        use unicode_normalization::char::canonical_combining_class;
        let mut n = 0;
        for c in (0x80..0x3000).filter_map(char::from_u32) {
            let settled = is_settled_char(c);
            n += usize::from(settled);
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "{c:?}");
            if settled {
                let mut lower = c.to_lowercase();
                assert!(lower.next() == Some(c) && lower.next().is_none(), "{c:?}");
                assert_eq!(is_nfkc_quick([c].into_iter()), IsNormalized::Yes, "{c:?}");
                assert_eq!(canonical_combining_class(c), 0, "{c:?}");
                assert!(!c.is_whitespace(), "{c:?}");
                assert_eq!(is_plain_symbol(c), !c.is_alphanumeric(), "{c:?}");
            }
        }
        assert_eq!(n, 46);
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
            if has_avx2_scan() {
                // SAFETY: the CPU has what the function enables.
                check(&|c, h| unsafe { scan_bytes_avx2::<UNICODE>(text, c, h) })?;
            }
            if has_avx512_scan() {
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
            if has_avx2_scan() {
                // SAFETY: the CPU has what the function enables.
                check(&|c, h| unsafe { scan_text_avx2(text, c, h) })?;
            }
            if has_avx512_scan() {
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

    proptest::proptest! {
        /// The AVX-512 block masks are the portable ones, on any bytes.
        #[test]
        fn avx512_masks_match_portable(bytes in proptest::collection::vec(0u8..=255, BLOCK)) {
            #[cfg(target_arch = "x86_64")]
            if has_avx512_scan() {
                let block = <[u8; BLOCK]>::try_from(&bytes[..]).unwrap_or([0; BLOCK]);
                // SAFETY: the CPU has AVX-512 F and BW.
                let fast = unsafe { Avx512Masks::new() };
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
}

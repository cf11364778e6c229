//! Character sets: which encoding a payload's bytes are in, and their text.
//!
//! The encoding is chosen as browsers choose it (the WHATWG Encoding and
//! HTML standards, simplified), first match wins:
//!
//! 1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE);
//! 2. the `charset` the transport declares ([`Hints::declared`]: the HTTP
//!    `Content-Type` of a response, the WARC one of a resource);
//! 3. a declaration inside the document ([`Markup`]): for HTML the `<meta
//!    charset>` or `<meta http-equiv="Content-Type" content="...;
//!    charset=...">` of the first [`PRESCAN_BYTES`] bytes ([`meta_charset`]),
//!    for XML and XHTML the XML declaration's `encoding` ([`xml_encoding`]);
//!    each also tries the other, as pages are served with the wrong type;
//! 4. UTF-8 when the bytes are valid UTF-8, or mostly so (valid multi-byte
//!    sequences outnumber invalid runs [`MOSTLY_UTF8`] to one: a UTF-8 page
//!    with a stray byte, not a page in a legacy encoding);
//! 5. otherwise `chardetng`'s guess, given the top-level domain of the page's
//!    host when there is one, from the [`DETECT_BYTES`] bytes that start
//!    just before the first byte that is not ASCII.
//!
//! Labels map through [`Encoding::for_label`]; a label it does not know, or
//! one of the labels it maps to the `replacement` encoding, counts as no
//! declaration. In a document (not the transport) UTF-16 means UTF-8 and
//! `x-user-defined` means windows-1252, as the HTML standard says: a
//! declaration readable as ASCII is not in UTF-16.
//!
//! A declared encoding is kept even when the bytes are not valid in it (a
//! lying charset), as browsers keep it: each invalid sequence becomes U+FFFD
//! and is reported ([`Text::invalid`]).

use std::borrow::Cow;

use encoding_rs::{DecoderResult, Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use super::decode::{Decoded, InvalidSpan};

/// Bytes of a document searched for an in-document declaration.
pub const PRESCAN_BYTES: usize = 1024;

/// Bytes fed to the detector, from just before the first byte that is not
/// ASCII: thousands of letters, enough for a sure guess, in bounded time
/// (the detector reads some 10 MB/s of such text, so about 1.6 ms a page).
pub const DETECT_BYTES: usize = 16 << 10;

/// Valid multi-byte UTF-8 sequences per invalid run above which bytes that
/// are not valid UTF-8 are still read as UTF-8.
pub const MOSTLY_UTF8: usize = 4;

/// Which declarations inside the document are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// None (plain text).
    Text,
    /// HTML: `<meta>` first, then an XML declaration.
    Html,
    /// XML or XHTML: the XML declaration first, then `<meta>`.
    Xml,
}

/// Where the chosen encoding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A byte order mark.
    Bom,
    /// The transport's `charset`.
    Declared,
    /// A `<meta>` or an XML declaration in the document.
    Document,
    /// The bytes are (mostly) valid UTF-8.
    Utf8,
    /// `chardetng`'s guess.
    Detected,
}

/// What is known of a payload besides its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Hints<'a> {
    /// The transport's charset label, if any (see [`charset_param`]).
    pub declared: Option<&'a str>,
    /// Which in-document declarations to look for.
    pub markup: Markup,
    /// The top-level domain of the page's host, if known (see [`tld_of`]).
    pub tld: Option<&'a str>,
}

/// The encoding chosen for some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub encoding: &'static Encoding,
    pub source: Source,
    /// Length of the byte order mark, skipped before decoding.
    pub bom_len: usize,
}

impl Choice {
    /// Whether the encoding is UTF-16 (whose text holds NUL bytes).
    pub fn is_utf16(&self) -> bool {
        self.encoding == UTF_16LE || self.encoding == UTF_16BE
    }
}

/// Chooses the encoding of `bytes` (see the module's documentation).
pub fn choose(bytes: &[u8], hints: &Hints<'_>) -> Choice {
    let choice = |encoding, source| Choice {
        encoding,
        source,
        bom_len: 0,
    };
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return Choice {
            encoding,
            source: Source::Bom,
            bom_len,
        };
    }
    if let Some(encoding) = hints.declared.and_then(|l| label(l.as_bytes())) {
        return choice(encoding, Source::Declared);
    }
    let in_document = match hints.markup {
        Markup::Text => None,
        Markup::Html => meta_charset(bytes).or_else(|| xml_encoding(bytes)),
        Markup::Xml => xml_encoding(bytes).or_else(|| meta_charset(bytes)),
    };
    if let Some(encoding) = in_document {
        return choice(encoding, Source::Document);
    }
    if mostly_utf8(bytes) {
        return choice(UTF_8, Source::Utf8);
    }
    let mut detector = chardetng::EncodingDetector::new();
    // ASCII tells encodings apart only between letters that are not: start
    // a little before the first byte that is not ASCII.
    let first = bytes.iter().position(|b| !b.is_ascii()).unwrap_or(0);
    let from = first.saturating_sub(64);
    let to = bytes.len().min(from + DETECT_BYTES);
    detector.feed(&bytes[from..to], to == bytes.len());
    let tld = hints.tld.map(str::as_bytes).filter(|t| valid_tld(t));
    choice(detector.guess(tld, true), Source::Detected)
}

/// The encoding a label names; `None` for unknown labels and those of the
/// `replacement` encoding.
fn label(label: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_label(label).filter(|e| *e != encoding_rs::REPLACEMENT)
}

/// The encoding a declaration inside a document names: UTF-16 means UTF-8,
/// `x-user-defined` windows-1252.
fn document_label(bytes: &[u8]) -> Option<&'static Encoding> {
    label(bytes).map(|e| match e {
        e if e == UTF_16LE || e == UTF_16BE => UTF_8,
        e if e == encoding_rs::X_USER_DEFINED => WINDOWS_1252,
        e => e,
    })
}

/// Whether `bytes` are valid UTF-8, or hold at least [`MOSTLY_UTF8`] valid
/// multi-byte sequences per invalid run.
fn mostly_utf8(bytes: &[u8]) -> bool {
    if std::str::from_utf8(bytes).is_ok() {
        return true;
    }
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    multibyte >= MOSTLY_UTF8 * invalid
}

/// Whether a top-level domain is what `chardetng` takes: lowercase ASCII
/// letters, digits and hyphens.
fn valid_tld(tld: &[u8]) -> bool {
    !tld.is_empty()
        && tld
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// The top-level domain (lowercase) of a URI's host: `jp` for
/// `https://www.example.co.jp:8080/x`; `None` for an IP address or a URI
/// without a host.
pub fn tld_of(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.starts_with('[') {
        return None;
    }
    let host = host.split(':').next()?.trim_end_matches('.');
    let tld = host.rsplit('.').next()?.to_ascii_lowercase();
    let is_ip = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    (!is_ip && valid_tld(tld.as_bytes())).then_some(tld)
}

/// The `charset` parameter of a `Content-Type` value, unquoted.
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(['"', '\'']).trim();
        (!value.is_empty()).then_some(value)
    })
}

/// The encoding an HTML document's `<meta>` declares in its first
/// [`PRESCAN_BYTES`] bytes: the HTML standard's prescan, simplified. Comments
/// and other markup are skipped; attribute values may be quoted with `"` or
/// `'`, or not; the first `<meta>` naming an encoding wins.
pub fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let b = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let mut i = 0;
    while let Some(lt) = memchr::memchr(b'<', &b[i..]) {
        i += lt;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = match memchr::memmem::find(&rest[4..], b"-->") {
                Some(end) => i + 4 + end + 3,
                None => return None,
            };
        } else if starts_with_tag(rest, b"<meta") {
            let (attributes, end) = attributes(b, i + 5);
            if let Some(encoding) = meta_encoding(&attributes) {
                return Some(encoding);
            }
            i = end;
        } else if rest.len() > 1 && (rest[1].is_ascii_alphabetic() || rest[1] == b'/') {
            // Another tag: its attributes are read so that a `>` inside a
            // quoted value does not end it.
            let name_end = rest[1..]
                .iter()
                .position(|c| c.is_ascii_whitespace() || *c == b'>')
                .map_or(b.len(), |p| i + 1 + p);
            i = attributes(b, name_end).1;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            i = memchr::memchr(b'>', rest).map_or(b.len(), |p| i + p + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// Whether `rest` starts with `tag` (lowercase, with `<`), any case,
/// followed by white space or `/`.
fn starts_with_tag(rest: &[u8], tag: &[u8]) -> bool {
    rest.len() > tag.len()
        && rest[..tag.len()].eq_ignore_ascii_case(tag)
        && (rest[tag.len()].is_ascii_whitespace() || rest[tag.len()] == b'/')
}

/// A tag's attributes: names (lowercased) and values.
type Attributes<'a> = Vec<(Vec<u8>, &'a [u8])>;

/// The attributes of a tag whose name ends at `i`, and where the tag ends
/// (after its `>`, or the end of `b`).
fn attributes(b: &[u8], mut i: usize) -> (Attributes<'_>, usize) {
    let mut out = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (out, b.len());
        }
        if b[i] == b'>' {
            return (out, i + 1);
        }
        let start = i;
        while i < b.len() && !matches!(b[i], b'=' | b'>' | b'/') && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = b[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            out.push((name, &b[i..i]));
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match b.get(i) {
            Some(&quote @ (b'"' | b'\'')) => {
                // A value still open at the end of the bytes searched is
                // not taken.
                let Some(p) = memchr::memchr(quote, &b[i + 1..]) else {
                    return (out, b.len());
                };
                let value = &b[i + 1..i + 1 + p];
                i += p + 2;
                value
            }
            _ => {
                let start = i;
                while i < b.len() && b[i] != b'>' && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                &b[start..i]
            }
        };
        out.push((name, value));
    }
}

/// The encoding a `<meta>` element with these attributes declares.
fn meta_encoding(attributes: &Attributes<'_>) -> Option<&'static Encoding> {
    let get = |name: &[u8]| {
        attributes
            .iter()
            .find(|(n, _)| n.as_slice() == name)
            .map(|(_, v)| *v)
    };
    if let Some(charset) = get(b"charset") {
        return document_label(charset.trim_ascii());
    }
    let is_content_type =
        get(b"http-equiv").is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"content-type"));
    if !is_content_type {
        return None;
    }
    get(b"content")
        .and_then(charset_in_content)
        .and_then(document_label)
}

/// The charset named in a `<meta>` `content` value (`text/html;
/// charset=Shift_JIS`): the HTML standard's extraction algorithm.
fn charset_in_content(content: &[u8]) -> Option<&[u8]> {
    let lower = content.to_ascii_lowercase();
    let mut from = 0;
    loop {
        let at = from + memchr::memmem::find(&lower[from..], b"charset")?;
        let mut i = at + 7;
        while i < content.len() && content[i].is_ascii_whitespace() {
            i += 1;
        }
        if content.get(i) != Some(&b'=') {
            from = at + 7;
            continue;
        }
        i += 1;
        while i < content.len() && content[i].is_ascii_whitespace() {
            i += 1;
        }
        return match content.get(i) {
            Some(&quote @ (b'"' | b'\'')) => {
                let end = memchr::memchr(quote, &content[i + 1..])?;
                Some(&content[i + 1..i + 1 + end])
            }
            Some(_) => {
                let end = content[i..]
                    .iter()
                    .position(|c| *c == b';' || c.is_ascii_whitespace())
                    .map_or(content.len(), |p| i + p);
                Some(&content[i..end])
            }
            None => None,
        };
    }
}

/// The encoding an XML declaration (`<?xml version="1.0"
/// encoding="EUC-KR"?>`, after optional white space) names.
pub fn xml_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let b = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let b = b.trim_ascii_start();
    if !b.starts_with(b"<?xml") || !b.get(5).is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let decl = &b[..memchr::memmem::find(b, b"?>")?];
    let at = memchr::memmem::find(decl, b"encoding")?;
    let rest = decl[at + 8..].trim_ascii_start().strip_prefix(b"=")?;
    let rest = rest.trim_ascii_start();
    let quote = *rest.first().filter(|q| matches!(q, b'"' | b'\''))?;
    let end = memchr::memchr(quote, &rest[1..])?;
    document_label(rest[1..1 + end].trim_ascii())
}

/// Text decoded in a chosen encoding.
#[derive(Debug)]
pub struct Text<'a> {
    pub text: Cow<'a, str>,
    pub choice: Choice,
    /// The sequences that are not valid in the encoding, each one U+FFFD in
    /// the text; offsets in the bytes given (byte order mark included).
    pub invalid: Vec<InvalidSpan>,
}

/// Decodes `bytes` in the encoding [`choose`] picks.
pub fn decode<'a>(bytes: &'a [u8], hints: &Hints<'_>) -> Text<'a> {
    decode_as(bytes, choose(bytes, hints))
}

/// Decodes `bytes` in the encoding `choice` names (its byte order mark
/// skipped).
pub fn decode_as(bytes: &[u8], choice: Choice) -> Text<'_> {
    let body = &bytes[choice.bom_len.min(bytes.len())..];
    let shift = |spans: Vec<InvalidSpan>| {
        spans
            .into_iter()
            .map(|s| InvalidSpan {
                offset: s.offset + choice.bom_len,
                len: s.len,
            })
            .collect()
    };
    if choice.encoding == UTF_8 {
        if let Ok(text) = std::str::from_utf8(body) {
            return Text {
                text: Cow::Borrowed(text),
                choice,
                invalid: Vec::new(),
            };
        }
        let decoded = Decoded::new(body);
        return Text {
            text: Cow::Owned(decoded.text().to_owned()),
            choice,
            invalid: shift(decoded.invalid_spans().to_vec()),
        };
    }
    let (text, invalid) = decode_legacy(choice.encoding, body);
    Text {
        text: Cow::Owned(text),
        choice,
        invalid: shift(invalid),
    }
}

/// Decodes `bytes` in `encoding` (no byte order mark handling), replacing
/// and recording each malformed sequence.
fn decode_legacy(encoding: &'static Encoding, bytes: &[u8]) -> (String, Vec<InvalidSpan>) {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let room = |decoder: &encoding_rs::Decoder, n: usize| {
        decoder
            .max_utf8_buffer_length_without_replacement(n)
            .unwrap_or(n.saturating_mul(3))
    };
    let mut text = String::with_capacity(room(&decoder, bytes.len()));
    let mut invalid = Vec::new();
    let mut read = 0;
    loop {
        let (result, n) =
            decoder.decode_to_string_without_replacement(&bytes[read..], &mut text, true);
        read += n;
        match result {
            DecoderResult::InputEmpty => return (text, invalid),
            DecoderResult::OutputFull => {
                let more = room(&decoder, bytes.len() - read).max(4);
                text.reserve(more);
            }
            DecoderResult::Malformed(bad, after) => {
                let end = read.saturating_sub(usize::from(after));
                let len = usize::from(bad).max(1).min(end);
                invalid.push(InvalidSpan {
                    offset: end - len,
                    len,
                });
                if text.capacity() - text.len() < 3 {
                    text.reserve(room(&decoder, bytes.len() - read).max(4));
                }
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{EUC_KR, GBK, SHIFT_JIS, WINDOWS_1251};

    fn hints(declared: Option<&str>, markup: Markup) -> Hints<'_> {
        Hints {
            declared,
            markup,
            tld: None,
        }
    }

    #[test]
    fn meta_prescan_finds_both_forms_and_skips_comments_and_quotes() {
        let meta = |html: &str| meta_charset(html.as_bytes()).map(Encoding::name);
        assert_eq!(meta("<meta charset=shift_jis>"), Some("Shift_JIS"));
        assert_eq!(
            meta("<html><HEAD><Meta Charset = 'EUC-KR' />"),
            Some("EUC-KR")
        );
        assert_eq!(
            meta(r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#),
            Some("GBK")
        );
        assert_eq!(
            meta(r#"<meta content='text/html;charset="koi8-r"' http-equiv=content-type>"#),
            Some("KOI8-R")
        );
        // No http-equiv: content alone declares nothing.
        assert_eq!(meta(r#"<meta content="text/html; charset=gbk">"#), None);
        assert_eq!(meta("<!-- <meta charset=gbk> --><p>x</p>"), None);
        assert_eq!(meta(r#"<a title="<meta charset=gbk>">x</a>"#), None);
        assert_eq!(meta("<metadata charset=gbk>"), None);
        // An unknown label is skipped for a later one; UTF-16 means UTF-8.
        assert_eq!(
            meta("<meta charset=klingon><meta charset=windows-1251>"),
            Some("windows-1251")
        );
        assert_eq!(meta("<meta charset=utf-16le>"), Some("UTF-8"));
        assert_eq!(meta("<meta charset=x-user-defined>"), Some("windows-1252"));
        // Only the first 1024 bytes are searched.
        let late = format!("<p>{}</p><meta charset=gbk>", "x".repeat(1100));
        assert_eq!(meta(&late), None);
        // Unended markup does not loop or panic.
        for cut in [
            "<meta",
            "<meta charset",
            "<meta charset='gbk",
            "<!--",
            "<a b='",
            "<",
        ] {
            assert_eq!(meta(cut), None, "{cut}");
        }
    }

    #[test]
    fn xml_declarations_and_charset_params() {
        let xml = |s: &str| xml_encoding(s.as_bytes()).map(Encoding::name);
        assert_eq!(
            xml("<?xml version=\"1.0\" encoding=\"EUC-KR\"?><r/>"),
            Some("EUC-KR")
        );
        assert_eq!(
            xml("  <?xml version='1.0' encoding = 'sjis' ?>"),
            Some("Shift_JIS")
        );
        assert_eq!(xml("<?xml version=\"1.0\"?>"), None);
        assert_eq!(xml("<?xml-stylesheet encoding='gbk'?>"), None);
        assert_eq!(xml("<?xml encoding='utf-16'?>"), Some("UTF-8"));
        assert_eq!(charset_param("text/html; charset=\"GBK\""), Some("GBK"));
        assert_eq!(
            charset_param("text/html;CHARSET=euc-kr;x=y"),
            Some("euc-kr")
        );
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("text/html; charset="), None);
    }

    #[test]
    fn top_level_domains() {
        assert_eq!(
            tld_of("https://www.example.co.jp:8080/x").as_deref(),
            Some("jp")
        );
        assert_eq!(
            tld_of("http://user@NEWS.Example.RU./?q").as_deref(),
            Some("ru")
        );
        assert_eq!(tld_of("http://192.168.0.1/"), None);
        assert_eq!(tld_of("http://[::1]:80/"), None);
        assert_eq!(tld_of("http://xn--p1ai/").as_deref(), Some("xn--p1ai"));
        assert_eq!(tld_of("http://пример.рф/"), None);
        assert_eq!(tld_of("no scheme"), None);
    }

    #[test]
    fn the_order_of_choice() {
        let text = "Вчера вечером мы долго гуляли по набережной и говорили о книгах.";
        let (cp1251, _, _) = WINDOWS_1251.encode(text);
        let choose_in = |bytes: &[u8], h: Hints<'_>| {
            let c = choose(bytes, &h);
            (c.encoding.name(), c.source)
        };
        // A byte order mark wins over everything.
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(
            choose_in(&bom, hints(Some("gbk"), Markup::Html)),
            ("UTF-8", Source::Bom)
        );
        // The transport's charset wins over the document's.
        let mut html = b"<meta charset=gbk>".to_vec();
        html.extend_from_slice(&cp1251);
        assert_eq!(
            choose_in(&html, hints(Some("windows-1251"), Markup::Html)),
            ("windows-1251", Source::Declared)
        );
        assert_eq!(
            choose_in(&html, hints(Some("no-such-charset"), Markup::Html)),
            ("GBK", Source::Document)
        );
        // Plain text has no in-document declarations.
        assert_eq!(
            choose_in(&html, hints(None, Markup::Text)).1,
            Source::Detected
        );
        assert_eq!(
            choose_in(text.as_bytes(), hints(None, Markup::Text)),
            ("UTF-8", Source::Utf8)
        );
        // Mostly UTF-8, with a stray byte: UTF-8.
        let mut stray = text.as_bytes().to_vec();
        stray.push(0xff);
        assert_eq!(
            choose_in(&stray, hints(None, Markup::Text)),
            ("UTF-8", Source::Utf8)
        );
        assert_eq!(
            choose_in(&cp1251, hints(None, Markup::Text)),
            ("windows-1251", Source::Detected)
        );
    }

    #[test]
    fn decoding_reports_each_invalid_sequence_at_its_offset() {
        for (encoding, text) in [
            (
                SHIFT_JIS,
                "今日は雨が降っているので、図書館で本を読みました。",
            ),
            (GBK, "我们明天早上八点在火车站见面。"),
            (EUC_KR, "오늘은 날씨가 좋아서 공원에서 산책을 했습니다."),
            (WINDOWS_1251, "Мы говорили о книгах."),
        ] {
            let (bytes, _, _) = encoding.encode(text);
            let choice = Choice {
                encoding,
                source: Source::Declared,
                bom_len: 0,
            };
            let decoded = decode_as(&bytes, choice);
            assert_eq!(decoded.text, text);
            assert!(decoded.invalid.is_empty());
        }
        // Shift_JIS: 0x82 then a byte that cannot follow it; a lone lead
        // byte at the end.
        let bytes = b"ab\x82\x20cd\x82";
        let choice = Choice {
            encoding: SHIFT_JIS,
            source: Source::Declared,
            bom_len: 0,
        };
        let decoded = decode_as(bytes, choice);
        assert_eq!(decoded.text, "ab\u{fffd} cd\u{fffd}");
        assert_eq!(
            decoded.invalid,
            [
                InvalidSpan { offset: 2, len: 1 },
                InvalidSpan { offset: 6, len: 1 }
            ]
        );
        // UTF-16 with its mark; an odd last byte is invalid.
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend("hé".encode_utf16().flat_map(u16::to_le_bytes));
        utf16.push(b'x');
        let decoded = decode(&utf16, &hints(None, Markup::Text));
        assert!(decoded.choice.is_utf16());
        assert_eq!(decoded.text, "hé\u{fffd}");
        assert_eq!(decoded.invalid, [InvalidSpan { offset: 6, len: 1 }]);
    }
}

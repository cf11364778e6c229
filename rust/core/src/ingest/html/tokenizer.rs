//! A forgiving HTML tokenizer that finds only what text extraction needs:
//! text, and the names of start and end tags.
//!
//! It follows the HTML standard's tokenizer where that matters for text and
//! is simpler elsewhere (see the module docs of [`super`] for the
//! fallbacks). Markup is skipped with `memchr` searches, so the cost is
//! linear in the input: every search consumes what it looked at, and
//! nothing is scanned twice.

use memchr::{memchr, memchr3, memmem};

/// One token: character data or a tag. Comments, doctypes, processing
/// instructions and CDATA outside foreign content are consumed silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token<'a> {
    /// Character data as written (character references not yet decoded).
    Text(&'a str),
    /// Character data that must not be decoded (a CDATA section's content).
    Verbatim(&'a str),
    /// A start tag: its name as written, and whether it ends with `/>`.
    Start { name: &'a str, self_closing: bool },
    /// An end tag: its name as written.
    End { name: &'a str },
}

/// A cursor over an HTML document.
pub(super) struct Tokenizer<'a> {
    html: &'a str,
    pos: usize,
    /// Whether the consumer is inside foreign content (SVG or MathML),
    /// where `<![CDATA[...]]>` is text rather than a bogus comment.
    pub(super) foreign: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer at the start of `html`.
    pub(super) fn new(html: &'a str) -> Self {
        Self {
            html,
            pos: 0,
            foreign: false,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.html.as_bytes()
    }

    /// `html[from..to]`; both ends always fall on ASCII bytes or the ends.
    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.html.get(from..to).unwrap_or_default()
    }

    /// The next token, or `None` at the end of the input.
    pub(super) fn next_token(&mut self) -> Option<Token<'a>> {
        let bytes = self.bytes();
        loop {
            let start = self.pos;
            if start >= bytes.len() {
                return None;
            }
            let lt = match memchr(b'<', &bytes[start..]) {
                Some(0) => start,
                Some(i) => {
                    self.pos = start + i;
                    return Some(Token::Text(self.slice(start, start + i)));
                }
                None => {
                    self.pos = bytes.len();
                    return Some(Token::Text(self.slice(start, bytes.len())));
                }
            };
            match bytes.get(lt + 1).copied() {
                Some(b) if b.is_ascii_alphabetic() => return self.tag(lt + 1, false),
                Some(b'/') => match bytes.get(lt + 2).copied() {
                    Some(b) if b.is_ascii_alphabetic() => return self.tag(lt + 2, true),
                    // `</>` is dropped.
                    Some(b'>') => self.pos = lt + 3,
                    // `</` then anything else: a bogus comment up to `>`.
                    Some(_) => self.skip_past_gt(lt + 2),
                    None => {
                        self.pos = bytes.len();
                        return Some(Token::Text(self.slice(lt, bytes.len())));
                    }
                },
                Some(b'!') => {
                    if let Some(text) = self.markup_declaration(lt + 2) {
                        return Some(text);
                    }
                }
                // A processing instruction: a bogus comment up to `>`.
                Some(b'?') => self.skip_past_gt(lt + 2),
                // `<` not starting a tag is text.
                _ => {
                    self.pos = lt + 1;
                    return Some(Token::Text(self.slice(lt, lt + 1)));
                }
            }
        }
    }

    /// Skips to just after the next `>` from `from`, or to the end.
    fn skip_past_gt(&mut self, from: usize) {
        let bytes = self.bytes();
        self.pos = match memchr(b'>', &bytes[from.min(bytes.len())..]) {
            Some(i) => from + i + 1,
            None => bytes.len(),
        };
    }

    /// After `<!`: a comment, a CDATA section, a doctype or a bogus comment.
    /// Returns a CDATA section's text in foreign content.
    fn markup_declaration(&mut self, from: usize) -> Option<Token<'a>> {
        let bytes = self.bytes();
        let rest = &bytes[from..];
        if rest.starts_with(b"--") {
            self.skip_comment(from + 2);
            None
        } else if self.foreign && rest.starts_with(b"[CDATA[") {
            let body = from + 7;
            let (end, next) = match memmem::find(&bytes[body..], b"]]>") {
                Some(i) => (body + i, body + i + 3),
                None => (bytes.len(), bytes.len()),
            };
            self.pos = next;
            Some(Token::Verbatim(self.slice(body, end)))
        } else {
            self.skip_past_gt(from);
            None
        }
    }

    /// Skips a comment whose body starts at `body`: it ends at `-->` or
    /// `--!>`, or at once with `<!-->` and `<!--->`; unclosed, at the end.
    fn skip_comment(&mut self, body: usize) {
        let bytes = self.bytes();
        let rest = &bytes[body..];
        if rest.starts_with(b">") {
            self.pos = body + 1;
            return;
        }
        if rest.starts_with(b"->") {
            self.pos = body + 2;
            return;
        }
        let mut at = body;
        while let Some(i) = memchr(b'-', &bytes[at..]) {
            let dash = at + i;
            let after = &bytes[dash..];
            if after.starts_with(b"-->") {
                self.pos = dash + 3;
                return;
            }
            if after.starts_with(b"--!>") {
                self.pos = dash + 4;
                return;
            }
            at = dash + 1;
        }
        self.pos = bytes.len();
    }

    /// A tag whose name starts at `name_start` (an ASCII letter). A tag cut
    /// by the end of the input is dropped, with the rest of the input.
    fn tag(&mut self, name_start: usize, end: bool) -> Option<Token<'a>> {
        let bytes = self.bytes();
        let name_len = bytes[name_start..]
            .iter()
            .position(|&b| is_space(b) || b == b'/' || b == b'>')
            .unwrap_or(bytes.len() - name_start);
        let name = self.slice(name_start, name_start + name_len);
        let Some(gt) = find_tag_end(bytes, name_start + name_len) else {
            self.pos = bytes.len();
            return None;
        };
        self.pos = gt + 1;
        Some(if end {
            Token::End { name }
        } else {
            let self_closing = gt > name_start + name_len && bytes[gt - 1] == b'/';
            Token::Start { name, self_closing }
        })
    }

    /// The raw content of the element named `name` whose start tag was just
    /// read: everything up to its end tag (`</name` then white space, `/`
    /// or `>`, ASCII case-insensitively), which is consumed too. Without an
    /// end tag, the rest of the input.
    pub(super) fn raw_content(&mut self, name: &str) -> &'a str {
        let bytes = self.bytes();
        let name = name.as_bytes();
        let start = self.pos;
        let mut at = start;
        while let Some(i) = memchr(b'<', &bytes[at..]) {
            let lt = at + i;
            at = lt + 1;
            let Some(after) = bytes.get(lt + 1..) else {
                break;
            };
            let is_end = after.first() == Some(&b'/')
                && after
                    .get(1..=name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                && after
                    .get(name.len() + 1)
                    .is_some_and(|&b| is_space(b) || b == b'/' || b == b'>');
            if is_end {
                let content = self.slice(start, lt);
                self.pos = match find_tag_end(bytes, lt + 2 + name.len()) {
                    Some(gt) => gt + 1,
                    None => bytes.len(),
                };
                return content;
            }
        }
        self.pos = bytes.len();
        self.slice(start, bytes.len())
    }

    /// The byte offset of the next token: right after the last one read.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// Everything left of the input (after `<plaintext>`).
    pub(super) fn rest(&mut self) -> &'a str {
        let start = self.pos;
        self.pos = self.html.len();
        self.slice(start, self.html.len())
    }
}

/// The position of the `>` that ends a tag whose attributes start at
/// `from`, or `None` if the input ends first. A quote opens a quoted
/// attribute value (where `>` does not end the tag) only right after `=`
/// and optional white space, as in the standard.
fn find_tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let i = memchr3(b'>', b'"', b'\'', bytes.get(at..)?)?;
        let hit = at + i;
        let quote = bytes[hit];
        if quote == b'>' {
            return Some(hit);
        }
        let opens_value = bytes[from..hit]
            .iter()
            .rev()
            .find(|&&b| !is_space(b))
            .is_some_and(|&b| b == b'=');
        at = if opens_value {
            hit + 1 + memchr(quote, &bytes[hit + 1..])? + 1
        } else {
            hit + 1
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(html: &str) -> Vec<Token<'_>> {
        let mut t = Tokenizer::new(html);
        std::iter::from_fn(|| t.next_token()).collect()
    }

    fn start(name: &str) -> Token<'_> {
        Token::Start {
            name,
            self_closing: false,
        }
    }

    #[test]
    fn text_and_tags() {
        assert_eq!(
            tokens("a<b>c</b >d"),
            [
                Token::Text("a"),
                start("b"),
                Token::Text("c"),
                Token::End { name: "b" },
                Token::Text("d")
            ]
        );
    }

    #[test]
    fn uppercase_names_are_kept_as_written() {
        assert_eq!(tokens("<DIV>")[0], start("DIV"));
    }

    #[test]
    fn attributes_with_quoted_gt() {
        assert_eq!(
            tokens(r#"<a title="x > y" data-q='>'>t</a>"#),
            [start("a"), Token::Text("t"), Token::End { name: "a" }]
        );
        // A quote not after `=` is part of a name or an unquoted value.
        assert_eq!(tokens(r#"<a b=c"d>t"#), [start("a"), Token::Text("t")]);
        assert_eq!(tokens(r#"<a x = 'y>z'>t"#), [start("a"), Token::Text("t")]);
    }

    #[test]
    fn self_closing() {
        assert_eq!(
            tokens("<svg/>")[0],
            Token::Start {
                name: "svg",
                self_closing: true
            }
        );
    }

    #[test]
    fn lt_not_starting_a_tag_is_text() {
        assert_eq!(
            tokens("1 < 2 <3 <"),
            [
                Token::Text("1 "),
                Token::Text("<"),
                Token::Text(" 2 "),
                Token::Text("<"),
                Token::Text("3 "),
                Token::Text("<")
            ]
        );
        assert_eq!(tokens("a</"), [Token::Text("a"), Token::Text("</")]);
    }

    #[test]
    fn comments_doctype_and_processing_instructions_are_skipped() {
        assert_eq!(
            tokens("<!DOCTYPE html><?xml x?>a<!-- <b> -- > -->b<!---->c<!-->d<!--->e<!--x--!>f"),
            [
                Token::Text("a"),
                Token::Text("b"),
                Token::Text("c"),
                Token::Text("d"),
                Token::Text("e"),
                Token::Text("f")
            ]
        );
        assert_eq!(tokens("</>a</ x>b"), [Token::Text("a"), Token::Text("b")]);
    }

    #[test]
    fn cut_markup_drops_the_rest() {
        assert_eq!(tokens("a<!-- never closed <b>"), [Token::Text("a")]);
        assert_eq!(tokens("a<b title='x>"), [Token::Text("a")]);
        assert_eq!(tokens("a<b"), [Token::Text("a")]);
        assert_eq!(tokens("a<!doctype"), [Token::Text("a")]);
    }

    #[test]
    fn cdata_is_text_only_in_foreign_content() {
        // Outside, a bogus comment up to the first `>`.
        assert_eq!(tokens("<![CDATA[x<y]]>z"), [Token::Text("z")]);
        let mut t = Tokenizer::new("<![CDATA[x<y]]>z");
        t.foreign = true;
        assert_eq!(t.next_token(), Some(Token::Verbatim("x<y")));
        assert_eq!(t.next_token(), Some(Token::Text("z")));
    }

    #[test]
    fn raw_content_up_to_the_end_tag() {
        let mut t = Tokenizer::new("<script>if (a</b) x='</scriptx>'</SCRIPT >after");
        assert_eq!(t.next_token(), Some(start("script")));
        assert_eq!(t.raw_content("script"), "if (a</b) x='</scriptx>'");
        assert_eq!(t.next_token(), Some(Token::Text("after")));
        let mut t = Tokenizer::new("<style>never closed </style");
        t.next_token();
        assert_eq!(t.raw_content("style"), "never closed </style");
        assert_eq!(t.next_token(), None);
    }

    #[test]
    fn rest_after_plaintext() {
        let mut t = Tokenizer::new("<plaintext><b>x</plaintext>");
        t.next_token();
        assert_eq!(t.rest(), "<b>x</plaintext>");
        assert_eq!(t.next_token(), None);
    }

    #[test]
    fn multibyte_text_is_sliced_on_char_bounds() {
        assert_eq!(
            tokens("é<p>日本</p>"),
            [
                Token::Text("é"),
                start("p"),
                Token::Text("日本"),
                Token::End { name: "p" }
            ]
        );
    }
}

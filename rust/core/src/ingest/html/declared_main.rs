//! The page's declared main content: the first `<main>`, else the first
//! element with `role="main"`, else the only `<article>`; found by a scan
//! of the tokens, without a tree.

use super::elements::{role, Role};
use super::tokenizer::{Token, Tokenizer};

/// The byte range of the content of the declared main element of `html`
/// (from after its start tag to before its matching end tag, or to the end
/// of the input when it is not closed), if the page declares one.
pub(super) fn declared_main(html: &str) -> Option<(usize, usize)> {
    let (name, start) = find_start(html)?;
    Some((start, matching_end(html, start, name)))
}

/// The name (as written) of the declared main element and the offset just
/// after its start tag.
fn find_start(html: &str) -> Option<(&str, usize)> {
    let mut role_main: Option<(&str, usize)> = None;
    let mut articles = 0usize;
    let mut article: Option<(&str, usize)> = None;
    let mut tokens = Tokenizer::new(html);
    while let Some(token) = tokens.next_token() {
        let Token::Start { name, .. } = token else {
            continue;
        };
        if skip_raw(name, &mut tokens) {
            continue;
        }
        let after = tokens.position();
        if name.eq_ignore_ascii_case("main") {
            return Some((name, after));
        }
        if role_main.is_none() && has_role_main(attributes(html, name, after)) {
            role_main = Some((name, after));
        }
        if name.eq_ignore_ascii_case("article") {
            articles += 1;
            article = article.or(Some((name, after)));
        }
    }
    role_main.or(article.filter(|_| articles == 1))
}

/// Skips the content of raw text elements (scripts, styles, ...), whose
/// `<main>` is no element; `true` when `name` was one.
fn skip_raw(name: &str, tokens: &mut Tokenizer<'_>) -> bool {
    match role(name.as_bytes()) {
        Role::HiddenRaw | Role::Xmp | Role::Textarea | Role::Title => {
            tokens.raw_content(name);
            true
        }
        Role::Plaintext => {
            tokens.rest();
            true
        }
        _ => false,
    }
}

/// The offset of the end tag matching an element named `name` whose
/// content starts at `start`: elements of the same name inside it are
/// counted in and out. Without one, the end of the input.
fn matching_end(html: &str, start: usize, name: &str) -> usize {
    let rest = html.get(start..).unwrap_or_default();
    let mut depth = 0u32;
    let mut tokens = Tokenizer::new(rest);
    while let Some(token) = tokens.next_token() {
        match token {
            Token::Start { name: inner, .. } => {
                if skip_raw(inner, &mut tokens) {
                    continue;
                }
                if inner.eq_ignore_ascii_case(name) {
                    depth += 1;
                }
            }
            Token::End { name: inner } if inner.eq_ignore_ascii_case(name) => {
                if depth == 0 {
                    // The end tag starts with `</` right before its name.
                    return start + offset_in(rest, inner) - 2;
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    html.len()
}

/// The offset of `part`, a slice of `whole`, in `whole`.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// The attributes of a start tag whose name is `name` (a slice of `html`)
/// and which ends just before `after`.
fn attributes<'a>(html: &'a str, name: &str, after: usize) -> &'a str {
    let from = offset_in(html, name) + name.len();
    html.get(from..after.saturating_sub(1)).unwrap_or_default()
}

/// Whether `attrs` hold `role="main"` (the first role token, ASCII
/// case-insensitively; quoted or not).
fn has_role_main(attrs: &str) -> bool {
    let bytes = attrs.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        let name_start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() && !b"=/>".contains(&bytes[at]) {
            at += 1;
        }
        let attr_name = &bytes[name_start..at];
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes.get(at) != Some(&b'=') {
            if at == name_start {
                at += 1;
            }
            continue;
        }
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let value = match bytes.get(at) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let end = memchr::memchr(q, &bytes[at + 1..]).map_or(bytes.len(), |i| at + 1 + i);
                let value = &bytes[at + 1..end];
                at = end + 1;
                value
            }
            _ => {
                let start = at;
                while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
                    at += 1;
                }
                &bytes[start..at]
            }
        };
        if attr_name.eq_ignore_ascii_case(b"role") {
            return value
                .split(|b| b.is_ascii_whitespace())
                .find(|t| !t.is_empty())
                .is_some_and(|t| t.eq_ignore_ascii_case(b"main"));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(html: &str) -> Option<&str> {
        declared_main(html).map(|(s, e)| &html[s..e])
    }

    #[test]
    fn main_element() {
        let html = "<nav>n</nav><MAIN id=x><p>body</p></MAIN><footer>f</footer>";
        assert_eq!(content(html), Some("<p>body</p>"));
    }

    #[test]
    fn main_wins_over_role_main_and_article() {
        let html = "<div role=main>a</div><article>b</article><main>c</main>";
        assert_eq!(content(html), Some("c"));
    }

    #[test]
    fn role_main_any_case_and_quote() {
        assert_eq!(
            content("<div class='x' ROLE=\"Main\">a<div>b</div></div>c"),
            Some("a<div>b</div>")
        );
        assert_eq!(content("<section role='main note'>a</section>"), Some("a"));
        assert_eq!(content("<section role=main>a</section>"), Some("a"));
        assert_eq!(content("<div data-role=main>a</div>"), None);
        assert_eq!(content("<div role=\"navigation\" title=main>a</div>"), None);
    }

    #[test]
    fn nested_same_tag_inside() {
        let html = "<div role=main><div><div>x</div></div>y</div>z</div>";
        assert_eq!(content(html), Some("<div><div>x</div></div>y"));
    }

    #[test]
    fn unclosed_runs_to_the_end() {
        assert_eq!(
            content("<main><p>a<main>b</main>"),
            Some("<p>a<main>b</main>")
        );
    }

    #[test]
    fn only_a_single_article() {
        assert_eq!(content("<article>a</article>"), Some("a"));
        assert_eq!(content("<article>a</article><article>b</article>"), None);
        assert_eq!(content("<div>no main</div>"), None);
    }

    #[test]
    fn main_in_scripts_and_comments_is_no_element() {
        let html = "<script>'<main>'</script><!-- <main> --><main>m</main>";
        assert_eq!(content(html), Some("m"));
        let html = "<main>a<script>'</main>'</script>b</main>";
        assert_eq!(content(html), Some("a<script>'</main>'</script>b"));
    }
}

//! Main mode: the main content, as Mozilla's Readability finds it.
//!
//! `dom_smoothie` (a Rust port of Readability.js) was chosen over the Rust
//! ports of trafilatura by measured quality and speed on real pages (see
//! `benches/RESULTS.md`, "HTML text extraction"). Its article HTML is laid
//! out by the text mode, so that both modes break lines and decode
//! references alike.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::declared_main::declared_main;
use super::guard::beyond_limits;
use super::visible::visible_text;

/// A declared main element (see [`declared_main`]) whose text has at least
/// this many characters is the main content ...
pub(super) const MIN_DECLARED_CHARS: usize = 200;

/// ... and so is a shorter one (not empty) when the text of the page
/// outside it has fewer characters than this: too few to hold an article
/// that the declaration would miss (Readability wants 500 for one).
pub(super) const MAX_OUTSIDE_CHARS: usize = 1000;

/// The extractor's text is dropped for the whole page's when it has fewer
/// characters than this ...
pub(super) const TINY_CHARS: usize = 500;

/// ... and less than this share (in percent) of the page's visible text.
pub(super) const TINY_PERCENT: usize = 40;

/// The main-mode text of `html`: the declared main element's text when it
/// is long enough (see [`MIN_DECLARED_CHARS`] and [`MAX_OUTSIDE_CHARS`]),
/// else the extractor's unless it is tiny next to the page's visible text
/// ([`TINY_CHARS`], [`TINY_PERCENT`]), else the visible text.
pub(super) fn main_mode_text(html: &str) -> String {
    let mut page: Option<(String, usize)> = None;
    if let Some((start, end)) = declared_main(html) {
        let text = visible_text(html.get(start..end).unwrap_or_default()).0;
        let chars = text.chars().count();
        if chars >= MIN_DECLARED_CHARS
            || (chars > 0 && page_text(html, &mut page).1.saturating_sub(chars) < MAX_OUTSIDE_CHARS)
        {
            return text;
        }
    }
    let extracted = main_text(html);
    let (page, page_chars) = page.unwrap_or_else(|| with_chars(visible_text(html).0));
    match extracted {
        Some(text) => {
            let chars = text.chars().count();
            if chars < TINY_CHARS && chars * 100 < page_chars * TINY_PERCENT {
                page
            } else {
                text
            }
        }
        None => page,
    }
}

/// The visible text of the whole page and its length in characters,
/// computed once into `page`.
fn page_text<'a>(html: &str, page: &'a mut Option<(String, usize)>) -> &'a (String, usize) {
    page.get_or_insert_with(|| with_chars(visible_text(html).0))
}

fn with_chars(text: String) -> (String, usize) {
    let chars = text.chars().count();
    (text, chars)
}

/// Pages whose elements may nest deeper than this are not given to the
/// extractor (whose time grows with depth times size): they get the text
/// mode's result.
pub(super) const MAX_DEPTH: u32 = 128;

/// Nor are pages with more `&` than this in their text (the time to
/// serialise a text node grows with the square of its `&`).
pub(super) const MAX_AMPERSANDS: usize = 65_536;

/// The text of the main content of `html`, or `None` when none is found
/// (no article, empty text, a failure inside the extractor, or a page
/// beyond [`MAX_DEPTH`] or [`MAX_AMPERSANDS`]).
pub(super) fn main_text(html: &str) -> Option<String> {
    if beyond_limits(html, MAX_DEPTH, MAX_AMPERSANDS) {
        return None;
    }
    let article = catch_unwind(AssertUnwindSafe(|| {
        dom_smoothie::Readability::new(html, None, None)
            .and_then(|mut readability| readability.parse())
            .ok()
            .map(|article| article.content.to_string())
    }))
    .ok()
    .flatten()?;
    let (text, _) = visible_text(&article);
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(prefix: &str) -> String {
        let para = "<p>A long paragraph of the article, with commas, words, and more words \
            about the subject at hand, long enough to be scored as content.</p>";
        format!("{prefix}<article>{}</article>", para.repeat(8))
    }

    #[test]
    fn finds_the_article() {
        let text = main_text(&article("<nav><a href=/>Home</a></nav>"));
        assert!(text.is_some_and(|t| t.starts_with("A long paragraph") && !t.contains("Home")));
    }

    fn filler(words: usize) -> String {
        "word ".repeat(words)
    }

    #[test]
    fn a_declared_main_element_wins() {
        let html = format!(
            "<nav>{}</nav><main><p>{}</p></main><div>{}</div>",
            filler(50),
            "main text ".repeat(30),
            article("")
        );
        let text = main_mode_text(&html);
        assert!(text.starts_with("main text") && !text.contains("word") && !text.contains("long"));
    }

    #[test]
    fn role_main_with_nested_same_tag() {
        let html = format!(
            "<div role=\"MAIN\"><div>{}</div><div>tail</div></div><div>{}</div>",
            "main text ".repeat(30),
            filler(40)
        );
        let text = main_mode_text(&html);
        assert!(
            text.starts_with("main text") && text.ends_with("tail"),
            "{text}"
        );
    }

    #[test]
    fn an_unclosed_main_runs_to_the_end() {
        let html = format!(
            "<nav>{}</nav><main><p>{}",
            filler(30),
            "main text ".repeat(30)
        );
        assert!(main_mode_text(&html).starts_with("main text"));
    }

    #[test]
    fn a_short_main_on_a_short_page_is_kept() {
        let html = format!("<main>Chapter</main><div>{}</div>", filler(40));
        assert_eq!(main_mode_text(&html), "Chapter");
    }

    #[test]
    fn a_short_main_beside_much_text_falls_back_to_the_extractor() {
        let html = format!("<main>Hero banner</main>{}", article("<nav>Home</nav>"));
        let text = main_mode_text(&html);
        assert!(
            text.starts_with("A long paragraph") && !text.contains("Hero"),
            "{text}"
        );
        let empty = format!("<main> </main>{}", article(""));
        assert!(main_mode_text(&empty).starts_with("A long paragraph"));
    }

    #[test]
    fn without_a_declared_main_the_extractor_decides() {
        let html = article("<nav><a href=/>Home</a></nav>");
        assert_eq!(main_mode_text(&html), main_text(&html).unwrap());
    }

    #[test]
    fn a_tiny_extract_gives_the_whole_page() {
        // A DocBook-like title page: Readability keeps the release lines
        // of the title block, not the table of contents.
        let toc: String = (1..=12)
            .map(|i| {
                format!("<dt><a href=c{i}.html>{i}. Chapter number {i} of the manual</a></dt>")
            })
            .collect();
        let html = format!(
            "<div class=book><div class=titlepage><div><h1>Manual</h1></div>\
             <div><p class=releaseinfo>Release 3.1 11 Apr 2022</p></div>\
             <div><p class=copyright>Copyright 2000-2022 Developers</p></div></div>\
             <div class=toc><p><b>Table of Contents</b></p><dl>{toc}</dl></div></div>"
        );
        let extract = main_text(&html).unwrap_or_default();
        let page = visible_text(&html).0;
        let (e, p) = (extract.chars().count(), page.chars().count());
        assert!(e < TINY_CHARS && e * 100 < p * TINY_PERCENT, "{extract:?}");
        assert_eq!(main_mode_text(&html), page);
    }

    #[test]
    fn pages_beyond_the_limits_are_not_parsed() {
        let deep = "<div>".repeat(MAX_DEPTH as usize + 1);
        assert_eq!(main_text(&article(&deep)), None);
        let shallow = "<div>".repeat(MAX_DEPTH as usize / 2);
        assert!(main_text(&article(&shallow)).is_some());
        let ampersands = format!("<p>{}</p>", "&".repeat(MAX_AMPERSANDS + 1));
        assert_eq!(main_text(&article(&ampersands)), None);
    }
}

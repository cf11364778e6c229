//! HTML to text: what a reader of the page sees.
//!
//! [`html_to_text`] keeps, as [`HtmlMode`] asks:
//! - **`Text`**: the visible text. Scripts, styles, templates, `noscript`,
//!   `iframe`, inline SVG, comments, processing instructions, doctypes and
//!   all markup are dropped, and so is the head (whose only text is the
//!   title). Block elements (`p`, `div`, `li`, `h1`-`h6`, `tr`, `table`,
//!   `section`, `article`, `header`, `footer`, `nav`, `blockquote`, `pre`,
//!   the lists, `form`, `hr`, ... the `display: block` elements of the HTML
//!   standard's rendering section) and `<br>` become line breaks; table
//!   cells are separated by a tab; runs of white space collapse to one space
//!   except inside `pre`, `listing`, `textarea`, `xmp` and `plaintext`;
//!   blank lines collapse; the result is trimmed. Character references are
//!   decoded as the standard says for text: every HTML5 name, the legacy
//!   names without `;`, decimal and hexadecimal numbers (invalid ones
//!   become U+FFFD).
//! - **`Main`**: the main content only, laid out as in `Text` mode. A page
//!   that declares its main content (the first `<main>`, else the first
//!   element whose `role` is `main`, ASCII case-insensitively, else the
//!   page's only `<article>`; its content runs to the matching end tag,
//!   same-name elements inside counted, or to the end of the input) gets
//!   that element's text when it has at least 200 characters, or when it is
//!   not empty and the text outside it has fewer than 1,000 (too little
//!   for an article that the declaration misses). Otherwise Mozilla's
//!   Readability decides (the `dom_smoothie` crate: navigation, headers,
//!   footers and sidebars removed); where it finds no content, fails, or
//!   keeps under 500 characters and under 40% of the page's text (a title
//!   block or a footer rather than the content), the result is the `Text`
//!   mode's.
//! - **`Raw`**: the HTML unchanged.
//!
//! In every mode the first `<title>` outside hidden content (`template`,
//! `svg`) goes to [`HtmlText::title`], with its references decoded and its
//! white space collapsed; `None` when it is missing or empty.
//!
//! # Malformed HTML
//!
//! The text mode is a single forward scan (no tree, no stack of open
//! elements), linear in the input whatever it holds, and never fails. Where
//! the input is broken it falls back as follows:
//! - a tag, comment, doctype or processing instruction cut by the end of the
//!   input drops the rest of the input (as browsers do);
//! - a `script`, `style`, `title`, `textarea` or other raw text element
//!   without its end tag runs to the end of the input;
//! - `<` not followed by a tag name (`1 < 2`, `<3`, `< p>`) is text;
//! - `>` inside a quoted attribute value does not end the tag; a quote
//!   opens a value only right after `=`;
//! - tag names are matched ASCII case-insensitively;
//! - end tags that close nothing, and unclosed or misnested elements, only
//!   move depth counters (never below zero): an unclosed `pre` keeps white
//!   space to the end, an unclosed `template` or `svg` hides the rest;
//! - `<![CDATA[...]]>` is text inside SVG and MathML and a bogus comment
//!   (up to the next `>`) elsewhere, as in the standard;
//! - after `<plaintext>`, the rest of the input is text;
//! - simplifications: the script data escape states (`<!--` inside a
//!   script) are not modelled, so a `</script>` inside a script's comment
//!   ends it; `<noscript>` content is treated as scripting-enabled browsers
//!   do (not shown); the `hidden` attribute and CSS are not read.
//!
//! The main mode parses the page into a tree (`html5ever` through
//! `dom_smoothie`), whose cost grows with the page's depth times its size:
//! a page whose elements may nest more than 128 levels deep (estimated by
//! a scan, never below the real depth), or with more than 65,536 `&` in
//! its text (whose serialisation there is quadratic), is not parsed and
//! gets the text mode's result; so does a page where the extractor fails
//! or panics.

mod declared_main;
mod elements;
mod entities;
mod guard;
mod layout;
mod main_content;
mod sniff;
mod tokenizer;
mod visible;

pub use sniff::looks_like_html;

use super::options::HtmlMode;

/// What is kept of one HTML document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HtmlText {
    /// The text (for [`HtmlMode::Raw`], the HTML itself).
    pub text: String,
    /// The text of the page's first `<title>`, decoded and with its white
    /// space collapsed, when it is not empty.
    pub title: Option<String>,
}

/// The text of `html` as `mode` asks (see the [module docs](self)).
pub fn html_to_text(html: &str, mode: HtmlMode) -> HtmlText {
    match mode {
        HtmlMode::Text => {
            let (text, title) = visible::visible_text(html);
            HtmlText { text, title }
        }
        HtmlMode::Main => {
            let title = visible::title_only(html);
            let text = main_content::main_mode_text(html);
            HtmlText { text, title }
        }
        HtmlMode::Raw => HtmlText {
            text: html.to_owned(),
            title: visible::title_only(html),
        },
    }
}

#[cfg(test)]
mod tests;

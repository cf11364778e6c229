//! Limits that keep tree-based extraction away from pathological pages,
//! checked by a scan without building a tree.
//!
//! - Readability's cost grows with the depth of the tree times its size,
//!   and its recursion with the depth, so a page of 100,000 unclosed
//!   `<div>`s would take minutes or overflow the stack. Real pages nest a
//!   few dozen levels deep.
//! - Serialising a text node costs the square of the number of `&` in it
//!   (in `dom_query`): a megabyte of `&` takes 11 seconds. Real pages have
//!   a few thousand `&` at most, spread over many text nodes.

use std::collections::HashMap;

use super::elements::{role, Role};
use super::tokenizer::{Token, Tokenizer};

/// Whether `html` may go beyond the limits: elements nested deeper than
/// `max_depth`, or more than `max_ampersands` `&` in its text (outside
/// tags, which bounds the `&` of each text node).
///
/// The depth estimate is meant never to fall short of the depth of the tree that
/// an HTML parser builds: it counts the open elements of each name (an end
/// tag closes one of its own name only), counts a `table` as four levels
/// (`table`, `tbody`, `tr`, `td`), and leaves out only void elements,
/// raw text elements, elements that a sibling of the same kind closes
/// (`p`, `li`, `dt`, `dd`, `tr`, `td`, `th`, `option`, ...) and
/// self-closed elements inside SVG or MathML.
pub(super) fn beyond_limits(html: &str, max_depth: u32, max_ampersands: usize) -> bool {
    let mut open: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut depth: u32 = 0;
    let mut foreign: u32 = 0;
    let mut ampersands: usize = 0;
    let mut name_buf = Vec::new();
    let mut tokens = Tokenizer::new(html);
    while let Some(token) = tokens.next_token() {
        match token {
            Token::Start { name, self_closing } => {
                match role(name.as_bytes()) {
                    Role::HiddenRaw | Role::Xmp | Role::Textarea | Role::Title => {
                        tokens.raw_content(name);
                        continue;
                    }
                    Role::Plaintext => return false,
                    _ => {}
                }
                lower_into(name, &mut name_buf);
                let weight = weight(&name_buf);
                if weight == 0 || (self_closing && foreign > 0) {
                    continue;
                }
                if matches!(&name_buf[..], b"svg" | b"math") {
                    foreign += 1;
                }
                *open.entry(name_buf.clone()).or_insert(0) += 1;
                depth += weight;
                if depth > max_depth {
                    return true;
                }
            }
            Token::End { name } => {
                lower_into(name, &mut name_buf);
                if let Some(count) = open.get_mut(&name_buf[..]).filter(|c| **c > 0) {
                    *count -= 1;
                    depth -= weight(&name_buf);
                    if matches!(&name_buf[..], b"svg" | b"math") {
                        foreign -= 1;
                    }
                }
            }
            Token::Text(text) | Token::Verbatim(text) => {
                ampersands += memchr::memchr_iter(b'&', text.as_bytes()).count();
                if ampersands > max_ampersands {
                    return true;
                }
            }
        }
        tokens.foreign = foreign > 0;
    }
    false
}

fn lower_into(name: &str, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
}

/// How many levels an element adds to the tree.
fn weight(lower_name: &[u8]) -> u32 {
    match lower_name {
        b"area" | b"base" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input" | b"link"
        | b"meta" | b"source" | b"track" | b"wbr" | b"param" | b"keygen" | b"frame"
        | b"basefont" | b"bgsound" | b"image" => 0,
        b"p" | b"li" | b"dt" | b"dd" | b"tr" | b"td" | b"th" | b"thead" | b"tbody" | b"tfoot"
        | b"option" | b"optgroup" | b"rb" | b"rt" | b"rtc" | b"rp" | b"colgroup" | b"caption"
        | b"html" | b"head" | b"body" => 0,
        b"table" => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deeper_than(html: &str, limit: u32) -> bool {
        beyond_limits(html, limit, usize::MAX)
    }

    #[test]
    fn shallow_pages_are_not_deep() {
        let page = "<html><head><title>t</title></head><body><div><ul><li>a<li>b</ul>\
            <p>x<p>y<table><tr><td>1<td>2<tr><td>3</table><img src=a><br>\
            <svg><path d=x /><path d=y /></svg></div></body></html>";
        assert!(!deeper_than(&page.repeat(1000), 8));
    }

    #[test]
    fn nesting_is_counted() {
        assert!(deeper_than(&"<div>".repeat(11), 10));
        assert!(!deeper_than(&"<div>".repeat(10), 10));
        assert!(deeper_than(&"<b><i>".repeat(6), 10));
        assert!(deeper_than(&"<table><tr><td>".repeat(3), 10));
        // `<div/>` is an open `div` in HTML.
        assert!(deeper_than(&"<div/>".repeat(11), 10));
    }

    #[test]
    fn stray_end_tags_do_not_lower_the_count() {
        assert!(deeper_than(&"<div></span>".repeat(11), 10));
        assert!(!deeper_than(&"<div></div>".repeat(100), 10));
    }

    #[test]
    fn ampersands_in_text_are_counted() {
        assert!(beyond_limits(&"&amp;".repeat(11), 100, 10));
        assert!(beyond_limits(&"<p>&</p>".repeat(11), 100, 10));
        assert!(!beyond_limits(&"&".repeat(10), 100, 10));
        assert!(!beyond_limits(
            "<a href='?a&b&c&d&e&f&g&h&i&j&k'>x</a>",
            100,
            10
        ));
    }

    #[test]
    fn raw_text_is_skipped() {
        assert!(!deeper_than(
            &format!("<script>{}</script>", "<div>".repeat(100)),
            10
        ));
    }
}

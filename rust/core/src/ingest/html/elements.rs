//! What an element does to the visible text, by its tag name.
//!
//! The lists follow the HTML standard's rendering section: the elements
//! whose default style is `display: block` (or a table part, or a list
//! item) start and end a line; those that are `display: none` or whose
//! content is never shown are hidden.

/// The part an element plays in the visible text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Starts and ends a line (`p`, `div`, `li`, `h1`, `tr`, ...).
    Block,
    /// A table cell (`td`, `th`): separated from the previous cell.
    Cell,
    /// A line break (`br`; `</br>` too, as browsers do).
    Break,
    /// Preformatted text (`pre`, `listing`): white space kept as written.
    Pre,
    /// A raw text element whose content is not shown (`script`, `style`,
    /// `noscript`, `iframe`, `noembed`, `noframes`): skipped to its end tag.
    HiddenRaw,
    /// `xmp`: raw text, shown as preformatted text.
    Xmp,
    /// `textarea`: text with character references, white space kept.
    Textarea,
    /// `title`: text with character references, the page's title.
    Title,
    /// `plaintext`: everything after its start tag is text.
    Plaintext,
    /// An element whose content is parsed but not shown (`template`, `svg`,
    /// `datalist`).
    Hidden,
    /// MathML: foreign content whose text is shown.
    Math,
    /// Anything else (inline elements, unknown names): no effect.
    Inline,
}

/// The role of the element named `name`, ASCII case-insensitively.
pub(super) fn role(name: &[u8]) -> Role {
    // Known names are at most 10 bytes long ("blockquote", "figcaption").
    let mut buf = [0u8; 10];
    let Some(lower) = buf.get_mut(..name.len()) else {
        return Role::Inline;
    };
    for (d, s) in lower.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    match &*lower {
        b"p" | b"div" | b"li" | b"ul" | b"ol" | b"dl" | b"dt" | b"dd" | b"h1" | b"h2" | b"h3"
        | b"h4" | b"h5" | b"h6" | b"hgroup" | b"tr" | b"table" | b"thead" | b"tbody" | b"tfoot"
        | b"caption" | b"colgroup" | b"col" | b"section" | b"article" | b"aside" | b"header"
        | b"footer" | b"nav" | b"main" | b"search" | b"blockquote" | b"address" | b"center"
        | b"dialog" | b"figure" | b"figcaption" | b"form" | b"fieldset" | b"legend"
        | b"details" | b"summary" | b"hr" | b"dir" | b"menu" | b"html" | b"body" | b"frameset"
        | b"frame" | b"optgroup" | b"option" | b"select" => Role::Block,
        b"td" | b"th" => Role::Cell,
        b"br" => Role::Break,
        b"pre" | b"listing" => Role::Pre,
        b"script" | b"style" | b"noscript" | b"iframe" | b"noembed" | b"noframes" => {
            Role::HiddenRaw
        }
        b"xmp" => Role::Xmp,
        b"textarea" => Role::Textarea,
        b"title" => Role::Title,
        b"plaintext" => Role::Plaintext,
        b"template" | b"svg" | b"datalist" => Role::Hidden,
        b"math" => Role::Math,
        _ => Role::Inline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_case_insensitive() {
        assert_eq!(role(b"P"), Role::Block);
        assert_eq!(role(b"BlockQuote"), Role::Block);
        assert_eq!(role(b"SCRIPT"), Role::HiddenRaw);
        assert_eq!(role(b"Td"), Role::Cell);
    }

    #[test]
    fn block_list_covers_the_standard_blocks() {
        for name in [
            "p",
            "div",
            "li",
            "h1",
            "h6",
            "tr",
            "table",
            "section",
            "article",
            "header",
            "footer",
            "nav",
            "blockquote",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "form",
            "hr",
            "figcaption",
            "address",
            "main",
        ] {
            assert_eq!(role(name.as_bytes()), Role::Block, "{name}");
        }
    }

    #[test]
    fn other_roles() {
        assert_eq!(role(b"br"), Role::Break);
        assert_eq!(role(b"th"), Role::Cell);
        assert_eq!(role(b"pre"), Role::Pre);
        assert_eq!(role(b"listing"), Role::Pre);
        for name in ["style", "noscript", "iframe", "noembed", "noframes"] {
            assert_eq!(role(name.as_bytes()), Role::HiddenRaw, "{name}");
        }
        assert_eq!(role(b"xmp"), Role::Xmp);
        assert_eq!(role(b"textarea"), Role::Textarea);
        assert_eq!(role(b"title"), Role::Title);
        assert_eq!(role(b"plaintext"), Role::Plaintext);
        assert_eq!(role(b"template"), Role::Hidden);
        assert_eq!(role(b"svg"), Role::Hidden);
        assert_eq!(role(b"math"), Role::Math);
    }

    #[test]
    fn inline_and_unknown_names_do_nothing() {
        for name in [
            "span",
            "a",
            "b",
            "em",
            "code",
            "blockquotes",
            "x-widget",
            "",
        ] {
            assert_eq!(role(name.as_bytes()), Role::Inline, "{name}");
        }
        assert_eq!(role(b"averyveryverylongname"), Role::Inline);
    }
}

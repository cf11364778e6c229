//! Text mode: the text a reader sees, and the page's title.

use super::elements::{role, Role};
use super::entities::decode;
use super::layout::{collapse, Layout};
use super::tokenizer::{Token, Tokenizer};

/// The visible text of `html` and the text of its first `<title>` (outside
/// hidden content), decoded and collapsed, if that is not empty.
pub(super) fn visible_text(html: &str) -> (String, Option<String>) {
    let mut walk = Walk::default();
    let mut layout = Layout::with_capacity(html.len() / 4);
    let mut tokens = Tokenizer::new(html);
    while let Some(token) = tokens.next_token() {
        walk.token(token, &mut tokens, Some(&mut layout));
    }
    (layout.finish(), walk.title)
}

/// The title of `html` alone, reading no further than its first `<title>`.
pub(super) fn title_only(html: &str) -> Option<String> {
    let mut walk = Walk::default();
    let mut tokens = Tokenizer::new(html);
    while walk.title.is_none() && !walk.title_seen {
        let token = tokens.next_token()?;
        walk.token(token, &mut tokens, None);
    }
    walk.title
}

/// The state of a walk over the tokens: depth counters, not a stack of
/// open elements, so that badly nested or unclosed tags cost nothing.
#[derive(Default)]
struct Walk {
    /// Depth inside hidden elements (`template`, `svg`, `datalist`).
    hidden: u32,
    /// Depth inside `pre` and `listing`.
    pre: u32,
    /// Depth inside MathML.
    math: u32,
    /// Set right after `<pre>`, whose first line feed is dropped.
    after_pre: bool,
    title: Option<String>,
    /// Whether the first title was met (even if empty).
    title_seen: bool,
}

impl Walk {
    /// Handles one token; `layout` is `None` when only the title is wanted.
    fn token<'a>(
        &mut self,
        token: Token<'a>,
        tokens: &mut Tokenizer<'a>,
        layout: Option<&mut Layout>,
    ) {
        let after_pre = std::mem::take(&mut self.after_pre);
        match token {
            Token::Text(text) => {
                if let Some(layout) = layout.filter(|_| self.hidden == 0) {
                    let text = decode(text);
                    if self.pre > 0 {
                        layout.preformatted(drop_first_newline(&text, after_pre));
                    } else {
                        layout.text(&text);
                    }
                }
            }
            Token::Verbatim(text) => {
                if let Some(layout) = layout.filter(|_| self.hidden == 0) {
                    layout.text(text);
                }
            }
            Token::Start { name, self_closing } => {
                self.start(name, self_closing, tokens, layout);
            }
            Token::End { name } => self.end(name, layout),
        }
        tokens.foreign = self.hidden > 0 || self.math > 0;
    }

    fn start<'a>(
        &mut self,
        name: &'a str,
        self_closing: bool,
        tokens: &mut Tokenizer<'a>,
        layout: Option<&mut Layout>,
    ) {
        let shown = layout.filter(|_| self.hidden == 0);
        match role(name.as_bytes()) {
            Role::Block => {
                if let Some(layout) = shown {
                    layout.line_break();
                }
            }
            Role::Break => {
                if let Some(layout) = shown {
                    layout.line_break();
                }
            }
            Role::Cell => {
                if let Some(layout) = shown {
                    layout.cell();
                }
            }
            Role::Pre => {
                if let Some(layout) = shown {
                    layout.line_break();
                }
                self.pre += 1;
                self.after_pre = true;
            }
            Role::HiddenRaw => {
                tokens.raw_content(name);
            }
            Role::Xmp => {
                let text = tokens.raw_content(name);
                if let Some(layout) = shown {
                    layout.line_break();
                    layout.preformatted(text);
                    layout.line_break();
                }
            }
            Role::Textarea => {
                let text = tokens.raw_content(name);
                if let Some(layout) = shown {
                    layout.preformatted(drop_first_newline(&decode(text), true));
                }
            }
            Role::Title if self.math == 0 => {
                let text = tokens.raw_content(name);
                if self.hidden == 0 && !self.title_seen {
                    self.title_seen = true;
                    let title = collapse(&decode(text));
                    self.title = (!title.is_empty()).then_some(title);
                }
            }
            Role::Plaintext => {
                let text = tokens.rest();
                if let Some(layout) = shown {
                    layout.line_break();
                    layout.preformatted(text);
                }
            }
            Role::Hidden => {
                if !self_closing || name.eq_ignore_ascii_case("template") {
                    self.hidden += 1;
                }
            }
            Role::Math => {
                if !self_closing {
                    self.math += 1;
                }
            }
            Role::Title | Role::Inline => {}
        }
    }

    fn end(&mut self, name: &str, layout: Option<&mut Layout>) {
        let shown = layout.filter(|_| self.hidden == 0);
        match role(name.as_bytes()) {
            Role::Block | Role::Break => {
                if let Some(layout) = shown {
                    layout.line_break();
                }
            }
            Role::Pre => {
                self.pre = self.pre.saturating_sub(1);
                if let Some(layout) = shown {
                    layout.line_break();
                }
            }
            Role::Hidden => self.hidden = self.hidden.saturating_sub(1),
            Role::Math => self.math = self.math.saturating_sub(1),
            _ => {}
        }
    }
}

/// `text` without its first line feed when `drop` (the one right after
/// `<pre>` or `<textarea>`, which HTML ignores).
fn drop_first_newline(text: &str, drop: bool) -> &str {
    if !drop {
        return text;
    }
    text.strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .or_else(|| text.strip_prefix('\r'))
        .unwrap_or(text)
}

//! Laying out visible text as a browser renders it, in plain text: runs of
//! white space collapse to one space, block boundaries and `<br>` become one
//! line break (blank lines collapse), table cells are separated by a tab,
//! preformatted text is kept as written, and the result has no leading or
//! trailing white space.

/// A separator waiting to be written before the next text. Stronger ones
/// win: a line break over a tab over a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sep {
    None,
    Space,
    Tab,
    Line,
}

/// Text being laid out.
pub(super) struct Layout {
    out: String,
    pending: Sep,
}

/// HTML's white space: space, tab, line feed, form feed, carriage return.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn is_space_char(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_space)
}

impl Layout {
    /// An empty layout with room for `capacity` bytes.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            pending: Sep::None,
        }
    }

    /// Writes the pending separator, unless nothing was written yet or the
    /// text already ends with white space that serves.
    fn flush(&mut self) {
        let sep = std::mem::replace(&mut self.pending, Sep::None);
        let Some(&last) = self.out.as_bytes().last() else {
            return;
        };
        match sep {
            Sep::None => {}
            Sep::Line if last != b'\n' => self.out.push('\n'),
            Sep::Space | Sep::Tab if !is_space(last) => {
                self.out.push(if sep == Sep::Tab { '\t' } else { ' ' });
            }
            _ => {}
        }
    }

    fn want(&mut self, sep: Sep) {
        self.pending = self.pending.max(sep);
    }

    /// Flowing text: each run of white space becomes one space.
    pub(super) fn text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let word_start = match bytes[at..].iter().position(|&b| !is_space(b)) {
                Some(i) => at + i,
                None => {
                    self.want(Sep::Space);
                    return;
                }
            };
            if word_start > at {
                self.want(Sep::Space);
            }
            let word_end = bytes[word_start..]
                .iter()
                .position(|&b| is_space(b))
                .map_or(bytes.len(), |i| word_start + i);
            self.flush();
            // Both ends are ASCII white space or an end of `text`.
            self.out
                .push_str(text.get(word_start..word_end).unwrap_or_default());
            at = word_end;
        }
    }

    /// Preformatted text, kept as written (line ends normalised to `\n`).
    pub(super) fn preformatted(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.flush();
        if memchr::memchr(b'\r', text.as_bytes()).is_some() {
            self.out
                .push_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
        } else {
            self.out.push_str(text);
        }
    }

    /// A block boundary or a `<br>`: the next text starts a new line.
    pub(super) fn line_break(&mut self) {
        self.want(Sep::Line);
    }

    /// A table cell starts: separated from a previous cell on its line.
    pub(super) fn cell(&mut self) {
        self.want(Sep::Tab);
    }

    /// The laid-out text, trimmed.
    pub(super) fn finish(self) -> String {
        let mut out = self.out;
        let end = out.trim_end_matches(is_space_char).len();
        out.truncate(end);
        let start = out.len() - out.trim_start_matches(is_space_char).len();
        if start > 0 {
            out.drain(..start);
        }
        out
    }
}

/// `text` with white space collapsed to single spaces and trimmed.
pub(super) fn collapse(text: &str) -> String {
    let mut layout = Layout::with_capacity(text.len());
    layout.text(text);
    layout.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_runs_collapse() {
        let mut l = Layout::with_capacity(0);
        l.text("  a \n\t b");
        l.text("c ");
        l.text(" d\r\n");
        assert_eq!(l.finish(), "a bc d");
    }

    #[test]
    fn line_breaks_collapse_and_win_over_spaces() {
        let mut l = Layout::with_capacity(0);
        l.line_break();
        l.text("a ");
        l.line_break();
        l.line_break();
        l.text(" b");
        l.cell();
        l.line_break();
        l.text("c");
        assert_eq!(l.finish(), "a\nb\nc");
    }

    #[test]
    fn cells_are_tab_separated() {
        let mut l = Layout::with_capacity(0);
        for row in [["a", "b"], ["c", "d"]] {
            l.line_break();
            for cell in row {
                l.cell();
                l.text(cell);
            }
        }
        assert_eq!(l.finish(), "a\tb\nc\td");
    }

    #[test]
    fn preformatted_text_is_kept() {
        let mut l = Layout::with_capacity(0);
        l.text("x");
        l.line_break();
        l.preformatted("  a\r\n\r\n  b\rc");
        l.line_break();
        l.text("y");
        assert_eq!(l.finish(), "x\n  a\n\n  b\nc\ny");
    }

    #[test]
    fn result_is_trimmed() {
        let mut l = Layout::with_capacity(0);
        l.preformatted("\n  a  \n");
        assert_eq!(l.finish(), "a");
        assert_eq!(collapse(" \n "), "");
        assert_eq!(collapse(" a  b "), "a b");
    }

    #[test]
    fn non_breaking_spaces_do_not_collapse() {
        assert_eq!(collapse("a\u{a0}\u{a0}b"), "a\u{a0}\u{a0}b");
    }
}

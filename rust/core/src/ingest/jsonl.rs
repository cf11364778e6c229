//! JSON Lines: one JSON object per line.

use std::io::BufRead;

use super::member::ReadContext;
use super::{ErrorKind, Location};

/// Reads JSON Lines.
pub fn read(_reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    cx.error(loc, 0, ErrorKind::Unsupported, "jsonl not read yet");
}

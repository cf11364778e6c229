//! WARC and WET files (Common Crawl).

use std::io::BufRead;

use super::member::ReadContext;
use super::{ErrorKind, Location};

/// Reads WARC or WET records.
pub fn read(_reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    cx.error(loc, 0, ErrorKind::Unsupported, "warc not read yet");
}

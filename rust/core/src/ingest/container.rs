//! Containers: compressed streams (gzip, zstd, bzip2, xz) and archives (tar,
//! zip), read member by member and never extracted to disk.

use std::fs::File;
use std::io::Read;

use super::member::ReadContext;
use super::sniff::Codec;
use super::{ErrorKind, Location};

/// Reads a compressed stream and the member inside it.
pub fn read_compressed(
    codec: Codec,
    _reader: &mut dyn Read,
    loc: &Location,
    _depth: usize,
    cx: &mut ReadContext<'_>,
) {
    cx.error(
        loc,
        0,
        ErrorKind::Unsupported,
        format!("{} not read yet", codec.name()),
    );
}

/// Reads every member of a tar stream.
pub fn read_tar(_reader: &mut dyn Read, loc: &Location, _depth: usize, cx: &mut ReadContext<'_>) {
    cx.error(loc, 0, ErrorKind::Unsupported, "tar not read yet");
}

/// Reads every member of a zip file on disk.
pub fn read_zip_file(_file: File, loc: &Location, _depth: usize, cx: &mut ReadContext<'_>) {
    cx.error(loc, 0, ErrorKind::Unsupported, "zip not read yet");
}

/// Reads every member of a zip archive that is itself a member of a stream.
pub fn read_zip_stream(
    _reader: &mut dyn Read,
    loc: &Location,
    _depth: usize,
    cx: &mut ReadContext<'_>,
) {
    cx.error(loc, 0, ErrorKind::Unsupported, "zip not read yet");
}

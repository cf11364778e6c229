//! Reading one member: sniff its start, unwrap containers (recursing into
//! their members), or hand it to the parser of its format.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use super::bounded::{fill_prefix, read_up_to, ReadContext};
use super::html_fields::parse_with_html;
use super::location::Location;
use super::no_records::report_if_no_records;
use super::read_meter::{FileMeter, Metered};
use super::record::{ErrorKind, Format};
use super::sniff::{self, RandomAccess, Sniffed, SNIFF_BYTES};
use super::text_units::parse_with_units;
use super::{columnar, container, jsonl, paper_listing, plain_text, warc};

/// Buffer size for reading files and decompressed streams.
pub const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Reads one input file. Zip, Parquet and Arrow files are read in place
/// (they need random access); everything else is streamed. Only a regular
/// file is read: anything else (a FIFO, a device, a file of a kernel
/// pseudo-filesystem such as `/proc`) is an error row. A file opened that
/// gives no record is an `empty` row too (see `no_records`); a
/// file that cannot be opened has only the row that says why, as the paths
/// the walk refuses.
pub fn read_file(path: &Path, cx: &mut ReadContext<'_>) {
    read_file_metered(path, cx, None);
}

/// Reads one input file as [`read_file`] does, counting the bytes read of
/// it on `meter` as they are read: all of a streamed file (compressed
/// bytes, as stored) and of a zip file; a Parquet or Arrow file is counted
/// when [`FileMeter::finish`] is called.
pub fn read_file_metered(path: &Path, cx: &mut ReadContext<'_>, meter: Option<&FileMeter<'_>>) {
    let loc = Location::path(path);
    let (file, size) = match open_regular(path) {
        Ok(opened) => opened,
        Err(Refused::Io(e)) => {
            cx.error(&loc, 0, ErrorKind::Io, format!("cannot open file: {e}"));
            return;
        }
        Err(Refused::NotRegular(what)) => {
            let reason = format!("{what}, not a regular file: not read");
            cx.error(&loc, 0, ErrorKind::Unsupported, reason);
            return;
        }
    };
    report_if_no_records(&loc, cx, |cx| read_opened(file, size, &loc, cx, meter));
}

/// Reads the input file opened as `file`, of `size` bytes, counting what
/// is read of it on `meter` (see [`read_file_metered`]).
fn read_opened(
    mut file: File,
    size: u64,
    loc: &Location,
    cx: &mut ReadContext<'_>,
    meter: Option<&FileMeter<'_>>,
) {
    cx.input_budget.set_input_bytes(size);
    let mut magic = [0u8; 16];
    let n = match read_up_to(&mut file, &mut magic).and_then(|n| file.rewind().map(|()| n)) {
        Ok(n) => n,
        Err(e) => {
            cx.error(loc, 0, ErrorKind::Io, format!("cannot read file: {e}"));
            return;
        }
    };
    match sniff::random_access(&magic[..n]) {
        Some(RandomAccess::Zip) => match meter {
            Some(meter) => container::read_zip_file(Metered::new(file, meter), loc, 1, cx),
            None => container::read_zip_file(file, loc, 1, cx),
        },
        Some(RandomAccess::Parquet) => parse_records(Format::Parquet, cx, |cx| {
            columnar::read_parquet(file, loc, cx, meter)
        }),
        Some(RandomAccess::Arrow) => parse_records(Format::Arrow, cx, |cx| match meter {
            Some(meter) => columnar::read_arrow(Metered::new(file, meter), loc, cx),
            None => columnar::read_arrow(file, loc, cx),
        }),
        None => match meter {
            Some(meter) => {
                let file = Metered::new(file, meter);
                let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
                read_member(&mut reader, loc, 0, cx);
            }
            None => {
                let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
                read_member(&mut reader, loc, 0, cx);
            }
        },
    }
}

/// Why [`open_regular`] gave no file.
enum Refused {
    Io(io::Error),
    NotRegular(&'static str),
}

/// Opens `path` for reading if it is a regular file of a real file system;
/// gives the file and its size.
///
/// The walk has already checked the type, but the path may have changed
/// since: the open does not wait (`O_NONBLOCK`, so a FIFO put there opens at
/// once instead of blocking for a writer), and the type is checked again on
/// what was opened, before any read.
fn open_regular(path: &Path) -> Result<(File, u64), Refused> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(Refused::Io)?;
    let meta = file.metadata().map_err(Refused::Io)?;
    if !meta.is_file() {
        return Err(Refused::NotRegular(super::walk::special_kind(&meta)));
    }
    if let Some(what) = pseudo_file_system(&file) {
        return Err(Refused::NotRegular(what));
    }
    // Reads of a regular file never wait, but clear the flag all the same.
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is an open descriptor owned by `file`; F_GETFL and
        // F_SETFL read and set its status flags only.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok((file, meta.len()))
}

/// The kernel pseudo-filesystem `file` lies on, if any: its files claim to
/// be regular but are views of the kernel (`/proc/kmsg` blocks, others never
/// end or change as they are read).
#[cfg(target_os = "linux")]
fn pseudo_file_system(file: &File) -> Option<&'static str> {
    use std::os::fd::AsRawFd;
    const PROC: i64 = 0x9fa0;
    const SYSFS: i64 = 0x6265_6572;
    const DEBUGFS: i64 = 0x6462_6720;
    const TRACEFS: i64 = 0x7472_6163;
    const SECURITYFS: i64 = 0x7363_6673;
    // SAFETY: `statfs` is plain data; fstatfs fills it for an open descriptor.
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `file` owns the descriptor and `stat` is a valid out pointer.
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut stat) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)]
    match stat.f_type as i64 {
        PROC => Some("a file of /proc (procfs)"),
        SYSFS => Some("a file of /sys (sysfs)"),
        DEBUGFS | TRACEFS | SECURITYFS => Some("a file of a kernel pseudo-filesystem"),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn pseudo_file_system(_file: &File) -> Option<&'static str> {
    None
}

/// A stream whose next read fails with the error it holds (then it is empty).
struct FailedRead(Option<io::Error>);

impl Read for FailedRead {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(err) => Err(err),
            None => Ok(0),
        }
    }
}

/// Reads one member (or a whole plain file) from `reader`. `depth` is the
/// number of containers around it. A member that gives no record is an
/// `empty` row (see `no_records`).
pub fn read_member(reader: &mut dyn Read, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
    report_if_no_records(loc, cx, |cx| read_sniffed(reader, loc, depth, cx));
}

/// Sniffs a member and reads it (see [`read_member`]).
fn read_sniffed(reader: &mut dyn Read, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
    if cx.sink.is_stopped() {
        return;
    }
    // A read that fails after some bytes still lets those bytes be sniffed
    // and parsed; the parser then meets the error right after them.
    let mut prefix = vec![0u8; SNIFF_BYTES];
    let (n, failure) = fill_prefix(reader, &mut prefix);
    if let (0, Some(err)) = (n, &failure) {
        cx.read_failed(loc, 0, err);
        return;
    }
    prefix.truncate(n);
    let sniffed = sniff::sniff(&prefix, cx.options.format);
    let mut failed = FailedRead(failure);
    {
        let rest: &mut dyn Read = if failed.0.is_some() {
            &mut failed
        } else {
            reader
        };
        let mut stream = io::Cursor::new(prefix).chain(rest);
        dispatch(sniffed, &mut stream, loc, depth, cx);
    }
    // A failure right after the sniffed bytes that the parser never met (it
    // had all it needed, e.g. a complete tar) is still reported.
    if let Some(err) = failed.0.take() {
        cx.read_failed(loc, n as u64, &err);
    }
}

/// Hands a sniffed member to its container reader or parser.
fn dispatch(
    sniffed: Sniffed,
    stream: &mut dyn Read,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    let enter = |cx: &mut ReadContext<'_>| {
        if depth + 1 > cx.options.limits.max_depth {
            cx.error(
                loc,
                0,
                ErrorKind::Limit,
                format!(
                    "containers nested deeper than max_depth ({}); member not read",
                    cx.options.limits.max_depth
                ),
            );
            return false;
        }
        true
    };
    match sniffed {
        Sniffed::Empty => {
            let reason = format!("empty {}: no data", loc.noun());
            cx.error(loc, 0, ErrorKind::Empty, reason);
        }
        Sniffed::Binary(offset) => cx.report_binary(loc, offset as u64),
        Sniffed::Compressed(codec) => {
            if enter(cx) {
                container::read_compressed(codec, stream, loc, depth + 1, cx);
            }
        }
        Sniffed::Tar => {
            if enter(cx) {
                container::read_tar(stream, loc, depth + 1, cx);
            }
        }
        Sniffed::Zip => {
            if enter(cx) {
                container::read_zip_stream(stream, loc, depth + 1, cx);
            }
        }
        Sniffed::Format(format @ (Format::Parquet | Format::Arrow)) => {
            parse_records(format, cx, |cx| {
                columnar::read_buffered(stream, format, loc, cx)
            });
        }
        Sniffed::Format(format) => {
            let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, stream);
            parse(format, &mut buffered, loc, cx);
        }
    }
}

/// Parses a stream of a text format.
fn parse(format: Format, reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    parse_records(format, cx, |cx| parse_format(format, reader, loc, cx));
}

/// Runs `parse`, a parser of `format`, with HTML turned into text when asked
/// (`html_fields`), then the records cut into units (`text_units`).
fn parse_records(
    format: Format,
    cx: &mut ReadContext<'_>,
    parse: impl FnOnce(&mut ReadContext<'_>),
) {
    parse_with_units(format, cx, |cx| parse_with_html(format, cx, parse));
}

fn parse_format(
    format: Format,
    reader: &mut dyn BufRead,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) {
    match format {
        Format::PaperListing => paper_listing::read(reader, loc, cx),
        Format::PlainText => plain_text::read(reader, loc, cx),
        Format::Jsonl => jsonl::read(reader, loc, cx),
        Format::Warc | Format::Wet => warc::read(reader, loc, cx),
        Format::Parquet | Format::Arrow => columnar::read_buffered(reader, format, loc, cx),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_opened_and_fifos_do_not_block() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fifo = tmp.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        // A plain open of a FIFO with no writer would wait here forever.
        assert!(matches!(open_regular(&fifo), Err(Refused::NotRegular(w)) if w.contains("fifo")));
        assert!(matches!(
            open_regular(Path::new("/dev/null")),
            Err(Refused::NotRegular(_))
        ));
        let proc_file = Path::new("/proc/version");
        if cfg!(target_os = "linux") && proc_file.exists() {
            assert!(matches!(
                open_regular(proc_file),
                Err(Refused::NotRegular(w)) if w.contains("/proc")
            ));
        }
        let plain = tmp.path().join("a.txt");
        std::fs::write(&plain, "words").expect("write");
        let mut text = String::new();
        let (mut file, size) = open_regular(&plain).ok().expect("opens");
        file.read_to_string(&mut text).expect("read");
        assert_eq!(text, "words");
        assert_eq!(size, 5);
    }
}

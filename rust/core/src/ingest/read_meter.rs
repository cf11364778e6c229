//! Bytes of an input file read so far, for progress inside a file: a reader
//! wrapped around the file counts what each read call returns into a
//! scan-wide counter, capped at the file's size, so that a part read twice
//! (a zip's central directory, then its entries) is not counted twice and a
//! file counts exactly its size once done ([`FileMeter::finish`]).

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};

/// The bytes of one input file counted so far into a shared counter.
#[derive(Debug)]
pub struct FileMeter<'a> {
    counter: &'a AtomicU64,
    /// The file's size: what it counts once done, and the cap before.
    size: u64,
    counted: Cell<u64>,
}

impl<'a> FileMeter<'a> {
    /// A meter of a file of `size` bytes (as the walk saw it) that counts
    /// into `counter`.
    pub fn new(counter: &'a AtomicU64, size: u64) -> Self {
        FileMeter {
            counter,
            size,
            counted: Cell::new(0),
        }
    }

    /// Counts `n` bytes read, up to the file's size.
    pub fn add(&self, n: u64) {
        let counted = self.counted.get();
        let n = n.min(self.size - counted);
        if n > 0 {
            self.counted.set(counted + n);
            self.counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The file is done (read whole, or given up): counts the rest of its
    /// size, so that the counter ends at the sum of the sizes.
    pub fn finish(&self) {
        self.add(self.size);
    }

    /// Bytes counted so far.
    pub fn counted(&self) -> u64 {
        self.counted.get()
    }
}

/// A reader that counts the bytes it returns on a [`FileMeter`].
#[derive(Debug)]
pub struct Metered<'m, 'a, R> {
    inner: R,
    meter: &'m FileMeter<'a>,
}

impl<'m, 'a, R> Metered<'m, 'a, R> {
    /// Wraps `inner`, counting on `meter`.
    pub fn new(inner: R, meter: &'m FileMeter<'a>) -> Self {
        Metered { inner, meter }
    }
}

impl<R: Read> Read for Metered<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Metered<'_, '_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reads_up_to_the_size_then_the_rest_once_done() {
        let counter = AtomicU64::new(5);
        let meter = FileMeter::new(&counter, 10);
        let mut reader = Metered::new(io::Cursor::new(vec![7u8; 10]), &meter);
        let mut buf = [0u8; 4];
        reader.read_exact(&mut buf).unwrap();
        assert_eq!((meter.counted(), counter.load(Ordering::Relaxed)), (4, 9));
        reader.seek(SeekFrom::Start(0)).unwrap();
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        // Read 14 bytes in all, of a 10-byte file: capped.
        assert_eq!((meter.counted(), counter.load(Ordering::Relaxed)), (10, 15));
        meter.finish();
        assert_eq!(counter.load(Ordering::Relaxed), 15);
    }

    #[test]
    fn a_file_given_up_early_counts_its_size_once_done() {
        let counter = AtomicU64::new(0);
        let meter = FileMeter::new(&counter, 100);
        meter.add(30);
        meter.finish();
        meter.finish();
        assert_eq!(counter.load(Ordering::Relaxed), 100);
    }
}

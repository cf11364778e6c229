//! Writing files of the index durably: a file is written under a temporary
//! name, flushed to disk, then renamed to its own name, and the directory is
//! flushed so that the rename survives a crash. Every byte goes through a
//! [`FaultPlan`], which tests use to fail a write part-way, as a crash or a
//! full disk would.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where a fault is injected into an index write (tests only set one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Fault {
    /// No fault.
    #[default]
    None,
    /// The write that would take the bytes written past this many fails.
    AfterBytes(u64),
    /// As `AfterBytes`, but standing for a full disk rather than a crash:
    /// the failed operation cleans up after itself.
    DiskFull(u64),
    /// Fails just before the manifest is switched (after its temporary file
    /// is written and flushed).
    BeforeSwitch,
    /// Fails just after the manifest is switched, before anything else.
    AfterSwitch,
}

/// The bytes written so far by one index operation, and its fault.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    pub fault: Fault,
    pub written: u64,
}

impl FaultPlan {
    /// Counts `len` bytes about to be written; an error when they cross the
    /// injected limit.
    pub fn before_write(&mut self, len: usize) -> std::io::Result<()> {
        self.written += len as u64;
        match self.fault {
            Fault::AfterBytes(limit) if self.written > limit => Err(std::io::Error::other(
                format!("injected fault after {limit} bytes"),
            )),
            Fault::DiskFull(limit) if self.written > limit => Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left on device (injected)",
            )),
            _ => Ok(()),
        }
    }

    /// An error when `point` is the injected fault.
    pub fn at(&self, point: Fault) -> Result<()> {
        if self.fault == point && point != Fault::None {
            return Err(Error::Internal(format!("injected fault {point:?}")));
        }
        Ok(())
    }

    /// Whether a fault is injected (then nothing is cleaned up after a
    /// failure, as after a crash).
    pub fn is_armed(&self) -> bool {
        !matches!(self.fault, Fault::None | Fault::DiskFull(_))
    }
}

/// A file being written, counting its bytes and failing where the plan says.
pub(crate) struct PlannedFile<'a> {
    file: std::io::BufWriter<File>,
    plan: &'a mut FaultPlan,
    path: PathBuf,
    /// Bytes written to this file so far.
    pub position: u64,
}

impl<'a> PlannedFile<'a> {
    /// Creates `path` (which must not exist).
    pub fn create(path: &Path, plan: &'a mut FaultPlan) -> Result<Self> {
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| io_error(path, "cannot create", &e))?;
        Ok(Self {
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            plan,
            path: path.to_path_buf(),
            position: 0,
        })
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.plan
            .before_write(bytes.len())
            .and_then(|()| self.file.write_all(bytes))
            .map_err(|e| io_error(&self.path, "cannot write", &e))?;
        self.position += bytes.len() as u64;
        Ok(())
    }

    /// Flushes the file to disk and closes it.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let file = self
            .file
            .into_inner()
            .map_err(|e| io_error(&path, "cannot write", e.error()))?;
        file.sync_all()
            .map_err(|e| io_error(&path, "cannot flush to disk", &e))
    }
}

/// Renames `from` to `to` and flushes their directory.
pub(crate) fn rename_durably(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| io_error(to, "cannot rename into place", &e))?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// Flushes a directory's entries to disk (where the system allows it).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(dir, "cannot flush directory", &e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// An input error about an index file.
pub(crate) fn file_error(path: &Path, offset: u64, reason: impl Into<String>) -> Error {
    Error::Input {
        input: path.display().to_string(),
        member: None,
        offset,
        reason: reason.into(),
    }
}

/// [`file_error`] for an I/O error while doing `what`.
pub(crate) fn io_error(path: &Path, what: &str, error: &std::io::Error) -> Error {
    file_error(path, 0, format!("{what}: {error}"))
}

//! One writer at a time: a writer holds an advisory lock (`flock`) on the
//! index's `LOCK` file and writes its process id and host into it, so that
//! a second writer's error names the holder. The system drops the lock when
//! the holder's process ends, however it ends, so a killed writer never
//! leaves the index locked. (Where `flock` is missing, the lock is the
//! file's exclusive creation, removed when the writer closes.)

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::files::io_error;
use crate::error::{Error, Result};

/// Name of the lock file in the index directory.
pub(crate) const LOCK_FILE: &str = "LOCK";

/// The writer's lock, held until dropped.
#[derive(Debug)]
pub(crate) struct WriterLock {
    #[cfg_attr(unix, allow(dead_code))]
    path: PathBuf,
    /// The open lock file (the lock lives as long as it is open).
    _file: File,
}

/// Who holds the lock, as its file says.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    match text.trim() {
        "" => "another writer".to_string(),
        said => said.to_string(),
    }
}

/// This process, as the lock file names it.
fn me() -> String {
    format!("process {} on host {}", std::process::id(), host_name())
}

/// The machine's host name (empty when unknown).
fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at
        // most that many bytes.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    String::new()
}

fn locked_error(dir: &Path, holder: &str) -> Error {
    Error::Usage(format!(
        "index {} is open for writing by {holder}; one writer at a time",
        dir.display()
    ))
}

impl WriterLock {
    /// Takes the writer's lock of the index in `dir`, or an error naming
    /// its holder.
    #[cfg(unix)]
    pub fn acquire(dir: &Path) -> Result<Self> {
        use std::os::fd::AsRawFd;
        let path = dir.join(LOCK_FILE);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, "cannot open the lock file", &e))?;
        // SAFETY: flock on a file descriptor this function owns.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(locked_error(dir, &holder(&mut file)));
            }
            return Err(io_error(&path, "cannot lock", &error));
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(me().as_bytes()))
            .map_err(|e| io_error(&path, "cannot write the lock file", &e))?;
        Ok(Self { path, _file: file })
    }

    /// Takes the writer's lock of the index in `dir`, or an error naming
    /// its holder.
    #[cfg(not(unix))]
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        match File::options().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                file.write_all(me().as_bytes())
                    .map_err(|e| io_error(&path, "cannot write the lock file", &e))?;
                Ok(Self { path, _file: file })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut file = File::open(&path)
                    .map_err(|e| io_error(&path, "cannot read the lock file", &e))?;
                Err(locked_error(dir, &holder(&mut file)))
            }
            Err(e) => Err(io_error(&path, "cannot create the lock file", &e)),
        }
    }
}

#[cfg(not(unix))]
impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

//! Expand input paths into a sorted list of files, under the symlink policy.
//!
//! The paths given are taken as they are (a link given as an input is
//! followed). Inside a directory, by default, a symbolic link is followed
//! only when it leads to somewhere inside one of the input directories; a
//! link leading out of them is an error row of kind `unsupported`, so that a
//! walk never leaves the trees it was given (a link to `/etc/shadow` or to
//! `/` is not read). `follow_symlinks` follows every link. Whatever the
//! policy, only regular files and directories are read: FIFOs, devices and
//! sockets are error rows, decided from their metadata without opening them
//! (opening a FIFO blocks). A file reached twice (`x` and `./x`, a link, a
//! hard link) is read once.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::Metadata;
use std::path::{Path, PathBuf};

use super::location::Location;
use super::record::{ErrorKind, IngestError};

/// Files found under the inputs, sorted and without repeats, and the inputs
/// that could not be read.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<PathBuf>,
    pub errors: Vec<IngestError>,
}

fn walk_error(path: &Path, kind: ErrorKind, reason: String) -> IngestError {
    Location::path(path).error(0, kind, reason)
}

/// What identifies a file whatever path names it: device and inode on Unix,
/// the canonical path elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum FileId {
    #[cfg_attr(not(unix), allow(dead_code))]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

#[cfg(unix)]
fn file_id(_path: &Path, meta: &Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    FileId::Inode(meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(path: &Path, _meta: &Metadata) -> FileId {
    FileId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// What a file that is neither a regular file nor a directory is, in words.
pub fn special_kind(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a fifo (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "not a regular file"
}

struct Walk {
    follow_symlinks: bool,
    /// Canonical paths of the input directories: the trees a link may lead into.
    roots: Vec<PathBuf>,
    /// For each file, the smallest path found for it.
    files: BTreeMap<FileId, PathBuf>,
    errors: Vec<IngestError>,
    seen_dirs: BTreeSet<PathBuf>,
}

/// Walks `paths`: files are taken as they are, directories recursively.
/// Hidden entries inside directories (names starting with `.`) are skipped;
/// a directory reached twice through symlinks is read once, and so is a file
/// named twice (under the smallest of its paths). Symbolic links inside
/// directories are followed only into the input directories unless
/// `follow_symlinks` (see the module's documentation).
///
/// The inputs are visited in sorted order, so the result does not depend on
/// the order they are given in.
pub fn collect_files(paths: &[PathBuf], follow_symlinks: bool) -> Walked {
    let inputs: BTreeSet<&PathBuf> = paths.iter().collect();
    let roots = inputs
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut walk = Walk {
        follow_symlinks,
        roots,
        files: BTreeMap::new(),
        errors: Vec::new(),
        seen_dirs: BTreeSet::new(),
    };
    for path in inputs {
        walk.visit(path, false);
    }
    let files: BTreeSet<PathBuf> = walk.files.into_values().collect();
    Walked {
        files: files.into_iter().collect(),
        errors: walk.errors,
    }
}

impl Walk {
    /// Reads `path` into the walk. `link`: it is a symbolic link found in a
    /// directory (the inputs themselves are always followed).
    fn visit(&mut self, path: &Path, link: bool) {
        if link && !self.follow_symlinks && !self.link_allowed(path) {
            return;
        }
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                let reason = format!("cannot open: {e}");
                self.errors.push(walk_error(path, ErrorKind::Io, reason));
                return;
            }
        };
        if meta.is_file() {
            let id = file_id(path, &meta);
            let kept = self.files.entry(id).or_insert_with(|| path.to_path_buf());
            if path < kept.as_path() {
                *kept = path.to_path_buf();
            }
            return;
        }
        if !meta.is_dir() {
            let reason = format!(
                "{}, not a regular file or directory: not read",
                special_kind(&meta)
            );
            self.errors
                .push(walk_error(path, ErrorKind::Unsupported, reason));
            return;
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.seen_dirs.insert(canonical) {
            return;
        }
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                let reason = format!("cannot list directory: {e}");
                self.errors.push(walk_error(path, ErrorKind::Io, reason));
                return;
            }
        };
        // (path, whether it may be a link): the entry's type comes with the
        // listing, so a link costs no extra `lstat`; an unknown type is
        // checked as a link would be.
        let mut children: Vec<(PathBuf, bool)> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    if !entry.file_name().to_string_lossy().starts_with('.') {
                        let link = entry.file_type().map_or(true, |t| t.is_symlink());
                        children.push((entry.path(), link));
                    }
                }
                Err(e) => {
                    let reason = format!("cannot list directory entry: {e}");
                    self.errors.push(walk_error(path, ErrorKind::Io, reason));
                }
            }
        }
        children.sort();
        for (child, link) in children {
            self.visit(&child, link);
        }
    }

    /// False (with an error row) when the link `path` leads out of every
    /// input directory. A link that cannot be resolved (dangling, a loop) is
    /// left to the caller, whose `metadata` reports it. (A path that is not a
    /// link resolves to itself, inside the tree being walked.)
    fn link_allowed(&mut self, path: &Path) -> bool {
        let Ok(target) = std::fs::canonicalize(path) else {
            return true;
        };
        if self.roots.iter().any(|root| target.starts_with(root)) {
            return true;
        }
        let reason = format!(
            "symbolic link to {}, outside the input directories: not followed \
             (follow_symlinks=True or --follow-symlinks reads it)",
            target.display()
        );
        self.errors
            .push(walk_error(path, ErrorKind::Unsupported, reason));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(walked: &Walked, dir: &Path) -> Vec<String> {
        walked
            .files
            .iter()
            .map(|p| {
                p.strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn walks_sorted_and_reports_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dir = dir.path();
        let sub = dir.join("b");
        std::fs::create_dir_all(&sub).expect("mkdir");
        for p in [
            dir.join("c.txt"),
            dir.join("a.txt"),
            sub.join("x.txt"),
            dir.join(".hidden"),
        ] {
            std::fs::write(&p, "x").expect("write");
        }
        let paths = [
            dir.to_path_buf(),
            dir.join("a.txt"),
            dir.join("missing.txt"),
        ];
        let walked = collect_files(&paths, false);
        assert_eq!(names(&walked, dir), ["a.txt", "b/x.txt", "c.txt"]);
        assert_eq!(walked.errors.len(), 1);
        assert!(walked.errors[0].reason.starts_with("cannot open"));
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_tree_are_error_rows_unless_followed() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().expect("tempdir");
        let (inside, outside) = (tmp.path().join("in"), tmp.path().join("out"));
        std::fs::create_dir_all(inside.join("real")).expect("mkdir");
        std::fs::create_dir_all(&outside).expect("mkdir");
        std::fs::write(inside.join("real/a.txt"), "a").expect("write");
        std::fs::write(outside.join("secret.txt"), "s").expect("write");
        symlink(&outside, inside.join("leak")).expect("symlink");
        symlink(outside.join("secret.txt"), inside.join("leak.txt")).expect("symlink");
        symlink("real", inside.join("view")).expect("symlink");
        symlink("real/a.txt", inside.join("alias.txt")).expect("symlink");

        let walked = collect_files(std::slice::from_ref(&inside), false);
        // `alias.txt` and `view/a.txt` are `real/a.txt`: read once, under the
        // smallest path.
        assert_eq!(names(&walked, &inside), ["alias.txt"]);
        let errors: Vec<(String, ErrorKind)> = walked
            .errors
            .iter()
            .map(|e| (e.source.clone(), e.kind))
            .collect();
        let source = |name: &str| inside.join(name).to_string_lossy().into_owned();
        assert_eq!(
            errors,
            [
                (source("leak"), ErrorKind::Unsupported),
                (source("leak.txt"), ErrorKind::Unsupported),
            ]
        );
        assert!(walked.errors[1]
            .reason
            .contains(&*outside.join("secret.txt").to_string_lossy()));

        let followed = collect_files(std::slice::from_ref(&inside), true);
        assert_eq!(names(&followed, &inside), ["alias.txt", "leak/secret.txt"]);
        assert!(followed.errors.is_empty());
        // Given both, the link into `out` stays inside the input directories.
        let both = collect_files(&[inside.clone(), outside.clone()], false);
        assert_eq!(both.files.len(), 2);
        assert!(both.errors.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_error_rows() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().expect("tempdir");
        let fifo = tmp.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        symlink("/dev/null", tmp.path().join("null")).expect("symlink");
        for follow in [false, true] {
            let walked = collect_files(&[tmp.path().to_path_buf(), fifo.clone()], follow);
            assert!(walked.files.is_empty());
            assert!(walked
                .errors
                .iter()
                .all(|e| e.kind == ErrorKind::Unsupported));
        }
        let walked = collect_files(&[fifo], false);
        assert!(walked.errors[0].reason.starts_with("a fifo"));
    }
}

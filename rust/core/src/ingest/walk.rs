//! Expand input paths into a sorted list of files.

use std::collections::BTreeSet;
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

fn walk_error(path: &Path, reason: String) -> IngestError {
    Location::file(&path.to_string_lossy()).error(0, ErrorKind::Io, reason)
}

/// Walks `paths`: files are taken as they are, directories recursively.
/// Hidden entries inside directories (names starting with `.`) are skipped;
/// a directory reached twice through symlinks is read once.
pub fn collect_files(paths: &[PathBuf]) -> Walked {
    let mut files = BTreeSet::new();
    let mut errors = Vec::new();
    let mut seen_dirs = BTreeSet::new();
    for path in paths {
        visit(path, &mut files, &mut errors, &mut seen_dirs);
    }
    Walked {
        files: files.into_iter().collect(),
        errors,
    }
}

fn visit(
    path: &Path,
    files: &mut BTreeSet<PathBuf>,
    errors: &mut Vec<IngestError>,
    seen_dirs: &mut BTreeSet<PathBuf>,
) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push(walk_error(path, format!("cannot open: {e}")));
            return;
        }
    };
    if meta.is_file() {
        files.insert(path.to_path_buf());
        return;
    }
    if !meta.is_dir() {
        errors.push(walk_error(
            path,
            "not a regular file or directory; skipped".to_owned(),
        ));
        return;
    }
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if !seen_dirs.insert(canonical) {
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(walk_error(path, format!("cannot list directory: {e}")));
            return;
        }
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                if !entry.file_name().to_string_lossy().starts_with('.') {
                    children.push(entry.path());
                }
            }
            Err(e) => errors.push(walk_error(
                path,
                format!("cannot list directory entry: {e}"),
            )),
        }
    }
    children.sort();
    for child in children {
        visit(&child, files, errors, seen_dirs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_and_reports_missing() {
        let dir = std::env::temp_dir().join(format!("thresher-walk-{}", std::process::id()));
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
        let walked = collect_files(&[dir.clone(), dir.join("a.txt"), dir.join("missing.txt")]);
        let names: Vec<String> = walked
            .files
            .iter()
            .map(|p| {
                p.strip_prefix(&dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a.txt", "b/x.txt", "c.txt"]);
        assert_eq!(walked.errors.len(), 1);
        assert!(walked.errors[0].reason.starts_with("cannot open"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}

//! The layering of ARCHITECTURE.md, checked on the source: a module imports
//! only the modules before it in [`LAYERS`] (its own layer included), so
//! that `ingest` never uses `text` or `dedup`, and no dedup stage uses a
//! stage after it or a driver. Test code (`tests.rs` files and
//! `#[cfg(test)] mod tests` blocks) may use anything.

#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Module paths in data-flow order, support first. A file belongs to the
/// longest of these that prefixes its module path.
const LAYERS: &[&str] = &[
    "error",
    "cancel",
    "arrow_batch",
    "simd",
    "hashsort",
    "heap",
    "process_pool",
    "ingest",
    "text",
    "dedup::exact",
    "dedup::sketch",
    "dedup::lsh",
    "dedup::verify",
    "dedup::cluster",
    "dedup::engine",
    "dedup::in_memory",
    "dedup::arrow",
    "index",
    "parquet_join",
];

/// Modules outside [`LAYERS`] that may use any layer: the crate root and
/// the dedup facade (which declares the stages and holds the types they
/// share).
const FACADES: &[&str] = &["lib", "dedup"];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `dedup/verify/jaccard.rs` -> `dedup::verify::jaccard`; `mod.rs` names
/// its folder.
fn module_path(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("inside src")
        .with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    parts.join("::")
}

/// The layer of a module path, if any.
fn layer_of(path: &str) -> Option<usize> {
    LAYERS
        .iter()
        .enumerate()
        .filter(|(_, layer)| path == **layer || path.starts_with(&format!("{layer}::")))
        .max_by_key(|(_, layer)| layer.len())
        .map(|(i, _)| i)
}

/// The code of a file without its line comments and its inline test module.
fn code_without_tests(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b` path the code names, as `a::b` (or `a`).
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let path: Vec<&str> = rest[..end].split("::").filter(|s| !s.is_empty()).collect();
        if let Some(first) = path.first() {
            let two = path.get(1).map(|second| format!("{first}::{second}"));
            paths.push(two.unwrap_or_else(|| first.to_string()));
        }
    }
    paths
}

#[test]
fn modules_import_only_earlier_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    let mut checked = 0;
    for file in &files {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let module = module_path(&src, file);
        let Some(own) = layer_of(&module) else {
            assert!(FACADES.contains(&module.as_str()), "{module} has no layer");
            continue;
        };
        let code = code_without_tests(&std::fs::read_to_string(file).expect("read"));
        for used in crate_paths(&code) {
            let Some(layer) = layer_of(&used) else {
                continue;
            };
            checked += 1;
            if layer > own {
                upward.push(format!("{module} uses crate::{used}"));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} imports found: is the scan broken?"
    );
    assert!(
        upward.is_empty(),
        "imports against the data flow:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    let code = code_without_tests(
        "use crate::dedup::sketch::Sketcher; // crate::dedup::engine\n\
         #[cfg(test)]\nmod tests {\n    use crate::dedup::engine;\n}\n",
    );
    assert_eq!(crate_paths(&code), ["dedup::sketch"]);
    assert!(layer_of("ingest::scan") < layer_of("dedup::sketch::minhash"));
    assert_eq!(
        layer_of("dedup::verify::jaccard"),
        layer_of("dedup::verify")
    );
    assert!(layer_of("dedup").is_none());
}

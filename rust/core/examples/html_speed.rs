//! Single-thread throughput of HTML to text on real pages held in memory:
//! `cargo run --release -p thresher-core --example html_speed -- [--pages N]
//! [--repeat R] [--list FILE | DIR...]`.
//!
//! The pages are the `.html` files under the directories given (by default
//! the rustdoc HTML of each installed Rust toolchain and `/usr/share/doc`):
//! an equal share of `N` (default 2,000) from each directory, taken evenly
//! spaced in path order, or
//! the files named one per line in `FILE` (as `benches/bench_html.py`
//! writes it, so that Python's extractors see the same pages). Each file is
//! read into memory first (bytes that are not UTF-8 replaced) and then
//! converted page by page, `R` times for each mode (default 3): throughput
//! is input bytes per wall-clock second and per second of this thread's CPU
//! time (Linux), which holds on a busy machine too. The last line of each
//! mode, `mode=... mb_per_cpu_s=...`, is the best run, for scripts.
//!
//! `--dump DIR` also writes, for page `i` of the list, the main mode's text
//! to `DIR/i.main.txt` and, where the page has a known main element (the
//! `<section id="main-content">` of rustdoc, the `<div class="body"
//! role="main">` of Sphinx), the text mode's text of that element to
//! `DIR/i.truth.txt` and of the site's sidebar to `DIR/i.nav.txt`: the
//! ground truth against which `benches/bench_html.py` scores main-content
//! extractors.

use std::path::{Path, PathBuf};
use std::time::Instant;

use thresher_core::ingest::html::html_to_text;
use thresher_core::ingest::HtmlMode;

/// Nanoseconds this thread has run on a CPU (Linux); `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// The `.html` and `.htm` files under `dir`, recursively (links not
/// followed).
fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            html_files(&path, out);
        } else if kind.is_file()
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
        {
            out.push(path);
        }
    }
}

/// The default directories: every toolchain's rustdoc HTML, and Debian's.
fn default_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(home.join(".rustup/toolchains"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("share/doc/rust/html"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.push(PathBuf::from("/usr/share/doc"));
    dirs
}

struct Args {
    pages: usize,
    repeat: usize,
    list: Option<PathBuf>,
    dump: Option<PathBuf>,
    dirs: Vec<PathBuf>,
}

fn parse_args() -> Args {
    let mut args = Args {
        pages: 2000,
        repeat: 3,
        list: None,
        dump: None,
        dirs: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--pages" => args.pages = it.next().and_then(|v| v.parse().ok()).unwrap_or(2000),
            "--repeat" => args.repeat = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--list" => args.list = it.next().map(PathBuf::from),
            "--dump" => args.dump = it.next().map(PathBuf::from),
            _ => args.dirs.push(PathBuf::from(arg)),
        }
    }
    if args.dirs.is_empty() {
        args.dirs = default_dirs();
    }
    args
}

/// The pages to convert, as `parse_args` says.
fn choose(args: &Args) -> Vec<PathBuf> {
    if let Some(list) = &args.list {
        let listed = std::fs::read_to_string(list).unwrap_or_default();
        return listed
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect();
    }
    let mut chosen: Vec<PathBuf> = Vec::new();
    let dirs = args.dirs.len();
    for (n, dir) in args.dirs.iter().enumerate() {
        let share = args.pages * (n + 1) / dirs - args.pages * n / dirs;
        let mut found = Vec::new();
        html_files(dir, &mut found);
        found.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        if found.len() > share {
            found = (0..share)
                .map(|i| found[i * found.len() / share].clone())
                .collect();
        }
        for path in found {
            if !chosen.contains(&path) {
                chosen.push(path);
            }
        }
    }
    chosen
}

/// The HTML of the element that starts at the first `marker` (an opening
/// tag's start), up to its matching `</tag>`, counting nested `tag`s.
fn element<'a>(html: &'a str, marker: &str, tag: &str) -> Option<&'a str> {
    let start = html.find(marker)?;
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut depth = 0usize;
    let mut at = start;
    loop {
        let next_close = at + html[at..].find(&close)?;
        match html[at..].find(&open).map(|i| at + i) {
            Some(next_open) if next_open < next_close => {
                depth += 1;
                at = next_open + open.len();
            }
            _ => {
                depth = depth.saturating_sub(1);
                at = next_close + close.len();
                if depth == 0 {
                    return html.get(start..at);
                }
            }
        }
    }
}

/// Writes the main mode's text and the ground truth of each page to `dir`.
fn dump(pages: &[String], dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let sites = [
        (
            "<section id=\"main-content\"",
            "section",
            "<nav class=\"sidebar",
            "nav",
        ),
        (
            "<div class=\"body\" role=\"main\"",
            "div",
            "<div class=\"sphinxsidebar\"",
            "div",
        ),
    ];
    for (i, page) in pages.iter().enumerate() {
        let main = html_to_text(page, HtmlMode::Main).text;
        std::fs::write(dir.join(format!("{i}.main.txt")), main)?;
        for (marker, tag, nav_marker, nav_tag) in sites {
            if let Some(truth) = element(page, marker, tag) {
                let truth = html_to_text(truth, HtmlMode::Text).text;
                std::fs::write(dir.join(format!("{i}.truth.txt")), truth)?;
                let nav = element(page, nav_marker, nav_tag).unwrap_or_default();
                let nav = html_to_text(nav, HtmlMode::Text).text;
                std::fs::write(dir.join(format!("{i}.nav.txt")), nav)?;
                break;
            }
        }
    }
    Ok(())
}

fn main() {
    let args = parse_args();
    let paths = choose(&args);
    let pages: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    let bytes: usize = pages.iter().map(String::len).sum();
    println!(
        "{} pages, {:.1} MB, one thread",
        pages.len(),
        bytes as f64 / 1e6
    );
    if pages.is_empty() {
        return;
    }
    for mode in [HtmlMode::Text, HtmlMode::Main] {
        let mut best = 0.0f64;
        for run in 1..=args.repeat.max(1) {
            let started = Instant::now();
            let cpu_before = thread_cpu_ns();
            let (mut text_bytes, mut titles) = (0usize, 0usize);
            for page in &pages {
                let out = html_to_text(page, mode);
                text_bytes += out.text.len();
                titles += usize::from(out.title.is_some());
            }
            let secs = started.elapsed().as_secs_f64();
            let cpu_secs = match (cpu_before, thread_cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e9,
                _ => secs,
            };
            let per_cpu = bytes as f64 / 1e6 / cpu_secs;
            best = best.max(per_cpu);
            println!(
                "{} run {run}: {:.0} MB/s wall, {per_cpu:.0} MB per CPU-second \
                 ({secs:.2} s); {text_bytes} text bytes, {titles} titles",
                mode.name(),
                bytes as f64 / 1e6 / secs,
            );
        }
        println!(
            "mode={} pages={} mb={:.1} mb_per_cpu_s={best:.1}",
            mode.name(),
            pages.len(),
            bytes as f64 / 1e6
        );
    }
    if let Some(dir) = &args.dump {
        if let Err(e) = dump(&pages, dir) {
            eprintln!("cannot write to {}: {e}", dir.display());
            std::process::exit(1);
        }
    }
}

//! Tests of the paper-listing parser: real seed dumps (skipped where absent),
//! synthetic dumps with every quirk, and generated listings.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::boilerplate::*;
use super::*;
use proptest::prelude::*;
use std::path::PathBuf;

use crate::ingest::decode::spans_by_line;

// ---------------------------------------------------------------- seeds

fn seeds_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/seeds"
    ))
}

/// The seed file whose name starts with `prefix`, or `None` (with a note)
/// when the seeds folder is absent.
fn load_seed(prefix: &str) -> Option<String> {
    let dir = seeds_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: seeds folder {} is absent", dir.display());
        return None;
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        })
        .collect();
    names.sort();
    let Some(path) = names.first() else {
        eprintln!("skipping: no seed {prefix}*.txt in {}", dir.display());
        return None;
    };
    Some(std::fs::read_to_string(path).unwrap())
}

/// Invariants every parse must satisfy on any dump.
fn check_invariants(dump: &str, parsed: &ParsedListing) {
    for p in &parsed.papers {
        let off = usize::try_from(p.offset).unwrap();
        assert!(dump[off..].starts_with(&p.title), "offset of {:?}", p.title);
        assert_eq!(p.title, p.title.trim());
        assert_eq!(p.text, p.text.trim());
        assert!(!p.title.is_empty() && !p.text.is_empty());
        assert!(dump.contains(&p.text));
        assert!(
            !BOILERPLATE
                .iter()
                .any(|(b, _)| b.eq_ignore_ascii_case(&p.title)),
            "boilerplate title {:?}",
            p.title
        );
    }
    let offs: Vec<u64> = parsed.papers.iter().map(|p| p.offset).collect();
    assert!(offs.windows(2).all(|w| w[0] < w[1]), "papers out of order");
}

/// Expected seed contents, as xxh3-64 fingerprints of the exact strings
/// so that no seed text is copied into the repository.
struct SeedExpect {
    prefix: &'static str,
    count: usize,
    first_title: u64,
    first_text: u64,
    last_title: u64,
    last_text: u64,
    glued: Option<&'static str>,
}

fn fingerprint(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

fn check_seed(e: &SeedExpect) {
    let Some(dump) = load_seed(e.prefix) else {
        return;
    };
    let parsed = parse(&dump);
    check_invariants(&dump, &parsed);
    assert_eq!(parsed.papers.len(), e.count, "{}", e.prefix);
    assert_eq!(parsed.unpaired, vec![], "{}", e.prefix);
    for p in &parsed.papers {
        assert!(!p.title.starts_with("Subscribe"), "{:?}", p.title);
        assert!(p.text.len() > p.title.len());
        // The abstract is the next non-blank line after the title.
        let after = usize::try_from(p.offset).unwrap() + p.title.len();
        assert!(dump[after..].trim_start().starts_with(&p.text));
        // Every title starts its line (after any glued prefix).
        let line_start = dump[..usize::try_from(p.offset).unwrap()]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let before = &dump[line_start..usize::try_from(p.offset).unwrap()];
        assert!(before.is_empty() || Some(before) == e.glued, "{before:?}");
    }
    let first = &parsed.papers[0];
    let last = &parsed.papers[parsed.papers.len() - 1];
    assert_eq!(
        fingerprint(&first.title),
        e.first_title,
        "{:?}",
        first.title
    );
    assert_eq!(fingerprint(&first.text), e.first_text);
    assert_eq!(fingerprint(&last.title), e.last_title, "{:?}", last.title);
    assert_eq!(fingerprint(&last.text), e.last_text);
    let expected_first_off = match e.glued {
        Some(g) => dump.find(&format!("{g}{}", first.title)).unwrap() + g.len(),
        None => dump.find(&format!("\n{}\n", first.title)).unwrap() + 1,
    };
    assert_eq!(first.offset, expected_first_off as u64);
    assert_eq!(
        last.offset,
        dump.rfind(&format!("\n{}\n", last.title)).unwrap() as u64 + 1
    );
    // The last abstract ends the file, possibly without a newline.
    assert_eq!(
        dump.trim_end(),
        &dump[..dump.rfind(&last.text).unwrap() + last.text.len()]
    );
    assert!(looks_like_listing(&dump));
    // The detector sees a prefix cut mid-line, as the sniffer does.
    let mut cut = dump.len().min(64 * 1024);
    while !dump.is_char_boundary(cut) {
        cut -= 1;
    }
    assert!(looks_like_listing(&dump[..cut]));
    assert!(looks_like_listing(&dump[..dump.len().min(5000)]));
}

#[test]
fn seed_000() {
    check_seed(&SeedExpect {
        prefix: "000_",
        count: 43,
        first_title: 0x8d455fb7aa3807d9,
        first_text: 0x1b5c07f13474417a,
        last_title: 0x191882f540089f42,
        last_text: 0x2c7c5626c03cb6d7,
        glued: None,
    });
}

#[test]
fn seed_001() {
    check_seed(&SeedExpect {
        prefix: "001_",
        count: 200,
        first_title: 0xc40df2889018d66d,
        first_text: 0xa6c8ef45fd75bbbd,
        last_title: 0xbbc67a6bb566f75d,
        last_text: 0xdf9bb61c55c81f0e,
        glued: Some("Subscribe"),
    });
    if let Some(dump) = load_seed("001_") {
        let parsed = parse(&dump);
        assert!(parsed.papers.iter().any(|p| p.title.contains('é')));
    }
}

#[test]
fn seed_002() {
    check_seed(&SeedExpect {
        prefix: "002_",
        count: 57,
        first_title: 0xdc3305cb320b7337,
        first_text: 0x7d07e79f6c53bc4c,
        last_title: 0x16c3bc295c0e2877,
        last_text: 0x6796d2135a3b4849,
        glued: None,
    });
}

/// Layout transformations of a real seed keep every paper.
#[test]
fn seed_layout_variants() {
    for prefix in ["000_", "001_", "002_"] {
        let Some(dump) = load_seed(prefix) else {
            return;
        };
        let base = parse(&dump);
        let strip = |p: &ParsedListing| -> Vec<(String, String)> {
            p.papers
                .iter()
                .map(|p| (p.title.clone(), p.text.clone()))
                .collect()
        };
        let crlf = format!("\u{feff}{}", dump.replace('\n', " \r\n"));
        let no_blank: String = dump
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let all_blank = dump.lines().collect::<Vec<_>>().join("\n\n");
        for variant in [&crlf, &no_blank, &all_blank] {
            let parsed = parse(variant);
            check_invariants(variant, &parsed);
            assert_eq!(strip(&parsed), strip(&base), "{prefix}");
            assert!(parsed.unpaired.is_empty());
        }
    }
}

/// Deleting one title or one abstract from a real seed costs exactly one
/// unpaired line and leaves every other paper intact.
#[test]
fn seed_deletions_do_not_shift_pairs() {
    for prefix in ["000_", "001_", "002_"] {
        let Some(dump) = load_seed(prefix) else {
            return;
        };
        let base = parse(&dump);
        let n = base.papers.len();
        for k in [0, 1, n / 2, n - 1] {
            let p = &base.papers[k];
            let t0 = usize::try_from(p.offset).unwrap();
            let a0 = t0 + dump[t0..].find(&p.text).unwrap();
            for (cut_start, cut_len, reason) in [
                (t0, p.title.len(), REASON_NO_TITLE),
                (a0, p.text.len(), REASON_NO_ABSTRACT),
            ] {
                let mut edited = String::from(&dump[..cut_start]);
                edited.push_str(&dump[cut_start + cut_len..]);
                let parsed = parse(&edited);
                check_invariants(&edited, &parsed);
                let mut want: Vec<&str> = base.papers.iter().map(|p| p.title.as_str()).collect();
                want.remove(k);
                let got: Vec<&str> = parsed.papers.iter().map(|p| p.title.as_str()).collect();
                assert_eq!(got, want, "{prefix} k={k} {reason}");
                assert_eq!(parsed.unpaired.len(), 1, "{prefix} k={k} {reason}");
                let u = &parsed.unpaired[0];
                // A lone first title is indistinguishable from header chrome.
                let want_reason = if k == 0 && reason == REASON_NO_ABSTRACT {
                    REASON_HEADER
                } else {
                    reason
                };
                assert_eq!(u.reason, want_reason, "{prefix} k={k}");
                let kept = if reason == REASON_NO_TITLE {
                    a0 - p.title.len()
                } else {
                    t0
                };
                assert_eq!(u.offset, kept as u64, "{prefix} k={k} {reason}");
            }
        }
    }
}

// ------------------------------------------------------------ synthetic

/// Builds a dump and the papers it must parse into.
#[derive(Default)]
struct Dump {
    s: String,
    exp: Vec<(u64, String, String)>,
}

impl Dump {
    fn raw(&mut self, x: &str) -> &mut Self {
        self.s.push_str(x);
        self
    }
    fn line(&mut self, x: &str) -> &mut Self {
        self.s.push_str(x);
        self.s.push('\n');
        self
    }
    /// Offset where the next pushed text starts.
    fn here(&self) -> u64 {
        self.s.len() as u64
    }
    /// `glue` + title, `sep`, abstract, `end`.
    fn paper(&mut self, glue: &str, title: &str, sep: &str, text: &str, end: &str) -> &mut Self {
        self.s.push_str(glue);
        self.exp
            .push((self.here(), title.to_owned(), text.to_owned()));
        self.s.push_str(title);
        self.s.push_str(sep);
        self.s.push_str(text);
        self.s.push_str(end);
        self
    }
    fn check(&self, unpaired: &[(u64, &str)]) -> ParsedListing {
        let parsed = parse(&self.s);
        check_invariants(&self.s, &parsed);
        let got: Vec<(u64, String, String)> = parsed
            .papers
            .iter()
            .map(|p| (p.offset, p.title.clone(), p.text.clone()))
            .collect();
        assert_eq!(got, self.exp, "dump:\n{}", self.s);
        let got_u: Vec<(u64, &str)> = parsed
            .unpaired
            .iter()
            .map(|u| (u.offset, u.reason.as_str()))
            .collect();
        assert_eq!(got_u, unpaired, "dump:\n{}", self.s);
        parsed
    }
}

/// An invented abstract of several sentences.
fn abs(i: usize) -> String {
    format!(
        "We revisit synthetic problem number {i} under a fresh light. Our estimator \
         combines sparse codes with gentle annealing, and it converges quickly on \
         every toy benchmark we tried. Extensive ablations show that each component \
         matters. Code and data will be released upon publication."
    )
}

const HEADER: &[&str] = &[
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "byAK and the research community",
    "Mar 14",
];

#[test]
fn blank_line_layout() {
    let mut d = Dump::default();
    for h in HEADER {
        d.line(h).line("");
    }
    for i in 0..5 {
        d.paper(
            "",
            &format!("Sparse Widgets for Task {i}"),
            "\n\n",
            &abs(i),
            "\n\n",
        );
    }
    d.check(&[]);
}

#[test]
fn no_blank_layout_with_glued_subscribe() {
    let mut d = Dump::default();
    d.line("Get trending papers in your email inbox once a day!")
        .line("Get trending papers in your email inbox!");
    d.paper(
        "Subscribe",
        "Gentle Annealing of Sparse Codes",
        "\n",
        &abs(0),
        "\n",
    );
    for i in 1..4 {
        d.paper("", &format!("Widget Theory Part {i}"), "\n", &abs(i), "\n");
    }
    d.check(&[]);
}

#[test]
fn crlf_bom_trailing_spaces_no_final_newline() {
    let mut d = Dump::default();
    d.raw("\u{feff}new  \r\n\r\n\tSubscribe\t\r\n");
    d.raw("  ");
    d.paper(
        "",
        "Crlf Robust Widgets",
        " \t\r\n\r\n   ",
        &abs(1),
        "  \r\n",
    );
    d.raw("\u{3000}");
    d.paper("", "Another Title With Nbsp", "\u{a0}\r\n", &abs(2), "");
    d.check(&[]);
    // A BOM directly before a title.
    let mut d = Dump::default();
    d.raw("\u{feff}");
    d.paper("", "Bom Before Title", "\n", &abs(3), "\n");
    d.check(&[]);
}

#[test]
fn glued_prefixes() {
    for glue in [
        "Subscribe",
        "Mar 14",
        "new",
        "newSubscribe",
        "SubscribeMar 14",
        "March 14, 2024",
        "14 Mar",
        "2024-03-14",
        "byAK and the research community",
        "Get trending papers in your email inbox!Subscribe",
    ] {
        let mut d = Dump::default();
        d.line("new")
            .line("Get trending papers in your email inbox!");
        d.paper(glue, "Attention Is All You Need", "\n", &abs(0), "\n");
        d.paper("", "Second Paper Title", "\n", &abs(1), "\n");
        d.check(&[]);
    }
    // Glued at the very start, no header at all.
    let mut d = Dump::default();
    d.paper("new", "Über Robust Widgets", "\n\n", &abs(0), "\n");
    d.paper("", "Another", "\n\n", &abs(1), "\n");
    d.check(&[]);
    // Glued after a boilerplate line in the middle of the listing.
    let mut d = Dump::default();
    d.paper("", "First Title", "\n", &abs(0), "\n");
    d.line("Mar 15");
    d.paper("Mar 15", "3D Widgets From Scratch", "\n", &abs(1), "\n");
    d.line("Load more");
    d.paper("new", "\"Quoted\" Widgets", "\n", &abs(2), "\n");
    d.check(&[]);
    // A line that is only glued chrome is boilerplate.
    let mut d = Dump::default();
    d.line("SubscribeMar 14").line("new12");
    d.paper("", "Plain Title", "\n", &abs(0), "\n");
    d.check(&[]);
}

#[test]
fn titles_starting_with_boilerplate_words() {
    let mut d = Dump::default();
    for h in HEADER {
        d.line(h);
    }
    d.paper(
        "",
        "Subscriber Churn Prediction With Graphs",
        "\n",
        &abs(0),
        "\n",
    );
    d.paper("", "Newton Methods Revisited", "\n", &abs(1), "\n");
    d.paper("", "News Recommendation at Scale", "\n", &abs(2), "\n");
    d.paper("", "SearchQA Revisited", "\n", &abs(3), "\n");
    d.paper("", "Next-Generation Widgets", "\n", &abs(4), "\n");
    d.paper("", "SubscribeBench: A Benchmark", "\n", &abs(5), "\n");
    d.paper("", "March of the Widgets", "\n", &abs(6), "\n");
    d.paper("", "May 2 Be Enough", "\n", &abs(7), "\n");
    d.check(&[]);
    // In header position: capital-to-capital junctions are never split,
    // and non-glue words are never stripped.
    for t in [
        "NEWSROOM: A Corpus",
        "Subscriber Models",
        "SearchQA Again",
        "Newton",
    ] {
        let mut d = Dump::default();
        d.line("Subscribe");
        d.paper("", t, "\n", &abs(0), "\n");
        d.check(&[]);
    }
}

#[test]
fn header_variants() {
    let variants: &[&[&str]] = &[
        &[],
        &[
            "Daily Papers",
            "by AK and the research community",
            "March 14",
        ],
        &[
            "Trending Papers",
            "Search",
            "Sign Up",
            "Log In",
            "Submit",
            "Mar 14, 2024",
        ],
        &[
            "14 March 2024",
            "Previous",
            "Next",
            "2024-03-14",
            "·",
            "---",
        ],
        &[
            "NEW",
            "SUBSCRIBE",
            "Get trending papers in your email inbox every week!",
        ],
        &[
            "Home", "Models", "Datasets", "Spaces", "Docs", "Pricing", "Log In", "Sign Up",
        ],
    ];
    for v in variants {
        for blank in ["\n", "\n\n", "\r\n"] {
            let mut d = Dump::default();
            for h in *v {
                d.raw(h).raw(blank);
            }
            d.paper("", "Widgets All the Way Down", blank, &abs(0), blank);
            d.raw("12").raw(blank).raw("3 comments").raw(blank);
            d.paper("", "Widgets Redux", blank, &abs(1), blank);
            d.raw("Load more").raw(blank);
            d.check(&[]);
        }
    }
}

#[test]
fn unknown_header_line_is_reported() {
    let mut d = Dump::default();
    d.line("new");
    let off = d.here();
    d.line("Welcome to the Widget Portal");
    d.line("Subscribe");
    d.paper("", "Real Title", "\n\n", &abs(0), "\n");
    d.check(&[(off, REASON_HEADER)]);
}

#[test]
fn unicode_titles() {
    let mut d = Dump::default();
    d.line("Mar 14");
    d.paper("Subscribe", "深度学习的稀疏编码", "\n", &abs(1), "\n");
    d.paper("", "Fréchet Distances for Naïve Bayes", "\n", &abs(0), "\n");
    d.paper("", "Rocket Science 🚀 for Everyone", "\n", &abs(2), "\n");
    d.paper("", "Ωmega: Große Modelle", "\n", &abs(3), "\n");
    d.paper("", "Émile and the Widgets", "\n", &abs(4), "\n");
    let off = d.here();
    d.line("Subscribex");
    d.check(&[(off, REASON_NO_ABSTRACT)]);
}

#[test]
fn missing_title_and_missing_abstract() {
    let mut d = Dump::default();
    d.line("Subscribe").line("");
    d.paper("", "Alpha Widgets", "\n\n", &abs(0), "\n\n");
    let lost_abs = d.here();
    d.line(&abs(100)).line("");
    d.paper("", "Beta Widgets", "\n\n", &abs(1), "\n\n");
    let lost_title = d.here();
    d.line("Gamma Widgets Without Abstract").line("");
    d.paper("", "Delta Widgets", "\n\n", &abs(2), "\n\n");
    let lost_abs2 = d.here();
    d.line(&abs(101));
    d.line(&abs(102));
    d.paper("", "Epsilon Widgets", "\n", &abs(3), "\n");
    let lost_last = d.here();
    d.raw("Zeta Widgets With No Abstract At End");
    d.check(&[
        (lost_abs, REASON_NO_TITLE),
        (lost_title, REASON_NO_ABSTRACT),
        (lost_abs2, REASON_NO_TITLE),
        (lost_abs2 + abs(101).len() as u64 + 1, REASON_NO_TITLE),
        (lost_last, REASON_NO_ABSTRACT),
    ]);
    // Missing abstract of the very first paper, no header.
    let mut d = Dump::default();
    d.line("Lonely Title");
    d.paper("", "Paired Title", "\n", &abs(0), "\n");
    d.check(&[(0, REASON_HEADER)]);
    // Abstract first, no title at all.
    let mut d = Dump::default();
    d.line(&abs(9));
    d.paper("", "Paired Title", "\n", &abs(0), "\n");
    d.check(&[(0, REASON_NO_TITLE)]);
}

#[test]
fn empty_and_whitespace_only() {
    assert_eq!(parse(""), ParsedListing::default());
    assert_eq!(
        parse(" \n\t\r\n\u{3000}\n\u{feff}"),
        ParsedListing::default()
    );
    assert_eq!(parse("\u{feff}"), ParsedListing::default());
    assert_eq!(parse("new\nSubscribe\nMar 14\n"), ParsedListing::default());
    assert!(!looks_like_listing(""));
    assert!(!looks_like_listing("  \n\n"));
}

#[test]
fn short_abstract_and_long_title() {
    let long_title = "A Remarkably Long Title About Sparse Widgets, Gentle Annealing, \
                      Robust Estimation, Graph Partitioning, Kernel Methods, Optimal \
                      Transport, and Many Other Things That Researchers Like to Put \
                      Into One Single Title";
    assert!((180..=250).contains(&long_title.chars().count()));
    let short_abs = "We propose a tiny widget that sorts lists in place. It beats \
                     every baseline we tried on three toy benchmarks.";
    assert!((100..=160).contains(&short_abs.len()));
    let mut d = Dump::default();
    d.line("Subscribe");
    d.paper("", long_title, "\n", &abs(0), "\n");
    d.paper("", "Short One", "\n", short_abs, "\n");
    d.paper("", long_title, "\n\n", short_abs, "\n\n");
    // A title ending with a period, and a one-sentence abstract.
    d.paper("", "Widgets Considered Harmful.", "\n", &abs(1), "\n");
    d.paper(
        "",
        "One Sentence",
        "\n",
        "This work shows that a single sentence can be an abstract.",
        "\n",
    );
    d.paper(
        "",
        "What Is a Widget? A Study of Widgets",
        "\n",
        &abs(2),
        "\n",
    );
    d.check(&[]);
}

#[test]
fn boilerplate_between_title_and_abstract() {
    let mut d = Dump::default();
    d.paper("", "Counted Widgets", "\n42\n", &abs(0), "\n");
    d.paper("", "Dated Widgets", "\nMar 14\n\n", &abs(1), "\n");
    d.check(&[]);
}

#[test]
fn dates_and_counters() {
    for s in [
        "Mar 14",
        "March 14",
        "Mar 14, 2024",
        "March 14 2024",
        "Mar. 3",
        "March 3rd",
        "14 Mar",
        "14 March 2024",
        "14 Mar, 2024",
        "2024-03-14",
        "2024/03/14",
        "Sept 9",
        "march 2024",
    ] {
        assert_eq!(date_prefix_len(s), Some(s.len()), "{s}");
        assert!(is_boilerplate(s), "{s}");
    }
    for s in [
        "May the Force",
        "March of Widgets",
        "Mar 32",
        "Marble 14",
        "2024 Widgets",
    ] {
        assert_ne!(date_prefix_len(s), Some(s.len()), "{s}");
        assert!(!is_boilerplate(s), "{s}");
    }
    for s in ["12", "1,024", "1.2k", "▲ 12", "12 upvotes", "3 Comments"] {
        assert!(is_counter(s), "{s}");
    }
    for s in ["12 Angry Widgets", "3D", "k12", ""] {
        assert!(!is_counter(s), "{s}");
    }
}

// ------------------------------------------------------------- detector

#[test]
fn looks_like_listing_positive() {
    let mut d = Dump::default();
    for i in 0..4 {
        d.paper("", &format!("Widget Paper {i}"), "\n", &abs(i), "\n");
    }
    assert!(looks_like_listing(&d.s));
    // Cut mid-abstract.
    assert!(looks_like_listing(&d.s[..d.s.len() - 40]));
    let mut d = Dump::default();
    d.line("Get trending papers in your email inbox!")
        .line("Subscribe");
    d.paper("", "Only One Paper", "\n", &abs(0), "\n");
    assert!(looks_like_listing(&d.s));
}

#[test]
fn looks_like_listing_negative() {
    let prose = "The ferry left the harbour an hour late, and by the time it rounded \
                 the lighthouse the rain had turned to sleet. Nobody on deck seemed to \
                 mind. A boy in a yellow coat counted the gulls aloud, lost track at \
                 forty, and started again from one with great seriousness.";
    let many = format!("{prose}\n\n{prose}\n\n{prose}\n\n{prose}\n");
    assert!(!looks_like_listing(prose));
    assert!(!looks_like_listing(&many));
    let code = "use std::io;\n\nfn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n\n\
                /// Docs.\npub struct Widget {\n    a: u32,\n}\n"
        .repeat(20);
    assert!(!looks_like_listing(&code));
    let jsonl: String = (0..20)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"title\": \"T{i}\"}}\n{{\"text\": \"{}\"}}\n",
                abs(i)
            )
        })
        .collect();
    assert!(!looks_like_listing(&jsonl));
    let md = format!("# Intro\n\n{prose}\n\n## Methods\n\n{prose}\n\n## End\n\n{prose}\n");
    assert!(!looks_like_listing(&md));
    assert!(!looks_like_listing(""));
    assert!(!looks_like_listing("Hello"));
    assert!(!looks_like_listing(
        "Title\nshort line\nanother short line\n"
    ));
}

// ------------------------------------------------------------ proptest

const TITLE_FIRST: &[&str] = &[
    "Attention",
    "Subscriber",
    "Newton",
    "Searching",
    "Über",
    "Fréchet",
    "深度学习",
    "Graph",
    "Robust",
    "Next-Gen",
    "Learning",
    "3D",
    "\"Quoted\"",
    "(Bracketed)",
    "Marching",
    "Maybe",
];
const TITLE_REST: &[&str] = &[
    "is",
    "all",
    "you",
    "need",
    "for",
    "of",
    "and",
    "via",
    "Neural",
    "Kernel",
    "Models",
    "Sparse",
    "Widgets",
    "Diffusion",
    "🚀",
    "Große",
    "on",
    "the",
    "Scale:",
    "A",
    "Study",
    "Bayesian",
    "Transformers",
    "RLHF",
    "with",
    "Noise",
];
const ABS_WORDS: &[&str] = &[
    "we",
    "study",
    "the",
    "problem",
    "of",
    "learning",
    "sparse",
    "widgets",
    "from",
    "noisy",
    "data",
    "and",
    "show",
    "that",
    "our",
    "method",
    "improves",
    "naïve",
    "baselines",
    "große",
    "kernel",
    "estimation",
    "under",
    "drift",
    "with",
    "provable",
    "guarantees",
    "experiments",
    "confirm",
    "theory",
    "in",
    "practice",
    "results",
];
const HEADERS: &[&str] = &[
    "new",
    "Get trending papers in your email inbox!",
    "Get trending papers in your email inbox once a day!",
    "Subscribe",
    "byAK and the research community",
    "by AK and the research community",
    "Daily Papers",
    "Trending Papers",
    "Mar 14",
    "March 14, 2024",
    "14 Mar",
    "2024-03-14",
    "Search",
    "Sign Up",
    "Log In",
    "Submit",
    "Previous",
    "Next",
    "42",
    "1.2k",
];
const GLUES: &[&str] = &[
    "Subscribe",
    "new",
    "Mar 14",
    "March 3, 2024",
    "newSubscribe",
    "14 Mar",
    "Sign Up",
];
const BETWEEN: &[&str] = &[
    "12",
    "3 comments",
    "·",
    "Mar 15",
    "Load more",
    "Next",
    "new",
];
const SEPS: &[&str] = &["\n", "\n\n", "\r\n", "\r\n\r\n", "\n \n", "\n\t\n\n"];
const PADS: &[&str] = &["", "", "", " ", "\t", "  ", "\u{a0}", "\u{3000}"];

/// Tiny deterministic generator for layout choices.
struct Rng(u64);
impl Rng {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        xs[(self.0 % xs.len() as u64) as usize]
    }
    fn chance(&mut self, in_n: u64) -> bool {
        self.pick(&["x"]);
        self.0.is_multiple_of(in_n)
    }
}

type GenPaper = (usize, Vec<usize>, Vec<Vec<usize>>);

fn paper_strategy() -> impl Strategy<Value = GenPaper> {
    (
        0..TITLE_FIRST.len(),
        prop::collection::vec(0..TITLE_REST.len(), 2..12),
        prop::collection::vec(prop::collection::vec(0..ABS_WORDS.len(), 6..18), 2..8),
    )
}

fn render_abstract(sentences: &[Vec<usize>]) -> String {
    let mut out = String::new();
    for (i, s) in sentences.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for (j, &w) in s.iter().enumerate() {
            let w = ABS_WORDS[w];
            if j == 0 {
                let mut cs = w.chars();
                if let Some(c) = cs.next() {
                    out.extend(c.to_uppercase());
                    out.push_str(cs.as_str());
                }
            } else {
                out.push(' ');
                out.push_str(w);
            }
        }
        out.push('.');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn recovers_generated_listings(
        header in prop::collection::vec(0..HEADERS.len(), 0..7),
        glue in prop::option::of(0..GLUES.len()),
        papers in prop::collection::vec(paper_strategy(), 1..15),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let mut d = Dump::default();
        if rng.chance(4) {
            d.raw("\u{feff}");
        }
        for &h in &header {
            d.raw(rng.pick(PADS)).raw(HEADERS[h]).raw(rng.pick(PADS)).raw(rng.pick(SEPS));
        }
        let n = papers.len();
        for (i, (first, rest, sentences)) in papers.iter().enumerate() {
            let mut title = TITLE_FIRST[*first].to_owned();
            for &w in rest {
                title.push(' ');
                title.push_str(TITLE_REST[w]);
            }
            let text = render_abstract(sentences);
            let g = if i == 0 { glue.map_or("", |g| GLUES[g]) } else { "" };
            if i > 0 && rng.chance(4) {
                d.raw(rng.pick(BETWEEN)).raw(rng.pick(SEPS));
            }
            d.raw(rng.pick(PADS));
            let mut sep = format!("{}{}", rng.pick(PADS), rng.pick(SEPS));
            if rng.chance(8) {
                sep.push_str("7\n");
            }
            sep.push_str(rng.pick(PADS));
            let end = if i + 1 == n && rng.chance(3) {
                String::new()
            } else {
                format!("{}{}", rng.pick(PADS), rng.pick(SEPS))
            };
            d.paper(g, &title, &sep, &text, &end);
        }
        let parsed = parse(&d.s);
        let got: Vec<(u64, String, String)> = parsed
            .papers
            .iter()
            .map(|p| (p.offset, p.title.clone(), p.text.clone()))
            .collect();
        prop_assert_eq!(got, d.exp.clone());
        prop_assert_eq!(parsed.unpaired, vec![]);
        // The detector drops a last line without newline as possibly cut.
        if n >= 3 {
            prop_assert!(looks_like_listing(&d.s));
        }
    }
}

// ------------------------------------------------------------ streaming

use super::stream::read_blocks;
use crate::ingest::bounded::{ByteBudget, ReadContext};
use crate::ingest::decode::Decoded;
use crate::ingest::{ErrorKind, Format, IngestError, IngestOptions, Ingested, Location, Record};
use std::io::{BufReader, Read};

/// Reads `bytes` through [`read_blocks`] with blocks of `block` bytes, from a
/// `BufReader` of `capacity` bytes (the whole slice at once when 0).
fn read_stream(bytes: &[u8], block: usize, capacity: usize, options: &IngestOptions) -> Ingested {
    let mut out = Ingested::default();
    let budget = ByteBudget::new(u64::MAX);
    let mut cx = ReadContext {
        options,
        sink: &mut out,
        input_budget: &budget,
    };
    let loc = Location::file("dump.txt");
    if capacity == 0 {
        read_blocks(&mut &bytes[..], &loc, &mut cx, block);
    } else {
        let mut reader = BufReader::with_capacity(capacity, bytes);
        read_blocks(&mut reader, &loc, &mut cx, block);
    }
    out
}

/// What reading `bytes` must give, from [`parse`] on the whole decoded text:
/// papers (member offset, title, text), unpaired lines (member offset,
/// reason) and the offsets of the invalid UTF-8 runs.
type Expected = (Vec<(u64, String, String)>, Vec<(u64, String)>, Vec<u64>);

fn whole_text_reference(bytes: &[u8]) -> Expected {
    let decoded = Decoded::new(bytes);
    let parsed = parse(decoded.text());
    let at = |o: u64| decoded.original_offset(usize::try_from(o).unwrap()) as u64;
    let papers = parsed
        .papers
        .into_iter()
        .map(|p| (at(p.offset), p.title, p.text))
        .collect();
    let unpaired = parsed
        .unpaired
        .into_iter()
        .map(|u| (at(u.offset), u.reason))
        .collect();
    let invalid = spans_by_line(bytes, decoded.invalid_spans())
        .map(|line| line[0].offset as u64)
        .collect();
    (papers, unpaired, invalid)
}

/// The same view of what [`read_blocks`] reported; panics on error rows of
/// other kinds (an `empty` row is allowed only when nothing else came).
fn streamed(out: &Ingested) -> Expected {
    for r in &out.records {
        assert_eq!(r.source, "dump.txt");
        assert_eq!(r.member, None);
        assert_eq!(r.format, Format::PaperListing);
        let title = r.title.as_deref().unwrap();
        let replaced = title.contains('\u{fffd}') || r.text.contains('\u{fffd}');
        assert_eq!(r.invalid_utf8, replaced, "flag of {title:?}");
    }
    let papers = out
        .records
        .iter()
        .map(|r| (r.offset, r.title.clone().unwrap(), r.text.clone()))
        .collect();
    let of_kind = |kind: ErrorKind| -> Vec<&IngestError> {
        out.errors.iter().filter(|e| e.kind == kind).collect()
    };
    let unpaired: Vec<(u64, String)> = of_kind(ErrorKind::Unpaired)
        .into_iter()
        .map(|e| (e.offset, e.reason.clone()))
        .collect();
    let invalid = of_kind(ErrorKind::InvalidUtf8)
        .into_iter()
        .map(|e| e.offset)
        .collect();
    let empty = of_kind(ErrorKind::Empty);
    if out.records.is_empty() && unpaired.is_empty() {
        assert_eq!(empty.len(), 1, "{:?}", out.errors);
        assert_eq!(empty[0].offset, 0);
    } else {
        assert!(empty.is_empty(), "{:?}", out.errors);
    }
    let others = out.errors.iter().filter(|e| {
        !matches!(
            e.kind,
            ErrorKind::Unpaired | ErrorKind::InvalidUtf8 | ErrorKind::Empty
        )
    });
    assert_eq!(others.count(), 0, "{:?}", out.errors);
    (papers, unpaired, invalid)
}

/// Pieces of generated listing-like dumps, rendered by [`render_piece`].
const PIECES: usize = 14;

/// One line (or a few) of a generated dump; `r` drives the details.
fn render_piece(kind: usize, r: &mut Rng, out: &mut Vec<u8>) {
    let title = |r: &mut Rng| {
        let mut t = r.pick(TITLE_FIRST).to_owned();
        for _ in 0..(r.0 % 9 + 1) {
            t.push(' ');
            t.push_str(r.pick(TITLE_REST));
        }
        t
    };
    let sentence = |r: &mut Rng| {
        let words: Vec<Vec<usize>> = (0..(r.0 % 3 + 1))
            .map(|i| {
                (0..(r.0 % 7 + 4 + i))
                    .map(|j| ((r.0 >> (j % 50)) as usize + j as usize) % ABS_WORDS.len())
                    .collect()
            })
            .collect();
        render_abstract(&words)
    };
    let sep = |r: &mut Rng| r.pick(SEPS).to_owned();
    let pad = |r: &mut Rng| r.pick(PADS).to_owned();
    let mut line = String::new();
    match kind {
        0 => line.push_str(r.pick(HEADERS)),
        1..=3 => line.push_str(&title(r)),
        4..=6 => line.push_str(&abs((r.0 % 1000) as usize)),
        // Weak lines: short sentences ending in a period, or 251-300 chars.
        7 => line.push_str(&sentence(r)),
        8 => {
            let mut t = title(r);
            while t.chars().count() < 260 {
                t.push_str(" and more widgets");
            }
            line.extend(t.chars().take(251 + (r.0 % 50) as usize));
        }
        9 => {
            line.push_str(r.pick(GLUES));
            line.push_str(&title(r));
        }
        10 => line.push_str(r.pick(BETWEEN)),
        11 => line.push_str("Welcome to the Widget Portal"),
        12 => {}
        _ => {
            // A line with invalid UTF-8 somewhere: a title, or an abstract.
            let text = if r.chance(2) {
                title(r)
            } else {
                abs((r.0 % 1000) as usize)
            };
            let cut = (r.0 as usize % (text.len() + 1)..=text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap();
            out.extend_from_slice(pad(r).as_bytes());
            out.extend_from_slice(&text.as_bytes()[..cut]);
            out.extend_from_slice(
                [
                    &b"\xff"[..],
                    b"\xc3",
                    b"\xe2\x82",
                    b"\xf0\x9f\x9a",
                    b"\xfe\xfe",
                ][r.0 as usize % 5],
            );
            out.extend_from_slice(&text.as_bytes()[cut..]);
            out.extend_from_slice(sep(r).as_bytes());
            return;
        }
    }
    out.extend_from_slice(pad(r).as_bytes());
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(pad(r).as_bytes());
    out.extend_from_slice(sep(r).as_bytes());
}

fn render_dump(pieces: &[(usize, u64)], bom: bool, final_newline: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    for &(kind, seed) in pieces {
        render_piece(kind, &mut Rng(seed | 1), &mut out);
    }
    if !final_newline {
        while out.last().is_some_and(|b| b.is_ascii_whitespace()) {
            out.pop();
        }
    }
    out
}

fn dump_strategy() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((0..PIECES, any::<u64>()), 0..40),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(pieces, bom, nl)| render_dump(&pieces, bom, nl))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Streaming in small blocks, from readers of any buffer size, gives
    /// exactly what whole-text parsing gives.
    #[test]
    fn streaming_matches_whole_text(
        dump in dump_strategy(),
        block in 64usize..4096,
        capacity in prop_oneof![Just(0usize), 1usize..600, 600usize..5000],
    ) {
        let want = whole_text_reference(&dump);
        let got = streamed(&read_stream(&dump, block, capacity, &IngestOptions::default()));
        prop_assert_eq!(got, want);
    }
}

/// The generated dumps do exercise what the streaming test is about.
#[test]
fn generated_dumps_cover_the_hard_cases() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut weak_papers, mut invalid, mut unpaired, mut papers) = (0, 0, 0, 0);
    for _ in 0..200 {
        let dump =
            proptest::strategy::ValueTree::current(&dump_strategy().new_tree(&mut runner).unwrap());
        let decoded = Decoded::new(&dump);
        let parsed = parse(decoded.text());
        papers += parsed.papers.len();
        unpaired += parsed.unpaired.len();
        invalid += decoded.invalid_spans().len();
        weak_papers += parsed
            .papers
            .iter()
            .filter(|p| shape_of(&p.text).0 == Shape::Weak)
            .count();
    }
    assert!(papers > 500, "{papers}");
    assert!(unpaired > 500, "{unpaired}");
    assert!(invalid > 100, "{invalid}");
    assert!(weak_papers > 20, "{weak_papers}");
}

/// The real seeds read in small blocks as they parse whole, with no error.
#[test]
fn seeds_stream_like_whole_text() {
    for (prefix, count) in [("000_", 43), ("001_", 200), ("002_", 57)] {
        let Some(dump) = load_seed(prefix) else {
            return;
        };
        let want = whole_text_reference(dump.as_bytes());
        assert_eq!(want.0.len(), count, "{prefix}");
        for (block, capacity) in [(64, 0), (100, 37), (1000, 4096), (4096, 0), (1 << 20, 0)] {
            let out = read_stream(dump.as_bytes(), block, capacity, &IngestOptions::default());
            assert_eq!(out.errors, vec![], "{prefix}");
            assert_eq!(streamed(&out), want, "{prefix} block {block}");
        }
    }
}

/// A weak line whose fate depends on the next content line, in the next
/// block: the abstract after it, or a title.
#[test]
fn weak_line_decided_across_blocks() {
    let weak = "Widgets considered harmful.";
    for (next, paired) in [(abs(1), false), ("Next Widget Title".to_owned(), true)] {
        let mut dump = format!("Subscribe\nShort Title\n{weak}\n");
        let cut = dump.len();
        dump.push_str(&format!("\n{next}\n"));
        let want = whole_text_reference(dump.as_bytes());
        for block in [cut, cut + 1, 64, 4096] {
            let out = read_stream(dump.as_bytes(), block, 0, &IngestOptions::default());
            assert_eq!(streamed(&out), want, "block {block}");
        }
        let titles: Vec<&str> = want.0.iter().map(|p| p.1.as_str()).collect();
        if paired {
            assert_eq!(titles, vec!["Short Title"]);
            assert_eq!(want.0[0].2, weak);
        } else {
            assert_eq!(titles, vec![weak]);
        }
    }
}

#[test]
fn long_lines_are_limit_rows_and_skipped() {
    let mut options = IngestOptions::default();
    options.limits.max_record_bytes = 400;
    let ok = abs(0);
    assert!(ok.len() < 400);
    let long = format!("{} {}", abs(1), abs(2));
    assert!(long.len() > 400);
    let mut d = Dump::default();
    d.line("Subscribe");
    d.paper("", "Alpha", "\n", &ok, "\n");
    let beta = d.here();
    d.line("Beta Without Abstract");
    let long_at = d.here();
    d.line(&long);
    d.paper("", "Gamma", "\n\n", &ok, "\n");
    let last_title = d.here();
    d.line("Delta");
    let last_at = d.here();
    d.raw(&long);
    for (block, capacity) in [(64, 0), (64, 50), (4096, 0), (4096, 300), (1 << 20, 0)] {
        let out = read_stream(d.s.as_bytes(), block, capacity, &options);
        let got: Vec<(u64, String, String)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.title.clone().unwrap(), r.text.clone()))
            .collect();
        assert_eq!(got, d.exp, "block {block} capacity {capacity}");
        let rows: Vec<(u64, ErrorKind)> = out.errors.iter().map(|e| (e.offset, e.kind)).collect();
        assert_eq!(
            rows,
            vec![
                (long_at, ErrorKind::Limit),
                (beta, ErrorKind::Unpaired),
                (last_at, ErrorKind::Limit),
                (last_title, ErrorKind::Unpaired),
            ],
            "block {block} capacity {capacity}"
        );
        assert_eq!(
            out.errors[0].reason,
            "line longer than max_record_bytes (400 bytes); skipped"
        );
        assert_eq!(out.errors[1].reason, REASON_NO_ABSTRACT);
    }
}

#[test]
fn invalid_utf8_flags_only_the_records_it_is_in() {
    let mut dump = b"Subscribe\nFirst Title\n".to_vec();
    dump.extend_from_slice(abs(0).as_bytes());
    dump.extend_from_slice(b"\nSecond Title\nWe broke it \xff here. ");
    dump.extend_from_slice(abs(1).as_bytes());
    let third = dump.len() as u64 + 1;
    dump.extend_from_slice(b"\nThird \xc3 Title\n");
    dump.extend_from_slice(abs(2).as_bytes());
    let fourth = dump.len() as u64 + 1;
    dump.extend_from_slice(b"\nFourth Title\n");
    dump.extend_from_slice(abs(3).as_bytes());
    for (block, capacity) in [(64, 0), (200, 33), (1 << 20, 0)] {
        let out = read_stream(&dump, block, capacity, &IngestOptions::default());
        let flags: Vec<(u64, bool)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.invalid_utf8))
            .collect();
        assert_eq!(
            flags,
            vec![
                (10, false),
                (10 + 12 + abs(0).len() as u64 + 1, true),
                (third, true),
                (fourth, false)
            ]
        );
        assert_eq!(
            out.records[2].title.as_deref(),
            Some("Third \u{fffd} Title")
        );
        let bad_abstract = 10 + 12 + abs(0).len() as u64 + 1 + 13 + 12;
        let rows: Vec<(u64, ErrorKind)> = out.errors.iter().map(|e| (e.offset, e.kind)).collect();
        assert_eq!(
            rows,
            vec![
                (bad_abstract, ErrorKind::InvalidUtf8),
                (third + 6, ErrorKind::InvalidUtf8)
            ]
        );
        assert_eq!(streamed(&out), whole_text_reference(&dump));
    }
}

/// A reader that fails after `good` bytes.
struct FailingReader<'a> {
    data: &'a [u8],
    good: usize,
}

impl Read for FailingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.good == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bad block",
            ));
        }
        let n = buf.len().min(self.good).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.good -= n;
        Ok(n)
    }
}

#[test]
fn read_error_keeps_what_was_read() {
    let mut d = Dump::default();
    d.paper("", "Alpha", "\n", &abs(0), "\n");
    let beta = d.here();
    d.paper("", "Beta", "\n", &abs(1), "\n");
    let beta_abstract = beta as usize + "Beta\n".len();
    // Fails in the middle of Beta's abstract.
    let good = beta_abstract + 20;
    let mut out = Ingested::default();
    let options = IngestOptions::default();
    let budget = ByteBudget::new(u64::MAX);
    let mut cx = ReadContext {
        options: &options,
        sink: &mut out,
        input_budget: &budget,
    };
    let mut reader = BufReader::with_capacity(
        64,
        FailingReader {
            data: d.s.as_bytes(),
            good,
        },
    );
    read_blocks(&mut reader, &Location::file("dump.txt"), &mut cx, 128);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].title.as_deref(), Some("Alpha"));
    let rows: Vec<(u64, ErrorKind)> = out.errors.iter().map(|e| (e.offset, e.kind)).collect();
    assert_eq!(
        rows,
        vec![
            (beta, ErrorKind::Unpaired),
            (beta_abstract as u64, ErrorKind::Corrupt)
        ]
    );
    assert!(
        out.errors[1].reason.contains("bad block"),
        "{}",
        out.errors[1].reason
    );
}

/// A sink that stops after `left` records.
struct StopAfter {
    left: usize,
    records: Vec<Record>,
}

impl crate::ingest::Sink for StopAfter {
    fn record(&mut self, record: Record) {
        self.records.push(record);
        self.left = self.left.saturating_sub(1);
    }
    fn error(&mut self, _error: IngestError) {}
    fn skipped(&mut self, _key: &str) {}
    fn is_stopped(&self) -> bool {
        self.left == 0
    }
}

#[test]
fn stops_when_the_sink_stops() {
    let mut d = Dump::default();
    for i in 0..10 {
        d.paper("", &format!("Title {i}"), "\n", &abs(i), "\n");
    }
    for block in [64, 1 << 20] {
        let mut sink = StopAfter {
            left: 3,
            records: Vec::new(),
        };
        let options = IngestOptions::default();
        let budget = ByteBudget::new(u64::MAX);
        let mut cx = ReadContext {
            options: &options,
            sink: &mut sink,
            input_budget: &budget,
        };
        read_blocks(
            &mut d.s.as_bytes(),
            &Location::file("dump.txt"),
            &mut cx,
            block,
        );
        let titles: Vec<&str> = sink
            .records
            .iter()
            .map(|r| r.title.as_deref().unwrap())
            .collect();
        assert_eq!(titles, vec!["Title 0", "Title 1", "Title 2"]);
    }
}

#[test]
fn chrome_only_member_is_empty() {
    for dump in ["", "new\nSubscribe\n\nMar 14", "\u{feff}\n \n"] {
        let out = read_stream(dump.as_bytes(), 64, 0, &IngestOptions::default());
        assert_eq!(out.records, vec![]);
        let rows: Vec<(u64, ErrorKind, &str)> = out
            .errors
            .iter()
            .map(|e| (e.offset, e.kind, e.reason.as_str()))
            .collect();
        assert_eq!(rows, vec![(0, ErrorKind::Empty, "empty file: no papers")]);
    }
}

/// Through the public entry point, a listing is found and read with member
/// offsets and provenance.
#[test]
fn ingest_bytes_reads_a_listing() {
    let mut d = Dump::default();
    d.line("Get trending papers in your email inbox!")
        .line("Subscribe");
    for i in 0..3 {
        d.paper("", &format!("Widget Paper {i}"), "\n\n", &abs(i), "\n\n");
    }
    let out = crate::ingest::ingest_bytes("dump.txt", d.s.as_bytes(), &IngestOptions::default());
    assert_eq!(out.errors, vec![]);
    let got: Vec<(u64, String, String)> = out
        .records
        .iter()
        .map(|r| (r.offset, r.title.clone().unwrap(), r.text.clone()))
        .collect();
    assert_eq!(got, d.exp);
    assert!(out
        .records
        .iter()
        .all(|r| r.format == Format::PaperListing && !r.invalid_utf8 && r.source == "dump.txt"));
}

/// With a line or paragraph unit, each paper (one abstract line) is one
/// unit: part 0, the same text and offset.
#[test]
fn papers_are_units_of_their_own() {
    let mut d = Dump::default();
    d.line("Get trending papers in your email inbox!")
        .line("Subscribe");
    for i in 0..3 {
        d.paper("", &format!("Widget Paper {i}"), "\n\n", &abs(i), "\n\n");
    }
    use crate::ingest::TextUnit;
    for unit in [TextUnit::Line, TextUnit::Paragraph] {
        let options = IngestOptions {
            text_unit: unit,
            ..IngestOptions::default()
        };
        let out = crate::ingest::ingest_bytes("dump.txt", d.s.as_bytes(), &options);
        let got: Vec<(u64, Option<u64>, String)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.part, r.text.clone()))
            .collect();
        let expected: Vec<(u64, Option<u64>, String)> = d
            .exp
            .iter()
            .map(|(offset, _, text)| (*offset, Some(0), text.clone()))
            .collect();
        assert_eq!(got, expected, "{unit:?}");
    }
}

#[test]
fn character_counts_of_long_lines() {
    for (text, more) in [
        ("a".repeat(300), false),
        ("a".repeat(301), true),
        ("é".repeat(300), false),
        ("é".repeat(301), true),
        (format!("{}{}", "🚀".repeat(299), "ab"), true),
        (format!("{}{}", "🚀".repeat(299), "a"), false),
        (format!("{}{}", "a".repeat(299), "深".repeat(2)), true),
    ] {
        assert_eq!(has_more_chars(&text, 300), more, "{text}");
        assert_eq!(text.chars().count() > 300, more);
        let shape = shape_of(&text).0;
        assert_eq!(shape == Shape::Abstract, more, "{text}");
    }
}

use super::*;
use crate::dedup::sketch::Sketcher;

/// Families of related texts (copies with a few words changed), exact
/// copies in other case and spacing, and rows without words.
fn corpus(seed: u64, families: usize) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut texts = Vec::new();
    for family in 0..families {
        let base: Vec<String> = (0..80).map(|_| format!("w{}", next() % 5000)).collect();
        for copy in 0..(1 + family % 4) {
            let mut words = base.clone();
            for _ in 0..copy {
                let at = next() % words.len();
                words[at] = format!("e{}", next() % 100);
            }
            texts.push(words.join(" "));
        }
        if family % 3 == 0 {
            texts.push(base.join("  ").to_uppercase());
        }
        if family % 7 == 0 {
            texts.push(String::new());
            texts.push("?!".into());
        }
    }
    texts
}

fn refs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

fn options(verify: Verify) -> DedupOptions {
    DedupOptions {
        threshold: 0.7,
        verify,
        ..DedupOptions::default()
    }
}

fn add_texts(index: &mut Index, texts: &[&str]) -> std::ops::Range<u64> {
    let s = index.sketch(texts, &Cancel::new()).unwrap();
    index
        .add(&s, &vec![ClusterOf::Itself; texts.len()])
        .unwrap()
}

fn query_texts(index: &Index, texts: &[&str]) -> Vec<Option<Match>> {
    let s = index.sketch(texts, &Cancel::new()).unwrap();
    index.query(&s, &Cancel::new()).unwrap()
}

/// The expected best match of each of `queries` against `stored`, from
/// one in-memory dedup over both: the verified edges from a stored row to
/// the query row (the first stored row with its exact key, else the most
/// similar, lowest on ties). Query rows must have distinct exact keys.
fn expected_matches(
    stored: &[&str],
    queries: &[&str],
    opts: &DedupOptions,
) -> Vec<Option<(u64, f64, bool)>> {
    let all: Vec<&str> = stored.iter().chain(queries).copied().collect();
    let result = crate::dedup::dedup(&all, opts).unwrap();
    let n = stored.len() as u32;
    (0..queries.len() as u32)
        .map(|q| {
            let mut best: Option<(u64, f64, bool)> = None;
            for e in result.edges.iter().filter(|e| e.b == n + q && e.a < n) {
                let better = match best {
                    None => true,
                    Some((_, s, exact)) => !exact && (e.exact || e.similarity > s),
                };
                if better {
                    best = Some((u64::from(e.a), e.similarity, e.exact));
                }
            }
            best
        })
        .collect()
}

#[test]
fn queries_find_what_one_dedup_over_everything_links() {
    for verify in Verify::ALL {
        let dir = tempfile::tempdir().unwrap();
        let opts = options(verify);
        let stored = corpus(1, 40);
        let mut index = Index::create(dir.path(), &opts).unwrap();
        // In three adds, so that matches come from several segments.
        let stored_refs = refs(&stored);
        let third = stored_refs.len() / 3;
        for chunk in stored_refs.chunks(third) {
            add_texts(&mut index, chunk);
        }
        assert_eq!(index.len(), stored.len() as u64);
        assert_eq!(
            index.stats().segments,
            4.min(stored_refs.len().div_ceil(third))
        );
        // Queries: fresh edits of stored families, exact copies, new texts.
        let mut queries: Vec<String> = stored
            .iter()
            .step_by(3)
            .filter(|t| t.len() > 10)
            .map(|t| t.replacen("w", "z", 2))
            .collect();
        queries.push(stored[0].to_uppercase());
        queries.extend(corpus(99, 5).into_iter().filter(|t| t.len() > 10));
        queries.push(String::new());
        let mut keys = std::collections::HashSet::new();
        queries.retain(|t| keys.insert(crate::dedup::exact::exact_key(t)));
        let query_refs = refs(&queries);
        let expected = expected_matches(&stored_refs, &query_refs, &opts);
        let mut found = 0;
        let reader = Index::open(dir.path(), Mode::Read).unwrap();
        for index in [&index, &reader] {
            let got = query_texts(index, &query_refs);
            for (q, (got, want)) in got.iter().zip(&expected).enumerate() {
                let got = got.map(|m| (m.id, m.similarity, m.exact));
                assert_eq!(got, *want, "{verify:?} query {q}: {:?}", query_refs[q]);
                found += usize::from(got.is_some_and(|g| !g.2));
            }
        }
        assert!(found > 20, "{verify:?}: only {found} near matches");
        assert!(expected.iter().any(|m| m.is_some_and(|m| m.2)));
        assert!(expected.iter().filter(|m| m.is_none()).count() >= 3);
        index.check().unwrap();
    }
}

#[test]
fn stored_texts_match_their_first_copy_and_clusters_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::create(dir.path(), &options(Verify::Exact)).unwrap();
    let texts = [
        "alpha beta gamma delta epsilon zeta eta",
        "ALPHA beta  gamma delta epsilon zeta eta",
        "one two three four five six",
    ];
    let s = index.sketch(&texts, &Cancel::new()).unwrap();
    let ids = index
        .add(
            &s,
            &[ClusterOf::Itself, ClusterOf::Row(0), ClusterOf::Itself],
        )
        .unwrap();
    assert_eq!(ids, 0..3);
    let more = [
        "one two three four five six seven",
        "brand new text here with words",
    ];
    let s = index.sketch(&more, &Cancel::new()).unwrap();
    index
        .add(&s, &[ClusterOf::Stored(2), ClusterOf::Itself])
        .unwrap();
    // The copy's exact key and bands are not stored again.
    let stats = index.stats();
    assert_eq!(stats.documents, 5);
    assert_eq!(stats.exact_entries, 4);
    assert_eq!(
        stats.band_entries,
        4 * index.options().banding().bands as u64
    );
    let got = query_texts(
        &index,
        &[
            "alpha beta gamma delta epsilon zeta eta",
            "one two three four five six seven",
        ],
    );
    assert_eq!(
        got[0].map(|m| (m.id, m.cluster, m.exact)),
        Some((0, 0, true))
    );
    assert_eq!(
        got[1].map(|m| (m.id, m.cluster, m.exact)),
        Some((3, 2, true))
    );
    // A cluster must be stored or an earlier row.
    let s = index.sketch(&["x y z"], &Cancel::new()).unwrap();
    assert!(index.add(&s, &[ClusterOf::Stored(5)]).is_err());
    assert!(index.add(&s, &[ClusterOf::Row(0)]).is_err());
    assert_eq!(index.len(), 5);
}

#[test]
fn compact_merges_segments_and_keeps_every_answer() {
    for verify in Verify::ALL {
        let dir = tempfile::tempdir().unwrap();
        let texts = corpus(5, 60);
        let texts = refs(&texts);
        let mut index = Index::create(dir.path(), &options(verify)).unwrap();
        for chunk in texts.chunks(37) {
            add_texts(&mut index, chunk);
        }
        let before_stats = index.stats();
        assert!(before_stats.segments > 3);
        let queries: Vec<String> = texts.iter().map(|t| format!("{t} extra")).collect();
        let queries = refs(&queries);
        let before = query_texts(&index, &queries);
        let reader = Index::open(dir.path(), Mode::Read).unwrap();
        index.compact().unwrap();
        let after_stats = index.stats();
        assert_eq!(after_stats.segments, 1);
        assert_eq!(after_stats.documents, before_stats.documents);
        assert_eq!(after_stats.exact_entries, before_stats.exact_entries);
        assert_eq!(after_stats.band_entries, before_stats.band_entries);
        assert_eq!(query_texts(&index, &queries), before);
        assert_eq!(index.check().unwrap().leftovers, Vec::<String>::new());
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 3, "MANIFEST, LOCK and one segment");
        // A reader opened before keeps its snapshot (its files stay open).
        #[cfg(unix)]
        assert_eq!(query_texts(&reader, &queries), before);
        drop(index);
        let reopened = Index::open(dir.path(), Mode::Read).unwrap();
        assert_eq!(query_texts(&reopened, &queries), before);
        reopened.check().unwrap();
    }
}

#[test]
fn shingle_sets_cost_under_eight_bytes_per_shingle() {
    let dir = tempfile::tempdir().unwrap();
    // Unrelated texts: near copies share shingles, which zstd compresses.
    let mut state = 11u64;
    let texts: Vec<String> = (0..500)
        .map(|_| {
            (0..200)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    format!("w{}", (state >> 33) % 50_000)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let texts = refs(&texts);
    let mut index = Index::create(dir.path(), &options(Verify::Exact)).unwrap();
    add_texts(&mut index, &texts);
    let sketcher = Sketcher::new(5, 128, index.options().seed);
    let shingles: usize = texts.iter().map(|t| sketcher.shingle_set(t).len()).sum();
    let stats = index.stats();
    let per_shingle = stats.doc_bytes as f64 / shingles as f64;
    // Random 64-bit hashes: the gaps of a set of about 200 take 56 to 57
    // bits, a varint of 8 or 9 bytes, which zstd hardly shrinks.
    // Besides the sets: 25 bytes of key, cluster and flags per document.
    eprintln!(
        "{per_shingle:.2} bytes per shingle, {:.0} bytes per document of {:.0} shingles",
        stats.doc_bytes as f64 / texts.len() as f64,
        shingles as f64 / texts.len() as f64
    );
    assert!(per_shingle < 8.0, "{per_shingle} bytes per shingle");
    assert!(per_shingle > 6.0, "{per_shingle} bytes per shingle");
}

/// The documents an index answers for: the stored id each text matches exactly.
fn exact_ids(index: &Index, texts: &[&str]) -> Vec<Option<u64>> {
    query_texts(index, texts)
        .into_iter()
        .map(|m| m.filter(|m| m.exact).map(|m| m.id))
        .collect()
}

#[test]
fn a_crash_anywhere_in_an_add_leaves_the_old_or_the_new_index() {
    let old_texts = corpus(21, 20);
    let old = refs(&old_texts);
    let new_texts: Vec<String> = corpus(22, 20)
        .into_iter()
        .map(|t| format!("{t} new"))
        .collect();
    let new = refs(&new_texts);
    // The bytes a whole add writes, to place faults all through it.
    let total = {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::create(dir.path(), &options(Verify::Exact)).unwrap();
        add_texts(&mut index, &old);
        add_texts(&mut index, &new);
        index.plan.written
    };
    assert!(total > 1000);
    let mut faults: Vec<Fault> = (0..20).map(|i| Fault::AfterBytes(total * i / 20)).collect();
    faults.extend([
        Fault::AfterBytes(total - 1),
        Fault::BeforeSwitch,
        Fault::AfterSwitch,
    ]);
    for fault in faults {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::create(dir.path(), &options(Verify::Exact)).unwrap();
        add_texts(&mut index, &old);
        let before = exact_ids(&index, &new);
        let old_ids = exact_ids(&index, &old);
        assert!(old_ids.iter().flatten().count() > old.len() / 2);
        index.inject(fault);
        let s = index.sketch(&new, &Cancel::new()).unwrap();
        assert!(
            index.add(&s, &vec![ClusterOf::Itself; new.len()]).is_err(),
            "{fault:?}"
        );
        drop(index); // the crash: nothing cleaned up
        let index = Index::open(dir.path(), Mode::Read).unwrap();
        index.check().unwrap();
        let switched = fault == Fault::AfterSwitch;
        let expected_len = old.len() + if switched { new.len() } else { 0 };
        assert_eq!(index.len(), expected_len as u64, "{fault:?}");
        let after = exact_ids(&index, &new);
        if switched {
            assert!(after.iter().all(Option::is_some), "{fault:?}");
        } else {
            assert_eq!(after, before, "{fault:?}");
        }
        assert_eq!(exact_ids(&index, &old), old_ids, "{fault:?}");
        // The next writer removes what the crash left and adds again.
        let mut writer = Index::open(dir.path(), Mode::Append).unwrap();
        assert!(writer.check().unwrap().leftovers.is_empty());
        add_texts(&mut writer, &new);
        writer.check().unwrap();
    }
}

#[test]
fn a_crash_in_compact_leaves_the_same_documents() {
    for fault in [
        Fault::AfterBytes(0),
        Fault::AfterBytes(3000),
        Fault::BeforeSwitch,
        Fault::AfterSwitch,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let texts = corpus(3, 30);
        let texts = refs(&texts);
        let mut index = Index::create(dir.path(), &options(Verify::Signature)).unwrap();
        for chunk in texts.chunks(20) {
            add_texts(&mut index, chunk);
        }
        let before = query_texts(&index, &texts);
        index.inject(fault);
        assert!(index.compact().is_err(), "{fault:?}");
        drop(index);
        let index = Index::open(dir.path(), Mode::Read).unwrap();
        index.check().unwrap();
        assert_eq!(query_texts(&index, &texts), before, "{fault:?}");
        assert_eq!(index.stats().segments == 1, fault == Fault::AfterSwitch);
    }
}

#[test]
fn a_full_disk_fails_the_add_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::create(dir.path(), &options(Verify::Exact)).unwrap();
    add_texts(&mut index, &["some text to keep around for later"]);
    index.inject(Fault::DiskFull(500));
    let texts = corpus(4, 10);
    let s = index.sketch(&refs(&texts), &Cancel::new()).unwrap();
    let err = index
        .add(&s, &vec![ClusterOf::Itself; texts.len()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no space left"), "{err}");
    assert_eq!(index.len(), 1);
    assert_eq!(
        index.check().unwrap(),
        CheckReport {
            documents: 1,
            blocks: 3,
            ..CheckReport::default()
        }
    );
    index.inject(Fault::None);
    index
        .add(&s, &vec![ClusterOf::Itself; texts.len()])
        .unwrap();
    assert_eq!(index.len(), 1 + texts.len() as u64);
}

#[test]
fn one_writer_at_a_time_and_readers_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Index::create(dir.path(), &options(Verify::Exact)).unwrap();
    let err = Index::open(dir.path(), Mode::Append)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    assert!(err.contains("one writer at a time"), "{err}");
    let reader = Index::open(dir.path(), Mode::Read).unwrap();
    add_texts(&mut writer, &["first text of the index with words"]);
    // The reader keeps the snapshot it opened.
    assert_eq!(reader.len(), 0);
    assert_eq!(Index::open(dir.path(), Mode::Read).unwrap().len(), 1);
    let mut reader = reader;
    let s = reader.sketch(&["x"], &Cancel::new()).unwrap();
    let err = reader
        .add(&s, &[ClusterOf::Itself])
        .unwrap_err()
        .to_string();
    assert!(err.contains("open for reading"), "{err}");
    drop(writer);
    Index::open(dir.path(), Mode::Append).unwrap();
}

/// Rewrites the manifest's `field` to `value`.
fn edit_manifest(dir: &Path, field: &str, value: serde_json::Value) {
    let path = dir.join(MANIFEST_FILE);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json[field] = value;
    std::fs::write(&path, json.to_string()).unwrap();
}

#[test]
fn another_format_version_is_an_error_naming_both() {
    for field in ["index_format", "sketch_format", "segment_format"] {
        let dir = tempfile::tempdir().unwrap();
        drop(Index::create(dir.path(), &DedupOptions::default()).unwrap());
        edit_manifest(dir.path(), field, 99.into());
        let what = field.replace('_', " ");
        for mode in [Mode::Read, Mode::Append] {
            let err = Index::open(dir.path(), mode).unwrap_err().to_string();
            assert!(
                err.contains(&format!(
                    "the index has {what} 99; this thresher reads {what} "
                )),
                "{err}"
            );
        }
    }
}

fn index_with_two_segments(dir: &Path) -> Vec<String> {
    let mut index = Index::create(dir, &options(Verify::Exact)).unwrap();
    let texts = corpus(8, 30);
    let texts = refs(&texts);
    add_texts(&mut index, &texts[..20]);
    add_texts(&mut index, &texts[20..]);
    index
        .manifest
        .segments
        .iter()
        .map(|s| s.file.clone())
        .collect()
}

#[test]
fn damaged_files_give_clear_errors() {
    // A truncated segment.
    let dir = tempfile::tempdir().unwrap();
    let segments = index_with_two_segments(dir.path());
    let seg = dir.path().join(&segments[1]);
    let len = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let err = Index::open(dir.path(), Mode::Read).unwrap_err().to_string();
    assert!(
        err.contains(&segments[1]) && err.contains("truncated"),
        "{err}"
    );

    // A foreign file in place of a segment.
    let dir = tempfile::tempdir().unwrap();
    let segments = index_with_two_segments(dir.path());
    std::fs::write(dir.path().join(&segments[0]), vec![7u8; 4096]).unwrap();
    let err = Index::open(dir.path(), Mode::Read).unwrap_err().to_string();
    assert!(err.contains("not a thresher index segment"), "{err}");

    // A damaged block: the index opens, the block's reader and check() say so.
    let dir = tempfile::tempdir().unwrap();
    let segments = index_with_two_segments(dir.path());
    let seg = dir.path().join(&segments[0]);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&seg, bytes).unwrap();
    let index = Index::open(dir.path(), Mode::Read).unwrap();
    let err = index.check().unwrap_err().to_string();
    assert!(err.contains("damaged (checksum)"), "{err}");

    // A deleted manifest.
    let dir = tempfile::tempdir().unwrap();
    index_with_two_segments(dir.path());
    std::fs::remove_file(dir.path().join(MANIFEST_FILE)).unwrap();
    for mode in [Mode::Read, Mode::Append] {
        let err = Index::open(dir.path(), mode).unwrap_err().to_string();
        assert!(
            err.contains("MANIFEST is missing") && err.contains("2 segment files"),
            "{err}"
        );
    }
    let err = Index::open(&dir.path().join("nowhere"), Mode::Read)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no index here"), "{err}");
    // A manifest that is not one.
    std::fs::write(dir.path().join(MANIFEST_FILE), "{}").unwrap();
    let err = Index::open(dir.path(), Mode::Read).unwrap_err().to_string();
    assert!(err.contains("not a thresher index manifest"), "{err}");
}

#[test]
fn a_foreign_file_is_reported_and_stops_writers_only() {
    let dir = tempfile::tempdir().unwrap();
    index_with_two_segments(dir.path());
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let reader = Index::open(dir.path(), Mode::Read).unwrap();
    assert_eq!(
        reader.check().unwrap().foreign,
        vec!["notes.txt".to_string()]
    );
    let err = Index::open(dir.path(), Mode::Append)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("notes.txt") && err.contains("did not write"),
        "{err}"
    );
    // Creating over a non-empty directory or an index is refused.
    let err = Index::create(dir.path(), &DedupOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("an index already exists"), "{err}");
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("data.csv"), "x").unwrap();
    let err = Index::create(other.path(), &DedupOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not empty") && err.contains("data.csv"),
        "{err}"
    );
}

#[test]
fn parameters_survive_reopening_and_sketches_must_match_them() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DedupOptions {
        threshold: 0.6,
        ngram: 3,
        num_perm: 64,
        seed: 12345,
        verify: Verify::Signature,
    };
    drop(Index::create(dir.path(), &opts).unwrap());
    let index = Index::open(dir.path(), Mode::Read).unwrap();
    assert_eq!(index.options(), &opts);
    let wrong =
        DocSketches::of_texts(&["a b c d"], &DedupOptions::default(), &Cancel::new()).unwrap();
    assert!(index.query(&wrong, &Cancel::new()).is_err());
    assert!("w".parse::<Mode>().is_err());
    assert_eq!("a".parse::<Mode>().unwrap(), Mode::Append);
}

#[test]
fn lookups_find_every_entry_across_block_boundaries() {
    // Runs of equal keys longer than a block, and keys that straddle
    // block boundaries, against queries below, between, on and above them.
    let dir = tempfile::tempdir().unwrap();
    let mut entries: Vec<(u64, u64)> = Vec::new();
    let mut id = 0u64;
    for key in (0..3000u64).map(|k| k * 10) {
        let copies = match key % 70 {
            0 => block::KEY_BLOCK_ROWS + 3,
            10 => 5,
            _ => 1,
        };
        for _ in 0..copies {
            entries.push((key, id));
            id += 1;
        }
    }
    entries.sort_unstable();
    let mut plan = FaultPlan::default();
    let name = "seg-00000001.tsi";
    write_segment(
        dir.path(),
        name,
        &mut plan,
        0,
        Payload::Shingles,
        (0..50).map(|_| Doc::default()),
        std::iter::empty(),
        entries.iter().copied(),
    )
    .unwrap();
    let segment = Segment::open(&dir.path().join(name)).unwrap();
    assert!(segment.footer.band_blocks.len() > 3);
    let mut queries: Vec<(u64, u32)> = (0..31_000u64).step_by(5).map(|k| (k, k as u32)).collect();
    queries.push((u64::MAX, 7));
    queries.sort_unstable();
    let mut got = Vec::new();
    segment
        .lookup(&segment.footer.band_blocks, &queries, &mut got)
        .unwrap();
    got.sort_unstable();
    let mut by_key: HashMap<u64, Vec<u64>> = HashMap::new();
    for &(key, id) in &entries {
        by_key.entry(key).or_default().push(id);
    }
    let mut want: Vec<(u32, u64)> = queries
        .iter()
        .flat_map(|&(k, row)| {
            by_key
                .get(&k)
                .into_iter()
                .flatten()
                .map(move |&id| (row, id))
        })
        .collect();
    want.sort_unstable();
    // Some query meets a run of equal keys spread over two blocks or more.
    assert!(want.len() > 2 * block::KEY_BLOCK_ROWS);
    assert_eq!(got, want);
}

#[test]
fn user_ids_are_stored_read_back_and_survive_compact() {
    for verify in Verify::ALL {
        let dir = tempfile::tempdir().unwrap();
        let texts = corpus(11, 30);
        let texts = refs(&texts);
        let mut index = Index::create(dir.path(), &options(verify)).unwrap();
        assert_eq!(index.id_kind(), IdKind::None);
        let mut given = Vec::new();
        for (c, chunk) in texts.chunks(40).enumerate() {
            let ids: Vec<String> = (0..chunk.len()).map(|r| format!("day{c}/{r}")).collect();
            let s = index.sketch(chunk, &Cancel::new()).unwrap();
            let clusters = vec![ClusterOf::Itself; chunk.len()];
            let user = UserIds::Text(ids.clone());
            index.add_with_ids(&s, &clusters, Some(&user)).unwrap();
            given.extend(ids);
        }
        assert_eq!(index.id_kind(), IdKind::Text);
        let all: Vec<u64> = (0..given.len() as u64).rev().collect();
        let want: Vec<Option<UserId>> = given
            .iter()
            .rev()
            .map(|g| Some(UserId::Text(g.clone())))
            .collect();
        assert_eq!(index.user_ids(&all).unwrap(), want);
        index.compact().unwrap();
        index.check().unwrap();
        assert_eq!(index.user_ids(&all).unwrap(), want);
        // Every document has an id, or none has one, of one kind.
        let s = index.sketch(&texts[..2], &Cancel::new()).unwrap();
        let two = vec![ClusterOf::Itself; 2];
        let err = index.add(&s, &two).unwrap_err().to_string();
        assert!(err.contains("give an id column"), "{err}");
        let numbers = UserIds::Number(vec![1, 2]);
        let err = index
            .add_with_ids(&s, &two, Some(&numbers))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("type string, these are of type uint64"),
            "{err}"
        );
        drop(index);
        let reopened = Index::open(dir.path(), Mode::Read).unwrap();
        assert_eq!(reopened.id_kind(), IdKind::Text);
        assert_eq!(reopened.user_ids(&all).unwrap(), want);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::create(dir.path(), &options(Verify::Signature)).unwrap();
    add_texts(&mut index, &["a b c d e f"]);
    assert_eq!(index.user_ids(&[0]).unwrap(), vec![None]);
    let s = index.sketch(&["x y z w v u"], &Cancel::new()).unwrap();
    let numbers = UserIds::Number(vec![u64::MAX]);
    let err = index
        .add_with_ids(&s, &[ClusterOf::Itself], Some(&numbers))
        .unwrap_err()
        .to_string();
    assert!(err.contains("1 documents without ids"), "{err}");
}

#[test]
fn a_streaming_add_is_one_atomic_add_of_its_parts() {
    let dir = tempfile::tempdir().unwrap();
    let texts = corpus(13, 40);
    let texts = refs(&texts);
    let mut index = Index::create(dir.path(), &options(Verify::Exact)).unwrap();
    add_texts(&mut index, &texts[..10]);
    index.begin_add().unwrap();
    // Exact copies in later parts (and of stored texts) get no exact key
    // of their own: check() would find it stored twice.
    for part in texts.chunks(25) {
        add_texts(&mut index, part);
    }
    let others = Index::open(dir.path(), Mode::Read).unwrap();
    assert_eq!(others.len(), 10, "parts are not live before the commit");
    assert!(index.compact().is_err());
    assert_eq!(index.commit_add().unwrap(), 10..10 + texts.len() as u64);
    assert!(index.stats().segments > 2);
    index.check().unwrap();
    let reopened = Index::open(dir.path(), Mode::Read).unwrap();
    assert_eq!(reopened.len(), 10 + texts.len() as u64);
    // The same texts added at once give the same answers.
    let one = tempfile::tempdir().unwrap();
    let mut whole = Index::create(one.path(), &options(Verify::Exact)).unwrap();
    add_texts(&mut whole, &texts[..10]);
    add_texts(&mut whole, &texts);
    let queries: Vec<String> = texts.iter().map(|t| format!("{t} more")).collect();
    let queries = refs(&queries);
    assert_eq!(
        query_texts(&reopened, &queries),
        query_texts(&whole, &queries)
    );
    // An aborted streaming add leaves the index and its directory as they were.
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    index.begin_add().unwrap();
    add_texts(&mut index, &texts[..30]);
    index.abort_add();
    assert_eq!(index.len(), 10 + texts.len() as u64);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), files);
    index.check().unwrap();
}

#[test]
fn a_labelled_add_is_recorded_and_the_index_before_it_can_be_queried() {
    for verify in Verify::ALL {
        let dir = tempfile::tempdir().unwrap();
        let texts = corpus(21, 50);
        let texts = refs(&texts);
        let (past, day) = texts.split_at(texts.len() / 2);
        let mut index = Index::create(dir.path(), &options(verify)).unwrap();
        add_texts(&mut index, past);
        let s = index.sketch(day, &Cancel::new()).unwrap();
        let as_it_was = index.query_clusters(&s, &Cancel::new()).unwrap();
        assert!(as_it_was.0.iter().any(Option::is_some));
        assert_eq!(index.labelled("day 1"), None);
        index.label_next_add("day 1").unwrap();
        let ids = add_texts(&mut index, day);
        assert_eq!(index.labelled("day 1"), Some(ids.clone()));
        // The label is live with the add, across reopening and compaction.
        drop(index);
        let mut index = Index::open(dir.path(), Mode::Append).unwrap();
        assert_eq!(index.labelled("day 1"), Some(ids.clone()));
        assert!(
            index.label_next_add("day 1").is_err(),
            "a name is recorded once"
        );
        add_texts(&mut index, &past[..5]);
        index.compact().unwrap();
        index.check().unwrap();
        let (all, _) = index.query_clusters(&s, &Cancel::new()).unwrap();
        for (row, m) in all.iter().enumerate() {
            assert_eq!(
                m.is_some(),
                s.has_content[row],
                "the day now matches itself"
            );
        }
        let before = index
            .query_clusters_before(&s, &Cancel::new(), ids.start)
            .unwrap();
        assert_eq!(before, as_it_was);
        // A streaming add records its label at the commit; an aborted one
        // or an add of nothing records none.
        index.label_next_add("stream").unwrap();
        index.begin_add().unwrap();
        add_texts(&mut index, &past[..3]);
        index.abort_add();
        add_texts(&mut index, &past[..2]);
        assert_eq!(index.labelled("stream"), None);
        index.label_next_add("stream").unwrap();
        index.begin_add().unwrap();
        let part = add_texts(&mut index, &past[..3]);
        assert_eq!(index.labelled("stream"), None);
        index.commit_add().unwrap();
        assert_eq!(index.labelled("stream"), Some(part));
        index.label_next_add("nothing").unwrap();
        add_texts(&mut index, &[]);
        add_texts(&mut index, &past[..1]);
        assert_eq!(index.labelled("nothing"), None);
    }
}

#[test]
fn the_manifest_keeps_the_latest_labels_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::create(dir.path(), &options(Verify::Signature)).unwrap();
    let mut manifest = index.manifest.clone();
    for n in 0..manifest::KEPT_LABELS + 3 {
        manifest.label(&format!("add {n}"), 0, 0);
    }
    assert_eq!(manifest.labels.len(), manifest::KEPT_LABELS);
    assert_eq!(manifest.labels[0].name, "add 3");
    index.manifest = manifest;
    assert_eq!(index.labelled("add 2"), None);
    assert_eq!(index.labelled("add 3"), Some(0..0));
    // A label beyond the stored documents is a damaged manifest.
    add_texts(&mut index, &["one text of a few words here"]);
    drop(index);
    edit_manifest(
        dir.path(),
        "labels",
        serde_json::json!([{"name": "x", "first_id": 0, "end_id": 9}]),
    );
    let err = Index::open(dir.path(), Mode::Read).unwrap_err().to_string();
    assert!(err.contains("label \"x\""), "{err}");
}

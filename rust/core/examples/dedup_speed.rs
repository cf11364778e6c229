//! Time of each pass of the dedup engine on generated text, one thread or
//! many: `cargo run --release -p thresher-core --example dedup_speed -- [docs] [threads]`.
//! A quarter of the documents are edited copies of others, so verification
//! has real work. The comparisons with other libraries live in `benches/`.
//! With `DEDUP_SPEED_IN_MEMORY=N`, it also times `thresher_core::dedup` and
//! `thresher_core::similar_pairs` (the in-memory passes) N times each and
//! prints the best, for profiling. With `DEDUP_SPEED_PASSES=N`, it runs the
//! in-memory passes of `similar_pairs` (sketch keeping shingle hashes,
//! candidates, verification of the kept hashes) N times and prints the best
//! time of each pass, to compare builds pass by pass.

use std::time::Instant;

use thresher_core::{Cancel, DedupEngine, DedupOptions};

fn corpus(docs: usize) -> Vec<String> {
    let mut state = 7u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut texts: Vec<String> = Vec::with_capacity(docs);
    while texts.len() < docs {
        if texts.len() > 10 && next() % 4 == 0 {
            let source = &texts[next() % texts.len()];
            let mut words: Vec<&str> = source.split(' ').collect();
            let edits = next() % 6;
            for _ in 0..edits {
                let at = next() % words.len();
                words[at] = "edited";
            }
            let copy = words.join(" ");
            texts.push(copy);
        } else {
            let len = 80 + next() % 240;
            let words: Vec<String> = (0..len).map(|_| format!("w{}", next() % 30_000)).collect();
            texts.push(words.join(" "));
        }
    }
    texts
}

fn main() {
    let mut args = std::env::args().skip(1);
    let source = args.next().unwrap_or_else(|| "200000".into());
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let texts = match source.parse::<usize>() {
        Ok(docs) => corpus(docs),
        Err(_) => match std::fs::read_to_string(&source) {
            Ok(text) => text.split('\0').map(str::to_owned).collect(),
            Err(e) => return eprintln!("cannot read {source}: {e}"),
        },
    };
    let docs = texts.len();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => return eprintln!("cannot start threads: {e}"),
    };
    let in_memory_runs: usize = std::env::var("DEDUP_SPEED_IN_MEMORY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cancel = Cancel::new();
    let in_memory = || -> thresher_core::Result<(f64, f64)> {
        let (mut dedup, mut pairs) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..in_memory_runs {
            let started = Instant::now();
            thresher_core::dedup(&refs, &DedupOptions::default())?;
            dedup = dedup.min(started.elapsed().as_secs_f64());
            let started = Instant::now();
            thresher_core::similar_pairs(&refs, &DedupOptions::default())?;
            pairs = pairs.min(started.elapsed().as_secs_f64());
        }
        Ok((dedup, pairs))
    };
    let pass_runs: usize = std::env::var("DEDUP_SPEED_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let passes = || -> thresher_core::Result<[f64; 5]> {
        let mut best = [f64::INFINITY; 5];
        for _ in 0..pass_runs {
            let mut engine = DedupEngine::new(&DedupOptions::default())?;
            let started = Instant::now();
            let (sketches, mut kept) = engine.sketch_keeping_shingles(&refs, &cancel)?;
            engine.add(sketches)?;
            let sketched = Instant::now();
            engine.find_candidates(None, &cancel)?;
            let found = Instant::now();
            engine.verify_kept(&mut kept, &cancel)?;
            let verified = Instant::now();
            let edges = engine.verified_edges()?;
            let listed = Instant::now();
            drop((engine, kept, edges));
            let dropped = Instant::now();
            let laps = [
                sketched - started,
                found - sketched,
                verified - found,
                listed - verified,
                dropped - listed,
            ];
            for (best, lap) in best.iter_mut().zip(laps) {
                *best = best.min(lap.as_secs_f64());
            }
        }
        Ok(best)
    };
    let run = || -> thresher_core::Result<()> {
        // Warm up the threads and their buffers.
        thresher_core::dedup(&refs[..refs.len().min(200)], &DedupOptions::default())?;
        let mut engine = DedupEngine::new(&DedupOptions::default())?;
        let mut last = Instant::now();
        let mut lap = |name: &str| {
            let s = last.elapsed().as_secs_f64();
            println!("  {name:<16} {s:8.3} s  {:8.1} MB/s", mb / s);
            last = Instant::now();
        };
        let sketches = engine.sketch(&refs, &cancel)?;
        engine.add(sketches)?;
        lap("sketch");
        let pairs = engine.find_candidates(None, &cancel)?;
        lap("candidates");
        for chunk in refs.chunks(1 << 16) {
            engine.verify(chunk, &cancel)?;
        }
        lap("verify");
        let to_score = engine.cluster(None, &cancel)?;
        lap("cluster");
        if to_score > 0 {
            for chunk in refs.chunks(1 << 16) {
                engine.score(chunk, &cancel)?;
            }
            lap("score");
        }
        let result = engine.result()?;
        lap("result");
        let duplicates = result.duplicate_of.iter().flatten().count();
        println!("  {pairs} candidate pairs, {duplicates} duplicates, {to_score} rows scored");
        Ok(())
    };
    println!("{docs} docs, {mb:.1} MB, {threads} thread(s)");
    let started = Instant::now();
    if let Err(e) = pool.install(run) {
        eprintln!("dedup failed: {e}");
    }
    let s = started.elapsed().as_secs_f64();
    println!("  total            {s:8.3} s  {:8.1} MB/s", mb / s);
    if pass_runs > 0 {
        match pool.install(passes) {
            Ok(best) => {
                for (name, s) in [
                    "sketch, keeping",
                    "candidates",
                    "verify kept",
                    "edges",
                    "drop",
                ]
                .iter()
                .zip(best)
                {
                    println!("  {name:<16} {:8.3} ms (best of {pass_runs})", s * 1e3);
                }
            }
            Err(e) => eprintln!("dedup failed: {e}"),
        }
    }
    if in_memory_runs > 0 {
        match pool.install(in_memory) {
            Ok((dedup, pairs)) => {
                println!(
                    "  dedup in memory  {dedup:8.4} s  {:8.1} MB/s (best of {in_memory_runs})",
                    mb / dedup
                );
                println!(
                    "  similar_pairs    {pairs:8.4} s  {:8.1} MB/s (best of {in_memory_runs})",
                    mb / pairs
                );
            }
            Err(e) => eprintln!("dedup failed: {e}"),
        }
    }
}

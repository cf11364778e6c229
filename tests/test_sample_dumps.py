"""Tests of the synthetic paper-listing generator and of the shipped sample dumps."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest

from thresher import reference
from thresher import sample_dumps as sd

SAMPLES = Path(sd.__file__).resolve().parent / "samples"
NAMES = ["listing_000.txt", "listing_001.txt", "listing_002.txt"]
HEADER = {
    "new",
    "Get trending papers in your email inbox!",
    "Get trending papers in your email inbox once a day!",
    "Subscribe",
    "byAK and the research community",
}
DATE = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    return out, sd.generate_corpus(out)


def _content_lines(text: str) -> list[str]:
    """Non-blank lines after the header, with any glued header prefix removed."""
    lines = [ln for ln in text.split("\n") if ln]
    i = 0
    while lines[i] in HEADER or DATE.fullmatch(lines[i]):
        i += 1
    first = lines[i]
    for prefix in sorted(HEADER, key=len, reverse=True):
        if first.startswith(prefix):
            first = first[len(prefix) :]
            break
    else:
        m = DATE.match(first)
        if m:
            first = first[m.end() :]
    return [first, *lines[i + 1 :]]


# ---------------------------------------------------------------------------
# Determinism and shipped samples.
# ---------------------------------------------------------------------------


def test_samples_are_what_the_generator_writes(corpus):
    out, _ = corpus
    assert sorted(p.name for p in SAMPLES.glob("*.txt")) == NAMES
    for name in NAMES:
        assert (SAMPLES / name).read_bytes() == (out / name).read_bytes(), name


def test_generation_is_deterministic(tmp_path):
    a = sd.generate_corpus(tmp_path / "a", n_files=2, papers_per_file=10, seed=7)
    b = sd.generate_corpus(tmp_path / "b", n_files=2, papers_per_file=10, seed=7)
    assert a == b
    for name in a["files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    c = sd.generate_corpus(tmp_path / "c", n_files=2, papers_per_file=10, seed=8)
    assert c["files"] != a["files"]


def test_samples_are_small():
    assert sum((SAMPLES / n).stat().st_size for n in NAMES) < 300_000


# ---------------------------------------------------------------------------
# Ground truth.
# ---------------------------------------------------------------------------


def test_files_match_ground_truth(corpus):
    out, truth = corpus
    assert list(truth["files"]) == NAMES
    for name, papers in truth["files"].items():
        assert len(papers) == 60
        expected = [line for paper in papers for line in paper]
        assert _content_lines((out / name).read_text(encoding="utf-8")) == expected


def test_exact_and_near_pairs_are_exact(corpus):
    _, truth = corpus
    refs = [(n, i) for n, ps in truth["files"].items() for i in range(len(ps))]
    text = {(n, i): a for n, ps in truth["files"].items() for i, (_, a) in enumerate(ps)}
    sets = {r: reference.shingles(text[r]) for r in refs}
    exact, near = set(), {}
    for a, b in itertools.combinations(refs, 2):
        if reference.exact_form(text[a]) == reference.exact_form(text[b]):
            exact.add((a, b))
        else:
            j = reference.jaccard(sets[a], sets[b])
            if j >= 0.8:
                near[(a, b)] = j
    assert set(truth["exact_pairs"]) == exact
    assert len(truth["exact_pairs"]) == len(exact)
    assert {(a, b): j for a, b, j in truth["near_pairs"]} == pytest.approx(near)
    assert len(exact) >= 15
    assert len(near) >= 15


def test_planted_copies(corpus):
    _, truth = corpus
    files = truth["files"]
    exact = set(truth["exact_pairs"])
    near = {(a, b): j for a, b, j in truth["near_pairs"]}
    kinds = {"exact": 0, "near": 0}
    for c in truth["copies"]:
        kinds[c["kind"]] += 1
        src, dst = (c["source_file"], c["source_index"]), (c["file"], c["index"])
        assert src[0] < dst[0], "copies come from earlier files"
        assert files[dst[0]][dst[1]][0] == files[src[0]][src[1]][0], "titles are kept"
        if c["kind"] == "exact":
            assert files[dst[0]][dst[1]] == files[src[0]][src[1]]
            assert (src, dst) in exact
        else:
            assert files[dst[0]][dst[1]][1] != files[src[0]][src[1]][1]
            assert c["jaccard"] >= sd.NEAR_TARGET
            assert near[(src, dst)] == pytest.approx(c["jaccard"])
    assert kinds == {"exact": 18, "near": 18}


def test_near_copy_is_small_edit():
    rng = random.Random(3)
    for _ in range(30):
        _, abstract = sd.generate_paper(rng)
        edited, j = sd.near_copy(rng, abstract)
        assert reference.exact_form(edited) != reference.exact_form(abstract)
        assert j == pytest.approx(
            reference.jaccard(reference.shingles(abstract), reference.shingles(edited))
        )
        assert j >= sd.NEAR_TARGET
        assert abs(len(reference.words(edited)) - len(reference.words(abstract))) <= 10


def test_reference_tokenisation():
    assert reference.words("\uff26\uff55\uff4c\uff4c-width ﬁne_tuning, Σίσυφος 10²!") == [
        "full", "width", "fine", "tuning", "σίσυφος", "102",
    ]  # fmt: skip
    assert reference.shingles("") == set()
    assert reference.shingles("... ---") == set()
    assert reference.shingles("one two three") == {("one", "two", "three")}
    assert reference.shingles("a b c d e f", ngram=5) == {
        ("a", "b", "c", "d", "e"),
        ("b", "c", "d", "e", "f"),
    }
    assert reference.jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3)
    assert reference.jaccard(set(), set()) == 0.0
    assert reference.exact_form("  Hello\n\tWORLD ") == "hello world"


# ---------------------------------------------------------------------------
# Layouts and quirks.
# ---------------------------------------------------------------------------


def test_layouts_and_quirks():
    texts = {n: (SAMPLES / n).read_text(encoding="utf-8") for n in NAMES}
    assert "\n\n" in texts["listing_000.txt"]  # blank-lines layout
    assert "\n\n" not in texts["listing_001.txt"]  # compact layout
    assert "\n\n" in texts["listing_002.txt"]
    first_lines = {n: [ln for ln in t.split("\n") if ln] for n, t in texts.items()}
    glued = {
        n
        for n, lines in first_lines.items()
        if any(
            ln != h and ln.startswith(h) and ln[len(h)].isupper()
            for ln in lines[:8]
            for h in ("Subscribe", "new")
        )
        or any(DATE.match(ln) and not DATE.fullmatch(ln) for ln in lines[:8])
    }
    assert glued == {"listing_001.txt", "listing_002.txt"}
    everything = "".join(texts.values())
    assert any(DATE.fullmatch(ln) for lines in first_lines.values() for ln in lines[:8])
    assert re.search(r"[\u0370-\u03ff]", everything), "Greek letters"
    assert re.search(r"[\u4e00-\u9fff]", everything), "CJK"
    assert re.search(r"[éöåïÅ]", everything), "accents"
    assert "ﬁ" in everything, "NFKC-foldable ligature"


def test_shapes_of_fresh_papers():
    rng = random.Random(11)
    for _ in range(200):
        title, abstract = sd.generate_paper(rng)
        assert 10 <= len(title) <= 200
        assert title[0].isascii() and title[0].isupper()
        assert not title.endswith(".")
        assert "\n" not in title and "\n" not in abstract
        assert sd.ABSTRACT_MIN_CHARS <= len(abstract) <= sd.ABSTRACT_MAX_CHARS
        assert abstract.endswith(".")
        assert abstract.count(". ") >= 2


def test_generate_dump_options():
    rng = random.Random(1)
    papers = [sd.generate_paper(rng) for _ in range(3)]
    compact = sd.generate_dump(random.Random(2), 3, layout="compact", papers=papers)
    assert "\n\n" not in compact and compact.endswith("\n")
    assert compact.split("\n")[-7:-1] == [line for p in papers for line in p]
    blank = sd.generate_dump(random.Random(2), 3, papers=papers)
    assert [ln for ln in blank.split("\n") if ln][-6:] == [line for p in papers for line in p]
    glued = sd.generate_dump(random.Random(2), 3, layout="compact", glued_title=True, papers=papers)
    assert papers[0][0] not in glued.split("\n")
    assert any(ln.endswith(papers[0][0]) and ln != papers[0][0] for ln in glued.split("\n"))
    assert len(sd.generate_dump(random.Random(2), 4).split("\n")) > 8
    with pytest.raises(ValueError):
        sd.generate_dump(rng, 3, layout="fancy")
    with pytest.raises(ValueError):
        sd.generate_dump(rng, 2, papers=papers)


def test_cli(tmp_path, capsys):
    assert sd.main([str(tmp_path), "--files", "2", "--papers", "5", "--seed", "3"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES[:2]
    assert "2 files, 10 papers" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# Through the compiled engine.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingested():
    pytest.importorskip("thresher._core")
    import thresher

    paths = [str(SAMPLES / n) for n in NAMES]
    return thresher.ingest(paths)


def test_ingest_recovers_every_paper(corpus, ingested):
    _, truth = corpus
    assert ingested.errors.height == 0, ingested.errors
    records = ingested.records
    expected = [p for n in NAMES for p in truth["files"][n]]
    assert list(zip(records["title"], records["text"], strict=True)) == expected
    sources = [Path(s).name for s in records["source"]]
    assert sources == [n for n in NAMES for _ in truth["files"][n]]


def test_similar_pairs_find_the_planted_duplicates(corpus, ingested):
    import thresher

    _, truth = corpus
    row = {(n, i): k for k, (n, i) in enumerate((n, i) for n in NAMES for i in range(60))}
    # Exact duplicates link to the first row with their text; near-duplicate
    # edges join the first rows of distinct texts.
    first: dict[int, int] = {}
    for a, b in truth["exact_pairs"]:
        ra, rb = row[a], row[b]
        first[rb] = min(first.get(rb, ra), ra)
    expected_exact = {(f, r) for r, f in first.items()}
    expected_near = {
        (row[a], row[b]): j
        for a, b, j in truth["near_pairs"]
        if row[a] not in first and row[b] not in first
    }
    pairs = thresher.similar_pairs(ingested.records, threshold=0.8)
    found_exact = {(a, b) for a, b, e in pairs.select("a", "b", "exact").iter_rows() if e}
    found_near = {(a, b): s for a, b, s, e in pairs.iter_rows() if not e}
    assert found_exact == expected_exact
    assert set(found_near) <= set(expected_near)
    missed = {p: j for p, j in expected_near.items() if p not in found_near and j >= 0.85}
    assert not missed
    for p, s in found_near.items():
        assert s == pytest.approx(expected_near[p], abs=1e-9)

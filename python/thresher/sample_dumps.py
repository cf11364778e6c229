# ruff: noqa: RUF001
# (The vocabulary deliberately contains Greek letters and dashes.)
"""Deterministic generator of synthetic "paper-listing" page dumps.

The dumps imitate text scraped from a trending-papers listing page: a few lines
of page chrome (``new``, ``Get trending papers in your email inbox!``,
``Subscribe``, ``byAK and the research community``, a date such as ``Mar 14``)
followed, for every paper, by a title line and an abstract line (one long
paragraph of several sentences).  All titles and abstracts are assembled from
an invented vocabulary, so the output contains no real paper text.

Two layouts exist: ``"blank-lines"`` (a blank line between all lines) and
``"compact"`` (no blank lines).  Optionally the first title is glued to the
last header line (``SubscribeSome Title``), as happens when a page is scraped
without its markup.  Some titles and abstracts contain non-ASCII text
(accents, Greek letters, CJK, compatibility characters that NFKC folds).

:func:`generate_corpus` writes several dumps in which some papers re-appear
verbatim in later files (exact duplicates) and some re-appear with a few words
of the abstract edited (near duplicates), and returns the ground truth.  The
ground truth uses the same tokenisation as thresher (see :func:`shingles`).

The module needs only the standard library (not the compiled extension)::

    python -m thresher.sample_dumps OUT_DIR --files 3 --papers 60 --seed 0
"""

from __future__ import annotations

import argparse
import os
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from thresher.reference import exact_form, jaccard, shingles

__all__ = [
    "LAYOUTS",
    "generate_abstract",
    "generate_corpus",
    "generate_dump",
    "generate_paper",
    "generate_title",
    "main",
    "near_copy",
]

#: Supported values of the ``layout`` argument of :func:`generate_dump`.
LAYOUTS = ("blank-lines", "compact")

#: Abstract lengths (in characters) aimed at for freshly generated papers.
ABSTRACT_MIN_CHARS = 600
ABSTRACT_MAX_CHARS = 1800

#: Near copies are redrawn until their Jaccard similarity to the source is at
#: least this (with ``ngram=5``); they are labelled near duplicates only when
#: it is at least :data:`NEAR_THRESHOLD`.
NEAR_TARGET = 0.85
NEAR_THRESHOLD = 0.8

# ---------------------------------------------------------------------------
# Invented vocabulary.
# ---------------------------------------------------------------------------

# fmt: off

_ADJ = [
    "Sparse", "Latent", "Amortized", "Contrastive", "Hierarchical", "Stochastic",
    "Equivariant", "Recurrent", "Calibrated", "Adaptive", "Implicit", "Modular",
    "Robust", "Scalable", "Differentiable", "Federated", "Causal", "Spectral",
    "Bayesian", "Quantized", "Self-Supervised", "Multi-Scale", "Low-Rank",
    "Gated", "Curriculum-Driven", "Annealed", "Frugal", "Entropic", "Tempered",
    "Lattice-Aware", "Residual", "Streaming", "Anchored", "Folded", "Braided",
]
_NOUN = [
    "Transformers", "Diffusion Models", "Graph Networks", "Kernels", "Autoencoders",
    "Mixtures of Experts", "Policies", "Embeddings", "Retrievers", "Tokenizers",
    "Operators", "State-Space Models", "Normalizing Flows", "Hypernetworks",
    "Energy Models", "Memory Banks", "Routers", "Surrogates", "Critics", "Adapters",
    "Sketches", "Codebooks", "Priors", "Attention Heads", "Score Networks",
]
_TASK = [
    "Long-Context Reasoning", "Tabular Forecasting", "Molecule Design",
    "Offline Reinforcement Learning", "Speech Separation", "Protein Folding",
    "Anomaly Detection", "Few-Shot Segmentation", "Program Synthesis",
    "Weather Nowcasting", "Causal Discovery", "Document Deduplication",
    "Active Learning", "Continual Learning", "Dense Retrieval", "Symbolic Regression",
    "Point Cloud Completion", "Counterfactual Estimation", "Video Captioning",
    "Map Matching", "Query Rewriting", "Trajectory Prediction",
]
_METHOD = [
    "Shingle Hashing", "Gradient Surgery", "Spectral Pruning", "Token Merging",
    "Optimal Transport", "Score Matching", "Implicit Differentiation",
    "Mirror Descent", "Random Features", "Dynamic Routing", "Weight Tying",
    "Variational Bounds", "Momentum Distillation", "Coreset Selection",
    "Frequency Masking", "Lattice Quantization", "Path Consistency",
]
_PROPERTY = [
    "Stability", "Sample Complexity", "Expressivity", "Calibration", "Identifiability",
    "Robustness", "Implicit Bias", "Convergence", "Memorization", "Transferability",
    "Privacy", "Fairness", "Compositionality", "Sharpness",
]
_NAME_HEAD = [
    "Flor", "Quill", "Brav", "Zent", "Marl", "Oct", "Pell", "Vor", "Kest", "Lum",
    "Dra", "Tess", "Hal", "Nim", "Sorr", "Gry", "Cal", "Wex", "Jun", "Rho",
]
_NAME_TAIL = [
    "Net", "Former", "GAN", "Flow", "ix", "ora", "Diff", "Mix", "Bench", "Lens",
    "Sieve", "Loom", "Forge", "Drift", "Hash", "Graph", "Scope",
]
# Non-ASCII flavour, all invented phrasing.  Only precomposed letters, Greek,
# CJK ideographs and NFKC-foldable compatibility characters are used.
_UNICODE_TITLE_BITS = [
    "α-Divergence", "β-Annealed", "ε-Greedy", "λ-Returns", "μ-Parametrized",
    "Poincaré", "Schrödinger", "Fréchet", "Gödel-Style", "Ångström-Scale",
    "多尺度", "语料库", "σ-Algebras", "Café-Grade", "Naïve", "Ω-Consistent",
]
_UNICODE_ABSTRACT_BITS = [
    "Our code uses the ﬁne-grained variant of the loss.",
    "We write the temperature as τ and the step size as η throughout.",
    "The resulting estimator is consistent in the Fréchet sense.",
    "A bilingual subset labelled 多尺度语料库 is released alongside the benchmark.",
    "Scores are reported in units of 10² tokens per second.",
    "The naïve baseline is surprisingly strong on the Ångström-scale tasks.",
    "We call the resulting objective the Poincaré–Lipschitz margin.",
    "Each layer keeps a cache of size Θ(n log n) instead of Θ(n²).",
]

_LOWER_NOUN = [
    "model", "encoder", "decoder", "objective", "estimator", "benchmark", "dataset",
    "scheduler", "regulariser", "sampler", "representation", "baseline", "prior",
    "pipeline", "corpus", "tokenizer", "router", "critic", "kernel", "memory",
    "gradient", "posterior", "surrogate", "sketch", "codebook", "ensemble",
]
_LOWER_ADJ = [
    "sparse", "latent", "noisy", "shallow", "deep", "compact", "expensive",
    "brittle", "robust", "calibrated", "adaptive", "hierarchical", "stochastic",
    "heavy-tailed", "low-rank", "overparameterized", "modular", "frugal",
    "well-conditioned", "multilingual", "streaming", "long-horizon",
]
_VERB = [
    "improves", "stabilises", "accelerates", "regularises", "compresses",
    "decouples", "recovers", "approximates", "aligns", "sharpens", "smooths",
    "calibrates", "prunes", "reweights", "anchors",
]
_METRIC = [
    "accuracy", "perplexity", "recall", "calibration error", "throughput",
    "sample efficiency", "wall-clock time", "memory footprint", "F1 score",
    "expected regret", "BLEU", "mean reciprocal rank",
]
_FILLER = [
    "surprisingly", "consistently", "substantially", "modestly", "provably",
    "empirically", "notably", "markedly",
]

_OPENERS = [
    "{Adj} {noun_pl} have become a standard tool for {task}, yet their {prop} remains poorly "
    "understood.",
    "A central difficulty in {task} is that {adj} {noun_pl} tend to overfit when labels are "
    "scarce.",
    "Recent work on {task} relies on {adj} {noun_pl} whose training cost grows quickly with the "
    "input size.",
    "Despite rapid progress, most approaches to {task} still treat the {noun} as a fixed black "
    "box.",
    "It is widely believed that {adj} {noun_pl} cannot be trained reliably without careful "
    "tuning of the {noun}.",
    "Practitioners working on {task} often face a trade-off between {metric} and {metric2}.",
]
_MIDDLES = [
    "We propose {Name}, a {adj} {noun} that {verb} the {noun2} by combining {method} with a "
    "{adj2} {noun3}.",
    "In this paper we introduce {Name}, which replaces the usual {noun} with a {adj} "
    "{noun2} learned end to end.",
    "Our key observation is that the {noun} of a {adj} {noun2} can be estimated cheaply from a "
    "small {noun3}.",
    "We show that {method} {verb} the {noun} {filler} when the {noun2} is {adj}.",
    "Building on this insight, we derive a {adj} bound on the {prop_l} of the {noun} that holds "
    "for any {adj2} {noun2}.",
    "The method requires no additional {noun} and adds only a {adj} {noun2} at inference time.",
    "We further analyse how the {noun} interacts with {method}, and identify a regime in which "
    "the {noun2} becomes {adj}.",
    "Theoretically, we prove that the resulting {noun} is consistent and that its {prop_l} "
    "scales with the square root of the number of {noun2_pl}.",
    "To make the approach practical, we design a {adj} {noun} that can be updated online "
    "without storing the full {noun2}.",
    "We also release {Name}-{num}, a {adj} {noun} with {num} thousand examples drawn from "
    "{num2} domains.",
]
_RESULTS = [
    "Experiments on {num} benchmarks show that {Name} {verb} {metric} by {pct}% over strong "
    "baselines.",
    "Across {num} datasets, {Name} matches the {metric} of much larger {noun_pl} while using "
    "{pct}% less {metric2}.",
    "On {task}, our approach {filler} {verb} {metric}, reducing the gap to the oracle by "
    "{pct}%.",
    "Ablations confirm that both the {noun} and {method} are necessary for the observed "
    "gains.",
    "We find that the benefits are largest for {adj} {noun_pl} and vanish for {adj2} ones.",
]
_CLOSERS = [
    "Code and pretrained checkpoints are publicly available.",
    "We hope these findings encourage a closer look at the {noun} in future work on {task}.",
    "Our results suggest that {prop_l} rather than scale is the main bottleneck for {task}.",
    "We conclude with a discussion of limitations and open problems.",
    "The implementation is lightweight and integrates with existing {noun} libraries.",
]


# fmt: on


def _name(rng: random.Random) -> str:
    return rng.choice(_NAME_HEAD) + rng.choice(_NAME_TAIL)


_IRREGULAR_PLURALS = {"memory": "memories", "corpus": "corpora", "sketch": "sketches"}


def _plural(noun: str) -> str:
    return _IRREGULAR_PLURALS.get(noun, noun + "s")


def _fill(template: str, rng: random.Random, name: str, task: str) -> str:
    adjs = rng.sample(_LOWER_ADJ, 2)
    nouns = rng.sample(_LOWER_NOUN, 3)
    metrics = rng.sample(_METRIC, 2)
    return template.format(
        Adj=adjs[0].capitalize(),
        adj=adjs[0],
        adj2=adjs[1],
        noun=nouns[0],
        noun2=nouns[1],
        noun3=nouns[2],
        noun2_pl=_plural(nouns[1]),
        noun_pl=_plural(nouns[0]),
        verb=rng.choice(_VERB),
        metric=metrics[0],
        metric2=metrics[1],
        method=rng.choice(_METHOD).lower(),
        prop=rng.choice(_PROPERTY).lower(),
        prop_l=rng.choice(_PROPERTY).lower(),
        filler=rng.choice(_FILLER),
        task=task.lower(),
        Name=name,
        num=rng.randint(3, 40),
        num2=rng.randint(2, 12),
        pct=rng.randint(2, 60),
    )


def generate_title(rng: random.Random, *, name: str | None = None) -> str:
    """A random invented paper title (starts with an ASCII capital, no final period)."""
    name = name or _name(rng)
    adj, noun = rng.choice(_ADJ), rng.choice(_NOUN)
    task, method, prop = rng.choice(_TASK), rng.choice(_METHOD), rng.choice(_PROPERTY)
    patterns = [
        f"{adj} {noun} for {task}",
        f"{name}: {adj} {noun} via {method}",
        f"Towards {adj} {task} with {noun}",
        f"On the {prop} of {adj} {noun}",
        f"{method} Meets {noun}: A Study in {task}",
        f"Do {adj} {noun} Really Need {method}?",
        f"{name}: Scaling {task} with {adj} {method}",
        f"Rethinking {method} for {adj} {noun} in {task}",
        f"When Does {method} Help {task}? Lessons from {adj} {noun}",
    ]
    title = rng.choice(patterns)
    if rng.random() < 0.12:
        title = f"{title} and {rng.choice(_UNICODE_TITLE_BITS)} {rng.choice(_NOUN)}"
    return title


def generate_abstract(
    rng: random.Random, *, name: str | None = None, task: str | None = None
) -> str:
    """A random invented abstract of roughly 600-1800 characters (several sentences)."""
    name = name or _name(rng)
    task = task or rng.choice(_TASK)
    target = rng.randint(ABSTRACT_MIN_CHARS, ABSTRACT_MAX_CHARS)
    sentences = [_fill(rng.choice(_OPENERS), rng, name, task)]
    length = len(sentences[0])
    middles = rng.sample(_MIDDLES, len(_MIDDLES))
    results = rng.sample(_RESULTS, len(_RESULTS))
    pool = middles[:3] + results[:2] + middles[3:] + results[2:]
    for template in pool:
        sentence = _fill(template, rng, name, task)
        if rng.random() < 0.06:
            sentence = rng.choice(_UNICODE_ABSTRACT_BITS)
        if length >= ABSTRACT_MIN_CHARS and length + 1 + len(sentence) > target:
            break
        sentences.append(sentence)
        length += 1 + len(sentence)
    closer = _fill(rng.choice(_CLOSERS), rng, name, task)
    if length + 1 + len(closer) <= ABSTRACT_MAX_CHARS:
        sentences.append(closer)
    return " ".join(sentences)


def generate_paper(rng: random.Random) -> tuple[str, str]:
    """A random ``(title, abstract)`` pair about one invented method and task."""
    name = _name(rng)
    return generate_title(rng, name=name), generate_abstract(rng, name=name)


# ---------------------------------------------------------------------------
# Dumps.
# ---------------------------------------------------------------------------

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _header(rng: random.Random) -> list[str]:
    date = f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}"
    variants = [
        [
            "new",
            "Get trending papers in your email inbox!",
            "Subscribe",
            "byAK and the research community",
            date,
        ],
        [
            "Get trending papers in your email inbox once a day!",
            "Get trending papers in your email inbox!",
            "Subscribe",
        ],
        ["new", "Get trending papers in your email inbox!", "Subscribe", date],
    ]
    return list(rng.choice(variants))


def generate_dump(
    rng: random.Random,
    n_papers: int,
    *,
    layout: str = "blank-lines",
    glued_title: bool = False,
    papers: Sequence[tuple[str, str]] | None = None,
) -> str:
    """Render one listing-page dump.

    Args:
        rng: source of randomness (header variant, date, and fresh papers).
        n_papers: number of papers in the dump.
        layout: ``"blank-lines"`` (a blank line between all lines) or
            ``"compact"`` (no blank lines).
        glued_title: glue the first title to the last header line, as in
            ``SubscribeSome Title`` or ``Mar 14Some Title``.
        papers: the ``(title, abstract)`` pairs to write, in order; its length
            must equal ``n_papers``.  When ``None``, fresh random papers are
            generated with :func:`generate_paper`.

    Returns:
        The dump text, ending with a newline.  Every paper is one title line
        followed by one abstract line.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if papers is None:
        papers = [generate_paper(rng) for _ in range(n_papers)]
    elif len(papers) != n_papers:
        raise ValueError(f"n_papers={n_papers} but {len(papers)} papers were given")
    lines = _header(rng)
    for i, (title, abstract) in enumerate(papers):
        if i == 0 and glued_title:
            lines[-1] += title
        else:
            lines.append(title)
        lines.append(abstract)
    sep = "\n\n" if layout == "blank-lines" else "\n"
    return sep.join(lines) + "\n"


# ---------------------------------------------------------------------------
# Near copies.
# ---------------------------------------------------------------------------

_PLAIN_WORD = re.compile(r"[a-z]+")
_INSERTABLE = _LOWER_ADJ + _FILLER + ["also", "often", "here", "jointly", "largely"]


def near_copy(
    rng: random.Random, abstract: str, *, ngram: int = 5, target: float = NEAR_TARGET
) -> tuple[str, float]:
    """A copy of ``abstract`` with a few words substituted, inserted or deleted.

    Only plain lowercase words are touched, so sentences keep their shape.  The
    number of edits is about one per 60 words (at least one); edits are redrawn
    (and their number reduced) until the word-``ngram`` Jaccard similarity to the
    original is at least ``target``.

    Returns:
        ``(edited_abstract, jaccard)``; the edited text always differs from the
        original under :func:`exact_form`.
    """
    base = shingles(abstract, ngram)
    tokens = abstract.split(" ")
    editable = [i for i, t in enumerate(tokens) if i > 0 and _PLAIN_WORD.fullmatch(t)]
    if not editable:
        raise ValueError("abstract has no plain lowercase word to edit")
    n_edits = max(1, len(tokens) // 60)
    for attempt in range(100):
        k = max(1, n_edits - attempt // 10)
        positions = set(rng.sample(editable, min(k, len(editable))))
        out: list[str] = []
        for i, tok in enumerate(tokens):
            if i not in positions:
                out.append(tok)
                continue
            op = rng.choice(("substitute", "insert", "delete"))
            if op == "substitute":
                out.append(rng.choice([w for w in _INSERTABLE + _LOWER_NOUN if w != tok]))
            elif op == "insert":
                out.extend([rng.choice(_INSERTABLE), tok])
            # delete: drop the token.
        text = " ".join(out)
        if exact_form(text) == exact_form(abstract):
            continue
        sim = jaccard(base, shingles(text, ngram))
        if sim >= target:
            return text, sim
    raise ValueError("could not make a near copy similar enough; the abstract is too short")


# ---------------------------------------------------------------------------
# Corpora.
# ---------------------------------------------------------------------------


def _pairs_ground_truth(
    entries: list[tuple[str, int, str]], ngram: int, threshold: float
) -> tuple[list, list]:
    """Exact pairs and near pairs among ``(file, index, abstract)`` entries, exactly."""
    keys = [exact_form(text) for _, _, text in entries]
    sets = [shingles(text, ngram) for _, _, text in entries]
    exact_pairs = []
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        by_key[key].append(i)
    for members in by_key.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                exact_pairs.append((members[x], members[y]))
    # Pairs with J >= threshold > 0 share a shingle: an inverted index is exact.
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    candidates: set[tuple[int, int]] = set()
    for posting in index.values():
        for x in range(len(posting)):
            for y in range(x + 1, len(posting)):
                candidates.add((posting[x], posting[y]))
    near_pairs = []
    for a, b in sorted(candidates):
        if keys[a] == keys[b]:
            continue
        sim = jaccard(sets[a], sets[b])
        if sim >= threshold:
            near_pairs.append((a, b, sim))

    def ref(i: int) -> tuple[str, int]:
        return entries[i][0], entries[i][1]

    exact_out = [(ref(a), ref(b)) for a, b in sorted(exact_pairs)]
    near_out = [(ref(a), ref(b), sim) for a, b, sim in near_pairs]
    return exact_out, near_out


def generate_corpus(
    out_dir: str | os.PathLike,
    *,
    n_files: int = 3,
    papers_per_file: int = 60,
    seed: int = 0,
    exact_share: float = 0.15,
    near_share: float = 0.15,
) -> dict:
    """Write ``n_files`` dumps ``listing_000.txt``, ``listing_001.txt``, ... to ``out_dir``.

    The first file holds only fresh papers.  In every later file, about
    ``exact_share`` of the ``papers_per_file`` papers are verbatim copies (same
    title and abstract) and about ``near_share`` are near copies (same title,
    a few words of the abstract edited, see :func:`near_copy`) of fresh papers
    from earlier files; the rest are fresh.  Copies sit at random positions.
    Layouts alternate ``blank-lines`` / ``compact`` and every file whose index
    is not a multiple of 3 has its first title glued to the header.  The output
    depends only on the arguments.

    Returns:
        A dict with

        * ``"files"``: ``{file_name: [(title, abstract), ...]}`` in file order
          (names sorted) and dump order;
        * ``"exact_pairs"``: sorted list of ``((file_a, i), (file_b, j))`` for
          every pair of papers (anywhere in the corpus, ``(file_a, i) <
          (file_b, j)``) whose abstracts are equal under :func:`exact_form`;
        * ``"near_pairs"``: sorted list of ``((file_a, i), (file_b, j),
          jaccard)`` for every pair whose abstracts differ under
          :func:`exact_form` but have word-5-gram Jaccard similarity (see
          :func:`shingles`) of at least 0.8.  Pairs are computed over *all*
          papers, not only over the planted copies;
        * ``"copies"``: list of dicts ``{"file", "index", "source_file",
          "source_index", "kind", "jaccard"}`` describing each planted copy
          (``kind`` is ``"exact"`` or ``"near"``).

        A paper is referred to by ``(file_name, index_in_that_file)``.  Listing
        the corpus file by file, paper by paper, gives the row order of
        ``thresher.ingest`` over the sorted paths.
    """
    if n_files < 1 or papers_per_file < 1:
        raise ValueError("n_files and papers_per_file must be positive")
    if not (0 <= exact_share and 0 <= near_share and exact_share + near_share <= 1):
        raise ValueError("shares must be non-negative and sum to at most 1")
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[tuple[str, str]]] = {}
    copies: list[dict] = []
    originals: list[tuple[str, int]] = []  # fresh papers of earlier files
    for f in range(n_files):
        name = f"listing_{f:03d}.txt"
        n_exact = round(exact_share * papers_per_file) if originals else 0
        n_near = round(near_share * papers_per_file) if originals else 0
        kinds = ["exact"] * n_exact + ["near"] * n_near
        kinds += ["fresh"] * (papers_per_file - len(kinds))
        rng.shuffle(kinds)
        papers: list[tuple[str, str]] = []
        fresh_here: list[tuple[str, int]] = []
        for i, kind in enumerate(kinds):
            if kind == "fresh":
                papers.append(generate_paper(rng))
                fresh_here.append((name, i))
                continue
            src_file, src_index = rng.choice(originals)
            title, abstract = files[src_file][src_index]
            sim = 1.0
            if kind == "near":
                abstract, sim = near_copy(rng, abstract)
            papers.append((title, abstract))
            copies.append(
                {
                    "file": name,
                    "index": i,
                    "source_file": src_file,
                    "source_index": src_index,
                    "kind": kind,
                    "jaccard": sim,
                }
            )
        layout = LAYOUTS[f % 2]
        glued = f % 3 != 0
        text = generate_dump(rng, len(papers), layout=layout, glued_title=glued, papers=papers)
        with open(out / name, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        files[name] = papers
        originals.extend(fresh_here)
    entries = [
        (name, i, abstract) for name, ps in files.items() for i, (_, abstract) in enumerate(ps)
    ]
    exact_pairs, near_pairs = _pairs_ground_truth(entries, 5, NEAR_THRESHOLD)
    return {
        "files": files,
        "exact_pairs": exact_pairs,
        "near_pairs": near_pairs,
        "copies": copies,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: write a corpus and print a one-line summary."""
    parser = argparse.ArgumentParser(
        prog="python -m thresher.sample_dumps",
        description="Write synthetic paper-listing dumps with planted duplicates.",
    )
    parser.add_argument("out_dir", help="directory to write listing_NNN.txt files into")
    parser.add_argument("--files", type=int, default=3, help="number of dumps (default 3)")
    parser.add_argument("--papers", type=int, default=60, help="papers per dump (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--exact-share", type=float, default=0.15)
    parser.add_argument("--near-share", type=float, default=0.15)
    args = parser.parse_args(argv)
    truth = generate_corpus(
        args.out_dir,
        n_files=args.files,
        papers_per_file=args.papers,
        seed=args.seed,
        exact_share=args.exact_share,
        near_share=args.near_share,
    )
    n = sum(len(p) for p in truth["files"].values())
    print(
        f"wrote {len(truth['files'])} files, {n} papers, "
        f"{len(truth['exact_pairs'])} exact pairs, {len(truth['near_pairs'])} near pairs "
        f"to {args.out_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Runbook parser speed and memory over the shared corpus (380 Markdown runbooks) and the
pasted tuning runbooks (plain text and Markdown, tests/data/tuning/runbooks).

Reports median and p99 parse time per runbook and peak memory (tracemalloc, ru_maxrss). The
baseline, in the same run on the same files: markdown-it tokenisation alone, so the parser's
cost can be quoted as a ratio of "just reading the Markdown".
Usage: python bench/parse_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml
from markdown_it import MarkdownIt

from domain.runbooks import parse_runbook

CORPUS = REPO.parent / "shared" / "corpus"


TUNING = REPO / "tests" / "data" / "tuning" / "runbooks"


def _files() -> list[tuple[str, str]]:
    paths = sorted((CORPUS / "prometheus-operator-runbooks").rglob("*.md"))
    paths += sorted((CORPUS / "openshift-runbooks").rglob("*.md"))
    if not paths:
        raise SystemExit(f"no runbooks under {CORPUS}")
    return [(p.name, p.read_text(encoding="utf-8")) for p in paths]


def _pasted() -> list[tuple[str, str]]:
    """The tuning set's pasted runbooks (plain text and Markdown), as a second population."""
    out = []
    for path in sorted(TUNING.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append((f"{doc['id']}.txt", str(doc["text"])))
    return out


def _time_each(
    files: list[tuple[str, str]], fn: Callable[[str, str], object], rounds: int
) -> list[float]:
    """Per-file time in ms, best of `rounds` for each file (least disturbed by the machine)."""
    best = [float("inf")] * len(files)
    for _ in range(rounds):
        for i, (name, text) in enumerate(files):
            start = time.perf_counter()
            fn(name, text)
            best[i] = min(best[i], (time.perf_counter() - start) * 1000)
    return best


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    files = _files()
    md = MarkdownIt("commonmark")

    def baseline(_name: str, text: str) -> object:
        return md.parse(text)

    def full(name: str, text: str) -> object:
        return parse_runbook(text, source_name=name)

    for name, text in files[:20]:  # warm-up (regex compilation, imports)
        full(name, text)
        baseline(name, text)

    base = _time_each(files, baseline, args.rounds)
    parse = _time_each(files, full, args.rounds)
    pasted = _pasted()
    pasted_base = _time_each(pasted, baseline, args.rounds)
    pasted_parse = _time_each(pasted, full, args.rounds)

    tracemalloc.start()
    steps = 0
    for name, text in files:
        steps += len(parse_runbook(text, source_name=name).runbook.steps)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    size = sorted(len(t) for _, t in files)
    print(
        f"runbooks: {len(files)} (median {size[len(size) // 2]} chars, max {size[-1]}), "
        f"steps: {steps}, rounds: {args.rounds} (best per file)"
    )
    print(f"{'':28}{'median ms':>10}{'p99 ms':>10}{'max ms':>10}{'total ms':>10}")
    for label, values in (
        ("markdown-it parse (baseline)", base),
        ("parse_runbook", parse),
        ("pasted: markdown-it", pasted_base),
        ("pasted: parse_runbook", pasted_parse),
    ):
        print(
            f"{label:28}{statistics.median(values):10.3f}{_p(values, 0.99):10.3f}"
            f"{max(values):10.3f}{sum(values):10.1f}"
        )
    print(
        f"ratio parse_runbook / baseline: median {statistics.median(parse) / statistics.median(base):.1f}x, "
        f"total {sum(parse) / sum(base):.1f}x"
    )
    print(f"peak traced memory while parsing the corpus once: {peak / 1024 / 1024:.2f} MiB")
    print(f"process ru_maxrss: {maxrss_kb / 1024:.1f} MiB")
    slowest = sorted(zip(parse, (n for n, _ in files), strict=True), reverse=True)[:3]
    print("slowest: " + ", ".join(f"{n} {ms:.1f} ms" for ms, n in slowest))
    print(
        f"pasted runbooks ({len(pasted)}, tests/data/tuning): ratio parse_runbook / baseline "
        f"median {statistics.median(pasted_parse) / statistics.median(pasted_base):.1f}x"
    )
    worst = max(statistics.median(parse), statistics.median(pasted_parse))
    verdict = "OK" if worst <= 20 else "OVER TARGET"
    print(f"target: median <= 20 ms per runbook (both populations) -> {verdict}")


if __name__ == "__main__":
    main()

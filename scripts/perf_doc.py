#!/usr/bin/env python3
"""Writes measured figures into docs/performance.md, between its markers, so that no one copies them by hand.

  perf_doc.py bench --results RUNS.json --settings TEXT [BINARY...]
      `make bench` (scripts/bench.sh): the harness's --json output (../shared/perf/coldstart.py: every measured
      run of every target, round by round) becomes a table of medians, each function as a ratio to hello (warm: to
      the Python peer) taken per round, with the stripped size of each x86_64 BINARY.
  perf_doc.py build BINARY...
      `make build`: the stripped size of each arm64 BINARY (target/lambda/<function>/bootstrap).
  perf_doc.py bench-cost --results TABLES.md --settings TEXT
      `make bench-cost` (scripts/bench_cost.sh): the cost client's output (its markdown tables) as it printed it.

A section is the text between `<!-- BEGIN make NAME -->` and `<!-- END make NAME -->`; the rest of the file is
left as it is. A binary is named after its file, or after its folder when the file is `bootstrap`.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "performance.md")
BASE, PEER = "hello", "python"


def binary_name(path):
    name = os.path.basename(path)
    return os.path.basename(os.path.dirname(path)) if name == "bootstrap" else name


def sizes(paths):
    return {binary_name(p): os.stat(p).st_size for p in paths}


def megabytes(size):
    return f"{size / 1e6:.2f} MB"


def median(runs, key):
    xs = [r[key] for r in runs if r.get("ok") and key in r]
    return statistics.median(xs) if xs else None


def ratio(runs, base_runs, key):
    """Median over rounds of target / baseline in the same round, as the harness's own table takes it."""
    xs = [a[key] / b[key] for a, b in zip(runs, base_runs)
          if a.get("ok") and b.get("ok") and key in a and key in b and b[key] > 0]
    return statistics.median(xs) if xs else None


def number(x, digits=None):
    """Three significant figures or so, as the harness prints them; `digits` fixes the decimals."""
    if x is None:
        return "—"
    if digits is None:
        digits = 0 if x >= 100 else 1 if x >= 10 else 2
    return f"{x:,.{digits}f}"


def times(x):
    return "—" if x is None else f"{x:.2f}×"


def bench_section(results, settings, binaries, today):
    runs = results["runs"]
    for label in (BASE, PEER):
        if label not in runs:
            raise SystemExit(f"perf_doc: the results hold no {label!r} target")
    base, peer = runs[BASE], runs[PEER]
    lines = [
        f"Measured {today} on {platform.machine()}, {os.cpu_count()} vCPU (`{settings}`), "
        f"{results['args']['runs']} rounds, medians:",
        "",
        "| function | ready (exec → first `/next`) | first answer | warm | peak RSS | stripped binary x86_64 |",
        "|---|---|---|---|---|---|",
    ]
    for label, target_runs in runs.items():
        size = megabytes(binaries[label]) if label in binaries else "—"
        if label in (BASE, PEER):
            ready = f"{number(median(target_runs, 'ready_ms'))} ms"
            if label == BASE:
                ready += " = 1×"
            lines.append(f"| {label} | {ready} | {number(median(target_runs, 'first_ms'))} ms | "
                         f"{number(median(target_runs, 'warm_us'))} µs | "
                         f"{number(median(target_runs, 'rss_mb'), 1)} MB | {size} |")
        else:
            lines.append(f"| {label} | {times(ratio(target_runs, base, 'ready_ms'))} | "
                         f"{times(ratio(target_runs, base, 'first_ms'))} | "
                         f"{times(ratio(target_runs, peer, 'warm_us'))} Python | "
                         f"{times(ratio(target_runs, base, 'rss_mb'))} | {size} |")
    lines += ["", "Ratios are to hello except warm (to the Python peer)."]
    return lines


def build_section(binaries, today):
    lines = [
        f"Built {today} with `cargo lambda build --release --arm64` (what Lambda runs; target: at most 8 MB each):",
        "",
        "| function | stripped binary arm64 |",
        "|---|---|",
    ]
    lines += [f"| {name} | {megabytes(size)} |" for name, size in sorted(binaries.items())]
    return lines


def cost_section(tables, settings, today):
    intro = (f"Measured {today} with `{settings}` on {platform.machine()}, through the dev stack (debug builds: the "
             "durations, and so the GB-seconds, are this machine's, not Lambda's):")
    return [intro, "", *tables.rstrip("\n").split("\n")]


def replace_section(path, text, name, lines):
    begin = f"<!-- BEGIN make {name}: written by `make {name}`, do not edit by hand -->"
    end = f"<!-- END make {name} -->"
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"perf_doc: {path} has no section between {begin!r} and {end!r}")
    return pattern.sub(lambda _: "\n".join([begin, *lines, end]), text, count=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("section", choices=["bench", "build", "bench-cost"])
    parser.add_argument("binaries", nargs="*", metavar="BINARY")
    parser.add_argument("--results", help="bench: the harness's --json file; bench-cost: the client's tables")
    parser.add_argument("--settings", default="", help="bench: how it was run, as a command line")
    parser.add_argument("--doc", default=DOC, help="the file to write (docs/performance.md)")
    args = parser.parse_intermixed_args(argv)

    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    binaries = sizes(args.binaries)
    if args.section == "bench":
        if not args.results:
            parser.error("bench needs --results")
        with open(args.results) as f:
            lines = bench_section(json.load(f), args.settings, binaries, today)
    elif args.section == "bench-cost":
        if not args.results:
            parser.error("bench-cost needs --results")
        with open(args.results) as f:
            lines = cost_section(f.read(), args.settings, today)
    else:
        lines = build_section(binaries, today)
    with open(args.doc) as f:
        text = f.read()
    with open(args.doc, "w") as f:
        f.write(replace_section(args.doc, text, args.section, lines))
    print(f"{os.path.relpath(args.doc)}: section `make {args.section}` written", file=sys.stderr)


if __name__ == "__main__":
    main()

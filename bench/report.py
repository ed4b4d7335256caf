"""Put the saved benchmark tables together into docs/PERFORMANCE.md, with the machine they ran on.

    .venv/bin/python -m bench.report [--machine-json bench/results/machine.json]

The text between the NOTES markers in the existing docs/PERFORMANCE.md (the analysis, written by
hand) is kept; everything else is regenerated from bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os

from bench.common import RESULTS, ROOT, machine

DOC = ROOT / "docs" / "PERFORMANCE.md"
ORDER = ["forward", "rerun", "load", "browser", "payload", "hall"]
NOTES_START, NOTES_END = "<!-- NOTES: kept by bench/report.py -->", "<!-- /NOTES -->"


def _notes() -> str:
    if DOC.exists():
        text = DOC.read_text()
        if NOTES_START in text and NOTES_END in text:
            return text[text.index(NOTES_START) : text.index(NOTES_END) + len(NOTES_END)]
    return f"{NOTES_START}\n(analysis goes here)\n{NOTES_END}"


def build(info: dict) -> str:
    cores = int(info.get("cores") or 1)
    load_start = float(info.get("load average at start", "0").split()[0])
    load_end = os.getloadavg()[0]
    lines = [
        "# Performance",
        "",
        "Benchmarks, not timed tests: they print tables and never fail on a slow machine. "
        "Every table below was written by `bench/run_all.sh` (one command: all benchmarks, then this file). "
        "Each benchmark also runs alone: `.venv/bin/python -m bench.<name> [--quick] [--save]`; "
        "`.venv/bin/python -m bench.profile_page` shows where a page rerun spends its time.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines.append(f"| load average at the end | {load_end:.2f} |")
    busy = max(load_start, load_end) > 0.5 * cores
    if busy or info.get("quick"):
        lines += [
            "",
            "**These numbers are noisy**: "
            + ("the machine was busy with other work (load average above half the cores). " if busy else "")
            + ("A --quick run (fewer repetitions). " if info.get("quick") else "")
            + "Take them as a first look; rerun `bench/run_all.sh` on a quiet machine for the real ones.",
        ]
    summary = ["", "## Targets", "", "| benchmark | target | measured | met |", "|---|---|---|---|"]
    sections = []
    for name in ORDER:
        md, js = RESULTS / f"{name}.md", RESULTS / f"{name}.json"
        if not md.exists():
            sections.append(f"### {name}\n\nnot run (no bench/results/{name}.md)\n")
            continue
        sections.append(md.read_text())
        if js.exists():
            saved = json.loads(js.read_text())
            for what, measured, met in saved.get("targets", []):
                verdict = {True: "yes", False: "**no**", None: "–"}[met]
                summary.append(f"| {saved.get('heading', name)} | {what} | {measured} | {verdict} |")
    lines += summary
    lines += ["", "## Analysis", "", _notes(), "", "## Tables", ""]
    lines += sections
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--machine-json", default=str(RESULTS / "machine.json"))
    args = parser.parse_args()
    try:
        with open(args.machine_json) as f:
            info = json.load(f)
    except OSError:
        info = machine()
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(build(info))
    print("wrote", DOC)


if __name__ == "__main__":
    main()

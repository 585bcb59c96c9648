"""The cold start a user feels: whole `assistant ask` processes, beside `--help` and `import chromadb`.

    python bench/cold_ask.py --home H [--runs 5] [--baseline-src DIR] [--out bench/results/cold_ask.json]

H must hold the sample corpus (`assistant --home H ingest data/sample`). Each round runs every
contender once as a fresh process, in a rotating order (so a burst of load on the shared machine
hits them alike), and records its wall time and peak RSS (`ru_maxrss` of the child, from wait4).
The table shows medians over the rounds. Contenders:

- `python -c "import chromadb"`: the floor any process that opens the store pays;
- `assistant --help`: the CLI's own start-up;
- `assistant --home H ask Q`: this checkout (PYTHONPATH = the repository of this script);
- with `--int8-home H8`, the same ask on a home ingested with `[model] precision = "int8"` (its
  question loads the int8 model for the search and the fp32 one for the answer);
- with `--baseline-src DIR`, the same ask with PYTHONPATH=DIR: an older checkout of the code
  (e.g. `git archive <commit> | tar -x -C DIR`), for a same-run before/after ratio.

One untimed ask per contender first, so a one-time step (the ONNX export) is not in the figures.
Not a test: nothing here asserts a time. Downloads nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Who denied involvement?"


def run_waited(argv: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, last stdout line) of one process, reaped with wait4 for its own RSS."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    lines = out.decode().strip().splitlines()
    return wall, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def contenders(home: Path, question: str, baseline_src: Path | None,
               int8_home: Path | None = None) -> dict[str, tuple[list[str], dict]]:
    bin_dir = Path(sys.executable).parent
    cli = str(bin_dir / "assistant")
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    base_env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    ours = {**base_env, "PYTHONPATH": str(ROOT)}
    out = {
        "python -c 'import chromadb'": ([sys.executable, "-c", "import chromadb"], base_env),
        "assistant --help": ([cli, "--help"], ours),
        "assistant ask (this checkout)": ([cli, "--home", str(home), "ask", question], ours),
    }
    if int8_home:
        out["assistant ask (this checkout, int8 home)"] = ([cli, "--home", str(int8_home), "ask", question], ours)
    if baseline_src:
        out["assistant ask (baseline src)"] = ([cli, "--home", str(home), "ask", question],
                                               {**base_env, "PYTHONPATH": str(baseline_src)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home with data/sample ingested")
    parser.add_argument("--runs", type=int, default=5, help="rounds (each runs every contender once)")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--baseline-src", type=Path, help="an older checkout to run the same ask from")
    parser.add_argument("--int8-home", type=Path, help="a home with data/sample ingested at [model] precision int8")
    parser.add_argument("--out", type=Path, help="also write the result here as JSON")
    args = parser.parse_args()

    runs = contenders(args.home, args.question, args.baseline_src, args.int8_home)
    printed = {}
    for name, (argv, env) in runs.items():  # untimed: one-time exports, a cold page cache
        if "ask" in name:
            printed[name] = run_waited(argv, env)[2]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(args.runs):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            wall, rss, _ = run_waited(*runs[name])
            results[name].append((wall, rss))
            print(f"round {round_ + 1}: {name}: {wall:.2f} s, {rss:.0f} MB", file=sys.stderr, flush=True)

    rows = {}
    for name, pairs in results.items():
        walls, rsss = [w for w, _ in pairs], [r for _, r in pairs]
        rows[name] = {"wall_s_median": round(statistics.median(walls), 3), "wall_s": [round(w, 2) for w in walls],
                      "peak_rss_mb_median": round(statistics.median(rsss), 1), "peak_rss_mb": [round(r) for r in rsss]}
    per_round = {}
    ours = results["assistant ask (this checkout)"]
    for name in names:
        per_round[name] = [round(o[0] / r[0], 2) for o, r in zip(ours, results[name])]
    result = {"command": "python " + " ".join(sys.argv), "question": args.question, "rows": rows,
              "ask_wall_over_each_per_round": per_round, "printed": printed,
              "load_average_at_end": os.getloadavg()[0], "cpus": os.cpu_count()}

    lines = ["| process | wall s (median) | wall s per round | peak RSS MB (median) |", "|---|---:|---|---:|"]
    for name, row in rows.items():
        lines.append(f"| `{name}` | {row['wall_s_median']:.2f} | {', '.join(f'{w:.2f}' for w in row['wall_s'])} "
                     f"| {row['peak_rss_mb_median']:.0f} |")
    table = "\n".join(lines)
    print(table)
    if "assistant ask (baseline src)" in rows:
        ratios = per_round["assistant ask (baseline src)"]
        print(f"\nask wall, this checkout / baseline src, per round: {ratios} (median {statistics.median(ratios):.2f})")
    chroma = per_round["python -c 'import chromadb'"]
    print(f"ask wall / `import chromadb` wall, per round: {chroma} (median {statistics.median(chroma):.2f})")
    print(f"load average at the end: {result['load_average_at_end']:.1f} on {result['cpus']} CPUs")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        args.out.with_suffix(".md").write_text(f"`{result['command']}`\n\n{table}\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""How fast `assistant ask` answers: per-stage timings on a warm store, and the cold start of one CLI call.

    python bench/ask_latency.py --home DIR [--repeats 3] [--out bench/results/ask_latency.json]

DIR must hold the sample corpus (`assistant --home DIR ingest data/sample`). Warm: every question of
evals/sets/news.jsonl asked in one process after the model is loaded, first on a cold sentence
cache (what a one-off `assistant ask` pays), then again (what the chat UI and the HTTP API pay once
the passages have been seen). Cold: the wall time of whole `assistant ask` processes. Medians
over repeats; the machine is shared, so read them as rough figures. Nothing here asserts a time.
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
QUESTION = "What did Peskov call the allegations?"


def warm(home: Path) -> dict:
    """Median and p95 per stage over the news questions, with a cold and then a warm sentence cache."""
    sys.path.insert(0, str(ROOT))
    from assistant import Assistant

    assistant = Assistant.open(home=home)
    assistant.embedder.model  # loading the model is start-up, not the cost of a question
    questions = [json.loads(line)["question"] for line in (ROOT / "evals/sets/news.jsonl").open()]
    out = {}
    for label in ("first time", "seen before"):
        runs = [assistant.ask(q).timings_ms for q in questions]
        out[label] = {stage: {"p50": statistics.median(r[stage] for r in runs),
                              "p95": sorted(r[stage] for r in runs)[int(0.95 * (len(runs) - 1))]}
                      for stage in ("retrieve", "answer", "total")}
    out["questions"] = len(questions)
    return out


def cold(home: Path, repeats: int) -> dict:
    """Wall seconds of `assistant ask` as a fresh process (imports, model load, store, answer)."""
    cli = Path(sys.executable).parent / "assistant"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    walls, printed = [], ""
    for _ in range(repeats):
        began = time.perf_counter()
        done = subprocess.run([str(cli), "--home", str(home), "ask", QUESTION], capture_output=True, text=True,
                              env=env, check=True)
        walls.append(time.perf_counter() - began)
        printed = done.stdout.strip().splitlines()[-1]
    began = time.perf_counter()
    subprocess.run([str(cli), "--help"], capture_output=True, env=env, check=True)
    return {"ask_wall_s": statistics.median(walls), "runs": [round(w, 2) for w in walls], "printed": printed,
            "help_wall_s": time.perf_counter() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home with data/sample ingested")
    parser.add_argument("--repeats", type=int, default=3, help="cold CLI calls to time")
    parser.add_argument("--out", type=Path, help="also write the result here as JSON")
    args = parser.parse_args()
    result = {"command": "python " + " ".join(sys.argv), "warm_ms": warm(args.home),
              "cold": cold(args.home, args.repeats), "load_average": os.getloadavg()[0],
              "cpus": os.cpu_count()}
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

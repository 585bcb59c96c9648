"""Does a store answer the same in every process? Ask the same questions from several fresh processes and count
the questions whose retrieved passages (ids, in order) or answers differ between them.

    python bench/determinism.py --home H --questions Q.jsonl --processes 3 --out bench/results/determinism.json

Q.jsonl: an eval set (one JSON object with "question" a line) or a text file of one question a line; --limit N
asks the first N. Each process opens the store afresh, as a new CLI run or server does.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def questions(path: Path, limit: int | None) -> list[str]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    asked = [json.loads(line)["question"] if line.lstrip().startswith("{") else line for line in lines]
    return asked[:limit] if limit else asked


def worker(home: str, asked: list[str]) -> list[dict]:
    from assistant import Assistant

    assistant = Assistant.open(home=home)
    replies = []
    for question in asked:
        answer = assistant.ask(question)
        replies.append({"hits": [hit.chunk.id for hit in answer.hits], "answer": answer.text, "short": answer.short})
    return replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asked = questions(args.questions, args.limit)
    if args.worker:
        json.dump(worker(args.home, asked), sys.stdout)
        return
    runs = []
    for n in range(args.processes):
        command = [sys.executable, __file__, "--worker", "--home", args.home, "--questions", str(args.questions)]
        done = subprocess.run(command + (["--limit", str(args.limit)] if args.limit else []), capture_output=True,
                              text=True, check=True)
        runs.append(json.loads(done.stdout))
        print(f"process {n + 1} of {args.processes}: {len(runs[-1])} questions", file=sys.stderr)
    first = runs[0]
    differ = {key: sum(any(run[i][key] != first[i][key] for run in runs[1:]) for i in range(len(asked)))
              for key in ("hits", "answer", "short")}
    which = [i for i in range(len(asked)) if any(run[i] != first[i] for run in runs[1:])]
    report = {"home": Path(args.home).name, "questions": len(asked), "processes": args.processes,
              "differ": differ, "first_differing": [asked[i] for i in which[:10]]}
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

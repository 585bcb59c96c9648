"""What a .docx costs to parse, and what the caps of issue 22 do with the issue's bombs.

    python bench/docx_caps.py --work W --out bench/results/docx_caps.json

Each row is a fresh process (peak RSS from `ru_maxrss`, the time of the read alone):
- `parse`: `read_docx` in-process with every cap lifted: the nodes lxml builds (elements and attributes,
  counted as ingest/bombs.py counts them) against the memory they take;
- `ingest`: `load_file` with the default `[ingest]` settings, through the worker process: what a user gets;
- `no node cap`: the same with `max_xml_nodes` lifted, so that only the worker's memory limit is left.

Files: issue 22's two bombs (python-docx's empty document, one paragraph of 99 MB of `<a/>` or `<w:r/>`),
and Word-like documents of N paragraphs (rsids, paragraph and run properties, two runs each: 23 nodes a
paragraph). Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_loading import docx_with_body  # noqa: E402  (the tests' real .docx with a chosen body)

PARAGRAPH = (b'<w:p w:rsidR="00A12B34" w:rsidRDefault="00A12B34" w:rsidP="00C56D78"><w:pPr><w:spacing w:after="120"/>'
             b'<w:rPr><w:lang w:val="en-GB"/></w:rPr></w:pPr><w:r w:rsidRPr="00E9F0A1"><w:rPr><w:lang w:val="en-GB"/>'
             b'</w:rPr><w:t xml:space="preserve">Paragraph %d says something about the harbour </w:t></w:r><w:r><w:rPr>'
             b'<w:b/><w:lang w:val="en-GB"/></w:rPr><w:t>and its ledgers.</w:t></w:r></w:p>')


def files(work: Path, paragraphs: list[int]) -> dict[str, Path]:
    made = {f"bomb <{tag}/>": (f"bomb-{tag.replace(':', '')}.docx",
                               lambda tag=tag: docx_with_body(b"<w:p><w:r><w:t>hello</w:t></w:r>"
                                                              + f"<{tag}/>".encode() * (99 * 2**20 // (len(tag) + 3))
                                                              + b"</w:p>")) for tag in ("a", "w:r")}
    for n in paragraphs:
        made[f"Word-like, {n:,} paragraphs"] = (f"word-{n}.docx",
                                                lambda n=n: docx_with_body(b"".join(PARAGRAPH % i for i in range(n))))
    out = {}
    for label, (name, build) in made.items():
        path = work / name
        if not path.exists():
            path.write_bytes(build())
        out[label] = path
    return out


def child(mode: str, path: Path) -> dict:
    from ingest import bombs
    from ingest.limits import Limits
    from ingest.loading import load_file
    from ingest.readers import read_docx

    data = path.read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    nodes = sum(bombs._xml_nodes(archive.open(name), 10**12) for name in archive.namelist())
    lifted = Limits(max_xml_nodes=10**12, max_unpacked_bytes=10**12, max_text_chars=10**12)
    began = time.perf_counter()
    try:
        if mode == "parse":
            result = f"{len(read_docx(data, path.name, lifted).text):,} characters"
        else:
            limits = Limits() if mode == "ingest" else Limits(max_xml_nodes=10**12)
            result = f"{len(load_file(path, limits).text):,} characters"
    except Exception as exc:  # noqa: BLE001 - the refusal is the result
        result = f"{type(exc).__name__}: {exc}"
    return {"kb": len(data) // 1024, "nodes": nodes, "seconds": round(time.perf_counter() - began, 1),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "result": result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--paragraphs", type=int, nargs="+", default=[100_000, 171_000])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, path in files(args.work, args.paragraphs).items():
        for mode in ("parse", "ingest", "no node cap"):
            out = subprocess.run([sys.executable, __file__, "--child", mode, str(path), "--work", str(args.work)],
                                 capture_output=True, text=True, check=True).stdout
            rows.append({"file": label, "mode": mode, **json.loads(out.strip().splitlines()[-1])})
            print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": "python " + " ".join(sys.argv), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""A 50 MB text file ingests with bounded memory and reports progress (a real run, in a subprocess)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

PARAGRAPH = ("The harbour authority logged every ship that entered the bay, noting its flag, its cargo and "
             "the hour of its arrival. Clerks copied the ledgers each evening so that nothing was lost.\n\n")

CHILD = textwrap.dedent("""
    import json, resource, sys
    from assistant import Assistant
    from ingest.progress import IngestProgress

    class Seen(IngestProgress):
        files_total = started = embedded_chunks = 0
        def files(self, total): self.files_total = total
        def file_started(self, source, chunks): self.started = chunks
        def embedded(self, n): self.embedded_chunks += n

    seen = Seen()
    report = Assistant.open(home=sys.argv[1]).ingest([sys.argv[2]], progress=seen)
    print(json.dumps({"report": report.to_dict(), "chunks": seen.started, "embedded": seen.embedded_chunks,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


@pytest.mark.slow
def test_50_mb_text_file(tmp_path):
    big = tmp_path / "ledger.txt"
    with big.open("w") as fh:
        fh.write("Harbour ledger\n\n")
        for _ in range(50 * 1024 * 1024 // len(PARAGRAPH)):
            fh.write(PARAGRAPH)
    assert big.stat().st_size > 50_000_000
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "home"), str(big)], capture_output=True,
                            text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(out["report"]["added"]) == 1 and out["report"]["failed"] == []
    assert out["chunks"] > 50_000 and out["embedded"] == out["chunks"], f"progress covered every chunk: {out}"
    # Bounded: the text is ~50 MB; the whole run (model, torch, Chroma) must stay well under 4 GB.
    assert out["peak_mb"] < 4096, out
    print(f"50 MB file: {out['chunks']} chunks, peak RSS {out['peak_mb']:.0f} MB")

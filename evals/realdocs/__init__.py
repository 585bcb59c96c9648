"""The real-documents eval corpus (evals/sets/realdocs.jsonl): Debian packages' documentation and files made here
from public data by the real libraries; `python -m evals.realdocs.build OUT_DIR` makes it (docs/evals.md)."""

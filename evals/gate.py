"""The CI gate: minimum (or maximum) values for a run's metrics, read from a JSON file.

A gate file holds one gate, or `{"gates": [...]}`: one per eval set, each naming its `set` and the `corpus` it is
asked of (see evals/gate.json and docs/evals.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from evals.aggregate import ORDER
from evals.cases import EvalSetError

KEYS = ("set", "corpus", "system", "min", "max", "tags", "note")


class GateError(EvalSetError):
    """The gate file is unreadable or names a metric that does not exist."""


@dataclass(frozen=True)
class Gate:
    """Thresholds for one system of a run (default: "assistant"); `tags` maps a case tag to the minimums of the
    metrics over that tag's cases alone."""

    minimum: dict = field(default_factory=dict)
    maximum: dict = field(default_factory=dict)
    system: str = "assistant"
    set: str | None = None
    corpus: str | None = None
    tags: dict = field(default_factory=dict)


def load_gates(path: str | Path) -> list[Gate]:
    """Every gate of the file (one, or the list under "gates"); GateError on any fault."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"{path}: no such gate file") from None
    except json.JSONDecodeError as exc:
        raise GateError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict) and "gates" in data:
        entries = data["gates"]
        if not isinstance(entries, list) or not entries:
            raise GateError(f"{path}: \"gates\" must be a non-empty list of gates")
        return [_gate(entry, f"{path}: gate {n}") for n, entry in enumerate(entries, start=1)]
    return [_gate(data, str(path))]


def load_gate(path: str | Path, target: str | Path | None = None) -> Gate:
    """The file's gate for the eval set `target` (the only one when the file holds one)."""
    gates = load_gates(path)
    if len(gates) == 1:
        return gates[0]
    if target is not None:
        parts = Path(target).resolve().parts
        for gate in gates:
            if gate.set and parts[-len(Path(gate.set).parts):] == Path(gate.set).parts:
                return gate
    listed = ", ".join(g.set or "?" for g in gates)
    raise GateError(f"{path}: no gate for {target or 'this run'} (gates: {listed})")


def _gate(data, where: str) -> Gate:
    if not isinstance(data, dict):
        raise GateError(f"{where}: a gate must be a JSON object")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise GateError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    tags = data.get("tags", {})
    if not isinstance(tags, dict):
        raise GateError(f"{where}: \"tags\" must map a case tag to {{metric: minimum}}")
    for bound, values in (("min", data.get("min", {})), ("max", data.get("max", {})),
                          *((f"tags.{tag}", values) for tag, values in tags.items())):
        if not isinstance(values, dict):
            raise GateError(f"{where}: \"{bound}\" must map metric names to numbers")
        for name, value in values.items():
            if name not in ORDER:
                raise GateError(f"{where}: unknown metric {name!r} in \"{bound}\" (known: {', '.join(ORDER)})")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise GateError(f"{where}: {bound}.{name} must be a number")
    if not data.get("min") and not data.get("max") and not tags:
        raise GateError(f"{where}: the gate sets no thresholds: add \"min\": {{\"answer_accuracy\": 0.9}}")
    return Gate(minimum=dict(data.get("min", {})), maximum=dict(data.get("max", {})),
                system=str(data.get("system", "assistant")), set=data.get("set"), corpus=data.get("corpus"),
                tags={tag: dict(values) for tag, values in tags.items()})


def check_gate(gate: Gate, metrics: dict, tagged: dict | None = None) -> list[str]:
    """One line per metric outside its threshold, naming the metric, its value and the threshold; `tagged` is
    the run's metrics per case tag (evals.aggregate.by_tag), checked against the gate's `tags`."""
    failures = _outside(metrics, gate.minimum, "", at_least=True) + _outside(metrics, gate.maximum, "", at_least=False)
    for tag, minimum in gate.tags.items():
        failures += _outside((tagged or {}).get(tag, {}), minimum, f"{tag} cases: ", at_least=True)
    return failures


def _outside(metrics: dict, bounds: dict, label: str, at_least: bool) -> list[str]:
    word, moved = ("at least", "dropped to") if at_least else ("at most", "rose to")
    failures = []
    for name, threshold in bounds.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{label}{name} was not measured (no case it applies to); gate: {word} {threshold:.3f}")
        elif (value < threshold) if at_least else (value > threshold):
            failures.append(f"{label}{name} {moved} {value:.3f} (gate: {word} {threshold:.3f})")
    return failures

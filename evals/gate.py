"""The CI gate: minimum (or maximum) values for a run's metrics, read from a JSON file."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from evals.aggregate import ORDER
from evals.cases import EvalSetError

KEYS = ("set", "system", "min", "max", "note")


class GateError(EvalSetError):
    """The gate file is unreadable or names a metric that does not exist."""


@dataclass(frozen=True)
class Gate:
    """Thresholds for one system of a run (default: "assistant")."""

    minimum: dict = field(default_factory=dict)
    maximum: dict = field(default_factory=dict)
    system: str = "assistant"
    set: str | None = None


def load_gate(path: str | Path) -> Gate:
    """Read {"min": {metric: value}, "max": {...}, "system": ..., "set": ...}; GateError on any fault."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"{path}: no such gate file") from None
    except json.JSONDecodeError as exc:
        raise GateError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise GateError(f"{path}: a gate must be a JSON object")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise GateError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    for bound in ("min", "max"):
        values = data.get(bound, {})
        if not isinstance(values, dict):
            raise GateError(f"{path}: \"{bound}\" must map metric names to numbers")
        for name, value in values.items():
            if name not in ORDER:
                raise GateError(f"{path}: unknown metric {name!r} in \"{bound}\" (known: {', '.join(ORDER)})")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise GateError(f"{path}: {bound}.{name} must be a number")
    if not data.get("min") and not data.get("max"):
        raise GateError(f"{path}: the gate sets no thresholds: add \"min\": {{\"answer_accuracy\": 0.9}}")
    return Gate(minimum=dict(data.get("min", {})), maximum=dict(data.get("max", {})),
                system=str(data.get("system", "assistant")), set=data.get("set"))


def check_gate(gate: Gate, metrics: dict) -> list[str]:
    """One line per metric outside its threshold, naming the metric, its value and the threshold."""
    failures = []
    for name, threshold in gate.minimum.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} was not measured (no case it applies to); gate: at least {threshold:.3f}")
        elif value < threshold:
            failures.append(f"{name} dropped to {value:.3f} (gate: at least {threshold:.3f})")
    for name, threshold in gate.maximum.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} was not measured (no case it applies to); gate: at most {threshold:.3f}")
        elif value > threshold:
            failures.append(f"{name} rose to {value:.3f} (gate: at most {threshold:.3f})")
    return failures

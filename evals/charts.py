"""PNG charts of a run (matplotlib): per-metric bars and the latency distribution per stage."""
from __future__ import annotations

from pathlib import Path

from evals.aggregate import ORDER, STAGES, is_share

COLORS = ("#3b6ea8", "#c8803b", "#5a9b5a", "#a84e4e", "#7d6aa8")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window
    import matplotlib.pyplot as plt

    return plt


def metric_bars(results: dict, path: Path) -> Path | None:
    """Grouped horizontal bars of every share metric (0..1), one colour per system."""
    systems = results["systems"]
    metrics = [m for m in ORDER if is_share(m) and any(s["metrics"].get(m) is not None for s in systems.values())]
    if not metrics:
        return None
    plt = _pyplot()
    height = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * len(metrics) * max(1, len(systems) * 0.6)))
    for i, (name, system) in enumerate(systems.items()):
        values = [system["metrics"].get(m) for m in metrics]
        ys = [k + i * height for k in range(len(metrics))]
        bars = ax.barh(ys, [v or 0 for v in values], height=height, label=name, color=COLORS[i % len(COLORS)])
        for bar, value in zip(bars, values):
            if value is not None:
                ax.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2, f"{value:.3f}",
                        va="center", fontsize=7)
    ax.set_yticks([k + height * (len(systems) - 1) / 2 for k in range(len(metrics))], metrics)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_title(f"{results['name']}: {results['completed']} cases")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency_chart(results: dict, path: Path) -> Path | None:
    """Box plots of per-question latency for each stage and system (whiskers at p5 and p95)."""
    systems = results["systems"]
    data = {name: {stage: [r["timings_ms"][stage] for r in s["cases"] if stage in r.get("timings_ms", {})]
                   for stage in STAGES} for name, s in systems.items()}
    if not any(v for per in data.values() for v in per.values()):
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(STAGES), figsize=(4 * len(STAGES), 3.6))
    for ax, stage in zip(axes, STAGES):
        values = [data[name][stage] or [0.0] for name in systems]
        box = ax.boxplot(values, whis=(5, 95), showfliers=False, patch_artist=True)
        ax.set_xticks(range(1, len(systems) + 1), list(systems), rotation=15, fontsize=8)
        for patch, color in zip(box["boxes"], COLORS):
            patch.set_facecolor(color)
            patch.set_alpha(0.6)
        ax.set_title(f"{stage} (ms)")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{results['name']}: latency per question (box p25–p75, whiskers p5–p95)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_charts(results: dict, out: Path) -> list[str]:
    """metrics.png and latency.png in out; the names of those written."""
    written = [metric_bars(results, out / "metrics.png"), latency_chart(results, out / "latency.png")]
    return [str(p) for p in written if p]

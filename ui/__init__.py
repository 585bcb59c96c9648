"""The Gradio chat UI (the only package that imports gradio): `build_app(assistant)` and `launch(assistant)`.

Gradio loads on first use of either, not on `import ui`: `assistant chat` is registered from ui/command.py
by every run of the CLI, which must stay light."""
from __future__ import annotations

__all__ = ["build_app", "launch"]


def __getattr__(name: str):
    if name in __all__:
        from ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")

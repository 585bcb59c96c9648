"""The Gradio chat UI (the only package that imports gradio): `build_app(assistant)` and `launch(assistant)`."""
from ui.app import build_app, launch

__all__ = ["build_app", "launch"]

"""The page: layout and event wiring of the chat, the document viewer, the sources sidebar, settings, and the
knowledge base picker (shown when there are several: every event on the index gets its value)."""
from __future__ import annotations

import os
from types import SimpleNamespace

import gradio as gr
from starlette.middleware import Middleware

from assistant.access import EVERYTHING
from assistant.exposure import check_ui
from assistant.settings import HOST, TOP_K_MAX, UI_PORT
from assistant.uploads import max_upload_bytes
from ui import panels, style, welcome
from ui.endpoints import add_endpoints
from ui.chat import answerer_choices
from ui.conversations import SHOWN, Thread
from ui.handlers import Handlers
from ui.login import LoginGate


class App(gr.Blocks):
    """gr.Blocks whose launch() defaults to the app's theme, CSS and upload limit (`[ingest] max_upload_mb`).

    Gradio 6 takes theme and CSS in launch(), so a plain `build_app(assistant).launch()` would lose them. With a login
    (`auth=`), every route but the login page's answers 401 until the browser has logged in (ui/login.py).
    """

    def __init__(self, upload_limit: int, **kwargs):
        super().__init__(**kwargs)
        self.upload_limit = upload_limit

    def launch(self, *args, **kwargs):
        kwargs.setdefault("theme", style.theme())
        kwargs.setdefault("css", style.CSS)
        kwargs.setdefault("max_file_size", self.upload_limit)
        kwargs.setdefault("footer_links", [])
        app_kwargs = kwargs["app_kwargs"] = dict(kwargs.get("app_kwargs") or {})
        app_kwargs["middleware"] = [*app_kwargs.get("middleware", ()), Middleware(LoginGate)]  # acts with auth= only
        return super().launch(*args, **kwargs)


def build_app(target) -> gr.Blocks:
    """The chat UI over the application service (or a new one over an Assistant), not launched (call .launch() or
    ui.launch())."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    handlers = Handlers(target)
    own, settings = handlers.assistant.kb.name, handlers.service.settings
    if settings.access:  # users see different bases: each page is filled as it loads (handlers.refresh)
        records, names = [], [own]
    else:
        records, names = handlers._records(None, EVERYTHING), handlers.knowledge_bases(EVERYTHING)
    choices = [(f"{r.title} · {r.source.rsplit('/', 1)[-1]}", r.source) for r in records]

    with App(max_upload_bytes(settings), title=welcome.TITLE, analytics_enabled=False) as app:
        page = SimpleNamespace(
            history=gr.State([]),  # (question, answer text) per answered turn, for follow-ups
            answers=gr.State([]),  # the Answer (or None when it failed) of every turn
            pending=gr.State(""),  # the question being answered (the box is cleared at once)
            thread=gr.State(Thread()),  # the conversation on screen: its saved id and turns
            rating=gr.State(None),  # (turn id, rating) the comment box adds a comment to
            # The id of the conversation on screen, kept in the browser: a reload (or a restart) opens it again.
            # Its secret only keeps the value opaque; the id itself opens nothing without its owner's login.
            last_open=gr.BrowserState(None, storage_key="docs-assistant-conversation",
                                      secret=f"docs-assistant:{handlers.bases.history.path}"))
        _conversations_bar(page)
        with gr.Row(equal_height=True, elem_id="top"):
            page.header = gr.HTML(welcome.header_html(records), elem_id="header", js_on_load=None, scale=1)
            page.kb = gr.Dropdown(names, value=own, label="Knowledge base", visible=len(names) > 1,
                                  scale=0, min_width=220, elem_id="kb")
        with gr.Tabs(selected="chat", elem_id="views") as page.views:
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False, elem_id="main"):
                    _chat_column(page, records)
                    _side_column(page, settings, records, choices)
            with gr.Tab("Documents", id="documents"):
                _documents_tab(page, settings, records, choices)
        _wire(app, page, handlers)
        add_endpoints(handlers)
    return app


def _conversations_bar(page) -> None:
    """The sidebar of saved conversations: new, search, the list, and this conversation's tools."""
    with gr.Sidebar(label="Conversations", open=True, width=style.SIDEBAR_PX, elem_id="conversations-bar"):
        page.new_btn = gr.Button("+ New conversation", size="sm", elem_id="new-conversation")
        page.search = gr.Textbox(placeholder="Search conversations…", show_label=False, container=False,
                                 max_lines=1, elem_id="conversation-search")
        page.listed = gr.Radio([], value=None, label=f"Saved (the latest {SHOWN}; search finds any)",
                               elem_id="conversations")
        with gr.Accordion("This conversation", open=False, elem_id="conversation-tools"):
            page.title = gr.Textbox(label="Title", max_lines=1, elem_id="conversation-title")
            with gr.Row():
                page.rename_btn = gr.Button("Rename", size="sm", elem_id="rename-conversation")
                page.delete_btn = gr.Button("Delete", size="sm", variant="stop", elem_id="delete-conversation")
            with gr.Row():
                page.export_md = gr.DownloadButton("Markdown", size="sm", interactive=False, elem_id="export-md")
                page.export_json = gr.DownloadButton("JSON", size="sm", interactive=False, elem_id="export-json")


def _chat_column(page, records) -> None:
    """The chat, the question box and the feedback box."""
    with gr.Column(scale=3, min_width=340):
        page.note = gr.HTML("", visible=False, elem_id="history-note", js_on_load=None)
        page.chatbot = gr.Chatbot(
            [], elem_id="chat", show_label=False, height="64vh", min_height=360,
            render_markdown=False, latex_delimiters=[], feedback_options=["Like", "Dislike"],
            buttons=["copy"],
            layout="panel", placeholder=welcome.placeholder(records),
            examples=welcome.examples(records) or None)
        page.question = gr.Textbox(placeholder="Ask a question about your documents…", show_label=False,
                                   lines=1, max_lines=5, submit_btn="Ask", autofocus=True,
                                   container=False, elem_id="question")
        page.feedback_line = gr.HTML("", elem_id="feedback-line", js_on_load=None)
        with gr.Column(visible=False, elem_id="feedback") as page.feedback:
            page.comment = gr.Textbox(placeholder="What was right or wrong? (optional)", show_label=False,
                                      lines=2, max_lines=6, elem_id="feedback-comment")
            page.comment_btn = gr.Button("Save comment", size="sm", elem_id="feedback-save")


def _side_column(page, settings, records, choices) -> None:
    """Beside the chat: the document viewer, why this answer, and the settings."""
    with gr.Column(scale=2, min_width=300, elem_id="side"):
        with gr.Tabs(selected="doc") as page.tabs:
            with gr.Tab("Document", id="doc"):
                page.viewer = gr.HTML(panels.viewer_placeholder(bool(records)), elem_id="viewer",
                                      js_on_load=style.VIEWER_JS)
            with gr.Tab("Why this answer", id="why"):
                page.why = gr.HTML(panels.why_html(None), elem_id="why", js_on_load=None)
            with gr.Tab("Settings", id="settings", elem_id="settings"):
                page.top_k = gr.Slider(1, TOP_K_MAX, step=1, value=settings.retrieval.top_k,
                                       label="Passages to retrieve", elem_id="top-k")
                page.source_filter = gr.Dropdown(choices, multiselect=True, label="Search only in",
                                                 info="Leave empty to search every document.",
                                                 elem_id="source-filter")
                page.answerer = gr.Radio(answerer_choices(settings), value=settings.answer.kind, label="Answerer",
                                         info="The LLM is listed when [llm] is configured.", elem_id="answerer")


def _documents_tab(page, settings, records, choices) -> None:
    """Adding documents, removing one, and the list of what is indexed."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            gr.HTML(f'<h3>Add documents</h3><p class="hint">PDF, DOCX, HTML, Markdown or text, up to '
                    f'{settings.ingest.max_upload_mb:g} MB each. Files are copied into the '
                    'assistant\'s uploads folder and indexed from there.</p>', js_on_load=None,
                    elem_classes="section-head")
            page.upload = gr.File(label="Drop files here", file_count="multiple", height=150, elem_id="upload")
            page.upload_results = gr.HTML("", elem_id="upload-results", js_on_load=None)
            with gr.Accordion("Remove a document", open=False, elem_id="remove-box"):
                page.remove_pick = gr.Dropdown(choices, value=None, show_label=False, elem_id="remove-pick")
                page.remove_btn = gr.Button("Remove from index", variant="stop", size="sm", elem_id="remove")
        with gr.Column(scale=3, min_width=300):
            gr.HTML('<h3>Indexed</h3><p class="hint">Click a title to read it.</p>', js_on_load=None,
                    elem_classes="section-head")
            page.sources = gr.HTML(panels.sources_html(records), elem_id="sources", js_on_load=None)


def _wire(app: gr.Blocks, p, handlers) -> None:
    """The page's events (private: the page calls them; API clients get /ask and /sources, ui/endpoints.py)."""
    talks = handlers.talks
    index_outputs = [p.header, p.sources, p.remove_pick, p.source_filter, p.chatbot]
    clear_outputs = [p.history, p.answers, p.why, p.viewer, p.thread]
    turn_outputs = [p.chatbot, p.history, p.answers, p.why, p.viewer, p.thread, p.note]
    turn_inputs = [p.pending, p.chatbot, p.history, p.answers, p.top_k, p.source_filter, p.answerer, p.kb, p.thread]
    side_outputs = [p.listed, p.title, p.export_md, p.export_json, p.last_open, p.note]
    shown_outputs = [p.chatbot, p.history, p.answers, p.thread, p.why] + side_outputs
    private = dict(api_visibility="private")
    quiet = dict(show_progress="hidden", **private)

    def sidebar(event):  # after an event that changed the conversation on screen: the list and exports
        return event.then(talks.sidebar, [p.thread, p.search], side_outputs, **quiet)

    # A quick unqueued check first: an empty question ends there, and the box clears at once.
    sidebar(p.question.submit(handlers.accept, p.question, [p.question, p.pending], queue=False, **quiet).success(
        handlers.respond, turn_inputs, turn_outputs, **quiet))
    sidebar(p.chatbot.example_select(handlers.example, None, p.pending, queue=False, **quiet).then(
        handlers.respond, turn_inputs, turn_outputs, **quiet))
    sidebar(p.chatbot.clear(handlers.clear, p.kb, clear_outputs, queue=False, **private))
    p.chatbot.like(talks.rate, p.thread, [p.feedback, p.feedback_line, p.rating], **quiet)
    p.comment_btn.click(talks.comment, [p.rating, p.comment], [p.feedback, p.feedback_line, p.comment], **quiet)
    p.viewer.click(handlers.open, [p.kb, p.answers, p.thread], [p.viewer, p.tabs, p.views], **quiet)
    p.upload.upload(handlers.upload, [p.upload, p.kb], [p.upload, p.upload_results] + index_outputs, **private)
    p.remove_btn.click(handlers.remove, [p.remove_pick, p.kb], [p.upload_results] + index_outputs, **private,
                       js="(s, kb) => [(s && confirm('Remove this document from the index?')) ? s : null, kb]")
    sidebar(p.kb.input(handlers.switch, p.kb, index_outputs + clear_outputs, **quiet))
    sidebar(p.new_btn.click(handlers.new, p.kb, [p.chatbot] + clear_outputs, **quiet))
    for typed in (p.search.input, p.search.submit):  # as typed, and on Enter
        typed(talks.listing, [p.search, p.thread], p.listed, trigger_mode="always_last", **quiet)
    p.listed.input(talks.open, [p.listed, p.search], shown_outputs, **quiet)
    p.rename_btn.click(talks.rename, [p.thread, p.title, p.search], side_outputs, **quiet)
    sidebar(p.delete_btn.click(talks.delete, [p.title, p.thread], None, **private,
                               js="(title, t) => [confirm('Delete this conversation?') ? 'yes' : 'no', t]").success(
        handlers.new, p.kb, [p.chatbot] + clear_outputs, **quiet))
    app.load(None, js=style.CLOSE_SIDEBAR_WHEN_NARROW)
    app.load(handlers.refresh, p.kb, index_outputs + [p.kb], queue=False, **quiet).then(
        talks.open, [p.last_open, p.search], shown_outputs, **quiet)


def launch(target, host: str = HOST, port: int = UI_PORT, share: bool = False, insecure: bool = False,
           prevent_thread_lock: bool = False, quiet: bool = False, **kwargs):
    """Serve the chat UI (blocks until stopped unless prevent_thread_lock); what `assistant chat` runs.

    With `[ui] users` set, Gradio asks for a login (`auth=`; it compares passwords in constant time).
    Without, a host beyond loopback or a share link is refused (ConfigError) unless `insecure`.
    Prints the page's address (Gradio's own lines would suggest `share=True` in code, not `--share`)."""
    accounts = target.settings.ui.accounts()
    check_ui(host, bool(accounts), share, insecure)
    app = build_app(target)
    app.launch(server_name=host, server_port=port, share=share, inbrowser=False, auth=accounts or None,
               prevent_thread_lock=True, quiet=True, **kwargs)
    if not quiet:
        print(f"Chat UI on {app.local_url}" + (f" and {app.share_url}" if app.share_url else
                                                 "  (assistant chat --share for a temporary public link)"), flush=True)
    if not prevent_thread_lock:
        app.block_thread()
    return app

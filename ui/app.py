"""The page: layout and event wiring of the chat, the document viewer, the sources sidebar, settings, and the
knowledge base picker (shown when there are several: every event on the index gets its value)."""
from __future__ import annotations

import os

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

    Gradio 6 takes theme and CSS in launch(), so a plain `build_app(bot).launch()` would lose them. With a login
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


def build_app(assistant) -> gr.Blocks:
    """The chat UI over `assistant`, not launched (call .launch() or ui.launch())."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    handlers = Handlers(assistant)
    talks = handlers.talks
    if assistant.settings.access:  # users see different bases: each page is filled as it loads (handlers.refresh)
        records, names = [], [assistant.kb.name]
    else:
        records, names = handlers._records(None, EVERYTHING), handlers.knowledge_bases(EVERYTHING)
    kind = assistant.settings.answer.kind
    choices = [(f"{r.title} · {r.source.rsplit('/', 1)[-1]}", r.source) for r in records]

    with App(max_upload_bytes(assistant.settings), title=welcome.TITLE, analytics_enabled=False) as app:
        history = gr.State([])  # (question, answer text) per answered turn, for follow-ups
        answers = gr.State([])  # the Answer (or None when it failed) of every turn
        pending = gr.State("")  # the question being answered (the box is cleared at once)
        thread = gr.State(Thread())  # the conversation on screen: its saved id and turns
        rating = gr.State(None)  # (turn id, rating) the comment box adds a comment to
        # The id of the conversation on screen, kept in the browser: a reload (or a restart) opens it again.
        # Its secret only keeps the value opaque; the id itself opens nothing without its owner's login.
        last_open = gr.BrowserState(None, storage_key="docs-assistant-conversation",
                                    secret=f"docs-assistant:{handlers.bases.history.path}")

        with gr.Sidebar(label="Conversations", open=True, width=style.SIDEBAR_PX, elem_id="conversations-bar"):
            new_btn = gr.Button("+ New conversation", size="sm", elem_id="new-conversation")
            search = gr.Textbox(placeholder="Search conversations…", show_label=False, container=False, max_lines=1,
                                elem_id="conversation-search")
            listed = gr.Radio([], value=None, label=f"Saved (the latest {SHOWN}; search finds any)",
                              elem_id="conversations")
            with gr.Accordion("This conversation", open=False, elem_id="conversation-tools"):
                title = gr.Textbox(label="Title", max_lines=1, elem_id="conversation-title")
                with gr.Row():
                    rename_btn = gr.Button("Rename", size="sm", elem_id="rename-conversation")
                    delete_btn = gr.Button("Delete", size="sm", variant="stop", elem_id="delete-conversation")
                with gr.Row():
                    export_md = gr.DownloadButton("Markdown", size="sm", interactive=False, elem_id="export-md")
                    export_json = gr.DownloadButton("JSON", size="sm", interactive=False, elem_id="export-json")

        with gr.Row(equal_height=True, elem_id="top"):
            header = gr.HTML(welcome.header_html(records), elem_id="header", js_on_load=None, scale=1)
            kb = gr.Dropdown(names, value=assistant.kb.name, label="Knowledge base", visible=len(names) > 1,
                             scale=0, min_width=220, elem_id="kb")
        with gr.Tabs(selected="chat", elem_id="views") as views:
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False, elem_id="main"):
                    with gr.Column(scale=3, min_width=340):
                        note = gr.HTML("", visible=False, elem_id="history-note", js_on_load=None)
                        chatbot = gr.Chatbot(
                            [], elem_id="chat", show_label=False, height="64vh", min_height=360,
                            render_markdown=False, latex_delimiters=[], feedback_options=["Like", "Dislike"],
                            buttons=["copy"],
                            layout="panel", placeholder=welcome.placeholder(records),
                            examples=welcome.examples(records) or None)
                        question = gr.Textbox(placeholder="Ask a question about your documents…", show_label=False,
                                              lines=1, max_lines=5, submit_btn="Ask", autofocus=True,
                                              container=False, elem_id="question")
                        feedback_line = gr.HTML("", elem_id="feedback-line", js_on_load=None)
                        with gr.Column(visible=False, elem_id="feedback") as feedback:
                            comment = gr.Textbox(placeholder="What was right or wrong? (optional)", show_label=False,
                                                 lines=2, max_lines=6, elem_id="feedback-comment")
                            comment_btn = gr.Button("Save comment", size="sm", elem_id="feedback-save")
                    with gr.Column(scale=2, min_width=300, elem_id="side"):
                        with gr.Tabs(selected="doc") as tabs:
                            with gr.Tab("Document", id="doc"):
                                viewer = gr.HTML(panels.viewer_placeholder(bool(records)), elem_id="viewer",
                                                 js_on_load=style.VIEWER_JS)
                            with gr.Tab("Why this answer", id="why"):
                                why = gr.HTML(panels.why_html(None), elem_id="why", js_on_load=None)
                            with gr.Tab("Settings", id="settings", elem_id="settings"):
                                top_k = gr.Slider(1, TOP_K_MAX, step=1, value=assistant.settings.retrieval.top_k,
                                                  label="Passages to retrieve", elem_id="top-k")
                                source_filter = gr.Dropdown(choices, multiselect=True, label="Search only in",
                                                            info="Leave empty to search every document.",
                                                            elem_id="source-filter")
                                answerer = gr.Radio(answerer_choices(assistant.settings), value=kind, label="Answerer",
                                                    info="The LLM is listed when [llm] is configured.",
                                                    elem_id="answerer")
            with gr.Tab("Documents", id="documents"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=300):
                        gr.HTML(f'<h3>Add documents</h3><p class="hint">PDF, DOCX, HTML, Markdown or text, up to '
                                f'{assistant.settings.ingest.max_upload_mb:g} MB each. Files are copied into the '
                                'assistant\'s uploads folder and indexed from there.</p>', js_on_load=None,
                                elem_classes="section-head")
                        upload = gr.File(label="Drop files here", file_count="multiple", height=150,
                                         elem_id="upload")
                        upload_results = gr.HTML("", elem_id="upload-results", js_on_load=None)
                        with gr.Accordion("Remove a document", open=False, elem_id="remove-box"):
                            remove_pick = gr.Dropdown(choices, value=None, show_label=False, elem_id="remove-pick")
                            remove_btn = gr.Button("Remove from index", variant="stop", size="sm", elem_id="remove")
                    with gr.Column(scale=3, min_width=300):
                        gr.HTML('<h3>Indexed</h3><p class="hint">Click a title to read it.</p>', js_on_load=None,
                                elem_classes="section-head")
                        sources = gr.HTML(panels.sources_html(records), elem_id="sources", js_on_load=None)

        index_outputs = [header, sources, remove_pick, source_filter, chatbot]
        clear_outputs = [history, answers, why, viewer, thread]
        turn_outputs = [chatbot, history, answers, why, viewer, thread, note]
        turn_inputs = [pending, chatbot, history, answers, top_k, source_filter, answerer, kb, thread]
        side_outputs = [listed, title, export_md, export_json, last_open, note]
        shown_outputs = [chatbot, history, answers, thread, why] + side_outputs
        private = dict(api_visibility="private")
        quiet = dict(show_progress="hidden", **private)

        def sidebar(event):  # after an event that changed the conversation on screen: the list and exports
            return event.then(talks.sidebar, [thread, search], side_outputs, **quiet)

        # The page's events are private (the page calls them; API clients get /ask and /sources below).
        # A quick unqueued check first: an empty question ends there, and the box clears at once.
        sidebar(question.submit(handlers.accept, question, [question, pending], queue=False, **quiet).success(
            handlers.respond, turn_inputs, turn_outputs, **quiet))
        sidebar(chatbot.example_select(handlers.example, None, pending, queue=False, **quiet).then(
            handlers.respond, turn_inputs, turn_outputs, **quiet))
        sidebar(chatbot.clear(handlers.clear, kb, clear_outputs, queue=False, **private))
        chatbot.like(talks.rate, thread, [feedback, feedback_line, rating], **quiet)
        comment_btn.click(talks.comment, [rating, comment], [feedback, feedback_line, comment], **quiet)
        viewer.click(handlers.open, [kb, answers, thread], [viewer, tabs, views], **quiet)
        upload.upload(handlers.upload, [upload, kb], [upload, upload_results] + index_outputs, **private)
        remove_btn.click(handlers.remove, [remove_pick, kb], [upload_results] + index_outputs, **private,
                         js="(s, kb) => [(s && confirm('Remove this document from the index?')) ? s : null, kb]")
        sidebar(kb.input(handlers.switch, kb, index_outputs + clear_outputs, **quiet))
        sidebar(new_btn.click(handlers.new, kb, [chatbot] + clear_outputs, **quiet))
        for typed in (search.input, search.submit):  # as typed, and on Enter
            typed(talks.listing, [search, thread], listed, trigger_mode="always_last", **quiet)
        listed.input(talks.open, [listed, search], shown_outputs, **quiet)
        rename_btn.click(talks.rename, [thread, title, search], side_outputs, **quiet)
        sidebar(delete_btn.click(talks.delete, [title, thread], None, **private,
                                 js="(title, t) => [confirm('Delete this conversation?') ? 'yes' : 'no', t]").success(
            handlers.new, kb, [chatbot] + clear_outputs, **quiet))
        app.load(None, js=style.CLOSE_SIDEBAR_WHEN_NARROW)
        app.load(handlers.refresh, kb, index_outputs + [kb], queue=False, **quiet).then(
            talks.open, [last_open, search], shown_outputs, **quiet)
        add_endpoints(handlers)
    return app


def launch(assistant, host: str = HOST, port: int = UI_PORT, share: bool = False, insecure: bool = False,
           prevent_thread_lock: bool = False, quiet: bool = False, **kwargs):
    """Serve the chat UI (blocks until stopped unless prevent_thread_lock); what `assistant chat` runs.

    With `[ui] users` set, Gradio asks for a login (`auth=`; it compares passwords in constant time).
    Without, a host beyond loopback or a share link is refused (ConfigError) unless `insecure`.
    Prints the page's address (Gradio's own lines would suggest `share=True` in code, not `--share`)."""
    accounts = assistant.settings.ui.accounts()
    check_ui(host, bool(accounts), share, insecure)
    app = build_app(assistant)
    app.launch(server_name=host, server_port=port, share=share, inbrowser=False, auth=accounts or None,
               prevent_thread_lock=True, quiet=True, **kwargs)
    if not quiet:
        print(f"Chat UI on {app.local_url}" + (f" and {app.share_url}" if app.share_url else
                                                 "  (assistant chat --share for a temporary public link)"), flush=True)
    if not prevent_thread_lock:
        app.block_thread()
    return app

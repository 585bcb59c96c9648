"""The look: a theme that loads nothing from the network, the page CSS, and the click handling JS."""
from __future__ import annotations

# Named system fonts only: a GoogleFont would make every browser fetch it from the internet.
FONT = ["-apple-system", "BlinkMacSystemFont", "Segoe UI", "Noto Sans", "Helvetica", "Arial", "sans-serif"]
FONT_MONO = ["SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]


def theme():
    """A calm indigo theme with system fonts."""
    import gradio as gr

    return gr.themes.Default(primary_hue="indigo", secondary_hue="indigo", neutral_hue="slate",
                             radius_size="md", font=FONT, font_mono=FONT_MONO).set(
        body_background_fill="#f6f7fb", block_border_width="1px", block_shadow="none",
        button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
    )


# Runs once when the document viewer mounts (gr.HTML js_on_load): `element`, `trigger`, `watch` are Gradio's.
# One capturing listener on the document handles the links inside chat messages, which are
# sanitised HTML and cannot carry handlers of their own.
VIEWER_JS = """
window.__daTrigger = trigger;
if (!window.__daBound) {
  window.__daBound = true;
  document.addEventListener('click', (e) => {
    const el = e.target && e.target.closest ? e.target : null;
    if (!el) return;
    const ref = el.closest('a.cite-ref');
    if (ref) {
      e.preventDefault(); e.stopPropagation();
      const cite = document.getElementById(ref.getAttribute('href').slice(1));
      if (cite) {
        cite.open = true;
        cite.classList.remove('flash'); void cite.offsetWidth; cite.classList.add('flash');
        cite.scrollIntoView({block: 'nearest', inline: 'nearest'});
      }
      return;
    }
    const open = el.closest('a.open-doc');
    if (open) {
      e.preventDefault(); e.stopPropagation();
      window.__daReveal = true;
      window.__daTrigger('click', {link: open.getAttribute('href').slice(1)});
    }
  }, true);
  // an opened citation shows its highlighted sentence, not the top of a long passage
  document.addEventListener('toggle', (e) => {
    const cite = e.target;
    if (!cite.open || !cite.matches || !cite.matches('details.cite')) return;
    const quote = cite.querySelector('blockquote'), mark = cite.querySelector('mark');
    if (quote && mark) quote.scrollTop = Math.max(0, mark.offsetTop - 12);
  }, true);
}
watch('value', () => {
  const box = element.querySelector('.doc-body');
  const target = element.querySelector('mark') || element.querySelector('.passage');
  if (box && target) box.scrollTop = Math.max(0, target.offsetTop - box.clientHeight / 3);
  if (window.__daReveal) {
    window.__daReveal = false;
    element.scrollIntoView({block: 'nearest'});
  }
});
"""

SIDEBAR_PX = 300  # the conversations sidebar's width
NARROW_PX = 768  # at this width or less (a phone), the sidebar covers the page: it starts closed there
# Run when the page loads: close the sidebar on a narrow screen, so the chat is what a phone shows first.
CLOSE_SIDEBAR_WHEN_NARROW = (f"() => {{ if (window.innerWidth <= {NARROW_PX}) "
                             "document.querySelector('#conversations-bar.open .toggle-button')?.click(); }")

CSS = """
.gradio-container { max-width: 1480px !important; margin: 0 auto; }
/* The conversations sidebar pushes the page aside (Gradio's own offset is 0 in this layout); on a phone
   (NARROW_PX or less) it covers the page instead, as Gradio does there, and starts closed */
.sidebar-parent:has(.sidebar.open:not(.right)) { padding-left: clamp(0px, (100vw - NARROW_PX) * 1000, SIDEBAR_PX) !important; }
#conversations label { font-size: .88rem; }
.history-note { margin: 0; padding: 6px 10px; border-radius: 8px; background: #fef3c7; color: #92400e; font-size: .88rem; }
.feedback-line { margin: 4px 2px 0; color: #4b5563; font-size: .88rem; }
#viewer .doc.gone p { color: #92400e; }
/* Gradio nests custom @media rules under .contain, so the page gutter shrinks with clamp() instead */
.gradio-container .main.app { padding-left: clamp(8px, 2.5vw, 32px) !important; padding-right: clamp(8px, 2.5vw, 32px) !important; }
#header { padding: 2px 4px 6px; }
#header .brand { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
#header .logo { width: 34px; height: 34px; border-radius: 9px; background: linear-gradient(135deg, #4f46e5, #7c3aed);
  color: #fff; display: grid; place-items: center; font-weight: 700; font-size: 17px; flex: none; }
#header h1 { font-size: 1.35rem; margin: 0; line-height: 1.2; font-weight: 700; color: #111827; }
#header .tagline { color: #6b7280; font-size: .92rem; margin: 0; }
#header .pill { margin-left: auto; background: #eef2ff; color: #3730a3; border-radius: 999px; padding: 4px 12px;
  font-size: .85rem; white-space: nowrap; }
#header .pill.empty { background: #fef3c7; color: #92400e; }
/* the knowledge base picker, beside the header (below it on a phone) */
#top { align-items: center; flex-wrap: wrap; }
#top > #header { min-width: min(340px, 100%) !important; }

/* chat messages: our HTML, not Markdown */
#chat .answer p { margin: 0 0 .35em; line-height: 1.55; }
#chat .answer p.short { font-size: 1.08em; margin-bottom: .25em; }
#chat .answer .note, #chat .answer .hint { color: #6b7280; font-size: .88em; }
#chat a.cite-ref { display: inline-block; min-width: 1.6em; padding: 0 .3em; margin: 0 1px; border-radius: 6px;
  background: #e0e7ff; color: #3730a3 !important; font-size: .8em; font-weight: 600; text-align: center;
  text-decoration: none !important; vertical-align: 1px; line-height: 1.5; cursor: pointer; }
#chat a.cite-ref:hover { background: #c7d2fe; }
#chat .cites { margin-top: .6em; border-top: 1px solid #e5e7eb; padding-top: .45em; display: flex; flex-direction: column; gap: 5px; }
#chat .cites-head { font-size: .75em; text-transform: uppercase; letter-spacing: .05em; color: #6b7280; font-weight: 600; }
#chat details.cite { border: 1px solid #e5e7eb; border-radius: 8px; background: #fff; overflow: hidden; }
#chat details.cite[open] { border-color: #a5b4fc; box-shadow: 0 1px 3px rgba(79, 70, 229, .12); }
#chat details.cite.flash { animation: cite-flash 1.2s ease-out; }
@keyframes cite-flash { 0% { box-shadow: 0 0 0 3px #818cf8; } 100% { box-shadow: 0 0 0 0 transparent; } }
#chat details.cite summary { display: flex; align-items: baseline; gap: 8px; padding: 6px 10px; cursor: pointer;
  list-style: none; font-size: .9em; }
#chat details.cite summary::-webkit-details-marker { display: none; }
#chat details.cite summary:hover { background: #f8fafc; }
#chat .num, .why .num { flex: none; display: inline-grid; place-items: center; min-width: 1.5em; height: 1.5em; padding: 0 .25em;
  border-radius: 6px; background: #4f46e5; color: #fff; font-size: .78em; font-weight: 700; }
#chat .closest .num { background: #94a3b8; }
/* one clamped line each; not nowrap, which would widen the chat bubble past a phone's screen */
#chat summary .title, #chat summary .src { display: -webkit-box; -webkit-line-clamp: 1; -webkit-box-orient: vertical;
  overflow: hidden; overflow-wrap: anywhere; min-width: 0; }
#chat summary .title { font-weight: 600; color: #111827; flex: 1 1 auto; }
#chat summary .src { color: #6b7280; font-size: .85em; flex: 0 1 auto; max-width: 40%; }
#chat blockquote.passage { position: relative; margin: 0; padding: 8px 12px; border-left: 3px solid #c7d2fe; background: #f8fafc;
  color: #374151; font-size: .9em; line-height: 1.55; white-space: pre-wrap; max-height: 12.5em; overflow: auto; }
#chat mark, #viewer mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
#chat a.open-doc { display: inline-block; margin: 5px 12px 8px; font-size: .85em; color: #4f46e5; text-decoration: none; font-weight: 600; }
#chat a.open-doc:hover { text-decoration: underline; }
#chat .badge { display: inline-block; font-size: .72em; font-weight: 700; text-transform: uppercase; letter-spacing: .04em;
  border-radius: 5px; padding: 1px 6px; margin-right: 4px; vertical-align: 1px; }
#chat .abstained .badge { background: #fef3c7; color: #92400e; }
#chat .error { color: #991b1b; }
#chat .error .badge { background: #fee2e2; color: #991b1b; }
#chat .notice p { color: #374151; }
#chat .pending { color: #6b7280; }
#chat .placeholder-content { min-height: 100%; display: flex; flex-direction: column; justify-content: center;
  box-sizing: border-box; padding: 16px 12px; }
#question .submit-button { background: #4f46e5 !important; color: #fff !important; font-weight: 600; }
#question .submit-button:hover { background: #4338ca !important; }
#chat .dots i { display: inline-block; width: 6px; height: 6px; margin-right: 3px; border-radius: 50%; background: #818cf8;
  animation: dot 1s infinite ease-in-out; }
#chat .dots i:nth-child(2) { animation-delay: .15s; } #chat .dots i:nth-child(3) { animation-delay: .3s; }
@keyframes dot { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
#chat .caret { display: inline-block; width: 7px; height: 1em; background: #818cf8; vertical-align: -2px; margin-left: 2px;
  animation: dot 1s infinite; }

/* the document viewer */
#viewer .doc { border: 1px solid #e5e7eb; border-radius: 10px; background: #fff; overflow: hidden; }
#viewer .doc.empty { padding: 28px 20px; color: #6b7280; text-align: center; border-style: dashed; background: transparent; }
#viewer .doc-head { padding: 10px 14px; border-bottom: 1px solid #e5e7eb; background: #f8fafc; }
#viewer .doc-title { font-weight: 700; color: #111827; line-height: 1.3; }
#viewer .meta, .why .meta, .sources .meta, .upload-results .meta { color: #6b7280; font-size: .8rem; overflow-wrap: anywhere; }
#viewer .doc-body { position: relative; max-height: 62vh; overflow: auto; padding: 12px 16px; }
#viewer .doc-text { white-space: pre-wrap; line-height: 1.6; font-size: .92rem; color: #374151; }
#viewer .passage { background: #eef2ff; border-radius: 2px; -webkit-box-decoration-break: clone; box-decoration-break: clone; }
#viewer .page-mark { display: block; margin: 10px 0 4px; padding-top: 4px; border-top: 1px dashed #d1d5db;
  color: #6b7280; font-size: .75rem; font-weight: 600; white-space: normal; }
#chat summary .page { color: #374151; font-size: .85em; white-space: nowrap; flex: none; }
#chat summary .ocr { color: #92400e; background: #fef3c7; border-radius: 4px; padding: 0 4px; font-size: .75em; flex: none; }
#viewer .cut { color: #9ca3af; font-size: .8rem; font-style: italic; margin: 4px 0; }

/* why this answer */
.why p { margin: 0 0 6px; }
#why table, #why thead, #why tbody, #why tr, #why th, #why td { border: none !important; }
#why td { border-bottom: 1px solid #f1f5f9 !important; }
#why a.open-doc, #sources a.open-doc { padding: 0 !important; margin: 0 !important; }
#why thead th { border-bottom: 1px solid #e5e7eb !important; background: transparent; }
#why .cited { display: inline-block; margin-left: 4px; padding: 0 .35em; border-radius: 6px; background: #e0e7ff;
  color: #3730a3; font-size: .75rem; font-weight: 700; }
.why table { width: 100%; border-collapse: collapse; font-size: .85rem; margin-top: 8px; }
.why th { text-align: left; color: #6b7280; font-weight: 600; font-size: .75rem; text-transform: uppercase; border-bottom: 1px solid #e5e7eb; padding: 4px 6px; }
.why td { border-bottom: 1px solid #f1f5f9; padding: 6px; vertical-align: top; }
.why td:nth-child(n+3) { font-variant-numeric: tabular-nums; white-space: nowrap; }
.why a.open-doc { color: #111827; font-weight: 600; text-decoration: none; }
.why a.open-doc:hover { color: #4f46e5; text-decoration: underline; }
.why.empty, .sources.empty { color: #6b7280; }

/* sidebar: sources and uploads */
.sources { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 2px; }
.sources li { padding: 7px 8px; border-radius: 8px; text-align: left !important; }
.sources li:hover { background: #f1f5f9; }
.sources a.doc-title { color: #111827; font-weight: 600; font-size: .95rem; text-decoration: none; line-height: 1.35;
  display: block; text-align: left; }
.sources a.doc-title:hover { color: #4f46e5; }
.upload-results { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 4px; }
.upload-results li { padding: 6px 8px; border-radius: 8px; background: #f8fafc; font-size: .88rem; }
.upload-results .badge { display: inline-block; font-size: .7rem; font-weight: 700; text-transform: uppercase; border-radius: 5px;
  padding: 1px 6px; margin-right: 6px; }
.upload-results .added .badge, .upload-results .updated .badge { background: #dcfce7; color: #166534; }
.upload-results .unchanged .badge { background: #e5e7eb; color: #374151; }
.upload-results .failed { background: #fef2f2; }
.upload-results .failed .badge { background: #fee2e2; color: #991b1b; }
.upload-results .name { font-weight: 600; overflow-wrap: anywhere; }
#sources, #upload-results, #viewer, #why, .section-head { text-align: left; }
.section-head h3 { margin: 2px 0 2px; font-size: 1.05rem; font-weight: 700; color: #111827; }
.section-head .hint { color: #6b7280; font-size: .85rem; margin: 0 0 4px; }

@media (max-width: 640px) {
  #chat .message-row { padding-left: 4px !important; padding-right: 4px !important; }
  #header .tagline { display: none; }
  #header .pill { margin-left: 0; }
  #chat summary .src { display: none; }
  #viewer .doc-body { max-height: 50vh; }
}
""".replace("SIDEBAR_PX", f"{SIDEBAR_PX}px").replace("NARROW_PX", f"{NARROW_PX}px")

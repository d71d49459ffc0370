"""A calm look: slate greys, one teal accent, system fonts only (no web-font downloads)."""

from __future__ import annotations

FONTS = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "sans-serif",
)
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Noto Sans Mono CJK SC", "monospace")

CSS = """
.gradio-container { max-width: 1240px !important; margin: auto; }
#sa-header h1 { font-size: 1.45rem; font-weight: 600; margin: 0.2rem 0 0; }
#sa-header p { color: var(--body-text-color-subdued); margin: 0.2rem 0 0.4rem; }
.sa-muted, .sa-muted p { color: var(--body-text-color-subdued); font-size: 0.9rem; }
.sa-sources { display: flex; flex-direction: column; gap: 0.5rem; }
.sa-title { font-weight: 600; font-size: 0.95rem; margin-bottom: 0.1rem; }
.sa-note, .sa-empty { color: var(--body-text-color-subdued); font-size: 0.85rem; }
.sa-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
           padding: 0.5rem 0.7rem; background: var(--background-fill-primary); }
.sa-card[open] { border-color: var(--color-accent); }
.sa-card summary { cursor: pointer; list-style: none; }
.sa-card summary::-webkit-details-marker { display: none; }
.sa-head { display: flex; align-items: center; gap: 0.45rem; flex-wrap: wrap; }
.sa-num { font-weight: 600; color: var(--color-accent); }
.sa-section { font-weight: 600; font-size: 0.9rem; flex: 1 1 12rem; }
.sa-doc { color: var(--body-text-color-subdued); font-size: 0.78rem; margin-top: 0.1rem; }
.sa-snippet { font-size: 0.86rem; margin-top: 0.25rem; line-height: 1.45; }
.sa-support { font-size: 0.86rem; margin-top: 0.25rem; line-height: 1.45;
              border-left: 3px solid var(--color-accent); padding-left: 0.4rem; }
.sa-full mark { background: color-mix(in srgb, var(--color-accent) 22%, transparent);
                color: inherit; border-radius: 2px; }
.sa-full { white-space: pre-wrap; font-size: 0.86rem; line-height: 1.5; margin-top: 0.5rem;
           padding-top: 0.5rem; border-top: 1px dashed var(--border-color-primary); }
.sa-bar { display: inline-block; width: 56px; height: 6px; border-radius: 3px;
          background: var(--border-color-primary); overflow: hidden; }
.sa-bar > span { display: block; height: 100%; background: var(--color-accent); }
.sa-score { font-size: 0.78rem; color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; }
.sa-status p { font-size: 0.88rem; }
"""


def build_theme():
    import gradio as gr

    return gr.themes.Soft(
        primary_hue="teal",
        secondary_hue="slate",
        neutral_hue="slate",
        font=[gr.themes.Font(name) for name in FONTS],
        font_mono=[gr.themes.Font(name) for name in MONO_FONTS],
    ).set(
        block_radius="10px",
        button_large_radius="8px",
        block_label_background_fill="*neutral_100",
        block_label_text_color="*neutral_600",
        block_title_background_fill="transparent",
        block_title_text_color="*neutral_700",
    )

"""Chat tab: streamed answers with numbered, expandable citations; layout and wiring only."""

from __future__ import annotations

import gradio as gr

from assistant.backends import available_backends, default_backend

from . import chat_view
from .chat_turns import new_session, run_turn

BACKEND_LABELS = {
    "extractive": "抽取式 Extractive（无模型，最快 no model, fastest）",
    "llamacpp": "本地模型 Local GGUF (llama.cpp)",
    "openai": "OpenAI 兼容接口 OpenAI-compatible",
}
# Answers run in worker threads; the local model serialises its own generations.
CHAT_CONCURRENCY = 4
EXAMPLES = [
    "什么是AI大模型？",
    "AI大模型的挑战是什么？",
    "深度学习的基本算法有哪些？",
    "自然语言处理有哪些应用场景？",
    "计算机视觉常用哪些工具？",
    "What are the future trends of large AI models?",
]
PLACEHOLDER = (
    "### 你好\n向这篇《AI大模型的未来发展趋势与挑战》综述提问，回答会附上编号来源。\n\n"
    "Ask about the survey; every answer cites its numbered sources. "
    "Follow-up questions such as 「它有哪些应用场景？」 are rewritten into standalone ones."
)


def build(assistant) -> None:
    settings = assistant.settings
    backends = available_backends(settings)
    default = default_backend(settings)
    if default not in backends:
        backends.insert(0, default)

    session = gr.State(new_session())
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="对话 Conversation",
                height=520,
                render_markdown=True,
                sanitize_html=True,
                allow_tags=False,
                feedback_options=None,
                buttons=["copy"],
                placeholder=PLACEHOLDER,
                elem_id="sa-chatbot",
            )
            with gr.Row():
                question = gr.Textbox(
                    show_label=False,
                    placeholder="输入问题，回车发送 · Type a question and press Enter",
                    lines=1,
                    max_lines=4,
                    max_length=settings.max_question_chars,
                    scale=5,
                    elem_id="sa-question",
                )
                send = gr.Button("发送 Send", variant="primary", scale=1, elem_id="sa-send")
            details = gr.Markdown(elem_classes="sa-muted", elem_id="sa-details")
            gr.Examples(
                examples=[[q] for q in EXAMPLES],
                inputs=[question],
                label="示例问题 Example questions",
            )
        with gr.Column(scale=2):
            new_chat = gr.Button("新对话 New chat", size="sm", elem_id="sa-new-chat")
            with gr.Accordion("设置 Settings", open=True):
                backend = gr.Dropdown(
                    choices=[(BACKEND_LABELS.get(b, b), b) for b in backends],
                    value=default,
                    label="回答后端 Answering backend",
                    elem_id="sa-backend",
                )
                top_k = gr.Slider(
                    1, 10, value=settings.top_k, step=1, label="检索段落数 Passages (top-k)"
                )
                temperature = gr.Slider(
                    0.0,
                    1.5,
                    value=settings.temperature,
                    step=0.05,
                    label="温度 Temperature",
                    info="仅对模型后端有效 · model backends only",
                    interactive=default != "extractive",
                )
            sources = gr.HTML(
                chat_view.EMPTY_SOURCES, js_on_load=None, elem_id="sa-sources", padding=False
            )

    def ask(text, backend_kind, k, temp, state):
        turn = run_turn(assistant, text, state, llm=backend_kind, top_k=int(k), temperature=temp)
        for step, view in enumerate(turn):
            if view.notice:
                gr.Warning(view.notice)
            yield (
                view.session["messages"],
                view.session,
                gr.skip() if view.sources_html is None else view.sources_html,
                gr.skip() if view.details is None else view.details,
                "" if step == 0 else gr.skip(),  # clear the box once; the user may type on
            )

    def reset():
        fresh = new_session()
        return fresh["messages"], fresh, chat_view.EMPTY_SOURCES, ""

    inputs = [question, backend, top_k, temperature, session]
    outputs = [chatbot, session, sources, details, question]
    send.click(
        ask,
        inputs,
        outputs,
        api_name="ask",
        concurrency_id="chat",
        concurrency_limit=CHAT_CONCURRENCY,
    )
    question.submit(
        ask,
        inputs,
        outputs,
        api_visibility="private",
        concurrency_id="chat",
        concurrency_limit=CHAT_CONCURRENCY,
    )
    new_chat.click(reset, None, [chatbot, session, sources, details], api_name="new_chat")
    # The Chatbot's own trash button clears only what is shown; clear the history with it.
    chatbot.clear(reset, None, [chatbot, session, sources, details], api_visibility="private")
    backend.change(
        lambda kind: gr.update(interactive=kind != "extractive"),
        backend,
        temperature,
        api_visibility="private",
    )

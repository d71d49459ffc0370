"""One real browser through the whole app (style item 9): Chromium driven by Playwright against
`survey-assistant serve` on a free loopback port. A screenshot of every step goes to
test-artifacts/screenshots/. The server's OPENAI_BASE_URL points at a small OpenAI-compatible
server on loopback (streamed chat, PNG images), so every demo runs offline; the local GPT demo
runs SmolLM2 when llama-cpp-python is installed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
from browser_support import ARGS, CHROMIUM, ask, last_bot, wait_finished
from ui_support import SCREENSHOTS, fake_openai_server, indexed_data_dir, start_app_server

pytestmark = [pytest.mark.browser, pytest.mark.integration]
HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None
TIMEOUT = 90_000

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def fake():
    with fake_openai_server(chunk_delay_s=0.12) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake):
    env = {"OPENAI_BASE_URL": fake.base_url}
    if HAS_LLAMA:
        from assistant.backends.packaged_models import packaged_smollm_path

        env["ASSISTANT_LLM_MODEL_PATH"] = str(packaged_smollm_path())
        env["ASSISTANT_LLM_CONTEXT_TOKENS"] = "2048"
    app = start_app_server(indexed_data_dir(tmp_path_factory, "browser"), env=env)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.outside_requests = []
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:"))
                else page.outside_requests.append(r.url)
            ),
        )
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(server.url)
        page.wait_for_selector("#sa-question textarea")
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.wait_for_timeout(300)  # let transitions settle
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_until_stable(page, selector: str, quiet_ms: int = 2000, limit_ms: int = 120_000) -> None:
    """Until a streamed textbox has stopped changing."""
    last, waited = None, 0
    while waited < limit_ms:
        value = page.input_value(selector)
        if value == last:
            return
        last = value
        page.wait_for_timeout(quiet_ms)
        waited += quiet_ms


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=re.compile(name)).first.click()


def choose(page, elem_id: str, option: str) -> None:
    page.click(f"#{elem_id} input")
    page.get_by_role("option", name=re.compile(option)).first.click()


def test_01_page_opens(page):
    assert "Survey Assistant" in page.title()
    assert page.get_by_text("示例问题 Example questions").is_visible()
    shot(page, "01-home")


def test_02_answer_with_citations(page):
    ask(page, "AI大模型的挑战是什么？")
    text = wait_finished(page)
    assert "计算资源" in text and "[1]" in text and "来源 Sources" in text
    card = page.locator("#sa-sources details").first
    assert "附录" in card.inner_text() and "相关度" in card.inner_text()
    assert "ms" in page.inner_text("#sa-details")
    shot(page, "02-answer-with-citations")
    # The sentence the answer quotes is the card's summary and is marked in the full text.
    assert "支撑 Support" in card.inner_text()
    card.locator("summary").click()
    assert card.locator(".sa-full").is_visible()
    marked = card.locator(".sa-full mark")
    quoted = text.split("[1]")[0].strip()  # the answer's first sentence, without its citation
    assert marked.count() >= 1 and quoted in marked.first.inner_text()
    shot(page, "03-citation-expanded")


def test_03_follow_up_is_rewritten(page):
    ask(page, "它有哪些应用场景？")
    text = wait_finished(page)
    assert "改写为 Rewritten as" in text and "AI大模型有哪些应用场景" in text
    shot(page, "04-follow-up-rewritten")


def test_04_streamed_answer_from_a_model_backend(page, fake):
    page.click("#sa-new-chat")
    page.wait_for_function(
        "() => document.querySelectorAll(\"#sa-chatbot [data-testid='bot']\").length === 0"
    )
    choose(page, "sa-backend", "OpenAI")
    ask(page, "深度学习的基本算法有哪些？")
    page.wait_for_function(
        """() => { const b = [...document.querySelectorAll("#sa-chatbot [data-testid='bot']")].pop();
                  return b && b.innerText.includes('▌') && b.innerText.includes('Echo'); }"""
    )
    partial = last_bot(page).inner_text()
    assert "Retrieved passages" in page.inner_text("#sa-sources")
    shot(page, "05-streaming")
    final = wait_finished(page)
    assert len(final) > len(partial.replace("▌", "").strip())
    assert "▌" not in final and "Echo:" in final
    assert page.locator("#sa-sources details").count() >= 1
    assert any(r["path"].endswith("/chat/completions") and r.get("stream") for r in fake.requests)
    choose(page, "sa-backend", "Extractive")


def test_05_upload_a_document_and_ask_about_it(page, tmp_path):
    doc = tmp_path / "zx9-notes.md"
    doc.write_text(
        "# 量子笔记\n\n## 量子退火\n\n### 编译器\n\n"
        "青蛙量子编译器ZX9把组合优化问题编译成伊辛模型，由一个虚构的实验室在2031年发布。"
        '它的标志是![logo](http://evil.example/zx9.png)<img src="http://evil.example/p.png">。\n',
        encoding="utf-8",
    )
    open_tab(page, "文档库")
    page.locator("#sa-upload input[type=file]").set_input_files(str(doc))
    page.wait_for_timeout(500)
    page.click("#sa-index")
    page.wait_for_function(
        "() => document.querySelector('#sa-upload-status')?.innerText.includes('已索引')"
    )
    assert "zx9-notes.md" in page.inner_text("#sa-documents")
    choose(page, "sa-doc", "zx9-notes")
    page.click("#sa-view")
    page.wait_for_selector("#sa-chunks details")
    assert "量子退火 > 编译器" in page.inner_text("#sa-chunks")
    page.fill("#sa-retrieval-query textarea", "青蛙量子编译器ZX9")
    page.click("#sa-retrieval-search")
    page.wait_for_selector("#sa-retrieval details")
    assert "量子退火 > 编译器" in page.locator("#sa-retrieval details").first.inner_text()
    shot(page, "06-upload-indexed")
    open_tab(page, "问答")
    ask(page, "青蛙量子编译器ZX9把什么编译成伊辛模型？")
    text = wait_finished(page)
    assert "伊辛模型" in text and "[1]" in text
    assert "zx9-notes.md" in page.inner_text("#sa-sources")
    page.locator("#sa-sources details summary").first.click()
    assert (
        page.locator("img[src*='evil.example']").count() == 0
    )  # the document's image: never loaded
    shot(page, "07-answer-from-upload")


def test_06_bert_demo(page):
    open_tab(page, "模型演示")
    open_tab(page, "BERT")
    page.click("#sa-bert-run")
    page.wait_for_function(
        "() => document.querySelector('#sa-bert-labels')?.innerText.includes('工具和资源')"
    )
    labels = page.inner_text("#sa-bert-labels")
    assert labels.strip().splitlines()[0].startswith("工具和资源") or "工具和资源" in labels[:40]
    assert "##" in page.inner_text("#sa-bert-pieces")
    shot(page, "08-bert")


def test_07_gpt_demo(page, fake):
    open_tab(page, "GPT")
    engine = "Local" if HAS_LLAMA else "OpenAI"
    page.get_by_label(re.compile(engine)).first.check()
    page.fill("#sa-gpt-prompt textarea", "List three benefits of exercise.")
    page.click("#sa-gpt-run")
    page.wait_for_function(
        "() => (document.querySelector('#sa-gpt-output textarea')?.value || '').trim().length > 10",
        timeout=180_000,
    )
    wait_until_stable(page, "#sa-gpt-output textarea")
    shot(page, "09-gpt")
    output = page.input_value("#sa-gpt-output textarea")
    assert output.strip() and "⚠" not in output


def test_08_dalle_demo(page, fake):
    open_tab(page, "DALL-E")
    page.click("#sa-dalle-run")
    page.wait_for_selector("#sa-dalle-gallery img")
    shot(page, "10-dalle")
    sent = [r for r in fake.requests if r["path"].endswith("/images/generations")]
    assert sent and sent[-1]["response_format"] == "b64_json"


def test_09_evaluation(page, tmp_path):
    pytest.importorskip("assistant.evaluation.runner")
    pairs = tmp_path / "mini_faq.jsonl"
    rows = [
        {
            "id": "a",
            "question": "AI大模型的挑战是什么？",
            "answer": "计算资源的瓶颈、数据的隐私保护",
            "source": "常见问题",
        },
        {
            "id": "b",
            "question": "深度学习的基本算法有哪些？",
            "answer": "前向传播、反向传播、梯度下降",
            "source": "深度学习基础",
        },
        {"id": "c", "question": "怎样做红烧肉？", "answer": "", "expect": "abstain"},
    ]
    pairs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    open_tab(page, "评测")
    page.locator("#sa-eval-file input[type=file]").set_input_files(str(pairs))
    page.wait_for_timeout(500)
    page.click("#sa-eval-run")
    page.wait_for_function(
        "() => document.querySelector('#sa-eval-status')?.innerText.includes('backend')",
        timeout=180_000,
    )
    assert "hit@1" in page.inner_text("#sa-eval-table")
    page.wait_for_selector("#sa-eval-chart img")
    shot(page, "11-evaluation")


def test_10_no_request_left_the_machine(page):
    assert page.outside_requests == []

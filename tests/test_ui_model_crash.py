"""The web app survives its local model: Chromium asks `survey-assistant serve` (answering with
the local model) a question, the model's worker process is killed with SIGSEGV, then SIGKILL,
in the middle of the streamed answer. Each time the page keeps the partial answer marked as cut
off with one clear error under it, and the next question is answered by a restarted model.
Screenshots go to test-artifacts/screenshots/model-crash-*.png.
"""

from __future__ import annotations

import importlib.util
import signal
from pathlib import Path

import pytest
from browser_support import ARGS, CHROMIUM, ask, last_bot, wait_finished
from process_support import model_worker_of
from ui_support import SCREENSHOTS, indexed_data_dir, start_app_server

pytestmark = [pytest.mark.browser, pytest.mark.llm]

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)
if importlib.util.find_spec("llama_cpp") is None:
    pytest.skip("llama-cpp-python is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from assistant.backends.packaged_models import packaged_smollm_path

    env = {
        "ASSISTANT_LLM": "llamacpp",
        "ASSISTANT_LLM_MODEL_PATH": str(packaged_smollm_path()),
        "ASSISTANT_LLM_CONTEXT_TOKENS": "1024",
        "ASSISTANT_CONTEXT_PASSAGES": "1",
        "ASSISTANT_MAX_ANSWER_TOKENS": "384",  # long enough to be killed in the middle
    }
    app = start_app_server(indexed_data_dir(tmp_path_factory, "model-crash"), env=env)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(server.url)
        page.wait_for_selector("#sa-question textarea")
        yield page
        context.close()
        browser.close()


@pytest.mark.parametrize(
    ("sig", "said"),
    [(signal.SIGSEGV, "crashed (SIGSEGV)"), (signal.SIGKILL, "was killed (SIGKILL")],
    ids=["SIGSEGV", "SIGKILL"],
)
def test_a_model_crash_mid_answer_leaves_the_app_answering(page, server, sig, said):
    worker = model_worker_of(server.process.pid)
    page.click("#sa-new-chat")  # no history: the question goes to the model as it is
    page.wait_for_function(
        "() => document.querySelectorAll(\"#sa-chatbot [data-testid='bot']\").length === 0"
    )
    ask(page, "深度学习有哪些基础算法？")
    page.wait_for_function(  # streaming: the cursor after some text
        """() => { const b = [...document.querySelectorAll("#sa-chatbot [data-testid='bot']")].pop();
                  return b && b.innerText.includes('▌') && b.innerText.replace('▌','').trim().length > 3; }"""
    )
    worker.send_signal(sig)
    page.wait_for_function(
        """() => { const b = [...document.querySelectorAll("#sa-chatbot [data-testid='bot']")].pop();
                  return b && b.innerText.includes('Error') && !b.innerText.includes('▌'); }"""
    )
    shown = last_bot(page).inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"model-crash-{sig.name}.png"), full_page=True)
    assert said in shown and "restarted" in shown, shown
    assert "回答中断" in shown and "cut off" in shown  # the partial answer is kept and marked
    assert "Traceback" not in shown
    assert server.process.poll() is None  # the app is up

    ask(page, "PyTorch是谁开发的？")
    text = wait_finished(page)
    page.screenshot(path=str(SCREENSHOTS / f"model-crash-{sig.name}-next.png"), full_page=True)
    assert "Error" not in text and text.strip(), text
    assert model_worker_of(server.process.pid).pid != worker.pid  # answered by a new worker

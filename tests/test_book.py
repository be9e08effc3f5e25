"""Tests of the book's machinery: toc, twins, parameters, Colab cells, tools.

The notebooks' outputs themselves are checked by the book tier (strict nbval, ``pytest -m
book``); a papermill run of a chapter with injected parameters, through book/build.py, by
tests/test_portability.py; the rendering by ``book/ci.sh`` (strict build, then headless
Chromium).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(BOOK))
import bookinfo  # noqa: E402


def _load(name: str):
    """Import a script of book/ under a private name (book/build.py would shadow `build`)."""
    spec = importlib.util.spec_from_file_location(f"book_{name}", BOOK / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab = _load("colab")
build = _load("build")
measure = _load("measure")
check_rendered = _load("check_rendered")
CHAPTERS = bookinfo.chapters()


def _cells(nb):
    return [(cell.cell_type, cell.source.strip(), sorted(cell.metadata.get("tags", [])))
            for cell in nb.cells]


# --- the toc and the twins ---------------------------------------------------------------------

def test_toc_lists_existing_pages_with_intro_first_and_glossary():
    names = bookinfo.toc_docnames()
    assert names[0] == "book/intro"
    assert "book/glossary" in names
    pages = bookinfo.pages()  # raises if an entry is missing or ambiguous
    assert all(page.is_file() and page.parent == BOOK for page in pages)
    assert CHAPTERS, "the toc lists no notebook chapter"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_a_twin_that_agrees(chapter):
    twin = bookinfo.twin_of(chapter)
    assert twin.is_file(), f"{twin} missing: run `jupytext --sync {bookinfo.relative(chapter)}`"
    notebook = _cells(jupytext.read(chapter))
    text = _cells(jupytext.read(twin, fmt="py:percent"))
    assert notebook == text, (f"{bookinfo.relative(chapter)} and its twin disagree: run "
                              f"`jupytext --sync {bookinfo.relative(chapter)}`")


def test_jupytext_pairs_chapters_with_py_percent_twins():
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(BOOK))
    assert config is not None
    assert config.default_formats(str(BOOK / "00_x.ipynb")) == "ipynb,py:percent"


# --- what every chapter notebook must carry ----------------------------------------------------

@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_one_parameters_cell_with_the_default_run(chapter):
    nb = nbformat.read(chapter, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in nb.cells]
    assert sum("parameters" in t for t in tags) == 1
    assert not any("injected-parameters" in t for t in tags), "commit the default run only"
    values = build.parameter_defaults(chapter)
    assert {name: values.get(name) for name in bookinfo.DEFAULT_PARAMETERS} == \
        bookinfo.DEFAULT_PARAMETERS


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_badge_and_install_guard_follow_config(chapter):
    nb = nbformat.read(chapter, as_version=4)
    repo = bookinfo.repository()
    expected_url = (f"https://colab.research.google.com/github/{repo['owner']}/{repo['name']}"
                    f"/blob/{repo['branch']}/book/{chapter.name}")
    assert nb.cells[0].cell_type == "markdown" and f"]({expected_url})" in nb.cells[0].source
    guard = next(cell for cell in nb.cells if cell.cell_type == "code").source
    assert guard.splitlines()[2:4] == ["try:", "    import udml  # noqa: F401"]
    pip = [line for line in guard.splitlines() if "%pip install" in line]
    assert len(pip) == 1 and f"git+{repo['url']}@{repo['branch']}" in pip[0]
    assert "==" not in pip[0], "pin nothing that Colab already ships"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_widgets_need_no_output_widget(chapter):
    # An Output widget (ipywidgets.interactive, interactive_output) makes headless runs hang at
    # random (udml/book/panel.py says why): interactive figures go through
    # udml.book.panel.figure_panel.
    nb = nbformat.read(chapter, as_version=4)
    models = nb.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    assert not [m for m in models.values() if m["model_name"] == "OutputModel"]
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert not re.search(r"\binteractive(_output)?\(|widgets\.Output\(", code)


def test_colab_check_passes_on_the_book():
    assert colab.check() == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_readable_in_one_sitting(chapter):
    counts = measure.measure(chapter)
    assert counts["words"] <= measure.MAX_WORDS, f"{chapter.name}: {counts['words']} words"
    assert counts["tables"] <= measure.MAX_TABLES, f"{chapter.name}: {counts['tables']} tables"
    nb = nbformat.read(chapter, as_version=4)
    for cell in nb.cells:  # every figure numbered (a name to refer to) and captioned
        for block in re.findall(r"```\{glue:figure\}[^\n]*\n(.*?)```", cell.source, re.S):
            assert ":name:" in block, f"{chapter.name}: a figure without :name:"
            caption = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith(":")]
            assert caption, f"{chapter.name}: a figure without a caption"


def test_measure_counts_prose_tables_and_captions():
    text = ("Two words.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n```\n"
            "```{glue:figure} f\n:name: f\n\nA caption here.\n```\n| c |\n")
    prose, tables = measure.split_markdown(text)
    assert measure.words(prose) == 5 and tables == 2
    glued = {"a": "three glued words", "b": "one"}
    text = "See {glue:md}`a` and {glue:md}`b:md`.\n\n```{glue:md} a\n:format: myst\n```\n"
    assert measure.expand_glue(text, glued).split() == [
        "See", "three", "glued", "words", "and", "one.", "three", "glued", "words"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_stores_the_outputs_of_one_top_to_bottom_run(chapter):
    nb = nbformat.read(chapter, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"not executed top to bottom: {counts}"
    outputs = [output for cell in code for output in cell.outputs]
    assert outputs, "no stored outputs"
    assert not [o for o in outputs if o.output_type == "error"]


# --- colab.py on a throw-away book -------------------------------------------------------------

def _tiny_book(root: Path, url: str = "https://github.com/alice/demo", branch: str = "dev") -> Path:
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text(f"repository:\n  url: {url}\n  branch: {branch}\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   "  - file: book/01_demo\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Demo\n\nSome text."),
                nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
    notebook = root / "book" / "01_demo.ipynb"
    nbformat.write(nb, notebook)
    return notebook


def test_colab_fix_writes_badge_and_install_cell_from_config(tmp_path):
    notebook = _tiny_book(tmp_path)
    problems = colab.check(tmp_path)
    assert any("twin" in p for p in problems) and any("badge" in p for p in problems)
    changed = colab.fix(tmp_path)
    assert set(changed) == {notebook, notebook.with_suffix(".py")}
    assert colab.check(tmp_path) == []
    nb = nbformat.read(notebook, as_version=4)
    url = "https://colab.research.google.com/github/alice/demo/blob/dev/book/01_demo.ipynb"
    badge = f"[![Open In Colab]({colab.BADGE_IMAGE})]({url})"
    assert nb.cells[0].source.splitlines()[:3] == ["# Demo", "", badge]
    assert nb.cells[1].source.endswith('%pip install --quiet "udml @ git+https://github.com/alice/demo@dev"')
    assert "parameters" in nb.cells[2].metadata["tags"]
    assert colab.fix(tmp_path) == []  # idempotent


def test_colab_fix_follows_a_changed_address(tmp_path):
    notebook = _tiny_book(tmp_path)
    colab.fix(tmp_path)
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/bob/book.git\n")
    problems = colab.check(tmp_path)
    assert len([p for p in problems if "badge" in p]) == 2  # notebook and twin
    colab.fix(tmp_path)
    assert colab.check(tmp_path) == []
    text = notebook.with_suffix(".py").read_text()
    assert "github/bob/book/blob/main/book/01_demo.ipynb" in text and "alice" not in text


# --- bookinfo's errors -------------------------------------------------------------------------

def test_bookinfo_rejects_missing_ambiguous_and_non_github_entries(tmp_path):
    notebook = _tiny_book(tmp_path)
    notebook.unlink()
    with pytest.raises(FileNotFoundError, match="01_demo"):
        bookinfo.pages(tmp_path)
    (tmp_path / "book" / "01_demo.md").write_text("# a\n")
    (tmp_path / "book" / "01_demo.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="both"):
        bookinfo.pages(tmp_path)
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://gitlab.com/a/b\n")
    with pytest.raises(ValueError, match="github.com/OWNER/NAME"):
        bookinfo.repository(tmp_path)


# --- build.py's functions -----------------------------------------------------------------------

def test_tidy_streams_keeps_the_last_state_of_progress_lines():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="\r 0%| 0/2"),
                    nbformat.v4.new_output("stream", name="stderr", text="\r100%| 2/2\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("x"), cell]
    build.tidy_streams(nb)
    assert [(o.name, o.text) for o in cell.outputs] == [("stderr", "100%| 2/2\n"),
                                                        ("stdout", "done\n")]
    assert "outputs" not in nb.cells[0]


def test_clean_in_place_drops_injected_cell_and_run_metadata():
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": 1.0}
    nb.cells = [nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("a", metadata={"tags": [], "papermill": {}})]
    for count, cell in enumerate(nb.cells, start=1):
        cell.execution_count = count
    nb.cells[2].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"},
                                                  execution_count=3)]
    build.clean_in_place(nb)
    assert [c.source for c in nb.cells] == ["a = 1", "a"]
    assert "papermill" not in nb.metadata and nb.cells[1].metadata == {}
    assert [c.execution_count for c in nb.cells] == [1, 2]
    assert nb.cells[1].outputs[0].execution_count == 2


def test_select_names_unknown_chapters():
    assert build.select(CHAPTERS, None) == CHAPTERS
    assert build.select(CHAPTERS, [CHAPTERS[0].stem]) == [CHAPTERS[0]]
    with pytest.raises(SystemExit, match="no_such_chapter"):
        build.select(CHAPTERS, ["no_such_chapter"])


def test_the_longest_chapter_of_the_last_run_starts_first(tmp_path):
    a, b, c = CHAPTERS[:3]
    timings = tmp_path / "t.json"
    timings.write_text(json.dumps({"chapters": {str(build.bookinfo.relative(a)): {"seconds": 5},
                                                str(build.bookinfo.relative(b)): {"seconds": 50}}}))
    assert build.longest_first([a, b, c], timings) == [c, b, a]  # c has no time: first
    assert build.longest_first([a, b, c], tmp_path / "none.json") == [a, b, c]


def test_build_rejects_negative_seed_and_empty_work(capsys):
    with pytest.raises(SystemExit):
        build.parse_args(["--seed", "-1"])
    with pytest.raises(SystemExit):
        build.parse_args(["--no-execute", "--no-render"])
    assert "leaves nothing to do" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build.parse_args(["--jobs", "0"])
    assert "--jobs must be at least 1" in capsys.readouterr().err


# --- configuration, vendored files, sanitisers -------------------------------------------------

def test_config_renders_stored_outputs_and_points_at_vendored_files():
    config = bookinfo.config()
    assert config["execute"]["execute_notebooks"] == "off"
    assert isinstance(config["execute"]["timeout"], int)
    assert config["only_build_toc_files"] is True
    sphinx = config["sphinx"]["config"]
    static = ROOT / sphinx["html_static_path"][0]
    assert (static / sphinx["mathjax_path"]).is_file()
    assert all((static / path).is_file() for path in sphinx["nb_ipywidgets_js"])
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert "PLACEHOLDER" in (ROOT / "_config.yml").read_text()


def test_vendored_files_match_their_checksums():
    vendor = BOOK / "_vendor"
    lines = (vendor / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, path = line.split(maxsplit=1)
        listed[path] = digest
    present = {path.relative_to(vendor).as_posix()
               for path in (vendor / "static").rglob("*") if path.is_file()}
    assert present == set(listed)
    for path, digest in listed.items():
        assert hashlib.sha256((vendor / path).read_bytes()).hexdigest() == digest, path
    size = sum((vendor / path).stat().st_size for path in listed)
    assert size < 8 * 2**20, f"vendored files grew to {size / 2**20:.1f} MiB"


def _sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns((BOOK / "sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize("text, expected", [
    ("fit: 100%|####| 5/5 [00:01<00:00, 3.21it/s]", "fit: 100%|####| 5/5 [TQDM-TIME]"),
    ("ep 1: 50%|#| 1/2 [01:02<01:02,  1.50s/batch, loss=0.12]", "ep 1: 50%|#| 1/2 [TQDM-TIME]"),
    ("wall time: 0.82 s", "wall time: DURATION"),
    ("| 02_estimator | 41.3 s |", "| 02_estimator | DURATION |"),
    ("<Figure at 0x7f3a2c1d5e10>", "<Figure at 0xADDRESS>"),
    ("accuracy 0.975, 3 samples, level 11", "accuracy 0.975, 3 samples, level 11"),
])
def test_sanitizers_mask_only_what_varies(text, expected):
    assert _sanitize(text) == expected


# --- check_rendered.py's page checks (no browser needed) ---------------------------------------

def test_static_check_flags_code_from_other_hosts():
    html = ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
            '<script src="../_static/require/require.js"></script>'
            '<link rel="stylesheet" href="https://unpkg.com/x.css">'
            '<script src="x.js" data-jupyter-widgets-cdn="https://cdn.jsdelivr.net/npm/"></script>'
            '<figure><img src="../_images/a.png" alt="../_images/a.png"></figure>'
            '<figure><img src="../_images/b.png" alt="Accuracy against the level."></figure>')
    found = check_rendered.check_static(html)
    assert len(found) == 4 and "cdn.jsdelivr.net" in found[0] and "unpkg" in found[1]
    assert found[3] == "figure image described only by its file: ../_images/a.png"


def test_figure_images_get_their_caption_as_alt_text():
    from docutils import nodes
    figure_alt = _load("figure_alt")
    doc = nodes.document(None, None)
    bare, described = nodes.image(uri="a.png"), nodes.image(uri="b.png", alt="kept")
    doc += nodes.figure("", bare, nodes.caption("", "Accuracy against\n the level."))
    doc += nodes.figure("", described, nodes.caption("", "Another."))
    doc += nodes.figure("", nodes.image(uri="c.png"))  # no caption: nothing to say
    figure_alt.caption_as_alt(None, doc, "page")
    assert bare["alt"] == "Accuracy against the level." and described["alt"] == "kept"
    assert "alt" not in list(doc.findall(nodes.image))[2]
    assert bookinfo.config()["sphinx"]["local_extensions"] == {"figure_alt": "book"}


def _dom(body: str, errors=(), images=()) -> str:
    probe = json.dumps({"errors": list(errors), "images": list(images)})
    return f'<html><body>{body}<pre id="{check_rendered.PROBE_ID}">{probe}</pre></body></html>'


def test_dom_check_passes_a_rendered_page_and_counts_it():
    body = ('<div class="cell_output"><img src="../_images/a.png"></div>'
            '<span class="math"><mjx-container></mjx-container></span>'
            '<table><tr><td>1</td></tr></table>'
            '<script type="application/vnd.jupyter.widget-state+json">{}</script>'
            '<div class="widget-subarea"><div class="jupyter-widgets"></div></div>'
            '<script type="application/vnd.jupyter.widget-view+json">{}</script>')
    images = [{"src": "http://127.0.0.1:1/_images/a.png", "loaded": True}]
    found, counts = check_rendered.check_dom(_dom(body, images=images), "http://127.0.0.1:1/book/p.html")
    assert found == []
    assert counts == {"figures": 1, "math": 1, "tables": 1, "widgets": 1}


def test_dom_check_reports_what_did_not_render():
    body = ('<div class="cell_output"><img src="../_images/a.png"></div>'
            '<span class="math">\\(x\\)</span><table><tr><th>h</th></tr></table>'
            '<script type="application/vnd.jupyter.widget-state+json">{}</script>'
            '<script type="application/vnd.jupyter.widget-view+json">{}</script>')
    images = [{"src": "http://127.0.0.1:1/_images/a.png", "loaded": False}]
    errors = ["JavaScript error: boom", f"JavaScript error: Uncaught SyntaxError: "
              f"{check_rendered.KNOWN_ERRORS[0]}"]
    found, _ = check_rendered.check_dom(_dom(body, errors, images), "http://127.0.0.1:1/book/p.html")
    assert found[0] == "JavaScript error: boom" and len(found) == 5
    assert any("not loaded" in f for f in found) and any("not typeset" in f for f in found)
    assert any("no data cells" in f for f in found) and any("0 of 1 widget" in f for f in found)
    assert check_rendered.check_dom("<html><body></body></html>", "x")[0] == [
        "the page did not finish loading (no probe report)"]

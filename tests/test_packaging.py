"""Packaging: the wheel carries the data and loads it outside a checkout; set-up files agree.

The wheel test copies the sources to a temporary folder (so the checkout stays untouched),
builds a wheel there without build isolation (no downloads), installs it with --target into an
empty folder and imports it in a fresh interpreter whose path holds that folder plus the
site-packages of torch and numpy, never the repository.
"""
from __future__ import annotations

import email.parser
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _reuse import licence_ids, licence_of

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSES", "udml", "data",
           "results")
RESULTS = sorted((ROOT / "results").glob("*/*.parquet"))  # the merged results files
TEST_COMMAND = ('python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 -e ".[test]" '
                '&& .venv/bin/python -m pytest --all-tiers')
BOOK_COMMAND = ('python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 -e ".[book]" '
                '&& .venv/bin/python book/build.py')

_missing = [m for m in ("build", "setuptools", "pip") if importlib.util.find_spec(m) is None]
needs_build_tools = pytest.mark.skipif(
    bool(_missing), reason=f"wheel tooling not installed: {_missing} (pip install build)")


def _run(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if _missing:
        pytest.skip(f"wheel tooling not installed: {_missing}")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "runs")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
          str(tmp / "dist"), str(src)], cwd=tmp)
    (built,) = (tmp / "dist").glob("udml-*.whl")
    return built


@needs_build_tools
@pytest.mark.slow
def test_wheel_contains_every_module_and_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"udml/_data/mfeat.npz", "udml/_data/fsdd.npz", "udml/_data/README.md"} <= names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "udml").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert modules - names == set()
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("udml/_data/mfeat.npz")
    assert shipped == (ROOT / "data" / "mfeat.npz").read_bytes()
    results = {f"udml/_results/{p.parent.name}/{p.name}" for p in RESULTS}
    assert results and results <= names
    assert not [n for n in names if "/runs/" in n]


@needs_build_tools
@pytest.mark.slow
def test_installed_wheel_loads_mfeat_outside_the_checkout(wheel, tmp_path):
    import numpy
    import torch

    target = tmp_path / "target"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
          "--disable-pip-version-check", "--target", str(target), str(wheel)], cwd=tmp_path)
    # torch, numpy and their own dependencies live in these site-packages folders
    site = {str(Path(m.__file__).resolve().parents[1]) for m in (torch, numpy)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), *sorted(site)])
    code = (
        "import json, sys, udml\n"
        "from udml.data import load_mfeat\n"
        "from udml.data.files import find_data_file\n"
        "from udml.corrupt.scales import default_specs\n"
        "from udml.analysis.comparisons import find_results, load_experiment\n"
        "s = load_mfeat()\n"
        "scales = {k: v.scale for k, v in default_specs(s).items()}\n"
        "print(json.dumps({'module': udml.__file__, 'data': str(find_data_file('mfeat.npz')),\n"
        "                  'sizes': s.info['sizes'], 'shapes': s.shapes, 'path': sys.path,\n"
        "                  'scales': scales, 'results': str(find_results()),\n"
        "                  'main': sorted(load_experiment(find_results() / 'main'))}))\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -S: no site processing, so no .pth file (an editable install) can add the checkout
    out = _run([sys.executable, "-S", "-c", code], cwd=elsewhere, env=env)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(report["module"]).resolve().is_relative_to(target.resolve())
    assert Path(report["data"]).resolve() == (target / "udml" / "_data" / "mfeat.npz").resolve()
    assert report["sizes"] == {"train": 1300, "val": 300, "test": 400}
    assert report["shapes"] == {"fou": [76], "pix": [1, 16, 15]}
    assert set(report["scales"]) == {"fou", "pix"}  # the calibration file ships in the wheel
    # the experiments chapter finds the committed results files in the installed wheel
    assert Path(report["results"]).resolve() == (target / "udml" / "_results").resolve()
    assert report["main"] == sorted(p.stem for p in RESULTS if p.parent.name == "main")
    assert not any(p and Path(p).resolve() == ROOT for p in report["path"])


@needs_build_tools
@pytest.mark.slow
def test_wheel_states_its_licence_and_carries_the_texts(wheel):
    expression = _pyproject()["project"]["license"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.parser.Parser().parsestr(archive.read(metadata).decode("utf-8"))
        texts = {n.rsplit("/", 1)[-1]: archive.read(n) for n in names
                 if ".dist-info/licenses/LICENSES/" in n}
        data_note = archive.read("udml/_data/README.md").decode("utf-8")
    assert meta["License-Expression"] == expression
    assert sorted(meta.get_all("License-File")) == sorted(f"LICENSES/{n}" for n in texts)
    assert set(texts) == {f"{i}.txt" for i in licence_ids(expression)}
    for name, text in texts.items():
        assert text == (ROOT / "LICENSES" / name).read_bytes()
    # the data's own licence and whom to credit travel with the data
    assert "Creative Commons Attribution 4.0 International (CC BY 4.0)" in data_note
    assert "van Breukelen" in data_note


def _repository_path(name: str) -> str:
    """The repository file a wheel member was built from (setup.py copies data/ and results/)."""
    for inside, outside in (("udml/_data/", "data/"), ("udml/_results/", "results/")):
        if name.startswith(inside):
            return outside + name.removeprefix(inside)
    return name


@needs_build_tools
@pytest.mark.slow
def test_licence_expression_covers_every_file_the_wheel_ships(wheel):
    members = [n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n]
    sources = {n: _repository_path(n) for n in members}
    assert "data/mfeat.npz" in sources.values()
    unknown = [s for s in sources.values() if licence_of(s) is None]
    assert unknown == [], "REUSE.toml gives these shipped files no licence"
    needed = set().union(*(licence_ids(licence_of(s)) for s in sources.values()))
    assert needed == licence_ids(_pyproject()["project"]["license"])


# ---------------------------------------------------------------- set-up files agree

def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_runtime_dependencies_do_not_pin_torch():
    deps = _pyproject()["project"]["dependencies"]
    torch_req = [d for d in deps if d.startswith("torch")]
    assert torch_req == ["torch>=2.2"]
    assert not any("==" in d for d in deps)


def test_extras():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert "jupyter-book==1.0.4.post1" in extras["book"]
    assert "udml[book]" in extras["test"]
    assert "udml[dask]" in extras["test"] and "udml[dask]" in extras["cluster"]  # the cluster test
    assert extras["dask"][0].startswith("dask[distributed]")
    assert {"pytest", "nbval", "build"} <= {d.split(">")[0].split("=")[0] for d in extras["test"]}


def test_readme_states_both_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert TEST_COMMAND in readme and BOOK_COMMAND in readme
    assert "book/images/readme.png" in readme


def test_readme_torchrun_command_parses():
    """The multi-node command of "Running at scale" is one that udml.av.distributed accepts."""
    from udml.av.distributed import parse_args
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Running at scale"):readme.index("## Data")]
    start = section.index("    torchrun ")
    command = section[start:section.index("\n\n", start)].replace("\\\n", " ").split()
    assert command[command.index("--nnodes") + 1] == "2" and "--max-restarts" in command
    args = parse_args(command[command.index("udml.av.distributed") + 1:])
    assert args.dataset == "cremad" and args.profile == "paper" and args.out == "runs/ddp"


def test_ci_runs_the_readme_test_command():
    ci = ROOT / ".ci" / "run"
    assert ci.stat().st_mode & stat.S_IXUSR, ".ci/run must be executable"
    text = ci.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    lines = [line.strip() for line in text.splitlines()]
    assert " && ".join(lines[i] for i in range(len(lines)) if lines[i].startswith(
        ("python3 -m venv", ".venv/bin/pip install", ".venv/bin/python -m pytest"))) == TEST_COMMAND


def test_environment_yml_reuses_pyproject():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    entries = [line.strip() for line in text.splitlines()
               if line.strip().startswith("- ") and not line.strip().startswith("#")]
    assert entries == ["- conda-forge", "- python=3.11", "- pip", "- pip:", "- -e .[book,test]"]

#!/usr/bin/env python
"""Execute every chapter of the book with papermill, then render it with Jupyter Book 1.

    python book/build.py                     # the default CPU run, executed into _build, rendered
    python book/build.py --strict            # the same, rendering with warnings as errors
    python book/build.py --device cuda --profile gpu          # a GPU run, into _build/runs/...
    python book/build.py --chapters 02_estimator --no-render  # execute one chapter only
    python book/build.py --no-execute --strict                # render the stored outputs only
    python book/build.py --refresh           # maintainers: rewrite the committed outputs
    python book/build.py --jobs 1            # one chapter at a time (default: one per core)

Chapters are the notebooks listed in ``_toc.yml``. Each one is executed by papermill with the
parameters ``device``, ``seed`` and ``profile`` injected after its ``parameters`` cell, and its
wall time is recorded in ``book/_timings.json`` of the folder that holds the executed copies.
The chapters are independent and each runs torch on one thread on the CPU, so ``--jobs``
chapters (default: one per core) run at once, each in its own process, the longest of the last
run first; their outputs do not depend on it.

Where the executed notebooks go: a run never modifies the tracked files of the checkout.
``_config.yml``, ``_toc.yml`` and ``book/`` are copied to ``--out`` (default
``_build/runs/<profile>-<device>-seed<N>``), executed and rendered there; the HTML of the default
CPU run lands in ``_build/html`` of the checkout, that of any other run in ``<out>/_build/html``.

The committed notebooks carry the outputs of the default CPU run (default seed and profile,
device resolving to the CPU), which strict nbval compares with a fresh run. ``--refresh`` is
the maintainers' way to regenerate them: it writes that run in place, without the
injected-parameters cell or papermill's run metadata (so that a notebook stays equal to its
twin), and updates ``book/_timings.json``.

Rendering runs ``jupyter-book build`` with execution off (``-W -n --keep-going --all`` with
``--strict``). Exit status 1 when a chapter or the build fails; a failed chapter is named with
the path of its partial output.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookinfo  # noqa: E402

ROOT = bookinfo.ROOT
TIMINGS = "book/_timings.json"
COPY_IGNORE = shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__", ".pytest_cache")


class ChapterFailed(RuntimeError):
    """A chapter raised, timed out or lost its kernel; the message names it and its output."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = bookinfo.DEFAULT_PARAMETERS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--device", choices=bookinfo.DEVICES, default=defaults["device"],
                        help="device parameter given to every chapter (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults["seed"],
                        help="seed parameter (default: %(default)s)")
    parser.add_argument("--profile", default=defaults["profile"],
                        help="run profile parameter: tiny, default, gpu (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the executed copies and their build (default: "
                             "_build/runs/<profile>-<device>-seed<N>)")
    parser.add_argument("--refresh", action="store_true",
                        help="maintainers: write the default CPU run into the committed "
                             "notebooks and book/_timings.json")
    parser.add_argument("--chapters", nargs="+", default=None, metavar="NAME",
                        help="execute only these chapters (stem like 02_estimator, or path)")
    parser.add_argument("--kernel", default=None, help="Jupyter kernel (default: the notebook's)")
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds per cell (default: execute.timeout of _config.yml)")
    parser.add_argument("--no-execute", action="store_true", help="render the stored outputs only")
    parser.add_argument("--no-render", action="store_true", help="execute only, do not build HTML")
    parser.add_argument("--strict", action="store_true",
                        help="build with -W -n --keep-going --all (warnings are errors)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="chapters executed at once, each in its own process (default: the "
                             "number of cores, %(default)s here)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.seed < 0:
        parser.error(f"--seed must be non-negative, got {args.seed}")
    if args.no_execute and args.no_render:
        parser.error("--no-execute with --no-render leaves nothing to do")
    if args.refresh and (args.out is not None or args.no_execute):
        parser.error("--refresh writes the committed notebooks; it takes no --out and "
                     "needs execution")
    return args


def resolve_device(device: str) -> str:
    """'auto' becomes what the chapters will pick: cuda when torch sees a GPU, else cpu."""
    if device == "cpu":
        return device
    import torch  # imported only here: it takes a moment

    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda, but torch sees no CUDA device")
    return "cuda" if torch.cuda.is_available() else "cpu"


def select(chapters: list[Path], wanted: list[str] | None) -> list[Path]:
    """The chapters named on the command line, in toc order; unknown names are an error."""
    if not wanted:
        return chapters
    by_name = {}
    for path in chapters:
        for key in (path.stem, path.name, bookinfo.relative(path)):
            by_name[key] = path
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise SystemExit(f"error: unknown chapter(s) {unknown}; _toc.yml lists "
                         f"{[path.stem for path in chapters]}")
    chosen = {by_name[name] for name in wanted}
    return [path for path in chapters if path in chosen]


def parameter_defaults(notebook: Path) -> dict:
    """The values the notebook's `parameters` cell assigns (literals only)."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ChapterFailed(f"{bookinfo.relative(notebook)}: needs exactly one cell tagged "
                            f"`parameters`, found {len(cells)}")
    values = {}
    for node in ast.parse(cells[0].source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            values[targets[0].id] = ast.literal_eval(node.value)
    return values


def tidy_streams(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Merge consecutive stream outputs and keep only the last state of each rewritten line.

    Progress bars redraw their line with carriage returns, in many small outputs; stored as
    they come they show every intermediate state. This keeps what a terminal would show.
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for output in cell.get("outputs", []):
            if (output.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == output.name):
                merged[-1].text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1]
                                        for line in output.text.split("\n"))
        cell["outputs"] = merged
    return nb


def clean_in_place(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop the injected-parameters cell and per-run metadata from a default-run notebook.

    The injected cell assigned the defaults that the parameters cell assigns already, so the
    notebook without it (execution counts renumbered) is the plain top-to-bottom run.
    """
    nb.cells = [cell for cell in nb.cells
                if "injected-parameters" not in cell.metadata.get("tags", [])]
    nb.metadata.pop("papermill", None)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.execution_count is not None:
            count += 1  # renumber: the dropped cell set the values the parameters cell sets
            cell.execution_count = count
            for output in cell.outputs:
                if output.output_type == "execute_result":
                    output.execution_count = count
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:  # papermill adds empty tag lists everywhere
            del cell.metadata["tags"]
    return nb


def execute(source: Path, target: Path, partial: Path, parameters: dict, kernel: str | None,
            timeout: int | None, in_place: bool) -> float:
    """Run one chapter with papermill; return its wall time in seconds."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    partial.parent.mkdir(parents=True, exist_ok=True)
    name = bookinfo.relative(source) if source.is_relative_to(ROOT) else str(source)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source), str(partial), parameters=parameters, kernel_name=kernel,
            cwd=str(target.parent), progress_bar=sys.stderr.isatty(), execution_timeout=timeout)
    except PapermillExecutionError as error:
        raise ChapterFailed(f"chapter {name} failed in cell [{error.exec_count}] with "
                            f"{error.ename}: {error.evalue}\n  partial output: {partial}") from None
    except Exception as error:  # kernel died, cell timeout, missing kernel, ...
        raise ChapterFailed(f"chapter {name} failed: {type(error).__name__}: {error}\n"
                            f"  partial output: {partial}") from None
    seconds = time.perf_counter() - started
    nb = tidy_streams(nbformat.read(partial, as_version=4))
    nbformat.write(clean_in_place(nb) if in_place else nb, target)
    if partial != target:
        partial.unlink()
    return seconds


def longest_first(chapters: list[Path], timings: Path) -> list[Path]:
    """``chapters`` ordered by their time in the last run (longest first, unknown ones first),
    so that running several at once ends soonest; ties keep the book's order."""
    try:
        seconds = json.loads(timings.read_text(encoding="utf-8"))["chapters"]
    except (OSError, ValueError, KeyError, TypeError):
        seconds = {}
    last = {p: seconds.get(str(bookinfo.relative(p)), {}).get("seconds", float("inf"))
            for p in chapters}
    return sorted(chapters, key=lambda p: -last[p])


def run_chapter(*args) -> tuple[float | None, str | None]:
    """`execute` in a worker process: (seconds, None), or (None, the failure's message); the
    failure travels as text, not as an exception of this script's class."""
    try:
        return execute(*args), None
    except ChapterFailed as error:
        return None, str(error)


def write_timings(path: Path, results: dict[str, dict], render_seconds: float | None,
                  run: dict | None = None) -> None:
    """Merge this run's chapter times into the timings file (other chapters' entries stay,
    entries of chapters no longer in the toc go); ``run``: the run's wall time of execution and
    its --jobs."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data.setdefault("chapters", {}).update(results)
    if path.resolve() == (ROOT / TIMINGS).resolve():
        listed = {str(bookinfo.relative(p)) for p in bookinfo.chapters()}
        data["chapters"] = {k: v for k, v in data["chapters"].items() if k in listed}
    data["machine"] = {"system": f"{platform.system()} {platform.machine()}",
                       "cpus": os.cpu_count(), "python": platform.python_version()}
    if render_seconds is not None:
        data["render_seconds"] = round(render_seconds, 2)
    if run is not None:
        data["last_run"] = {"chapters": len(results), **run}
    data["chapters"] = dict(sorted(data["chapters"].items()))
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def render(root: Path, strict: bool, path_output: Path) -> float:
    """Build the HTML of the book at `root` into `path_output`/_build/html with Jupyter Book
    (no execution); return seconds."""
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
               "build", str(root), "--builder", "html", "--path-output", str(path_output)]
    if strict:
        command += ["-W", "-n", "--keep-going", "--all"]
    print(f"rendering: jupyter-book build {root}{' -W -n --keep-going --all' if strict else ''}",
          flush=True)
    started = time.perf_counter()
    if subprocess.run(command, cwd=root).returncode != 0:
        raise ChapterFailed(f"jupyter-book build failed for {root} (see the messages above)")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = resolve_device(args.device)
    defaults = bookinfo.DEFAULT_PARAMETERS
    default_run = (device == "cpu" and args.seed == defaults["seed"]
                   and args.profile == defaults["profile"])
    if args.refresh and not default_run:
        print("error: the committed notebooks carry the default CPU run only (default seed and "
              "profile, on the CPU); --refresh refuses any other run", file=sys.stderr)
        return 1
    run_name = f"{args.profile}-{device}-seed{args.seed}"
    out = args.out.resolve() if args.out else ROOT / "_build" / "runs" / run_name
    # --no-execute renders what is stored: the checkout's notebooks, or a run folder's (--out)
    in_place = args.refresh or (args.no_execute and args.out is None)
    root = ROOT if in_place else out
    if args.out is not None and out == ROOT:
        print("error: --out names the checkout itself; rewriting the committed notebooks is "
              "--refresh", file=sys.stderr)
        return 1
    # the HTML of the reader's default run lands where the README says: _build/html
    html_base = ROOT if (default_run and args.out is None) else root
    # the kernels import this checkout's udml, whether or not it is installed
    paths = [str(ROOT), os.environ.get("PYTHONPATH")]
    os.environ["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)

    try:
        chapters = select(bookinfo.chapters(ROOT), args.chapters)
        if not in_place and not args.no_execute:
            root.mkdir(parents=True, exist_ok=True)
            for name in ("_config.yml", "_toc.yml"):
                shutil.copy2(ROOT / name, root / name)
            shutil.copytree(ROOT / "book", root / "book", ignore=COPY_IGNORE, dirs_exist_ok=True)
            (root / TIMINGS).unlink(missing_ok=True)  # times of this run only
        timeout = args.timeout or int(bookinfo.config(ROOT).get("execute", {}).get("timeout", 900))
        parameters = {"device": args.device, "seed": args.seed, "profile": args.profile}
        results, failures = {}, []
        if not args.no_execute:
            print(f"executing {len(chapters)} chapter(s) with {parameters} (device: {device}) "
                  f"{'in place' if in_place else 'into ' + str(root)}", flush=True)
        todo = [] if args.no_execute else longest_first(chapters, ROOT / TIMINGS)
        for chapter in todo:
            missing = set(defaults) - set(parameter_defaults(chapter))
            if missing:
                raise ChapterFailed(f"{bookinfo.relative(chapter)}: its parameters cell does "
                                    f"not define {sorted(missing)}")
        context = get_context("spawn")  # a fresh interpreter per worker: no state of this one
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, len(todo))),
                                 mp_context=context) as pool:
            running = {}
            for number, chapter in enumerate(todo, start=1):
                name = bookinfo.relative(chapter)
                target = root / name
                partial = (ROOT / "_build" / "partial" / chapter.name) if in_place else target
                running[pool.submit(run_chapter, target, target, partial, parameters, args.kernel,
                                    timeout, in_place)] = (name, f"[{number}/{len(todo)}] {name}")
                print(f"[{number}/{len(todo)}] {name}: queued", flush=True)
            for future in as_completed(running):
                name, step = running[future]
                seconds, error = future.result()
                if error is not None:
                    print(f"{step}: FAILED", flush=True)
                    print(f"error: {error}", file=sys.stderr, flush=True)
                    failures.append(name)
                    results[name] = {"status": "failed", **parameters, "device": device}
                    continue
                print(f"{step}: ok, {seconds:.1f} s", flush=True)
                results[name] = {"status": "ok", "seconds": round(seconds, 2), **parameters,
                                 "device": device}
        run = {"jobs": min(args.jobs, len(todo)), "execute_seconds": round(time.perf_counter() - started, 2)}
        if failures:
            write_timings(root / TIMINGS, results, None)
            print(f"error: {len(failures)} chapter(s) failed: {', '.join(failures)}; "
                  f"not rendering", file=sys.stderr)
            return 1
        render_seconds = None if args.no_render else render(root, args.strict, html_base)
        if results:
            write_timings(root / TIMINGS, results, render_seconds, run)
    except ChapterFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    total = sum(entry.get("seconds", 0) for entry in results.values())
    if results:
        print(f"executed {len(results)} chapter(s) in {run['execute_seconds']:.1f} s with "
              f"{run['jobs']} at once ({total:.1f} s of chapter time); times in "
              f"{root / TIMINGS}")
    if render_seconds is not None:
        print(f"rendered in {render_seconds:.1f} s: "
              f"{html_base / '_build' / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

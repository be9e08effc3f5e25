"""Command line.

    python -m udml train ...    train and evaluate one method on a shipped dataset, write a results
                                file (the layout of a sweep's run file, less its "job" entry);
                                run again after an interruption, it resumes from the last epoch
    python -m udml sweep NAME   run a registered experiment (udml.experiments.registry) in parallel
                                processes, or on a Dask cluster (--scheduler ADDRESS)
    python -m udml bound        train the bound: a regressor of the noise level on each modality's
                                corrupted input (udml.experiments.bound)
    python -m udml bench        print the speed ratios; bench job: where one sweep job's time goes
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from .config import ALL_METHODS, ModelConfig, TrainConfig, config_to_dict
from .logs import cli_logging
from .numerics import pin_cpu_numerics


def _parse_overrides(pairs: list[str]) -> tuple[dict, dict]:
    """``key=value`` pairs (values read as Python literals), routed to ModelConfig or TrainConfig
    by field name; ``progress`` is also accepted here, on top of what an experiment may set."""
    from .experiments.registry import split_overrides
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        key, raw = pair.split("=", 1)
        try:
            values[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            values[key] = raw
    progress = {"progress": values.pop("progress")} if "progress" in values else {}
    try:
        model, train = split_overrides(values)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    return model, {**train, **progress}


def run_one(dataset: str, method: str, seed: int, model_over: dict, train_over: dict,
            protocols: list[str] | None = None, state: str | Path | None = None):
    """Train and evaluate one (dataset, method, seed) as a sweep's job is, on the test split and
    the seen noise kind only, saving and resuming its training state at ``state``
    (`udml.experiments.single.run`); return the `Run` (record and trained model)."""
    from .experiments.single import run
    config = {"model": config_to_dict(ModelConfig(method=method, **model_over)),
              "train": config_to_dict(TrainConfig(seed=seed, **train_over))}
    return run(dataset, config, seed, protocols, state=state)


def state_file(out: str | Path) -> Path:
    """Where ``train --out OUT`` keeps its training state between epochs: beside OUT, as
    ``<OUT's stem>.state.pt``; removed once the results (and checkpoint) are written."""
    out = Path(out)
    return out.with_name(f"{out.stem}.state.pt")


# Room ``train`` needs on the disk of --out and of --checkpoint: the results file (measured: up to
# 40 kB) and the training state twice over while it is replaced (measured: up to 3.6 MB, for
# mfeat-all's UDML; a checkpoint, without the optimiser's state, is smaller); with a margin.
TRAIN_BYTES = 8 * 2 ** 20


def _preflight(args, model_over: dict, train_over: dict) -> None:
    """Everything a ``train`` run could fail on after training, checked before it starts: the
    settings, the protocols (against the dataset's modalities and L) and the output paths (each
    writable, with room)."""
    from .data import load_dataset
    from .paths import check_output_path
    from .corrupt.protocols import check_protocols
    mcfg = ModelConfig(method=args.method, **model_over)
    TrainConfig(seed=args.seed, **train_over)
    if args.protocols:
        check_protocols(args.protocols, load_dataset(args.dataset, seed=args.seed).modalities,
                        mcfg.num_levels)
    check_output_path(args.out, "--out", args.overwrite, TRAIN_BYTES)
    check_output_path(state_file(args.out), "the training state beside --out", True, TRAIN_BYTES)
    if args.checkpoint:
        check_output_path(args.checkpoint, "--checkpoint", args.overwrite, TRAIN_BYTES)
        named = {Path(p).resolve() for p in (args.out, state_file(args.out))}
        if Path(args.checkpoint).resolve() in named:
            raise ValueError("--checkpoint names the same file as --out or its training state "
                             f"{state_file(args.out)}")


def _state_kept(path: Path) -> str:
    """What the training state at ``path`` holds, in words, for a message about what is kept."""
    from .training.state import read_state
    if not path.is_file():
        return "no training state was saved yet"
    try:
        state = read_state(path)
    except ValueError:
        return f"the training state {path} is unreadable"
    return f"the training state after epoch {state['epoch'] + 1} is kept in {path}"


def _train(args, model_over: dict, train_over: dict) -> int:
    """The ``train`` command after its checks: train (resuming from the state file), write the
    results, then the checkpoint; one line on Ctrl-C or a failing write, saying what is kept."""
    from .experiments.files import write_results
    from .experiments.jobs import SEEN_KIND
    from .training.checkpoint import save_checkpoint
    state = state_file(args.out)
    if args.no_resume:
        state.unlink(missing_ok=True)
    again = "; run the same command again to resume"
    try:
        done = run_one(args.dataset, args.method, args.seed, model_over, train_over,
                       args.protocols, state)
    except KeyboardInterrupt:
        print(f"udml train: interrupted; {_state_kept(state)}{again}", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"udml train: {e}; {_state_kept(state)}{again}", file=sys.stderr)
        return 1
    try:
        path = write_results(args.out, done.record)
    except OSError as e:
        print(f"udml train: results not written: {e}; {_state_kept(state)}; run the same "
              "command again to evaluate without retraining", file=sys.stderr)
        return 1
    if args.checkpoint:
        try:
            save_checkpoint(args.checkpoint, done.model, done.shapes, done.train_config)
        except OSError as e:
            print(f"udml train: wrote the results {path}; checkpoint not written: {e}; "
                  f"{_state_kept(state)}; run the same command with --overwrite to write both "
                  "without retraining", file=sys.stderr)
            return 1
    state.unlink(missing_ok=True)
    clean = done.record["metrics"][SEEN_KIND]["protocols"].get("clean", {})
    print(f"{args.method} on {args.dataset} (seed {args.seed}): clean test accuracy "
          f"{clean.get('accuracy', float('nan')):.4f}; wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    pin_cpu_numerics()  # before any torch work: the book's bits on any x86-64 CPU
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "sweep":
        from .experiments.runner import main as sweep_main
        return sweep_main(argv[1:])
    if argv and argv[0] == "bound":
        from .experiments.bound import main as bound_main
        return bound_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m udml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train and evaluate one method, write a results file")
    t.add_argument("--dataset", default="mfeat", help="mfeat | mfeat-all | synthetic")
    t.add_argument("--method", default="udml", choices=ALL_METHODS)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--set", nargs="*", action="extend", default=[], metavar="KEY=VALUE",
                   help="override any ModelConfig / TrainConfig field, e.g. epochs=30 gamma=0")
    t.add_argument("--protocols", nargs="*", default=None,
                   help="evaluation protocols (default: clean, one:<m>@<l>, all@<l>, random)")
    t.add_argument("--checkpoint", default=None, help="also save the trained model here (after "
                   "the results)")
    t.add_argument("--out", required=True, help="results file to write; the training state is "
                   "kept beside it after every epoch (<stem>.state.pt), so that the same command "
                   "resumes an interrupted run")
    t.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out / --checkpoint file (refused otherwise)")
    t.add_argument("--no-resume", action="store_true",
                   help="start afresh: delete the training state of an interrupted run")
    sub.add_parser("sweep", help="run a registered experiment (see python -m udml sweep --help)")
    sub.add_parser("bound", help="train the bound of the estimator (python -m udml bound --help)")
    b = sub.add_parser("bench", help="print the speed ratios (training step, corruption); "
                       "bench job: where the time of one sweep job goes (bench job --help)")
    b.add_argument("what", nargs="?", choices=["job"], help="job: benchmark one sweep job")
    b.add_argument("options", nargs=argparse.REMAINDER, help="options of bench job")
    args = parser.parse_args(argv)

    if args.command == "bench" and args.what == "job":
        from .bench.job import main as bench_job_main
        return bench_job_main(args.options)
    if args.command == "bench":
        from .bench.step import main as bench_main
        return bench_main()
    model_over, train_over = _parse_overrides(args.set)
    try:
        _preflight(args, model_over, train_over)
    except (ValueError, TypeError, OSError) as e:
        parser.error(str(e))
    with cli_logging():
        return _train(args, model_over, train_over)

"""Command line.

    python -m udml train ...    train and evaluate one method on a shipped dataset, write a results
                                file (the layout of a sweep's run file, less its "job" entry)
    python -m udml sweep NAME   run a registered experiment (udml.experiments.registry) in parallel
                                processes, or on a Dask cluster (--scheduler ADDRESS)
    python -m udml bound        train the bound: a regressor of the noise level on each modality's
                                corrupted input (udml.experiments.bound)
    python -m udml bench        print the speed ratios
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from .config import METHODS, ModelConfig, TrainConfig, config_to_dict
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
            protocols: list[str] | None = None, checkpoint: str | None = None) -> dict:
    """Train and evaluate one (dataset, method, seed) as a sweep's job is, on the test split and
    the seen noise kind only (`udml.experiments.single.train_and_evaluate`); return the record."""
    from .experiments.single import train_and_evaluate
    config = {"model": config_to_dict(ModelConfig(method=method, **model_over)),
              "train": config_to_dict(TrainConfig(seed=seed, **train_over))}
    return train_and_evaluate(dataset, config, seed, protocols, checkpoint=checkpoint)


def _preflight(args, model_over: dict, train_over: dict) -> None:
    """Everything a ``train`` run could fail on after training, checked before it starts: the
    settings, the protocols (against the dataset's modalities and L) and the output paths."""
    from .data import load_dataset
    from .paths import check_output_path
    from .corrupt.protocols import check_protocols
    mcfg = ModelConfig(method=args.method, **model_over)
    TrainConfig(seed=args.seed, **train_over)
    if args.protocols:
        check_protocols(args.protocols, load_dataset(args.dataset, seed=args.seed).modalities,
                        mcfg.num_levels)
    check_output_path(args.out, "--out", args.overwrite)
    if args.checkpoint:
        check_output_path(args.checkpoint, "--checkpoint", args.overwrite)
        if Path(args.checkpoint).resolve() == Path(args.out).resolve():
            raise ValueError("--checkpoint and --out name the same file")


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
    t.add_argument("--method", default="udml", choices=METHODS)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--set", nargs="*", action="extend", default=[], metavar="KEY=VALUE",
                   help="override any ModelConfig / TrainConfig field, e.g. epochs=30 gamma=0")
    t.add_argument("--protocols", nargs="*", default=None,
                   help="evaluation protocols (default: clean, one:<m>@<l>, all@<l>, random)")
    t.add_argument("--checkpoint", default=None, help="also save the trained model here")
    t.add_argument("--out", required=True, help="results JSON to write")
    t.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out / --checkpoint file (refused otherwise)")
    sub.add_parser("sweep", help="run a registered experiment (see python -m udml sweep --help)")
    sub.add_parser("bound", help="train the bound of the estimator (python -m udml bound --help)")
    sub.add_parser("bench", help="print the speed ratios (training step, corruption)")
    args = parser.parse_args(argv)

    if args.command == "bench":
        from .bench.step import main as bench_main
        return bench_main()
    from .experiments.files import write_results
    from .experiments.jobs import SEEN_KIND
    model_over, train_over = _parse_overrides(args.set)
    try:
        _preflight(args, model_over, train_over)
    except (ValueError, TypeError, OSError) as e:
        parser.error(str(e))
    record = run_one(args.dataset, args.method, args.seed, model_over, train_over,
                     args.protocols, args.checkpoint)
    path = write_results(args.out, record)
    clean = record["metrics"][SEEN_KIND]["protocols"].get("clean", {})
    print(f"{args.method} on {args.dataset} (seed {args.seed}): clean test accuracy "
          f"{clean.get('accuracy', float('nan')):.4f}; wrote {path}")
    return 0

"""The jobs of an experiment: one (dataset, variant, method, seed) each, where its run file lives,
and how a run file is read back and checked against its job.

    make_jobs(get_experiment("main"))     [Job, ...] (seeds outside methods)
    load_run(job, job.path("results"))   the run's rows and record, or a clear error if corrupt
                                         or stale
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import RECORDED, as_read_today
from .files import Results, read_results
from .registry import Experiment, slug

SEEN_KIND = "gaussian"  # the corruption kind seen in training and of the main protocols; the
#                         experiment's unseen_kinds are evaluated after training only


@dataclass(frozen=True)
class Job:
    """One cell of an experiment's grid, with everything a worker needs (picklable)."""

    experiment: str
    dataset: str
    variant: str
    method: str
    seed: int
    config: dict = field(compare=False)  # {"model": ..., "train": ...}, resolved by the experiment
    protocols: tuple | None = None
    unseen_kinds: tuple = ()
    split: str = "test"  # the split the job is evaluated on

    def path(self, out_dir: str | Path) -> Path:
        return (Path(out_dir) / self.experiment / "runs" / self.dataset / slug(self.variant)
                / f"{self.method}-seed{self.seed}.parquet")

    def describe(self) -> dict:
        """What identifies the job in its run file (compared on resume)."""
        return {"experiment": self.experiment, "dataset": self.dataset, "variant": self.variant,
                "method": self.method, "seed": self.seed,
                "protocols": list(self.protocols) if self.protocols is not None else None,
                "unseen_kinds": list(self.unseen_kinds), "split": self.split}


def make_jobs(exp: Experiment) -> list[Job]:
    """Every (dataset, variant, seed, method) of ``exp``; seeds outside methods, so that a partial
    sweep has every method for its first seeds."""
    return [Job(exp.name, d, v, m, s, exp.resolve(v, m, s), exp.protocols, exp.unseen_kinds,
                exp.split)
            for d in exp.datasets for v in exp.variants for s in exp.seeds for m in exp.methods]


def unseen_protocols(modalities, num_levels: int) -> list[str]:
    """The protocols of the unseen kinds: each modality alone at the top and the middle level,
    all modalities at the top level, and the random per-sample protocol."""
    mid = (num_levels + 1) // 2
    protos = [f"one:{m}@{lv}" for m in sorted(modalities) for lv in (num_levels, mid)]
    return protos + [f"all@{num_levels}", "random"]


def seen_family_protocols(modalities, num_levels: int) -> list[str]:
    """The protocols of a family seen in training (leave one kind out): each modality alone at
    the top level, and the random per-sample protocol."""
    return [f"one:{m}@{num_levels}" for m in sorted(modalities)] + ["random"]


def load_run(job: Job, path: Path) -> Results:
    """The run file at ``path``, checked against ``job``; a clear error if corrupt or stale."""
    try:
        run = read_results(path)
    except ValueError as err:
        raise ValueError(f"corrupt run file {path}: {err}. Delete it to rerun that job.") from None
    rec = run.record
    missing = [k for k in ("job", "config", "environment") if k not in rec]
    if missing:
        raise ValueError(f"corrupt run file {path}: no {missing} entries. Delete it to rerun "
                         "that job.")
    want = {**job.describe(), **job.config}
    have = {**rec["job"], **{k: rec["config"].get(k) for k in job.config}}
    for key, cls in RECORDED.items():
        if isinstance(have.get(key), dict):  # fields added since the file was written: defaults
            try:
                have[key] = as_read_today(cls, have[key])
            except (TypeError, ValueError) as err:
                raise ValueError(f"stale run file {path}: its {key} config no longer reads "
                                 f"({err}). Delete it, or rerun with --no-resume.") from None
    diff = sorted(k for k in want if want[k] != have.get(k))
    if diff:
        raise ValueError(f"stale run file {path}: it was made with a different {diff} than the "
                         "experiment now asks for. Delete it, or rerun with --no-resume "
                         "(resume=False in run_experiment).")
    return run

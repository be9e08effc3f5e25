"""Flat, commented configuration mirrored by the `parameters` cell of every chapter.

Defaults follow the reference code (method.md section 5) where it applies, scaled to the small
CPU datasets of this book. Every results file and checkpoint stores the resolved config.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields

METHODS = ("static", "late", "pe", "naive", "udml", "oracle", "qmf", "tmc")  # the paper's peers
# methods of our own, beyond the paper (each measured beside it under its own name)
BEYOND_METHODS = ("udml-r",)
ALL_METHODS = METHODS + BEYOND_METHODS
ESTIMATOR_INPUTS = ("sigma", "log_sigma", "embedding", "features", "typicality",
                    "embedding_typicality")


@dataclass
class ModelConfig:
    method: str = "udml"           # one of ALL_METHODS
    latent_dim: int = 64           # K, size of each probabilistic embedding z_m
    hidden_dim: int = 128          # width of the MLP encoders
    fusion_head: str = "concat"    # concat | sum | gated
    # the noise-aware estimator g_m; defaults chosen on validation data (experiment `levers`)
    estimator: str = "affine"      # "affine" (reference: Linear -> Dropout -> Linear) | "mlp"
    estimator_hidden: int = 64     # width of g_m's hidden layer (reference: 256 for 512-d sigma)
    estimator_input: str = "sigma"  # what g_m reads: "sigma" (paper) | "log_sigma" (same
                                    # information, on a scale where small sigmas stay apart) |
                                    # "embedding" (mu and log sigma) | "features" (the
                                    # encoder's output h_m) | "typicality" (how unlike the
                                    # clean training inputs the input is,
                                    # `udml.method.typicality`) | "embedding_typicality" (both);
                                    # always with the gradient stopped
    estimator_target: str = "log_level"  # what the MSE fits: "log_level", MSE(log s, log l)
                                         # (chosen) | "level", MSE(s, l) (reference)
    dependency: str = "paper"      # "paper": ||pi - pi_-m||_1 ; "reference": ||W[z_m;0]+b||_1
    dependency_momentum: float = 0.1  # EMA factor of the running dependency statistic
    track_dependency: bool = False # also track D_m where the weights do not use it (diagnostics)
    # ablations of the UDML family (None / "auto": the method's own choice)
    weights_source: str = "auto"   # where s_m comes from: auto | estimator | pe | oracle
    use_dependency: bool | None = None  # whether D_m enters the weights
    rescaling: str = "residual"    # fused input: "residual" (1 + w_m) z_m (paper) |
                                   # "multiplicative" w_m z_m (extension, not the paper's)
    gamma: float = 1.0             # weight of the unimodal auxiliary losses sum_m CE(pi_m, y)
    beta: float = 1e-3             # weight of the KL regulariser towards N(0, l I)
    lambda_est: float = 0.1        # weight of the estimator's MSE(s_hat, l)
    num_levels: int = 11           # L, noise levels 1..L (1 = clean)
    dropout: float = 0.1           # dropout inside encoders and estimator
    qmf_temperature: float = 10.0  # T of QMF's energy confidence
    qmf_rank_weight: float = 0.1   # weight of QMF's ranking regulariser
    tmc_anneal_epochs: int = 10    # TMC's KL annealing length

    def __post_init__(self) -> None:
        coerce_fields(self)
        check_ranges(self, MODEL_RANGES)
        if self.method not in ALL_METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {ALL_METHODS}")
        if self.fusion_head not in ("concat", "sum", "gated"):
            raise ValueError(f"unknown fusion_head {self.fusion_head!r}; use concat, sum or gated")
        if self.estimator not in ("affine", "mlp"):
            raise ValueError(f"unknown estimator {self.estimator!r}; use affine or mlp")
        if self.estimator_input not in ESTIMATOR_INPUTS:
            raise ValueError(f"unknown estimator_input {self.estimator_input!r}; "
                             f"use one of {ESTIMATOR_INPUTS}")
        if self.estimator_target not in ("level", "log_level"):
            raise ValueError(f"unknown estimator_target {self.estimator_target!r}; "
                             "use level or log_level")
        if self.dependency not in ("paper", "reference"):
            raise ValueError(f"unknown dependency {self.dependency!r}; use paper or reference")
        if self.weights_source not in ("auto", "estimator", "pe", "oracle"):
            raise ValueError(f"unknown weights_source {self.weights_source!r}; "
                             "use auto, estimator, pe or oracle")
        if self.rescaling not in ("residual", "multiplicative"):
            raise ValueError(f"unknown rescaling {self.rescaling!r}; use residual or multiplicative")


@dataclass
class TrainConfig:
    epochs: int = 60               # total epochs
    batch_size: int = 64
    optimizer: str = "adamw"       # adamw | sgd (reference: SGD 1e-3, momentum 0.9)
    lr: float = 1e-3
    momentum: float = 0.9          # SGD only
    weight_decay: float = 1e-4
    lr_drop: float = 0.7           # learning rate x0.1 after this fraction of epochs
    grad_clip: float = 40.0        # gradient norm clip
    warmup: float = 0.5            # fraction of epochs on clean data (reference: 50 of 100)
    uncertainty_start: float = 0.6  # fraction of epochs after which s_hat enters the weights
    clean_share: float = 0.5       # share of training samples kept clean in the noisy phase
    held_out: str = ""             # "": train on Gaussian noise (the paper); a family of
                                   # udml.corrupt.families: train on every other family, test
                                   # on this one (leave one kind out)
    validate_every: int = 1        # epochs between the validation passes (the last always
                                   # runs); sweeps that never read the curves save their cost
    seed: int = 0
    device: str = "auto"           # auto | cpu | cuda
    amp: bool = True               # mixed precision, on cuda only
    progress: bool = True          # tqdm progress bar

    def __post_init__(self) -> None:
        coerce_fields(self)
        check_ranges(self, TRAIN_RANGES)
        if self.optimizer not in ("adamw", "sgd"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; use adamw or sgd")
        for name in ("warmup", "uncertainty_start", "clean_share", "lr_drop"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} is a fraction in [0, 1], got {v}")
        if self.device not in ("auto", "cpu", "cuda") and not (
                self.device.startswith("cuda:") and self.device[5:].isdigit()):
            raise ValueError(f"unknown device {self.device!r}; use auto, cpu, cuda or cuda:N")


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _to_bool(name: str, v, optional: bool):
    if optional and (v is None or (isinstance(v, str) and v.strip().lower() == "none")):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE + _FALSE:
        return v.strip().lower() in _TRUE
    none = " or none" if optional else ""
    raise ValueError(f"{name} must be true or false{none}, got {v!r}")


def _to_int(name: str, v) -> int:
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    elif isinstance(v, bool):
        pass
    elif isinstance(v, numbers.Integral) or (isinstance(v, numbers.Real)
                                             and float(v).is_integer()):
        return int(v)
    raise TypeError(f"{name} must be an integer, got {v!r}")


def _to_float(name: str, v) -> float:
    if isinstance(v, str):
        try:
            v = float(v.strip())
        except ValueError:
            raise TypeError(f"{name} must be a number, got {v!r}") from None
    elif isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a number, got {v!r}")
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v!r}")
    # a Python int stays an int (a valid float), so stored configs keep what was given;
    # numpy scalars become Python floats (JSON-ready)
    return v if type(v) in (int, float) else float(v)


def coerce_fields(cfg) -> None:
    """Bring every field of the config dataclass ``cfg`` to its declared type, in place.

    Values from the command line arrive as strings ("false", "64", "1e-3"): they are converted;
    anything that does not convert (``epochs=2.5``, ``lr=abc``, ``amp=2``) is a TypeError or
    ValueError naming the field, raised here rather than deep inside torch.
    """
    for f in fields(cfg):
        v, kind = getattr(cfg, f.name), str(f.type).replace(" ", "")
        if kind in ("bool", "bool|None"):
            v = _to_bool(f.name, v, kind != "bool")
        elif kind == "int":
            v = _to_int(f.name, v)
        elif kind == "float":
            v = _to_float(f.name, v)
        elif kind == "str" and not isinstance(v, str):
            raise TypeError(f"{f.name} must be a string, got {v!r}")
        setattr(cfg, f.name, v)


# field -> (lowest, highest, whether the bounds are included); None: unbounded on that side
MODEL_RANGES = {
    "latent_dim": (1, None, True), "hidden_dim": (1, None, True),
    "estimator_hidden": (1, None, True), "num_levels": (2, None, True),
    "dependency_momentum": (0.0, 1.0, (False, True)), "gamma": (0.0, None, True),
    "beta": (0.0, None, True), "lambda_est": (0.0, None, True), "dropout": (0.0, 1.0, (True, False)),
    "qmf_temperature": (0.0, None, False), "qmf_rank_weight": (0.0, None, True),
    "tmc_anneal_epochs": (0, None, True),
}
TRAIN_RANGES = {
    "epochs": (1, None, True), "batch_size": (1, None, True), "lr": (0.0, None, False),
    "momentum": (0.0, 1.0, (True, False)), "weight_decay": (0.0, None, True),
    "grad_clip": (0.0, None, False), "seed": (0, None, True), "validate_every": (1, None, True),
}


def check_ranges(cfg, ranges: dict) -> None:
    """Raise a ValueError naming the first field of ``cfg`` outside its range in ``ranges``."""
    for name, (lo, hi, incl) in ranges.items():
        v = getattr(cfg, name)
        lo_in, hi_in = incl if isinstance(incl, tuple) else (incl, incl)
        bad_lo = lo is not None and (v < lo if lo_in else v <= lo)
        bad_hi = hi is not None and (v > hi if hi_in else v >= hi)
        if bad_lo or bad_hi:
            lo_s = "" if lo is None else f"{'>=' if lo_in else '>'} {lo}"
            hi_s = "" if hi is None else f"{'<=' if hi_in else '<'} {hi}"
            raise ValueError(f"{name} must be {' and '.join(p for p in (lo_s, hi_s) if p)}, "
                             f"got {v!r}")


def config_from_dict(cls, d: dict):
    """Build a config dataclass from a dict, refusing keys it does not know (typos fail loudly)."""
    known = {f.name for f in fields(cls)}
    extra = set(d) - known
    if extra:
        raise ValueError(f"unknown {cls.__name__} keys: {sorted(extra)}")
    return cls(**d)


def config_to_dict(cfg) -> dict:
    return asdict(cfg)


# the config classes of a run record, under the keys it keeps them (results files, training states)
RECORDED = {"model": ModelConfig, "train": TrainConfig}


def added_defaults(cls, stored: dict) -> dict:
    """The fields of ``cls`` that a ``stored`` config lacks (added to the library since it was
    written), at their defaults: the behaviour the config had when it was written."""
    return {k: v for k, v in config_to_dict(cls()).items() if k not in stored}


def as_read_today(cls, stored: dict) -> dict:
    """A config stored in a results file as today's library reads it: fields added since it was
    written take their defaults (which reproduce the old behaviour), so that comparing it with a
    config of today counts only a changed value as a difference. A field that today's library no
    longer knows is a clear error."""
    return config_to_dict(config_from_dict(cls, stored))

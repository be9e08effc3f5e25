"""Calibrate each modality's Gaussian noise scale: ``python -m udml.training.calibrate``.

For every modality alone, a unimodal model (the modality's default encoder + a linear classifier)
is trained on noisy data (every sample at a uniform random level 1..L) for each scale of a
geometric grid, then scored on the validation split at the top level L.  The chosen scale is the
smallest one at which that accuracy falls to at most ``chance_factor`` times chance: the top
level then all but destroys the modality, whatever the encoder's capacity to average noise away.
The output file records the config, the seed and every (scale, accuracy) point.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..config import ModelConfig
from ..corrupt import NoiseSpec, apply_noise
from ..corrupt.scales import CALIBRATION_FILE
from ..data import load_dataset
from ..data.dataset import MultimodalSplits
from ..models.encoders import build_encoders
from ..environment import environment
from ..seed import seed_everything
from .loop import run_epochs

GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


def unimodal_top_level_accuracy(splits: MultimodalSplits, modality: str, scale: float, *,
                                num_levels: int = 11, epochs: int = 20, seed: int = 0) -> float:
    """Train a noise-trained unimodal classifier; return its val accuracy at level L."""
    seed_everything(seed)
    clip = splits.info.get("range", {}).get(modality)
    spec = {modality: NoiseSpec("gaussian", scale, tuple(clip) if clip else None)}
    enc = build_encoders({modality: splits.shapes[modality]}, ModelConfig())[modality]
    model = nn.Sequential(enc, nn.Linear(enc.out_dim, splits.num_classes))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    order, noise = torch.Generator().manual_seed(seed + 1), torch.Generator().manual_seed(seed + 2)

    def step(batch, epoch: int):
        lv = {modality: torch.randint(1, num_levels + 1, batch.y.shape, generator=noise)}
        x = apply_noise({modality: batch.x[modality]}, lv, spec, num_levels, noise)[modality]
        logits = model(x)
        return (F.cross_entropy(logits, batch.y), {}, batch.y.shape[0],
                (logits.argmax(1) == batch.y).sum().item())

    model.train()
    run_epochs(model, opt, range(epochs), lambda epoch: splits.train.batches(64, True, order),
               step, name=f"calibrate {modality} at scale {scale:g}", progress=False)
    model.eval()
    val = splits.val
    top = {modality: torch.full((len(val),), num_levels, dtype=torch.long)}
    gen = torch.Generator().manual_seed(seed + 3)
    with torch.no_grad():
        x = apply_noise({modality: val.x[modality]}, top, spec, num_levels, gen)[modality]
        return (model(x).argmax(1) == val.y).float().mean().item()


def calibrate(splits: MultimodalSplits, chance_factor: float = 2.0, grid=GRID, **kw) -> dict:
    """Per modality: the smallest grid scale with top-level accuracy <= chance_factor * chance."""
    target = chance_factor / splits.num_classes
    out = {"scales": {}, "curves": {}}
    for m in tqdm(splits.modalities, desc=f"calibrate {splits.name}", leave=False):
        curve = []
        for scale in grid:
            acc = unimodal_top_level_accuracy(splits, m, scale, **kw)
            curve.append([scale, acc])
            if acc <= target:
                break
        else:
            raise RuntimeError(f"{splits.name}/{m}: no scale in {grid} brings the top level to "
                               f"{target:.3f} accuracy (last {curve[-1]})")
        out["scales"][m], out["curves"][m] = curve[-1][0], curve
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m udml.training.calibrate", description=__doc__)
    p.add_argument("--datasets", nargs="*", default=["mfeat-all", "synthetic"],
                   help="datasets to calibrate (mfeat-all covers every mfeat view)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chance-factor", type=float, default=2.0)
    p.add_argument("--out", default=str(Path(__file__).parents[1] / "corrupt" / CALIBRATION_FILE))
    a = p.parse_args(argv)
    out = Path(a.out)
    # other datasets' entries of an existing file are kept: each entry carries its own config
    record = json.loads(out.read_text()) if out.is_file() else {}
    for key in ("scales", "curves", "config", "environment"):
        record.setdefault(key, {})
    config = {"grid": list(GRID), "epochs": a.epochs, "seed": a.seed,
              "chance_factor": a.chance_factor, "num_levels": 11}
    for name in a.datasets:
        splits = load_dataset(name, seed=a.seed)
        family = splits.info.get("dataset", splits.name)
        res = calibrate(splits, a.chance_factor, epochs=a.epochs, seed=a.seed)
        record["scales"][family] = res["scales"]
        record["curves"][family] = res["curves"]
        record["config"][family] = {**config, "dataset": name}
        record["environment"][family] = environment()
        print(family, res["scales"])
    out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

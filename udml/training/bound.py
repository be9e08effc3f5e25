"""The bound: how well could ANY estimator read the noise level from what a modality carries?

The paper's estimator reads only the probabilistic embedding's sigma (behind a stop-gradient), so
it can know no more about the level than sigma does.  The bound reads the corrupted input itself:
per modality, the modality's own encoder f_m and a linear map g regress the level with the same
output form and loss as the estimator (s = exp(0.5 g), MSE(s, l) or MSE(log s, log l)), trained
with the same budget (epochs, batch, optimiser) on the same noise (the training protocol: a share
of samples clean, the rest at uniform random levels).  Its s-per-level curve and its Spearman per
level range are the ceiling the estimator is measured against (`udml.analysis.calibration`).

    bound = fit_level_regressor(splits, "fou", specs, model_cfg, train_cfg)
    s = level_regressor_sweep(bound, splits.test, "fou", specs, 11, seed=0)   # (L, N)
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import ModelConfig, TrainConfig
from ..corrupt import NoiseSpec, apply_noise, corrupt_batch, one_modality, random_per_sample
from ..data.dataset import Batch, MultimodalData, MultimodalSplits
from ..method.estimator import level_from_output
from ..method.losses import estimator_mse
from ..models.encoders import encoder_builder
from ..seed import seed_everything
from ..validation import resolve_device
from .loop import make_optimizer, run_epochs


class LevelRegressor(nn.Module):
    """(B, *shape) corrupted input of one modality -> (B,) s, its predicted noise level."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.g = nn.Linear(encoder.out_dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        return level_from_output(self.g(self.encoder(x)))  # (B,), the estimator's output form


def fit_level_regressor(splits: MultimodalSplits, modality: str, specs: dict[str, NoiseSpec],
                        model_cfg: ModelConfig, train_cfg: TrainConfig) -> LevelRegressor:
    """Train the bound's regressor of ``modality``'s level for ``train_cfg.epochs`` epochs.

    Every epoch is noisy (the regressor has nothing to learn from clean data); the levels follow
    the training protocol with ``train_cfg.clean_share``.  Seeded by ``train_cfg.seed``.
    """
    if modality not in splits.modalities:
        raise ValueError(f"unknown modality {modality!r}; the data have {splits.modalities}")
    seed_everything(train_cfg.seed)
    device = resolve_device(train_cfg.device)
    make_encoders = encoder_builder(splits)
    encoder = make_encoders({modality: splits.shapes[modality]}, model_cfg)[modality]
    model = LevelRegressor(encoder).to(device)
    opt = make_optimizer(model, train_cfg)
    drop = max(1, round(train_cfg.lr_drop * train_cfg.epochs))
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [drop], 0.1)
    order = torch.Generator().manual_seed(train_cfg.seed + 1)
    noise = torch.Generator(device=device).manual_seed(train_cfg.seed + 2)
    protocol = random_per_sample(train_cfg.clean_share)
    one = {modality: specs[modality]}

    def step(batch: Batch, epoch: int):
        batch = Batch({modality: batch.x[modality]}, batch.y, batch.index,
                      {modality: batch.levels[modality]}).to(device)
        batch = corrupt_batch(batch, protocol, one, model_cfg.num_levels, noise)
        loss = estimator_mse(model(batch.x[modality]), batch.levels[modality],
                             model_cfg.estimator_target)
        return loss, {}, batch.y.shape[0], 0

    model.train()
    run_epochs(model, opt, range(train_cfg.epochs),
               lambda epoch: splits.train.batches(train_cfg.batch_size, True, order), step,
               name=f"bound {modality}", grad_clip=train_cfg.grad_clip, sched=sched,
               progress=train_cfg.progress)
    return model.eval()


@torch.no_grad()
def level_regressor_sweep(model: LevelRegressor, data: MultimodalData, modality: str,
                          specs: dict[str, NoiseSpec], num_levels: int, seed: int = 0,
                          batch_size: int = 512) -> Tensor:
    """(L, N) predictions of ``model`` on ``data`` with ``modality`` at each level 1..L in turn.

    Each level draws its noise from a generator seeded with ``seed`` and the batches come in the
    split's order, as in the evaluation of the fusion models under ``one:MODALITY@LEVEL``
    (`udml.training.evaluate.evaluate`), so the bound and the estimator see the same corrupted
    samples.
    """
    device = next(model.parameters()).device
    rows = []
    for level in range(1, num_levels + 1):
        gen = torch.Generator(device=device).manual_seed(seed)
        proto = one_modality(modality, level)
        parts = []
        for batch in data.batches(batch_size):
            batch = batch.to(device)
            levels = proto.sample([modality], batch.y.shape[0], num_levels, gen)
            x = apply_noise({modality: batch.x[modality]}, levels, {modality: specs[modality]},
                            num_levels, gen)[modality]
            parts.append(model(x).float().cpu())
        rows.append(torch.cat(parts))
    return torch.stack(rows)

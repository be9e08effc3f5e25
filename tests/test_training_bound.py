import pytest
import torch

from udml.config import ModelConfig, TrainConfig
from udml.corrupt.scales import default_specs
from udml.data import load_dataset
from udml.training.bound import LevelRegressor, fit_level_regressor, level_regressor_sweep
from udml.training.evaluate import predict
from udml.training.metrics import calibration_summary


@pytest.fixture(scope="module")
def synthetic():
    splits = load_dataset("synthetic", seed=0)
    return splits, default_specs(splits)


def test_the_bound_reads_the_level_from_the_input(synthetic):
    splits, specs = synthetic
    cfg = TrainConfig(epochs=3, progress=False)
    model = fit_level_regressor(splits, "m0", specs, ModelConfig(), cfg)
    assert isinstance(model, LevelRegressor) and not model.training
    s = level_regressor_sweep(model, splits.val, "m0", specs, 11, seed=0)
    assert s.shape == (11, len(splits.val)) and (s > 0).all()
    summary = calibration_summary({lv + 1: s[lv] for lv in range(11)}, 11)
    # Gaussian noise of a known scale is visible in the input: even 3 epochs order the levels
    assert summary["spearman"]["all"] > 0.5, summary
    assert summary["mean"][-1] > summary["mean"][0]


def test_the_bound_is_scored_on_the_samples_the_fusion_models_see(synthetic):
    """The sweep corrupts exactly what `predict` under one:m0@L corrupts, so the bound and s_hat
    are compared on the same noisy samples."""
    splits, specs = synthetic
    model = fit_level_regressor(splits, "m0", specs, ModelConfig(),
                                TrainConfig(epochs=1, progress=False))
    seen = []

    class Probe(torch.nn.Module):  # records the corrupted input of m0 that the fusion model gets
        modalities = ["m0", "m1"]
        num_classes = splits.num_classes

        def forward(self, x, levels):
            seen.append(x["m0"])
            from udml.method.output import FusionOutput
            b = x["m0"].shape[0]
            z = torch.zeros(b, splits.num_classes)
            return FusionOutput(logits=z, unimodal_logits={"m0": z, "m1": z})

    predict(Probe(), splits.val, specs, "one:m0@11", 11, torch.Generator().manual_seed(5))
    with torch.no_grad():
        want = model(torch.cat(seen))
    torch.testing.assert_close(level_regressor_sweep(model, splits.val, "m0", specs, 11, 5)[-1],
                               want)


def test_unknown_modality_is_refused(synthetic):
    splits, specs = synthetic
    with pytest.raises(ValueError, match="unknown modality 'm9'"):
        fit_level_regressor(splits, "m9", specs, ModelConfig(), TrainConfig(epochs=1))

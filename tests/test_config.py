"""Configs validate on construction: values coming from the command line are coerced to the
field's type (true/false included), and out-of-range values are refused with the field's name."""
import pytest

from udml.config import (ModelConfig, TrainConfig, added_defaults, as_read_today,
                         config_from_dict, config_to_dict)


@pytest.mark.parametrize("raw, want", [("false", False), ("False", False), ("no", False),
                                       ("0", False), (0, False), ("true", True), ("1", True),
                                       (True, True)])
def test_booleans_from_strings(raw, want):
    assert ModelConfig(use_dependency=raw).use_dependency is want
    assert TrainConfig(amp=raw).amp is want


def test_optional_boolean_keeps_none():
    assert ModelConfig(use_dependency=None).use_dependency is None
    assert ModelConfig(use_dependency="none").use_dependency is None


def test_numbers_from_strings():
    t = TrainConfig(batch_size="64", lr="1e-2", epochs="3")
    assert (t.batch_size, t.lr, t.epochs) == (64, 0.01, 3)
    assert type(t.batch_size) is int and type(t.lr) is float


def test_ints_stay_ints_in_float_fields():
    # an int is a valid float: kept as given, so results files and printed configs do not change
    assert ModelConfig(gamma=0).gamma == 0


@pytest.mark.parametrize("cls, key, value, match", [
    (ModelConfig, "use_dependency", "maybe", "use_dependency must be true or false"),
    (TrainConfig, "amp", 2, "amp must be true or false"),
    (TrainConfig, "lr", "abc", "lr must be a number"),
    (TrainConfig, "epochs", 2.5, "epochs must be an integer"),
    (TrainConfig, "epochs", True, "epochs must be an integer"),
    (TrainConfig, "batch_size", "sixty", "batch_size must be an integer"),
    (ModelConfig, "estimator", 3, "estimator must be a string"),
    (TrainConfig, "lr", float("nan"), "lr must be finite"),
])
def test_bad_types_are_named(cls, key, value, match):
    with pytest.raises((TypeError, ValueError), match=match):
        cls(**{key: value})


@pytest.mark.parametrize("cls, key, value", [
    (TrainConfig, "grad_clip", 0), (TrainConfig, "grad_clip", -1), (TrainConfig, "lr", 0),
    (TrainConfig, "lr", -1e-3), (TrainConfig, "weight_decay", -1), (TrainConfig, "momentum", 1.5),
    (TrainConfig, "seed", -1), (TrainConfig, "epochs", 0), (TrainConfig, "batch_size", 0),
    (TrainConfig, "device", "tpu"),
    (ModelConfig, "latent_dim", 0), (ModelConfig, "hidden_dim", -3), (ModelConfig, "dropout", 1.0),
    (ModelConfig, "dropout", -0.1), (ModelConfig, "beta", -1), (ModelConfig, "gamma", -0.5),
    (ModelConfig, "lambda_est", -1), (ModelConfig, "dependency_momentum", 0),
    (ModelConfig, "dependency_momentum", 1.5), (ModelConfig, "qmf_temperature", 0),
    (ModelConfig, "qmf_rank_weight", -1), (ModelConfig, "tmc_anneal_epochs", -1),
    (ModelConfig, "num_levels", 1),
])
def test_out_of_range_values_are_named(cls, key, value):
    with pytest.raises(ValueError, match=key):
        cls(**{key: value})


def test_config_from_dict_coerces_too():
    assert config_from_dict(TrainConfig, {"progress": "false"}).progress is False


def test_a_stored_config_is_read_with_the_fields_added_since_at_their_defaults():
    stored = config_to_dict(TrainConfig(epochs=7))
    del stored["validate_every"], stored["held_out"]
    assert added_defaults(TrainConfig, stored) == {"validate_every": 1, "held_out": ""}
    assert as_read_today(TrainConfig, stored) == config_to_dict(TrainConfig(epochs=7))
    with pytest.raises(ValueError, match="unknown TrainConfig keys"):
        as_read_today(TrainConfig, {**stored, "gone": 1})

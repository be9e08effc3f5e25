"""Ranks: the shards of a split, the per-rank evaluation noise, the process-group check.  (The
collective operations run for real, over two gloo processes, in tests/test_av_distributed.py.)"""
import pytest
import torch

from udml.data.dataset import MultimodalData
from udml.training.evaluate import Predictions, concat_predictions
from udml.training.ranks import SHARD_SEED_STRIDE, Ranks


def _data(n: int) -> MultimodalData:
    return MultimodalData({"a": torch.arange(n, dtype=torch.float32)[:, None]},
                          torch.arange(n) % 2)


@pytest.mark.parametrize("n, world", [(10, 3), (7, 2), (4, 4)])
def test_shards_are_contiguous_and_cover_the_split_in_order(n, world):
    shards = [Ranks(r, world).shard(_data(n)) for r in range(world)]
    assert torch.cat([s.x["a"] for s in shards]).flatten().tolist() == list(range(n))
    assert max(len(s) for s in shards) - min(len(s) for s in shards) <= 1


def test_a_split_smaller_than_the_group_is_refused():
    with pytest.raises(ValueError, match="3 samples cannot be shared by 4 processes"):
        Ranks(0, 4).shard(_data(3))


def test_each_rank_draws_its_own_evaluation_noise_and_rank_0_the_usual():
    assert Ranks(0, 2).noise_seed(5) == 5
    assert Ranks(1, 2).noise_seed(5) == 5 + SHARD_SEED_STRIDE


def test_no_process_group_is_named():
    with pytest.raises(RuntimeError, match="no process group"):
        Ranks.current()


def test_gathered_predictions_are_one_pass_in_shard_order():
    def pred(lo, hi):
        i = torch.arange(lo, hi)
        return Predictions(logits=i[:, None].float().repeat(1, 2), unimodal_logits={"a": i[:, None]},
                           unreliability={"a": i.float()}, weights=None, levels={"a": i}, y=i,
                           scores={"s_hat": {"a": i.float()}})
    whole = concat_predictions([pred(0, 3), pred(3, 5)])
    assert whole.y.tolist() == [0, 1, 2, 3, 4]
    assert whole.scores["s_hat"]["a"].tolist() == [0, 1, 2, 3, 4]
    assert whole.weights is None and whole.logits.shape == (5, 2)

import pytest
import torch

from udml.method.heads import ConcatHead, GatedHead, SumHead, build_head


@pytest.mark.parametrize("kind,cls", [("concat", ConcatHead), ("sum", SumHead), ("gated", GatedHead)])
def test_heads_shapes(kind, cls):
    head = build_head(kind, 3, 4, 5)
    assert isinstance(head, cls)
    assert head(torch.randn(2, 3, 4)).shape == (2, 5)


def test_sum_head_is_sum_of_modalities():
    head = SumHead(2, 3, 2)
    z = torch.randn(4, 2, 3)
    torch.testing.assert_close(head(z), head.fc(z[:, 0] + z[:, 1]))


def test_unknown_head():
    with pytest.raises(ValueError, match="unknown fusion head"):
        build_head("attention", 2, 3, 4)

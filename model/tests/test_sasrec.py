from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqrec_model.config import ModelConfig
from seqrec_model.sasrec import SASRec
from seqrec_model.train import FullSoftmaxCrossEntropy, NegativeSampler, batch_loss


def make(blocks: int = 2, heads: int = 2, max_len: int = 12, items: int = 30) -> SASRec:
    torch.manual_seed(0)
    cfg = ModelConfig(max_len=max_len, hidden=16, blocks=blocks, heads=heads, dropout=0.3)
    return SASRec(items, cfg).eval()


@pytest.mark.parametrize("blocks, heads", [(1, 1), (2, 2), (3, 4)])
def test_forward_last_equals_full_forward(blocks: int, heads: int) -> None:
    model = make(blocks, heads)
    seq = torch.randint(1, 31, (4, 12))
    seq[0, :5] = 0
    seq[1, :11] = 0
    full = model(seq)[:, -1, :]
    last = model.forward_last(seq)
    assert last.shape == (4, 31)
    torch.testing.assert_close(last, full, rtol=1e-5, atol=1e-5)


def test_padding_invariance_right_aligned_positions() -> None:
    model = make()
    seq = torch.tensor([[7, 3, 19, 4, 4]])
    reference = model.forward_last(seq)
    for pad in (1, 3, 7):
        padded = torch.cat([torch.zeros(1, pad, dtype=torch.long), seq], dim=1)
        torch.testing.assert_close(model.forward_last(padded), reference, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(model(padded)[:, -1], reference, rtol=1e-5, atol=1e-5)
    # Batched with a longer sequence (so padded), same answer.
    batch = torch.tensor([[0, 0, 0, 0, 0, 0, 0, 7, 3, 19, 4, 4], list(range(1, 13))])
    torch.testing.assert_close(model.forward_last(batch)[:1], reference, rtol=1e-5, atol=1e-5)


def test_longer_than_max_len_uses_last_max_len_items() -> None:
    model = make(max_len=6)
    seq = torch.randint(1, 31, (2, 10))
    torch.testing.assert_close(model.forward_last(seq), model.forward_last(seq[:, -6:]))


def test_all_padding_row_is_finite() -> None:
    model = make()
    out = model.forward_last(torch.zeros(2, 5, dtype=torch.long))
    assert torch.isfinite(out).all()
    assert torch.isfinite(model(torch.zeros(1, 3, dtype=torch.long))).all()


def test_padding_embedding_is_zero_and_dropout_only_in_training() -> None:
    model = make()
    assert torch.count_nonzero(model.item_emb.weight[0]) == 0
    seq = torch.randint(1, 31, (3, 12))
    torch.testing.assert_close(model.forward_last(seq), model.forward_last(seq))
    model.train()
    assert not torch.allclose(model.forward_last(seq), model.forward_last(seq))


def test_full_softmax_ce_matches_torch() -> None:
    torch.manual_seed(1)
    h = torch.randn(50, 8, requires_grad=True)
    w = torch.randn(20, 8, requires_grad=True)
    y = torch.randint(0, 20, (50,))
    ours = FullSoftmaxCrossEntropy.apply(h, w, y)
    gh, gw = torch.autograd.grad(ours, (h, w))
    ref = F.cross_entropy(h @ w.t(), y)
    rh, rw = torch.autograd.grad(ref, (h, w))
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(gh, rh)
    torch.testing.assert_close(gw, rw)


@pytest.mark.parametrize("kind", ["uniform", "popularity"])
def test_sampled_softmax_loss(kind: str) -> None:
    model = make().train()
    counts = np.zeros(31, dtype=np.int64)
    counts[1:11] = np.arange(1, 11)  # items 11..30 never seen in training
    sampler = NegativeSampler(counts, kind, 64, torch.Generator().manual_seed(0))
    negatives = sampler.sample()
    assert negatives.min() >= 1
    if kind == "popularity":
        assert negatives.max() <= 10
    seq = torch.randint(1, 11, (4, 12))
    seq[:, :3] = 0
    target = torch.roll(seq, -1, dims=1)
    target[seq == 0] = 0
    target[:, -1] = 5
    loss, positions = batch_loss(model, seq, target, sampler)
    assert positions == int((target != 0).sum())
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert torch.isfinite(model.item_emb.weight.grad).all()


@pytest.mark.parametrize("blocks, heads", [(1, 1), (2, 2), (3, 4)])
def test_attention_output_is_last_blocks_last_query_mean_over_heads(
    blocks: int, heads: int
) -> None:
    model = make(blocks, heads)
    seq = torch.randint(1, 31, (3, 12))
    seq[0, :5] = 0
    seq[1, :11] = 0
    scores, attention = model.forward_last_with_attention(seq)
    assert torch.equal(scores, model.forward_last(seq))  # the same computation, bit for bit
    assert attention.shape == (3, 12)
    torch.testing.assert_close(attention.sum(dim=1), torch.ones(3))
    assert float(attention[0, :5].abs().max()) < 1e-6
    assert float(attention[1, :11].abs().max()) < 1e-6
    # by hand: the last block's attention with the last query over every position
    x, keep, keep_f = model._embed(seq)
    steps = torch.arange(12)
    allowed = (steps.unsqueeze(0) <= steps.unsqueeze(1)).unsqueeze(0) & keep.unsqueeze(1)
    for block in model.blocks[:-1]:
        x = block(x, allowed, keep_f)
    last = model.blocks[-1]
    h = last.attn_norm(x)
    att = last.attn
    q = att._split(att.query(h[:, -1:, :]))
    k = att._split(att.key(h))
    logits = torch.matmul(q, k.transpose(-2, -1)) * att.scale
    logits = logits.masked_fill(~keep[:, None, None, :], -1e9)
    expected = torch.softmax(logits, dim=-1).mean(dim=1)[:, 0, :]
    torch.testing.assert_close(attention, expected)


def test_attention_is_padding_invariant() -> None:
    model = make()
    seq = torch.tensor([[7, 3, 19, 4, 4]])
    _, reference = model.forward_last_with_attention(seq)
    padded = torch.cat([torch.zeros(1, 7, dtype=torch.long), seq], dim=1)
    _, attention = model.forward_last_with_attention(padded)
    torch.testing.assert_close(attention[:, 7:], reference, rtol=1e-5, atol=1e-6)

"""SASRec (Kang & McAuley, 2018): causal self-attention over the user's item sequence.

Conventions shared with the serving side (see ``export.py``):

* item index 0 is padding; sequences are LEFT-padded (oldest item first, newest last);
* positions are right-aligned: for an input of length ``T <= max_len`` the positional embeddings
  ``pos_emb[max_len - T : max_len]`` are used, so the newest item always sits at position
  ``max_len - 1``. With key-padding masking and zeroed padding embeddings, the output for a
  sequence does not depend on how much leading padding it carries;
* masking uses a large finite negative value, so an all-padding row yields finite scores;
* scores are dot products of the last hidden state with the (shared) item embedding table;
  column 0 of the scores is the padding item and must be ignored;
* a type-aware model (``config.behaviors``) takes a second input aligned with the items: each
  step's behavior code (``data.BEHAVIOR_CODES``: view 1, click 2, cart 3, purchase 4, rate 5;
  0 = padding or unknown, whose embedding is zero); its embedding is added to the step's item
  and position embeddings. With ``config.target_behavior`` a learned vector of the behavior asked
  for (0 = any next event) is added to the final hidden state before scoring.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch
from torch import Tensor, nn

from seqrec_model.config import ModelConfig

MASK_VALUE = -1e9
LAYER_NORM_EPS = 1e-8
#: Behavior codes 0 (padding / any) .. 5 (rate); see ``data.BEHAVIOR_CODES``.
NUM_BEHAVIOR_CODES = 6


class Dropout(nn.Module):
    """Inverted dropout drawing a uniform mask (``torch.rand_like``).

    Statistically the same as ``nn.Dropout``; about 3x faster here because this torch build's
    ``bernoulli_`` is slow on CPU. Identity in eval mode, so it never appears in the export.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention; queries may be a suffix of the key positions."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.hidden = hidden
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.dropout = Dropout(dropout)
        self.scale = 1.0 / math.sqrt(self.head_dim)

    def _split(self, x: Tensor) -> Tensor:
        # [B, T, d] -> [B, heads, T, head_dim]
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def forward(self, query: Tensor, keys: Tensor, allowed: Tensor) -> Tensor:
        """``query`` [B, Tq, d], ``keys`` [B, Tk, d], ``allowed`` bool [B, Tq or 1, Tk]."""
        return self.forward_with_weights(query, keys, allowed)[0]

    def forward_with_weights(
        self, query: Tensor, keys: Tensor, allowed: Tensor
    ) -> Tuple[Tensor, Tensor]:
        """:meth:`forward` and the softmax attention weights (before dropout), averaged over
        heads: [B, Tq, Tk]. Masked keys get weight ~0 (exactly 0 unless a row is all masked)."""
        q = self._split(self.query(query))
        k = self._split(self.key(keys))
        v = self._split(self.value(keys))
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        scores = scores.masked_fill(~allowed.unsqueeze(1), MASK_VALUE)
        probs = torch.softmax(scores, dim=-1)
        weights = self.dropout(probs)
        context = torch.matmul(weights, v).transpose(1, 2)
        context = context.reshape(context.shape[0], context.shape[1], self.hidden)
        return self.out(context), probs.mean(dim=1)


class PointWiseFeedForward(nn.Module):
    def __init__(self, hidden: int, dropout: float) -> None:
        super().__init__()
        self.inner = nn.Linear(hidden, hidden)
        self.outer = nn.Linear(hidden, hidden)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.outer(self.dropout(torch.relu(self.inner(x))))


class Block(nn.Module):
    """Pre-LN transformer block: x + Attn(LN(x)), then x + FFN(LN(x)); padding re-zeroed."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(hidden, eps=LAYER_NORM_EPS)
        self.attn = MultiHeadAttention(hidden, heads, dropout)
        self.ffn_norm = nn.LayerNorm(hidden, eps=LAYER_NORM_EPS)
        self.ffn = PointWiseFeedForward(hidden, dropout)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, allowed: Tensor, keep: Tensor) -> Tensor:
        h = self.attn_norm(x)
        x = x + self.dropout(self.attn(h, h, allowed))
        x = x + self.dropout(self.ffn(self.ffn_norm(x)))
        return x * keep

    def forward_last(self, x: Tensor, key_allowed: Tensor, keep_last: Tensor) -> Tensor:
        """Only the last query position; keys/values are all positions. Returns [B, 1, d]."""
        return self.forward_last_with_attention(x, key_allowed, keep_last)[0]

    def forward_last_with_attention(
        self, x: Tensor, key_allowed: Tensor, keep_last: Tensor
    ) -> Tuple[Tensor, Tensor]:
        """:meth:`forward_last` and the last query's attention weights over the positions,
        averaged over heads: ([B, 1, d], [B, T])."""
        h = self.attn_norm(x)
        a, weights = self.attn.forward_with_weights(h[:, -1:, :], h, key_allowed.unsqueeze(1))
        y = x[:, -1:, :] + self.dropout(a)
        y = y + self.dropout(self.ffn(self.ffn_norm(y)))
        return y * keep_last, weights[:, 0, :]


class SASRec(nn.Module):
    def __init__(self, num_items: int, config: ModelConfig) -> None:
        super().__init__()
        if num_items < 1:
            raise ValueError("num_items must be >= 1")
        self.num_items = num_items
        self.config = config
        self.max_len = config.max_len
        self.item_emb = nn.Embedding(num_items + 1, config.hidden, padding_idx=0)
        self.pos_emb = nn.Embedding(config.max_len, config.hidden)
        self.emb_dropout = Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            [Block(config.hidden, config.heads, config.dropout) for _ in range(config.blocks)]
        )
        self.final_norm = nn.LayerNorm(config.hidden, eps=LAYER_NORM_EPS)
        self.emb_scale = math.sqrt(config.hidden)
        self.behavior_emb = (
            nn.Embedding(NUM_BEHAVIOR_CODES, config.hidden, padding_idx=0)
            if config.behaviors
            else None
        )
        self.target_emb = (
            nn.Embedding(NUM_BEHAVIOR_CODES, config.hidden) if config.target_behavior else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_normal_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.xavier_normal_(module.weight)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
            if self.behavior_emb is not None:
                self.behavior_emb.weight[0].zero_()
            if self.target_emb is not None:
                # untrained, asking for a behavior changes nothing
                self.target_emb.weight.zero_()

    def _embed(
        self, seq: Tensor, behaviors: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor, Tensor]:
        """Right-aligned embeddings. Returns (x [B,T,d], keep bool [B,T], keep float [B,T,1]).
        ``behaviors`` [B, T] (same shape as ``seq``) is used by a type-aware model only; without
        it every step's behavior is unknown (code 0)."""
        seq = seq[:, -self.max_len :]
        length = seq.shape[1]
        positions = torch.arange(length, device=seq.device) + (self.max_len - length)
        keep = seq != 0
        keep_f = keep.unsqueeze(-1).to(self.item_emb.weight.dtype)
        x = self.item_emb(seq) * self.emb_scale + self.pos_emb(positions).unsqueeze(0)
        if self.behavior_emb is not None and behaviors is not None:
            if behaviors.shape[0] != seq.shape[0] or behaviors.shape[1] < length:
                raise ValueError(
                    f"behaviors {tuple(behaviors.shape)} must align with the items "
                    f"{tuple(seq.shape)}"
                )
            x = x + self.behavior_emb(behaviors[:, -length:])
        x = self.emb_dropout(x) * keep_f
        return x, keep, keep_f

    def _condition(self, hidden: Tensor, target_behavior: Union[Tensor, int, None]) -> Tensor:
        """Add the asked-for behavior's vector to final hidden states. ``target_behavior``: codes
        shaped like ``hidden[..., 0]``, or one code for all (an export bakes it in as a
        constant), or None = any (code 0)."""
        if self.target_emb is None:
            return hidden
        if target_behavior is None or isinstance(target_behavior, int):
            return hidden + self.target_emb.weight[target_behavior or 0]
        return hidden + self.target_emb(target_behavior)

    def hidden_states(
        self,
        seq: Tensor,
        behaviors: Optional[Tensor] = None,
        target_behaviors: Union[Tensor, int, None] = None,
    ) -> Tensor:
        """Final hidden state at every position: [B, T, d] (T capped at max_len).
        ``target_behaviors`` [B, T]: the behavior asked for at each position (training: the next
        step's)."""
        x, keep, keep_f = self._embed(seq, behaviors)
        length = x.shape[1]
        steps = torch.arange(length, device=seq.device)
        causal = steps.unsqueeze(0) <= steps.unsqueeze(1)  # [T, T]: key j allowed for query i
        allowed = causal.unsqueeze(0) & keep.unsqueeze(1)  # [B, T, T]
        for block in self.blocks:
            x = block(x, allowed, keep_f)
        hidden = self.final_norm(x)
        if isinstance(target_behaviors, Tensor):
            target_behaviors = target_behaviors[:, -hidden.shape[1] :]
        return self._condition(hidden, target_behaviors)

    def score(self, hidden: Tensor) -> Tensor:
        """Dot product with every item embedding: [..., d] -> [..., num_items + 1]."""
        return torch.matmul(hidden, self.item_emb.weight.t())

    def forward(self, seq: Tensor, behaviors: Optional[Tensor] = None) -> Tensor:
        """Scores for every position: [B, T, num_items + 1]."""
        return self.score(self.hidden_states(seq, behaviors))

    def forward_last(
        self,
        seq: Tensor,
        behaviors: Optional[Tensor] = None,
        target_behavior: Union[Tensor, int, None] = None,
    ) -> Tensor:
        """Scores for the last position only: [B, num_items + 1] (column 0 = padding)."""
        return self.forward_last_with_attention(seq, behaviors, target_behavior)[0]

    def forward_last_with_attention(
        self,
        seq: Tensor,
        behaviors: Optional[Tensor] = None,
        target_behavior: Union[Tensor, int, None] = None,
    ) -> Tuple[Tensor, Tensor]:
        """:meth:`forward_last` and the explanation signal: the LAST block's softmax attention
        weights of the last query position over the input positions, averaged over heads
        ([B, T], T = the input's length capped at max_len; padding positions ~0). The scores
        are computed exactly as by :meth:`forward_last` (the same operations).
        ``target_behavior`` [B]: the behavior asked for (None = any)."""
        x, keep, keep_f = self._embed(seq, behaviors)
        length = x.shape[1]
        steps = torch.arange(length, device=seq.device)
        causal = steps.unsqueeze(0) <= steps.unsqueeze(1)
        allowed = causal.unsqueeze(0) & keep.unsqueeze(1)
        for block in self.blocks[:-1]:
            x = block(x, allowed, keep_f)
        last, attention = self.blocks[-1].forward_last_with_attention(x, keep, keep_f[:, -1:, :])
        hidden = self._condition(self.final_norm(last[:, 0, :]), target_behavior)
        return self.score(hidden), attention


class LastPositionScorer(nn.Module):
    """Wraps ``SASRec.forward_last_with_attention`` for ONNX export: ``item_seq`` (and, for a
    type-aware model, ``behaviors``) -> ``scores``, ``attention`` (the last block's last-query
    attention over the positions, mean over heads). A target-behavior model is asked for
    ``target_behavior`` (a code, 0 = any), baked into the graph."""

    def __init__(self, model: SASRec, target_behavior: int = 0) -> None:
        super().__init__()
        self.model = model
        self.target_behavior = target_behavior

    def forward(
        self, item_seq: Tensor, behaviors: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        return self.model.forward_last_with_attention(item_seq, behaviors, self.target_behavior)


class TopKScorer(nn.Module):
    """``forward_last`` with the job's post-processing inside the graph, for a benchmark against
    scores + Java top-K: the input's items and column 0 (padding) set to -inf, then the ``k`` best.
    Returns (indices int64 [B, k], scores float [B, k]), best first."""

    def __init__(self, model: SASRec, k: int, target_behavior: int = 0) -> None:
        super().__init__()
        self.model = model
        self.k = k
        self.target_behavior = target_behavior

    def forward(
        self, item_seq: Tensor, behaviors: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        scores = self.model.forward_last(item_seq, behaviors, self.target_behavior)
        # column 0 (padding) is never a recommendation, also when the sequence has no padding
        seen = torch.cat([torch.zeros_like(item_seq[:, :1]), item_seq], dim=1)
        masked = scores.scatter(1, seen, float("-inf"))
        values, indices = torch.topk(masked, self.k, dim=1)
        return indices, values


class FullForwardScorer(nn.Module):
    """The textbook inference graph, for the naive baseline of ``seqrec bench``: every position
    through every block (as the reference SASRec's ``predict`` does), then the last position
    scored. The same scores as :class:`LastPositionScorer`; the last block costs ~L times more.
    """

    def __init__(self, model: SASRec, target_behavior: int = 0) -> None:
        super().__init__()
        self.model = model
        self.target_behavior = target_behavior

    def forward(self, item_seq: Tensor, behaviors: Optional[Tensor] = None) -> Tensor:
        hidden = self.model.hidden_states(item_seq, behaviors, self.target_behavior)
        return self.model.score(hidden[:, -1, :])

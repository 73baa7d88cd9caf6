"""Training loop: full-softmax cross-entropy (default) or sampled softmax, early stopping."""

from __future__ import annotations

import copy
import ctypes
import hashlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, TextIO

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from seqrec_model import __version__
from seqrec_model.config import ModelConfig, TrainConfig
from seqrec_model.data import InteractionData, Split, item_counts, leave_one_out, left_pad
from seqrec_model.evaluate import (
    evaluate_model,
    evaluate_popularity,
    format_table,
    headline,
    round_metrics,
)
from seqrec_model.sasrec import MASK_VALUE, SASRec

CHECKPOINT_FORMAT = 1


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def tune_allocator() -> bool:
    """Make glibc keep freed memory in the process instead of returning it to the OS.

    Training allocates several tensors of hundreds of MB per batch (the full-softmax logits and
    their gradient). By default glibc serves each with a fresh ``mmap`` and unmaps it on free, so
    every batch pays for page-faulting all of it again: on a 2-core VM that tripled the time per
    batch. Disabling mmap for large blocks and raising the trim threshold lets the memory be
    reused. Returns False where this is not glibc (then nothing changes).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4
        return bool(libc.mallopt(m_mmap_max, 0)) and bool(
            libc.mallopt(m_trim_threshold, 2**31 - 1)
        )
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False


def configure_threads(threads: int) -> None:
    """Intra-op threads for torch (and its BLAS) plus allocator tuning.

    (Inter-op threads are left alone: eager training does not use them, and setting them a
    second time in one process aborts it.)
    """
    torch.set_num_threads(threads)
    tune_allocator()


def training_arrays(train: List[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Left-padded next-item pairs from each user's last ``max_len + 1`` training items."""
    usable = [s for s in train if len(s) >= 2]
    inputs = left_pad([s[:-1] for s in usable], max_len)
    targets = left_pad([s[1:] for s in usable], max_len)
    return inputs, targets


def _trim(inputs: np.ndarray, targets: np.ndarray) -> tuple[Tensor, Tensor]:
    """Drop leading columns that are padding in every row (positions are right-aligned)."""
    nonzero = (targets != 0).any(axis=0)
    first = int(np.argmax(nonzero)) if nonzero.any() else targets.shape[1] - 1
    return torch.from_numpy(inputs[:, first:]), torch.from_numpy(targets[:, first:])


class NegativeSampler:
    """Shared negatives per batch from a uniform or popularity proposal q, for logQ correction."""

    def __init__(self, counts: np.ndarray, kind: str, num: int, generator: torch.Generator):
        n = len(counts) - 1
        if kind == "uniform":
            probs = np.ones(n + 1, dtype=np.float64)
        else:
            probs = counts.astype(np.float64)
        probs[0] = 0.0
        probs /= probs.sum()
        self.probs = torch.from_numpy(probs)
        with np.errstate(divide="ignore"):
            self.log_q = torch.from_numpy(np.log(probs)).float()
        self.num = num
        self.generator = generator

    def sample(self) -> Tensor:
        return torch.multinomial(self.probs, self.num, replacement=True, generator=self.generator)


class FullSoftmaxCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of ``h @ W.T`` against ``y``, with a memory-lean backward.

    Same value and gradients as ``F.cross_entropy(h @ W.T, y)``, but the [P, N] logits buffer is
    turned into the softmax gradient in place instead of allocating log-softmax outputs and
    their gradients (several passes over hundreds of MB per batch on ML-1M-sized catalogs).
    Not usable with double backward / ``retain_graph``.
    """

    @staticmethod
    def forward(ctx: Any, h: Tensor, weight: Tensor, y: Tensor) -> Tensor:  # type: ignore[override]
        logits = torch.matmul(h, weight.t())
        lse = torch.logsumexp(logits, dim=1)
        target = logits.gather(1, y.unsqueeze(1)).squeeze(1)
        ctx.save_for_backward(h, weight, y, logits, lse)
        return (lse - target).mean()

    @staticmethod
    def backward(ctx: Any, grad: Tensor):  # type: ignore[override]
        h, weight, y, logits, lse = ctx.saved_tensors
        probs = logits.sub_(lse.unsqueeze(1)).exp_()  # softmax, in place
        probs[torch.arange(len(y)), y] -= 1.0
        probs.mul_(grad / len(y))
        grad_h = torch.matmul(probs, weight) if ctx.needs_input_grad[0] else None
        grad_w = torch.matmul(probs.t(), h) if ctx.needs_input_grad[1] else None
        return grad_h, grad_w, None


def batch_loss(
    model: SASRec,
    inputs: Tensor,
    targets: Tensor,
    sampler: Optional[NegativeSampler],
) -> tuple[Tensor, int]:
    """Mean loss over the non-padding positions of a batch, and the number of positions."""
    hidden = model.hidden_states(inputs)
    mask = targets != 0
    h = hidden[mask]  # [P, d]
    y = targets[mask]  # [P]
    emb = model.item_emb.weight
    if sampler is None:
        # Full softmax over items 1..N (padding is never a class).
        return FullSoftmaxCrossEntropy.apply(h, emb[1:], y - 1), int(y.numel())
    negatives = sampler.sample()  # [K]
    pos = (h * emb[y]).sum(dim=-1, keepdim=True) - sampler.log_q[y].unsqueeze(1)
    neg = torch.matmul(h, emb[negatives].t()) - sampler.log_q[negatives].unsqueeze(0)
    neg = neg.masked_fill(negatives.unsqueeze(0) == y.unsqueeze(1), MASK_VALUE)  # accidental hits
    logits = torch.cat([pos, neg], dim=1)
    zeros = torch.zeros(len(y), dtype=torch.long)
    return F.cross_entropy(logits, zeros), int(y.numel())


def weights_hash(model: torch.nn.Module) -> str:
    """SHA-256 over the state dict (names, dtypes, shapes and bytes), hex."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(t.dtype).encode())
        digest.update(str(tuple(t.shape)).encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


@dataclass
class TrainResult:
    model: SASRec
    data: InteractionData
    split: Split
    model_config: ModelConfig
    train_config: TrainConfig
    metrics: Dict[str, Any]
    best_epoch: int
    epochs_trained: int
    train_seconds: float
    history: List[Dict[str, Any]] = field(default_factory=list)


def _fmt_seconds(seconds: float) -> str:
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"


def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    tmp = f"{path}.tmp"
    write(tmp)
    os.replace(tmp, path)


def save_checkpoint(path: str, result_like: Dict[str, Any]) -> None:
    _atomic_write(path, lambda p: torch.save(result_like, p))


def load_checkpoint(path: str) -> Dict[str, Any]:
    ckpt = torch.load(path, map_location="cpu")
    if not isinstance(ckpt, dict) or ckpt.get("format_version") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a seqrec_model checkpoint (format {CHECKPOINT_FORMAT})")
    return ckpt


def model_from_checkpoint(ckpt: Dict[str, Any]) -> SASRec:
    model = SASRec(len(ckpt["item_ids"]), ModelConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model


def train(
    data: InteractionData,
    model_config: ModelConfig,
    train_config: TrainConfig,
    out_dir: Optional[str] = None,
    data_source: Optional[Dict[str, Any]] = None,
    log: TextIO = sys.stdout,
) -> TrainResult:
    """Train SASRec on ``data`` with leave-one-out validation and early stopping.

    Returns the model with the weights of the best validation epoch (headline NDCG@10), and
    test/validation/popularity metrics at that epoch. If ``out_dir`` is given, writes
    ``checkpoint.pt`` (best weights so far, updated on every improvement), ``history.jsonl``
    (one line per epoch) and, at the end, ``metrics.json``.
    """

    def say(msg: str) -> None:
        print(msg, file=log, flush=True)

    cfg = train_config
    threads = cfg.resolved_threads()
    configure_threads(threads)
    set_seed(cfg.seed)

    split = leave_one_out(data.sequences)
    counts = item_counts(split.train, data.num_items)
    inputs, targets = training_arrays(split.train, model_config.max_len)
    if len(inputs) == 0:
        raise ValueError("no user has 2 or more training interactions; nothing to train on")
    if len(split.validation) == 0:
        say("warning: no user has >= 3 interactions: no validation/test; training all epochs")

    model = SASRec(data.num_items, model_config)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), weight_decay=cfg.weight_decay
    )
    sampler = None
    if cfg.loss == "sampled":
        sampler = NegativeSampler(
            counts,
            cfg.negative_sampling,
            cfg.num_negatives,
            torch.Generator().manual_seed(cfg.seed + 1),
        )
    rng = np.random.default_rng(cfg.seed)

    n_params = sum(p.numel() for p in model.parameters())
    say(
        f"data {data.name} ({data.format}): {data.num_users} users, {data.num_items} items, "
        f"{data.num_interactions} interactions; {len(inputs)} training sequences, "
        f"{len(split.validation)} validation/test users"
    )
    say(
        f"model {model_config}; {n_params} parameters; loss {cfg.loss}; threads {threads}; "
        f"torch {torch.__version__}"
    )
    history_path = os.path.join(out_dir, "history.jsonl") if out_dir else None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        open(history_path, "w").close()  # type: ignore[arg-type]

    def checkpoint_payload(state: Dict[str, Tensor], extra: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "format_version": CHECKPOINT_FORMAT,
            "created_by": f"seqrec_model {__version__}",
            "model_config": model_config.to_dict(),
            "train_config": cfg.to_dict(),
            "state_dict": state,
            "item_ids": list(data.item_ids),
            "data": {**data.summary(), **(data_source or {})},
            **extra,
        }

    best_score = -1.0
    best_epoch = 0
    best_state = copy.deepcopy(model.state_dict())
    best_val: Dict[str, Any] = {}
    evals_without_gain = 0
    history: List[Dict[str, Any]] = []
    start = time.perf_counter()
    epoch = 0
    num_batches = (len(inputs) + cfg.batch_size - 1) // cfg.batch_size
    if cfg.max_batches_per_epoch is not None:
        num_batches = min(num_batches, cfg.max_batches_per_epoch)

    for epoch in range(1, cfg.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        order = rng.permutation(len(inputs))
        total_loss = 0.0
        total_positions = 0
        for b in range(num_batches):
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            x, y = _trim(inputs[idx], targets[idx])
            loss, positions = batch_loss(model, x, y, sampler)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += float(loss) * positions
            total_positions += positions
        epoch_loss = total_loss / max(1, total_positions)
        epoch_seconds = time.perf_counter() - epoch_start
        record: Dict[str, Any] = {
            "epoch": epoch,
            "loss": epoch_loss,
            "epoch_seconds": round(epoch_seconds, 3),
        }
        line = f"epoch {epoch:3d}/{cfg.epochs} loss {epoch_loss:.4f} time {epoch_seconds:.1f}s"
        stop = False
        if len(split.validation) and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
            eval_start = time.perf_counter()
            val = evaluate_model(model, split.validation, cfg.eval_batch_size)
            score = headline(val)
            record["validation"] = round_metrics(val)
            line += (
                f" | val NDCG@10 {score:.4f} HR@10 {val['seen_excluded']['HR@10']:.4f}"
                f" (all items: {val['all']['NDCG@10']:.4f} / {val['all']['HR@10']:.4f})"
                f" eval {time.perf_counter() - eval_start:.1f}s"
            )
            if score > best_score:
                best_score, best_epoch, best_val = score, epoch, val
                best_state = copy.deepcopy(model.state_dict())
                evals_without_gain = 0
                line += " *best*"
                if out_dir:
                    save_checkpoint(
                        os.path.join(out_dir, "checkpoint.pt"),
                        checkpoint_payload(
                            best_state,
                            {
                                "best_epoch": epoch,
                                "epochs_trained": epoch,
                                "metrics": {
                                    "validation": round_metrics(val),
                                    "epochs_trained": epoch,
                                    "best_epoch": epoch,
                                    "train_seconds": round(time.perf_counter() - start, 1),
                                },
                            },
                        ),
                    )
            else:
                evals_without_gain += 1
                if evals_without_gain >= cfg.patience:
                    stop = True
        elif not len(split.validation):
            best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
        line += f" total {_fmt_seconds(time.perf_counter() - start)}"
        say(line)
        history.append(record)
        if history_path:
            with open(history_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if stop:
            say(f"early stop: no validation gain for {cfg.patience} evaluations")
            break

    train_seconds = time.perf_counter() - start
    epochs_trained = epoch
    model.load_state_dict(best_state)
    model.eval()

    metrics: Dict[str, Any] = {}
    if len(split.test):
        test = evaluate_model(model, split.test, cfg.eval_batch_size)
        pop = evaluate_popularity(counts, split.test, cfg.eval_batch_size)
        metrics = {"test": test, "validation": best_val, "popularity": pop}
        say(f"best epoch {best_epoch} (validation NDCG@10 {best_score:.4f}); test metrics:")
        say(format_table({"test SASRec": test, "test most-popular": pop}))
    metrics = {
        **round_metrics(metrics),
        "epochs_trained": epochs_trained,
        "best_epoch": best_epoch,
        "train_seconds": round(train_seconds, 1),
    }
    if out_dir:
        save_checkpoint(
            os.path.join(out_dir, "checkpoint.pt"),
            checkpoint_payload(
                best_state,
                {
                    "best_epoch": best_epoch,
                    "epochs_trained": epochs_trained,
                    "metrics": metrics,
                    "train_seconds": metrics["train_seconds"],
                },
            ),
        )
        with open(os.path.join(out_dir, "metrics.json"), "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")
    return TrainResult(
        model=model,
        data=data,
        split=split,
        model_config=model_config,
        train_config=cfg,
        metrics=metrics,
        best_epoch=best_epoch,
        epochs_trained=epochs_trained,
        train_seconds=train_seconds,
        history=history,
    )

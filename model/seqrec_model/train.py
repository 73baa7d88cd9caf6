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
from seqrec_model.data import (
    BEHAVIOR_CODES,
    InteractionData,
    held_out_last,
    Split,
    item_counts,
    leave_one_out,
    left_pad,
)
from seqrec_model.evaluate import (
    evaluate_model,
    evaluate_popularity,
    format_table,
    headline,
    round_metrics,
)
from seqrec_model import dp
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


def behavior_arrays(
    train: List[np.ndarray], behaviors: List[np.ndarray], max_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """The behaviors aligned with :func:`training_arrays`: each input step's behavior and each
    target step's (the behavior of the next event, which a target-behavior model learns to be
    asked for)."""
    usable = [b for s, b in zip(train, behaviors) if len(s) >= 2]
    return left_pad([b[:-1] for b in usable], max_len), left_pad([b[1:] for b in usable], max_len)


def _trim(*arrays: np.ndarray) -> tuple[Tensor, ...]:
    """Drop leading columns that are padding in every row of the targets (the second array;
    positions are right-aligned) from every array."""
    targets = arrays[1]
    nonzero = (targets != 0).any(axis=0)
    first = int(np.argmax(nonzero)) if nonzero.any() else targets.shape[1] - 1
    return tuple(torch.from_numpy(a[:, first:]) for a in arrays)


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
        self.gbce_beta: Optional[float] = None  # set for the gBCE loss

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


def gbce_beta(num_negatives: int, num_items: int, t: float) -> float:
    """gSASRec's (Petrov & Macdonald, RecSys 2023) power on the positive probability:
    beta = alpha * (t * (1 - 1/alpha) + 1/alpha), alpha = negatives / (items - 1) the sampling
    rate. t = 0 gives beta = 1 (plain BCE with sampled negatives), t = 1 gives beta = alpha."""
    alpha = min(1.0, num_negatives / max(1, num_items - 1))
    return alpha * (t * (1.0 - 1.0 / alpha) + 1.0 / alpha)


def gbce_loss(h: Tensor, emb: Tensor, y: Tensor, negatives: Tensor, beta: float) -> Tensor:
    """Generalised binary cross-entropy: -beta*log(sigmoid(s+)) - sum log(1 - sigmoid(s-)),
    averaged over the 1 + K logits of each position (as gSASRec's reference code does) and over
    positions. Negatives that are the position's own target are left out."""
    pos = (h * emb[y]).sum(dim=-1)  # [P]
    neg = torch.matmul(h, emb[negatives].t())  # [P, K]
    hit = negatives.unsqueeze(0) == y.unsqueeze(1)
    neg_loss = F.softplus(neg).masked_fill(hit, 0.0).sum(dim=1)
    per_position = beta * F.softplus(-pos) + neg_loss
    return per_position.mean() / (1 + negatives.numel())


def batch_loss(
    model: SASRec,
    inputs: Tensor,
    targets: Tensor,
    sampler: Optional[NegativeSampler],
    behaviors: Optional[Tensor] = None,
    target_behaviors: Optional[Tensor] = None,
) -> tuple[Tensor, int]:
    """Mean loss over the non-padding positions of a batch, and the number of positions.
    ``behaviors``: the input steps' behaviors (type-aware model); ``target_behaviors``: the
    behavior asked for at each position (target-behavior model)."""
    hidden = model.hidden_states(inputs, behaviors, target_behaviors)
    mask = targets != 0
    h = hidden[mask]  # [P, d]
    y = targets[mask]  # [P]
    emb = model.item_emb.weight
    if sampler is None:
        # Full softmax over items 1..N (padding is never a class).
        return FullSoftmaxCrossEntropy.apply(h, emb[1:], y - 1), int(y.numel())
    negatives = sampler.sample()  # [K]
    if sampler.gbce_beta is not None:
        return gbce_loss(h, emb, y, negatives, sampler.gbce_beta), int(y.numel())
    pos = (h * emb[y]).sum(dim=-1, keepdim=True) - sampler.log_q[y].unsqueeze(1)
    neg = torch.matmul(h, emb[negatives].t()) - sampler.log_q[negatives].unsqueeze(0)
    neg = neg.masked_fill(negatives.unsqueeze(0) == y.unsqueeze(1), MASK_VALUE)  # accidental hits
    logits = torch.cat([pos, neg], dim=1)
    zeros = torch.zeros(len(y), dtype=torch.long)
    return F.cross_entropy(logits, zeros), int(y.numel())


def _dp_step(
    model: SASRec,
    inputs: np.ndarray,
    targets: np.ndarray,
    plan: dp.DpPlan,
    noise: torch.Generator,
    chunk: int,
) -> tuple[Tensor, int]:
    """Set ``.grad`` of every parameter to the DP-SGD gradient of one Poisson batch (users'
    gradients clipped, summed, noised, divided by the expected batch size); returns the batch's
    mean loss (for the log only) and its number of target positions. An empty batch still gets
    its noise: the accountant assumes a step happens whatever was sampled."""
    positions = int((targets != 0).sum())
    if len(inputs):
        x, y = _trim(inputs, targets)
        sums, _, losses = dp.clipped_gradient_sum(model, x, y, plan.clip, chunk)
        loss = losses.mean()
    else:
        sums = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
        loss = torch.tensor(0.0)
    grads = dp.noisy_mean(sums, plan.noise_multiplier, plan.clip, plan.expected_batch, noise)
    grads["item_emb.weight"][0] = 0.0  # the padding row stays zero (public, never used)
    for name, p in model.named_parameters():
        p.grad = grads[name]
    return loss, positions


class LearningRate:
    """Learning rate per optimizer step: linear warm-up from lr/100 over ``warmup_epochs`` worth
    of steps, then ``constant``, ``cosine`` (down to ``min_lr_ratio * lr`` at the epoch cap) or
    ``plateau`` (times ``plateau_factor`` after ``plateau_patience`` evaluations without a
    validation gain of ``min_delta``, not below ``min_lr_ratio * lr``)."""

    def __init__(self, cfg: TrainConfig, steps_per_epoch: int) -> None:
        self.cfg = cfg
        self.warmup_steps = int(round(cfg.warmup_epochs * steps_per_epoch))
        self.total_steps = max(1, cfg.epochs * steps_per_epoch)
        self.plateau_scale = 1.0
        self.evals_without_gain = 0

    def at(self, step: int) -> float:
        """Learning rate for 0-based optimizer step ``step``."""
        cfg = self.cfg
        if step < self.warmup_steps:
            return cfg.lr * (0.01 + 0.99 * (step + 1) / self.warmup_steps)
        if cfg.lr_schedule == "cosine":
            span = max(1, self.total_steps - self.warmup_steps)
            progress = min(1.0, (step - self.warmup_steps) / span)
            floor = cfg.min_lr_ratio
            return cfg.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + np.cos(np.pi * progress)))
        if cfg.lr_schedule == "plateau":
            return cfg.lr * self.plateau_scale
        return cfg.lr

    def evaluated(self, significant_gain: bool) -> bool:
        """Tell the schedule about an evaluation; True if the plateau schedule lowered the lr."""
        if self.cfg.lr_schedule != "plateau":
            return False
        if significant_gain:
            self.evals_without_gain = 0
            return False
        self.evals_without_gain += 1
        if self.evals_without_gain < self.cfg.plateau_patience:
            return False
        self.evals_without_gain = 0
        lowered = max(self.cfg.min_lr_ratio, self.plateau_scale * self.cfg.plateau_factor)
        changed = lowered < self.plateau_scale
        self.plateau_scale = lowered
        return changed


class EarlyStopping:
    """Patience in evaluations: an evaluation resets it only if it beats the score of the last
    reset by more than ``min_delta``; the best weights are those of the highest score anyway."""

    def __init__(self, patience: int, min_delta: float) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("-inf")
        self.reference = float("-inf")
        self.evals_without_gain = 0

    def update(self, score: float) -> tuple[bool, bool]:
        """(new best, significant gain) for this evaluation's score."""
        new_best = score > self.best
        if new_best:
            self.best = score
        significant = score > self.reference + self.min_delta or self.reference == float("-inf")
        if significant:
            self.reference = score
            self.evals_without_gain = 0
        else:
            self.evals_without_gain += 1
        return new_best, significant

    @property
    def exhausted(self) -> bool:
        return self.evals_without_gain >= self.patience


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
    clock: Callable[[], float] = time.perf_counter,
    extra_metrics: Optional[Dict[str, Any]] = None,
    initialize: Optional[Callable[[SASRec], Optional[Dict[str, Any]]]] = None,
) -> TrainResult:
    """Train SASRec on ``data`` with leave-one-out validation and early stopping.

    Returns the model with the weights of the best validation epoch (headline NDCG@10), and
    test/validation/popularity metrics at that epoch. If ``out_dir`` is given, writes
    ``checkpoint.pt`` (best weights so far, updated on every improvement), ``history.jsonl``
    (one line per epoch) and, at the end, ``metrics.json``. ``initialize(model)``, if given,
    changes the freshly built model's weights before training (a warm start); a dict it returns
    is added to the metrics.
    """

    def say(msg: str) -> None:
        print(msg, file=log, flush=True)

    cfg = train_config
    threads = cfg.resolved_threads()
    configure_threads(threads)
    set_seed(cfg.seed)

    typed = model_config.behaviors or model_config.target_behavior
    if typed and data.behaviors is None:
        raise ValueError(
            f"a behavior-aware model needs data with behavior types (formats events, "
            f"retailrocket); {data.format} has none"
        )
    split = leave_one_out(data.sequences, data.behaviors if typed else None, held_out_last(data))
    counts = item_counts(split.train, data.num_items)
    inputs, targets = training_arrays(split.train, model_config.max_len)
    in_beh = tgt_beh = None
    if typed:
        assert split.train_behaviors is not None
        in_beh, tgt_beh = behavior_arrays(split.train, split.train_behaviors, model_config.max_len)
    asked = BEHAVIOR_CODES[cfg.eval_target] if cfg.eval_target != "any" else 0
    private = cfg.dp_epsilon is not None
    if private and typed:
        raise ValueError("dp_epsilon: behavior-aware models are not supported with DP-SGD yet")
    if len(inputs) == 0:
        raise ValueError("no user has 2 or more training interactions; nothing to train on")
    if len(split.validation) == 0:
        say("warning: no user has >= 3 interactions: no validation/test; training all epochs")

    model = SASRec(data.num_items, model_config)
    init_info = initialize(model) if initialize is not None else None
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), weight_decay=cfg.weight_decay
    )
    sampler = None
    if cfg.loss in ("sampled", "gbce"):
        sampler = NegativeSampler(
            counts,
            cfg.negative_sampling,
            cfg.num_negatives,
            torch.Generator().manual_seed(cfg.seed + 1),
        )
        if cfg.loss == "gbce":
            sampler.gbce_beta = gbce_beta(cfg.num_negatives, data.num_items, cfg.gbce_t)
    rng = np.random.default_rng(cfg.seed)
    target_gen = torch.Generator().manual_seed(cfg.seed + 2)

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
    stopping = EarlyStopping(cfg.patience, cfg.min_delta)
    history: List[Dict[str, Any]] = []
    start = clock()
    epoch = 0
    num_batches = (len(inputs) + cfg.batch_size - 1) // cfg.batch_size
    if cfg.max_batches_per_epoch is not None:
        num_batches = min(num_batches, cfg.max_batches_per_epoch)
    schedule = LearningRate(cfg, num_batches)
    dp_plan: Optional[dp.DpPlan] = None
    if private:
        # One training row per user (training_arrays): the row is the privacy unit. An "epoch"
        # is num_batches Poisson-sampled steps, num_batches * q = one pass in expectation.
        assert cfg.dp_epsilon is not None
        dp_plan = dp.plan(
            cfg.dp_epsilon,
            cfg.dp_delta,
            cfg.dp_clip,
            len(inputs),
            cfg.batch_size,
            cfg.epochs * num_batches,
        )
        say(dp.describe(dp_plan))
        if cfg.dp_delta >= 1.0 / len(inputs):
            say(f"warning: delta {cfg.dp_delta:g} >= 1/users: a weak guarantee")
        say(
            "DP: the model is the last step's (no selection or early stop on validation data);"
            " the printed losses and validation figures are not covered by the guarantee"
        )
    noise_gen = torch.Generator().manual_seed(cfg.seed + 3)
    step = 0
    eval_seconds = 0.0  # duration of the last evaluation (for the time budget's estimate)
    stop_reason = "epoch_cap"
    stop_detail = f"reached the epoch cap ({cfg.epochs})"

    for epoch in range(1, cfg.epochs + 1):
        epoch_start = clock()
        model.train()
        order = rng.permutation(len(inputs))
        total_loss = 0.0
        total_positions = 0
        for b in range(num_batches):
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            lr = schedule.at(step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            if dp_plan is not None:
                idx = dp.poisson_batch(rng, len(inputs), dp_plan.sample_rate)
                loss, positions = _dp_step(
                    model, inputs[idx], targets[idx], dp_plan, noise_gen, cfg.dp_chunk
                )
                optimizer.step()
            elif in_beh is None or tgt_beh is None:
                x, y = _trim(inputs[idx], targets[idx])
                loss, positions = batch_loss(model, x, y, sampler)
            else:
                x, y, xb, yb = _trim(inputs[idx], targets[idx], in_beh[idx], tgt_beh[idx])
                asked_b = None
                if model_config.target_behavior:
                    # half of the positions are asked for "any" next event (code 0), so one
                    # model answers both questions
                    any_mask = torch.rand(yb.shape, generator=target_gen) < 0.5
                    asked_b = yb.masked_fill(any_mask, 0)
                loss, positions = batch_loss(
                    model, x, y, sampler, xb if model_config.behaviors else None, asked_b
                )
            if dp_plan is None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            step += 1
            total_loss += float(loss) * positions
            total_positions += positions
        epoch_loss = total_loss / max(1, total_positions)
        epoch_seconds = clock() - epoch_start
        record: Dict[str, Any] = {
            "epoch": epoch,
            "loss": epoch_loss,
            "epoch_seconds": round(epoch_seconds, 3),
            "lr": float(f"{lr:.6g}"),
        }
        line = (
            f"epoch {epoch:3d}/{cfg.epochs} loss {epoch_loss:.4f} lr {lr:.2e} "
            f"time {epoch_seconds:.1f}s"
        )
        # Time budget: stop after this epoch if the next one (and its evaluation) would not end
        # within it; this epoch is then evaluated whatever --eval-every says.
        out_of_time = False
        if cfg.time_budget is not None:
            next_is_eval = (epoch + 1) % cfg.eval_every == 0
            this_is_eval = epoch % cfg.eval_every == 0
            projected = (
                (clock() - start)
                + (eval_seconds if this_is_eval else 0.0)
                + epoch_seconds
                + (eval_seconds if next_is_eval else 0.0)
            )
            out_of_time = projected > cfg.time_budget
        last = epoch == cfg.epochs or out_of_time
        stop = False
        if len(split.validation) and (epoch % cfg.eval_every == 0 or last):
            eval_start = clock()
            val = evaluate_model(
                model, split.validation, cfg.eval_batch_size, target_behavior=asked
            )
            eval_seconds = clock() - eval_start
            score = headline(val)
            record["validation"] = round_metrics(val)
            line += (
                f" | val NDCG@10 {score:.4f} HR@10 {val['seen_excluded']['HR@10']:.4f}"
                f" (all items: {val['all']['NDCG@10']:.4f} / {val['all']['HR@10']:.4f})"
                f" eval {eval_seconds:.1f}s"
            )
            new_best, significant = stopping.update(score)
            if schedule.evaluated(significant):
                line += f" lr -> {schedule.at(step):.2e}"
            if private:
                # the validation items must not choose the released weights: the last ones
                new_best, stopping.evals_without_gain = epoch == cfg.epochs, 0
            if new_best:
                best_score, best_epoch, best_val = score, epoch, val
                best_state = copy.deepcopy(model.state_dict())
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
                                    "train_seconds": round(clock() - start, 1),
                                },
                            },
                        ),
                    )
            if stopping.exhausted:
                stop = True
                stop_reason = "patience"
                gain = f" of more than {cfg.min_delta}" if cfg.min_delta > 0 else ""
                stop_detail = f"no validation NDCG@10 gain{gain} for {cfg.patience} evaluations"
        elif not len(split.validation):
            best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
        if out_of_time and not stop:
            stop = True
            stop_reason = "time_budget"
            stop_detail = (
                f"the next epoch would end after the time budget "
                f"({_fmt_seconds(cfg.time_budget or 0.0)})"
            )
        line += f" total {_fmt_seconds(clock() - start)}"
        say(line)
        history.append(record)
        if history_path:
            with open(history_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if stop:
            break

    say(f"stopped after epoch {epoch}: {stop_reason} ({stop_detail}); best epoch {best_epoch}")

    train_seconds = clock() - start
    epochs_trained = epoch
    dp_metrics: Dict[str, Any] = {}
    if dp_plan is not None:
        spent, order = dp_plan.spent(step)
        say(
            f"privacy spent: epsilon {spent:.4f}, delta {dp_plan.delta:g} (RDP order {order:g}) "
            f"after {step} steps; target epsilon {dp_plan.target_epsilon:g}"
        )
        dp_metrics = {
            "dp": {
                "epsilon": round(spent, 6),
                "delta": dp_plan.delta,
                "target_epsilon": dp_plan.target_epsilon,
                "rdp_order": order,
                "noise_multiplier": round(dp_plan.noise_multiplier, 6),
                "clip": dp_plan.clip,
                "sample_rate": round(dp_plan.sample_rate, 8),
                "expected_batch": round(dp_plan.expected_batch, 3),
                "users": dp_plan.users,
                "steps": step,
                "unit": "user",
                "sampling": "poisson",
                "accountant": "RDP of the sampled Gaussian mechanism (Mironov et al. 2019), "
                "Balle et al. 2020 conversion",
                "released_weights": "last step",
            }
        }
    model.load_state_dict(best_state)
    model.eval()

    metrics: Dict[str, Any] = {}
    if len(split.test):
        test = evaluate_model(model, split.test, cfg.eval_batch_size, target_behavior=asked)
        pop = evaluate_popularity(counts, split.test, cfg.eval_batch_size)
        metrics = {"test": test, "validation": best_val, "popularity": pop}
        say(f"best epoch {best_epoch} (validation NDCG@10 {best_score:.4f}); test metrics:")
        say(format_table({"test SASRec": test, "test most-popular": pop}))
    metrics = {
        **round_metrics(metrics),
        "epochs_trained": epochs_trained,
        "best_epoch": best_epoch,
        "train_seconds": round(train_seconds, 1),
        "stop_reason": stop_reason,
        "stop_detail": stop_detail,
        "time_budget_seconds": cfg.time_budget,
        "final_lr": float(f"{schedule.at(max(0, step - 1)):.6g}"),
        **(extra_metrics or {}),
        **(init_info or {}),
        **dp_metrics,
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

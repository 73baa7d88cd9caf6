"""Typed, immutable configuration for the model and its training."""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Mapping, Optional, Type, TypeVar

from seqrec_model.events import EVENT_TYPES

LOSSES = ("ce", "sampled", "gbce")
NEGATIVE_SAMPLERS = ("uniform", "popularity")
LR_SCHEDULES = ("constant", "cosine", "plateau")
STOP_REASONS = ("patience", "time_budget", "epoch_cap")
EVAL_TARGETS = ("any",) + EVENT_TYPES

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([hms])")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``45m``, ``1h30m``, ``90s``, ``2.5h`` or ``2700`` (seconds)."""
    t = text.strip().lower()
    try:
        seconds = float(t)
    except ValueError:
        pos, seconds = 0, 0.0
        for m in _DURATION.finditer(t):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * {"h": 3600, "m": 60, "s": 1}[m.group(2)]
            pos = m.end()
        if pos != len(t) or not t:
            raise ValueError(f"not a duration: {text!r} (e.g. 45m, 1h30m, 90s, 2700)")
    if seconds <= 0:
        raise ValueError(f"duration must be > 0, got {text!r}")
    return seconds


T = TypeVar("T")


def _from_dict(cls: Type[T], values: Mapping[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(unknown)}")
    return cls(**values)  # type: ignore[call-arg]


@dataclass(frozen=True)
class ModelConfig:
    """SASRec architecture."""

    max_len: int = 50
    hidden: int = 64
    blocks: int = 2
    heads: int = 1
    dropout: float = 0.2
    # Appended in issue 16 (defaults keep the single-behavior model and its artifacts):
    behaviors: bool = False  # a behavior-type embedding added to each step (second input)
    # a target-behavior vector added to the final hidden state: one model answers "what next"
    # (code 0, any behavior) and "what will they buy next" (code 4); trained on the next step's
    # behavior, replaced by "any" with probability 1/2
    target_behavior: bool = False

    def __post_init__(self) -> None:
        if self.max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {self.max_len}")
        if self.hidden < 1 or self.blocks < 1 or self.heads < 1:
            raise ValueError("hidden, blocks and heads must be >= 1")
        if self.hidden % self.heads != 0:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ModelConfig":
        return _from_dict(cls, values)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, loss, early stopping and runtime settings."""

    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 42
    loss: str = "ce"
    num_negatives: int = 256
    negative_sampling: str = "uniform"
    patience: int = 10
    eval_every: int = 1
    eval_batch_size: int = 256
    threads: int = 0
    max_batches_per_epoch: Optional[int] = None
    # Appended in issue 19 (defaults keep the earlier behaviour):
    time_budget: Optional[float] = None  # seconds of training (evaluations included)
    min_delta: float = 0.0  # validation gain needed to reset patience
    lr_schedule: str = "constant"
    warmup_epochs: float = 0.0  # linear warm-up from lr/100 (steps, counted in epochs)
    min_lr_ratio: float = 0.01  # cosine floor, and plateau's lowest lr, as a fraction of lr
    plateau_factor: float = 0.5  # plateau: lr *= factor after plateau_patience evals w/o gain
    plateau_patience: int = 2
    gbce_t: float = 0.75  # gBCE calibration t (gSASRec); 0 = plain BCE with negatives
    # Appended in issue 16: the behavior a target-behavior model is asked for in validation and
    # test ("any", or an event type: "purchase" for RetailRocket's held-out purchases)
    eval_target: str = "any"
    # Appended in issue 17: user-level DP-SGD (None = off). The noise is calibrated so that the
    # whole run (epochs x steps per epoch, fixed in advance) spends at most dp_epsilon.
    dp_epsilon: Optional[float] = None
    dp_delta: float = 1e-5
    dp_clip: float = 1.0  # L2 bound on each user's gradient
    dp_chunk: int = 32  # users per vmap call (memory: each per-user gradient is dense)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.negative_sampling not in NEGATIVE_SAMPLERS:
            raise ValueError(
                f"negative_sampling must be one of {NEGATIVE_SAMPLERS}, "
                f"got {self.negative_sampling!r}"
            )
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError("epochs, batch_size and eval_batch_size must be >= 1")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("lr must be > 0 and weight_decay >= 0")
        if self.num_negatives < 1:
            raise ValueError("num_negatives must be >= 1")
        if self.patience < 1 or self.eval_every < 1:
            raise ValueError("patience and eval_every must be >= 1")
        if self.threads < 0:
            raise ValueError("threads must be >= 0 (0 = all available cores)")
        if self.max_batches_per_epoch is not None and self.max_batches_per_epoch < 1:
            raise ValueError("max_batches_per_epoch must be >= 1 when given")
        if self.time_budget is not None and self.time_budget <= 0:
            raise ValueError("time_budget must be > 0 seconds when given")
        if self.min_delta < 0:
            raise ValueError("min_delta must be >= 0")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.warmup_epochs < 0:
            raise ValueError("warmup_epochs must be >= 0")
        if not 0.0 < self.min_lr_ratio <= 1.0 or not 0.0 < self.plateau_factor < 1.0:
            raise ValueError("min_lr_ratio must be in (0, 1] and plateau_factor in (0, 1)")
        if self.plateau_patience < 1:
            raise ValueError("plateau_patience must be >= 1")
        if not 0.0 <= self.gbce_t <= 1.0:
            raise ValueError("gbce_t must be in [0, 1]")
        if self.eval_target not in EVAL_TARGETS:
            raise ValueError(f"eval_target must be one of {EVAL_TARGETS}, got {self.eval_target!r}")
        self._check_dp()

    def _check_dp(self) -> None:
        """DP needs its parameters in range and a number of steps known before training: no
        time budget, nothing that reads the validation data or the item counts."""
        if not 0.0 < self.dp_delta < 1.0:
            raise ValueError(f"dp_delta must be in (0, 1), got {self.dp_delta}")
        if not self.dp_clip > 0.0 or not math.isfinite(self.dp_clip):
            raise ValueError(f"dp_clip must be a finite number > 0, got {self.dp_clip}")
        if self.dp_chunk < 1:
            raise ValueError(f"dp_chunk must be >= 1, got {self.dp_chunk}")
        if self.dp_epsilon is None:
            return
        if not self.dp_epsilon > 0.0 or not math.isfinite(self.dp_epsilon):
            raise ValueError(f"dp_epsilon must be a finite number > 0, got {self.dp_epsilon}")
        if self.time_budget is not None:
            raise ValueError(
                "dp_epsilon needs a fixed number of steps (the noise is calibrated for them "
                "before training): no time budget (the sparse preset sets one: --preset dense)"
            )
        if self.lr_schedule == "plateau":
            raise ValueError(
                "dp_epsilon: the plateau schedule reads the validation data; use constant or "
                "cosine (the sparse preset sets plateau: --preset dense)"
            )
        if self.loss != "ce":
            raise ValueError(
                "dp_epsilon needs --loss ce (full softmax: sampled negatives would need their "
                "own argument, popularity negatives are a release of item counts)"
            )

    def resolved_threads(self) -> int:
        """Number of intra-op threads to use (0 means every core this process may run on)."""
        if self.threads > 0:
            return self.threads
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - non-Linux
            return max(1, os.cpu_count() or 1)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
        return _from_dict(cls, values)

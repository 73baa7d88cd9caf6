"""Training presets: ``dense`` (the plain SASRec-CE recipe, the defaults) and ``sparse`` (large
catalogs, short histories: the Amazon recipe chosen by measurement in docs/BENCHMARKS.md).
``auto`` picks one from the catalog size and the mean history length of the data."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

from seqrec_model.data import InteractionData

PRESET_NAMES = ("auto", "dense", "sparse", "none")

# Options each preset sets (ModelConfig and TrainConfig field names); options given on the
# command line win. "dense" is empty: it is exactly the defaults, the ML-1M recipe's basis.
PRESETS: Dict[str, Dict[str, Any]] = {
    "dense": {},
    "none": {},
    # Measured on Amazon Games (docs/BENCHMARKS.md, "Sparse catalogs: the recipe"): full-softmax
    # CE (affordable: short histories make few positions per batch), dropout 0.5, a larger lr
    # with a one-epoch warm-up, halved on plateaus, and a time budget instead of an epoch count.
    "sparse": {
        "max_len": 50,
        "hidden": 64,
        "blocks": 2,
        "heads": 1,
        "dropout": 0.5,
        "loss": "ce",
        "lr": 2e-3,
        "warmup_epochs": 1.0,
        "lr_schedule": "plateau",
        "plateau_patience": 2,
        "plateau_factor": 0.5,
        "batch_size": 128,
        "epochs": 200,
        "eval_every": 1,
        "patience": 6,
        "min_delta": 1e-4,
        "time_budget": 50 * 60.0,
    },
}

# auto: sparse when the catalog is large and the histories short.
SPARSE_MIN_ITEMS = 10_000
SPARSE_MAX_MEAN_LENGTH = 30.0


def choose_preset(data: InteractionData) -> Tuple[str, str]:
    """(preset, reason) for ``--preset auto``."""
    mean_len = data.num_interactions / max(1, data.num_users)
    shape = f"{data.num_items} items, {mean_len:.1f} interactions per user"
    if data.num_items >= SPARSE_MIN_ITEMS and mean_len <= SPARSE_MAX_MEAN_LENGTH:
        return "sparse", (
            f"{shape}: >= {SPARSE_MIN_ITEMS} items and <= {SPARSE_MAX_MEAN_LENGTH:g} per user"
        )
    return "dense", (
        f"{shape}: not (>= {SPARSE_MIN_ITEMS} items and <= {SPARSE_MAX_MEAN_LENGTH:g} per user)"
    )


def resolve(
    preset: str, data: InteractionData, given: Mapping[str, Any]
) -> Tuple[str, str, Dict[str, Any]]:
    """(preset used, why, options): the preset's options overridden by those ``given``
    (command-line options that were set; None = not given)."""
    if preset not in PRESET_NAMES:
        raise ValueError(f"preset must be one of {PRESET_NAMES}, got {preset!r}")
    if preset == "auto":
        name, why = choose_preset(data)
    else:
        name, why = preset, "chosen with --preset"
    options = dict(PRESETS[name])
    options.update({k: v for k, v in given.items() if v is not None})
    return name, why, options

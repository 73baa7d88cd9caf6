"""Warm start (``train --init-from``): a new model initialised from a previous one.

The previous model is a training checkpoint (``checkpoint.pt``, or the run directory holding it)
or an exported serving artifact directory. An artifact carries its PyTorch weights in
``weights.pt`` (written by the export next to ``model.onnx``; the job never reads it): the
``state_dict`` itself, so the weights come back bit for bit whatever the exporter did to the
graph. An artifact without it (exported before it existed, or fetched from a model registry,
which keeps only the files the job reads) still works: the weights are read back from
``model.onnx``'s initializers. Most keep their parameter names, but ``torch.onnx`` constant-folds
every Linear weight into an anonymous transposed initializer (``onnx::MatMul_307``), found through
the graph's wiring (the MatMul feeding the Add of the layer's named bias). Either way the weights
are checked against the artifact's ``model_version`` (the SHA-256 of the weights), so a wrong
mapping or a mismatched file is refused rather than used.

What is carried over: the new vocabulary is the new data's (indices are assigned afresh), so item
embedding rows are copied by external item id; items new to the data keep the fresh
initialisation of a new model; every other weight (positional embedding, attention, feed-forward,
layer norms) starts from the previous model. Items the previous model knew that are absent from
the new data are dropped. The model shape (max_len, hidden, blocks, heads) is the previous
model's; a conflicting command-line shape is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

import torch

from seqrec_model.config import ModelConfig
from seqrec_model.sasrec import SASRec

WEIGHTS_FILE = "weights.pt"
WEIGHTS_FORMAT = 1
#: The learning rate of a warm start unless --lr is given: twice the from-scratch default. With
#: it the warm v2 of the time split is within 1 % of v2 from scratch in 30 % of its time on
#: RetailRocket, the synthetic drift, and ml-latest-small over four seeds (docs/BENCHMARKS.md,
#: "Warm start against retraining from scratch"); with 1e-3 it stayed 9-45 % below.
WARM_START_LR = 2e-3
SHAPE_FIELDS = ("max_len", "hidden", "blocks", "heads", "behaviors", "target_behavior")
ITEM_EMBEDDING = "item_emb.weight"


class WarmStartError(ValueError):
    """The previous model cannot be read or does not fit the new training."""


def save_weights(model: SASRec, out_dir: str) -> str:
    """Write ``weights.pt`` (the state dict and the model shape) into an artifact directory."""
    path = os.path.join(out_dir, WEIGHTS_FILE)
    payload = {
        "format_version": WEIGHTS_FORMAT,
        "model_config": model.config.to_dict(),
        "num_items": model.num_items,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    tmp = f"{path}.tmp"
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class PreviousModel:
    """A model to warm-start from."""

    source: str  # the path given
    kind: str  # "checkpoint", "artifact" (weights.pt) or "artifact-onnx" (read from model.onnx)
    model_config: ModelConfig
    item_ids: List[str]
    state_dict: Dict[str, torch.Tensor]
    model_version: Optional[str]  # an artifact's; None for a checkpoint
    weights_hash: str  # 12 hex digits of the weights' SHA-256 (model_version's suffix)

    def model(self) -> SASRec:
        m = SASRec(len(self.item_ids), self.model_config)
        m.load_state_dict(self.state_dict)
        m.eval()
        return m


def _hash12(config: ModelConfig, item_ids: Sequence[str], state: Mapping[str, Any]) -> str:
    from seqrec_model.train import weights_hash

    m = SASRec(len(item_ids), config)
    m.load_state_dict(state)
    return weights_hash(m)[:12]


def _from_checkpoint(path: str, source: str) -> PreviousModel:
    from seqrec_model.train import load_checkpoint

    ckpt = load_checkpoint(path)
    config = ModelConfig.from_dict(ckpt["model_config"])
    item_ids = [str(i) for i in ckpt["item_ids"]]
    state = ckpt["state_dict"]
    return PreviousModel(
        source=source,
        kind="checkpoint",
        model_config=config,
        item_ids=item_ids,
        state_dict=state,
        model_version=None,
        weights_hash=_hash12(config, item_ids, state),
    )


def _from_artifact(directory: str) -> PreviousModel:
    meta_path = os.path.join(directory, "metadata.json")
    weights_path = os.path.join(directory, WEIGHTS_FILE)
    with open(meta_path, "r", encoding="utf-8") as f:
        meta = json.load(f)
    version = meta.get("model_version")
    with open(os.path.join(directory, "items.txt"), "r", encoding="utf-8") as f:
        item_ids = [line.rstrip("\n") for line in f]
    if os.path.isfile(weights_path):
        payload = torch.load(weights_path, map_location="cpu")
        if not isinstance(payload, dict) or payload.get("format_version") != WEIGHTS_FORMAT:
            raise WarmStartError(f"{weights_path}: not a seqrec_model weights file")
        config = ModelConfig.from_dict(payload["model_config"])
        state = payload["state_dict"]
        num_items, origin = payload["num_items"], weights_path
    else:
        config = ModelConfig(
            max_len=meta["max_len"],
            hidden=meta["hidden_size"],
            blocks=meta["num_blocks"],
            heads=meta["num_heads"],
            dropout=meta["dropout"],
            behaviors=(meta.get("steps") or {}).get("behaviors_input") is not None,
            target_behavior=(meta.get("steps") or {}).get("target_behavior") is not None,
        )
        origin = os.path.join(directory, "model.onnx")
        num_items = meta.get("num_items")
        if config.target_behavior:
            # the served graph holds only the asked behavior's vector (a folded constant)
            raise WarmStartError(
                f"{directory}: a target-behavior model cannot be read back from model.onnx (its "
                f"graph keeps only the served behavior's vector); warm-start from its "
                f"{WEIGHTS_FILE} or its run directory"
            )
        state = state_from_onnx(origin, SASRec(len(item_ids), config))
    if len(item_ids) != num_items or len(item_ids) != meta.get("num_items"):
        raise WarmStartError(
            f"{directory}: items.txt has {len(item_ids)} items, {os.path.basename(origin)} "
            f"{num_items}, metadata.json {meta.get('num_items')}"
        )
    digest = _hash12(config, item_ids, state)
    if version is None or not str(version).endswith(f"-{digest}"):
        raise WarmStartError(
            f"{origin}: the weights (hash {digest}) are not those of the artifact's "
            f"model_version {version}"
        )
    return PreviousModel(
        source=directory,
        kind="artifact" if origin == weights_path else "artifact-onnx",
        model_config=config,
        item_ids=item_ids,
        state_dict=state,
        model_version=str(version),
        weights_hash=digest,
    )


def state_from_onnx(path: str, template: SASRec) -> Dict[str, torch.Tensor]:
    """The state dict of ``template``'s shape read from an exported ``model.onnx``: parameters by
    their initializer name (``model.<name>``), Linear weights as the transpose of the MatMul
    initializer whose output the Add of the layer's bias consumes."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    inits = {i.name: i for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    linear_weight: Dict[str, str] = {}
    for node in graph.node:
        if node.op_type != "Add":
            continue
        for bias in node.input:
            if not bias.endswith(".bias") or bias not in inits:
                continue
            for other in node.input:
                matmul = producer.get(other)
                if matmul is not None and matmul.op_type == "MatMul" and matmul.input[1] in inits:
                    linear_weight[bias[: -len(".bias")] + ".weight"] = matmul.input[1]
    state: Dict[str, torch.Tensor] = {}
    linears = {
        f"{name}.weight" for name, m in template.named_modules() if isinstance(m, torch.nn.Linear)
    }
    for key, value in template.state_dict().items():
        name = f"model.{key}"
        if key in linears and name in linear_weight:
            array = numpy_helper.to_array(inits[linear_weight[name]]).T
        elif name in inits:
            array = numpy_helper.to_array(inits[name])
        else:
            raise WarmStartError(f"{path}: parameter {key} not found in the graph")
        if tuple(array.shape) != tuple(value.shape):
            raise WarmStartError(
                f"{path}: {key} has shape {array.shape} in the graph, {tuple(value.shape)} in "
                f"the model of metadata.json's shape"
            )
        state[key] = torch.from_numpy(array.copy()).to(value.dtype)
    return state


def load_previous(path: str) -> PreviousModel:
    """A checkpoint file, a run directory with ``checkpoint.pt``, or an artifact directory."""
    if os.path.isfile(path):
        return _from_checkpoint(path, path)
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "metadata.json")):
            return _from_artifact(path)
        ckpt = os.path.join(path, "checkpoint.pt")
        if os.path.isfile(ckpt):
            return _from_checkpoint(ckpt, path)
        raise WarmStartError(
            f"{path}: neither an artifact directory (metadata.json) nor a run directory "
            f"(checkpoint.pt)"
        )
    raise FileNotFoundError(f"--init-from: no such file or directory: {path}")


def resolve_shape(
    previous: PreviousModel, given: Mapping[str, Any], dropout: Optional[float] = None
) -> Dict[str, Any]:
    """The model options of a warm start: the previous model's shape (a conflicting value in
    ``given``, the command line's options with None = not given, is refused) and its dropout
    unless ``dropout`` is given."""
    prev = previous.model_config.to_dict()
    conflicts = [
        f"--{name.replace('_', '-')} {given[name]} (the previous model has {prev[name]})"
        for name in SHAPE_FIELDS
        if given.get(name) is not None and given[name] != prev[name]
    ]
    if conflicts:
        raise WarmStartError(
            f"--init-from {previous.source}: the model shape is the previous model's; "
            f"conflicting option(s): {'; '.join(conflicts)}. Drop them, or train from scratch."
        )
    out = {name: prev[name] for name in SHAPE_FIELDS}
    out["dropout"] = prev["dropout"] if dropout is None else dropout
    return out


def warm_init(model: SASRec, item_ids: Sequence[str], previous: PreviousModel) -> Dict[str, Any]:
    """Initialise ``model`` (freshly built for vocabulary ``item_ids``) from ``previous``:
    every weight but the item embedding is copied; item embedding rows are copied by external
    item id, items unknown to the previous model keep ``model``'s fresh rows. Returns the counts
    (and a few of the dropped ids)."""
    if len(item_ids) != model.num_items:
        raise WarmStartError(f"{len(item_ids)} item ids for a model with {model.num_items} items")
    if model.config.to_dict() | {"dropout": 0} != previous.model_config.to_dict() | {"dropout": 0}:
        raise WarmStartError(
            f"model shape {model.config} differs from the previous model's "
            f"{previous.model_config}"
        )
    state = model.state_dict()
    prev_state = previous.state_dict
    if set(state) != set(prev_state):
        raise WarmStartError(
            f"parameters differ: {sorted(set(state) ^ set(prev_state))} (another model version?)"
        )
    prev_index = {item: i + 1 for i, item in enumerate(previous.item_ids)}
    new_rows: List[int] = []
    old_rows: List[int] = []
    for i, item in enumerate(item_ids, start=1):
        j = prev_index.get(item)
        if j is not None:
            new_rows.append(i)
            old_rows.append(j)
    kept = set(item_ids)
    dropped = [item for item in previous.item_ids if item not in kept]
    with torch.no_grad():
        for name, tensor in state.items():
            if name == ITEM_EMBEDDING:
                continue
            if tensor.shape != prev_state[name].shape:
                raise WarmStartError(
                    f"{name}: shape {tuple(tensor.shape)} vs the previous model's "
                    f"{tuple(prev_state[name].shape)}"
                )
            tensor.copy_(prev_state[name])
        emb = model.item_emb.weight
        if new_rows:
            emb[torch.tensor(new_rows)] = prev_state[ITEM_EMBEDDING][torch.tensor(old_rows)].to(
                emb.dtype
            )
        emb[0].zero_()
    return {
        "carried_over": len(new_rows),
        "new": len(item_ids) - len(new_rows),
        "dropped": len(dropped),
        "dropped_examples": dropped[:5],
    }


def init_record(previous: PreviousModel, counts: Mapping[str, Any]) -> Dict[str, Any]:
    """What ``metrics.json`` / ``metadata.json`` record as ``init_from``."""
    return {
        "path": os.path.abspath(previous.source),
        "kind": previous.kind,
        "model_version": previous.model_version,
        "weights_hash": previous.weights_hash,
        "previous_items": len(previous.item_ids),
        "items_carried_over": counts["carried_over"],
        "items_new": counts["new"],
        "items_dropped": counts["dropped"],
    }


def describe(previous: PreviousModel, counts: Mapping[str, Any]) -> str:
    """The log line of a warm start."""
    name = previous.model_version or f"weights {previous.weights_hash}"
    dropped = ""
    if counts["dropped"]:
        examples = ", ".join(counts["dropped_examples"])
        dropped = (
            f"; {counts['dropped']} item(s) of the previous model are absent from the new data "
            f"and dropped (e.g. {examples})"
        )
    return (
        f"warm start from {previous.kind} {previous.source} ({name}, {previous.model_config}): "
        f"{counts['carried_over']} item embedding(s) carried over by item id, {counts['new']} new "
        f"item(s) freshly initialised{dropped}; every other weight from the previous model"
    )


def prepare(path: str, args: Any) -> PreviousModel:
    """For ``train --init-from PATH``: load the previous model and set the model options of
    ``args`` (an argparse namespace; None = not given) to its shape and, unless given, its
    dropout, so that presets cannot change them; the learning rate, unless given, is
    :data:`WARM_START_LR`."""
    previous = load_previous(path)
    shape = resolve_shape(previous, {k: getattr(args, k, None) for k in SHAPE_FIELDS}, args.dropout)
    for name, value in shape.items():
        setattr(args, name, value)
    if getattr(args, "lr", None) is None:
        args.lr = WARM_START_LR
    return previous


def initializer(previous: PreviousModel, item_ids: Sequence[str], log: Any = None):
    """The ``initialize`` callback of :func:`seqrec_model.train.train` for a warm start: logs
    what was carried over and returns ``{"init_from": ...}`` for the metrics."""

    def initialize(model: SASRec) -> Dict[str, Any]:
        counts = warm_init(model, item_ids, previous)
        print(describe(previous, counts), file=log, flush=True)
        return {"init_from": init_record(previous, counts)}

    return initialize

"""Export a trained SASRec to the serving artifact directory consumed by the Flink job.

Files written to the artifact directory:

* ``model.onnx``: ``forward_last`` graph, input ``item_seq`` int64 [batch, seq_len] (both axes
  dynamic, seq_len in 1..max_len, left-padded with 0, right-aligned positions), outputs ``scores``
  float32 [batch, num_items + 1] (column i = score of item index i; column 0 = padding, ignore)
  and ``attention`` float32 [batch, seq_len] (the last block's softmax attention of the last
  query position over the input positions, mean over heads; padding positions ~0): the signal
  behind "because you interacted with ..." explanations;
* ``items.txt``: line i (1-based) is the external item id of item index i;
* ``metadata.json``: shapes, conventions, training data, metrics and configuration;
* ``item_vectors.f32``: the item embeddings scaled to unit length, float32 little-endian,
  row-major [num_items, hidden] (row i-1 = item index i): behind the served ``because``, the
  history item most similar to the recommended one (:func:`similar_position`);
* ``reference.jsonl``: PyTorch top-k results for fixed sequences, for cross-runtime checks.

``graph="full"`` writes the same artifact with the textbook graph instead (every position through
every block): identical scores at a higher cost, the naive baseline of ``seqrec bench``
(``--naive-model``); ``metadata.json`` says which graph it holds (``graph``).

Everything is a deterministic function of the weights, vocabulary, data and seed; the only
measured value is ``metrics.train_seconds`` (copied from training).
"""

from __future__ import annotations

import io
import json
import os
import warnings
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import onnx
import torch

from seqrec_model import __version__, onnx_numpy
from seqrec_model.config import ModelConfig, TrainConfig
from seqrec_model.data import BEHAVIOR_CODES, REPEAT_RULES, left_pad
from seqrec_model.sasrec import FullForwardScorer, LastPositionScorer, SASRec, TopKScorer
from seqrec_model.train import weights_hash
from seqrec_model.warmstart import WEIGHTS_FILE, save_weights

FORMAT_VERSION = 1
#: Artifacts whose input is more than the items, as the job has always built them: a second input
#: ``behaviors`` (a type-aware model) and/or steps built by another repeat rule than ``first``.
#: They declare ``steps`` in metadata.json; a job that knows only version 1 refuses them.
FORMAT_VERSION_STEPS = 2
OPSET = 17
INPUT_NAME = "item_seq"
BEHAVIORS_NAME = "behaviors"
OUTPUT_NAME = "scores"
ATTENTION_NAME = "attention"
ATTENTION_TOLERANCE = 1e-5  # absolute, ONNX (NumPy interpreter) vs PyTorch; weights are in [0, 1]
REFERENCE_LINES = 96
REFERENCE_K = 10
ITEM_VECTORS_FILE = "item_vectors.f32"
ARTIFACT_FILES = ("model.onnx", "items.txt", "metadata.json", "reference.jsonl", ITEM_VECTORS_FILE)
GRAPHS = {"last_position": LastPositionScorer, "full": FullForwardScorer}
# The graph outputs of each graph kind: only the served graph explains (the naive baseline and
# the top-K benchmark graph keep their single purpose).
GRAPH_OUTPUTS = {"last_position": (OUTPUT_NAME, ATTENTION_NAME), "full": (OUTPUT_NAME,)}


class ExportError(RuntimeError):
    pass


def input_names(model: SASRec) -> List[str]:
    """The graph inputs of ``model``'s artifact: the items, and their behaviors if it is
    type-aware."""
    return [INPUT_NAME, BEHAVIORS_NAME] if model.config.behaviors else [INPUT_NAME]


def _trace(
    wrapper: torch.nn.Module, max_len: int, outputs: Sequence[str], inputs: Sequence[str]
) -> bytes:
    """ONNX (opset 17) of ``wrapper`` (in eval mode) on ``inputs`` (``item_seq``, and
    ``behaviors`` of the same shape), batch and sequence axes dynamic, each output's first axis
    the batch (and the ``attention`` output's second axis the input's ``seq_len``)."""
    # Trace with a length different from max_len and a batch > 1 so neither is specialised.
    length = max(1, min(max_len - 1, 3))
    dummies = tuple(torch.ones(2, length, dtype=torch.long) for _ in inputs)
    buf = io.BytesIO()
    dynamic = {name: {0: "batch", 1: "seq_len"} for name in inputs}
    dynamic.update({name: {0: "batch"} for name in outputs})
    if ATTENTION_NAME in dynamic:
        dynamic[ATTENTION_NAME] = {0: "batch", 1: "seq_len"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            dummies,
            buf,
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
        )
    return buf.getvalue()


def onnx_bytes(model: SASRec, graph: str = "last_position", target_behavior: int = 0) -> bytes:
    """Trace ``forward_last`` (or, ``graph="full"``, the full forward pass) to ONNX (opset 17)
    with dynamic batch and sequence axes; a target-behavior model asked for ``target_behavior``."""
    if graph not in GRAPHS:
        raise ExportError(f"graph {graph!r}: expected one of {sorted(GRAPHS)}")
    was_training = model.training
    # The exporter restores the wrapper's train/eval mode (recursively) when it is done, so the
    # wrapper must be in eval mode too, or the model would come back in training mode.
    wrapper = GRAPHS[graph](model, target_behavior).eval()
    blob = _trace(wrapper, model.max_len, list(GRAPH_OUTPUTS[graph]), input_names(model))
    model.train(was_training)
    return blob


def write_topk_graph(model: SASRec, path: str, k: int = REFERENCE_K) -> None:
    """Write the served graph with the job's top-K inside (:class:`TopKScorer`: seen items
    masked, ``k`` best; outputs ``top_indices`` int64 and ``top_scores`` float32 [batch, k]) to
    ``path``. For the JMH comparison with scores + Java top-K only: the job does not load it."""
    was_training = model.training
    blob = _trace(
        TopKScorer(model, k).eval(),
        model.max_len,
        ["top_indices", "top_scores"],
        input_names(model),
    )
    model.train(was_training)
    # The same scoring node as the served graph (Gemm on the shared embedding), so that the
    # comparison measures only where top-K runs.
    model_proto = onnx.load_from_string(blob)
    share_item_embedding(model_proto, "model.item_emb.weight")
    with open(path, "wb") as f:
        f.write(model_proto.SerializeToString())


def share_item_embedding(model_proto: onnx.ModelProto, weight_name: str) -> int:
    """Score with the item embedding initializer itself instead of a transposed copy.

    The exporter constant-folds ``item_emb.weight.t()`` into a second [hidden, N+1] initializer,
    doubling the file size. Rewrite each ``MatMul(h, W^T-copy)`` with 2-D ``h`` into
    ``Gemm(h, W, transB=1)`` and drop the copy. Returns the number of rewritten nodes.
    """
    graph = model_proto.graph
    inits = {i.name: i for i in graph.initializer}
    if weight_name not in inits:
        raise ExportError(f"initializer {weight_name!r} not found in the exported graph")
    weight_t = onnx.numpy_helper.to_array(inits[weight_name]).T
    # A MatMul with a 2-D B producing a declared 2-D graph output has a 2-D A, as Gemm needs.
    # (onnx 1.12 shape inference does not know LayerNormalization, so use the declared outputs.)
    rank2_outputs = {
        o.name for o in graph.output if len(o.type.tensor_type.shape.dim) == 2
    }
    # In the top-K graph the scores feed ScatterElements (the seen-item mask), whose data has the
    # rank of its indices: the 2-D item_seq.
    rank2_outputs |= {n.input[0] for n in graph.node if n.op_type == "ScatterElements"}
    rewritten = 0
    for i, node in enumerate(graph.node):
        if node.op_type != "MatMul" or node.input[1] not in inits:
            continue
        if node.output[0] not in rank2_outputs:
            continue
        candidate = inits[node.input[1]]
        if tuple(candidate.dims) != weight_t.shape:
            continue
        if not np.array_equal(onnx.numpy_helper.to_array(candidate), weight_t):
            continue
        gemm = onnx.helper.make_node(
            "Gemm", [node.input[0], weight_name], list(node.output), name=node.name, transB=1
        )
        graph.node.remove(node)
        graph.node.insert(i, gemm)
        rewritten += 1
    used = {name for n in graph.node for name in n.input}
    for init in list(graph.initializer):
        if init.name not in used and init.name != weight_name:
            graph.initializer.remove(init)
    return rewritten


def graph_io(model_proto: onnx.ModelProto) -> Dict[str, List[Dict[str, Any]]]:
    """Names, dtypes and shapes (dim_param strings or ints) of the graph inputs/outputs."""

    def describe(values: Sequence[onnx.ValueInfoProto]) -> List[Dict[str, Any]]:
        out = []
        for v in values:
            t = v.type.tensor_type
            dims: List[Any] = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
            dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type].name
            out.append({"name": v.name, "dtype": dtype, "shape": dims})
        return out

    initializers = {i.name for i in model_proto.graph.initializer}
    inputs = [i for i in model_proto.graph.input if i.name not in initializers]
    return {"inputs": describe(inputs), "outputs": describe(model_proto.graph.output)}


@torch.no_grad()
def topk(
    model: SASRec, sequence: Sequence[int], k: int
) -> tuple[List[int], List[float], np.ndarray]:
    """Top-k item indices (index 0 excluded, seen items NOT excluded) for one unpadded sequence.

    Ties are broken by lower item index. Also returns the full score row.
    """
    indices, values, row, _ = topk_with_attention(model, sequence, k)
    return indices, values, row


@torch.no_grad()
def topk_with_attention(
    model: SASRec,
    sequence: Sequence[int],
    k: int,
    behaviors: Optional[Sequence[int]] = None,
    target_behavior: int = 0,
) -> tuple[List[int], List[float], np.ndarray, np.ndarray]:
    """:func:`topk` and the attention row (one weight per position of ``sequence`` as fed, i.e.
    its last ``max_len`` items). ``behaviors``: the steps' behaviors (type-aware model);
    ``target_behavior``: what a target-behavior model is asked for."""
    model.eval()
    beh = torch.tensor([list(behaviors)], dtype=torch.long) if behaviors is not None else None
    scores, attention = model.forward_last_with_attention(
        torch.tensor([list(sequence)], dtype=torch.long), beh, target_behavior
    )
    scores = scores[0]
    row = scores.numpy().copy()
    ranked = scores.clone()
    ranked[0] = float("-inf")
    order = torch.sort(ranked, descending=True, stable=True).indices[:k]
    return (
        [int(i) for i in order],
        [float(scores[i]) for i in order],
        row,
        attention[0].numpy().copy(),
    )


def because_position(attention: Sequence[float] | np.ndarray) -> int:
    """Index of the largest attention weight; ties go to the latest position."""
    a = np.asarray(attention)
    if a.size == 0:
        raise ValueError("empty attention row")
    return int(a.size - 1 - int(np.argmax(a[::-1])))


def item_vectors(model: SASRec) -> np.ndarray:
    """The item embeddings (the rows scoring uses, padding row left out) scaled to unit length:
    float32 [num_items, hidden], row i-1 = item index i; a zero row stays zero."""
    emb = model.item_emb.weight.detach()[1:].double()
    unit = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return unit.float().numpy()


def similar_position(vectors: np.ndarray, sequence: Sequence[int], target: int) -> int:
    """The position of ``sequence`` (item indices) whose item is most similar to item ``target``
    (cosine of the unit ``vectors``, summed in float64); ties go to the latest position."""
    if len(sequence) == 0:
        raise ValueError("empty sequence")
    rows = vectors[np.asarray(sequence, dtype=np.int64) - 1].astype(np.float64)
    sims = rows @ vectors[target - 1].astype(np.float64)
    return int(len(sims) - 1 - int(np.argmax(sims[::-1])))


def reference_sequences(
    histories: Sequence[np.ndarray],
    num_items: int,
    max_len: int,
    count: int = REFERENCE_LINES,
    seed: int = 0,
) -> List[List[int]]:
    """``count`` unpadded sequences: suffixes of held-out users' histories plus random ones.

    Lengths: 6 of length 1, 6 of length ``max_len``, the rest uniform in 1..max_len. Every 8th
    sequence (and any length no held-out history can supply) is uniformly random.
    """
    rng = np.random.default_rng(seed)
    fixed = [1] * min(6, count) + [max_len] * min(6, max(0, count - 6))
    lengths = fixed + [int(v) for v in rng.integers(1, max_len + 1, size=count - len(fixed))]
    lengths = [lengths[i] for i in rng.permutation(count)]
    hist_len = np.asarray([len(h) for h in histories], dtype=np.int64)
    out: List[List[int]] = []
    for i, length in enumerate(lengths):
        eligible = np.flatnonzero(hist_len >= length) if i % 8 != 7 else np.zeros(0, np.int64)
        if len(eligible):
            h = histories[int(eligible[rng.integers(len(eligible))])]
            out.append([int(v) for v in h[-length:]])
        else:
            out.append([int(v) for v in rng.integers(1, num_items + 1, size=length)])
    return out


def reference_behaviors(
    sequences: Sequence[Sequence[int]],
    histories: Sequence[np.ndarray],
    behaviors: Optional[Sequence[np.ndarray]],
    seed: int = 0,
) -> List[List[int]]:
    """A behavior per step of each reference sequence: a held-out history's own where the
    sequence is a suffix of one (the first such history), else uniform over view..purchase."""
    rng = np.random.default_rng(seed + 1)
    by_suffix: Dict[tuple, List[int]] = {}
    if behaviors is not None:
        wanted = {tuple(seq) for seq in sequences}
        for h, b in zip(histories, behaviors):
            for length in range(1, len(h) + 1):
                key = tuple(int(v) for v in h[-length:])
                if key in wanted and key not in by_suffix:
                    by_suffix[key] = [int(v) for v in b[-length:]]
    out: List[List[int]] = []
    for seq in sequences:
        own = by_suffix.get(tuple(seq))
        out.append(own if own is not None else [int(v) for v in rng.integers(1, 5, len(seq))])
    return out


def _check_graph(
    model_proto: onnx.ModelProto,
    num_items: int,
    graph: str = "last_position",
    inputs: Sequence[str] = (INPUT_NAME,),
) -> None:
    onnx.checker.check_model(model_proto)
    io_ = graph_io(model_proto)
    names_in = [i["name"] for i in io_["inputs"]]
    if names_in != list(inputs):
        raise ExportError(f"graph inputs {names_in}, expected {list(inputs)}")
    inp = io_["inputs"][0]
    for other in io_["inputs"][1:]:
        if other["dtype"] != "int64" or other["shape"] != inp["shape"]:
            raise ExportError(f"graph input {other} must be int64 with the items' axes")
    names = [o["name"] for o in io_["outputs"]]
    if names != list(GRAPH_OUTPUTS[graph]):
        raise ExportError(f"graph outputs {names}, expected {list(GRAPH_OUTPUTS[graph])}")
    out = io_["outputs"][0]
    if len(io_["outputs"]) > 1:
        att = io_["outputs"][1]
        if att["dtype"] != "float32" or att["shape"] != inp["shape"]:
            raise ExportError(
                f"attention output must be float32 {inp['shape']} (the input's axes), got {att}"
            )
    if inp["name"] != INPUT_NAME or inp["dtype"] != "int64":
        raise ExportError(f"unexpected graph input {inp}")
    if not all(isinstance(d, str) and d for d in inp["shape"]) or len(inp["shape"]) != 2:
        raise ExportError(f"graph input axes must both be dynamic, got {inp['shape']}")
    if out["name"] != OUTPUT_NAME or out["dtype"] != "float32":
        raise ExportError(f"unexpected graph output {out}")
    if len(out["shape"]) != 2 or out["shape"][1] != num_items + 1:
        raise ExportError(f"graph output must be [batch, {num_items + 1}], got {out['shape']}")
    missing = onnx_numpy.unsupported_ops(model_proto)
    if missing:
        raise ExportError(f"graph uses operators the verifier does not know: {missing}")


def verify_onnx(
    model_proto: onnx.ModelProto,
    model: SASRec,
    sequences: Sequence[Sequence[int]],
    rows: Sequence[np.ndarray],
    attentions: Optional[Sequence[np.ndarray]] = None,
    behaviors: Optional[Sequence[Sequence[int]]] = None,
) -> float:
    """Run the exported graph (NumPy interpreter) and compare with PyTorch. Returns the max
    error of the scores.

    Checks every sequence unpadded (batch 1) and all sequences together left-padded to max_len.
    With ``attentions`` (PyTorch's attention row per sequence), the graph's ``attention`` output
    is checked too (absolute tolerance :data:`ATTENTION_TOLERANCE`): unpadded, equal to the row;
    left-padded, the row on the sequence's positions and ~0 on the padding. ``behaviors`` feed a
    type-aware graph's second input (left-padded with 0 alike).
    """

    def feed(items: np.ndarray, behavior_rows: Optional[np.ndarray]) -> Dict[str, np.ndarray]:
        if behavior_rows is None:
            return {INPUT_NAME: items}
        return {INPUT_NAME: items, BEHAVIORS_NAME: behavior_rows}

    scale = max(1.0, max(float(np.abs(r[1:]).max()) for r in rows))
    tol = 1e-4 * scale
    worst = 0.0
    worst_att = 0.0
    for i, (seq, row) in enumerate(zip(sequences, rows)):
        beh = np.asarray([behaviors[i]], dtype=np.int64) if behaviors is not None else None
        outs = onnx_numpy.run(model_proto, feed(np.asarray([seq], dtype=np.int64), beh))
        worst = max(worst, float(np.abs(outs[0][0] - row).max()))
        if attentions is not None:
            got_att = outs[1]
            if got_att.shape != (1, len(seq)) or got_att.dtype != np.float32:
                raise ExportError(f"attention output {got_att.dtype} {got_att.shape}")
            worst_att = max(worst_att, float(np.abs(got_att[0] - attentions[i]).max()))
    padded = left_pad([np.asarray(s) for s in sequences], model.max_len)
    padded_beh = (
        left_pad([np.asarray(b) for b in behaviors], model.max_len)
        if behaviors is not None
        else None
    )
    outs = onnx_numpy.run(model_proto, feed(padded, padded_beh))
    got = outs[0]
    if got.shape != (len(sequences), model.num_items + 1) or got.dtype != np.float32:
        raise ExportError(f"graph produced {got.dtype} {got.shape}")
    worst = max(worst, float(np.abs(got - np.stack(rows)).max()))
    if not np.isfinite(worst) or worst > tol:
        raise ExportError(f"ONNX graph disagrees with PyTorch: max abs error {worst:g} > {tol:g}")
    if attentions is not None:
        got_att = outs[1]
        if got_att.shape != padded.shape:
            raise ExportError(f"attention output {got_att.shape} for input {padded.shape}")
        for i, seq in enumerate(sequences):
            expected = np.zeros(model.max_len, dtype=np.float64)
            expected[model.max_len - len(seq) :] = attentions[i]
            worst_att = max(worst_att, float(np.abs(got_att[i] - expected).max()))
        if not np.isfinite(worst_att) or worst_att > ATTENTION_TOLERANCE:
            raise ExportError(
                f"ONNX attention disagrees with PyTorch: max abs error {worst_att:g} > "
                f"{ATTENTION_TOLERANCE:g}"
            )
    return worst


def export_artifact(
    model: SASRec,
    item_ids: Sequence[str],
    out_dir: str,
    *,
    model_name: str,
    training_data: Mapping[str, Any],
    metrics: Mapping[str, Any],
    train_config: TrainConfig,
    reference_histories: Optional[Sequence[np.ndarray]] = None,
    verify: bool = True,
    graph: str = "last_position",
    reference_behaviors_of: Optional[Sequence[np.ndarray]] = None,
    repeats: str = "first",
    target_behavior: str = "any",
) -> Dict[str, Any]:
    """Write the artifact directory and return its metadata.

    ``repeats``: the repeat rule the model's steps were built with (the job builds its input
    alike); ``target_behavior``: what a target-behavior model is asked for in the served graph
    (``any`` or an event type). A type-aware model or a rule other than ``first`` makes a
    :data:`FORMAT_VERSION_STEPS` artifact that declares them."""
    if repeats not in REPEAT_RULES:
        raise ExportError(f"repeat rule {repeats!r}: expected one of {REPEAT_RULES}")
    if target_behavior != "any" and target_behavior not in BEHAVIOR_CODES:
        raise ExportError(f"target behavior {target_behavior!r}: expected any or an event type")
    if target_behavior != "any" and not model.config.target_behavior:
        raise ExportError(f"target behavior {target_behavior}: the model is not conditioned on one")
    asked = BEHAVIOR_CODES.get(target_behavior, 0)
    if len(item_ids) != model.num_items:
        raise ExportError(f"{len(item_ids)} item ids for a model with {model.num_items} items")
    for i, item in enumerate(item_ids, start=1):
        if not item or any(c in item for c in "\r\n"):
            raise ExportError(f"item index {i}: id {item!r} cannot be written as one line")
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    cfg = model.config

    typed = model.config.behaviors
    model_proto = onnx.load_from_string(onnx_bytes(model, graph, asked))
    share_item_embedding(model_proto, "model.item_emb.weight")
    blob = model_proto.SerializeToString()
    _check_graph(model_proto, model.num_items, graph, input_names(model))

    seed = train_config.seed
    sequences = reference_sequences(
        reference_histories or [], model.num_items, cfg.max_len, REFERENCE_LINES, seed
    )
    seq_behaviors = (
        reference_behaviors(sequences, reference_histories or [], reference_behaviors_of, seed)
        if typed
        else None
    )
    explains = ATTENTION_NAME in GRAPH_OUTPUTS[graph]
    vectors = item_vectors(model)
    lines = []
    rows = []
    attentions = []
    for i, seq in enumerate(sequences):
        # reference sequences are never longer than max_len: fed as they are
        beh = seq_behaviors[i] if seq_behaviors is not None else None
        indices, scores, row, attention = topk_with_attention(model, seq, REFERENCE_K, beh, asked)
        rows.append(row)
        attentions.append(attention)
        line: Dict[str, Any] = {"sequence": seq}
        if beh is not None:
            line["behaviors"] = beh
        line.update({"k": REFERENCE_K, "indices": indices, "scores": scores})
        if explains:
            line["attention"] = [float(a) for a in attention]
            line["because_position"] = because_position(attention)
        # the served because: the history item most similar to the top-1 (seen items included)
        line["because_similar_position"] = similar_position(vectors, seq, indices[0])
        lines.append(line)
    if verify:
        verify_onnx(
            model_proto, model, sequences, rows, attentions if explains else None, seq_behaviors
        )

    io_ = graph_io(model_proto)
    steps_declared = typed or repeats != "first"
    metadata: Dict[str, Any] = {
        "format_version": FORMAT_VERSION_STEPS if steps_declared else FORMAT_VERSION,
        "model_version": f"{model_name}-{weights_hash(model)[:12]}",
        "max_len": cfg.max_len,
        "num_items": model.num_items,
        "hidden_size": cfg.hidden,
        "num_blocks": cfg.blocks,
        "num_heads": cfg.heads,
        "dropout": cfg.dropout,
        "inputs": [
            {"name": name, "dtype": "int64", "shape": ["batch", "seq_len"]}
            for name in input_names(model)
        ],
        "outputs": [
            {"name": OUTPUT_NAME, "dtype": "float32", "shape": ["batch", model.num_items + 1]}
        ]
        + (
            [{"name": ATTENTION_NAME, "dtype": "float32", "shape": ["batch", "seq_len"]}]
            if explains
            else []
        ),
        "item_vectors": {
            "file": ITEM_VECTORS_FILE,
            "dtype": "float32",
            "byte_order": "little",
            "shape": [model.num_items, cfg.hidden],
            "normalized": True,
        },
        "padding": {
            "index": 0,
            "side": "left",
            "positions": "right_aligned",
            "seq_len_axis": "dynamic",
        },
        "opset": OPSET,
        "graph": graph,
        **(
            {
                # How the job builds the input (format version 2): consecutive events of a user
                # on one item become steps by this rule; a type-aware model's behaviors input
                # holds each step's behavior by these codes (0 = padding).
                "steps": {
                    "repeats": repeats,
                    "behaviors_input": BEHAVIORS_NAME if typed else None,
                    "behavior_codes": dict(BEHAVIOR_CODES),
                    "target_behavior": target_behavior if model.config.target_behavior else None,
                }
            }
            if steps_declared
            else {}
        ),
        "training_data": {
            key: training_data[key] for key in ("name", "format", "users", "items", "interactions")
        },
        "metrics": dict(metrics),
        # not part of the serving contract: the job reads only ARTIFACT_FILES
        "optional_files": {WEIGHTS_FILE: "PyTorch weights for warm starts (train --init-from)"},
        "seed": seed,
        "torch_version": torch.__version__,
        "train_config": train_config.to_dict(),
        "created_by": f"seqrec_model {__version__}",
    }
    # The declared I/O must be what the graph really has.
    if [i["name"] for i in io_["inputs"]] != input_names(model) or [
        o["name"] for o in io_["outputs"]
    ] != [o["name"] for o in metadata["outputs"]]:
        raise ExportError(f"graph I/O {io_} does not match metadata")

    with open(os.path.join(out_dir, "model.onnx"), "wb") as f:
        f.write(blob)
    with open(os.path.join(out_dir, "items.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(f"{item}\n" for item in item_ids))
    with open(os.path.join(out_dir, "metadata.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "reference.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    with open(os.path.join(out_dir, ITEM_VECTORS_FILE), "wb") as f:
        f.write(vectors.astype("<f4").tobytes())
    save_weights(model, out_dir)  # OPTIONAL_FILES: for warm starts, ignored by the job
    return metadata


# Written by every export next to ARTIFACT_FILES; the job does not read them.
OPTIONAL_FILES = (WEIGHTS_FILE,)


def export_random(
    config: ModelConfig,
    num_items: int,
    out_dir: str,
    *,
    seed: int = 0,
    model_name: str = "random",
    verify: bool = True,
    graph: str = "last_position",
    topk_graph: Optional[str] = None,
    repeats: str = "first",
    target_behavior: str = "any",
) -> Dict[str, Any]:
    """Export an untrained SASRec of the given shape (weights from ``seed``) for benchmarks
    (and, type-aware, for the job's tests of the behaviors input).

    Goes through :func:`export_artifact`, so the artifact meets the same contract as a trained
    one (graph checks, ``reference.jsonl`` from PyTorch, metadata). Item ids are ``"1"`` ..
    ``str(num_items)``, the numbering of the SASRec-preprocessed MovieLens-1M file, so a replay
    of that file (or any data with such ids) reaches the model. Its recommendations are
    meaningless; only the cost of computing them is representative.
    """
    torch.manual_seed(seed)
    model = SASRec(num_items, config)
    if model.target_emb is not None:
        # an untrained target vector is zero: random ones, so that the asked behavior shows
        torch.nn.init.normal_(model.target_emb.weight, std=0.5)
    if topk_graph:
        write_topk_graph(model, topk_graph)
    return export_artifact(
        model,
        [str(i) for i in range(1, num_items + 1)],
        out_dir,
        model_name=model_name,
        training_data={
            "name": "random-weights",
            "format": "none",
            "users": 0,
            "items": num_items,
            "interactions": 0,
        },
        metrics={},
        train_config=TrainConfig(seed=seed),
        verify=verify,
        graph=graph,
        repeats=repeats,
        target_behavior=target_behavior,
    )

"""export-random: an untrained artifact of a given shape that meets the serving contract."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from seqrec_model import onnx_numpy
from seqrec_model.cli import main
from seqrec_model.export import ARTIFACT_FILES

SHAPE = ["--max-len", "12", "--hidden", "16", "--blocks", "2", "--heads", "1"]


def export(out: Path, seed: int) -> int:
    return main(
        ["export-random", *SHAPE, "--num-items", "30", "--seed", str(seed), "--threads", "1"]
        + ["--out", str(out)]
    )


def test_writes_a_contract_artifact_of_the_requested_shape(tmp_path: Path) -> None:
    art = tmp_path / "a"
    assert export(art, seed=5) == 0
    assert sorted(p.name for p in art.iterdir()) == sorted(ARTIFACT_FILES + ("weights.pt",))
    meta = json.loads((art / "metadata.json").read_text())
    assert (meta["max_len"], meta["hidden_size"], meta["num_blocks"], meta["num_items"]) == (
        12,
        16,
        2,
        30,
    )
    assert meta["model_version"].startswith("random-")
    assert meta["training_data"]["name"] == "random-weights"
    assert (art / "items.txt").read_text().splitlines() == [str(i) for i in range(1, 31)]
    lines = [json.loads(line) for line in (art / "reference.jsonl").read_text().splitlines()]
    lengths = [len(r["sequence"]) for r in lines]
    assert min(lengths) == 1 and max(lengths) == 12
    model = onnx.load(str(art / "model.onnx"))
    for r in lines[:8]:
        x = np.asarray([[0] * (12 - len(r["sequence"])) + r["sequence"]], dtype=np.int64)
        scores, attention = onnx_numpy.run(model, {"item_seq": x})
        np.testing.assert_allclose(scores[0, r["indices"]], r["scores"], rtol=1e-4, atol=1e-4)
        n = len(r["sequence"])
        np.testing.assert_allclose(attention[0, 12 - n :], r["attention"], atol=1e-5)
        np.testing.assert_allclose(attention[0, : 12 - n], 0.0, atol=1e-6)


def test_same_seed_same_artifact_other_seed_other_weights(tmp_path: Path) -> None:
    assert export(tmp_path / "a", seed=5) == 0
    assert export(tmp_path / "b", seed=5) == 0
    assert export(tmp_path / "c", seed=6) == 0
    for name in ARTIFACT_FILES:
        assert filecmp.cmp(tmp_path / "a" / name, tmp_path / "b" / name, shallow=False), name
    assert not filecmp.cmp(tmp_path / "a" / "model.onnx", tmp_path / "c" / "model.onnx", False)


def test_full_graph_gives_the_same_scores_with_more_work(tmp_path: Path) -> None:
    """--graph full (the naive baseline's textbook graph): same weights and scores, every
    position through every block."""
    served, full = tmp_path / "served", tmp_path / "full"
    assert export(served, seed=5) == 0
    assert (
        main(
            ["export-random", *SHAPE, "--num-items", "30", "--seed", "5", "--threads", "1"]
            + ["--graph", "full", "--out", str(full)]
        )
        == 0
    )
    assert json.loads((served / "metadata.json").read_text())["graph"] == "last_position"
    meta = json.loads((full / "metadata.json").read_text())
    assert meta["graph"] == "full"
    assert meta["model_version"] == json.loads((served / "metadata.json").read_text())[
        "model_version"
    ]
    a, b = onnx.load(str(served / "model.onnx")), onnx.load(str(full / "model.onnx"))
    x = np.asarray([[0, 0, 0, 4, 9, 17, 3, 3, 21, 8, 1, 29]], dtype=np.int64)
    sa, _attention = onnx_numpy.run(a, {"item_seq": x})
    (sb,) = onnx_numpy.run(b, {"item_seq": x})  # the naive graph has no attention output
    np.testing.assert_allclose(sa, sb, rtol=1e-4, atol=1e-5)
    # the served graph slices the last position out of the last block's input (3 more Slices);
    # the full graph slices only the final hidden states
    slices = [sum(n.op_type == "Slice" for n in m.graph.node) for m in (a, b)]
    assert slices == [4, 1]


def test_topk_graph_for_the_benchmark(tmp_path: Path) -> None:
    """--topk-graph: the served graph plus seen-item mask and top-10, beside the artifact (its
    parity with scores + Java top-K is checked by the JMH benchmark's setup in Java)."""
    topk = tmp_path / "model_topk.onnx"
    assert (
        main(
            ["export-random", *SHAPE, "--num-items", "30", "--seed", "5", "--threads", "1"]
            + ["--out", str(tmp_path / "a"), "--topk-graph", str(topk)]
        )
        == 0
    )
    graph = onnx.load(str(topk)).graph
    assert [o.name for o in graph.output] == ["top_indices", "top_scores"]
    ops = [n.op_type for n in graph.node]
    assert ops.count("TopK") == 1 and ops.count("ScatterElements") == 1 and "Gemm" in ops
    # scored with the shared item embedding, as the served graph: no transposed copy
    dims = [list(i.dims) for i in graph.initializer]
    assert [31, 16] in dims and [16, 31] not in dims


def test_because_position_ties_go_to_the_latest() -> None:
    from seqrec_model.export import because_position

    assert because_position([0.1, 0.5, 0.4]) == 1
    assert because_position([0.4, 0.2, 0.4]) == 2
    assert because_position([1.0]) == 0
    with pytest.raises(ValueError):
        because_position([])


def test_verify_rejects_a_wrong_attention(tmp_path: Path) -> None:
    from seqrec_model.config import ModelConfig
    from seqrec_model.export import ExportError, onnx_bytes, topk_with_attention, verify_onnx
    from seqrec_model.sasrec import SASRec

    torch.manual_seed(0)
    model = SASRec(30, ModelConfig(max_len=6, hidden=8, blocks=2, heads=2, dropout=0.0)).eval()
    proto = onnx.load_from_string(onnx_bytes(model))
    seqs = [[3], [4, 5, 6], [1, 2, 3, 4, 5, 6]]
    outs = [topk_with_attention(model, s, 5) for s in seqs]
    rows = [o[2] for o in outs]
    atts = [o[3] for o in outs]
    verify_onnx(proto, model, seqs, rows, atts)
    wrong = [a[::-1].copy() for a in atts]
    with pytest.raises(ExportError, match="attention"):
        verify_onnx(proto, model, seqs, rows, wrong)

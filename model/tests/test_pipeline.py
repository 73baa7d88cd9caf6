"""End to end on synthetic events: train + export through the CLI, then check the artifact."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import onnx
import pytest
import torch

from seqrec_model import onnx_numpy
from seqrec_model.cli import main
from seqrec_model.config import ModelConfig, TrainConfig
from seqrec_model.data import read_events
from seqrec_model.export import ARTIFACT_FILES, export_artifact, graph_io
from seqrec_model.train import load_checkpoint, train

MAX_LEN = 16
TINY = [
    "--max-len", str(MAX_LEN), "--hidden", "16", "--blocks", "2", "--heads", "2",
    "--dropout", "0.1", "--batch-size", "32", "--lr", "0.01", "--threads", "2",
]  # fmt: skip


@pytest.fixture(scope="module")
def run(events_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("run")
    code = main(
        ["train", "--format", "events", "--data", str(events_file), "--name", "synthetic"]
        + TINY
        + ["--epochs", "30", "--eval-every", "3", "--patience", "4", "--seed", "3"]
        + ["--out", str(root / "run"), "--export-dir", str(root / "artifact")]
    )
    assert code == 0
    return {"run": root / "run", "artifact": root / "artifact"}


def read_reference(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_training_learns_and_beats_popularity(run: Dict[str, Path]) -> None:
    metrics = json.loads((run["run"] / "metrics.json").read_text())
    model = metrics["test"]["seen_excluded"]
    pop = metrics["popularity"]["seen_excluded"]
    # The synthetic next item is (almost always) the successor of the last item.
    assert model["HR@10"] > 0.5
    assert model["NDCG@10"] > 2 * pop["NDCG@10"]
    assert set(metrics["test"]) == {"all", "seen_excluded"}
    assert 1 <= metrics["best_epoch"] <= metrics["epochs_trained"] <= 30
    history = [json.loads(line) for line in (run["run"] / "history.jsonl").read_text().splitlines()]
    assert len(history) == metrics["epochs_trained"]
    assert all(np.isfinite(h["loss"]) for h in history)


def test_artifact_files_and_metadata(run: Dict[str, Path], events_file: Path) -> None:
    art = run["artifact"]
    assert sorted(p.name for p in art.iterdir()) == sorted(ARTIFACT_FILES + ("weights.pt",))
    meta = json.loads((art / "metadata.json").read_text())
    items = (art / "items.txt").read_text().split("\n")
    assert items[-1] == ""  # trailing newline
    items = items[:-1]
    data = read_events(str(events_file))
    assert items == data.item_ids
    n = meta["num_items"]
    assert n == len(items) == data.num_items
    assert meta["format_version"] == 1
    assert meta["model_version"].startswith("sasrec-synthetic-")
    assert meta["max_len"] == MAX_LEN
    assert (meta["hidden_size"], meta["num_blocks"], meta["num_heads"]) == (16, 2, 2)
    assert meta["dropout"] == 0.1
    assert meta["inputs"] == [{"name": "item_seq", "dtype": "int64", "shape": ["batch", "seq_len"]}]
    assert meta["outputs"] == [
        {"name": "scores", "dtype": "float32", "shape": ["batch", n + 1]},
        {"name": "attention", "dtype": "float32", "shape": ["batch", "seq_len"]},
    ]
    assert meta["padding"] == {
        "index": 0,
        "side": "left",
        "positions": "right_aligned",
        "seq_len_axis": "dynamic",
    }
    assert meta["opset"] == 17
    assert meta["training_data"] == {
        "name": "synthetic",
        "format": "events",
        "users": data.num_users,
        "items": data.num_items,
        "interactions": data.num_interactions,
    }
    m = meta["metrics"]
    expected = {"test", "validation", "popularity", "epochs_trained", "best_epoch", "train_seconds"}
    assert expected <= set(m)
    assert meta["seed"] == 3 and meta["train_config"]["seed"] == 3
    assert meta["train_config"]["loss"] == "ce"
    assert meta["torch_version"] == torch.__version__
    assert meta["created_by"].startswith("seqrec_model ")
    assert (art / "model.onnx").stat().st_size < 10 * 1024 * 1024


def test_onnx_graph_matches_metadata_with_dynamic_axes(run: Dict[str, Path]) -> None:
    art = run["artifact"]
    model = onnx.load(str(art / "model.onnx"))
    onnx.checker.check_model(model)
    meta = json.loads((art / "metadata.json").read_text())
    assert model.opset_import[0].version == meta["opset"]
    io_ = graph_io(model)
    assert io_["inputs"] == meta["inputs"]  # dim_params "batch", "seq_len": both dynamic
    assert io_["outputs"] == meta["outputs"]
    (inp,) = [i for i in model.graph.input if i.name == "item_seq"]
    dims = inp.type.tensor_type.shape.dim
    assert all(d.dim_param and not d.HasField("dim_value") for d in dims)


def test_reference_jsonl(run: Dict[str, Path]) -> None:
    art = run["artifact"]
    meta = json.loads((art / "metadata.json").read_text())
    lines = read_reference(art / "reference.jsonl")
    assert len(lines) >= 64
    lengths = [len(r["sequence"]) for r in lines]
    assert min(lengths) == 1 and max(lengths) == MAX_LEN
    assert lengths.count(1) >= 3 and lengths.count(MAX_LEN) >= 3
    for r in lines:
        assert r["k"] == 10 and len(r["indices"]) == 10 and len(r["scores"]) == 10
        assert all(1 <= i <= meta["num_items"] for i in r["sequence"] + r["indices"])
        assert len(set(r["indices"])) == 10
        assert r["scores"] == sorted(r["scores"], reverse=True)
        attention = r["attention"]
        assert len(attention) == len(r["sequence"])
        assert abs(sum(attention) - 1.0) < 1e-5 and min(attention) >= 0.0
        top = max(attention)
        assert r["because_position"] == max(i for i, a in enumerate(attention) if a == top)


def test_item_vectors_and_the_similar_because(run: Dict[str, Path]) -> None:
    art = run["artifact"]
    meta = json.loads((art / "metadata.json").read_text())
    n, hidden = meta["num_items"], meta["hidden_size"]
    assert meta["item_vectors"] == {"file": "item_vectors.f32", "dtype": "float32",
                                    "byte_order": "little", "shape": [n, hidden],
                                    "normalized": True}  # fmt: skip
    vectors = np.frombuffer((art / "item_vectors.f32").read_bytes(), dtype="<f4")
    vectors = vectors.reshape(n, hidden)
    emb = load_checkpoint(str(run["run"] / "checkpoint.pt"))["state_dict"]["item_emb.weight"]
    expected = emb[1:].double() / emb[1:].double().norm(dim=1, keepdim=True)
    assert np.allclose(vectors, expected.numpy(), atol=1e-6)
    for r in read_reference(art / "reference.jsonl"):
        cos = vectors[np.asarray(r["sequence"]) - 1].astype(np.float64) @ vectors[
            r["indices"][0] - 1
        ].astype(np.float64)
        best = cos.max()
        assert r["because_similar_position"] == max(i for i, c in enumerate(cos) if c == best)


def test_exported_graph_reproduces_reference_at_any_padding(run: Dict[str, Path]) -> None:
    art = run["artifact"]
    model = onnx.load(str(art / "model.onnx"))
    lines = read_reference(art / "reference.jsonl")[:12]
    num_items = json.loads((art / "metadata.json").read_text())["num_items"]
    for r in lines:
        seq = r["sequence"]
        for pad in (0, MAX_LEN - len(seq)):  # unpadded, and padded to max_len
            x = np.asarray([[0] * pad + seq], dtype=np.int64)
            scores, attention = onnx_numpy.run(model, {"item_seq": x})
            assert scores.shape == (1, num_items + 1) and scores.dtype == np.float32
            assert attention.shape == x.shape and attention.dtype == np.float32
            np.testing.assert_allclose(attention[0, pad:], r["attention"], atol=1e-5)
            np.testing.assert_allclose(attention[0, :pad], 0.0, atol=1e-6)
            np.testing.assert_allclose(scores[0, r["indices"]], r["scores"], rtol=1e-4, atol=1e-4)
            top = np.argsort(-scores[0, 1:], kind="stable")[:3] + 1
            assert top.tolist() == r["indices"][:3]


def test_evaluate_and_export_subcommands(
    run: Dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ckpt = str(run["run"] / "checkpoint.pt")
    out_json = tmp_path / "eval.json"
    assert main(["evaluate", "--checkpoint", ckpt, "--split", "test", "validation",
                 "--sampled-negatives", "100", "--json", str(out_json)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "sampled-100 negatives (NOT full ranking)" in printed and "most-popular" in printed
    evaluated = json.loads(out_json.read_text())
    trained = json.loads((run["run"] / "metrics.json").read_text())
    assert evaluated["test"]["model"]["seen_excluded"] == trained["test"]["seen_excluded"]
    assert evaluated["test"]["popularity"]["all"] == trained["popularity"]["all"]
    beyond = evaluated["test"]["beyond_accuracy"]
    assert set(beyond) == {"model", "popularity"}
    assert "beyond accuracy" in printed and "ILD" in printed
    for m in beyond.values():
        assert 0 < m["coverage"] <= 1 and 0 <= m["gini"] <= 1 and 0 <= m["ild"] <= 1
        assert m["novelty"] > 0 and m["avg_popularity"] > 0
    # the most-popular lists are (nearly) the same for everyone: low coverage, high Gini
    assert beyond["popularity"]["coverage"] < beyond["model"]["coverage"]
    assert beyond["popularity"]["gini"] > beyond["model"]["gini"]

    art = tmp_path / "re-export"
    assert main(["export", "--checkpoint", ckpt, "--out", str(art), "--name", "synthetic"]) == 0
    for name in ("model.onnx", "items.txt", "reference.jsonl"):
        assert filecmp.cmp(art / name, run["artifact"] / name, shallow=False), name
    assert (art / "metadata.json").read_text() == (run["artifact"] / "metadata.json").read_text()
    assert load_checkpoint(ckpt)["best_epoch"] == trained["best_epoch"]


def test_cli_reports_malformed_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "events.jsonl"
    bad.write_text('{"user_id": "u", "item_id": "i", "event_type": "view", "ts": 1}\nnope\n')
    code = main(["train", "--format", "events", "--data", str(bad), "--out", str(tmp_path / "r")])
    assert code == 2
    assert f"{bad}:2: invalid JSON" in capsys.readouterr().err


def test_training_is_deterministic(events_file: Path, tmp_path: Path) -> None:
    data = read_events(str(events_file), name="synthetic")
    model_cfg = ModelConfig(max_len=MAX_LEN, hidden=16, blocks=2, heads=2, dropout=0.2)
    train_cfg = TrainConfig(epochs=3, batch_size=32, lr=0.01, seed=11, eval_every=2, threads=2)
    results = []
    for i in range(2):
        result = train(data, model_cfg, train_cfg, log=open("/dev/null", "w"))
        export_artifact(
            result.model,
            data.item_ids,
            str(tmp_path / f"a{i}"),
            model_name="det",
            training_data=data.summary(),
            metrics={k: v for k, v in result.metrics.items() if k != "train_seconds"},
            train_config=train_cfg,
            reference_histories=result.split.test.inputs,
        )
        results.append(result)
    a, b = (r.model.state_dict() for r in results)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert [h["loss"] for h in results[0].history] == [h["loss"] for h in results[1].history]
    for name in ARTIFACT_FILES:
        assert filecmp.cmp(tmp_path / "a0" / name, tmp_path / "a1" / name, shallow=False), name


def test_item_embedding_is_stored_once(run: Dict[str, Path]) -> None:
    model = onnx.load(str(run["artifact"] / "model.onnx"))
    n = json.loads((run["artifact"] / "metadata.json").read_text())["num_items"]
    shapes = [tuple(i.dims) for i in model.graph.initializer]
    assert (n + 1, 16) in shapes and (16, n + 1) not in shapes  # no transposed copy
    (gemm,) = [node for node in model.graph.node if node.op_type == "Gemm"]
    assert gemm.output[0] == "scores"


def test_export_keeps_model_mode() -> None:
    from seqrec_model.export import onnx_bytes
    from seqrec_model.sasrec import SASRec

    model = SASRec(5, ModelConfig(max_len=4, hidden=8, blocks=1, heads=1, dropout=0.5)).eval()
    onnx_bytes(model)
    assert not any(m.training for m in model.modules())


def test_pairs_with_sampled_softmax(tmp_path: Path) -> None:
    path = tmp_path / "interactions.txt"
    lines = [f"user{u} item{(u + k) % 25}" for u in range(60) for k in range(3 + u % 7)]
    path.write_text("\n".join(lines) + "\n")
    for sampling in ("uniform", "popularity"):
        code = main(["train", "--format", "pairs", "--data", str(path), "--loss", "sampled",
                     "--negative-sampling", sampling, "--num-negatives", "8", "--epochs", "2",
                     "--out", str(tmp_path / sampling)] + TINY)  # fmt: skip
        assert code == 0
        metrics = json.loads((tmp_path / sampling / "metrics.json").read_text())
        assert metrics["epochs_trained"] == 2 and metrics["test"]["all"]["users"] == 60


def test_coldstart_and_explain_subcommands(
    run: Dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ckpt = str(run["run"] / "checkpoint.pt")
    out_json, out_md = tmp_path / "cold.json", tmp_path / "cold.md"
    assert main(["coldstart", "--checkpoint", ckpt, "--threads", "1", "--json", str(out_json),
                 "--markdown", str(out_md), "--title", "synthetic"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "time-decayed popularity" in printed  # events carry timestamps
    report = json.loads(out_json.read_text())
    assert report["half_life"] in ("1h", "6h", "1d", "7d", "inf")
    assert set(report["test"]) == {"1", "2", "3-5", "6-10", "11+"}
    assert out_md.read_text().startswith("**synthetic** (test;")
    explain_json = tmp_path / "explain.json"
    assert main(["explain", "--checkpoint", ckpt, "--threads", "1", "--users", "50",
                 "--json", str(explain_json)]) == 0  # fmt: skip
    summary = json.loads(explain_json.read_text())["summary"]
    assert 0 < summary["users"] <= 50
    assert 0 <= summary["share_because_drop_gt_random"] <= 1
    assert "most recent" in capsys.readouterr().out

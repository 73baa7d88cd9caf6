"""Warm start (train --init-from): what is carried over, what is refused, end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch

from conftest import synthetic_events, write_jsonl
from seqrec_model.cli import main
from seqrec_model.config import ModelConfig, TrainConfig
from seqrec_model.data import read_events
from seqrec_model.sasrec import SASRec
from seqrec_model.train import train
from seqrec_model.warmstart import (
    WARM_START_LR,
    PreviousModel,
    WarmStartError,
    initializer,
    load_previous,
    resolve_shape,
    warm_init,
)

SHAPE = ["--max-len", "12", "--hidden", "16", "--blocks", "2", "--heads", "2"]
FAST = ["--dropout", "0.1", "--batch-size", "32", "--lr", "0.01", "--threads", "1"]


def previous_model(item_ids: List[str], seed: int = 0) -> PreviousModel:
    torch.manual_seed(seed)
    cfg = ModelConfig(max_len=12, hidden=16, blocks=2, heads=2, dropout=0.1)
    m = SASRec(len(item_ids), cfg)
    with torch.no_grad():  # not the init distribution: as if trained
        for p in m.parameters():
            p.add_(torch.randn_like(p))
        m.item_emb.weight[0].zero_()
    return PreviousModel(
        source="prev",
        kind="checkpoint",
        model_config=cfg,
        item_ids=list(item_ids),
        state_dict={k: v.clone() for k, v in m.state_dict().items()},
        model_version=None,
        weights_hash="0" * 12,
    )


def test_known_items_keep_their_rows_exactly_new_items_get_fresh_rows() -> None:
    prev = previous_model(["a", "b", "c", "d"])
    new_ids = ["c", "x", "a", "y"]  # other indices; b, d dropped; x, y new
    torch.manual_seed(1)
    model = SASRec(len(new_ids), prev.model_config)
    fresh = model.item_emb.weight.detach().clone()
    counts = warm_init(model, new_ids, prev)
    assert (counts["carried_over"], counts["new"], counts["dropped"]) == (2, 2, 2)
    assert counts["dropped_examples"] == ["b", "d"]
    emb = model.item_emb.weight.detach()
    old = prev.state_dict["item_emb.weight"]
    assert torch.equal(emb[1], old[3])  # c
    assert torch.equal(emb[3], old[1])  # a
    assert torch.equal(emb[2], fresh[2]) and torch.equal(emb[4], fresh[4])  # x, y: fresh
    assert not any(torch.equal(emb[2], old[j]) for j in range(5))
    assert torch.equal(emb[0], torch.zeros(16))
    state = model.state_dict()
    for name, value in prev.state_dict.items():
        if name != "item_emb.weight":
            assert torch.equal(state[name], value), name


def test_other_shape_is_refused() -> None:
    prev = previous_model(["a", "b"])
    other = SASRec(2, ModelConfig(max_len=12, hidden=32, blocks=2, heads=2))
    with pytest.raises(WarmStartError, match="shape"):
        warm_init(other, ["a", "b"], prev)
    with pytest.raises(WarmStartError, match="--hidden 32 .*has 16"):
        resolve_shape(prev, {"hidden": 32, "max_len": 12})
    shape = resolve_shape(prev, {"max_len": 12, "hidden": None})  # same value: fine
    assert shape == {
        "max_len": 12,
        "hidden": 16,
        "blocks": 2,
        "heads": 2,
        "behaviors": False,
        "target_behavior": False,
        "dropout": 0.1,
    }
    assert resolve_shape(prev, {}, dropout=0.3)["dropout"] == 0.3


def test_train_initialises_before_the_first_step(events_file: Path) -> None:
    data = read_events(str(events_file))
    prev = previous_model(["sku-0", "sku-1", "gone"] + [f"new-{i}" for i in range(3)])
    seen: Dict[str, torch.Tensor] = {}
    init = initializer(prev, data.item_ids)

    def spy(model: SASRec):
        info = init(model)
        seen.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        return info

    cfg = TrainConfig(epochs=1, batch_size=32, threads=1, max_batches_per_epoch=1)
    result = train(data, prev.model_config, cfg, initialize=spy)
    i0, i1 = data.item_ids.index("sku-0") + 1, data.item_ids.index("sku-1") + 1
    assert torch.equal(seen["item_emb.weight"][i0], prev.state_dict["item_emb.weight"][1])
    assert torch.equal(seen["item_emb.weight"][i1], prev.state_dict["item_emb.weight"][2])
    assert torch.equal(seen["pos_emb.weight"], prev.state_dict["pos_emb.weight"])
    info = result.metrics["init_from"]
    assert info["items_carried_over"] == 2
    assert info["items_new"] == data.num_items - 2
    assert info["items_dropped"] == 4


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """v1 trained on an older catalog: sku-0..29 plus items that disappear later."""
    root = tmp_path_factory.mktemp("v1")
    rows = synthetic_events(users=60, items=30, seed=11)
    for r in rows[:40]:
        r["item_id"] = r["item_id"].replace("sku-", "old-")
    data = write_jsonl(root / "v1.jsonl", rows)
    code = main(
        ["train", "--format", "events", "--data", str(data), "--name", "v1", *SHAPE, *FAST]
        + ["--epochs", "3", "--seed", "1", "--out", str(root / "run")]
        + ["--export-dir", str(root / "artifact")]
    )
    assert code == 0
    return {"run": root / "run", "artifact": root / "artifact"}


@pytest.fixture(scope="module")
def v2_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("v2")
    return write_jsonl(root / "v2.jsonl", synthetic_events(users=80, items=40, seed=12))


def test_artifact_run_dir_and_checkpoint_load_the_same_weights(v1: Dict[str, Path]) -> None:
    art = load_previous(str(v1["artifact"]))
    run = load_previous(str(v1["run"]))
    ckpt = load_previous(str(v1["run"] / "checkpoint.pt"))
    meta = json.loads((v1["artifact"] / "metadata.json").read_text())
    assert art.kind == "artifact" and art.model_version == meta["model_version"]
    assert meta["optional_files"].keys() == {"weights.pt"}
    assert run.kind == ckpt.kind == "checkpoint"
    assert art.weights_hash == run.weights_hash == ckpt.weights_hash
    assert meta["model_version"].endswith(art.weights_hash)
    assert art.item_ids == run.item_ids
    for k, v in art.state_dict.items():
        assert torch.equal(v, run.state_dict[k]), k


def test_artifact_without_weights_pt_reads_model_onnx_exactly(
    v1: Dict[str, Path], tmp_path: Path
) -> None:
    """As fetched from a model registry (only the files the job reads): the weights come from
    the ONNX initializers, bit for bit (the model_version hash is checked)."""
    bare = tmp_path / "bare"
    shutil.copytree(v1["artifact"], bare)
    (bare / "weights.pt").unlink()
    from_onnx = load_previous(str(bare))
    from_pt = load_previous(str(v1["artifact"]))
    assert from_onnx.kind == "artifact-onnx"
    assert from_onnx.model_config == from_pt.model_config
    assert from_onnx.weights_hash == from_pt.weights_hash
    for k, v in from_pt.state_dict.items():
        assert torch.equal(from_onnx.state_dict[k], v), k
    # a graph whose weights are not the model_version's is refused
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(bare / "model.onnx"))
    for init in proto.graph.initializer:
        if init.name.startswith("onnx::MatMul"):
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 2, init.name))
            break
    onnx.save(proto, str(bare / "model.onnx"))
    with pytest.raises(WarmStartError, match="not those of the artifact"):
        load_previous(str(bare))


def test_artifact_with_foreign_weights_is_refused(v1: Dict[str, Path], tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    shutil.copytree(v1["artifact"], foreign)
    payload = torch.load(foreign / "weights.pt")
    payload["state_dict"]["pos_emb.weight"] += 1.0
    torch.save(payload, foreign / "weights.pt")
    with pytest.raises(WarmStartError, match="not those of the artifact"):
        load_previous(str(foreign))
    with pytest.raises(WarmStartError, match="neither"):
        load_previous(str(tmp_path))


def test_cli_refuses_a_conflicting_shape(
    v1: Dict[str, Path], v2_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(
        ["train", "--format", "events", "--data", str(v2_data), "--init-from", str(v1["artifact"])]
        + ["--hidden", "32", "--epochs", "1", "--threads", "1", "--out", str(tmp_path / "r")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--hidden 32 (the previous model has 16)" in err
    assert not (tmp_path / "r").exists()


def test_warm_train_end_to_end_exports_and_records_init_from(
    v1: Dict[str, Path], v2_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, art = tmp_path / "run", tmp_path / "artifact"
    code = main(
        ["train", "--format", "events", "--data", str(v2_data), "--name", "v2"]
        + ["--init-from", str(v1["artifact"]), "--max-len", "12", "--threads", "1"]
        + ["--epochs", "2", "--seed", "2", "--out", str(out), "--export-dir", str(art)]
    )
    assert code == 0
    log = capsys.readouterr().out
    assert "30 item embedding(s) carried over by item id, 10 new item(s)" in log
    assert "absent from the new data and dropped (e.g. old-" in log
    prev_meta = json.loads((v1["artifact"] / "metadata.json").read_text())
    meta = json.loads((art / "metadata.json").read_text())
    info = meta["metrics"]["init_from"]
    assert info["model_version"] == prev_meta["model_version"]
    assert info["kind"] == "artifact"
    assert (info["items_carried_over"], info["items_new"]) == (30, 10)
    assert info["items_dropped"] == prev_meta["num_items"] - 30
    assert info["items_dropped"] > 0
    assert json.loads((out / "metrics.json").read_text())["init_from"] == info
    # the shape came from v1 (hidden 16, 2 heads, dropout 0.1), not the defaults
    assert (meta["hidden_size"], meta["num_heads"], meta["dropout"]) == (16, 2, 0.1)
    assert meta["num_items"] == 40
    # a warm start's learning rate is WARM_START_LR unless --lr is given
    assert json.loads((out / "metrics.json").read_text())["final_lr"] == WARM_START_LR
    v2 = load_previous(str(art))
    assert v2.model_version == meta["model_version"] != prev_meta["model_version"]
    # and v2 can in turn be the start of v3
    code = main(
        ["train", "--format", "events", "--data", str(v2_data), "--init-from", str(art)]
        + ["--epochs", "1", "--threads", "1", "--max-batches-per-epoch", "1"]
        + ["--out", str(tmp_path / "v3")]
    )
    assert code == 0
    assert np.isfinite(json.loads((tmp_path / "v3" / "metrics.json").read_text())["final_lr"])
    code = main(
        ["train", "--format", "events", "--data", str(v2_data), "--init-from", str(art)]
        + ["--epochs", "1", "--threads", "1", "--max-batches-per-epoch", "1", "--lr", "5e-4"]
        + ["--out", str(tmp_path / "v3-lr")]
    )
    assert code == 0
    assert json.loads((tmp_path / "v3-lr" / "metrics.json").read_text())["final_lr"] == 5e-4

"""Behavior types in the model: the type embedding, the target-behavior vector, the typed split
and a training run where only the types tell the next item."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import write_jsonl
from seqrec_model.config import ModelConfig, TrainConfig
from seqrec_model.data import BEHAVIOR_CODES, leave_one_out, read_events, read_pairs
from seqrec_model.sasrec import SASRec
from seqrec_model.train import behavior_arrays, train, training_arrays

TYPED = ModelConfig(max_len=8, hidden=16, blocks=2, heads=2, dropout=0.0, behaviors=True)


def typed_model(**changes) -> SASRec:
    torch.manual_seed(0)
    config = ModelConfig(**{**TYPED.to_dict(), **changes})
    return SASRec(12, config).eval()


def test_unknown_behaviors_are_code_zero_and_types_change_the_scores() -> None:
    model = typed_model()
    seq = torch.tensor([[0, 3, 5, 7]])
    unknown = model.forward_last(seq)
    zeros = model.forward_last(seq, torch.zeros_like(seq))
    assert torch.allclose(unknown, zeros)
    views = model.forward_last(seq, torch.tensor([[0, 1, 1, 1]]))
    carted = model.forward_last(seq, torch.tensor([[0, 1, 1, 3]]))
    assert not torch.allclose(views, carted, atol=1e-4)
    # a type-blind model ignores the behaviors
    blind = typed_model(behaviors=False)
    assert torch.equal(blind.forward_last(seq), blind.forward_last(seq, torch.tensor([[0, 1, 1, 3]])))


def test_behaviors_keep_padding_invariance_and_forward_last_equals_forward() -> None:
    model = typed_model()
    short = model.forward_last(torch.tensor([[4, 2]]), torch.tensor([[3, 4]]))
    padded = model.forward_last(torch.tensor([[0, 0, 0, 4, 2]]), torch.tensor([[2, 5, 1, 3, 4]]))
    # behaviors under padding do not matter: the padding's step is masked out
    assert torch.allclose(short, padded, atol=1e-5)
    seq, beh = torch.tensor([[0, 1, 2, 3]]), torch.tensor([[0, 1, 3, 4]])
    assert torch.allclose(model.forward(seq, beh)[:, -1, :], model.forward_last(seq, beh), atol=1e-5)
    with pytest.raises(ValueError, match="align"):
        model.forward_last(seq, torch.tensor([[1, 1]]))


def test_target_behavior_vector_starts_at_zero_and_is_added_before_scoring() -> None:
    model = typed_model(target_behavior=True)
    seq, beh = torch.tensor([[1, 2, 3]]), torch.tensor([[1, 1, 3]])
    purchase = torch.tensor([BEHAVIOR_CODES["purchase"]])
    # untrained, asking for a behavior changes nothing
    assert torch.equal(model.forward_last(seq, beh), model.forward_last(seq, beh, purchase))
    with torch.no_grad():
        model.target_emb.weight[BEHAVIOR_CODES["purchase"]].fill_(0.5)
    any_next = model.forward_last(seq, beh)
    bought = model.forward_last(seq, beh, purchase)
    shift = torch.full((1, 16), 0.5) @ model.item_emb.weight.t()
    assert torch.allclose(bought - any_next, shift, atol=1e-5)


def test_typed_split_and_training_arrays_stay_aligned() -> None:
    seqs = [np.array([1, 2, 3, 4]), np.array([5, 6])]
    behs = [np.array([1, 2, 3, 4]), np.array([1, 3])]
    split = leave_one_out(seqs, behs)
    assert [b.tolist() for b in split.train_behaviors] == [[1, 2], [1, 3]]
    assert split.validation.input_behaviors[0].tolist() == [1, 2]
    assert split.validation.target_behaviors.tolist() == [3]
    assert split.test.input_behaviors[0].tolist() == [1, 2, 3]
    assert split.test.target_behaviors.tolist() == [4]
    assert leave_one_out(seqs).test.input_behaviors is None
    inputs, targets = training_arrays(split.train, 3)
    in_beh, tgt_beh = behavior_arrays(split.train, split.train_behaviors, 3)
    assert inputs.tolist() == [[0, 0, 1], [0, 0, 5]] and in_beh.tolist() == [[0, 0, 1], [0, 0, 1]]
    assert targets.tolist() == [[0, 0, 2], [0, 0, 6]] and tgt_beh.tolist() == [[0, 0, 2], [0, 0, 3]]


def behavior_led_events(users: int = 160, items: int = 30, seed: int = 3) -> list:
    """The next item depends on how the user treated the last one: after a view of item k comes
    item k+1, after a purchase of item k comes item k+7. The items alone do not tell which."""
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        item, ts = rng.randrange(items), 1_700_000_000_000 + u
        for step in range(12):
            bought = rng.random() < 0.5
            rows.append({"user_id": f"u{u}", "item_id": f"i{item}", "ts": ts + step * 1000,
                         "event_type": "purchase" if bought else "view"})  # fmt: skip
            item = (item + (7 if bought else 1)) % items
    return rows


def test_the_type_aware_model_learns_what_the_types_tell(tmp_path: Path) -> None:
    data = read_events(str(write_jsonl(tmp_path / "e.jsonl", behavior_led_events())))
    cfg = TrainConfig(epochs=30, batch_size=32, lr=5e-3, threads=1, seed=1, patience=30)
    blind_cfg = ModelConfig(max_len=12, hidden=32, blocks=1, heads=1, dropout=0.0)
    aware_cfg = ModelConfig(**{**blind_cfg.to_dict(), "behaviors": True})
    blind = train(data, blind_cfg, cfg, log=io.StringIO()).metrics["test"]["seen_excluded"]
    aware = train(data, aware_cfg, cfg, log=io.StringIO()).metrics["test"]["seen_excluded"]
    # the blind model can at best split its bet between k+1 and k+7: HR@1 about one half
    assert blind["HR@1"] < 0.65
    assert aware["HR@1"] > 0.9, (blind, aware)


def test_a_behavior_model_needs_typed_data(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("".join(f"u{u} i{i}\n" for u in range(3) for i in range(4)))
    with pytest.raises(ValueError, match="behavior types"):
        train(read_pairs(str(path)), TYPED, TrainConfig(epochs=1, threads=1), log=io.StringIO())


def test_type_aware_export_declares_its_steps_and_feeds_behaviors(tmp_path: Path) -> None:
    import json

    import onnx

    from seqrec_model import onnx_numpy
    from seqrec_model.export import export_artifact
    from seqrec_model.warmstart import WEIGHTS_FILE, WarmStartError, load_previous

    config = ModelConfig(max_len=6, hidden=16, blocks=1, heads=2, behaviors=True, target_behavior=True)
    torch.manual_seed(3)
    model = SASRec(25, config)
    with torch.no_grad():  # as if trained: no two weights alike (the exporter merges equal ones)
        for param in model.parameters():
            param.normal_(std=0.3)
        model.item_emb.weight[0].zero_()
        model.behavior_emb.weight[0].zero_()
    summary = {"name": "t", "format": "events", "users": 0, "items": 25, "interactions": 0}
    meta = export_artifact(model, [f"i{i}" for i in range(25)], str(tmp_path / "typed"),
                           model_name="typed", training_data=summary, metrics={},
                           train_config=TrainConfig(seed=3), repeats="strongest",
                           target_behavior="purchase")  # fmt: skip
    assert meta["format_version"] == 2
    assert [i["name"] for i in meta["inputs"]] == ["item_seq", "behaviors"]
    assert meta["steps"] == {
        "repeats": "strongest",
        "behaviors_input": "behaviors",
        "behavior_codes": {"view": 1, "click": 2, "cart": 3, "purchase": 4, "rate": 5},
        "target_behavior": "purchase",
    }
    lines = [json.loads(x) for x in (tmp_path / "typed" / "reference.jsonl").read_text().splitlines()]
    assert all(len(x["behaviors"]) == len(x["sequence"]) for x in lines)
    assert all(1 <= b <= 4 for x in lines for b in x["behaviors"])
    # the graph reads the behaviors: the same items with other behaviors score otherwise
    proto = onnx.load(str(tmp_path / "typed" / "model.onnx"))
    items = np.asarray([[3, 5, 7]], dtype=np.int64)
    viewed = onnx_numpy.run(proto, {"item_seq": items, "behaviors": np.asarray([[1, 1, 1]])})[0]
    bought = onnx_numpy.run(proto, {"item_seq": items, "behaviors": np.asarray([[1, 1, 4]])})[0]
    assert np.abs(viewed - bought).max() > 1e-3
    # and it is asked for a purchase: PyTorch with the same question gives the graph's scores
    previous = load_previous(str(tmp_path / "typed"))
    model = previous.model()
    torch_scores = model.forward_last(torch.from_numpy(items), torch.tensor([[1, 1, 4]]), 4)
    assert np.allclose(torch_scores.detach().numpy(), bought, atol=1e-4)
    # from model.onnx alone a warm start reads a type-aware artifact back exactly, but not a
    # target-behavior one (its graph keeps only the served behavior's vector)
    (tmp_path / "typed" / WEIGHTS_FILE).unlink()
    with pytest.raises(WarmStartError, match="target-behavior model cannot be read back"):
        load_previous(str(tmp_path / "typed"))
    untargeted = SASRec(25, ModelConfig(**{**config.to_dict(), "target_behavior": False}))
    untargeted.load_state_dict({k: v for k, v in model.state_dict().items() if k != "target_emb.weight"})
    export_artifact(untargeted, [f"i{i}" for i in range(25)], str(tmp_path / "aware"),
                    model_name="aware", training_data=summary, metrics={},
                    train_config=TrainConfig(seed=3))  # fmt: skip
    (tmp_path / "aware" / WEIGHTS_FILE).unlink()
    again = load_previous(str(tmp_path / "aware"))
    assert again.model_config.behaviors and not again.model_config.target_behavior
    for name, value in untargeted.state_dict().items():
        assert torch.equal(again.state_dict[name], value), name


def test_single_behavior_export_keeps_format_version_1(tmp_path: Path) -> None:
    from seqrec_model.export import export_random

    meta = export_random(ModelConfig(max_len=6, hidden=16, blocks=1, heads=1), 20, str(tmp_path / "a"))
    assert meta["format_version"] == 1 and "steps" not in meta
    assert [i["name"] for i in meta["inputs"]] == ["item_seq"]
    meta = export_random(ModelConfig(max_len=6, hidden=16, blocks=1, heads=1), 20, str(tmp_path / "b"),
                         repeats="all")  # fmt: skip
    assert meta["format_version"] == 2 and meta["steps"]["behaviors_input"] is None

"""Issue 19: time budget, learning-rate schedules, patience with a minimum gain, stop reasons,
the gBCE loss and the sparse/dense presets."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqrec_model.cli import main
from seqrec_model.config import ModelConfig, TrainConfig, parse_duration
from seqrec_model.data import InteractionData, read_events
from seqrec_model.presets import choose_preset, resolve
from seqrec_model.train import (
    EarlyStopping,
    LearningRate,
    gbce_beta,
    gbce_loss,
    load_checkpoint,
    train,
)

TINY_MODEL = ModelConfig(max_len=12, hidden=16, blocks=1, heads=1, dropout=0.1)


@pytest.mark.parametrize(
    "text,seconds",
    [("45m", 2700), ("1h30m", 5400), ("90s", 90), ("2700", 2700), ("2.5h", 9000), (" 1m30s ", 90)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "45x", "m", "1h 30m", "-5", "0", "30m1h2"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_warmup_then_cosine_to_the_floor() -> None:
    cfg = TrainConfig(lr=1e-2, epochs=10, lr_schedule="cosine", warmup_epochs=1, min_lr_ratio=0.1)
    s = LearningRate(cfg, steps_per_epoch=10)
    lrs = [s.at(i) for i in range(100)]
    assert lrs[0] == pytest.approx(1e-2 * (0.01 + 0.99 / 10))
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:10]))  # rising during warm-up
    assert lrs[9] == pytest.approx(1e-2)
    assert lrs[10] == pytest.approx(1e-2)  # cosine starts at the peak
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))  # then only decreases
    assert s.at(100) == pytest.approx(1e-3)  # the floor at the epoch cap
    assert lrs[55] == pytest.approx(1e-3 + 0.9e-2 * 0.5, rel=1e-6)  # halfway


def test_constant_is_the_default_and_ignores_evaluations() -> None:
    s = LearningRate(TrainConfig(lr=3e-3), steps_per_epoch=5)
    assert {s.at(i) for i in range(50)} == {3e-3}
    assert not s.evaluated(False) and not s.evaluated(False)
    assert s.at(60) == 3e-3


def test_plateau_halves_after_its_patience_and_stops_at_the_floor() -> None:
    cfg = TrainConfig(lr=1e-2, lr_schedule="plateau", plateau_patience=2, plateau_factor=0.5,
                      min_lr_ratio=0.2)  # fmt: skip
    s = LearningRate(cfg, steps_per_epoch=5)
    assert not s.evaluated(False)
    assert s.evaluated(False) and s.at(0) == pytest.approx(5e-3)
    assert not s.evaluated(True) and not s.evaluated(False)  # a gain resets the count
    assert s.evaluated(False) and s.at(0) == pytest.approx(2.5e-3)
    s.evaluated(False)
    assert s.evaluated(False) and s.at(0) == pytest.approx(2e-3)  # floor 0.2 * lr
    s.evaluated(False)
    assert not s.evaluated(False) and s.at(0) == pytest.approx(2e-3)


def test_early_stopping_min_delta() -> None:
    e = EarlyStopping(patience=2, min_delta=0.01)
    assert e.update(0.10) == (True, True)
    assert e.update(0.105) == (True, False)  # a new best, but not enough to reset patience
    assert not e.exhausted
    assert e.update(0.108) == (True, False)
    assert e.exhausted
    e = EarlyStopping(patience=2, min_delta=0.01)
    e.update(0.10)
    e.update(0.105)
    assert e.update(0.111) == (True, True)  # 0.011 above the last reset: counts again
    assert not e.exhausted


def test_early_stopping_without_min_delta_is_the_old_rule() -> None:
    e = EarlyStopping(patience=3, min_delta=0.0)
    results = [e.update(x) for x in (0.1, 0.1, 0.09, 0.1000001)]
    assert results == [(True, True), (False, False), (False, False), (True, True)]


def test_gbce_beta_matches_gsasrec() -> None:
    assert gbce_beta(256, 3417, 0.0) == pytest.approx(1.0)
    alpha = 256 / 3416
    assert gbce_beta(256, 3417, 1.0) == pytest.approx(alpha)
    assert gbce_beta(256, 3417, 0.75) == pytest.approx(alpha * (0.75 * (1 - 1 / alpha) + 1 / alpha))


def test_gbce_loss_formula_and_accidental_hits() -> None:
    torch.manual_seed(0)
    h = torch.randn(3, 4)
    emb = torch.randn(10, 4)
    y = torch.tensor([1, 2, 3])
    negatives = torch.tensor([2, 5, 7])  # 2 is the second row's own target
    beta = 0.3
    got = gbce_loss(h, emb, y, negatives, beta)
    expected = 0.0
    for r in range(3):
        pos = float(h[r] @ emb[y[r]])
        term = -beta * math.log(1 / (1 + math.exp(-pos)))
        for n in negatives.tolist():
            if n != int(y[r]):
                term += -math.log(1 - 1 / (1 + math.exp(-float(h[r] @ emb[n]))))
        expected += term / 4
    assert float(got) == pytest.approx(expected / 3, rel=1e-5)
    assert float(F.softplus(torch.tensor(0.0))) == pytest.approx(math.log(2))


class FakeClock:
    """Each call advances 1 s: an epoch's cost is the number of clock reads in it."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.fixture(scope="module")
def data(events_file: Path) -> InteractionData:
    return read_events(str(events_file))


def _run(data: InteractionData, out: Path, clock=None, **kw) -> tuple[dict, list]:
    cfg = TrainConfig(batch_size=32, lr=0.01, threads=1, seed=1, **kw)
    log = io.StringIO()
    result = train(data, TINY_MODEL, cfg, out_dir=str(out), log=log, clock=clock or FakeClock())
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(result.metrics))
    history = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    assert (
        f"stopped after epoch {result.epochs_trained}: {on_disk['stop_reason']}" in log.getvalue()
    )
    return on_disk, history


def test_epoch_cap_is_reported(data: InteractionData, tmp_path: Path) -> None:
    m, history = _run(data, tmp_path, epochs=3, eval_every=2)
    assert m["stop_reason"] == "epoch_cap" and m["epochs_trained"] == 3
    assert "epoch cap (3)" in m["stop_detail"]
    assert [("validation" in h) for h in history] == [False, True, True]  # last epoch evaluated
    assert m["time_budget_seconds"] is None
    assert all("lr" in h for h in history)


class SteppedClock:
    """Time moves only where work is simulated: ``advance`` (called from wrapped functions)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def wrap(self, fn, seconds: float):
        def wrapped(*args, **kwargs):
            self.t += seconds
            return fn(*args, **kwargs)

        return wrapped


def test_time_budget_stops_before_the_epoch_that_would_overrun(
    data: InteractionData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import seqrec_model.train as tr

    clock = SteppedClock()
    monkeypatch.setattr(tr, "batch_loss", clock.wrap(tr.batch_loss, 1.0))  # 1 s per batch
    monkeypatch.setattr(tr, "evaluate_model", clock.wrap(tr.evaluate_model, 0.5))
    # 2 batches an epoch (2 s), an evaluation every 3rd epoch (0.5 s): epochs end at 2, 4, 6.5,
    # 8.5, 10.5, 13, 15, 17, 19.5 s; a 10th epoch would end at 21.5 (+0.5 for the forced final
    # evaluation of epoch 9) > 20.
    m, history = _run(data, tmp_path, clock=clock, epochs=100, eval_every=3, time_budget=20.0,
                      max_batches_per_epoch=2)  # fmt: skip
    assert m["stop_reason"] == "time_budget", m
    assert m["epochs_trained"] == 9
    assert m["train_seconds"] <= 20.0
    assert "validation" in history[-1]
    m, history = _run(data, tmp_path, clock=clock, epochs=100, eval_every=4, time_budget=20.0,
                      max_batches_per_epoch=2)  # fmt: skip
    assert m["stop_reason"] == "time_budget" and m["train_seconds"] <= 20.0
    assert "validation" in history[-1]  # evaluated although 4 does not divide the last epoch
    assert history[-1]["epoch"] % 4 != 0 and m["best_epoch"] >= 1 and "test" in m


def test_patience_with_min_delta(data: InteractionData, tmp_path: Path) -> None:
    # No gain can exceed 1.0: patience runs out after the first evaluation plus 2 more.
    m, history = _run(data, tmp_path, epochs=50, eval_every=1, patience=2, min_delta=1.0)
    assert m["stop_reason"] == "patience"
    assert m["epochs_trained"] == 3
    assert "more than 1.0" in m["stop_detail"]


def test_schedules_and_gbce_train(data: InteractionData, tmp_path: Path) -> None:
    m, history = _run(data, tmp_path / "a", epochs=4, loss="gbce", num_negatives=8,
                      lr_schedule="cosine", warmup_epochs=1.0, min_lr_ratio=0.1)  # fmt: skip
    assert all(np.isfinite(h["loss"]) for h in history)
    assert history[0]["lr"] == pytest.approx(0.01)  # end of warm-up
    assert 0.001 <= history[-1]["lr"] < 0.0013  # the last step is one short of the floor
    assert m["final_lr"] == history[-1]["lr"]
    m, history = _run(data, tmp_path / "b", epochs=6, lr_schedule="plateau", plateau_patience=1,
                      min_delta=1.0, patience=10)  # fmt: skip
    lrs = [h["lr"] for h in history]
    assert lrs[0] == pytest.approx(0.01) and lrs[-1] < lrs[0]


def _shape(items: int, per_user: int, users: int = 10) -> InteractionData:
    return InteractionData(
        name="x",
        format="pairs",
        user_ids=[str(u) for u in range(users)],
        item_ids=[str(i) for i in range(items)],
        sequences=[np.arange(1, per_user + 1, dtype=np.int64) for _ in range(users)],
    )


def test_auto_preset_from_catalog_size_and_history_length() -> None:
    assert choose_preset(_shape(23_715, 9))[0] == "sparse"  # Amazon Games' shape
    assert choose_preset(_shape(3_416, 163))[0] == "dense"  # ML-1M's
    assert choose_preset(_shape(1_997, 66))[0] == "dense"  # the synthetic default's
    assert choose_preset(_shape(30_000, 45))[0] == "dense"  # large catalog, long histories
    assert choose_preset(_shape(5_000, 9))[0] == "dense"  # short histories, small catalog


def test_explicit_options_override_the_preset() -> None:
    name, _, opts = resolve("auto", _shape(23_715, 9), {"dropout": 0.3, "lr": None})
    assert name == "sparse" and opts["dropout"] == 0.3 and "lr" in opts
    name, why, opts = resolve("dense", _shape(23_715, 9), {"dropout": None})
    assert name == "dense" and opts == {} and "--preset" in why


def test_cli_dense_preset_keeps_the_old_defaults(events_file: Path, tmp_path: Path) -> None:
    # The synthetic fixture is small: auto picks dense, i.e. exactly the dataclass defaults.
    code = main(["train", "--format", "events", "--data", str(events_file), "--epochs", "1",
                 "--max-batches-per-epoch", "1", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    ckpt = load_checkpoint(str(tmp_path / "checkpoint.pt"))
    assert ckpt["train_config"] == {**TrainConfig().to_dict(), "epochs": 1,
                                    "max_batches_per_epoch": 1}  # fmt: skip
    assert ckpt["model_config"] == ModelConfig().to_dict()
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["preset"] == "dense" and "items" in m["preset_reason"]


def test_cli_sparse_preset_with_overrides(events_file: Path, tmp_path: Path) -> None:
    code = main(["train", "--format", "events", "--data", str(events_file), "--preset", "sparse",
                 "--max-len", "12", "--hidden", "16", "--epochs", "2", "--time-budget", "10m",
                 "--max-batches-per-epoch", "2", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    ckpt = load_checkpoint(str(tmp_path / "checkpoint.pt"))
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["preset"] == "sparse" and m["time_budget_seconds"] == 600.0
    assert ckpt["model_config"]["max_len"] == 12 and ckpt["train_config"]["epochs"] == 2
    from seqrec_model.presets import PRESETS

    for key, value in PRESETS["sparse"].items():
        if key not in ("max_len", "hidden", "epochs", "time_budget"):  # given on the command line
            where = "model_config" if key in ModelConfig().to_dict() else "train_config"
            assert ckpt[where][key] == value, key


def test_cli_names_what_the_command_line_overrode(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    main(["train", "--format", "events", "--data", str(events_file), "--preset", "sparse",
          "--loss", "sampled", "--epochs", "1", "--max-batches-per-epoch", "1",
          "--out", str(tmp_path)])  # fmt: skip
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("preset sparse (chosen with --preset)")
    assert "'loss'" not in first and first.endswith("instead: epochs, loss")

"""Issue 17 §6: user-level DP-SGD, its RDP accountant, clipping, noise and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from seqrec_model import dp
from seqrec_model.cli import main
from seqrec_model.config import ModelConfig
from seqrec_model.data import leave_one_out, read_events
from seqrec_model.sasrec import SASRec
from seqrec_model.train import _trim, training_arrays

# Opacus's default RDP orders (opacus/accountants/rdp.py: 1.1 .. 10.9 by 0.1, then 12 .. 63),
# so that its published test values can be compared exactly.
OPACUS_ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def test_epsilon_matches_opacus_published_value() -> None:
    # pytorch/opacus, opacus/tests/accountants_test.py, test_rdp_accountant: noise multiplier
    # 1.5, sample rate 0.04, int(90 / 0.04) steps, delta 1e-5 -> epsilon 7.32911117143.
    eps, order = dp.epsilon_spent(0.04, 1.5, int(90 / 0.04), 1e-5, OPACUS_ORDERS)
    assert eps == pytest.approx(7.32911117143, abs=1e-8)
    assert order == pytest.approx(3.9)


def test_noise_calibration_matches_opacus_published_values() -> None:
    # The same file, test_get_noise_multiplier_rdp_epochs / _steps: target epsilon 8, delta
    # 1e-5, sample rate 0.04 -> 1.416 for 90 epochs (2250 steps), 1.3562 for 2000 steps. Their
    # search stops within 0.01 of epsilon and ours within 0.1 % of sigma: equal to ~1e-3.
    for steps, published in ((2250, 1.416), (2000, 1.3562)):
        sigma = dp.calibrate_noise(8.0, 1e-5, 0.04, steps, OPACUS_ORDERS)
        assert sigma == pytest.approx(published, abs=1e-3)
        # on the safe side, and not wastefully so
        assert dp.epsilon_spent(0.04, sigma, steps, 1e-5, OPACUS_ORDERS)[0] <= 8.0
        assert dp.epsilon_spent(0.04, sigma * 0.997, steps, 1e-5, OPACUS_ORDERS)[0] > 8.0


@pytest.mark.parametrize("alpha", [2, 3, 10, 32])
def test_integration_agrees_with_the_binomial_expansion(alpha: int) -> None:
    # Two independent computations of A_alpha (Mironov et al. 2019, Sec. 3.3 and its definition)
    exact = dp._log_a_integer(0.01, 1.1, alpha)
    integrated = dp._log_a_fractional(0.01, 1.1, float(alpha))
    assert integrated == pytest.approx(exact, rel=1e-7, abs=1e-12)


def test_rdp_limits() -> None:
    # q = 1: the Gaussian mechanism, alpha / (2 sigma^2); q = 0: nothing is released
    assert dp.rdp_sampled_gaussian(1.0, 2.0, 7.5) == pytest.approx(7.5 / 8)
    assert dp.rdp_sampled_gaussian(0.0, 2.0, 7.5) == 0.0
    # sampling amplifies privacy, more noise or fewer steps spend less
    assert dp.rdp_sampled_gaussian(0.1, 1.0, 4) < dp.rdp_sampled_gaussian(0.2, 1.0, 4)
    assert dp.epsilon_spent(0.1, 2.0, 100, 1e-5)[0] < dp.epsilon_spent(0.1, 1.0, 100, 1e-5)[0]
    assert dp.epsilon_spent(0.1, 1.0, 50, 1e-5)[0] < dp.epsilon_spent(0.1, 1.0, 100, 1e-5)[0]
    # the Balle et al. 2020 conversion is never worse than the classic one
    rdp = [dp.rdp_sampled_gaussian(0.05, 1.0, a) * 500 for a in OPACUS_ORDERS]
    classic = dp.rdp_to_epsilon(OPACUS_ORDERS, rdp, 1e-5, "classic")[0]
    assert dp.rdp_to_epsilon(OPACUS_ORDERS, rdp, 1e-5)[0] < classic


@pytest.fixture(scope="module")
def tiny(events_file: Path):
    data = read_events(str(events_file))
    split = leave_one_out(data.sequences)
    inputs, targets = training_arrays(split.train, 12)
    torch.manual_seed(0)
    model = SASRec(data.num_items, ModelConfig(max_len=12, hidden=16, blocks=1, dropout=0.3))
    return model, inputs[:12], targets[:12]


def _norm(grads: dict) -> float:
    return math.sqrt(sum(float(g.pow(2).sum()) for g in grads.values()))


def test_each_users_contribution_is_clipped(tiny) -> None:
    model, inputs, targets = tiny
    clip = 0.05  # below every user's raw gradient norm: every user is clipped
    model.eval()  # deterministic, so that the sums can be compared
    x, y = _trim(inputs, targets)
    everyone, norms, _ = dp.clipped_gradient_sum(model, x, y, clip, chunk=5)
    assert bool((norms > clip).all())
    for u in range(len(x)):
        rest = [i for i in range(len(x)) if i != u]
        without, _, _ = dp.clipped_gradient_sum(model, x[rest], y[rest], clip, chunk=5)
        contribution = {k: everyone[k] - without[k] for k in everyone}
        # the sensitivity the noise is calibrated for: removing one user moves the sum <= C
        assert _norm(contribution) <= clip * (1 + 1e-4)
        assert _norm(contribution) == pytest.approx(clip, rel=1e-3)  # clipped, not dropped
    model.train()  # with dropout (a different mask per user) the bound holds alike
    for u in range(len(x)):
        alone, _, _ = dp.clipped_gradient_sum(model, x[u : u + 1], y[u : u + 1], clip)
        assert _norm(alone) <= clip * (1 + 1e-5)


def test_per_user_gradients_are_the_autograd_gradients(tiny) -> None:
    model, inputs, targets = tiny
    model.eval()
    x, y = _trim(inputs[:3], targets[:3])
    summed, norms, _ = dp.clipped_gradient_sum(model, x, y, clip=1e6)  # nothing clipped
    loss = dp.PerUserLoss(model)
    expected = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for u in range(len(x)):
        model.zero_grad()
        loss(x[u : u + 1], y[u : u + 1]).backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        assert _norm(grads) == pytest.approx(float(norms[u]), rel=1e-4)
        for n in expected:
            expected[n] += grads[n]
    for n, g in expected.items():
        assert torch.allclose(summed[n], g, atol=1e-6), n
    model.train()


def test_noise_scale() -> None:
    sums = {"w": torch.zeros(400_000)}
    gen = torch.Generator().manual_seed(0)
    noisy = dp.noisy_mean(sums, noise_multiplier=2.0, clip=0.5, expected_batch=10.0, generator=gen)
    # N(0, (sigma C)^2) on the sum, divided by the expected batch: std 2 * 0.5 / 10
    assert float(noisy["w"].std()) == pytest.approx(0.1, rel=0.01)
    assert abs(float(noisy["w"].mean())) < 1e-3


def test_poisson_batches_have_the_expected_size() -> None:
    rng = np.random.default_rng(0)
    sizes = [len(dp.poisson_batch(rng, 1000, 0.05)) for _ in range(400)]
    assert np.mean(sizes) == pytest.approx(50, rel=0.03)
    assert len(set(sizes)) > 5  # a random size, as the accountant assumes


def test_train_with_dp_epsilon_end_to_end(events_file: Path, tmp_path: Path) -> None:
    code = main(["train", "--format", "events", "--data", str(events_file), "--max-len", "12",
                 "--hidden", "16", "--blocks", "1", "--epochs", "3", "--batch-size", "24",
                 "--eval-every", "1", "--patience", "1", "--threads", "1", "--dp-epsilon", "2",
                 "--dp-delta", "1e-4", "--dp-clip", "0.5", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    m = json.loads((tmp_path / "metrics.json").read_text())
    d = m["dp"]
    assert 0 < d["epsilon"] <= 2.0 and d["delta"] == 1e-4 and d["target_epsilon"] == 2.0
    assert d["epsilon"] > 1.9  # the calibration uses the budget
    users = d["users"]
    assert d["sample_rate"] == pytest.approx(24 / users)
    assert d["steps"] == 3 * math.ceil(users / 24) and d["clip"] == 0.5
    # the spent epsilon is recomputed from the recorded parameters
    again = dp.epsilon_spent(d["sample_rate"], d["noise_multiplier"], d["steps"], 1e-4)[0]
    assert again == pytest.approx(d["epsilon"], abs=1e-3)
    # patience 1 would have stopped a normal run; DP trains the fixed steps, keeps the last
    assert m["epochs_trained"] == 3 and m["best_epoch"] == 3 and m["stop_reason"] == "epoch_cap"
    assert "test" in m


@pytest.mark.parametrize(
    "options,message",
    [
        (["--dp-epsilon", "0"], "dp_epsilon must be a finite number > 0"),
        (["--dp-epsilon", "-1"], "dp_epsilon must be a finite number > 0"),
        (["--dp-epsilon", "inf"], "dp_epsilon must be a finite number > 0"),
        (["--dp-epsilon", "nan"], "dp_epsilon must be a finite number > 0"),
        (["--dp-epsilon", "1", "--dp-delta", "0"], "dp_delta must be in (0, 1)"),
        (["--dp-epsilon", "1", "--dp-delta", "1.5"], "dp_delta must be in (0, 1)"),
        (["--dp-epsilon", "1", "--dp-clip", "0"], "dp_clip must be a finite number > 0"),
        (["--dp-delta", "1e-6"], "--dp-delta only apply with --dp-epsilon"),
        (["--dp-epsilon", "1", "--time-budget", "10m"], "fixed number of steps"),
        (["--dp-epsilon", "1", "--preset", "sparse"], "fixed number of steps"),
        (["--dp-epsilon", "1", "--lr-schedule", "plateau"], "reads the validation data"),
        (["--dp-epsilon", "1", "--loss", "sampled"], "needs --loss ce"),
        (["--dp-epsilon", "1", "--behaviors"], "behavior-aware models are not supported"),
    ],
)
def test_cli_refuses_nonsense(
    events_file: Path, tmp_path: Path, capsys, options: list, message: str
) -> None:
    code = main(["train", "--format", "events", "--data", str(events_file), "--epochs", "1",
                 "--out", str(tmp_path), *options])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "checkpoint.pt").exists()

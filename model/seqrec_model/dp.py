"""User-level differentially private training (DP-SGD) and its privacy accountant.

DP-SGD (Abadi et al., CCS 2016) with Poisson sampling of **users**: at every step each user is
in the batch independently with probability ``q``; each sampled user's gradient (of the mean
loss over their one training sequence) is clipped to L2 norm ``C``; Gaussian noise
N(0, sigma^2 C^2) is added to the sum of the clipped gradients, and the sum is divided by the
*expected* batch size ``q * users``. One step is then a sampled Gaussian mechanism of
sensitivity ``C`` under add/remove-one-user adjacency, and the whole training is its ``T``-fold
composition.

The accountant is written here from the formulas (no Opacus / TF Privacy in this environment):

* RDP of the sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019, "Renyi Differential
  Privacy of the Sampled Gaussian Mechanism", arXiv:1908.10530): for order alpha,
  ``rdp(alpha) = log(A_alpha) / (alpha - 1)`` with
  ``A_alpha = E_{z ~ N(0, sigma^2)} [((1 - q) + q exp((2z - 1) / (2 sigma^2)))^alpha]``.
  For integer alpha the binomial expansion gives
  ``A_alpha = sum_k C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2))`` (their
  Section 3.3), computed exactly in log space; fractional orders integrate the expectation
  numerically (scipy's adaptive quadrature).
* Composition: RDP adds up over steps.
* RDP -> (epsilon, delta): the conversion of Balle et al. 2020 ("Hypothesis Testing
  Interpretations and Renyi Differential Privacy", Theorem 21), the one current Opacus and
  TF Privacy use: ``eps = rdp + log((alpha - 1) / alpha) - (log delta + log alpha) / (alpha - 1)``,
  minimised over the orders. The classic ``rdp + log(1 / delta) / (alpha - 1)`` (Mironov 2017,
  Proposition 3) is available for comparison with older published values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: RDP orders searched for the best conversion: fine fractional orders where small epsilons
#: are found, integers up to 63 and a few large ones for very noisy, long runs.
DEFAULT_ORDERS: Tuple[float, ...] = (
    tuple(1.0 + x / 10.0 for x in range(1, 100)) + tuple(float(a) for a in range(11, 64))
    + (80.0, 128.0, 256.0)
)


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    hi, lo = max(a, b), min(a, b)
    return hi + math.log1p(math.exp(lo - hi))


def _log_a_integer(q: float, sigma: float, alpha: int) -> float:
    """log A_alpha by the binomial expansion (exact for integer alpha)."""
    total = -math.inf
    log_q, log_1q = math.log(q), math.log1p(-q)
    for k in range(alpha + 1):
        log_binom = math.lgamma(alpha + 1) - math.lgamma(k + 1) - math.lgamma(alpha - k + 1)
        term = log_binom + k * log_q + (alpha - k) * log_1q + (k * k - k) / (2 * sigma**2)
        total = _log_add(total, term)
    return total


def _log_a_fractional(q: float, sigma: float, alpha: float) -> float:
    """log A_alpha by numerical integration of its definition as an expectation.

    The integrand is the N(0, sigma^2) density times ((1-q) + q exp((2z-1)/(2 sigma^2)))^alpha;
    its mass lies between about -12 sigma and alpha + 12 sigma (the second term tilts the
    Gaussian towards mean alpha). It is scaled by its largest value on that range to stay finite.
    """
    from scipy import integrate

    s2 = sigma**2

    def log_f(z: np.ndarray) -> np.ndarray:
        log_density = -(z**2) / (2 * s2) - 0.5 * math.log(2 * math.pi * s2)
        mix = np.logaddexp(math.log1p(-q), math.log(q) + (2 * z - 1) / (2 * s2))
        return log_density + alpha * mix

    lo, hi = -12.0 * sigma - 1.0, alpha + 12.0 * sigma + 1.0
    grid = np.linspace(lo, hi, 2001)
    peak = float(np.max(log_f(grid)))
    value, _ = integrate.quad(
        lambda z: math.exp(float(log_f(np.array(z))) - peak),
        lo,
        hi,
        points=sorted({0.0, 0.5, alpha / 2, float(alpha)} - {lo, hi}),
        limit=200,
        epsabs=0.0,
        epsrel=1e-10,
    )
    return peak + math.log(value)


def rdp_sampled_gaussian(q: float, sigma: float, alpha: float) -> float:
    """RDP at order ``alpha`` of one step of the sampled Gaussian mechanism: sampling rate
    ``q``, noise standard deviation ``sigma`` times the sensitivity."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"sampling rate must be in [0, 1], got {q}")
    if sigma <= 0:
        raise ValueError(f"noise multiplier must be > 0, got {sigma}")
    if alpha <= 1:
        raise ValueError(f"RDP order must be > 1, got {alpha}")
    if q == 0.0:
        return 0.0
    if q == 1.0:
        return alpha / (2 * sigma**2)  # the plain Gaussian mechanism
    if float(alpha).is_integer():
        log_a = _log_a_integer(q, sigma, int(alpha))
    else:
        log_a = _log_a_fractional(q, sigma, alpha)
    return log_a / (alpha - 1)


def rdp_to_epsilon(
    orders: Sequence[float], rdp: Sequence[float], delta: float, conversion: str = "balle2020"
) -> Tuple[float, float]:
    """(epsilon, best order) for total RDP values ``rdp`` at ``orders``."""
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    best = (math.inf, float("nan"))
    for alpha, r in zip(orders, rdp):
        if conversion == "classic":
            eps = r + math.log(1 / delta) / (alpha - 1)
        elif conversion == "balle2020":
            eps = r + math.log1p(-1 / alpha) - (math.log(delta) + math.log(alpha)) / (alpha - 1)
        else:
            raise ValueError(f"unknown conversion {conversion!r}")
        if eps < best[0]:
            best = (max(0.0, eps), alpha)
    return best


def epsilon_spent(
    q: float,
    sigma: float,
    steps: int,
    delta: float,
    orders: Sequence[float] = DEFAULT_ORDERS,
    conversion: str = "balle2020",
) -> Tuple[float, float]:
    """(epsilon, best order) after ``steps`` steps of the sampled Gaussian mechanism."""
    rdp = [steps * rdp_sampled_gaussian(q, sigma, a) for a in orders]
    return rdp_to_epsilon(orders, rdp, delta, conversion)


def calibrate_noise(
    target_epsilon: float,
    delta: float,
    q: float,
    steps: int,
    orders: Sequence[float] = DEFAULT_ORDERS,
    tolerance: float = 1e-3,
) -> float:
    """The smallest noise multiplier (to ``tolerance``, relative) whose epsilon after ``steps``
    steps at sampling rate ``q`` is at most ``target_epsilon``: bisection on sigma (epsilon
    decreases as sigma grows). The returned sigma is on the safe side of the bracket."""
    if target_epsilon <= 0:
        raise ValueError(f"target epsilon must be > 0, got {target_epsilon}")

    def eps(sigma: float) -> float:
        return epsilon_spent(q, sigma, steps, delta, orders)[0]

    lo, hi = 0.05, 1.0
    while eps(hi) > target_epsilon:
        lo, hi = hi, hi * 2
        if hi > 1e4:
            raise ValueError(
                f"epsilon {target_epsilon} is out of reach even with noise multiplier 1e4 "
                f"(q={q:.4g}, {steps} steps, delta={delta:g})"
            )
    if eps(lo) <= target_epsilon:
        return lo
    while hi - lo > tolerance * hi:
        mid = 0.5 * (lo + hi)
        if eps(mid) > target_epsilon:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass(frozen=True)
class DpPlan:
    """What the accountant decided before training."""

    target_epsilon: float
    delta: float
    clip: float
    users: int
    expected_batch: float
    sample_rate: float
    steps: int
    noise_multiplier: float

    def spent(self, steps_done: int) -> Tuple[float, float]:
        """(epsilon, best order) after ``steps_done`` steps."""
        return epsilon_spent(self.sample_rate, self.noise_multiplier, steps_done, self.delta)


def plan(
    target_epsilon: float, delta: float, clip: float, users: int, batch_size: int, steps: int
) -> DpPlan:
    """Sampling rate q = batch_size / users and the noise for ``target_epsilon`` after
    ``steps`` steps."""
    q = min(1.0, batch_size / users)
    sigma = calibrate_noise(target_epsilon, delta, q, steps)
    return DpPlan(target_epsilon, delta, clip, users, q * users, q, steps, sigma)


class PerUserLoss(nn.Module):
    """One user's loss as a module, for functorch: the mean full-softmax cross-entropy over the
    non-padding target positions of one sequence (inputs [1, T], targets [1, T]). Written with
    plain ops (functorch 1.13 cannot transform the trainer's custom autograd.Function, nor the
    data-dependent shapes of boolean indexing)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor, targets: Tensor) -> Tensor:
        hidden = self.model.hidden_states(inputs)  # [1, T, d]
        logits = torch.matmul(hidden, self.model.item_emb.weight[1:].t())  # items 1..N
        mask = (targets != 0).to(logits.dtype)
        ce = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            (targets.clamp(min=1) - 1).reshape(-1),
            reduction="none",
        )
        return (ce * mask.reshape(-1)).sum() / mask.sum().clamp(min=1.0)


def clipped_gradient_sum(
    model: nn.Module, inputs: Tensor, targets: Tensor, clip: float, chunk: int = 32
) -> Tuple[Dict[str, Tensor], Tensor, Tensor]:
    """Sum over the rows (users) of each row's gradient clipped to L2 norm ``clip``.

    Per-user gradients come from functorch ``vmap(grad(...))`` over ``chunk`` users at a time
    (dropout draws a different mask per user: ``randomness="different"``); each is dense over
    the whole item embedding, hence the chunks. Returns (summed clipped gradients by parameter
    name, each user's gradient norm before clipping, the mean loss of the rows).
    """
    from functorch import grad, vmap
    from torch.nn.utils.stateless import functional_call

    wrapper = PerUserLoss(model)
    params = {name: p.detach() for name, p in wrapper.named_parameters()}

    def one_user(p: Dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        loss = functional_call(wrapper, p, (x.unsqueeze(0), y.unsqueeze(0)))
        return loss, loss

    per_user = vmap(
        grad(one_user, has_aux=True), in_dims=(None, 0, 0), randomness="different"
    )
    sums = {name: torch.zeros_like(p) for name, p in params.items()}
    norms: List[Tensor] = []
    losses: List[Tensor] = []
    for start in range(0, inputs.shape[0], chunk):
        end = start + chunk
        grads, loss = per_user(params, inputs[start:end], targets[start:end])
        squared = sum(g.reshape(g.shape[0], -1).pow(2).sum(dim=1) for g in grads.values())
        norm = squared.sqrt()
        factor = (clip / (norm + 1e-12)).clamp(max=1.0)
        for name, g in grads.items():
            sums[name] += torch.tensordot(factor, g, dims=1)
        norms.append(norm)
        losses.append(loss.detach())
    empty = torch.zeros(0)
    return (
        {k[len("model.") :]: v for k, v in sums.items()},
        torch.cat(norms) if norms else empty,
        torch.cat(losses) if losses else empty,
    )


def noisy_mean(
    sums: Dict[str, Tensor],
    noise_multiplier: float,
    clip: float,
    expected_batch: float,
    generator: torch.Generator,
) -> Dict[str, Tensor]:
    """(sum + N(0, (noise_multiplier * clip)^2)) / expected_batch, per coordinate."""
    std = noise_multiplier * clip
    return {
        name: (s + torch.normal(0.0, std, s.shape, generator=generator)) / expected_batch
        for name, s in sums.items()
    }


def poisson_batch(rng: np.random.Generator, users: int, q: float) -> np.ndarray:
    """Indices of the users in one Poisson-sampled batch (each independently with prob. q)."""
    return np.flatnonzero(rng.random(users) < q)


def describe(plan_: DpPlan) -> str:
    return (
        f"DP-SGD (user level): target epsilon {plan_.target_epsilon:g}, delta {plan_.delta:g}; "
        f"{plan_.users} users, Poisson sampling q={plan_.sample_rate:.4g} (expected batch "
        f"{plan_.expected_batch:.1f}), {plan_.steps} steps, clip {plan_.clip:g}, "
        f"noise multiplier {plan_.noise_multiplier:.4f}"
    )


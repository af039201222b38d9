"""Cost of the lazy-rich, silent-alignment and kernel-learning-curve predictions, against plain baselines.

A fit evaluates ``model.function`` thousands of times, so each must cost well under a millisecond. Baselines,
measured in the same run on the same 12 session times:

* lazy-rich / silent-alignment: the ODE ``dDelta/dt = -2 sqrt(1 + gamma0^2 (1 - Delta)^2) Delta``
  integrated by ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10), the accuracy the closed form is tested
  against;
* kernel-learning-curve: the self-consistent equation solved per training-set size by
  ``scipy.optimize.brentq``.

Also reported: ``Model.predict`` (adds the xarray Dataset) and one 12-session lazy/rich dataset from
:func:`neurolearn.simulate.two_layer.simulate_lazy_rich_sessions` (what the fit helper repeats).

Run: ``.venv/bin/python benchmarks/bench_theory_a.py``
"""

from __future__ import annotations

import time

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from neurolearn.simulate.two_layer import simulate_lazy_rich_sessions
from neurolearn.theory import MODELS
from neurolearn.theory.kernel_regression import N_MODES

TIMES = np.arange(12) * 0.2


def per_call(function, repeats):
    function()  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def ode_baseline(gamma0):
    def rate(_, residual):
        return -2.0 * np.sqrt(1.0 + gamma0**2 * (1.0 - residual) ** 2) * residual

    solution = solve_ivp(rate, (0.0, TIMES[-1]), [1.0], t_eval=TIMES, rtol=1e-10, atol=1e-12, method="DOP853")
    return solution.y[0]


def brentq_baseline(n_train, eigen_decay=1.5, target_decay=2.0):
    k = np.arange(1, N_MODES + 1, dtype=float)
    eta, power = k**-eigen_decay, k**-target_decay
    eta, power = eta / eta.sum(), power / power.sum()
    out = []
    for p in n_train:
        if p == 0:
            out.append(1.0)
            continue
        kappa = np.exp(brentq(lambda x: 1.0 - np.sum(eta / (p * eta + np.exp(x))), -200.0, 1.0, xtol=1e-14))
        gamma = np.sum(p * eta**2 / (p * eta + kappa) ** 2)
        out.append(np.sum(power * kappa**2 / (p * eta + kappa) ** 2) / (1.0 - gamma))
    return np.array(out)


def main():
    lazy_rich, silent = MODELS["lazy-rich"], MODELS["silent-alignment"]
    curve = MODELS["kernel-learning-curve"]
    rows = []
    ours = per_call(lambda: lazy_rich.function(TIMES, gamma0=2.0, d_eff=20.0, chance=0.5, ceiling=1.0), 2000)
    base = per_call(lambda: ode_baseline(2.0), 50)
    rows.append(("lazy-rich function vs solve_ivp", ours, base))
    silent_values = silent.defaults() | {"init_variance": 1e-3, "hidden_share": 0.5}
    ours = per_call(lambda: silent.function(TIMES * 10, **silent_values), 2000)
    rows.append(("silent-alignment function vs solve_ivp", ours, base))
    n_train = TIMES * 100
    ours = per_call(lambda: curve.function(n_train, eigen_decay=1.5, target_decay=2.0, noise=0.0, ridge=0.0,
                                           chance=0.5, ceiling=1.0), 200)
    base = per_call(lambda: brentq_baseline(n_train), 20)
    rows.append(("kernel-learning-curve function vs brentq", ours, base))
    ours = per_call(lambda: curve.function(n_train, eigen_decay=1.5, target_decay=2.0, noise=0.05, ridge=1e-3,
                                           chance=0.5, ceiling=1.0), 200)
    rows.append(("kernel-learning-curve (ridge) vs brentq", ours, base))
    print(f"{'what':48s} {'ours (us)':>12s} {'baseline (us)':>14s} {'speed-up':>9s}")
    for name, ours, base in rows:
        print(f"{name:48s} {ours * 1e6:12.1f} {base * 1e6:14.1f} {base / ours:9.1f}x")
    # context: what the xarray wrapper adds, and what one simulated dataset for a fit costs
    predict = per_call(lambda: lazy_rich.predict(TIMES, gamma0=2.0), 200)
    function = per_call(lambda: lazy_rich.function(TIMES, gamma0=2.0, d_eff=20.0, chance=0.5, ceiling=1.0),
                        2000)
    print(f"lazy-rich Model.predict: {predict * 1e6:.0f} us = {predict / function:.0f} x model.function")
    for gamma0 in (0.1, 4.0):
        dataset = per_call(lambda: simulate_lazy_rich_sessions(gamma0, rng=0), 5)
        print(f"one 12-session dataset, gamma0 = {gamma0}: {dataset * 1e3:.0f} ms "
              f"(= {dataset / function:.0f} x a lazy-rich prediction)")
    # accuracy of the fast paths against their baselines, in the same run
    behavior = lazy_rich.function(TIMES, gamma0=2.0, d_eff=20.0, chance=0.0, ceiling=1.0)["behavior"]
    error = np.max(np.abs(behavior - (1.0 - ode_baseline(2.0) ** 2)))
    print(f"max |behaviour difference| lazy-rich closed form vs solve_ivp: {error:.2e}")
    predicted = curve.function(n_train, eigen_decay=1.5, target_decay=2.0, noise=0.0, ridge=0.0, chance=0.5,
                               ceiling=1.0)["generalization_error"]
    error = np.max(np.abs(predicted - brentq_baseline(n_train)))
    print(f"max |E_g difference| kernel-learning-curve vs brentq: {error:.2e}")


if __name__ == "__main__":
    main()

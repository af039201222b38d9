"""Cost of the grokking, overtraining and integrator predictions, against ODE-solver baselines.

A fit evaluates ``model.function`` thousands of times, so each must cost well under a millisecond. Baselines,
measured in the same run on the same 16 session times, integrate the model's own dynamics with
``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10) -- the accuracy the closed forms are tested against:

* integrator: ``d lambda/d tau = (rho* - lambda)/(1 - lambda rho*)^3`` (ours: tabulated closed-form inverse);
* overtraining: ``dz/d tau = 1/(1 + exp z)`` (ours: Wright omega closed form);
* grokking: the two relaxations ``dL/d tau = -L`` and ``-rich_rate L`` (ours: exponentials).

Also reported: ``Model.predict`` (adds the xarray Dataset) and one cheap session tree from each simulator
(what the fit helper and tutorials call).

Run: ``.venv/bin/python benchmarks/bench_theory_dynamics.py``
"""

from __future__ import annotations

import time

import numpy as np
from scipy.integrate import solve_ivp

from neurolearn.simulate.grokking import simulate_grokking_sessions
from neurolearn.simulate.logistic import simulate_overtraining_sessions
from neurolearn.simulate.rnn import simulate_integrator_sessions
from neurolearn.theory import MODELS

TIMES = np.linspace(0.0, 15.0, 16)


def per_call(function, repeats):
    function()  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def solve(rate, y0, times):
    return solve_ivp(rate, (0.0, times[-1]), y0, t_eval=times, rtol=1e-10, atol=1e-12, method="DOP853").y


def main():
    rows = []
    integrator, overtraining, grokking = MODELS["integrator"], MODELS["overtraining"], MODELS["grokking"]
    rho = 0.95
    ours = per_call(lambda: integrator.function(TIMES / 10, **integrator.defaults()), 2000)
    base = per_call(lambda: solve(lambda _, y: (rho - y) / (1 - y * rho) ** 3, [0.0], TIMES / 10), 20)
    rows.append(("integrator function vs solve_ivp", ours, base))
    ours = per_call(lambda: overtraining.function(TIMES * 10, **overtraining.defaults()), 2000)
    base = per_call(lambda: solve(lambda _, z: 1.0 / (1.0 + np.exp(z)), [0.0], TIMES * 10), 20)
    rows.append(("overtraining function vs solve_ivp", ours, base))
    ours = per_call(lambda: grokking.function(TIMES, **grokking.defaults()), 2000)
    base = per_call(lambda: solve(lambda _, y: -np.array([1.0, 0.1]) * y, [1.0, 1.0], TIMES), 20)
    rows.append(("grokking function vs solve_ivp", ours, base))
    print(f"{'prediction (16 times)':<40} {'ours (us)':>10} {'baseline (us)':>14} {'speed-up':>9}")
    for name, ours, base in rows:
        print(f"{name:<40} {ours * 1e6:>10.1f} {base * 1e6:>14.1f} {base / ours:>8.0f}x")
    for name, model in (("integrator", integrator), ("overtraining", overtraining), ("grokking", grokking)):
        cost = per_call(lambda: model.predict(TIMES), 300)
        print(f"{name + ' Model.predict (with Dataset)':<40} {cost * 1e6:>10.1f}")
    for name, simulate in (
        ("simulate_integrator_sessions()", simulate_integrator_sessions),
        ("simulate_overtraining_sessions()", simulate_overtraining_sessions),
        ("simulate_grokking_sessions()", simulate_grokking_sessions),
    ):
        start = time.perf_counter()
        simulate(rng=0)
        print(f"{name:<40} {time.perf_counter() - start:>10.2f} s")


if __name__ == "__main__":
    main()

"""Reproduce the grokking reference sweep (docs/theory.md §2) with the numpy network.

D = 50, N = 200, P = 225, eps = 0.25, 20 000 full-batch steps, loss checked every 200 steps; prints the first
step at which train / test loss fall below 10% of their initial value next to the reference table
(alpha = 0.125: 200/600; 0.5: 200/2800; 2: 600/never; 8: 1200/never). Takes a few minutes on one core.

Run: ``python benchmarks/bench_grokking_sweep.py [n_steps]``
"""

import sys
import time

from neurolearn.simulate.grokking import steps_to_fraction, train_grokking

REFERENCE = {0.125: (200, 600), 0.5: (200, 2800), 2.0: (600, None), 8.0: (1200, None)}


def main(n_steps: int = 20_000, seed: int = 0) -> None:
    print(f"{'alpha':>6} {'train':>7} {'test':>7}   reference   final test/initial   seconds")
    for alpha, (ref_train, ref_test) in REFERENCE.items():
        start = time.perf_counter()
        run = train_grokking(alpha, n_steps=n_steps, checkpoint_every=200, n_probe=2, rng=seed)
        train = steps_to_fraction(run.steps, run.train_loss)
        test = steps_to_fraction(run.steps, run.test_loss)
        print(
            f"{alpha:>6} {str(train or 'never'):>7} {str(test or 'never'):>7}   "
            f"{ref_train}/{ref_test or 'never':<7}  {run.test_loss[-1] / run.test_loss[0]:>10.3f}"
            f"   {time.perf_counter() - start:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)

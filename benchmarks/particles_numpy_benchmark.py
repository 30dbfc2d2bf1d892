#!/usr/bin/env python3
"""densityflow's Langevin particles against a vectorised NumPy Euler-Maruyama (issue 16).

Runs `particles_benchmark` (overdamped Langevin, V = |x|^2 / 2 with its gradient given,
eps = 0.5, dt = 0.01, reflecting walls of [-4, 4]^2, rho0 = N((1, 0.5), 0.1 I); the
"arrays only" rows, 20 steps) and, in the same invocation, the same problem in NumPy:
x += -x dt + sqrt(2 eps dt) z with z from `Generator.standard_normal`, the coordinates
outside the box folded back by the mirror rule (only those, as a NumPy user would write it).
Prints particle-steps/s of both for N = 1e4, 1e5, 1e6 and their ratio; issue 16 asks
densityflow >= 3x NumPy on one core. Without NumPy the reference is skipped with a message.

    benchmarks/particles_numpy_benchmark.py BUILD_DIR [--repeats 3]
"""
import argparse
import os
import subprocess
import sys
import time


def densityflow_rates(build):
    out = subprocess.run([os.path.join(build, "benchmarks", "particles_benchmark")], check=True,
                         capture_output=True, text=True).stdout
    rates = {}
    for line in out.splitlines():
        if "arrays only" in line:
            fields = line.split()
            rates[int(fields[0])] = float(fields[-2])
    return rates


def numpy_rate(np, n, steps=20, dt=0.01, eps=0.5, lower=-4.0, upper=4.0):
    rng = np.random.default_rng(42)
    x = rng.standard_normal((n, 2)) * np.sqrt(0.1) + np.array([1.0, 0.5])
    noise = np.sqrt(2 * eps * dt)
    width = upper - lower
    start = time.perf_counter()
    for _ in range(steps):
        z = rng.standard_normal((n, 2))
        x *= 1 - dt  # the drift -grad V = -x
        x += noise * z
        outside = (x < lower) | (x > upper)
        if outside.any():
            s = np.fmod(x[outside] - lower, 2 * width)
            s[s < 0] += 2 * width
            x[outside] = lower + np.where(s <= width, s, 2 * width - s)
    return n * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each side; the best rate of each is compared")
    args = parser.parse_args()
    try:
        import numpy as np
    except ImportError:
        np = None
        print("NumPy is not installed (Debian: python3-numpy): the reference is skipped")
    best_df, best_np = {}, {}
    for _ in range(args.repeats):
        for n, rate in densityflow_rates(args.build).items():
            best_df[n] = max(best_df.get(n, 0), rate)
        if np is not None:
            for n in best_df:
                best_np[n] = max(best_np.get(n, 0), numpy_rate(np, n))
    print(f"Langevin particle-steps/s, 1 rank, arrays only, best of {args.repeats}")
    print(f"{'N':>9} {'densityflow':>12} {'NumPy':>12} {'ratio':>7}")
    for n in sorted(best_df):
        if n in best_np:
            print(f"{n:9d} {best_df[n]:12.3e} {best_np[n]:12.3e} {best_df[n] / best_np[n]:7.2f}")
        else:
            print(f"{n:9d} {best_df[n]:12.3e}")
    if best_np:
        worst = min(best_df[n] / best_np[n] for n in best_np)
        print(f"target densityflow >= 3x NumPy at every N: {'met' if worst >= 3 else 'missed'} "
              f"(smallest ratio {worst:.2f})")


if __name__ == "__main__":
    sys.exit(main())

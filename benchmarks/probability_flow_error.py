#!/usr/bin/env python3
"""Errors of probability-flow particles against the exact flow map of an OU problem.

For V = x^T A x / 2 and rho0 = N(m0, S0) the Fokker-Planck solution stays Gaussian,
rho_t = N(m_t, S_t), and the probability-flow ODE dX/dt = -A X + eps S_t^{-1} (X - m_t)
has an affine flow map X_t = m_t + M_t (X_0 - m0), M' = (-A + eps S_t^{-1}) M, M_0 = I,
with m' = -A m and S' = -A S - S A + 2 eps I. The script integrates (m, S, M) once by
RK4 with a fine step (its own error is printed: the change against half the steps) and
maps every particle from its position in the first particles_NNNNN.csv of the run
(matched by system and id) to the time of a later file.

    benchmarks/probability_flow_error.py RUN_DIR                # ou-2d's data, last file
    benchmarks/probability_flow_error.py RUN_DIR --file 10 --A "2,0;0,1" --eps 0.5 \
        --m0 "1,0.5" --S0 "0.1,0;0,0.1" --system 1

Prints n, median, p90, p99 and max of |X_h - X_exact| for each system (or --system).
Needs the run with `Particles/Write CSV = true`. Plain Python (no NumPy).
"""
import argparse
import glob
import math
import os
import sys


def matrix(text):
    rows = [[float(v) for v in row.split(",")] for row in text.split(";")]
    if any(len(r) != len(rows) for r in rows):
        raise SystemExit("not a square matrix: " + text)
    return rows


def mat_mul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))]
            for i in range(len(a))]


def mat_add(a, b, s=1.0):
    return [[a[i][j] + s * b[i][j] for j in range(len(a[0]))] for i in range(len(a))]


def transpose(a):
    return [list(r) for r in zip(*a)]


def inverse(a):
    n = len(a)
    m = [list(a[i]) + [1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        f = m[c][c]
        m[c] = [v / f for v in m[c]]
        for r in range(n):
            if r != c:
                g = m[r][c]
                m[r] = [vr - g * vc for vr, vc in zip(m[r], m[c])]
    return [row[n:] for row in m]


def derivative(state, A, eps):
    """(m', S', M') of the exact Gaussian solution and its probability-flow map."""
    m, S, M = state
    n = len(A)
    identity = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    dm = [[-sum(A[i][k] * m[k][0] for k in range(n))] for i in range(n)]
    AS_SA = mat_add(mat_mul(A, S), mat_mul(S, A))
    dS = [[-AS_SA[i][j] + 2 * eps * identity[i][j] for j in range(n)] for i in range(n)]
    B = mat_add([[-a for a in row] for row in A], inverse(S), eps)
    return dm, dS, mat_mul(B, M)


def axpy(state, k, h):
    return tuple(mat_add(s, d, h) for s, d in zip(state, k))


def flow(A, eps, m0, S0, T, steps):
    n = len(A)
    state = ([[v] for v in m0], S0, [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)])
    h = T / steps
    for _ in range(steps):
        k1 = derivative(state, A, eps)
        k2 = derivative(axpy(state, k1, h / 2), A, eps)
        k3 = derivative(axpy(state, k2, h / 2), A, eps)
        k4 = derivative(axpy(state, k3, h), A, eps)
        state = tuple(
            mat_add(s, mat_add(mat_add(a, d), mat_add(b, c), 2.0), h / 6)
            for s, a, b, c, d in zip(state, k1, k2, k3, k4))
    return state


def read_particles(name):
    time = None
    rows = {}
    with open(name) as f:
        lines = f.read().splitlines()
    if lines and lines[0].startswith("# time ="):
        time = float(lines[0].split("=")[1])
        lines = lines[1:]
    header = lines[0].split(",")
    axes = [c for c in ("x", "y", "z") if c in header]
    ix = [header.index(c) for c in axes]
    for line in lines[1:]:
        v = line.split(",")
        rows[(int(v[0]), int(v[1]))] = [float(v[i]) for i in ix]
    return time, rows


def quantile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    position = q * (len(sorted_values) - 1)
    lo = int(math.floor(position))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (position - lo) * (sorted_values[hi] - sorted_values[lo])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--file", type=int, default=-1,
                        help="index k of particles_k.csv to check (default: the last)")
    parser.add_argument("--A", default="1.5,0.5;0.5,1.5", help="V = x^T A x / 2 (ou-2d's)")
    parser.add_argument("--eps", type=float, default=0.5)
    parser.add_argument("--m0", default="1,0.5")
    parser.add_argument("--S0", default="0.1,0;0,0.1")
    parser.add_argument("--system", type=int, default=None,
                        help="only this system (index in Particles/Dynamics)")
    parser.add_argument("--steps", type=int, default=4000, help="RK4 steps of the exact map")
    args = parser.parse_args()

    files = sorted(glob.glob(os.path.join(args.run, "particles_*.csv")))
    if len(files) < 2:
        raise SystemExit(args.run + ": needs at least two particles_NNNNN.csv (Write CSV on)")
    _, start = read_particles(files[0])
    T, end = read_particles(files[args.file])
    A, S0 = matrix(args.A), matrix(args.S0)
    m0 = [float(v) for v in args.m0.split(",")]
    m, S, M = flow(A, args.eps, m0, S0, T, args.steps)
    _, _, M_half = flow(A, args.eps, m0, S0, T, args.steps // 2)
    map_error = max(abs(a - b) for ra, rb in zip(M, M_half) for a, b in zip(ra, rb))
    print("time %g, exact map M_T = %s, m_T = %s (RK4 change on halving the steps %.1e)"
          % (T, [[round(v, 8) for v in r] for r in M], [round(r[0], 8) for r in m], map_error))

    errors = {}
    for key, x in end.items():
        system = key[0]
        if (args.system is not None and system != args.system) or key not in start:
            continue
        x0 = start[key]
        exact = [m[i][0] + sum(M[i][j] * (x0[j] - m0[j]) for j in range(len(x0)))
                 for i in range(len(x0))]
        errors.setdefault(system, []).append(
            (math.sqrt(sum((a - b) ** 2 for a, b in zip(x, exact))), key[1], x0))
    print("system,n,median,p90,p99,max,worst_id,worst_start")
    for system in sorted(errors):
        e = sorted(errors[system])
        values = [v[0] for v in e]
        print("%d,%d,%.3e,%.3e,%.3e,%.3e,%d,%s" % (
            system, len(values), quantile(values, 0.5), quantile(values, 0.9),
            quantile(values, 0.99), values[-1], e[-1][1],
            ";".join("%.4f" % v for v in e[-1][2])))


if __name__ == "__main__":
    sys.exit(main())

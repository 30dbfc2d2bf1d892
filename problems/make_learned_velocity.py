#!/usr/bin/env python3
"""Writes learned-velocity-2d.npy: the velocity grid of problems/learned-velocity-2d.prm.

A stand-in for a learned flow: the exact probability-flow velocity of ou-2d's Gaussian
solution, v(x, t) = -A x + eps S_t^{-1} (x - m_t), plus a known error delta (-y, x), a
slow rotation, sampled on a regular space-time grid in the format Physics/Velocity grid
reads: float32 (float64 works too), C order, shape (n_t, n_x, n_y, 2) with v[k, i, j] = w(t_k, x_i, y_j),
x_i = lower + i (upper - lower) / (n_x - 1), t_k = k T / (n_t - 1).

Usage: python3 problems/make_learned_velocity.py [--delta 0.05] [--out FILE]
       python3 problems/make_learned_velocity.py --report output/learned-velocity-2d
(needs NumPy: Debian's python3-numpy). --report reads the run's last grid_rho_<k>.npy
(Output/Grid) and prints KL(rho_T | pi) for ou-2d's pi = N(0, eps A^{-1}) by the midpoint
rule, beside the closed form for the exact flow (delta = 0): the transport model has no
pi of its own without diffusion, so the relative_entropy column is empty there.
"""
import argparse
import os

import numpy as np

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--delta", type=float, default=0.05, help="amplitude of the rotation error")
p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "learned-velocity-2d.npy"))
p.add_argument("--report", metavar="RUN_DIR", help="print KL(rho_T | pi) of a finished run")
args = p.parse_args()

eps, T = 0.5, 1.0                                   # ou-2d's diffusion; the run's end time
A = np.array([[1.5, 0.5], [0.5, 1.5]])              # eigenvalues 2 along (1,1), 1 along (1,-1)
m0, S0 = np.array([1.0, 0.5]), 0.1 * np.eye(2)      # rho0 = N(m0, S0)
lower, upper, n_x, n_t = -4.0, 4.0, 41, 41          # 41 x 41 nodes, 41 times: 551 kB

lam, Q = np.linalg.eigh(A)
def expA(s):                                        # e^{s A} for the symmetric A
    return Q @ np.diag(np.exp(s * lam)) @ Q.T

def gaussian_kl(m1, S1, m2, S2):                   # KL(N(m1, S1) | N(m2, S2))
    P = np.linalg.inv(S2)
    d = m1 - m2
    return 0.5 * (np.trace(P @ S1) + d @ P @ d - 2 + np.log(np.linalg.det(S2) / np.linalg.det(S1)))

if args.report:
    import glob
    last = max(glob.glob(os.path.join(args.report, "grid_rho_*.npy")))
    rho = np.load(last)
    n = rho.shape[0]
    c = lower + (np.arange(n) + 0.5) * (upper - lower) / n
    Y = np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1)
    Pi = np.linalg.inv(eps * np.linalg.inv(A))
    log_pi = -0.5 * np.einsum("...i,ij,...j", Y, Pi, Y) - np.log(2 * np.pi * np.sqrt(np.linalg.det(eps * np.linalg.inv(A))))
    h2 = ((upper - lower) / n) ** 2
    pos = rho > 0
    kl = h2 * np.sum(rho[pos] * (np.log(rho[pos]) - log_pi[pos]))
    mT = expA(-T) @ m0
    ST = expA(-T) @ S0 @ expA(-T) + eps * np.linalg.inv(A) @ (np.eye(2) - expA(-2 * T))
    print(f"{last}: mass {h2 * rho.sum():.6f}, KL(rho_T | pi) = {kl:.6g} "
          f"(exact flow, delta = 0: {gaussian_kl(mT, ST, np.zeros(2), eps * np.linalg.inv(A)):.6g})")
    raise SystemExit

x = np.linspace(lower, upper, n_x)
X = np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1)   # X[i, j] = (x_i, y_j)
v = np.empty((n_t, n_x, n_x, 2))
for k, t in enumerate(np.linspace(0.0, T, n_t)):
    m = expA(-t) @ m0
    S = expA(-t) @ S0 @ expA(-t) + eps * np.linalg.inv(A) @ (np.eye(2) - expA(-2 * t))
    v[k] = -X @ A.T + eps * (X - m) @ np.linalg.inv(S).T
    v[k, ..., 0] += -args.delta * X[..., 1]
    v[k, ..., 1] += args.delta * X[..., 0]
np.save(args.out, v.astype(np.float32))
print(f"wrote {args.out}: shape {v.shape}, |v| <= {np.abs(v).max():.3g}")

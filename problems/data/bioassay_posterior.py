#!/usr/bin/env python3
"""Brute-force reference for problems/posterior-2d.prm: the mean and covariance of the
posterior of (intercept x, slope y) given bioassay.csv, prior N(0, I), restricted to the
mesh's box [-3, 3]^2, by the midpoint rule on an n x n grid (default 400; the moments
agree to 6 digits from 200 to 400). Python's standard library only (about 20 s).
Usage: bioassay_posterior.py [n]
"""
import math
import os
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
folder = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(folder, "bioassay.csv")) as f:
    next(f)
    data = [tuple(float(v) for v in line.split(",")) for line in f if line.strip()]


def potential(x, y):
    V = (x * x + y * y) / 2
    for dose, dead in data:
        eta = x + y * dose
        V += math.log1p(math.exp(eta)) - dead * eta
    return V


h = 6.0 / n
points = [(-3 + (i + 0.5) * h, -3 + (j + 0.5) * h) for i in range(n) for j in range(n)]
values = [potential(x, y) for x, y in points]
V_min = min(values)
weights = [math.exp(-(V - V_min)) for V in values]
W = sum(weights)
mx = sum(w * p[0] for w, p in zip(weights, points)) / W
my = sum(w * p[1] for w, p in zip(weights, points)) / W
cxx = sum(w * (p[0] - mx) ** 2 for w, p in zip(weights, points)) / W
cxy = sum(w * (p[0] - mx) * (p[1] - my) for w, p in zip(weights, points)) / W
cyy = sum(w * (p[1] - my) ** 2 for w, p in zip(weights, points)) / W
print(f"mean_x {mx:.6f} mean_y {my:.6f} cov_xx {cxx:.6f} cov_xy {cxy:.6f} cov_yy {cyy:.6f}")
print(f"sd_x {math.sqrt(cxx):.6f} sd_y {math.sqrt(cyy):.6f}")

#!/usr/bin/env python3
"""Writes bioassay.csv, the data of problems/posterior-2d.prm: 50 subjects, each given a
dose (standardised, uniform in [-2, 2], two decimals) and recorded as dead (1) or alive (0)
with probability 1 / (1 + exp(-(a + b dose))), a = -0.4, b = 1.3 (the "true" intercept and
slope that the posterior should find). Fixed seed: running it again writes the same file.
Python's standard library only.
"""
import math
import random

generator = random.Random(2026)
a, b = -0.4, 1.3
rows = []
for _ in range(50):
    dose = round(generator.uniform(-2, 2), 2)
    p = 1 / (1 + math.exp(-(a + b * dose)))
    rows.append((dose, 1 if generator.random() < p else 0))

with open(__file__.rsplit("/", 1)[0] + "/bioassay.csv" if "/" in __file__ else "bioassay.csv",
          "w") as out:
    out.write("dose,dead\n")
    for dose, dead in rows:
        out.write(f"{dose},{dead}\n")

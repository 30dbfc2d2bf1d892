#!/usr/bin/env python3
"""Writes three-modes-2d.csv, the target samples of problems/mmd-2d.prm: 3000 points of an
equal mixture of three Gaussians N(m_k, 0.35^2 I) with means m_k on the circle of radius
1.5 at the angles 90, 210 and 330 degrees (1000 points per mode, so the modes' weights are
exactly 1/3), rounded to 6 decimals. Fixed seed: running it again writes the same file.
Python's standard library only.
"""
import math
import random

generator = random.Random(2026)
radius, sd = 1.5, 0.35
rows = []
for angle in (90, 210, 330):
    mx, my = radius * math.cos(math.radians(angle)), radius * math.sin(math.radians(angle))
    for _ in range(1000):
        rows.append((mx + sd * generator.gauss(0, 1), my + sd * generator.gauss(0, 1)))

with open(__file__.rsplit("/", 1)[0] + "/three-modes-2d.csv" if "/" in __file__ else
          "three-modes-2d.csv", "w") as out:
    out.write("x,y\n")
    for x, y in rows:
        out.write(f"{x:.6f},{y:.6f}\n")

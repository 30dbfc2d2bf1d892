#pragma once

/**
 * @file
 * The distances between point ensembles and the density rho_h, all of them:
 * - ensemble_distances.h: the Distances parameters, the results (a row of
 *   particles-vs-pde.csv and compare.csv) and their noise floors and verdict;
 * - density_comparison.h: DensityComparison, which computes them in order;
 * - density_measure.h: rho_h as the distances see it (atoms, bins, exact samples);
 * - moments.h, histogram.h, sliced.h: one function per distance;
 * - sorted_atoms.h, piecewise_density_1d.h: the one-dimensional building blocks.
 */

#include <densityflow/distances/density_comparison.h>
#include <densityflow/distances/ensemble_distances.h>
#include <densityflow/distances/histogram.h>
#include <densityflow/distances/moments.h>
#include <densityflow/distances/sliced.h>
#include <densityflow/distances/sorted_atoms.h>

#pragma once

#include <densityflow/distances/ensemble_distances.h>
#include <densityflow/distances/sorted_atoms.h>

#include <deal.II/base/point.h>

#include <cstdint>
#include <vector>

#include <mpi.h>

/**
 * @file
 * The distances that go through projections onto lines: in 1D the exact energy
 * distance, W1 and W2; in 2D/3D the sliced energy distance and sliced W2 over random
 * directions, with the Monte-Carlo error of the slicing. They are solved on rank 0, on
 * all points, so that they are the same on any number of ranks.
 */

namespace densityflow
{
using namespace dealii;

class PiecewiseDensity1D;

/** The projected distances of one ensemble to rho_h (undefined: NaN). */
struct ProjectedDistances
{
  /** Energy distance: exact in 1D (slicing error 0), sliced and scaled by c_d in 2D/3D. */
  double energy_distance               = EnsembleDistances::undefined;
  double energy_distance_slicing_error = EnsembleDistances::undefined;
  /** 1D: exact W1 and W2 against rho_h. */
  double w1 = EnsembleDistances::undefined, w2 = EnsembleDistances::undefined;
  /** 2D/3D: sqrt of the mean of W2^2 over the directions, and its slicing error. */
  double sliced_w2               = EnsembleDistances::undefined,
         sliced_w2_slicing_error = EnsembleDistances::undefined;
};

/** The projected distances of several ensembles, and what they give of rho_h alone. */
struct ProjectedResults
{
  std::vector<ProjectedDistances> ensembles;
  /** E|Y - Y'| of rho_h (sliced and scaled by c_d in 2D/3D): the energy distance's floor
      times N. */
  double mean_pair_distance = EnsembleDistances::undefined;
};

/** Weighted points, flat: the coordinates of point k at x[k dim + d], its weight w[k]. */
struct FlatPoints
{
  std::vector<double> x, w;
};

/** The scratch of the projections: keep one per caller between calls. */
struct ProjectionWorkspace
{
  SortWorkspace sort;
  /** One ensemble projected, rho_h projected, and its positive part (for W2). */
  std::vector<Atom> points, density, density_positive;
};

/**
 * Gathers @p points with their @p weights (null: unit weights) on rank 0, in the order
 * of the ranks (empty elsewhere). Collective.
 */
template <int dim>
FlatPoints gather_on_root(const std::vector<Point<dim>> &points,
                          const std::vector<double>     *weights,
                          const MPI_Comm                 communicator);

/**
 * 1D, on rank 0: the exact energy distance, W1 and W2 of each of @p ensembles (empty
 * ones left undefined) against rho_h given by its atoms @p density and by
 * @p piecewise; E|Y - Y'| of the atoms.
 */
ProjectedResults line_distances(const FlatPoints              &density,
                                const PiecewiseDensity1D      &piecewise,
                                const std::vector<FlatPoints> &ensembles,
                                ProjectionWorkspace           &workspace);

/**
 * 2D/3D, on rank 0: the sliced energy distance and sliced W2 of each of @p ensembles
 * (empty ones left undefined) against rho_h's atoms @p density, through
 * @p projections directions drawn from @p seed (the same whatever the ranks), with
 * the standard errors of the slicing; the sliced E|Y - Y'| of the atoms. Each direction
 * projects and sorts rho_h once for all ensembles and both distances.
 */
template <int dim>
ProjectedResults sliced_distances(const FlatPoints              &density,
                                  const std::vector<FlatPoints> &ensembles,
                                  const unsigned int             projections,
                                  const std::uint64_t            seed,
                                  ProjectionWorkspace           &workspace);

/** Sends rank 0's @p results (of @p n_ensembles ensembles) to every rank. Collective. */
void broadcast_from_root(ProjectedResults &results,
                         const std::size_t n_ensembles,
                         const MPI_Comm    communicator);
} // namespace densityflow

#pragma once

#include <densityflow/base/random.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/point.h>
#include <deal.II/grid/tria.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * A density's values at points of one locally owned cell, given both in unit and in real
 * coordinates (the cell's multilinear map from its vertices, as MappingQ(1)).
 */
template <int dim>
using CellDensity =
    std::function<void(const typename Triangulation<dim>::active_cell_iterator &cell,
                       const std::vector<Point<dim>>                           &unit_points,
                       const std::vector<Point<dim>>                           &points,
                       std::vector<double>                                     &values)>;

/** This rank's share of the points drawn by sample_density(), in the order of their ids. */
template <int dim>
struct DensitySample
{
  std::vector<Point<dim>>                                        points;
  std::vector<std::uint64_t>                                     ids;
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  /** The density at each point, as given (not normalised). */
  std::vector<double> values;
  /** The density's integral over the mesh (the sum of the cell masses). */
  double mass = 0;
  /** How often a candidate exceeded its cell's rejection bound (all ranks). */
  std::uint64_t bound_exceeded = 0;
};

/**
 * Draws the points with ids 0, ..., @p n - 1 i.i.d. from @p density (>= 0): a cell by
 * its mass (4-point Gauss rule), a point inside it by rejection against @p bound_factor
 * times the largest value of density |det J| at the Gauss points and on a 5^dim grid of
 * the cell (cells mapped multilinearly from their vertices, as MappingQ(1)). Point i
 * draws its cell with random.uniforms(i, @p step, 0) and its candidates with
 * random.uniforms(i, @p step, attempt), so the points are the same on any number of
 * ranks; each rank places the points of its own cells. Collective.
 */
template <int dim>
DensitySample<dim> sample_density(const Triangulation<dim> &triangulation,
                                  const CellDensity<dim>   &density,
                                  const ParticleRandom     &random,
                                  const std::uint64_t       n,
                                  const std::uint64_t       step,
                                  const MPI_Comm            communicator,
                                  const double              bound_factor = 1.25);
} // namespace densityflow

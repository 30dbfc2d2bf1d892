#pragma once

#include <densityflow/mesh/mesh.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/mpi.h>

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace densityflow
{
using namespace dealii;

template <int dim>
class PointLocator;

/**
 * rho_h and the probability-flow velocity on a regular grid, for NumPy (`Output/Grid`).
 *
 * The grid is cell-centred on the mesh's bounding box [lower, upper]: with n_d points
 * in direction d, x_d,i = lower_d + (i + 1/2) (upper_d - lower_d) / n_d. At every
 * output k it writes grid_rho_<k>.npy, float64 of shape (n_x[, n_y[, n_z]]) with
 * rho[i, j] at (x_i, y_j) (numpy.meshgrid(..., indexing='ij')), and
 * grid_velocity_<k>.npy of shape (n_x[, n_y[, n_z]], dim); both NaN at points in no
 * cell of the mesh. grid.json states the grid, the files and their times. Values are
 * taken at x + 1e-8 (upper - lower), so that a point on a face between cells (where
 * the velocity jumps) takes the cell above the face on any number of ranks.
 *
 * The points are located once (the mesh does not change), each on the rank that owns
 * its cell; their values are gathered to rank 0, which writes.
 */
template <int dim>
class GridOutput
{
public:
  /**
   * @param counts  points per direction, one per dimension (Output/Grid); InputError
   *                otherwise
   */
  GridOutput(const Mesh<dim>                 &mesh,
             const std::vector<unsigned int> &counts,
             const std::string               &directory,
             const MPI_Comm                   communicator);
  ~GridOutput();

  /** Writes the grid files of the solver's current density. Collective. */
  void write(const DensitySolver<dim> &solver);

  /** The coordinates x_d,i of direction @p d. */
  std::vector<double> coordinates(const unsigned int d) const;

  /** Grid points in no cell of the mesh (NaN in the files). */
  std::size_t n_outside() const;

private:
  using CellIterator = typename Triangulation<dim>::active_cell_iterator;

  std::array<unsigned int, dim> size;
  Point<dim>                    lower, upper;
  std::string                   directory;
  MPI_Comm                      mpi_communicator;
  /** This rank's grid points, grouped by cell, with their cells and flat indices. */
  std::vector<Point<dim>>   points;
  std::vector<CellIterator> cells;
  std::vector<double>       indices;
  std::size_t               outside = 0;
  /** (time, rho file, velocity file) of every output so far. */
  std::vector<std::pair<double, std::string>> records;
};
} // namespace densityflow

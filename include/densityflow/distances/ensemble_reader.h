#pragma once

#include <deal.II/base/point.h>

#include <optional>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/** A point ensemble written by some code at one time: positions and weights. */
template <int dim>
struct EnsembleSnapshot
{
  /** The file, and the time where a file holds several. */
  std::string             source;
  double                  time = 0;
  std::vector<Point<dim>> points;
  std::vector<double>     weights;
};

/**
 * Reads the ensembles of @p file for a problem in dim dimensions and with end time
 * @p end_time:
 * - CSV with a header naming the columns: x (y, z) for the coordinates, optionally
 *   weight, time and system; other columns are ignored. The time is a `# time = ...`
 *   line, the time column (one snapshot per distinct time), or @p time. A system
 *   column (as in densityflow's own particles_*.csv) makes one snapshot per distinct
 *   value, named file#system=value;
 * - NumPy .npy: float64 or float32 arrays of shape (N, dim) (or (N,) in 1D), C or
 *   Fortran order, at @p time (required).
 * InputError, naming the file and line, for: no such file, an empty ensemble, a wrong
 * number of coordinates, a value that is not a finite number, a negative weight, a
 * missing time, a time outside [0, end_time].
 */
template <int dim>
std::vector<EnsembleSnapshot<dim>>
read_ensembles(const std::string &file, const std::optional<double> &time, const double end_time);

/** Writes @p points as a .npy file of float64 (N, dim), C order. */
template <int dim>
void write_npy(const std::string &file, const std::vector<Point<dim>> &points);
} // namespace densityflow

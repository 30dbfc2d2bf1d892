#pragma once

#include <densityflow/solvers/interface.h>

#include <deal.II/base/mpi.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * The table of diagnostics.csv: one row per output time with time, step, mass,
 * min_density, negative_mass, free_energy, relative_entropy, mean_x.., cov_xx..,
 * l2_error, outflow_mass, linear_iterations, wall_seconds and mass_<region> for each
 * region of Diagnostics/Regions. Rows are kept in
 * memory and, if a file is given, appended to it (by rank 0) as they come, full
 * precision, undefined values left empty.
 */
class Diagnostics
{
public:
  /**
   * @param csv_file the file to write, or empty for memory only
   * @param regions  names of Diagnostics/Regions: a column mass_<name> each, at the end
   * @param extra    the solver's own columns (DensitySolver::extra_columns()), after
   *                 wall_seconds, filled from DensityStatistics::extra
   * @param append   continue the rows already in @p csv_file (a restart), with no header
   */
  Diagnostics(const unsigned int              dim,
              const std::string              &csv_file,
              const MPI_Comm                  communicator,
              const std::vector<std::string> &regions = {},
              const std::vector<std::string> &extra   = {},
              const bool                      append  = false);

  /** @param region_masses int_R rho_h for each region, in the order of the constructor */
  template <int dim>
  void add(const double                  time,
           const unsigned int            step,
           const DensityStatistics<dim> &statistics,
           const unsigned int            linear_iterations,
           const double                  wall_seconds,
           const std::vector<double>    &region_masses = {});

  const std::vector<std::string>         &columns() const;
  const std::vector<std::vector<double>> &rows() const;

  /** The value in row @p row of the column named @p column. */
  double value(const std::size_t row, const std::string &column) const;

private:
  std::vector<std::string>         column_names;
  std::vector<std::vector<double>> data;
  std::unique_ptr<std::ofstream>   file;
};
} // namespace densityflow

#pragma once

#include <densityflow/solvers/interface.h>

#include <string>
#include <utility>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * The ParaView time series density.pvd: one density_NNNNN.pvtu per output time, each
 * referring to one .vtu per MPI rank. The .pvd is rewritten after every output, so
 * that a run can be watched (and a failed run still shows what it reached).
 */
template <int dim>
class DensityOutput
{
public:
  DensityOutput(const std::string &directory, const MPI_Comm communicator);

  /** Writes the solver's current density; @p exact may be null. */
  void write(const DensitySolver<dim> &solver, const Expression<dim> *exact);

  /** The series so far: (time, .pvtu file) per output (for a checkpoint). */
  const std::vector<std::pair<double, std::string>> &series() const;
  /** Continues the series @p series (a restart): the .pvd is written again with it. */
  void restore_series(const std::vector<std::pair<double, std::string>> &series);

private:
  std::string                                 directory;
  MPI_Comm                                    mpi_communicator;
  std::vector<std::pair<double, std::string>> records;
};
} // namespace densityflow

#pragma once

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/** The `Output` subsection. */
struct OutputParameters
{
  /** Where the run writes; empty: output/<problem name> in the working directory. */
  std::string directory;
  /** Simulated time between outputs; 0: only the first and the last. */
  double interval    = 0.1;
  bool   write_files = true;
  /** Points per direction of the NumPy grid (GridOutput); empty: no grid. */
  std::vector<unsigned int> grid;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * The folder a run writes to. It is emptied of an earlier run's files when the run
 * starts, holds the run's complete parameter file, and a file `status` that says
 * `running`, `completed` or `failed: <why>`, so that output that stopped half-way
 * never passes for complete.
 */
class RunDirectory
{
public:
  /** Creates @p path (rank 0) and removes densityflow's files of an earlier run. */
  RunDirectory(const std::string &path, const MPI_Comm communicator);

  const std::string &path() const;

  /** Writes @p text to @p name in the folder (rank 0). */
  void write_file(const std::string &name, const std::string &text) const;

  void mark_completed() const;
  void mark_failed(const std::string &reason) const;

private:
  std::string directory;
  MPI_Comm    mpi_communicator;
};
} // namespace densityflow

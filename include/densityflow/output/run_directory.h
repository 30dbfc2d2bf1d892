#pragma once

#include <deal.II/base/mpi.h>

#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * The folder a run writes to. It holds the run's complete parameter file and a file
 * `status` that says `running`, `completed` or `failed: <why>`, so that output that
 * stopped half-way never passes for complete.
 *
 * It is made only once every input has been checked, right before the first output:
 * a run that stops on bad input leaves the folder alone. An earlier run's files are
 * then cleared: those of a completed run are moved to previous/, and put back if the
 * new run fails (its files go to failed/), so that a completed run is never lost to a
 * failing one; once the new run completes, previous/ is removed (unless
 * Output/Keep previous run). The files of a run that failed or never finished are
 * removed. Only densityflow's own files are touched (output_file_pattern()).
 */
class RunDirectory
{
public:
  /**
   * Creates @p path (rank 0) and clears an earlier run's files as above; with @p resume
   * (--restart), the run continues the files there, which stay.
   */
  RunDirectory(const std::string &path,
               const bool         keep_previous,
               const MPI_Comm     communicator,
               const bool         resume = false);

  const std::string &path() const;

  /** Writes @p text to @p name in the folder (rank 0). */
  void write_file(const std::string &name, const std::string &text) const;

  void mark_completed() const;

  /**
   * Writes `failed: <why>` to status and, if a completed run was moved aside, puts it
   * back and moves this run's files to failed/ (rank 0). Returns a line for the log
   * saying so, or an empty string.
   */
  std::string mark_failed(const std::string &reason) const;

private:
  std::string directory;
  bool        keep_previous;
  MPI_Comm    mpi_communicator;
  /** Whether a completed run was moved to previous/ by this run. */
  bool moved_previous = false;
};

/**
 * The names of the files densityflow writes into an output folder (a regular
 * expression): the only files a new run moves or removes, so that a user's own
 * files there survive. A new kind of output file must be added here.
 */
const char *output_file_pattern();
} // namespace densityflow

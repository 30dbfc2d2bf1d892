#pragma once

#include <deal.II/base/mpi.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
struct EnsembleDistances;

/**
 * A CSV file of distances between point ensembles and rho_h (particles-vs-pde.csv,
 * compare.csv): the header and its NAME.columns.csv when made, then one row per
 * ensemble and time, in the columns of distance_columns(). Rank 0 writes; the check
 * that every column is described runs on every rank, so that all stop alike.
 */
class DistanceCsv
{
public:
  /**
   * @param regions the names of Diagnostics/Regions (their columns follow the rest)
   * @param append  continue the rows already in @p path (a restart), with no header
   */
  DistanceCsv(const std::string              &path,
              const unsigned int              dim,
              const std::vector<std::string> &regions,
              const MPI_Comm                  communicator,
              const bool                      append = false);
  ~DistanceCsv();

  /** Appends @p distances as a row (rank 0). */
  void add(const EnsembleDistances &distances);

private:
  unsigned int                   dim;
  std::unique_ptr<std::ofstream> file;
};
} // namespace densityflow

#include <densityflow/base/mpi_gather.h>

namespace densityflow
{
namespace
{
/** Where each rank's block starts in the concatenation of blocks of @p counts values. */
std::vector<int> offsets_of(const std::vector<int> &counts)
{
  std::vector<int> offsets(counts.size(), 0);
  for (std::size_t p = 1; p < counts.size(); ++p)
    offsets[p] = offsets[p - 1] + counts[p - 1];
  return offsets;
}
} // namespace

std::vector<double> all_gather_concatenated(const std::vector<double> &local,
                                            const MPI_Comm             communicator)
{
  int size = 1;
  MPI_Comm_size(communicator, &size);
  int              count = static_cast<int>(local.size());
  std::vector<int> counts(size);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, communicator);
  const std::vector<int> offsets = offsets_of(counts);
  std::vector<double>    all(offsets.back() + counts.back());
  MPI_Allgatherv(local.data(),
                 count,
                 MPI_DOUBLE,
                 all.data(),
                 counts.data(),
                 offsets.data(),
                 MPI_DOUBLE,
                 communicator);
  return all;
}

std::vector<double>
gather_concatenated(const std::vector<double> &local, const MPI_Comm communicator, const int root)
{
  int size = 1, rank = 0;
  MPI_Comm_size(communicator, &size);
  MPI_Comm_rank(communicator, &rank);
  int              count = static_cast<int>(local.size());
  std::vector<int> counts(size);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, communicator);
  const std::vector<int> offsets = offsets_of(counts);
  std::vector<double>    all(rank == root ? offsets.back() + counts.back() : 0);
  MPI_Gatherv(local.data(),
              count,
              MPI_DOUBLE,
              all.data(),
              counts.data(),
              offsets.data(),
              MPI_DOUBLE,
              root,
              communicator);
  return all;
}
} // namespace densityflow

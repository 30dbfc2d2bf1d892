#include <densityflow/base/mpi_gather.h>

namespace densityflow
{
std::vector<double> all_gather_concatenated(const std::vector<double> &local,
                                            const MPI_Comm             communicator)
{
  int size = 1;
  MPI_Comm_size(communicator, &size);
  int              count = static_cast<int>(local.size());
  std::vector<int> counts(size), offsets(size, 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, communicator);
  for (int p = 1; p < size; ++p)
    offsets[p] = offsets[p - 1] + counts[p - 1];
  std::vector<double> all(offsets.back() + counts.back());
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
  std::vector<int> counts(size), offsets(size, 0);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, communicator);
  for (int p = 1; p < size; ++p)
    offsets[p] = offsets[p - 1] + counts[p - 1];
  std::vector<double> all(rank == root ? offsets.back() + counts.back() : 0);
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

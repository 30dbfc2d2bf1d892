#include <densityflow/base/exceptions.h>

#include <deal.II/base/mpi.h>

namespace densityflow
{
void throw_if_any(const bool         failed,
                  const std::string &message,
                  const MPI_Comm     communicator,
                  const bool         run_error)
{
  const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(communicator);
  const unsigned int rank    = dealii::Utilities::MPI::this_mpi_process(communicator);
  const unsigned int first   = dealii::Utilities::MPI::min(failed ? rank : n_ranks, communicator);
  if (first == n_ranks)
    return;
  const std::string text = dealii::Utilities::MPI::broadcast(communicator, message, first);
  if (run_error)
    throw RunError(text);
  throw InputError(text);
}
} // namespace densityflow

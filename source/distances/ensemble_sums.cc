#include <densityflow/distances/ensemble_sums.h>

#include <deal.II/base/mpi.h>

namespace densityflow
{
template <int dim>
EnsembleSums<dim>::EnsembleSums(const std::size_t n_ensembles, const unsigned int n_bins)
    : bins(n_bins)
    , stride(bin_offset + n_bins)
    , sums(n_ensembles * stride, 0.0)
{}

template <int dim>
void EnsembleSums<dim>::sum_over(const MPI_Comm communicator)
{
  Utilities::MPI::sum(sums, communicator, sums);
}

template class EnsembleSums<1>;
template class EnsembleSums<2>;
template class EnsembleSums<3>;
} // namespace densityflow

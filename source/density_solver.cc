#include <densityflow/density_solver.h>

#include <cmath>

namespace densityflow
{
template <int dim>
void DensityIntegrals<dim>::add(const Point<dim> &x, const double rho, const double JxW)
{
  const double weight = rho * JxW;
  const double sum    = mass + weight;
  mass_compensation +=
      std::abs(mass) >= std::abs(weight) ? (mass - sum) + weight : (weight - sum) + mass;
  mass = sum;
  if (rho < 0)
    negative_mass -= weight;
  minimum = std::min(minimum, rho);
  for (unsigned int i = 0; i < dim; ++i)
    {
      first_moment[i] += weight * x[i];
      for (unsigned int j = i; j < dim; ++j)
        second_moment[i][j] += weight * x[i] * x[j];
    }
}

template <int dim>
void DensityIntegrals<dim>::add_exact(const double rho, const double exact, const double JxW)
{
  has_exact = true;
  error_squared += (rho - exact) * (rho - exact) * JxW;
  exact_squared += exact * exact * JxW;
}

template <int dim>
void DensityIntegrals<dim>::add_to_minimum(const double rho)
{
  minimum = std::min(minimum, rho);
}

template <int dim>
void DensityIntegrals<dim>::finish(DensityStatistics<dim> &statistics,
                                   const MPI_Comm          communicator) const
{
  // One reduction for all sums.
  std::vector<double> sums = {
      mass + mass_compensation, negative_mass, error_squared, exact_squared};
  for (unsigned int i = 0; i < dim; ++i)
    sums.push_back(first_moment[i]);
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int j = i; j < dim; ++j)
      sums.push_back(second_moment[i][j]);
  Utilities::MPI::sum(sums, communicator, sums);

  statistics.mass          = sums[0];
  statistics.negative_mass = sums[1];
  statistics.min_density   = Utilities::MPI::min(minimum, communicator);
  unsigned int k           = 4;
  for (unsigned int i = 0; i < dim; ++i)
    statistics.mean[i] = sums[k++] / statistics.mass;
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int j = i; j < dim; ++j)
      statistics.covariance[i][j] =
          sums[k++] / statistics.mass - statistics.mean[i] * statistics.mean[j];
  if (Utilities::MPI::logical_or(has_exact, communicator))
    statistics.l2_error = std::sqrt(sums[2] / sums[3]);
}

template class DensityIntegrals<1>;
template class DensityIntegrals<2>;
template class DensityIntegrals<3>;
} // namespace densityflow

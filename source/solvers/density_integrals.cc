#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/fe/fe_values.h>

#include <cmath>
#include <sstream>

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

template <int dim>
double assemble_initial_load(const Expression<dim>      &rho0,
                             const DoFHandler<dim>      &dof_handler,
                             const Mapping<dim>         &mapping,
                             const Quadrature<dim>      &quadrature,
                             PETScWrappers::MPI::Vector &rhs)
{
  const FiniteElement<dim> &fe = dof_handler.get_fe();
  FEValues<dim>             fe_values(
      mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
  const unsigned int                   n = fe.n_dofs_per_cell();
  Vector<double>                       cell_rhs(n);
  std::vector<types::global_dof_index> dofs(n);
  bool                                 failed = false;
  std::string                          message;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell_rhs = 0;
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const double value = rho0.value(fe_values.quadrature_point(q), 0.0);
            if (!(value >= 0) && !failed)
              {
                failed = true;
                std::ostringstream out;
                out << rho0.parameter_name() << " = '" << rho0.text() << "' is "
                    << (std::isfinite(value) ? "negative" : "not finite") << " at x = ("
                    << fe_values.quadrature_point(q) << ") (value " << value
                    << "); a density must be finite and non-negative.";
                message = out.str();
              }
            for (unsigned int i = 0; i < n; ++i)
              cell_rhs(i) += value * fe_values.shape_value(i, q) * fe_values.JxW(q);
          }
        cell->get_dof_indices(dofs);
        rhs.add(dofs, cell_rhs);
      }
  rhs.compress(VectorOperation::add);
  throw_if_any(failed, message, dof_handler.get_communicator());
  const double total_mass = compensated_sum(rhs);
  if (!(total_mass > 0))
    throw InputError(rho0.parameter_name() + " = '" + rho0.text() +
                     "' has zero mass on the mesh (its integral is " + std::to_string(total_mass) +
                     "); it cannot be normalised.");
  return total_mass;
}

template class DensityIntegrals<1>;
template class DensityIntegrals<2>;
template class DensityIntegrals<3>;
template double assemble_initial_load(const Expression<1> &,
                                      const DoFHandler<1> &,
                                      const Mapping<1> &,
                                      const Quadrature<1> &,
                                      PETScWrappers::MPI::Vector &);
template double assemble_initial_load(const Expression<2> &,
                                      const DoFHandler<2> &,
                                      const Mapping<2> &,
                                      const Quadrature<2> &,
                                      PETScWrappers::MPI::Vector &);
template double assemble_initial_load(const Expression<3> &,
                                      const DoFHandler<3> &,
                                      const Mapping<3> &,
                                      const Quadrature<3> &,
                                      PETScWrappers::MPI::Vector &);
} // namespace densityflow

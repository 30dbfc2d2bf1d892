#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/finite_element_solver.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <cmath>

namespace densityflow
{
template <int dim>
FiniteElementSolver<dim>::FiniteElementSolver(const Mesh<dim>                         &mesh,
                                              const Physics<dim>                      &physics,
                                              const TimeScheme                         scheme,
                                              std::unique_ptr<FiniteElement<dim, dim>> fe,
                                              const unsigned int                       n_gauss)
    : mesh(mesh)
    , physics(physics)
    , scheme(scheme)
    , mpi_communicator(mesh.communicator())
    , mapping(mesh.mapping())
    , fe_pointer(std::move(fe))
    , fe(*fe_pointer)
    , quadrature(n_gauss)
    , dof_handler(mesh.triangulation())
{
  dof_handler.distribute_dofs(this->fe);
  locally_owned_dofs = dof_handler.locally_owned_dofs();
  DoFTools::extract_locally_relevant_dofs(dof_handler, locally_relevant_dofs);
  ghosted_solution.reinit(locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
}

template <int dim>
FiniteElementSolver<dim>::~FiniteElementSolver() = default;

template <int dim>
types::global_dof_index FiniteElementSolver<dim>::n_dofs() const
{
  return dof_handler.n_dofs();
}

template <int dim>
double FiniteElementSolver<dim>::time() const
{
  return current_time;
}

template <int dim>
void FiniteElementSolver<dim>::set_time(const double t)
{
  current_time = t;
}

template <int dim>
const DoFHandler<dim> &FiniteElementSolver<dim>::get_dof_handler() const
{
  return dof_handler;
}

template <int dim>
void FiniteElementSolver<dim>::quadrature_measure(
    const unsigned int                                              n,
    std::vector<typename Triangulation<dim>::active_cell_iterator> &cells,
    std::vector<Point<dim>>                                        &points,
    std::vector<double>                                            &weights) const
{
  const QGauss<dim> gauss(n);
  FEValues<dim>     fe_values(
      mapping, fe, gauss, update_values | update_quadrature_points | update_JxW_values);
  std::vector<double> rho(gauss.size());
  cells.clear(), points.clear(), weights.clear();
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        density_on_cell(cell, fe_values, rho);
        cells.push_back(cell);
        for (unsigned int q = 0; q < gauss.size(); ++q)
          {
            points.push_back(fe_values.quadrature_point(q));
            weights.push_back(rho[q] * fe_values.JxW(q));
          }
      }
}

template <int dim>
bool FiniteElementSolver<dim>::bdf2_step(const double dt) const
{
  return scheme == TimeScheme::bdf2 && step_number > 0 && dt == previous_step;
}

template <int dim>
void FiniteElementSolver<dim>::reset_clock()
{
  current_time = 0;
  step_number  = 0;
}

template <int dim>
void FiniteElementSolver<dim>::complete_step(const PETScWrappers::MPI::Vector &solution,
                                             const double                      dt,
                                             const std::string                &advice)
{
  if (!std::isfinite(solution.l2_norm()))
    throw RunError("The density is no longer finite after step " + std::to_string(step_number + 1) +
                   " (t = " + std::to_string(current_time + dt) + "): " + advice);
  current_time += dt;
  previous_step = dt;
  ++step_number;
  ghosted_solution = solution;
}

template <int dim>
typename DoFHandler<dim>::active_cell_iterator FiniteElementSolver<dim>::dof_cell(
    const typename Triangulation<dim>::active_cell_iterator &cell) const
{
  return typename DoFHandler<dim>::active_cell_iterator(
      &mesh.triangulation(), cell->level(), cell->index(), &dof_handler);
}

template <int dim>
void FiniteElementSolver<dim>::attach_output(DataOut<dim>                           &data_out,
                                             std::unique_ptr<DataPostprocessor<dim>> postprocessor,
                                             const unsigned int subdivisions) const
{
  output_postprocessor = std::move(postprocessor);
  output_subdomain.reinit(mesh.triangulation().n_active_cells());
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      output_subdomain(cell->active_cell_index()) = cell->subdomain_id();
  // The mean of rho_h over each cell by the quadrature of the diagnostics. deal.II writes
  // cell data at every point of the cell's patch: a piecewise constant field whose
  // integral, unlike that of the interpolated point field rho, is the solver's mass.
  output_cell_mean.reinit(mesh.triangulation().n_active_cells());
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_JxW_values | update_quadrature_points);
  std::vector<double> rho(quadrature.size());
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        density_on_cell(cell, fe_values, rho);
        double mass = 0, volume = 0;
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            mass += rho[q] * fe_values.JxW(q);
            volume += fe_values.JxW(q);
          }
        output_cell_mean(cell->active_cell_index()) = mass / volume;
      }
  data_out.attach_dof_handler(dof_handler);
  data_out.add_data_vector(ghosted_solution, *output_postprocessor);
  data_out.add_data_vector(output_subdomain, "subdomain");
  data_out.add_data_vector(output_cell_mean, "rho_cell_mean", DataOut<dim>::type_cell_data);
  data_out.build_patches(mapping, subdivisions);
}

template class FiniteElementSolver<1>;
template class FiniteElementSolver<2>;
template class FiniteElementSolver<3>;
} // namespace densityflow

#include <densityflow/physics/physics.h>
#include <densityflow/solvers/path/path_solver.h>

#include <deal.II/fe/fe_values.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <cmath>

// Evaluation of the path solver: rho_t (exact, from U) and v_h = grad phi_h at points,
// the diagnostics and the fields of density.pvd.

namespace densityflow
{
namespace
{
/** density.pvd of a path: rho, phi, velocity = grad phi, exact and error if given. */
template <int dim>
class PathPostprocessor : public DataPostprocessor<dim>
{
public:
  PathPostprocessor(const PathSolver<dim> &solver, const Expression<dim> *exact)
      : solver(solver)
      , exact(exact)
  {}

  void evaluate_scalar_field(const DataPostprocessorInputs::Scalar<dim> &inputs,
                             std::vector<Vector<double>>                &computed) const override
  {
    for (unsigned int q = 0; q < inputs.evaluation_points.size(); ++q)
      {
        const Point<dim> &x   = inputs.evaluation_points[q];
        const double      rho = solver.density(x);
        unsigned int      k   = 0;
        computed[q](k++)      = rho;
        computed[q](k++)      = inputs.solution_values[q];
        for (unsigned int d = 0; d < dim; ++d)
          computed[q](k++) = inputs.solution_gradients[q][d];
        if (exact != nullptr)
          {
            const double rho_exact = exact->value(x, solver.time());
            computed[q](k++)       = rho_exact;
            computed[q](k++)       = rho - rho_exact;
          }
      }
  }

  std::vector<std::string> get_names() const override
  {
    std::vector<std::string> names = {"rho", "phi"};
    for (unsigned int d = 0; d < dim; ++d)
      names.emplace_back("velocity");
    if (exact != nullptr)
      {
        names.emplace_back("exact");
        names.emplace_back("error");
      }
    return names;
  }

  std::vector<DataComponentInterpretation::DataComponentInterpretation>
  get_data_component_interpretation() const override
  {
    std::vector<DataComponentInterpretation::DataComponentInterpretation> kinds(
        2, DataComponentInterpretation::component_is_scalar);
    for (unsigned int d = 0; d < dim; ++d)
      kinds.push_back(DataComponentInterpretation::component_is_part_of_vector);
    if (exact != nullptr)
      kinds.insert(kinds.end(), 2, DataComponentInterpretation::component_is_scalar);
    return kinds;
  }

  UpdateFlags get_needed_update_flags() const override
  {
    return update_values | update_gradients | update_quadrature_points;
  }

private:
  const PathSolver<dim> &solver;
  const Expression<dim> *exact;
};
} // namespace

template <int dim>
double PathSolver<dim>::density(const Point<dim> &x) const
{
  return std::exp(-(path->value(x, current_time) - U_min)) / partition_function;
}

template <int dim>
void PathSolver<dim>::density_on_cell(const typename DoFHandler<dim>::active_cell_iterator &,
                                      const FEValues<dim> &fe_values,
                                      std::vector<double> &rho) const
{
  rho.resize(fe_values.n_quadrature_points);
  for (unsigned int q = 0; q < rho.size(); ++q)
    rho[q] = density(fe_values.quadrature_point(q));
}

template <int dim>
void PathSolver<dim>::evaluate(const typename DoFHandler<dim>::active_cell_iterator &cell,
                               const std::vector<Point<dim>>                        &points,
                               std::vector<double>                                  &rho,
                               std::vector<Tensor<1, dim>>                          &velocity,
                               std::vector<double> *divergence) const
{
  std::vector<Point<dim>> unit_points(points.size());
  rho.resize(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    {
      unit_points[q] = mapping.transform_real_to_unit_cell(cell, points[q]);
      rho[q]         = density(points[q]);
    }
  FEValues<dim> fe_values(mapping,
                          fe,
                          Quadrature<dim>(unit_points),
                          update_gradients |
                              (divergence != nullptr ? update_hessians : update_default));
  fe_values.reinit(cell);
  velocity.resize(points.size());
  fe_values.get_function_gradients(ghosted_solution, velocity);
  if (divergence != nullptr)
    {
      std::vector<Tensor<2, dim>> hessians(points.size());
      fe_values.get_function_hessians(ghosted_solution, hessians);
      divergence->resize(points.size());
      for (unsigned int q = 0; q < points.size(); ++q)
        (*divergence)[q] = trace(hessians[q]);
    }
}

template <int dim>
void PathSolver<dim>::density_at(const typename Triangulation<dim>::active_cell_iterator &,
                                 const std::vector<Point<dim>> &points,
                                 std::vector<double>           &rho) const
{
  rho.resize(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    rho[q] = density(points[q]);
}

template <int dim>
void PathSolver<dim>::velocity_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                  const std::vector<Point<dim>>                           &points,
                                  std::vector<double>                                     *rho,
                                  std::vector<Tensor<1, dim>> &velocity) const
{
  std::vector<double> rho_here;
  evaluate(this->dof_cell(cell), points, rho != nullptr ? *rho : rho_here, velocity, nullptr);
}

template <int dim>
DensityStatistics<dim> PathSolver<dim>::statistics(const Expression<dim> *exact) const
{
  // KL(rho_t | pi), pi = exp(-(V - V_min)/eps) / Z_pi on the mesh, with the same rule.
  const double  eps = physics.diffusion();
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points | update_JxW_values);
  const unsigned int  n_q = quadrature.size();
  std::vector<double> V;
  double              V_min = std::numeric_limits<double>::infinity();
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < n_q; ++q)
          {
            V.push_back(physics.potential().value(fe_values.quadrature_point(q), current_time));
            V_min = std::min(V_min, V.back());
          }
      }
  V_min = Utilities::MPI::min(V_min, mpi_communicator);

  DensityIntegrals<dim> integrals;
  double                Z_pi = 0, entropy = 0; // int rho (log rho + (V - V_min)/eps)
  const double          log_Z = std::log(partition_function);
  std::size_t           k     = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < n_q; ++q, ++k)
          {
            const Point<dim> &x       = fe_values.quadrature_point(q);
            const double      log_rho = -(U_q[k] - U_min) - log_Z;
            const double      rho     = std::exp(log_rho);
            integrals.add(x, rho, fe_values.JxW(q));
            if (exact != nullptr)
              integrals.add_exact(rho, exact->value(x, current_time), fe_values.JxW(q));
            Z_pi += std::exp(-(V[k] - V_min) / eps) * fe_values.JxW(q);
            entropy += rho * (log_rho + (V[k] - V_min) / eps) * fe_values.JxW(q);
          }
      }
  DensityStatistics<dim> result;
  integrals.finish(result, mpi_communicator);
  std::vector<double> sums = {Z_pi, entropy};
  Utilities::MPI::sum(sums, mpi_communicator, sums);
  result.relative_entropy = sums[1] + result.mass * std::log(sums[0]);
  result.extra            = {kinetic_energy(), action(), length(), max_speed()};
  result.free_energy =
      eps * result.relative_entropy + result.mass * (V_min - eps * std::log(sums[0]));
  return result;
}

template <int dim>
std::vector<std::string> PathSolver<dim>::extra_columns() const
{
  return {"kinetic_energy", "action", "w2_length", "max_speed"};
}

template <int dim>
bool PathSolver<dim>::has_velocity_divergence() const
{
  return fe.degree >= 2;
}

template <int dim>
void PathSolver<dim>::velocity_divergence_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     &divergence) const
{
  std::vector<double>         rho;
  std::vector<Tensor<1, dim>> velocity;
  evaluate(this->dof_cell(cell), points, rho, velocity, &divergence);
}

template <int dim>
void PathSolver<dim>::fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const
{
  this->attach_output(data_out, std::make_unique<PathPostprocessor<dim>>(*this, exact), fe.degree);
}

// The class itself is instantiated in path_solver.cc; here its members defined here.
#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template double PathSolver<dim>::density(const Point<dim> &) const;                              \
  template void   PathSolver<dim>::density_on_cell(                                                \
      const typename DoFHandler<dim>::active_cell_iterator &,                                    \
      const FEValues<dim> &,                                                                     \
      std::vector<double> &) const;                                                              \
  template void PathSolver<dim>::evaluate(const typename DoFHandler<dim>::active_cell_iterator &,  \
                                          const std::vector<Point<dim>> &,                         \
                                          std::vector<double> &,                                   \
                                          std::vector<Tensor<1, dim>> &,                           \
                                          std::vector<double> *) const;                            \
  template void PathSolver<dim>::density_at(                                                       \
      const typename Triangulation<dim>::active_cell_iterator &,                                   \
      const std::vector<Point<dim>> &,                                                             \
      std::vector<double> &) const;                                                                \
  template void PathSolver<dim>::velocity_at(                                                      \
      const typename Triangulation<dim>::active_cell_iterator &,                                   \
      const std::vector<Point<dim>> &,                                                             \
      std::vector<double> *,                                                                       \
      std::vector<Tensor<1, dim>> &) const;                                                        \
  template DensityStatistics<dim> PathSolver<dim>::statistics(const Expression<dim> *) const;      \
  template void PathSolver<dim>::fill_output(DataOut<dim> &, const Expression<dim> *) const;       \
  template std::vector<std::string> PathSolver<dim>::extra_columns() const;                        \
  template bool                     PathSolver<dim>::has_velocity_divergence() const;              \
  template void                     PathSolver<dim>::velocity_divergence_at(                       \
      const typename Triangulation<dim>::active_cell_iterator &,               \
      const std::vector<Point<dim>> &,                                         \
      std::vector<double> &) const;
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow

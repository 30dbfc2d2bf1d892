#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/distributed/tria.h>
#include <deal.II/fe/mapping_cartesian.h>
#include <deal.II/matrix_free/fe_point_evaluation.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <algorithm>
#include <cmath>

// Evaluation of rho_h = pi u_h for the Fokker-Planck solver: at points, on cells, for
// the diagnostics and for density.pvd.

namespace densityflow
{
namespace
{
/**
 * Below this fraction of the largest nodal density the probability-flow velocity is
 * marked unreliable (`velocity_reliable` = 0). Measured on ou-2d against the exact OU
 * velocity (README): above it the error is within 0.5% of |v| from t = 1 on, within
 * 20-30% at t <= 0.2 where the narrow start is under-resolved; below 1e-8 the density
 * is at the level of the linear solver's tolerance and of the walls, which the Gaussian
 * of the whole plane does not have, and below 1e-20 |v| reaches hundreds.
 */
constexpr double reliable_density_fraction = 1e-6;

/**
 * The fields of density.pvd: rho, V, the normalised pi, the probability-flow velocity
 * v = -(grad V + eps grad log rho), `velocity_reliable` (1 where the cell's nodal
 * densities are all positive, so that v comes from the interpolant of log rho, and
 * rho_h >= reliable_density_fraction of the largest nodal density; else 0), and the
 * exact solution and error where one is given. It evaluates the solver on the cell
 * it is handed, since rho is not a finite element function of the unknowns y.
 */
template <int dim>
class FokkerPlanckPostprocessor : public DataPostprocessor<dim>
{
public:
  FokkerPlanckPostprocessor(const FokkerPlanckSolver<dim> &solver,
                            const Physics<dim>            &physics,
                            const double                   shift,
                            const double                   partition_function,
                            const double                   max_density,
                            const Expression<dim>         *exact)
      : solver(solver)
      , physics(physics)
      , shift(shift)
      , partition_function(partition_function)
      , reliable_density(reliable_density_fraction * max_density)
      , exact(exact)
  {}

  void evaluate_scalar_field(const DataPostprocessorInputs::Scalar<dim> &inputs,
                             std::vector<Vector<double>>                &computed) const override
  {
    const auto                  cell = inputs.template get_cell<dim>();
    std::vector<double>         rho;
    std::vector<Tensor<1, dim>> velocity;
    std::vector<double>         V(inputs.evaluation_points.size());
    const double                time = solver.time();
    for (unsigned int q = 0; q < V.size(); ++q)
      V[q] = physics.potential().value(inputs.evaluation_points[q], time);
    const bool log_interpolant =
        solver.evaluate_at_patch_points(cell, inputs.evaluation_points, V, rho, velocity);
    for (unsigned int q = 0; q < inputs.evaluation_points.size(); ++q)
      {
        const Point<dim> &x = inputs.evaluation_points[q];
        unsigned int      k = 0;
        computed[q](k++)    = rho[q];
        computed[q](k++)    = V[q];
        computed[q](k++)    = std::exp(-(V[q] - shift) / physics.diffusion()) / partition_function;
        for (unsigned int d = 0; d < dim; ++d)
          computed[q](k++) = velocity[q][d];
        computed[q](k++) = log_interpolant && rho[q] >= reliable_density ? 1 : 0;
        if (exact != nullptr)
          {
            const double rho_exact = exact->value(x, time);
            computed[q](k++)       = rho_exact;
            computed[q](k++)       = rho[q] - rho_exact;
          }
      }
  }

  std::vector<std::string> get_names() const override
  {
    std::vector<std::string> names = {"rho", "V", "pi"};
    for (unsigned int d = 0; d < dim; ++d)
      names.emplace_back("velocity");
    names.emplace_back("velocity_reliable");
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
        3, DataComponentInterpretation::component_is_scalar);
    for (unsigned int d = 0; d < dim; ++d)
      kinds.push_back(DataComponentInterpretation::component_is_part_of_vector);
    kinds.push_back(DataComponentInterpretation::component_is_scalar);
    if (exact != nullptr)
      kinds.insert(kinds.end(), 2, DataComponentInterpretation::component_is_scalar);
    return kinds;
  }

  UpdateFlags get_needed_update_flags() const override { return update_quadrature_points; }

private:
  const FokkerPlanckSolver<dim> &solver;
  const Physics<dim>            &physics;
  const double                   shift;
  const double                   partition_function;
  const double                   reliable_density;
  const Expression<dim>         *exact;
};
} // namespace

template <int dim>
double FokkerPlanckSolver<dim>::cell_coefficients(
    const typename DoFHandler<dim>::active_cell_iterator &cell,
    const bool                                            with_log,
    std::vector<double>                                  &c,
    std::vector<double>                                  &log_c) const
{
  // rho(x) = pi(x) sum_j u_j phi_j(x) with u_j = y_j / root_pi_j. With a = (V_j -
  // shift)/(2 eps) and A its maximum on the cell, c_j = y_j e^{a_j - A} <= y_j and rho(x)
  // = e^{A - (V(x) - shift)/eps} sum_j c_j phi_j(x), whose exponent is bounded by the
  // variation of V over the cell: no overflow where u itself would overflow.
  const double                         eps           = physics.diffusion();
  const unsigned int                   dofs_per_cell = fe.n_dofs_per_cell();
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);
  cell->get_dof_indices(dof_indices);

  std::vector<double> a(dofs_per_cell);
  c.resize(dofs_per_cell);
  double A = -std::numeric_limits<double>::infinity();
  for (unsigned int j = 0; j < dofs_per_cell; ++j)
    {
      a[j] = (nodal_potential(dof_indices[j]) - shift) / (2 * eps);
      A    = std::max(A, a[j]);
    }
  for (unsigned int j = 0; j < dofs_per_cell; ++j)
    c[j] = ghosted_solution(dof_indices[j]) * std::exp(a[j] - A);

  // v = -(grad V + eps grad log rho) = -eps grad log u. Where every nodal u_j > 0, grad
  // log u is taken from the interpolant of the nodal log u_j = log c_j + A (the constant
  // drops out of the gradient): log u is smooth where rho_h spans many decades, and
  // quadratic for a Gaussian rho and quadratic V, which Q2 holds exactly, whereas the
  // quotient grad u_h / u_h loses all accuracy where u_h is small against its error.
  // Cells with a node u_j <= 0 (or underflowing) fall back to the quotient.
  log_c.clear();
  if (with_log && std::all_of(c.begin(), c.end(), [](double v) { return v > 0; }))
    for (const double v : c)
      log_c.push_back(std::log(v));
  return A;
}

template <int dim>
bool FokkerPlanckSolver<dim>::evaluate_on_cell(
    const typename DoFHandler<dim>::active_cell_iterator &cell,
    const FEValues<dim>                                  &fe_values,
    const std::vector<double>                            &V_at_points,
    std::vector<double>                                  &rho,
    std::vector<Tensor<1, dim>>                          *velocity) const
{
  const double        eps           = physics.diffusion();
  const unsigned int  dofs_per_cell = fe.n_dofs_per_cell();
  const unsigned int  n_points      = V_at_points.size();
  std::vector<double> c, log_c;
  const double        A = cell_coefficients(cell, velocity != nullptr, c, log_c);

  rho.resize(n_points);
  if (velocity != nullptr)
    velocity->resize(n_points);
  for (unsigned int q = 0; q < n_points; ++q)
    {
      double         sum = 0;
      Tensor<1, dim> gradient;
      for (unsigned int j = 0; j < dofs_per_cell; ++j)
        {
          sum += c[j] * fe_values.shape_value(j, q);
          if (velocity != nullptr)
            gradient += (log_c.empty() ? c[j] : log_c[j]) * fe_values.shape_grad(j, q);
        }
      rho[q] = std::exp(A - (V_at_points[q] - shift) / eps) * sum;
      if (velocity != nullptr)
        {
          if (!log_c.empty())
            (*velocity)[q] = -eps * gradient;
          else
            (*velocity)[q] = sum > 0 ? Tensor<1, dim>(-eps * gradient / sum) : Tensor<1, dim>();
        }
    }
  return !log_c.empty();
}

template <int dim>
bool FokkerPlanckSolver<dim>::evaluate(const typename DoFHandler<dim>::active_cell_iterator &cell,
                                       const std::vector<Point<dim>>                        &points,
                                       std::vector<double>                                  &rho,
                                       std::vector<Tensor<1, dim>> *velocity) const
{
  return evaluate_at_points(cell, points, &rho, velocity);
}

template <int dim>
bool FokkerPlanckSolver<dim>::evaluate_at_points(
    const typename DoFHandler<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                        &points,
    std::vector<double>                                  *rho,
    std::vector<Tensor<1, dim>>                          *velocity) const
{
  // Particles come a cell's worth at a time (the probability flow, the grid output):
  // the points are mapped back to the unit cell together, and u_h and its gradients
  // evaluated there by sum factorisation (FEPointEvaluation) instead of an FEValues
  // object made for each cell's points, which cost most of a probability-flow step. The
  // cells of a box mesh are axis-parallel rectangles, which MappingCartesian maps with a
  // division (the mesh's MappingQ1 by Newton's method, to the same point).
  if (!point_values)
    {
      if (this->mesh.is_box())
        point_mapping = std::make_shared<MappingCartesian<dim>>();
      point_values = std::make_shared<FEPointEvaluation<1, dim, dim, double>>(
          point_mapping ? *point_mapping : mapping, fe, update_values | update_gradients);
    }
  const Mapping<dim>     &cell_mapping = point_mapping ? *point_mapping : mapping;
  const unsigned int      n_points     = points.size();
  std::vector<Point<dim>> unit_points(n_points);
  cell_mapping.transform_points_real_to_unit_cell(cell, points, unit_points);
  for (unsigned int q = 0; q < n_points; ++q)
    if (!std::isfinite(unit_points[q][0])) // the batch failed: the message of the one point
      unit_points[q] = cell_mapping.transform_real_to_unit_cell(cell, points[q]);
  point_values->reinit(cell, unit_points);

  const double        eps = physics.diffusion();
  std::vector<double> c, log_c;
  const bool          wants_log = velocity != nullptr;
  const double        A         = cell_coefficients(cell, wants_log, c, log_c);
  // Without rho, and with the log interpolant, c itself is not needed at the points.
  if (rho != nullptr || log_c.empty())
    point_values->evaluate(c,
                           velocity != nullptr && log_c.empty()
                               ? EvaluationFlags::values | EvaluationFlags::gradients
                               : EvaluationFlags::values);
  if (rho != nullptr)
    {
      rho->resize(n_points);
      for (unsigned int q = 0; q < n_points; ++q)
        (*rho)[q] =
            std::exp(A - (physics.potential().value(points[q], current_time) - shift) / eps) *
            point_values->get_value(q);
    }
  if (velocity == nullptr)
    return false;

  velocity->resize(n_points);
  if (log_c.empty())
    for (unsigned int q = 0; q < n_points; ++q)
      {
        const double sum = point_values->get_value(q);
        (*velocity)[q] =
            sum > 0 ? Tensor<1, dim>(-eps * point_values->get_gradient(q) / sum) : Tensor<1, dim>();
      }
  else
    {
      point_values->evaluate(log_c, EvaluationFlags::gradients);
      for (unsigned int q = 0; q < n_points; ++q)
        (*velocity)[q] = -eps * point_values->get_gradient(q);
    }
  return !log_c.empty();
}

template <int dim>
bool FokkerPlanckSolver<dim>::evaluate_at_patch_points(
    const typename DoFHandler<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                        &points,
    const std::vector<double>                            &V,
    std::vector<double>                                  &rho,
    std::vector<Tensor<1, dim>>                          &velocity) const
{
  // DataOut evaluates at the points of QIterated(QTrapezoid, subdivisions) of each cell;
  // one FEValues on that rule serves all cells, where mapping the points back to the
  // unit cell one by one would dominate the cost of output.
  if (!patch_values)
    patch_values = std::make_unique<FEValues<dim>>(mapping,
                                                   fe,
                                                   QIterated<dim>(QTrapezoid<1>(), fe.degree),
                                                   update_values | update_gradients |
                                                       update_quadrature_points);
  if (patch_values->n_quadrature_points == points.size())
    {
      patch_values->reinit(cell);
      const double tolerance = 1e-10 * cell->diameter();
      bool         same      = true;
      for (unsigned int q = 0; q < points.size() && same; ++q)
        same = patch_values->quadrature_point(q).distance(points[q]) < tolerance;
      if (same)
        return evaluate_on_cell(cell, *patch_values, V, rho, &velocity);
    }
  return evaluate(cell, points, rho, &velocity);
}

template <int dim>
DensityStatistics<dim> FokkerPlanckSolver<dim>::statistics(const Expression<dim> *exact) const
{
  const double  eps = physics.diffusion();
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
  const unsigned int  n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  std::vector<double> rho(n_q), V(n_q);
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);
  DensityIntegrals<dim>                integrals;
  const double                         log_Z   = std::log(partition_function);
  double                               entropy = 0; // int rho log(rho / pi_normalised)

  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        const double *V_q = &potential_at_quadrature_points[cell->active_cell_index() * n_q];
        V.assign(V_q, V_q + n_q);
        evaluate_on_cell(cell, fe_values, V, rho, nullptr);
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const Point<dim> &x = fe_values.quadrature_point(q);
            integrals.add(x, rho[q], fe_values.JxW(q));
            if (exact != nullptr)
              integrals.add_exact(rho[q], exact->value(x, current_time), fe_values.JxW(q));
            // log(rho / pi_normalised) = log(rho) + (V - shift)/eps + log Z
            if (!discretization.mass_lumping && rho[q] > 0)
              entropy +=
                  rho[q] * (std::log(rho[q]) + (V[q] - shift) / eps + log_Z) * fe_values.JxW(q);
          }
        // Nodal densities rho_j = root_pi_j y_j, for the minimum.
        cell->get_dof_indices(dof_indices);
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          integrals.add_to_minimum(
              std::exp(-(nodal_potential(dof_indices[i]) - shift) / (2 * eps)) *
              ghosted_solution(dof_indices[i]));
      }
  // With lumping, the entropy is the one the scheme dissipates: sum_j m_j u_j log(u_j Z),
  // where m_j u_j = lumped_j root_pi_j y_j and log u_j = log y_j + (V_j - shift)/(2 eps).
  if (discretization.mass_lumping)
    for (const auto j : locally_owned_dofs)
      if (solution(j) > 0)
        entropy += lumped_mass(j) * root_pi(j) * solution(j) *
                   (std::log(solution(j)) + (nodal_potential(j) - shift) / (2 * eps) + log_Z);

  DensityStatistics<dim> result;
  integrals.finish(result, mpi_communicator);
  result.relative_entropy = Utilities::MPI::sum(entropy, mpi_communicator);
  // F(rho) = eps KL(rho | pi) - eps log(Z_true) mass, with Z_true = e^{-shift/eps} Z_h.
  result.free_energy = eps * result.relative_entropy + result.mass * (shift - eps * log_Z);
  if (absorbing)
    result.extra = {absorbed_mass, absorbed_flux, survival_integral};
  if (adaptive_triangulation != nullptr)
    result.extra.push_back(static_cast<double>(adaptive_triangulation->n_global_active_cells()));
  return result;
}

template <int dim>
std::vector<std::string> FokkerPlanckSolver<dim>::extra_columns() const
{
  // Absorbing walls and adaptivity exclude each other (enable_adaptivity()).
  if (absorbing)
    return {"absorbed_mass", "absorbed_flux", "survival_integral"};
  if (adaptive_triangulation != nullptr)
    return {"cells"};
  return {};
}

template <int dim>
void FokkerPlanckSolver<dim>::fill_output(DataOut<dim>          &data_out,
                                          const Expression<dim> *exact) const
{
  // The largest nodal density rho_j = sqrt(pi_j) y_j, for velocity_reliable.
  double max_density = 0;
  for (const auto j : locally_owned_dofs)
    max_density =
        std::max(max_density,
                 std::exp(-(nodal_potential(j) - shift) / (2 * physics.diffusion())) * solution(j));
  max_density = Utilities::MPI::max(max_density, mpi_communicator);
  this->attach_output(data_out,
                      std::make_unique<FokkerPlanckPostprocessor<dim>>(
                          *this, physics, shift, partition_function, max_density, exact),
                      fe.degree);
}

template <int dim>
void FokkerPlanckSolver<dim>::density_on_cell(
    const typename DoFHandler<dim>::active_cell_iterator &cell,
    const FEValues<dim>                                  &fe_values,
    std::vector<double>                                  &rho) const
{
  std::vector<double> V(fe_values.n_quadrature_points);
  for (unsigned int q = 0; q < V.size(); ++q)
    V[q] = physics.potential().value(fe_values.quadrature_point(q), current_time);
  evaluate_on_cell(cell, fe_values, V, rho, nullptr);
}

template <int dim>
void FokkerPlanckSolver<dim>::density_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     &rho) const
{
  evaluate(this->dof_cell(cell), points, rho, nullptr);
}

template <int dim>
void FokkerPlanckSolver<dim>::velocity_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     *rho,
    std::vector<Tensor<1, dim>>                             &velocity) const
{
  evaluate_at_points(this->dof_cell(cell), points, rho, &velocity);
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template double FokkerPlanckSolver<dim>::cell_coefficients(                                      \
      const typename DoFHandler<dim>::active_cell_iterator &,                                      \
      const bool,                                                                                  \
      std::vector<double> &,                                                                       \
      std::vector<double> &) const;                                                                \
  template bool FokkerPlanckSolver<dim>::evaluate_on_cell(                                         \
      const typename DoFHandler<dim>::active_cell_iterator &,                                      \
      const FEValues<dim> &,                                                                       \
      const std::vector<double> &,                                                                 \
      std::vector<double> &,                                                                       \
      std::vector<Tensor<1, dim>> *) const;                                                        \
  template bool FokkerPlanckSolver<dim>::evaluate(                                                 \
      const typename DoFHandler<dim>::active_cell_iterator &,                                      \
      const std::vector<Point<dim>> &,                                                             \
      std::vector<double> &,                                                                       \
      std::vector<Tensor<1, dim>> *) const;                                                        \
  template bool FokkerPlanckSolver<dim>::evaluate_at_points(                                       \
      const typename DoFHandler<dim>::active_cell_iterator &,                                      \
      const std::vector<Point<dim>> &,                                                             \
      std::vector<double> *,                                                                       \
      std::vector<Tensor<1, dim>> *) const;                                                        \
  template bool FokkerPlanckSolver<dim>::evaluate_at_patch_points(                                 \
      const typename DoFHandler<dim>::active_cell_iterator &,                                      \
      const std::vector<Point<dim>> &,                                                             \
      const std::vector<double> &,                                                                 \
      std::vector<double> &,                                                                       \
      std::vector<Tensor<1, dim>> &) const;                                                        \
  template DensityStatistics<dim> FokkerPlanckSolver<dim>::statistics(const Expression<dim> *)     \
      const;                                                                                       \
  template std::vector<std::string> FokkerPlanckSolver<dim>::extra_columns() const;                \
  template void FokkerPlanckSolver<dim>::fill_output(DataOut<dim> &, const Expression<dim> *)      \
      const;                                                                                       \
  template void FokkerPlanckSolver<dim>::density_on_cell(                                          \
      const typename DoFHandler<dim>::active_cell_iterator &,                                      \
      const FEValues<dim> &,                                                                       \
      std::vector<double> &) const;                                                                \
  template void FokkerPlanckSolver<dim>::density_at(                                               \
      const typename Triangulation<dim>::active_cell_iterator &,                                   \
      const std::vector<Point<dim>> &,                                                             \
      std::vector<double> &) const;                                                                \
  template void FokkerPlanckSolver<dim>::velocity_at(                                              \
      const typename Triangulation<dim>::active_cell_iterator &,                                   \
      const std::vector<Point<dim>> &,                                                             \
      std::vector<double> *,                                                                       \
      std::vector<Tensor<1, dim>> &) const;
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow

#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/transport/time_integrators.h>
#include <densityflow/solvers/transport/transport_operator.h>
#include <densityflow/solvers/transport/transport_output_fields.h>
#include <densityflow/solvers/transport/transport_solver.h>
#include <densityflow/solvers/transport/zhang_shu_limiter.h>

#include <deal.II/distributed/tria.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <cmath>
#include <sstream>

namespace densityflow
{
namespace
{
/** The scheme, once the transport model is known to accept it. */
TimeScheme transport_scheme(const TimeScheme scheme, const double eps)
{
  if (scheme == TimeScheme::automatic)
    return eps == 0 ? TimeScheme::ssp_rk3 : TimeScheme::bdf2;
  if (scheme == TimeScheme::ssp_rk3 && eps > 0)
    throw InputError(
        "Time/Scheme = ssp-rk3 needs Physics/Diffusion = 0 (an explicit diffusion step would be "
        "limited by h^2/eps); use imex-ssp3, backward-euler, crank-nicolson or bdf2.");
  return scheme;
}

/** Whether @p scheme steps the advection explicitly (CFL-limited, with the limiter). */
bool explicit_advection(const TimeScheme scheme)
{
  return scheme == TimeScheme::ssp_rk3 || scheme == TimeScheme::imex_ssp3;
}

/** The CFL number of explicit steps, once known to be one that keeps rho >= 0. */
double checked_cfl(const double requested, const unsigned int degree, const TimeScheme scheme)
{
  const double largest = largest_cfl_number(degree);
  if (!explicit_advection(scheme))
    return requested > 0 ? requested : 0.9 * largest;
  if (requested > largest)
    {
      std::ostringstream message;
      message << "Time/CFL number = " << requested << " cannot be met: with Degree = " << degree
              << ", SSP-RK3 is stable and the limiter keeps rho >= 0 only for CFL <= " << largest
              << " (dt max_K |b|_1 / h_K)"
              << (scheme == TimeScheme::imex_ssp3 ? "; imex-ssp3 advects by the same tableau."
                                                  : ".");
      throw InputError(message.str());
    }
  return requested > 0 ? requested : 0.9 * largest;
}

/** The transport solver's output fields; its velocity is b - eps grad log rho (b where rho <= 0).
 */
template <int dim>
class TransportPostprocessor : public TransportOutputFields<dim>
{
public:
  TransportPostprocessor(const Physics<dim>    &physics,
                         const double           time,
                         const Expression<dim> *exact)
      : TransportOutputFields<dim>(exact)
      , physics(physics)
      , time(time)
  {}

  void evaluate_scalar_field(const DataPostprocessorInputs::Scalar<dim> &inputs,
                             std::vector<Vector<double>>                &computed) const override
  {
    const double eps = physics.diffusion();
    for (unsigned int q = 0; q < inputs.solution_values.size(); ++q)
      {
        const Point<dim>    &x   = inputs.evaluation_points[q];
        const double         rho = inputs.solution_values[q];
        const Tensor<1, dim> b   = physics.drift(x, time);
        Tensor<1, dim>       velocity;
        for (unsigned int d = 0; d < dim; ++d)
          velocity[d] = rho > 0 ? b[d] - eps * inputs.solution_gradients[q][d] / rho : b[d];
        this->fill(computed[q], x, time, rho, b, velocity);
      }
  }

  UpdateFlags get_needed_update_flags() const override
  {
    return update_values | update_gradients | update_quadrature_points;
  }

private:
  const Physics<dim> &physics;
  const double        time;
};
} // namespace

template <int dim>
TransportSolver<dim>::TransportSolver(const Mesh<dim>                &mesh,
                                      const Physics<dim>             &physics,
                                      const DiscretizationParameters &discretization,
                                      const TimeParameters           &time,
                                      const LinearSolverParameters   &linear_solver_parameters)
    : Base(mesh,
           physics,
           transport_scheme(time.scheme, physics.diffusion()),
           std::make_unique<FE_DGQ<dim>>(discretization.degree),
           discretization.degree + 2)
    , discretization(discretization)
    , fixed_step(time.step_size())
    , cfl(checked_cfl(time.cfl_number, discretization.degree, scheme))
    , face_quadrature(discretization.degree + 2)
    , space{dof_handler,
            mapping,
            quadrature,
            face_quadrature,
            locally_owned_dofs,
            this->locally_relevant_dofs,
            mpi_communicator}
    , linear_solver_parameters(linear_solver_parameters)
{
  build_operators();
  solution.reinit(locally_owned_dofs, mpi_communicator);
}

template <int dim>
TransportSolver<dim>::~TransportSolver() = default;

template <int dim>
void TransportSolver<dim>::build_operators()
{
  const bool explicit_steps = explicit_advection(scheme);
  // The integrator refers to the operator and the limiter: it goes first.
  integrator.reset();
  op      = std::make_unique<TransportOperator<dim>>(space, physics, explicit_steps);
  limiter = std::make_unique<ZhangShuLimiter<dim>>(space, discretization.limiter);
  if (scheme == TimeScheme::imex_ssp3)
    integrator = std::make_unique<IMEXIntegrator<dim>>(*op, *limiter, linear_solver_parameters);
  else if (explicit_steps)
    integrator = std::make_unique<SSPRK3Integrator<dim>>(*op, *limiter);
  else
    integrator = std::make_unique<ImplicitIntegrator<dim>>(*op, scheme, linear_solver_parameters);
}

template <int dim>
double TransportSolver<dim>::set_initial_density(const Expression<dim> &rho0)
{
  // Each cycle marks the mesh by rho0's projection and projects rho0 afresh on the new one.
  if constexpr (dim > 1)
    if (adaptive_triangulation != nullptr)
      for (unsigned int cycle = 0; cycle < adaptivity.initial_cycles; ++cycle)
        {
          project_initial_density(rho0);
          ghosted_solution = solution;
          mark_fixed_fraction(adaptivity, jump_indicator(), *adaptive_triangulation);
          prepare_adaptation(*adaptive_triangulation);
          adaptive_triangulation->execute_coarsening_and_refinement();
          distribute_dofs();
          build_operators();
        }
  const double scale = project_initial_density(rho0);
  integrator->start(solution);
  ghosted_solution = solution;
  this->reset_clock();
  outflow = 0;
  return scale;
}

template <int dim>
double TransportSolver<dim>::project_initial_density(const Expression<dim> &rho0)
{
  // The L2 projection is local to each cell: rho_K = M_K^{-1} (rho0, phi), exact in mass.
  PETScWrappers::MPI::Vector rhs(locally_owned_dofs, mpi_communicator);
  const double total_mass = assemble_initial_load(rho0, dof_handler, mapping, quadrature, rhs);
  rhs /= total_mass;
  op->inverse_mass_matrix().vmult(solution, rhs);
  return 1.0 / total_mass;
}

template <int dim>
unsigned int TransportSolver<dim>::advance(const double dt)
{
  double             outflow_change = 0;
  const unsigned int iterations =
      integrator->step(solution, current_time, dt, this->bdf2_step(dt), outflow_change);
  outflow += outflow_change;
  this->complete_step(solution, dt, "check Physics/Velocity and the time step.");
  if (adaptive_triangulation != nullptr && this->step_number % adaptivity.interval == 0)
    adapt_after_step(adaptivity,
                     this->current_time,
                     *adaptive_triangulation,
                     [this](const bool mark) { adapt_mesh(mark); });
  return iterations;
}

template <int dim>
double TransportSolver<dim>::time_step() const
{
  if (!explicit_advection(scheme))
    return fixed_step;
  // Where b changes in time, the rate that limits the step is the largest over the
  // step, not the one at its start (which may be zero where b reverses): probe the
  // start, middle and end of a candidate step and shrink it until the rate over it
  // allows it.
  double dt = fixed_step;
  for (unsigned int iteration = 0; iteration < 10; ++iteration)
    {
      double rate = op->cfl_rate(current_time);
      if (physics.drift_depends_on_time())
        rate =
            std::max({rate, op->cfl_rate(current_time + dt / 2), op->cfl_rate(current_time + dt)});
      if (rate * dt <= cfl)
        return dt;
      dt = cfl / rate;
    }
  return dt;
}

template <int dim>
bool TransportSolver<dim>::adjustable_time_step() const
{
  return explicit_advection(scheme);
}

template <int dim>
DensityStatistics<dim> TransportSolver<dim>::statistics(const Expression<dim> *exact) const
{
  const double  eps = physics.diffusion();
  const double  t   = current_time;
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
  const Quadrature<dim> points(ZhangShuLimiter<dim>::points(fe, quadrature, face_quadrature));
  FEValues<dim>         point_values(mapping, fe, points, update_values);
  std::vector<double>   rho(quadrature.size()), rho_points(points.size());
  DensityIntegrals<dim> integrals;
  // Sums for F = int V rho + eps int rho log rho, and for KL(rho | exp(-V/eps)/Z).
  double potential_energy = 0, entropy = 0, z_local = 0,
         v_min = std::numeric_limits<double>::infinity();
  std::vector<double> V(quadrature.size());
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(ghosted_solution, rho);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const Point<dim> &x = fe_values.quadrature_point(q);
            integrals.add(x, rho[q], fe_values.JxW(q));
            if (exact != nullptr)
              integrals.add_exact(rho[q], exact->value(x, t), fe_values.JxW(q));
            V[q]  = physics.potential().value(x, t);
            v_min = std::min(v_min, V[q]);
            potential_energy += V[q] * rho[q] * fe_values.JxW(q);
            if (rho[q] > 0)
              entropy += rho[q] * std::log(rho[q]) * fe_values.JxW(q);
          }
        point_values.reinit(cell);
        point_values.get_function_values(ghosted_solution, rho_points);
        for (const double value : rho_points)
          integrals.add_to_minimum(value);
      }
  DensityStatistics<dim> result;
  integrals.finish(result, mpi_communicator);
  result.outflow_mass = outflow;
  if (adaptive_triangulation != nullptr)
    result.extra.push_back(static_cast<double>(this->mesh.triangulation().n_global_active_cells()));
  potential_energy   = Utilities::MPI::sum(potential_energy, mpi_communicator);
  entropy            = Utilities::MPI::sum(entropy, mpi_communicator);
  result.free_energy = potential_energy + eps * entropy;
  if (eps > 0)
    {
      // KL(rho | pi) = (F(rho) - mass * F_min) / eps with Z = int exp(-(V - V_min)/eps).
      v_min = Utilities::MPI::min(v_min, mpi_communicator);
      for (const auto &cell : dof_handler.active_cell_iterators())
        if (cell->is_locally_owned())
          {
            fe_values.reinit(cell);
            for (unsigned int q = 0; q < quadrature.size(); ++q)
              z_local +=
                  std::exp(-(physics.potential().value(fe_values.quadrature_point(q), t) - v_min) /
                           eps) *
                  fe_values.JxW(q);
          }
      const double Z = Utilities::MPI::sum(z_local, mpi_communicator);
      result.relative_entropy =
          (result.free_energy - result.mass * (v_min - eps * std::log(Z))) / eps;
    }
  return result;
}

template <int dim>
void TransportSolver<dim>::fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const
{
  this->attach_output(data_out,
                      std::make_unique<TransportPostprocessor<dim>>(physics, current_time, exact),
                      std::max(1u, fe.degree));
}

template <int dim>
std::vector<std::string> TransportSolver<dim>::extra_columns() const
{
  if (adaptive_triangulation != nullptr)
    return {"cells"};
  return {};
}

template <int dim>
std::string TransportSolver<dim>::description() const
{
  std::ostringstream out;
  out << "transport, discontinuous Galerkin Q" << fe.degree << ", upwind flux"
      << (physics.diffusion() > 0 ? " + interior penalty" : "") << ", " << to_string(scheme);
  if (explicit_advection(scheme))
    out << " (CFL " << cfl
        << (discretization.limiter && fe.degree > 0 ? ", Zhang-Shu limiter)" : ", no limiter)");
  out << "; " << dof_handler.n_dofs() << " DoFs";
  if (scheme != TimeScheme::ssp_rk3 && (scheme != TimeScheme::imex_ssp3 || physics.diffusion() > 0))
    out << "; " << integrator->description();
  out << (!physics.drift_depends_on_time() ? "; b constant in time: operator assembled once"
          : physics.drift_is_separable()   ? "; b = f(t) w(x): operator assembled once for w and -w"
                                           : "; b depends on t: operator assembled at every stage");
  return out.str();
}

template <int dim>
void TransportSolver<dim>::density_on_cell(const typename DoFHandler<dim>::active_cell_iterator &,
                                           const FEValues<dim> &fe_values,
                                           std::vector<double> &rho) const
{
  rho.resize(fe_values.n_quadrature_points);
  fe_values.get_function_values(ghosted_solution, rho);
}

template <int dim>
void TransportSolver<dim>::density_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                      const std::vector<Point<dim>> &points,
                                      std::vector<double>           &rho) const
{
  std::vector<Point<dim>> unit_points(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    unit_points[q] = mapping.transform_real_to_unit_cell(cell, points[q]);
  FEValues<dim> fe_values(mapping, fe, Quadrature<dim>(unit_points), update_values);
  fe_values.reinit(this->dof_cell(cell));
  rho.resize(points.size());
  fe_values.get_function_values(ghosted_solution, rho);
}

template <int dim>
void TransportSolver<dim>::velocity_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     *rho_wanted,
    std::vector<Tensor<1, dim>>                             &velocity) const
{
  std::vector<double>     rho_here;
  std::vector<double>    &rho = rho_wanted != nullptr ? *rho_wanted : rho_here;
  std::vector<Point<dim>> unit_points(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    unit_points[q] = mapping.transform_real_to_unit_cell(cell, points[q]);
  FEValues<dim> fe_values(
      mapping, fe, Quadrature<dim>(unit_points), update_values | update_gradients);
  fe_values.reinit(this->dof_cell(cell));
  rho.resize(points.size());
  std::vector<Tensor<1, dim>> gradients(points.size());
  fe_values.get_function_values(ghosted_solution, rho);
  fe_values.get_function_gradients(ghosted_solution, gradients);
  // As in the output's postprocessor.
  const double eps = physics.diffusion();
  velocity.resize(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    {
      velocity[q] = physics.drift(points[q], current_time);
      if (rho[q] > 0)
        velocity[q] -= eps * gradients[q] / rho[q];
    }
}

template class TransportSolver<1>;
template class TransportSolver<2>;
template class TransportSolver<3>;
} // namespace densityflow

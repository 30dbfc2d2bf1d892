#include <densityflow/base/exceptions.h>
#include <densityflow/base/mpi_gather.h>
#include <densityflow/solvers/interaction/interaction_solver.h>
#include <densityflow/solvers/interaction/target_measure.h>
#include <densityflow/solvers/transport/transport_operator.h>
#include <densityflow/solvers/transport/transport_output_fields.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace densityflow
{
namespace
{
/** @p time with auto resolved for the interaction model: ssp-rk3 for eps = 0, else imex-ssp3. */
TimeParameters interaction_time(const TimeParameters &time, const double eps)
{
  TimeParameters resolved = time;
  if (resolved.scheme == TimeScheme::automatic)
    resolved.scheme = eps > 0 ? TimeScheme::imex_ssp3 : TimeScheme::ssp_rk3;
  return resolved;
}

/** -eps grad rho / rho where rho > 0 (the diffusion's part of the velocity), else 0. */
template <int dim>
Tensor<1, dim> diffusion_velocity(const double eps, const double rho, const Tensor<1, dim> &grad)
{
  return eps > 0 && rho > 0 ? Tensor<1, dim>(-eps * grad / rho) : Tensor<1, dim>();
}

/** The interaction solver's output fields; its velocity is b - eps grad log rho (b where rho <= 0).
 */
template <int dim>
class InteractionPostprocessor : public TransportOutputFields<dim>
{
public:
  /** @p known: b at some points (sorted lexicographically), looked up before solver's. */
  InteractionPostprocessor(const InteractionSolver<dim>                      &solver,
                           const double                                       time,
                           const double                                       eps,
                           const Expression<dim>                             *exact,
                           std::vector<std::pair<Point<dim>, Tensor<1, dim>>> known = {})
      : TransportOutputFields<dim>(exact)
      , solver(solver)
      , time(time)
      , eps(eps)
      , known(std::move(known))
  {}

  void evaluate_scalar_field(const DataPostprocessorInputs::Scalar<dim> &inputs,
                             std::vector<Vector<double>>                &computed) const override
  {
    for (unsigned int q = 0; q < inputs.solution_values.size(); ++q)
      {
        const Point<dim> &x  = inputs.evaluation_points[q];
        const auto        at = std::lower_bound(
            known.begin(), known.end(), x, [](const auto &entry, const Point<dim> &p) {
              return lexicographic_less<dim>(entry.first, p);
            });
        const Tensor<1, dim> b =
            at != known.end() && at->first == x ? at->second : solver.velocity(x);
        const double rho = inputs.solution_values[q];
        this->fill(computed[q],
                   x,
                   time,
                   rho,
                   b,
                   eps > 0 ? b + diffusion_velocity(eps, rho, inputs.solution_gradients[q]) : b);
      }
  }

  UpdateFlags get_needed_update_flags() const override
  {
    return update_values | update_quadrature_points | (eps > 0 ? update_gradients : update_default);
  }

private:
  const InteractionSolver<dim>                            &solver;
  const double                                             time;
  const double                                             eps;
  const std::vector<std::pair<Point<dim>, Tensor<1, dim>>> known;
};

/** The number of samples in @p file (0 for none). */
template <int dim>
std::size_t sample_count(const std::string &file)
{
  std::vector<Point<dim>> points;
  std::vector<double>     weights;
  read_target_samples(file, points, weights);
  return points.size();
}

} // namespace

template <int dim>
InteractionSolver<dim>::InteractionSolver(const Mesh<dim>                &mesh,
                                          const Physics<dim>             &physics,
                                          const InteractionParameters    &interaction,
                                          const DiscretizationParameters &discretization,
                                          const TimeParameters           &time,
                                          const LinearSolverParameters   &linear_solver)
    : Base(
          mesh, physics, discretization, interaction_time(time, physics.diffusion()), linear_solver)
    , parameters(interaction)
    , has_target(!interaction.target.empty() || !interaction.target_samples.empty())
    , current(
          RadialKernel(interaction),
          resolve_summation(dim,
                            RadialKernel(interaction).riesz_exponent(),
                            interaction.summation,
                            mesh.triangulation().n_global_active_cells() * this->quadrature.size() +
                                sample_count<dim>(interaction.target_samples)),
          interaction.slicing)
    , stage(RadialKernel(interaction), current.summation(), interaction.slicing)
{
  if (this->scheme != TimeScheme::ssp_rk3 && this->scheme != TimeScheme::imex_ssp3)
    throw InputError("Time/Scheme = " + to_string(this->scheme) +
                     ": the interaction model steps with ssp-rk3 (Diffusion = 0) or imex-ssp3 "
                     "(its velocity is recomputed from every stage's density, explicitly); set "
                     "Time/Scheme = auto, ssp-rk3 or imex-ssp3.");
  set_target(interaction.target);
  read_target_samples(interaction.target_samples, sample_points, sample_weights);
  // The cell rule needs the atoms to be the cells' Gauss points only.
  if (dim == 1 && sample_points.empty())
    {
      std::vector<double> unit_points, unit_weights;
      for (unsigned int q = 0; q < quadrature.size(); ++q)
        unit_points.push_back(quadrature.point(q)[0]), unit_weights.push_back(quadrature.weight(q));
      current.set_cell_rule(unit_points, unit_weights);
      stage.set_cell_rule(unit_points, unit_weights);
    }
  if (current.summation() == InteractionSummation::sliced)
    {
      const std::vector<Point<dim>> points = stage_points();
      stage.share_orders_with(current);
      current.set_evaluation_points(points);
      stage.set_evaluation_points(points);
    }
  stage_ghosted.reinit(locally_owned_dofs, this->locally_relevant_dofs, mpi_communicator);
  this->op->set_stage_velocity(
      [this](const PETScWrappers::MPI::Vector &u, const double t) {
        stage_time = t;
        // A step's first explicit stage is the current density, whose field advance() and
        // set_initial_density() have just made: the same numbers, one evaluation less.
        if (&u == &this->solution && t == current_time)
          stage_field = &current;
        else
          {
            gather_atoms(u, stage);
            stage_field = &stage;
          }
      },
      [this](const Point<dim> &x) {
        return potential_drift(x, stage_time) + stage_field->velocity(x);
      });
}

template <int dim>
InteractionSolver<dim>::~InteractionSolver() = default;

template <int dim>
void InteractionSolver<dim>::set_target(const std::string &target)
{
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points | update_JxW_values);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          target_weights.push_back(0);
      }
  if (target.empty())
    return;
  const Expression<dim> nu(target, physics.constants(), "Interaction/Target/Density");
  if (nu.depends_on_time())
    throw InputError("Interaction/Target/Density = '" + target + "' must not depend on t.");
  std::size_t k      = 0;
  bool        failed = false;
  std::string message;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const double value = nu.value(fe_values.quadrature_point(q), 0);
            if (!(value >= 0) || !std::isfinite(value))
              {
                std::ostringstream out;
                out << "Interaction/Target/Density = '" << target << "' is " << value << " at "
                    << fe_values.quadrature_point(q) << ": it must be finite and >= 0.";
                failed  = true;
                message = out.str();
              }
            target_weights[k++] = value * fe_values.JxW(q);
          }
      }
  throw_if_any(failed, message, mpi_communicator);
  double local = 0;
  for (const double w : target_weights)
    local += w;
  const double mass = Utilities::MPI::sum(local, mpi_communicator);
  if (!(mass > 0))
    throw InputError("Interaction/Target/Density = '" + target + "' has no mass on the mesh.");
  for (double &w : target_weights)
    w /= mass;
}

template <int dim>
void InteractionSolver<dim>::gather_atoms(const PETScWrappers::MPI::Vector &u,
                                          InteractionField<dim>            &into) const
{
  stage_ghosted = u;
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
  std::vector<double> rho(quadrature.size()), positions, weights;
  std::size_t         k = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(stage_ghosted, rho);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            for (unsigned int d = 0; d < dim; ++d)
              positions.push_back(fe_values.quadrature_point(q)[d]);
            weights.push_back(rho[q] * fe_values.JxW(q) - target_weights[k++]);
          }
      }
  const std::vector<double> all_positions = all_gather_concatenated(positions, mpi_communicator);
  std::vector<double>       all_weights   = all_gather_concatenated(weights, mpi_communicator);
  std::vector<Point<dim>>   points(all_weights.size());
  for (std::size_t j = 0; j < points.size(); ++j)
    for (unsigned int d = 0; d < dim; ++d)
      points[j][d] = all_positions[j * dim + d];
  points.insert(points.end(), sample_points.begin(), sample_points.end());
  all_weights.insert(all_weights.end(), sample_weights.begin(), sample_weights.end());
  into.set_atoms(std::move(points), std::move(all_weights));
}

template <int dim>
std::vector<Point<dim>> InteractionSolver<dim>::stage_points() const
{
  // Both sides of every face: FEInterfaceValues may see a face from either cell, and the
  // two mappings of a face point may differ in the last bit.
  FEValues<dim>           fe_values(mapping, fe, quadrature, update_quadrature_points);
  FEFaceValues<dim>       fe_face(mapping, fe, this->face_quadrature, update_quadrature_points);
  std::vector<Point<dim>> points;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned() || cell->is_ghost())
      {
        if (cell->is_locally_owned())
          {
            fe_values.reinit(cell);
            const auto &q = fe_values.get_quadrature_points();
            points.insert(points.end(), q.begin(), q.end());
          }
        for (const unsigned int f : cell->face_indices())
          {
            fe_face.reinit(cell, f);
            const auto &q = fe_face.get_quadrature_points();
            points.insert(points.end(), q.begin(), q.end());
          }
      }
  return points;
}

template <int dim>
Tensor<1, dim> InteractionSolver<dim>::potential_drift(const Point<dim> &x, const double t) const
{
  if (physics.potential().is_constant_in_space())
    return Tensor<1, dim>();
  return -physics.potential().gradient(x, t);
}

template <int dim>
Tensor<1, dim> InteractionSolver<dim>::velocity(const Point<dim> &x) const
{
  return potential_drift(x, current_time) + current.velocity(x);
}

template <int dim>
double InteractionSolver<dim>::current_rate() const
{
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points);
  double        largest = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        const double h = cell->minimum_vertex_distance();
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const Tensor<1, dim> b  = velocity(fe_values.quadrature_point(q));
            double               l1 = 0;
            for (unsigned int d = 0; d < dim; ++d)
              l1 += std::abs(b[d]);
            largest = std::max(largest, l1 / h);
          }
      }
  return Utilities::MPI::max(largest, mpi_communicator);
}

template <int dim>
double InteractionSolver<dim>::set_initial_density(const Expression<dim> &rho0)
{
  const double factor = Base::set_initial_density(rho0);
  gather_atoms(this->solution, current);
  rate = current_rate();
  return factor;
}

template <int dim>
unsigned int InteractionSolver<dim>::advance(const double dt)
{
  const unsigned int iterations = Base::advance(dt);
  gather_atoms(this->solution, current);
  rate = current_rate();
  return iterations;
}

template <int dim>
void InteractionSolver<dim>::load_state(const CheckpointValues                 &values,
                                        const std::vector<std::vector<double>> &records)
{
  Base::load_state(values, records);
  gather_atoms(this->solution, current);
  rate = current_rate();
}

template <int dim>
double InteractionSolver<dim>::time_step() const
{
  // The velocity changes with the density; the step is the CFL step of the current one
  // (the limiter keeps rho >= 0 only if the stages' velocities do not grow past it: the
  // default CFL number is 0.9 of the largest).
  const double dt = this->fixed_step;
  return rate * dt <= this->cfl ? dt : this->cfl / rate;
}

template <int dim>
double InteractionSolver<dim>::energy() const
{
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
  std::vector<double> rho(quadrature.size());
  double              potential_energy = 0;
  if (!physics.potential().is_constant_in_space() ||
      physics.potential().value(Point<dim>(), 0) != 0)
    for (const auto &cell : dof_handler.active_cell_iterators())
      if (cell->is_locally_owned())
        {
          fe_values.reinit(cell);
          fe_values.get_function_values(ghosted_solution, rho);
          for (unsigned int q = 0; q < quadrature.size(); ++q)
            potential_energy +=
                physics.potential().value(fe_values.quadrature_point(q), current_time) * rho[q] *
                fe_values.JxW(q);
        }
  return Utilities::MPI::sum(potential_energy, mpi_communicator) + current.energy();
}

template <int dim>
double InteractionSolver<dim>::mmd_squared() const
{
  return has_target ? 2 * current.energy() : DensityStatistics<dim>::undefined;
}

template <int dim>
const InteractionField<dim> &InteractionSolver<dim>::field() const
{
  return current;
}

template <int dim>
DensityStatistics<dim> InteractionSolver<dim>::statistics(const Expression<dim> *exact) const
{
  DensityStatistics<dim> result = Base::statistics(exact);
  // The functional of the flow: int V rho + eps int rho log rho (the base's; rho log rho
  // counts 0 at Gauss points where rho_h <= 0) and the interaction.
  result.free_energy += current.energy();
  // The base's KL to exp(-V/eps)/Z is not this flow's stationary state.
  result.relative_entropy = DensityStatistics<dim>::undefined;
  if (has_target)
    result.extra = {mmd_squared()};
  return result;
}

template <int dim>
std::vector<std::string> InteractionSolver<dim>::extra_columns() const
{
  if (has_target)
    return {"mmd_squared"};
  return {};
}

template <int dim>
void InteractionSolver<dim>::velocity_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     *rho,
    std::vector<Tensor<1, dim>>                             &velocity_values) const
{
  const double eps = physics.diffusion();
  if (eps > 0)
    {
      // b - eps grad log rho, as the transport solver's (and the output's) velocity.
      Base::velocity_at(cell, points, rho, velocity_values);
      for (unsigned int q = 0; q < points.size(); ++q)
        velocity_values[q] += velocity(points[q]) - physics.drift(points[q], current_time);
      return;
    }
  if (rho != nullptr)
    this->density_at(cell, points, *rho);
  velocity_values.resize(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    velocity_values[q] = velocity(points[q]);
}

template <int dim>
void InteractionSolver<dim>::fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const
{
  const unsigned int subdivisions = std::max(1u, fe.degree);
  // Sliced: b at the output points in one batch (velocity(x) there would cost P binary
  // searches, or O(P N) without the kept projections), by the points DataOut maps.
  std::vector<std::pair<Point<dim>, Tensor<1, dim>>> known;
  if (current.summation() == InteractionSummation::sliced)
    {
      FEValues<dim> fe_values(
          mapping, fe, QIterated<dim>(QTrapezoid<1>(), subdivisions), update_quadrature_points);
      std::vector<Point<dim>> points;
      for (const auto &cell : dof_handler.active_cell_iterators())
        if (cell->is_locally_owned())
          {
            fe_values.reinit(cell);
            const auto &q = fe_values.get_quadrature_points();
            points.insert(points.end(), q.begin(), q.end());
          }
      std::vector<Tensor<1, dim>> v;
      current.velocities(points, v);
      for (std::size_t i = 0; i < points.size(); ++i)
        known.emplace_back(points[i], potential_drift(points[i], current_time) + v[i]);
      std::sort(known.begin(), known.end(), [](const auto &a, const auto &b) {
        return lexicographic_less<dim>(a.first, b.first);
      });
    }
  this->attach_output(data_out,
                      std::make_unique<InteractionPostprocessor<dim>>(
                          *this, current_time, physics.diffusion(), exact, std::move(known)),
                      subdivisions);
}

template <int dim>
std::string InteractionSolver<dim>::description() const
{
  std::ostringstream out;
  out << "interaction, " << RadialKernel(parameters).description()
      << (has_target ? ", target nu (MMD flow)" : ", no target (aggregation)") << ", velocity "
      << to_string(current.summation());
  if (current.summation() == InteractionSummation::sliced)
    out << " (" << parameters.slicing.directions << " directions in " << parameters.slicing.sets
        << " sets, seed " << parameters.slicing.seed << "; "
        << current.evaluation_misses() + stage.evaluation_misses()
        << " velocities off the stage points so far)";
  out << " over the quadrature atoms of rho_h - nu"
      << (sample_points.empty() ? ""
                                : " (nu: " + std::to_string(sample_points.size()) + " samples)")
      << ", "
      << "recomputed at every stage; discontinuous Galerkin Q" << fe.degree << ", upwind flux"
      << (physics.diffusion() > 0 ? " + interior penalty" : "") << ", " << to_string(this->scheme)
      << " (CFL " << this->cfl
      << (this->discretization.limiter && fe.degree > 0 ? ", Zhang-Shu limiter)" : ", no limiter)")
      << "; " << dof_handler.n_dofs() << " DoFs, "
      << dof_handler.get_triangulation().n_global_active_cells() * quadrature.size() +
             sample_points.size()
      << " atoms";
  return out.str();
}

template class InteractionSolver<1>;
template class InteractionSolver<2>;
template class InteractionSolver<3>;
} // namespace densityflow

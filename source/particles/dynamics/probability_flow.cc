#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/dynamics/probability_flow.h>
#include <densityflow/particles/particle_store.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/interface.h>

namespace densityflow
{
namespace
{
/** The state of a particle: the position and the velocity at the start of the step. */
template <int dim>
Point<dim> start_position(const double *state)
{
  Point<dim> p;
  for (unsigned int d = 0; d < dim; ++d)
    p[d] = state[d];
  return p;
}

template <int dim>
Tensor<1, dim> start_velocity(const double *state)
{
  Tensor<1, dim> v;
  for (unsigned int d = 0; d < dim; ++d)
    v[d] = state[dim + d];
  return v;
}

/**
 * Calls @p f(cell, points, first) for each run of particles in one cell: they come
 * grouped by cell (PointLocator), so a cell's particles are evaluated at once.
 */
template <int dim, typename F>
void for_each_cell(const ParticleStore<dim> &particles, const F &f)
{
  const std::vector<Point<dim>>                                        &x = particles.positions();
  const std::vector<typename Triangulation<dim>::active_cell_iterator> &cells = particles.cells();
  std::size_t                                                           k     = 0;
  while (k < x.size())
    {
      std::size_t end = k + 1;
      while (end < x.size() && cells[end] == cells[k])
        ++end;
      f(cells[k], std::vector<Point<dim>>(x.begin() + k, x.begin() + end), k);
      k = end;
    }
}
} // namespace

template <int dim>
ProbabilityFlowDynamics<dim>::ProbabilityFlowDynamics(const Mesh<dim>    &mesh,
                                                      const Physics<dim> &physics)
    : mesh(mesh)
    , along_path(physics.model() == Model::path)
    , periodic(mesh.is_periodic())
    , box(mesh.is_box())
{
  if (physics.model() != Model::fokker_planck && !along_path)
    throw InputError(
        "Particles/Dynamics = probability-flow follows the Fokker-Planck solution; with the "
        "transport model use flow-map (eps = 0) or langevin.");
}

template <int dim>
ParticleDynamics ProbabilityFlowDynamics<dim>::kind() const
{
  return along_path ? ParticleDynamics::flow_map : ParticleDynamics::probability_flow;
}

template <int dim>
bool ProbabilityFlowDynamics<dim>::carries_log_density() const
{
  return along_path;
}

template <int dim>
bool ProbabilityFlowDynamics<dim>::needs_cells() const
{
  return true;
}

template <int dim>
unsigned int ProbabilityFlowDynamics<dim>::state_size() const
{
  return along_path ? 2 * dim + 1 : 2 * dim;
}

template <int dim>
void ProbabilityFlowDynamics<dim>::reflect(Point<dim> &p) const
{
  if (periodic)
    fold_into_box(mesh.bounding_box(), mesh.periodic_directions(), p);
  else if (box)
    reflect_into_box(mesh.bounding_box(), p);
}

template <int dim>
void ProbabilityFlowDynamics<dim>::prepare_step(ParticleStore<dim>       &particles,
                                                const DensitySolver<dim> *solver)
{
  const std::vector<Tensor<1, dim>> v = velocities(particles, 0, solver);
  const std::vector<double>         div =
      along_path ? divergences(particles, solver) : std::vector<double>();
  for (std::size_t k = 0; k < particles.size(); ++k)
    {
      double *state = particles.state(k);
      for (unsigned int d = 0; d < dim; ++d)
        {
          state[d]       = particles.positions()[k][d];
          state[dim + d] = v[k][d];
        }
      if (along_path)
        state[2 * dim] = div[k];
    }
}

template <int dim>
void ProbabilityFlowDynamics<dim>::step(ParticleStore<dim>      &particles,
                                        const ParticleStep<dim> &step)
{
  const double dt = step.dt;
  // Heun: predictor with the velocity at t (prepare_step), corrector with the one at
  // the predicted point and t + dt (the solver has stepped there).
  for (std::size_t k = 0; k < particles.size(); ++k)
    {
      const double *state      = particles.state(k);
      particles.positions()[k] = start_position<dim>(state) + dt * start_velocity<dim>(state);
      reflect(particles.positions()[k]);
    }
  step.relocate();
  const std::vector<Tensor<1, dim>> v = velocities(particles, step.time + dt, step.solver);
  const std::vector<double>         div =
      along_path ? divergences(particles, step.solver) : std::vector<double>();
  for (std::size_t k = 0; k < particles.size(); ++k)
    {
      const double *state = particles.state(k);
      particles.positions()[k] =
          start_position<dim>(state) + dt / 2 * (start_velocity<dim>(state) + v[k]);
      reflect(particles.positions()[k]);
      if (along_path)
        particles.log_densities()[k] -= dt / 2 * (state[2 * dim] + div[k]);
    }
}

template <int dim>
std::vector<double>
ProbabilityFlowDynamics<dim>::divergences(const ParticleStore<dim> &particles,
                                          const DensitySolver<dim> *solver) const
{
  AssertThrow(solver != nullptr && solver->has_velocity_divergence(),
              ExcMessage("Particles that carry log-density need div v from the solver."));
  std::vector<double> divergence(particles.size());
  for_each_cell(particles, [&](const auto &cell, const auto &points, const std::size_t first) {
    std::vector<double> div;
    solver->velocity_divergence_at(cell, points, div);
    std::copy(div.begin(), div.end(), divergence.begin() + first);
  });
  return divergence;
}

template <int dim>
std::vector<Tensor<1, dim>> ProbabilityFlowDynamics<dim>::velocities(
    const ParticleStore<dim> &particles, const double, const DensitySolver<dim> *solver) const
{
  AssertThrow(solver != nullptr, ExcMessage("The probability flow needs the density solver."));
  std::vector<Tensor<1, dim>> velocity(particles.size());
  for_each_cell(particles, [&](const auto &cell, const auto &points, const std::size_t first) {
    std::vector<Tensor<1, dim>> v;
    solver->velocity_at(cell, points, nullptr, v);
    std::copy(v.begin(), v.end(), velocity.begin() + first);
  });
  return velocity;
}

template class ProbabilityFlowDynamics<1>;
template class ProbabilityFlowDynamics<2>;
template class ProbabilityFlowDynamics<3>;
} // namespace densityflow

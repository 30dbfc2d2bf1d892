#include <densityflow/base/exceptions.h>
#include <densityflow/base/mpi_gather.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/dynamics/interacting.h>
#include <densityflow/particles/particle_store.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/interaction/interaction_field.h>
#include <densityflow/solvers/interaction/interaction_kernel.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>
#include <densityflow/solvers/interaction/target_measure.h>

#include <cmath>

namespace densityflow
{
template <int dim>
InteractingDynamics<dim>::InteractingDynamics(const Mesh<dim>             &mesh,
                                              const Physics<dim>          &physics,
                                              const InteractionParameters &interaction,
                                              const ParticleRandom        &random)
    : physics(physics)
    , communicator(mesh.communicator())
    , random(random)
    , interaction(std::make_unique<InteractionParameters>(interaction))
    , target(std::make_unique<TargetMeasure<dim>>(mesh, physics, interaction))
{}

template <int dim>
InteractingDynamics<dim>::~InteractingDynamics() = default;

template <int dim>
ParticleDynamics InteractingDynamics<dim>::kind() const
{
  return ParticleDynamics::interacting;
}

template <int dim>
bool InteractingDynamics<dim>::leaves_through_walls() const
{
  return true;
}

template <int dim>
std::vector<Tensor<1, dim>>
InteractingDynamics<dim>::velocities_at(const std::vector<Point<dim>> &x, const double time) const
{
  // Every rank sums over all particles; the field sorts them, so the order they arrive in
  // (hence the number of ranks) does not matter.
  std::vector<double> local(dim * x.size());
  for (std::size_t k = 0; k < x.size(); ++k)
    for (unsigned int d = 0; d < dim; ++d)
      local[dim * k + d] = x[k][d];
  const std::vector<double> coordinates = all_gather_concatenated(local, communicator);
  std::vector<Point<dim>>   all(coordinates.size() / dim);
  for (std::size_t k = 0; k < all.size(); ++k)
    for (unsigned int d = 0; d < dim; ++d)
      all[k][d] = coordinates[dim * k + d];
  if (particle_weight == 0 && !all.empty())
    particle_weight = 1.0 / all.size();
  std::vector<double> weights(all.size(), particle_weight);
  // The target as atoms beside the particles', unless its CDF gives its part exactly.
  all.insert(all.end(), target->points().begin(), target->points().end());
  weights.insert(weights.end(), target->weights().begin(), target->weights().end());
  if (!field) // the summation depends on the number of atoms (automatic: sliced if many)
    {
      const RadialKernel kernel(*interaction);
      field = std::make_unique<InteractionField<dim>>(
          kernel,
          resolve_summation(dim, kernel.riesz_exponent(), interaction->summation, all.size()),
          interaction->slicing);
    }
  field->set_atoms(std::move(all), std::move(weights));

  std::vector<Tensor<1, dim>> v;
  field->velocities(x, v, nullptr);
  const bool potential = !physics.potential().is_constant_in_space();
  for (std::size_t k = 0; k < x.size(); ++k)
    {
      if (target->has_cdf())
        v[k] += target->cdf_velocity(x[k]);
      if (potential)
        v[k] -= physics.potential().gradient(x[k], time);
    }
  return v;
}

template <int dim>
void InteractingDynamics<dim>::step(ParticleStore<dim> &particles, const ParticleStep<dim> &step)
{
  // SSP-RK3 (Shu-Osher) with the interaction of each stage's positions.
  std::vector<Point<dim>>      &x  = particles.positions();
  const double                  t  = step.time;
  const double                  dt = step.dt;
  const std::vector<Point<dim>> x0 = x;
  std::vector<Tensor<1, dim>>   v  = velocities_at(x0, t);
  std::vector<Point<dim>>       x1(x.size()), x2(x.size());
  for (std::size_t k = 0; k < x.size(); ++k)
    x1[k] = x0[k] + dt * v[k];
  v = velocities_at(x1, t + dt);
  for (std::size_t k = 0; k < x.size(); ++k)
    x2[k] = Point<dim>(0.75 * x0[k] + 0.25 * (x1[k] + dt * v[k]));
  v = velocities_at(x2, t + dt / 2);
  for (std::size_t k = 0; k < x.size(); ++k)
    x[k] = Point<dim>(x0[k] / 3 + 2.0 / 3 * (x2[k] + dt * v[k]));
  // eps > 0: the drift's SSP-RK3 step, then the noise of the step (Lie splitting: weak
  // order 1, as Euler-Maruyama), from the particle's own stream, as Langevin's.
  const double eps = physics.diffusion();
  if (eps > 0)
    {
      const double        noise = std::sqrt(2 * eps * dt);
      std::vector<double> z(x.size() * dim);
      random.normals(particles.ids().data(), x.size(), step.number, 0, dim, z.data());
      for (std::size_t k = 0; k < x.size(); ++k)
        for (unsigned int d = 0; d < dim; ++d)
          x[k][d] += noise * z[k * dim + d];
    }
}

template <int dim>
std::vector<Tensor<1, dim>> InteractingDynamics<dim>::velocities(
    const ParticleStore<dim> &particles, const double time, const DensitySolver<dim> *) const
{
  return velocities_at(particles.positions(), time);
}

template class InteractingDynamics<1>;
template class InteractingDynamics<2>;
template class InteractingDynamics<3>;
} // namespace densityflow

#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/particles/dynamics/flow_map.h>
#include <densityflow/particles/dynamics/interacting.h>
#include <densityflow/particles/dynamics/interface.h>
#include <densityflow/particles/dynamics/langevin.h>
#include <densityflow/particles/dynamics/mala.h>
#include <densityflow/particles/dynamics/probability_flow.h>
#include <densityflow/physics/physics.h>

namespace densityflow
{
template <int dim>
void ParticleDynamicsModel<dim>::prepare_step(ParticleStore<dim> &, const DensitySolver<dim> *)
{}

template <int dim>
double ParticleDynamicsModel<dim>::acceptance_rate(const MPI_Comm) const
{
  return std::numeric_limits<double>::quiet_NaN();
}

template <int dim>
std::unique_ptr<ParticleDynamicsModel<dim>>
create_particle_dynamics(const ParticleDynamics       dynamics,
                         const Mesh<dim>             &mesh,
                         const Physics<dim>          &physics,
                         const ParticleRandom        &random,
                         const InteractionParameters *interaction,
                         const AbsorbingWalls<dim>   *walls)
{
  const bool absorbing = walls != nullptr && !walls->empty();
  if (absorbing && dynamics != ParticleDynamics::langevin)
    throw InputError("Particles/Dynamics = " + to_string(dynamics) +
                     " does not know absorbing walls (" + walls->description() +
                     "): use langevin.");
  if (physics.model() == Model::path)
    {
      if (dynamics != ParticleDynamics::flow_map)
        throw InputError("Particles/Dynamics = " + to_string(dynamics) +
                         " does not follow a density path (Physics/Model = path): use "
                         "flow-map, which moves along the path's velocity.");
      return std::make_unique<ProbabilityFlowDynamics<dim>>(mesh, physics);
    }
  if (physics.model() == Model::interaction)
    {
      if (dynamics != ParticleDynamics::interacting)
        throw InputError("Particles/Dynamics = " + to_string(dynamics) +
                         " does not follow an interaction flow (Physics/Model = interaction): "
                         "use interacting.");
      AssertThrow(interaction != nullptr, ExcInternalError());
      return std::make_unique<InteractingDynamics<dim>>(mesh, physics, *interaction, random);
    }
  switch (dynamics)
    {
      case ParticleDynamics::flow_map:
        return std::make_unique<FlowMapDynamics<dim>>(physics);
      case ParticleDynamics::langevin:
        return std::make_unique<LangevinDynamics<dim>>(
            mesh, physics, random, absorbing ? walls : nullptr);
      case ParticleDynamics::mala:
        return std::make_unique<MalaDynamics<dim>>(mesh, physics, random);
      case ParticleDynamics::probability_flow:
        return std::make_unique<ProbabilityFlowDynamics<dim>>(mesh, physics);
      case ParticleDynamics::interacting:
        throw InputError("Particles/Dynamics = interacting follows an interaction flow only: "
                         "set Physics/Model = interaction.");
    }
  AssertThrow(false, ExcInternalError());
  return nullptr;
}

template <int dim>
std::vector<Tensor<1, dim>> drift_velocities(const Physics<dim>            &physics,
                                             const std::vector<Point<dim>> &positions,
                                             const double                   time)
{
  std::vector<Tensor<1, dim>> v(positions.size());
  for (std::size_t k = 0; k < positions.size(); ++k)
    v[k] = physics.drift(positions[k], time);
  return v;
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template class ParticleDynamicsModel<dim>;                                                       \
  template std::unique_ptr<ParticleDynamicsModel<dim>> create_particle_dynamics(                   \
      const ParticleDynamics,                                                                      \
      const Mesh<dim> &,                                                                           \
      const Physics<dim> &,                                                                        \
      const ParticleRandom &,                                                                      \
      const InteractionParameters *,                                                               \
      const AbsorbingWalls<dim> *);                                                                \
  template std::vector<Tensor<1, dim>> drift_velocities(                                           \
      const Physics<dim> &, const std::vector<Point<dim>> &, const double);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow

#pragma once

#include <densityflow/particles/dynamics/interface.h>

namespace densityflow
{
/**
 * The flow map dX/dt = b(X, t) by RK4, with d log rho / dt = -div b along the
 * characteristic: each particle carries the density of the continuity equation
 * (without diffusion). A particle that leaves the domain has left through it.
 */
template <int dim>
class FlowMapDynamics : public ParticleDynamicsModel<dim>
{
public:
  explicit FlowMapDynamics(const Physics<dim> &physics);

  ParticleDynamics kind() const override;
  bool             carries_log_density() const override;
  bool             leaves_through_walls() const override;
  void             step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) override;
  std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                         const double              time,
                                         const DensitySolver<dim> *solver) const override;

private:
  const Physics<dim> &physics;
};
} // namespace densityflow

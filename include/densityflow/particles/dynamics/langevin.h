#pragma once

#include <densityflow/base/random.h>
#include <densityflow/particles/dynamics/interface.h>

namespace densityflow
{
/**
 * Overdamped Langevin dX = b dt + sqrt(2 eps) dW by Euler-Maruyama, with the normal
 * numbers of (particle id, step). With the Fokker-Planck model a box's walls mirror
 * the particles.
 */
template <int dim>
class LangevinDynamics : public ParticleDynamicsModel<dim>
{
public:
  LangevinDynamics(const Mesh<dim>      &mesh,
                   const Physics<dim>   &physics,
                   const ParticleRandom &random);

  ParticleDynamics kind() const override;
  void             step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) override;
  std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                         const double              time,
                                         const DensitySolver<dim> *solver) const override;

private:
  const Mesh<dim>     &mesh;
  const Physics<dim>  &physics;
  const ParticleRandom random;
};
} // namespace densityflow

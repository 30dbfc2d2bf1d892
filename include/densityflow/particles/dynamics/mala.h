#pragma once

#include <densityflow/base/random.h>
#include <densityflow/particles/dynamics/interface.h>

namespace densityflow
{
/**
 * The Metropolis-adjusted Langevin algorithm towards pi = exp(-V/eps)/Z: Langevin
 * proposals y = x - dt grad V(x) + sqrt(2 eps dt) z, accepted with probability
 * min(1, pi(y) q(x | y) / (pi(x) q(y | x))). Proposals outside a box are rejected
 * (pi = 0 there). Needs the Fokker-Planck model with eps > 0.
 */
template <int dim>
class MalaDynamics : public ParticleDynamicsModel<dim>
{
public:
  MalaDynamics(const Mesh<dim> &mesh, const Physics<dim> &physics, const ParticleRandom &random);

  ParticleDynamics kind() const override;
  void             step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) override;
  std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                         const double              time,
                                         const DensitySolver<dim> *solver) const override;
  double                      acceptance_rate(const MPI_Comm communicator) const override;

private:
  const Mesh<dim>     &mesh;
  const Physics<dim>  &physics;
  const ParticleRandom random;
  std::uint64_t        proposed = 0, accepted = 0;
};
} // namespace densityflow

#pragma once

#include <densityflow/particles/dynamics/interface.h>

namespace densityflow
{
/**
 * The probability-flow ODE dX/dt = -grad V - eps grad log rho_h(X, t) of the
 * finite-element solution (DensitySolver::velocity_at), by Heun's method: predictor
 * with the velocity at t, corrector with the one at the predicted point and t + dt.
 * It steps with the PDE, on located particles; a box's walls mirror the particles.
 * Needs the Fokker-Planck model.
 */
template <int dim>
class ProbabilityFlowDynamics : public ParticleDynamicsModel<dim>
{
public:
  ProbabilityFlowDynamics(const Mesh<dim> &mesh, const Physics<dim> &physics);

  ParticleDynamics kind() const override;
  bool             needs_cells() const override;
  /** The position and the velocity at the start of the step. */
  unsigned int state_size() const override;
  void prepare_step(ParticleStore<dim> &particles, const DensitySolver<dim> *solver) override;
  void step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) override;
  std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                         const double              time,
                                         const DensitySolver<dim> *solver) const override;

private:
  /** Mirrors @p p into the domain if it is a box (elsewhere a particle that left is lost). */
  void reflect(Point<dim> &p) const;

  const Mesh<dim> &mesh;
};
} // namespace densityflow

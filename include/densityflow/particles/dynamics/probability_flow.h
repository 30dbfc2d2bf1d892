#pragma once

#include <densityflow/particles/dynamics/interface.h>

namespace densityflow
{
/**
 * Particles along the velocity the density solver computes for its own density
 * (DensitySolver::velocity_at):
 * - Fokker-Planck (Particles/Dynamics = probability-flow): the probability-flow ODE
 *   dX/dt = -grad V - eps grad log rho_h(X, t);
 * - path (Particles/Dynamics = flow-map): dX/dt = v_h = grad phi_h, the velocity of
 *   least kinetic energy of the path; the particles also carry log rho by
 *   d log rho/dt = -div v_h (DensitySolver::velocity_divergence_at, the Laplacian of
 *   phi_h: ProblemParameters asks for Degree >= 2), by the trapezoidal rule along the
 *   same two points.
 * Heun's method: predictor with the velocity at t, corrector with the one at the
 * predicted point and t + dt. It steps with the PDE, on located particles; a box's walls
 * mirror the particles.
 */
template <int dim>
class ProbabilityFlowDynamics : public ParticleDynamicsModel<dim>
{
public:
  /** InputError unless @p physics is the Fokker-Planck or the path model. */
  ProbabilityFlowDynamics(const Mesh<dim> &mesh, const Physics<dim> &physics);

  /** probability-flow, or flow-map along a path. */
  ParticleDynamics kind() const override;
  bool             needs_cells() const override;
  /** Along a path. */
  bool carries_log_density() const override;
  /** The position and the velocity at the start of the step (and div v along a path). */
  unsigned int state_size() const override;
  void prepare_step(ParticleStore<dim> &particles, const DensitySolver<dim> *solver) override;
  void step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) override;
  std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                         const double              time,
                                         const DensitySolver<dim> *solver) const override;

private:
  /** Mirrors @p p into the domain if it is a box (elsewhere a particle that left is lost). */
  void reflect(Point<dim> &p) const;

  /** div v_h at the located particles (along a path). */
  std::vector<double> divergences(const ParticleStore<dim> &particles,
                                  const DensitySolver<dim> *solver) const;

  const Mesh<dim> &mesh;
  /** Physics/Model = path. */
  const bool along_path;
  /** The mesh's walls, read once: reflect() is called for every particle. */
  const bool periodic;
  const bool box;
};
} // namespace densityflow

#pragma once

#include <densityflow/base/random.h>
#include <densityflow/particles/dynamics/interface.h>

#include <memory>
#include <vector>

namespace densityflow
{
struct InteractionParameters;
template <int dim>
class InteractionField;
template <int dim>
class TargetMeasure;

/**
 * Interacting particles (Particles/Dynamics = interacting): the particle system of the
 * interaction model's energy E = int V rho + 1/2 int int W d(rho - nu) d(rho - nu), with
 * rho the empirical measure mu_N = (1/N) sum_j delta_{X_j} of the N particles sampled:
 *
 *     dX_i/dt = -grad V(X_i, t) - grad(W * (mu_N - nu))(X_i),
 *
 * a particle's own atom counting 0. Steps are SSP-RK3 with the interaction recomputed at
 * every stage from all particles (gathered on every rank; the sums run over the atoms in
 * sorted order, so the ensemble does not depend on the number of ranks). The sums are
 * InteractionField's over the particles and the target's atoms, in one batch: exact by
 * sorting in 1D for the Riesz kernel with r = 1, sliced or direct in 2D/3D as the
 * Interaction subsection says (resolve_summation() for all the atoms). In 1D with r = 1 the
 * target's part is its exact CDF (TargetMeasure). A particle that leaves the
 * domain is outflow, as the density's upwind boundary lets it out.
 */
template <int dim>
class InteractingDynamics : public ParticleDynamicsModel<dim>
{
public:
  InteractingDynamics(const Mesh<dim>             &mesh,
                      const Physics<dim>          &physics,
                      const InteractionParameters &interaction,
                      const ParticleRandom        &random);
  ~InteractingDynamics() override;

  ParticleDynamics kind() const override;
  bool             leaves_through_walls() const override;
  void             step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) override;
  std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                         const double              time,
                                         const DensitySolver<dim> *solver) const override;

private:
  /** The velocities at @p x (this rank's particles) of all particles at @p x (collective). */
  std::vector<Tensor<1, dim>> velocities_at(const std::vector<Point<dim>> &x,
                                            const double                   time) const;

  const Physics<dim> &physics;
  const MPI_Comm      communicator;
  /** The noise sqrt(2 eps dt) N(0, I) of eps > 0, from each particle's counter-based stream. */
  const ParticleRandom random;
  /** The kernel, the target and how sums are taken (a copy). */
  const std::unique_ptr<const InteractionParameters> interaction;
  /** Made at the first evaluation, when the number of atoms is known. */
  mutable std::unique_ptr<InteractionField<dim>> field;
  std::unique_ptr<TargetMeasure<dim>>            target;
  /** 1 / N of the particles sampled (set at the first evaluation, before any has left). */
  mutable double particle_weight = 0;
};
} // namespace densityflow

#pragma once

#include <densityflow/base/random.h>
#include <densityflow/particles/dynamics/interface.h>

namespace densityflow
{
/**
 * Overdamped Langevin dX = b dt + sqrt(2 eps) dW by Euler-Maruyama, with the normal
 * numbers of (particle id, step). With the Fokker-Planck model a box's walls mirror
 * the particles, except absorbing walls and windows (Mesh/Absorbing walls, windows), where
 * a particle is absorbed (and removed as outflow) when its step ends beyond one or, with
 * the Brownian bridge's probability exp(-2 a b / (2 eps dt)), when the path between its two
 * positions touched it (a uniform number of stream 1 of (id, step) decides; the other three
 * sample the exit time within the step from the bridge): without the bridge the survival
 * would be O(sqrt(dt)) too high. AbsorbingWalls::hit() says where a window counts.
 */
template <int dim>
class LangevinDynamics : public ParticleDynamicsModel<dim>
{
public:
  /** @param walls absorbing walls (copied; null: none). */
  LangevinDynamics(const Mesh<dim>           &mesh,
                   const Physics<dim>        &physics,
                   const ParticleRandom      &random,
                   const AbsorbingWalls<dim> *walls = nullptr);
  ~LangevinDynamics() override;

  ParticleDynamics kind() const override;
  /** With absorbing walls: absorbed particles have left. */
  bool leaves_through_walls() const override;
  void step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) override;
  std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                         const double              time,
                                         const DensitySolver<dim> *solver) const override;

private:
  const Mesh<dim>                           &mesh;
  const Physics<dim>                        &physics;
  const ParticleRandom                       random;
  std::unique_ptr<const AbsorbingWalls<dim>> walls;
};
} // namespace densityflow

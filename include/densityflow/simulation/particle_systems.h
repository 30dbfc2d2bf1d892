#pragma once

#include <densityflow/particles/particle_ensemble.h>

#include <deal.II/base/conditional_ostream.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace densityflow
{
using namespace dealii;

class TimeSchedule;
struct InteractionParameters;
template <int dim>
class AbsorbingWalls;

/**
 * The particle systems of a run (one per entry of Particles/Dynamics, all sampled from
 * rho0) and when each of them steps: with the PDE, or once every m PDE steps where
 * Particles/Time step is m PDE steps. The probability flow always steps with the PDE,
 * as it evaluates rho_h, which exists at the PDE's times only.
 */
template <int dim>
class ParticleSystems
{
public:
  /**
   * Samples every system from @p rho0 (none where Particles/Number = 0). Collective.
   * @p interaction: the kernel and target of Physics/Model = interaction, else null;
   * @p walls: the absorbing walls (null: none).
   */
  ParticleSystems(const ParticleParameters    &parameters,
                  const Mesh<dim>             &mesh,
                  const Physics<dim>          &physics,
                  const Expression<dim>       &rho0,
                  const InteractionParameters *interaction = nullptr,
                  const AbsorbingWalls<dim>   *walls       = nullptr);

  /**
   * Fixes each system's step from Particles/Time step and the PDE's step @p pde_step
   * (@p variable: CFL-limited), and says it in @p log. InputError where a particle step
   * is larger than the PDE's but not a whole number of its fixed steps, or where
   * particle output times of @p schedule fall between two particle steps.
   */
  void set_up_steps(const double        pde_step,
                    const bool          variable,
                    const TimeSchedule &schedule,
                    ConditionalOStream &log);

  bool empty() const;

  /** Before the PDE steps from t: what the systems stepping with it need at t. */
  void prepare_step(const DensitySolver<dim> &solver);

  /** After the PDE has stepped by @p dt: the systems due for a step take it. */
  void advance(const double dt, const DensitySolver<dim> &solver);

  /** One progress line per system (N, mean, particles lost, MALA acceptance). Collective. */
  void print_progress(ConditionalOStream &log) const;

  /** For a checkpoint: per system, the PDE steps it has yet to follow and their time. */
  std::vector<double> pending() const;
  /** Restores pending(). */
  void restore_pending(const std::vector<double> &pending);

  const std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &systems() const;
  std::vector<std::unique_ptr<ParticleEnsemble<dim>>>       &systems();

  /**
   * Weighs the cells of @p mesh by their particles when p4est repartitions it after an
   * adaptation (Mesh/Adaptivity/Particle weight = @p weight): 1 per cell plus @p weight per
   * particle located in it at the start of the adaptation (the systems that live in cells;
   * a refined cell's particles are shared by its children, a coarsened family's summed).
   * Only where the mesh is p4est's and @p weight > 0; the particles themselves do not depend
   * on the partition.
   */
  void weigh_cells(const Mesh<dim> &mesh, const double weight);

  ~ParticleSystems();

private:
  /** Particles located in each cell, by (level, index), at the start of an adaptation. */
  void count_particles_in_cells();

  ParticleParameters                                  parameters;
  std::vector<std::unique_ptr<ParticleEnsemble<dim>>> ensembles;
  /** PDE steps per particle step, per system. */
  std::vector<unsigned int> stride;
  /** The PDE steps each system has yet to follow, and their time. */
  std::vector<unsigned int>                   pending_steps;
  std::vector<double>                         pending_time;
  std::map<std::pair<int, int>, unsigned int> particles_in_cell;
  std::vector<boost::signals2::connection>    weight_connections;
};
} // namespace densityflow

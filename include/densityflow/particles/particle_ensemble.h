#pragma once

#include <densityflow/base/expression.h>
#include <densityflow/base/random.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/dynamics/interface.h>
#include <densityflow/particles/particle_parameters.h>
#include <densityflow/particles/particle_store.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/symmetric_tensor.h>
#include <deal.II/base/tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace densityflow
{
using namespace dealii;

struct InteractionParameters;
template <int dim>
class AbsorbingWalls;
template <int dim>
class ParticleDynamicsModel;
class MeshChangeListener;

/** The empirical mean and covariance of an ensemble. */
template <int dim>
struct ParticleMoments
{
  std::uint64_t           n = 0;
  Tensor<1, dim>          mean;
  SymmetricTensor<2, dim> covariance;
};

/**
 * One particle system on the distributed mesh: N particles with stable global ids,
 * sampled from rho0 reproducibly (the same particles on any number of ranks) and
 * moved by one of the ParticleDynamics (a ParticleDynamicsModel), on the same mesh and
 * with the same V, b and eps as the Eulerian solver.
 *
 * Particles live on each rank in plain arrays (a ParticleStore), where the dynamics
 * with analytic drifts move them fast; they are located in cells (and handed to the
 * ranks that own those cells) only when a step needs it: for finite-element fields
 * (probability flow), for walls that are not planes, for output and comparisons.
 * Random numbers are drawn per (seed, id, step), so a particle's path does not depend
 * on where it lives.
 *
 * Walls: with the Fokker-Planck model, Langevin particles are reflected at the walls
 * (mirrored on a box; on other domains a move that leaves the domain is undone, a
 * first-order treatment); MALA rejects proposals outside the domain. With the
 * transport model, and for flow maps, particles that leave the domain have left
 * through an outflow boundary: they are removed and counted (n_lost()).
 *
 * Adaptive meshes: when the mesh changes (MeshChangeListener), the particles forget their
 * cells and are located again, without hints, where cells are next needed (for the
 * probability flow within the same step); nothing else about them changes.
 */
template <int dim>
class ParticleEnsemble
{
public:
  /** @param system the index of this system in Particles/Dynamics (part of the ids). */
  /**
   * @p interaction: the kernel and target of Physics/Model = interaction, else null;
   * @p walls: the absorbing walls (null: none).
   */
  ParticleEnsemble(const ParticleDynamics       dynamics,
                   const unsigned int           system,
                   const ParticleParameters    &parameters,
                   const Mesh<dim>             &mesh,
                   const Physics<dim>          &physics,
                   const InteractionParameters *interaction = nullptr,
                   const AbsorbingWalls<dim>   *walls       = nullptr);
  ~ParticleEnsemble();

  ParticleDynamics dynamics() const;
  unsigned int     system() const;

  /** Draws N i.i.d. particles from @p rho0 (collective). */
  void sample(const Expression<dim> &rho0);

  /**
   * Before the PDE steps from t to t + dt: what the probability flow needs at t. The
   * solver is used by the probability flow only (and may be null for the others).
   */
  void prepare_step(const DensitySolver<dim> *solver);

  /** Moves the particles from time t to t + dt (after the PDE has stepped there). */
  void advance(const double dt, const DensitySolver<dim> *solver);

  /**
   * Puts every particle into its cell on the rank that owns it (collective). Returns
   * the indices (in this rank's arrays before the call) of the particles that are in
   * no cell: they are gone, and counted in n_lost().
   */
  std::vector<std::size_t> locate();

  /**
   * Spreads the particles evenly over the ranks by id (rank r holds ids r N/P to
   * (r + 1) N/P), for dynamics that need no cells: the cells' owners would leave the
   * work where the density is. Collective; a no-op for the probability flow and on
   * domains that are not boxes (both locate the particles at every step anyway).
   */
  void balance();

  /**
   * The particles' velocities at their positions now: b, or the probability flow
   * (which needs the particles located, locate()).
   */
  std::vector<Tensor<1, dim>> velocities(const DensitySolver<dim> *solver) const;

  double time() const;

  /** This rank's particles (after locate(): those in its cells). */
  const std::vector<Point<dim>>    &positions() const;
  const std::vector<std::uint64_t> &ids() const;
  /** log rho carried along the characteristic (flow map; NaN otherwise). */
  const std::vector<double> &log_densities() const;
  /** After locate(): the cell of each local particle. RunError if they are not located
      on the mesh as it is now. */
  const std::vector<typename Triangulation<dim>::active_cell_iterator> &cells() const;

  /** Whether the particles are located in the cells of the mesh as it is now. */
  bool is_located() const;

  /** Particles in all ranks. */
  std::uint64_t n_particles() const;
  /** Particles that have left the domain (outflow) since sampling. */
  std::uint64_t n_lost() const;
  /** Particles sampled (n_particles() before any has left). */
  std::uint64_t n_sampled() const;
  /** Whether particles are absorbed at walls (Mesh/Absorbing walls, windows). */
  bool absorbing() const;
  /**
   * The particles absorbed so far, with their exit times, the same on every rank and on
   * any number of ranks: sorted by exit time, then id.
   */
  const std::vector<ParticleExit> &exits() const;
  /** The wall (x-max) and window number (0: the whole wall) of ParticleExit::piece @p k. */
  const std::pair<std::string, unsigned int> &exit_piece(const unsigned int k) const;
  /** MALA: accepted over proposed moves so far (NaN for other dynamics). Collective. */
  double acceptance_rate() const;

  /** Mean and covariance over all ranks. Collective. */
  ParticleMoments<dim> moments() const;

  /**
   * For a checkpoint: the system's clock (time, step count: the position of its random
   * streams), counters and exits, and this rank's particles (positions, ids, carried
   * log-densities, the dynamics' state), in their order.
   */
  std::vector<double> checkpoint_record() const;

  /**
   * Restores checkpoint_record() from the records of every rank that wrote one
   * (@p records[r]: rank r's). On as many ranks as wrote them, each rank takes its own
   * back in the same order (bit for bit the same run); on another number, the particles
   * are shared out by id and located again. MALA's acceptance counts start again.
   * InputError on a malformed record. Collective.
   */
  void restore(const std::vector<std::vector<double>> &records);

private:
  /** One step of size @p dt from the ensemble's time, and the walls after it. */
  void step(const double dt, const DensitySolver<dim> *solver);
  /** Removes and counts the particles that have left the domain. */
  void remove_outflow();
  /** Appends every rank's @p step_exits, by time and id, to all_exits. Collective. */
  void gather_exits(const std::vector<ParticleExit> &step_exits);
  /** Puts the particles that a step took out of the domain back where they were. */
  void undo_outside_moves(const ParticleStore<dim> &before);

  const unsigned int                          system_index;
  const ParticleParameters                    parameters;
  const Mesh<dim>                            &mesh;
  const Physics<dim>                         &physics;
  MPI_Comm                                    mpi_communicator;
  ParticleRandom                              random;
  std::unique_ptr<ParticleDynamicsModel<dim>> model;
  ParticleStore<dim>                          particles;
  bool                                        located = false;
  /** Forgets the cells when the mesh changes (Mesh/Adaptivity). */
  std::unique_ptr<MeshChangeListener> mesh_changes;

  double        current_time = 0;
  std::uint64_t step_count   = 0;
  std::uint64_t n_global     = 0;
  std::uint64_t lost         = 0;
  std::uint64_t sampled      = 0;

  /** (wall, window number) of each absorbing piece; empty: no absorbing walls. */
  std::vector<std::pair<std::string, unsigned int>> pieces;
  std::vector<ParticleExit>                         all_exits;
};
} // namespace densityflow

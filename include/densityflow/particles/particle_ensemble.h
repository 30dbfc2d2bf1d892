#pragma once

#include <densityflow/base/expression.h>
#include <densityflow/base/random.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/bounding_box.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/symmetric_tensor.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/particles/particle_handler.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

template <int dim>
class PointLocator;

/** How the particles of one system move: the Lagrangian side of an equation. */
enum class ParticleDynamics
{
  /** dX/dt = b(X, t) by RK4, carrying log rho along the characteristic. */
  flow_map,
  /** dX = b dt + sqrt(2 eps) dW by Euler-Maruyama. */
  langevin,
  /** Langevin proposals with a Metropolis correction towards pi (b = -grad V). */
  mala,
  /** dX/dt = -grad V - eps grad log rho_h(X, t) from the finite-element solution (Heun). */
  probability_flow
};

/** "flow-map", "langevin", "mala", "probability-flow". */
std::string to_string(const ParticleDynamics dynamics);

/** The `Particles` subsection. */
struct ParticleParameters
{
  /** Particles per system; 0 switches particles off. */
  std::uint64_t number = 0;
  /** One particle system per entry, all started from the same sample of rho0. */
  std::vector<ParticleDynamics> dynamics;
  /** The largest particle step; 0: the PDE's step. */
  double        time_step = 0;
  std::uint64_t seed      = 1;
  bool          write_csv = false;
  /** Simulated time between particle outputs and distances; 0: at every density output. */
  double output_interval = 0;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * A density's values at points of one locally owned cell, given both in unit and in real
 * coordinates (the cell's multilinear map from its vertices, as MappingQ(1)).
 */
template <int dim>
using CellDensity =
    std::function<void(const typename Triangulation<dim>::active_cell_iterator &cell,
                       const std::vector<Point<dim>>                           &unit_points,
                       const std::vector<Point<dim>>                           &points,
                       std::vector<double>                                     &values)>;

/** This rank's share of the points drawn by sample_density(), in the order of their ids. */
template <int dim>
struct DensitySample
{
  std::vector<Point<dim>>                                        points;
  std::vector<std::uint64_t>                                     ids;
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  /** The density at each point, as given (not normalised). */
  std::vector<double> values;
  /** The density's integral over the mesh (the sum of the cell masses). */
  double mass = 0;
  /** How often a candidate exceeded its cell's rejection bound (all ranks). */
  std::uint64_t bound_exceeded = 0;
};

/**
 * Draws the points with ids 0, ..., @p n - 1 i.i.d. from @p density (>= 0): a cell by
 * its mass (4-point Gauss rule), a point inside it by rejection against @p bound_factor
 * times the largest value of density |det J| at the Gauss points and on a 5^dim grid of
 * the cell (cells mapped multilinearly from their vertices, as MappingQ(1)). Point i
 * draws its cell with random.uniforms(i, @p step, 0) and its candidates with
 * random.uniforms(i, @p step, attempt), so the points are the same on any number of
 * ranks; each rank places the points of its own cells. Collective.
 */
template <int dim>
DensitySample<dim> sample_density(const Triangulation<dim> &triangulation,
                                  const CellDensity<dim>   &density,
                                  const ParticleRandom     &random,
                                  const std::uint64_t       n,
                                  const std::uint64_t       step,
                                  const MPI_Comm            communicator,
                                  const double              bound_factor = 1.25);

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
 * moved by one of the ParticleDynamics, on the same mesh and with the same V, b and
 * eps as the Eulerian solver.
 *
 * Particles live on each rank in plain arrays, where the dynamics with analytic drifts
 * move them fast; they are located in cells (and handed to the ranks that own those
 * cells) only when a step needs it: for finite-element fields (probability flow), for
 * walls that are not planes, for output and comparisons. Random numbers are drawn per
 * (seed, id, step), so a particle's path does not depend on where it lives.
 *
 * Walls: with the Fokker-Planck model, Langevin particles are reflected at the walls
 * (mirrored on a box; on other domains a move that leaves the domain is undone, a
 * first-order treatment); MALA rejects proposals outside the domain. With the
 * transport model, particles that leave the domain have left through an outflow
 * boundary: they are removed and counted (n_lost()).
 */
template <int dim>
class ParticleEnsemble
{
public:
  /** @param system the index of this system in Particles/Dynamics (part of the ids). */
  ParticleEnsemble(const ParticleDynamics    dynamics,
                   const unsigned int        system,
                   const ParticleParameters &parameters,
                   const Mesh<dim>          &mesh,
                   const Physics<dim>       &physics);
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

  /** The particles' velocities at their positions now: b, or the probability flow. */
  std::vector<Tensor<1, dim>> velocities(const DensitySolver<dim> *solver);

  double time() const;

  /** This rank's particles (after locate(): those in its cells). */
  const std::vector<Point<dim>>    &positions() const;
  const std::vector<std::uint64_t> &ids() const;
  /** log rho carried along the characteristic (flow map; NaN otherwise). */
  const std::vector<double> &log_densities() const;
  /** After locate(): the cell of each local particle. */
  const std::vector<typename Triangulation<dim>::active_cell_iterator> &cells() const;

  /** Particles in all ranks. */
  std::uint64_t n_particles() const;
  /** Particles that have left the domain (outflow) since sampling. */
  std::uint64_t n_lost() const;
  /** MALA: accepted over proposed moves so far (NaN for other dynamics). Collective. */
  double acceptance_rate() const;

  /** Mean and covariance over all ranks. Collective. */
  ParticleMoments<dim> moments() const;

private:
  /** One step of size @p dt from the ensemble's time. */
  void step(const double dt);
  /** Mirror @p x into the box, or return false if the domain is not a box and x left it. */
  bool reflect(Point<dim> &x) const;
  bool inside_box(const Point<dim> &x) const;
  /** The probability-flow velocity at the (located) particles. */
  std::vector<Tensor<1, dim>> probability_flow_velocities(const DensitySolver<dim> *solver) const;

  const ParticleDynamics   kind;
  const unsigned int       system_index;
  const ParticleParameters parameters;
  const Mesh<dim>         &mesh;
  const Physics<dim>      &physics;
  MPI_Comm                 mpi_communicator;
  ParticleRandom           random;
  PointLocator<dim>       *locator;

  std::vector<Point<dim>>    x;
  std::vector<std::uint64_t> id;
  std::vector<double>        log_rho;
  /** Probability flow: the position and velocity at the start of the step (Heun). */
  std::vector<Point<dim>>                                        start;
  std::vector<Tensor<1, dim>>                                    start_velocity;
  std::vector<typename Triangulation<dim>::active_cell_iterator> located_cells;
  bool                                                           located = false;

  double        current_time = 0;
  std::uint64_t step_count   = 0;
  std::uint64_t n_global     = 0;
  std::uint64_t lost         = 0;
  std::uint64_t proposed = 0, accepted = 0;
};
} // namespace densityflow

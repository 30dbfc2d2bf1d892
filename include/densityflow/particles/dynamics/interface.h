#pragma once

#include <densityflow/particles/particle_parameters.h>

#include <deal.II/base/bounding_box.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

namespace densityflow
{
using namespace dealii;

struct InteractionParameters;
class ParticleRandom;
template <int dim>
class AbsorbingWalls;
template <int dim>
class DensitySolver;
template <int dim>
class Mesh;
template <int dim>
class ParticleStore;
template <int dim>
class Physics;

/** A particle absorbed at a wall (Mesh/Absorbing walls, Mesh/Absorbing windows). */
struct ParticleExit
{
  std::uint64_t id = 0;
  /** The exit time: within the step, from the Brownian bridge (bridge_hitting_time()). */
  double time = 0;
  /** The absorbing piece it left through (AbsorbingWalls::wall_name(), window_number()). */
  unsigned int piece = 0;
};

/** What one step of a particle system is given. */
template <int dim>
struct ParticleStep
{
  /** The time at the start of the step and its length. */
  double time = 0;
  double dt   = 0;
  /** The number of the step since sampling: the counter of its random numbers. */
  std::uint64_t number = 0;
  /** The density solver at time + dt (used by the dynamics that need cells only). */
  const DensitySolver<dim> *solver = nullptr;
  /**
   * Puts the moved particles into their cells again (collective): the particles, with
   * their state, may change ranks and order. For the dynamics that need cells.
   */
  std::function<void()> relocate;
  /** Where the dynamics that absorb particles at walls append them (null: not recorded). */
  std::vector<ParticleExit> *exits = nullptr;
};

/**
 * How the particles of one system move: one implementation per ParticleDynamics, made
 * by create_particle_dynamics(). ParticleEnsemble samples, locates and balances the
 * particles, treats the walls after a step, and leaves the step itself to the model.
 */
template <int dim>
class ParticleDynamicsModel
{
public:
  virtual ~ParticleDynamicsModel() = default;

  virtual ParticleDynamics kind() const = 0;

  /** The name in Particles/Dynamics. */
  std::string name() const { return to_string(kind()); }

  /**
   * Whether the step evaluates finite-element fields at the particles: then they are
   * located in cells (on the ranks that own them) before prepare_step() and
   * velocities(), never balanced, and stepped with the PDE, which treats its walls
   * itself.
   */
  virtual bool needs_cells() const { return false; }

  /** The doubles of state per particle that travel with it (ParticleStore). */
  virtual unsigned int state_size() const { return 0; }

  /** Whether the particles carry log rho (else their log-density is NaN). */
  virtual bool carries_log_density() const { return false; }

  /**
   * Whether a particle that a step takes out of the domain has left it, whatever the
   * walls (a characteristic leaves), rather than being kept in by the no-flux walls
   * of the Fokker-Planck model. With the transport model every particle that leaves
   * is outflow.
   */
  virtual bool leaves_through_walls() const { return false; }

  /** Before the PDE steps from t to t + dt, with the particles located if needs_cells(). */
  virtual void prepare_step(ParticleStore<dim> &particles, const DensitySolver<dim> *solver);

  /** Moves @p particles by one step (after the PDE has stepped to step.time + step.dt). */
  virtual void step(ParticleStore<dim> &particles, const ParticleStep<dim> &step) = 0;

  /** The particles' velocities at @p time: b, or the probability flow (located particles). */
  virtual std::vector<Tensor<1, dim>> velocities(const ParticleStore<dim> &particles,
                                                 const double              time,
                                                 const DensitySolver<dim> *solver) const = 0;

  /** Accepted over proposed moves so far, over all ranks (Metropolis); NaN otherwise. */
  virtual double acceptance_rate(const MPI_Comm communicator) const;
};

/**
 * The model of @p dynamics on @p mesh with @p physics, drawing from @p random;
 * InputError where @p physics is not what the dynamics follow. @p interaction is the
 * kernel and target of Physics/Model = interaction (null for the other models); @p walls
 * the absorbing walls of the Fokker-Planck model (null or empty: none; Langevin only).
 */
template <int dim>
std::unique_ptr<ParticleDynamicsModel<dim>>
create_particle_dynamics(const ParticleDynamics       dynamics,
                         const Mesh<dim>             &mesh,
                         const Physics<dim>          &physics,
                         const ParticleRandom        &random,
                         const InteractionParameters *interaction = nullptr,
                         const AbsorbingWalls<dim>   *walls       = nullptr);

/** The drift b at @p positions and @p time: the velocity of the analytic dynamics. */
template <int dim>
std::vector<Tensor<1, dim>> drift_velocities(const Physics<dim>            &physics,
                                             const std::vector<Point<dim>> &positions,
                                             const double                   time);

/** Whether @p p is in @p box (its boundary included). */
template <int dim>
inline bool inside_box(const BoundingBox<dim> &box, const Point<dim> &p)
{
  const auto &corners = box.get_boundary_points();
  for (unsigned int d = 0; d < dim; ++d)
    if (p[d] < corners.first[d] || p[d] > corners.second[d])
      return false;
  return true;
}

/**
 * Mirrors @p p into @p box at its walls, however far outside it is; coordinates inside
 * stay as they are (the fold would move them by the rounding of p - lower + lower).
 */
template <int dim>
inline void reflect_into_box(const BoundingBox<dim> &box, Point<dim> &p)
{
  const auto &corners = box.get_boundary_points();
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double lower = corners.first[d], upper = corners.second[d], width = upper - lower;
      if (p[d] >= lower && p[d] <= upper)
        continue;
      // Mirror images repeat with period 2 width: fold, then reflect the upper half.
      double s = std::fmod(p[d] - lower, 2 * width);
      if (s < 0)
        s += 2 * width;
      p[d] = lower + (s <= width ? s : 2 * width - s);
    }
}

/**
 * Wraps @p p into [lower, upper) of @p box in the @p periodic directions (the torus'
 * coordinates); the other coordinates, and coordinates already inside, stay as they are.
 */
template <int dim>
inline void
wrap_into_box(const BoundingBox<dim> &box, const std::vector<bool> &periodic, Point<dim> &p)
{
  const auto &corners = box.get_boundary_points();
  for (unsigned int d = 0; d < dim; ++d)
    if (periodic[d] && (p[d] < corners.first[d] || p[d] >= corners.second[d]))
      {
        const double lower = corners.first[d], width = corners.second[d] - lower;
        double       s = std::fmod(p[d] - lower, width);
        if (s < 0)
          s += width;
        p[d] = lower + s;
        if (p[d] >= corners.second[d]) // s + width rounded up to width
          p[d] = lower;
      }
}

/**
 * reflect_into_box() in the directions that are not @p periodic (the same arithmetic), and
 * wrap_into_box() in those that are.
 */
template <int dim>
inline void
fold_into_box(const BoundingBox<dim> &box, const std::vector<bool> &periodic, Point<dim> &p)
{
  const auto &corners = box.get_boundary_points();
  for (unsigned int d = 0; d < dim; ++d)
    if (!periodic[d] && !(p[d] >= corners.first[d] && p[d] <= corners.second[d]))
      {
        const double lower = corners.first[d], upper = corners.second[d], width = upper - lower;
        double       s = std::fmod(p[d] - lower, 2 * width);
        if (s < 0)
          s += 2 * width;
        p[d] = lower + (s <= width ? s : 2 * width - s);
      }
  wrap_into_box(box, periodic, p);
}

/** Whether @p p is in @p box (its boundary included) in the directions that are not @p periodic. */
template <int dim>
inline bool
inside_box(const BoundingBox<dim> &box, const Point<dim> &p, const std::vector<bool> &periodic)
{
  const auto &corners = box.get_boundary_points();
  for (unsigned int d = 0; d < dim; ++d)
    if (!periodic[d] && (p[d] < corners.first[d] || p[d] > corners.second[d]))
      return false;
  return true;
}
} // namespace densityflow

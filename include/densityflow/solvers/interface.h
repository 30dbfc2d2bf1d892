#pragma once

#include <densityflow/base/expression.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature.h>
#include <deal.II/base/symmetric_tensor.h>
#include <deal.II/base/tensor.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/numerics/data_out.h>

#include <limits>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * What a density rho_h is like at one time: the quantities of diagnostics.csv.
 * Quantities that are not defined (no exact solution; no stationary density for
 * the relative entropy) are NaN and are written as empty fields.
 */
template <int dim>
struct DensityStatistics
{
  static constexpr double undefined = std::numeric_limits<double>::quiet_NaN();

  /** int rho_h. */
  double mass = 0;
  /** The minimum of rho_h over quadrature and support points. */
  double min_density = 0;
  /** int max(-rho_h, 0): the mass of the negative part, 0 where positivity holds. */
  double negative_mass = 0;
  /** F(rho) = int V rho + eps int rho log rho (0 log 0 = 0; negative parts left out). */
  double free_energy = undefined;
  /** KL(rho_h | pi) with pi = exp(-V/eps)/Z, under the same convention. */
  double                  relative_entropy = undefined;
  Tensor<1, dim>          mean;
  SymmetricTensor<2, dim> covariance;
  /** ||rho_h - rho_exact||_L2 / ||rho_exact||_L2 where an exact solution is given. */
  double l2_error = undefined;
  /** Mass that has left through outflow boundaries since t = 0 (net of inflow). */
  double outflow_mass = 0;
  /** The values of the solver's own columns (DensitySolver::extra_columns()), in order. */
  std::vector<double> extra;
};

/**
 * Sums the integrals of DensityStatistics over quadrature points (mass, negative
 * mass, moments, L2 error) on each rank and combines them over all ranks.
 */
template <int dim>
class DensityIntegrals
{
public:
  /** Adds the quadrature point @p x with weight @p JxW where the density is @p rho. */
  void add(const Point<dim> &x, const double rho, const double JxW);

  /** Adds the exact density at the same point, for the L2 error. */
  void add_exact(const double rho, const double exact, const double JxW);

  /** Takes @p rho into the minimum only (support points). */
  void add_to_minimum(const double rho);

  /** Sums over @p communicator and fills mass, min, negative mass, moments, l2 error. */
  void finish(DensityStatistics<dim> &statistics, const MPI_Comm communicator) const;

private:
  // Mass is summed with Neumaier's compensation: conservation is tested to 1e-12.
  double                  mass              = 0;
  double                  mass_compensation = 0;
  double                  negative_mass     = 0;
  double                  minimum           = std::numeric_limits<double>::infinity();
  Tensor<1, dim>          first_moment;
  SymmetricTensor<2, dim> second_moment;
  double                  error_squared = 0;
  double                  exact_squared = 0;
  bool                    has_exact     = false;
};

/**
 * A solver that evolves a density in time on a mesh: the interface the run loop,
 * diagnostics and output use, whatever the equation and discretisation.
 */
template <int dim>
class DensitySolver
{
public:
  virtual ~DensitySolver() = default;

  /** What is solved and how, for the log (one or more lines). */
  virtual std::string description() const = 0;

  /**
   * Further lines for the log after description(): what the discretisation does and
   * does not guarantee for this problem (e.g. whether the Q1 Fokker-Planck system is
   * an M-matrix). Empty by default.
   */
  virtual std::vector<std::string> notes() const { return {}; }

  virtual types::global_dof_index n_dofs() const = 0;

  /**
   * Sets rho(0) from @p rho0, normalised to unit mass, and returns the normalisation
   * factor (1 / int rho0). InputError where rho0 is negative, not finite or of zero mass.
   */
  virtual double set_initial_density(const Expression<dim> &rho0) = 0;

  /** Advances by @p dt and returns the number of linear-solver iterations it took. */
  virtual unsigned int advance(const double dt) = 0;

  /**
   * The step the solver wants next: the fixed step of an implicit scheme, or the
   * CFL-limited step of an explicit one.
   */
  virtual double time_step() const = 0;

  /** Whether the run loop may shorten a step to land on an output time (explicit schemes). */
  virtual bool adjustable_time_step() const { return false; }

  /** The time of the current density. */
  virtual double time() const = 0;

  /**
   * Sets the clock to @p t, the run's exact time after a step (TimeSchedule), from
   * which the solver's own sum of steps differs by round-off. The density stays as it is.
   */
  virtual void set_time(const double t) = 0;

  /**
   * rho_h as a weighted point measure: for each locally owned cell (in @p cells), the
   * n^dim Gauss points (consecutive in @p points) and the weights rho_h JxW there.
   */
  virtual void
  quadrature_measure(const unsigned int                                              n,
                     std::vector<typename Triangulation<dim>::active_cell_iterator> &cells,
                     std::vector<Point<dim>>                                        &points,
                     std::vector<double> &weights) const = 0;

  /** rho_h at @p points (real coordinates) of the locally owned @p cell. */
  virtual void density_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                          const std::vector<Point<dim>>                           &points,
                          std::vector<double>                                     &rho) const = 0;

  /**
   * The probability-flow velocity (the `velocity` field of density.pvd:
   * -(grad V + eps grad log rho_h) for Fokker-Planck, b - eps grad log rho_h for
   * transport, the drift part alone where rho_h <= 0) at @p points of the locally
   * owned @p cell, and rho_h there into @p rho unless it is null (particles that only
   * move need no rho_h, which may cost as much as the velocity).
   */
  virtual void velocity_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                           const std::vector<Point<dim>>                           &points,
                           std::vector<double>                                     *rho,
                           std::vector<Tensor<1, dim>> &velocity) const = 0;

  /**
   * The names of the columns a solver adds to diagnostics.csv (after wall_seconds,
   * before the regions' columns), whose values statistics() puts into
   * DensityStatistics::extra. None by default: the CSV layout of a model without them
   * stays as it is. Each name needs a row in output/column_descriptions.cc.
   */
  virtual std::vector<std::string> extra_columns() const { return {}; }

  /**
   * Whether velocity_divergence_at() is available: the solver's velocity has a
   * divergence that particles can carry log-density by.
   */
  virtual bool has_velocity_divergence() const { return false; }

  /**
   * div of the velocity of velocity_at() at @p points of the locally owned @p cell, for
   * particles that carry log-density along a velocity the solver computes (the path
   * model). Only where has_velocity_divergence().
   */
  virtual void velocity_divergence_at(const typename Triangulation<dim>::active_cell_iterator &,
                                      const std::vector<Point<dim>> &,
                                      std::vector<double> &) const
  {
    AssertThrow(false, ExcMessage("This solver has no velocity field with a divergence."));
  }

  /** The diagnostics of the current density; @p exact may be null. */
  virtual DensityStatistics<dim> statistics(const Expression<dim> *exact) const = 0;

  /**
   * Adds the fields of density.pvd (rho and what goes with it, the exact solution and
   * error where @p exact is given, the MPI subdomain) to @p data_out and builds patches.
   * What @p data_out points to stays valid until the next call.
   */
  virtual void fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const = 0;
};

/**
 * The load vector (rho0, phi_i) of an initial density on the locally owned cells of
 * @p dof_handler, added into @p rhs (compressed), and the mass of rho0 on the mesh (the
 * sum of the vector, compensated), which both solvers normalise by. Collective.
 * InputError, the same on every rank, where rho0 is negative or not finite at a
 * quadrature point (naming the point) or has no mass.
 */
template <int dim>
double assemble_initial_load(const Expression<dim>      &rho0,
                             const DoFHandler<dim>      &dof_handler,
                             const Mapping<dim>         &mapping,
                             const Quadrature<dim>      &quadrature,
                             PETScWrappers::MPI::Vector &rhs);

} // namespace densityflow

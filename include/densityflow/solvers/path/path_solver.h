#pragma once

#include <densityflow/solvers/cell_matrix_writer.h>
#include <densityflow/solvers/checkpointable_solver.h>
#include <densityflow/solvers/finite_element_solver.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/path/density_path.h>

#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <array>
#include <limits>
#include <memory>

namespace densityflow
{
using namespace dealii;

struct DiscretizationParameters;

/**
 * The velocity of least kinetic energy of a prescribed density path
 * rho_t ∝ exp(-U(x, t)) (Physics/Model = path). At each time t, rho_t is normalised by
 * Z_t (Gauss quadrature, compensated sums over all ranks), d/dt rho_t =
 * rho_t (<dU/dt>_rho - dU/dt), and the weighted Neumann problem
 *
 *     -div(rho_t grad phi) = d/dt rho_t,   int phi rho_t = 0,
 *
 * is solved with continuous Q_p elements for phi: v_t = grad phi. Z_t, <dU/dt> and the
 * load vector use the same quadrature, so the load sums to zero up to round-off and the
 * discrete problem is compatible; its constant null space is removed by pinning the DoF
 * of the cell where rho_t is largest (CG + AMG on the regular SPD matrix that leaves)
 * and phi is then shifted to rho-weighted mean zero.
 *
 * rho_h is rho_t itself (exact at every point); the "solution" vector is phi.
 */
template <int dim>
class PathSolver : public FiniteElementSolver<dim>, public CheckpointableSolver
{
public:
  PathSolver(const Mesh<dim>                &mesh,
             const Physics<dim>             &physics,
             const PathParameters           &path,
             const DiscretizationParameters &discretization,
             const TimeParameters           &time,
             const LinearSolverParameters   &linear_solver);
  ~PathSolver() override;

  std::string            description() const override;
  double                 set_initial_density(const Expression<dim> &rho0) override;
  unsigned int           advance(const double dt) override;
  double                 time_step() const override;
  DensityStatistics<dim> statistics(const Expression<dim> *exact) const override;
  void                   density_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                    const std::vector<Point<dim>>                           &points,
                                    std::vector<double>                                     &rho) const override;
  void                   velocity_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                     const std::vector<Point<dim>>                           &points,
                                     std::vector<double>                                     *rho,
                                     std::vector<Tensor<1, dim>> &velocity) const override;
  void fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const override;
  /** kinetic_energy, action, w2_length, max_speed. */
  std::vector<std::string> extra_columns() const override;
  /** Degree >= 2: the Laplacian of phi_h of Q1 is zero, not div v. */
  bool has_velocity_divergence() const override;
  /** The Laplacian of phi_h. */
  void velocity_divergence_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                              const std::vector<Point<dim>>                           &points,
                              std::vector<double> &divergence) const override;

  /**
   * phi_h and rho_t at time @p t without taking a step: the clock moves to @p t, the
   * action and the W2 length stay. For PathVelocity, which follows the path at the times
   * a transport solver asks for. Collective.
   */
  void solve_at_time(const double t);

  /** rho_t (normalised) at @p x: exp(-(U - U_min)) / Z. */
  double density(const Point<dim> &x) const;

  /**
   * rho_t, v_h = grad phi_h and, if @p divergence is not null, div v_h (the Laplacian of
   * phi_h: zero for Q1, whose gradient is piecewise constant along its direction) at
   * @p points of the locally owned @p cell.
   */
  void evaluate(const typename DoFHandler<dim>::active_cell_iterator &cell,
                const std::vector<Point<dim>>                        &points,
                std::vector<double>                                  &rho,
                std::vector<Tensor<1, dim>>                          &velocity,
                std::vector<double>                                  *divergence) const;

  /** int rho_t |v_h|^2 at the current time. */
  double kinetic_energy() const;
  /** int_0^t int rho |v|^2 dx dt (trapezoidal rule over the steps taken). */
  double action() const;
  /** int_0^t sqrt(int rho |v|^2) dt: the W2 length of the path (trapezoidal rule). */
  double length() const;
  /** The largest |v_h| at the quadrature points. */
  double max_speed() const;
  /** The largest max_speed() at the times solved so far. */
  double peak_speed() const;
  /** phi_h (ghosted). */
  const PETScWrappers::MPI::Vector &potential() const;

  /**
   * The clock, the accumulated action and W2 length, the kinetic energy and speeds of
   * the current time, and phi_h with the pinned phi (the next solve's initial guess) as
   * cell records (path_checkpoint.cc). rho_t is the path's own: evaluated again.
   */
  void save_state(CheckpointValues &values, std::vector<double> &records) const override;
  void load_state(const CheckpointValues                 &values,
                  const std::vector<std::vector<double>> &records) override;

private:
  using Base = FiniteElementSolver<dim>;
  using Base::current_time;
  using Base::dof_handler;
  using Base::fe;
  using Base::ghosted_solution;
  using Base::locally_owned_dofs;
  using Base::locally_relevant_dofs;
  using Base::mapping;
  using Base::mesh;
  using Base::mpi_communicator;
  using Base::physics;
  using Base::quadrature;

  void density_on_cell(const typename DoFHandler<dim>::active_cell_iterator &cell,
                       const FEValues<dim, dim>                             &fe_values,
                       std::vector<double>                                  &rho) const override;

  /** rho_t, its normalisation and phi at time @p t; returns the CG iterations. */
  unsigned int solve_at(const double t);
  /** The quadrature's weights and points (or the path's endpoints there) and the cells' DoFs, once.
   */
  void cache_quadrature();
  /** The @p k th locally owned quadrature point (for messages: walks the cells). */
  Point<dim> quadrature_point(const std::size_t k) const;
  /**
   * U, dU/dt and exp(-(U - U_min)) at the quadrature points, U_min, Z_t and <dU/dt>_rho;
   * InputError where U is not finite.
   */
  void evaluate_path(const double t);
  /** The DoF pinned to 0 and the constraint that says so. */
  void pin_largest_density();
  /** The weighted Neumann operator and its load, from rho_q and mean_rate. */
  void assemble();
  /** Shifts phi to rho-weighted mean zero; kinetic energy and largest |v|. */
  void finish_potential();

  const PathParameters              parameters;
  std::unique_ptr<DensityPath<dim>> path;
  const double                      step_size;

  /**
   * At the quadrature points of the locally owned cells, in cell order: U, dU/dt, the
   * density relative to its largest value exp(-(U - U_min)), and JxW.
   */
  std::vector<double> U_q, U_rate_q, rho_q, JxW_q;
  /** The DoF indices of the locally owned cells, in cell order. */
  std::vector<types::global_dof_index> cell_dofs;
  /** The points themselves, kept where U is an expression of x and t. */
  std::vector<Point<dim>> points_q;
  /** U0 and V at the same points, where the path is built from them. */
  std::vector<std::pair<double, double>> endpoints_q;
  /** U_min, Z_t (of exp(-(U - U_min))) and <dU/dt>_rho. */
  double U_min = 0, partition_function = 1, mean_rate = 0;

  types::global_dof_index          pinned_dof = 0;
  AffineConstraints<double>        constraints;
  PETScWrappers::MPI::SparseMatrix system_matrix;
  /** Adds the cells' matrices into system_matrix in place (made at the first assembly). */
  std::unique_ptr<CellMatrixWriter> writer;
  PETScWrappers::MPI::Vector        system_rhs, phi_pinned;
  /** phi (mean zero), without ghosts. */
  PETScWrappers::MPI::Vector phi;
  /** The solution before phi, for the extrapolated initial guess. */
  PETScWrappers::MPI::Vector phi_before;
  /** The times of phi_before and phi (NaN: none). */
  std::array<double, 2> guess_times{
      {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()}};
  LinearSolver linear_solver;

  double energy = 0, accumulated_action = 0, accumulated_length = 0, largest_speed = 0,
         largest_speed_so_far = 0;
};
} // namespace densityflow

#pragma once

#include <densityflow/base/time_parameters.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/adaptivity.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/checkpointable_solver.h>
#include <densityflow/solvers/discretization.h>
#include <densityflow/solvers/finite_element_solver.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/solution_projection.h>

#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/la_parallel_vector.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <memory>

namespace dealii
{
template <int n_components, int dim, int spacedim, typename Number>
class FEPointEvaluation;
}

namespace densityflow
{
using namespace dealii;

/**
 * The Fokker-Planck equation d/dt rho = div(eps grad rho + rho grad V) with no-flux
 * walls, in the symmetric weighted (Slotboom) form: with rho = pi u and
 * pi = exp(-(V - V_min)/eps),
 *
 *     pi du/dt = div(eps pi grad u),
 *
 * discretised by continuous Q_p elements for u. The mass matrix M (weight pi) and
 * stiffness matrix K (weight eps pi) are symmetric and K 1 = 0, so that
 * - the system a M + b K is symmetric positive definite (CG + BoomerAMG);
 * - u = const, i.e. rho = pi, is the exact discrete stationary state;
 * - mass 1^T M u is conserved: what the linear solver's residual would leak is
 *   restored by scaling u (which keeps its sign and the stationary state), so mass
 *   holds to round-off whatever the solver tolerance.
 * For Q1 the weights of K are edge averages (EAFE: the harmonic mean of pi along the
 * segment between two nodes, exact for V linear on it); with a lumped mass matrix on
 * box-shaped cells, a M + b K is then an M-matrix, so backward Euler keeps u >= 0 and
 * lets the discrete free energy eps sum_j m_j u_j log(u_j Z) only decrease. Degrees 2
 * and 3 use pi at Gauss points; positivity is not guaranteed there and is reported.
 *
 * The unknowns are y_j = u_j sqrt(pi_j) = rho_j / sqrt(pi_j) at the nodes: the system
 * is scaled symmetrically by the nodal sqrt(pi), so that its entries depend on
 * differences of V only (Bernoulli functions for Q1) and stay of geometric size even
 * where pi underflows. The scaling is a similarity transform: the discrete solution
 * is that of the u-form. It represents rho up to rho / sqrt(pi) ~ 1e308, i.e. for
 * (V - V_min)/eps up to about 1400 where rho is of order one.
 *
 * Matrices are assembled once when V does not depend on t, else at every step.
 */
/**
 * Wall seconds of the Fokker-Planck solver's set-up phases on this rank (benchmarks): the
 * constructor's, and the last rebuild of the system matrix.
 */
struct FokkerPlanckSetupTiming
{
  /** The sparsity pattern and the PETSc matrices' allocation. */
  double sparsity = 0;
  /** V at the quadrature points and the nodes, sqrt(pi). */
  double potential = 0;
  /** The weighted mass and stiffness matrices. */
  double assembly = 0;
  /** a M + b K and the preconditioner's set-up (the last rebuild). */
  double system_matrix = 0;

  /** Summed over the run (adaptivity benchmark): the steps' linear solves and their
   * iterations, the set-ups of a M + b K (with the condensation and the preconditioner),
   * and the mesh adaptations, split into marking and the DG transfer, the rebuild of DoFs,
   * V and matrices, and the two weighted projections onto the new mesh. */
  double        solves = 0, system_setups = 0;
  unsigned long solve_iterations = 0;
  unsigned int  n_solves = 0, n_system_setups = 0, n_adaptations = 0;
  double        adaptation_transfer = 0, adaptation_rebuild = 0, adaptation_projection = 0;
};

/** What the last mesh adaptation did (Mesh/Adaptivity): for the log, the tests and the benchmark.
 */
struct AdaptationReport
{
  /** Active cells over all ranks before and after. */
  types::global_cell_index cells_before = 0, cells_after = 0;
  /** Cells refined and coarsened (parents made), over all ranks. */
  types::global_cell_index refined = 0, coarsened = 0;
  /**
   * The mass root_pi^T M y of the solution before, transferred (before the final scaling)
   * and after: after = before to round-off; transferred - before is the Gauss rules'
   * difference on refined cells (the same rho_h, integrated by the children's rules).
   */
  double mass_before = 0, mass_transferred = 0, mass_after = 0;
  /**
   * Lumped mass: the weight of the consistent projection in the blend with the lumped
   * one (1 = the consistent projection alone; less where it would have been negative).
   */
  double blend = 1;
  /** The smallest nodal value y_j after the transfer (before any blend), over all ranks. */
  double min_consistent = 0;
};

template <int dim>
class FokkerPlanckSolver : public FiniteElementSolver<dim>, public CheckpointableSolver
{
public:
  /**
   * @param walls where rho = 0 (none: every wall is no-flux and the mass is kept to
   * round-off; else mass leaves through them and the CSV gains absorbed_mass,
   * absorbed_flux and survival_integral).
   */
  FokkerPlanckSolver(const Mesh<dim>                &mesh,
                     const Physics<dim>             &physics,
                     const DiscretizationParameters &discretization,
                     const TimeParameters           &time,
                     const LinearSolverParameters   &linear_solver,
                     const AbsorbingWalls<dim>      &walls);
  ~FokkerPlanckSolver() override;

  std::string              description() const override;
  std::vector<std::string> notes() const override;
  double                   set_initial_density(const Expression<dim> &rho0) override;
  unsigned int             advance(const double dt) override;
  double                   time_step() const override;
  DensityStatistics<dim>   statistics(const Expression<dim> *exact) const override;
  /** absorbed_mass, absorbed_flux and survival_integral with absorbing walls; else none. */
  std::vector<std::string> extra_columns() const override;
  void                     density_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                      const std::vector<Point<dim>>                           &points,
                                      std::vector<double>                                     &rho) const override;
  void velocity_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                   const std::vector<Point<dim>>                           &points,
                   std::vector<double>                                     *rho,
                   std::vector<Tensor<1, dim>> &velocity) const override;
  void fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const override;

  /** y^n, y^{n-1}, M y^n, M y^{n-1}, K y^n, the clock and the absorbed mass. */
  void save_state(CheckpointValues &values, std::vector<double> &records) const override;
  void load_state(const CheckpointValues                 &values,
                  const std::vector<std::vector<double>> &records) override;

  /**
   * rho_h and the probability-flow velocity v = -(grad V + eps grad log rho_h) at
   * @p points of the locally owned @p cell (real coordinates). grad log rho_h is the
   * gradient of the interpolant of the nodal log u_j (u = rho / pi) where all nodal
   * values of the cell are positive, and grad u_h / u_h otherwise (v = 0 where
   * rho_h <= 0). @p velocity may be null. Returns whether the log interpolant was used.
   */
  bool evaluate(const typename DoFHandler<dim>::active_cell_iterator &cell,
                const std::vector<Point<dim>>                        &points,
                std::vector<double>                                  &rho,
                std::vector<Tensor<1, dim>>                          *velocity) const;

  /** The same at the points DataOut uses for a cell's patch, where V is known: fast. */
  bool evaluate_at_patch_points(const typename DoFHandler<dim>::active_cell_iterator &cell,
                                const std::vector<Point<dim>>                        &points,
                                const std::vector<double>                            &V,
                                std::vector<double>                                  &rho,
                                std::vector<Tensor<1, dim>> &velocity) const;

  /**
   * Adapts the mesh every `Mesh/Adaptivity/Interval` steps (after the step) and
   * `Initial cycles` times on rho0, on @p triangulation, which must be the mesh's. InputError
   * for what the transfer does not support (absorbing walls, periodic directions, V
   * depending on t).
   */
  void enable_adaptivity(const AdaptivityParameters                     &parameters,
                         parallel::distributed::Triangulation<dim, dim> &triangulation);

  /**
   * Refines and coarsens the mesh and carries the solution and its BDF2 history over
   * (fokker_planck_transfer.cc): u = rho / pi is interpolated on refined cells; a coarsened
   * family's moments int rho_h v against the parent's Q_p functions v are kept exactly (the
   * cellwise L2 projection of rho_h, moved by deal.II's DG transfer); then the weighted
   * projection onto the new Q_p space, scaled to the mass before. With
   * @p estimate_and_mark, the indicator sets the flags; else the caller has set them.
   * Needs enable_adaptivity(). Collective.
   */
  AdaptationReport adapt_mesh(const bool estimate_and_mark = true);

  /** What the last adapt_mesh() did. */
  const AdaptationReport &last_adaptation() const;

  /** The unknowns y_j = rho_j / sqrt(pi_j) (for the invariants test). */
  const PETScWrappers::MPI::Vector &scaled_solution() const;

  /** Where the set-up time went (for the benchmarks). */
  const FokkerPlanckSetupTiming &setup_timing() const;

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
  using Base::scheme;
  using Base::step_number;

  void density_on_cell(const typename DoFHandler<dim>::active_cell_iterator &cell,
                       const FEValues<dim>                                  &fe_values,
                       std::vector<double>                                  &rho) const override;

  /** The sparsity pattern, the matrices and the vectors of the current DoFs. */
  void set_up_system();
  /** The constructor's projection of rho0 (set_initial_density() on the current mesh). */
  double project_initial_density(const Expression<dim> &rho0);
  /** After the mesh changed: DoFs, system, V and root_pi (with the old shift), matrices. */
  void rebuild_after_mesh_change();
  /** Q of the hanging nodes of an adapted mesh (none: Q is not used). */
  void set_up_hanging_nodes();
  /** The lumped mass of the constrained space: (Q^T (m root_pi))_j / root_pi_j. */
  void condense_lumped_mass(PETScWrappers::MPI::Vector &lumped) const;
  /** Marks, refines and coarsens, rebuilds; no transfer (the initial cycles). */
  void refine_without_transfer();
  /** The DG fields carried to the new mesh (fokker_planck_transfer.cc). */
  struct TransferFields;
  /**
   * y of state @p state (0: the solution, 1: the BDF2 history) on the new mesh from @p
   * fields; the smallest y_j of the consistent projection and the weight it kept (lumped).
   */
  void project_transferred(const TransferFields       &fields,
                           const unsigned int          state,
                           PETScWrappers::MPI::Vector &y,
                           double                     &min_consistent,
                           double                     &blend) const;
  /** y of the nodal interpolant of the carried u (@p u_field on @p dg; masters' z). */
  void interpolate_carried_u(const LinearAlgebra::distributed::Vector<double> &u_field,
                             const DoFHandler<dim>                            &dg,
                             PETScWrappers::MPI::Vector                       &y) const;
  /** The scaled consistent weighted mass matrix (where the scheme lumps it). */
  void assemble_consistent_mass(PETScWrappers::MPI::SparseMatrix &matrix) const;

  /** Evaluates V on the mesh at time @p t (once if V does not depend on t). */
  void update_potential(const double t);
  /** V at the quadrature points and the nodes (each node once, by its owner); the minimum. */
  double evaluate_potential(const double t, PETScWrappers::MPI::Vector &owned_potential);
  void   assemble_matrices();
  /** Makes system_matrix = a M + b K and hands it to the linear solver. */
  void set_system_matrix(const double a, const double b);
  void apply_mass(const PETScWrappers::MPI::Vector &y, PETScWrappers::MPI::Vector &result) const;
  /**
   * rho and v at the points of @p fe_values, where V takes the values @p V_at_points;
   * whether v comes from the interpolant of log u (all nodal values positive).
   */
  bool evaluate_on_cell(const typename DoFHandler<dim>::active_cell_iterator &cell,
                        const FEValues<dim>                                  &fe_values,
                        const std::vector<double>                            &V_at_points,
                        std::vector<double>                                  &rho,
                        std::vector<Tensor<1, dim>>                          *velocity) const;
  /** evaluate() where @p rho may be null (not wanted: V is not evaluated). */
  bool evaluate_at_points(const typename DoFHandler<dim>::active_cell_iterator &cell,
                          const std::vector<Point<dim>>                        &points,
                          std::vector<double>                                  *rho,
                          std::vector<Tensor<1, dim>>                          *velocity) const;
  /**
   * The coefficients of rho_h on @p cell: c_j = y_j e^{a_j - A} with a_j = (V_j - shift)
   * / (2 eps) and A their maximum (rho_h = e^{A - (V - shift)/eps} sum_j c_j phi_j), and,
   * if @p with_log and every c_j > 0, @p log_c = log c_j (else @p log_c is left empty).
   * Returns A.
   */
  double cell_coefficients(const typename DoFHandler<dim>::active_cell_iterator &cell,
                           const bool                                            with_log,
                           std::vector<double>                                  &c,
                           std::vector<double>                                  &log_c) const;
  /** The locally owned nodes on absorbing walls, where y = 0. */
  void find_absorbing_nodes(const AbsorbingWalls<dim> &walls);
  /** Sets y = 0 on the absorbing nodes: rows and columns of the system become identity. */
  void apply_absorbing_walls(PETScWrappers::MPI::Vector &rhs);
  /** The mass root_pi^T M y of the current solution. */
  double current_mass() const;

  /**
   * Periodic meshes (Mesh/Periodic): the map Q with y = Q y_masters (a node on an upper
   * periodic wall takes its image's value) from deal.II's periodicity constraints, and
   * this rank's constrained nodes.
   */
  void set_up_periodicity();
  /** V <- Q V at the nodes; InputError (RunError for t > 0) where V is not periodic. */
  void make_potential_periodic(PETScWrappers::MPI::Vector &owned_potential, const double t) const;
  /** Tested vectors (loads, M y): v <- Q^T v, the constrained nodes' rows added to their images'.
   */
  void condense(PETScWrappers::MPI::Vector &v) const;
  /** Values: y <- Q y. */
  void distribute(PETScWrappers::MPI::Vector &y) const;
  /** @p result = Q^T A Q with 1 on the constrained nodes' diagonal (SPD where A is). */
  void condense_matrix(const PETScWrappers::MPI::SparseMatrix &A,
                       PETScWrappers::MPI::SparseMatrix       &result) const;

  /** Positive off-diagonal entries of K: 0 means the Q1 positivity guarantee holds. */
  types::global_dof_index n_positive_off_diagonals() const;

  const DiscretizationParameters discretization;
  const double                   step_size;
  /** Time/BDF2 start = crank-nicolson: the first step by Crank-Nicolson. */
  const bool crank_nicolson_start;

  /** V at the nodes (ghosted) and at the quadrature points of each active cell. */
  PETScWrappers::MPI::Vector nodal_potential;
  std::vector<double>        potential_at_quadrature_points;
  bool                       potential_evaluated = false;
  /** V_min at the time of the current matrices; pi = exp(-(V - shift)/eps). */
  double shift = 0;
  /** sqrt(pi_j) at the nodes: the mass of y is root_pi^T M y. */
  PETScWrappers::MPI::Vector root_pi;
  /** Z_h = root_pi^T M root_pi, the mass of the unnormalised pi. */
  double partition_function = 0;

  PETScWrappers::MPI::SparseMatrix mass_matrix;
  PETScWrappers::MPI::Vector       lumped_mass;
  PETScWrappers::MPI::SparseMatrix stiffness_matrix;
  PETScWrappers::MPI::SparseMatrix system_matrix;
  double                           system_a = 0, system_b = 0;
  bool                             matrices_changed = true;
  const LinearSolverParameters     linear_solver_parameters;
  /** Made anew when the mesh changes (PETSc's solver keeps the sizes of its vectors). */
  std::unique_ptr<LinearSolver> linear_solver;
  unsigned int                  iterations_after_setup = 0;
  /** Initial guesses from the earlier solutions of the current system matrix. */
  SolutionProjection      projection;
  FokkerPlanckSetupTiming timing;

  /** y^n, y^{n-1}, M y^n, M y^{n-1} (with the old M where V depends on t), K y^n. */
  PETScWrappers::MPI::Vector solution, old_solution;
  PETScWrappers::MPI::Vector mass_solution, old_mass_solution;
  PETScWrappers::MPI::Vector stiffness_solution;

  /** Absorbing walls: whether any, their nodes (this rank's), the mass absorbed so far,
   * the rate of the last step (mass lost / dt) and int_0^t mass dt (trapezoidal rule). */
  bool                  absorbing = false;
  std::vector<PetscInt> absorbing_nodes;
  double                absorbed_mass = 0, absorbed_flux = 0, survival_integral = 0;

  /**
   * Periodic meshes, and adaptive ones with hanging nodes: Q (identities for periodic walls;
   * for a hanging node j the weights c_jm root_pi_j / root_pi_m of u's interpolation
   * constraint, which keep Q root_pi = root_pi), the owned constrained nodes, Q^T (a M + b K)
   * Q. `periodic` says that Q is in use; `hanging_nodes` that it holds weights.
   */
  bool periodic      = false;
  bool hanging_nodes = false;
  /** Hanging nodes: D of y = Q D z, the scaling of the masters' unknowns. */
  PETScWrappers::MPI::Vector       column_scale;
  PETScWrappers::MPI::SparseMatrix periodicity;
  std::vector<PetscInt>            periodic_nodes;
  PETScWrappers::MPI::SparseMatrix condensed_system_matrix;
  /**
   * Adaptive meshes: Q^T A Q as PETSc's PtAP made it, kept with its symbolic part so that
   * the other matrices of the same mesh (one pattern) need the numeric product only.
   * Destroyed when Q changes.
   */
  mutable Mat condensed_product = nullptr;

  /** Mesh/Adaptivity (off: interval 0) and the triangulation it refines. */
  AdaptivityParameters                            adaptivity;
  parallel::distributed::Triangulation<dim, dim> *adaptive_triangulation = nullptr;
  AdaptationReport                                last_report;

  /** FEValues at DataOut's patch points, made at the first output. */
  mutable std::unique_ptr<FEValues<dim>> patch_values;
  /**
   * Tensor-product evaluation at arbitrary points of a cell (evaluate()), made at the first
   * use; shared_ptr so that the type may stay incomplete here.
   */
  mutable std::shared_ptr<FEPointEvaluation<1, dim, dim, double>> point_values;
  /** The mapping of point_values: MappingCartesian on box meshes, else none (the mesh's). */
  mutable std::shared_ptr<const Mapping<dim>> point_mapping;
};
} // namespace densityflow

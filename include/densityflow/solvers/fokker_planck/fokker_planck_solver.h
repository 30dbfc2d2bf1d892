#pragma once

#include <densityflow/base/time_parameters.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/checkpointable_solver.h>
#include <densityflow/solvers/discretization.h>
#include <densityflow/solvers/finite_element_solver.h>
#include <densityflow/solvers/linear_solver.h>

#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <memory>

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
                   std::vector<double>                                     &rho,
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
  LinearSolver                     linear_solver;
  unsigned int                     iterations_after_setup = 0;
  FokkerPlanckSetupTiming          timing;

  /** y^n, y^{n-1}, M y^n, M y^{n-1} (with the old M where V depends on t), K y^n. */
  PETScWrappers::MPI::Vector solution, old_solution;
  PETScWrappers::MPI::Vector mass_solution, old_mass_solution;
  PETScWrappers::MPI::Vector stiffness_solution;

  /** Absorbing walls: whether any, their nodes (this rank's), the mass absorbed so far,
   * the rate of the last step (mass lost / dt) and int_0^t mass dt (trapezoidal rule). */
  bool                  absorbing = false;
  std::vector<PetscInt> absorbing_nodes;
  double                absorbed_mass = 0, absorbed_flux = 0, survival_integral = 0;

  /** Periodic meshes: Q, the owned constrained nodes, Q^T (a M + b K) Q. */
  bool                             periodic = false;
  PETScWrappers::MPI::SparseMatrix periodicity;
  std::vector<PetscInt>            periodic_nodes;
  PETScWrappers::MPI::SparseMatrix condensed_system_matrix;

  /** FEValues at DataOut's patch points, made at the first output. */
  mutable std::unique_ptr<FEValues<dim>> patch_values;
};
} // namespace densityflow

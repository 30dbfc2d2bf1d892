#pragma once

#include <densityflow/base/time_parameters.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/discretization.h>
#include <densityflow/solvers/interface.h>
#include <densityflow/solvers/linear_solver.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <array>
#include <functional>
#include <memory>

namespace densityflow
{
using namespace dealii;

/**
 * The continuity equation with diffusion, d/dt rho + div(rho b) = eps Laplace rho,
 * b = -grad V + f(t) w, eps >= 0, discretised by discontinuous Galerkin: FE_DGQ of
 * degree 0 to 3 (nodal at Gauss-Lobatto points), the upwind flux, and for eps > 0 the
 * symmetric interior penalty method with no diffusive flux through the boundary.
 * Where b.n < 0 on the boundary the inflow density enters; where b.n > 0 mass leaves
 * and is counted in outflow_mass, so that mass + outflow_mass stays at its initial
 * value to round-off (the net of inflow counts as negative outflow).
 *
 * Time stepping:
 * - ssp-rk3 (eps = 0): explicit SSP Runge-Kutta of order 3 with dt = CFL / max_K
 *   (|b|_1 / h_K) and the Zhang-Shu limiter after every stage, which scales each
 *   cell's polynomial towards its mean until it is >= 0 at the points of the
 *   positivity proof (Gauss-Lobatto x Gauss tensor points). For CFL <= the degree's
 *   bound, cell means stay >= 0, so rho >= 0 there, without loss of mass or order.
 *   The inverse mass matrix (block diagonal) is folded into the operator once.
 * - backward-euler, crank-nicolson, bdf2 (any eps): implicit, GMRES with ILU per rank.
 *
 * The operator is assembled once when b does not depend on t; when b = f(t) w(x) it is
 * assembled for w and -w (the upwind side flips with the sign of f) and scaled; only a
 * general b(x, t) is reassembled at every stage.
 */
template <int dim>
class TransportSolver : public DensitySolver<dim>
{
public:
  TransportSolver(const Mesh<dim>                &mesh,
                  const Physics<dim>             &physics,
                  const DiscretizationParameters &discretization,
                  const TimeParameters           &time,
                  const LinearSolverParameters   &linear_solver);
  ~TransportSolver() override;

  std::string             description() const override;
  types::global_dof_index n_dofs() const override;
  double                  set_initial_density(const Expression<dim> &rho0) override;
  unsigned int            advance(const double dt) override;
  double                  time_step() const override;
  void                    set_time(const double t) override;
  bool                    adjustable_time_step() const override;
  double                  time() const override;
  DensityStatistics<dim>  statistics(const Expression<dim> *exact) const override;
  void                    quadrature_measure(const unsigned int                                              n,
                                             std::vector<typename Triangulation<dim>::active_cell_iterator> &cells,
                                             std::vector<Point<dim>>                                        &points,
                                             std::vector<double> &weights) const override;
  void                    density_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                     const std::vector<Point<dim>>                           &points,
                                     std::vector<double>                                     &rho) const override;
  void                    velocity_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                      const std::vector<Point<dim>>                           &points,
                                      std::vector<double>                                     &rho,
                                      std::vector<Tensor<1, dim>> &velocity) const override;
  void fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const override;

  /** The largest CFL number for which SSP-RK3 with the limiter keeps rho >= 0. */
  static double largest_cfl_number(const unsigned int degree);

  /** The nodal values of rho_h. */
  const PETScWrappers::MPI::Vector &solution() const;

  const DoFHandler<dim> &get_dof_handler() const;

  /** Cells the limiter has scaled so far (all stages of all steps). */
  unsigned long n_limited_cells() const;

private:
  /** A(t) = scale * matrix, with its explicit form M^{-1} A and its column sums. */
  struct Operator
  {
    const PETScWrappers::MPI::SparseMatrix *matrix;
    /** M^{-1} A (a raw PETSc matrix: the product of two wrapped ones). */
    void                             *explicit_matrix;
    const PETScWrappers::MPI::Vector *outflow_weights;
    double                            scale;
  };

  /** The advection operator of the velocity field @p b, with its CFL rate max_K |b|_1/h_K. */
  struct Advection
  {
    ~Advection();
    PETScWrappers::MPI::SparseMatrix matrix;
    /** M^{-1} A for explicit steps (a PETSc Mat, owned). */
    void                      *explicit_matrix = nullptr;
    PETScWrappers::MPI::Vector outflow_weights;
    double                     rate = 0;
  };

  void setup_system();
  void assemble_mass();
  void assemble_diffusion();
  void assemble_advection(const std::function<Tensor<1, dim>(const Point<dim> &)> &b,
                          Advection                                               &advection) const;
  void assemble_inflow(const double t, PETScWrappers::MPI::Vector &source) const;
  void setup_limiter();

  /** max_K |b(t)|_1 / h_K, which the CFL number divides. */
  double cfl_rate(const double t) const;

  /** The advection operator at time @p t. */
  Operator advection_at(const double t);

  /** du = M^{-1}(s - A u) at time @p t; returns the net outflow rate a_out.u - 1.s. */
  double explicit_rate(const PETScWrappers::MPI::Vector &u,
                       const double                      t,
                       PETScWrappers::MPI::Vector       &du);

  /** Zhang-Shu: rho >= 0 at the limiter points of every cell, cell means kept. */
  void limit(PETScWrappers::MPI::Vector &u);

  unsigned int advance_explicit(const double dt);
  unsigned int advance_implicit(const double dt);

  const Mesh<dim>               &mesh;
  const Physics<dim>            &physics;
  const DiscretizationParameters discretization;
  const TimeScheme               scheme;
  const double                   fixed_step;
  const double                   cfl;
  MPI_Comm                       mpi_communicator;
  const Mapping<dim>            &mapping;
  FE_DGQ<dim>                    fe;
  QGauss<dim>                    quadrature;
  QGauss<dim - 1>                face_quadrature;
  DoFHandler<dim>                dof_handler;
  IndexSet                       locally_owned_dofs;
  IndexSet                       locally_relevant_dofs;

  PETScWrappers::MPI::SparseMatrix mass_matrix;
  PETScWrappers::MPI::SparseMatrix inverse_mass_matrix;
  PETScWrappers::MPI::SparseMatrix diffusion_matrix;
  PETScWrappers::MPI::SparseMatrix system_matrix;
  /** What system_matrix = a M + b (s A + D) was built from: (a, b, b s) and A. */
  std::array<double, 3>                   system_coefficients{};
  const PETScWrappers::MPI::SparseMatrix *system_operator = nullptr;
  /** Constant b, or w of b = f(t) w (forward) and -w (backward); or b at the last time. */
  std::unique_ptr<Advection> forward, backward;
  double                     assembled_time = std::numeric_limits<double>::quiet_NaN();
  LinearSolver               linear_solver;

  PETScWrappers::MPI::Vector solution_vector, old_solution;
  PETScWrappers::MPI::Vector ghosted_solution;
  PETScWrappers::MPI::Vector ones;
  /** For Crank-Nicolson: (scale A + D) u^n and the inflow source at t_n. */
  PETScWrappers::MPI::Vector old_operator_solution, old_source;

  /** Limiter: each owned cell's first local dof and its mean weights. */
  std::vector<unsigned int> cell_first_dof;
  std::vector<double>       mean_weights;
  /** Values of the shape functions at the limiter's points, row-major. */
  std::vector<double> limiter_points;
  /** max over the points of sum_j max(-phi_j, 0), for a cheap bound from below. */
  double        negative_shape_sum = 0;
  unsigned long limited_cells      = 0;

  double       current_time        = 0;
  unsigned int step_number         = 0;
  double       previous_step       = 0;
  double       outflow             = 0;
  double       last_outflow_change = 0;

  mutable std::unique_ptr<DataPostprocessor<dim>> output_postprocessor;
  mutable Vector<float>                           output_subdomain;
};
} // namespace densityflow

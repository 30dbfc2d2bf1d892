#pragma once

#include <densityflow/base/time_parameters.h>
#include <densityflow/mesh/adaptivity.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/checkpointable_solver.h>
#include <densityflow/solvers/discretization.h>
#include <densityflow/solvers/finite_element_solver.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/transport/dg_discretization.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/lac/petsc_vector.h>

#include <memory>

namespace densityflow
{
using namespace dealii;

template <int dim>
class TransportOperator;
template <int dim>
class ZhangShuLimiter;
template <int dim>
class TransportTimeIntegrator;

/** What the last mesh adaptation of the transport solver did (Mesh/Adaptivity). */
struct TransportAdaptationReport
{
  /** Active cells over all ranks before and after. */
  types::global_cell_index cells_before = 0, cells_after = 0;
  /** Cells refined and coarsened (families merged), over all ranks. */
  types::global_cell_index refined = 0, coarsened = 0;
  /**
   * The mass 1^T M rho before, after the transfer (before the limiter) and after: equal
   * to round-off (refinement is exact, coarsening the L2 projection onto the parent, the
   * limiter keeps each cell's mean).
   */
  double mass_before = 0, mass_transferred = 0, mass_after = 0;
  /** The smallest rho_h at the limiter's points after the transfer and the limiter. */
  double min_after = 0;
  /**
   * Cells the limiter scaled (all ranks): cells to refine, at their children's points,
   * before the transfer (degree >= 2), and cells after it.
   */
  types::global_cell_index limited = 0;
};

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
 * - imex-ssp3 (any eps): the advection as ssp-rk3 (same CFL step and limiter), the
 *   diffusion implicit (IMEXIntegrator), third order.
 * - backward-euler, crank-nicolson, bdf2 (any eps): implicit, GMRES with ILU per rank.
 *
 * The operators (transport/transport_operator.h: advection, diffusion, inflow, mass),
 * the limiter (transport/zhang_shu_limiter.h) and the time integrators
 * (transport/time_integrators.h) are kept apart; this class ties them to the run.
 */
template <int dim>
class TransportSolver : public FiniteElementSolver<dim>, public CheckpointableSolver
{
public:
  TransportSolver(const Mesh<dim>                &mesh,
                  const Physics<dim>             &physics,
                  const DiscretizationParameters &discretization,
                  const TimeParameters           &time,
                  const LinearSolverParameters   &linear_solver);
  ~TransportSolver() override;

  std::string            description() const override;
  double                 set_initial_density(const Expression<dim> &rho0) override;
  unsigned int           advance(const double dt) override;
  double                 time_step() const override;
  bool                   adjustable_time_step() const override;
  DensityStatistics<dim> statistics(const Expression<dim> *exact) const override;
  void                   density_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                    const std::vector<Point<dim>>                           &points,
                                    std::vector<double>                                     &rho) const override;
  void                   velocity_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                     const std::vector<Point<dim>>                           &points,
                                     std::vector<double>                                     *rho,
                                     std::vector<Tensor<1, dim>> &velocity) const override;
  void fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const override;
  /** `cells` on an adaptive mesh; else none. */
  std::vector<std::string> extra_columns() const override;

  /**
   * Adapts the mesh every `Mesh/Adaptivity/Interval` steps (after the step) and `Initial
   * cycles` times on rho0, on @p triangulation, which must be the mesh's
   * (transport_adaptivity.cc). InputError for what is not supported (periodic directions,
   * the Kelly indicators).
   */
  void enable_adaptivity(const AdaptivityParameters                     &parameters,
                         parallel::distributed::Triangulation<dim, dim> &triangulation);

  /**
   * Refines and coarsens the mesh by the indicator (with @p estimate_and_mark; else the
   * caller has set the flags) and carries rho_h and the time integrator's history (BDF2's
   * rho^{n-1}) over with deal.II's SolutionTransfer: exact on refined cells, the L2
   * projection onto the parent on coarsened families, so the mass is kept to round-off;
   * then the Zhang-Shu limiter where the scheme has it. Rebuilds the operators. Collective.
   */
  TransportAdaptationReport adapt_mesh(const bool estimate_and_mark = true);

  /**
   * The clock, the outflow, the time integrator's scalar state, and rho_h with the
   * integrator's checkpoint_vectors() as cell records (transport_checkpoint.cc).
   */
  void save_state(CheckpointValues &values, std::vector<double> &records) const override;
  void load_state(const CheckpointValues                 &values,
                  const std::vector<std::vector<double>> &records) override;

  /** What the last adapt_mesh() did. */
  const TransportAdaptationReport &last_adaptation() const;

  /**
   * The DG jump indicator of rho_h (`Mesh/Adaptivity/Indicator = jump`), one value per
   * active cell (the locally owned ones set).
   */
  Vector<float> jump_indicator() const;

protected:
  using Base = FiniteElementSolver<dim>;
  using Base::current_time;
  using Base::dof_handler;
  using Base::fe;
  using Base::ghosted_solution;
  using Base::locally_owned_dofs;
  using Base::mapping;
  using Base::mpi_communicator;
  using Base::physics;
  using Base::quadrature;
  using Base::scheme;

  void density_on_cell(const typename DoFHandler<dim>::active_cell_iterator &cell,
                       const FEValues<dim>                                  &fe_values,
                       std::vector<double>                                  &rho) const override;

  // Protected for InteractionSolver, which is this solver with a velocity that depends on rho.
  const DiscretizationParameters discretization;
  const double                   fixed_step;
  const double                   cfl;
  QGauss<dim - 1>                face_quadrature;
  const DGDiscretization<dim>    space;

  std::unique_ptr<TransportOperator<dim>>       op;
  std::unique_ptr<ZhangShuLimiter<dim>>         limiter;
  std::unique_ptr<TransportTimeIntegrator<dim>> integrator;

  /** The nodal values of rho_h. */
  PETScWrappers::MPI::Vector solution;
  /** Mass that has left through the boundary since t = 0, net of inflow. */
  double outflow = 0;

private:
  /** The operators, the limiter and the time integrator on the current mesh. */
  void build_operators();
  /** The cellwise L2 projection of @p rho0 with unit mass into solution; returns the scale. */
  double project_initial_density(const Expression<dim> &rho0);
  /** The DoFs and vectors on a changed mesh. */
  void distribute_dofs();

  const LinearSolverParameters linear_solver_parameters;
  /** Mesh/Adaptivity (off: interval 0) and the triangulation it refines. */
  AdaptivityParameters                            adaptivity;
  parallel::distributed::Triangulation<dim, dim> *adaptive_triangulation = nullptr;
  TransportAdaptationReport                       last_report;
};
} // namespace densityflow

#pragma once

#include <densityflow/solvers/interaction/interaction_field.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>
#include <densityflow/solvers/transport/transport_solver.h>

#include <deal.II/lac/petsc_vector.h>

#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * The Wasserstein gradient flow of E(rho) = int V rho + 1/2 int int W(x - y) d(rho - nu)(x)
 * d(rho - nu)(y) + eps int rho log rho (Physics/Model = interaction, eps >= 0):
 *
 *     d/dt rho = div(rho grad(V + W * (rho - nu))) + eps Laplace rho,
 *
 * with W the kernel of Interaction/Kernel (RadialKernel: Riesz -|z|^r, Gaussian,
 * attractive-repulsive) and nu the target of the Interaction subsection (none: an
 * aggregation flow; with V = 0 the MMD flow of 1/2 MMD_W^2(rho, nu)). It is the transport
 * solver (DG, upwind flux, SSP-RK3 with the Zhang-Shu limiter; for eps > 0 IMEX-SSP3 with
 * the SIPG diffusion implicit) with a velocity that depends on
 * the density: b = -grad V - grad(W * mu_h), mu_h the quadrature measure of rho_h - nu (the
 * atoms (x_q, (rho_h(x_q) - nu(x_q)) JxW_q) of the solver's Gauss rule, gathered on every rank),
 * recomputed from each Runge-Kutta stage's density before the stage's operator is assembled
 * (TransportOperator::set_stage_velocity()).
 */
template <int dim>
class InteractionSolver : public TransportSolver<dim>
{
public:
  InteractionSolver(const Mesh<dim>                &mesh,
                    const Physics<dim>             &physics,
                    const InteractionParameters    &interaction,
                    const DiscretizationParameters &discretization,
                    const TimeParameters           &time,
                    const LinearSolverParameters   &linear_solver);
  ~InteractionSolver() override;

  std::string            description() const override;
  double                 set_initial_density(const Expression<dim> &rho0) override;
  unsigned int           advance(const double dt) override;
  double                 time_step() const override;
  DensityStatistics<dim> statistics(const Expression<dim> *exact) const override;
  /** mmd_squared where a target nu is given; none otherwise. */
  std::vector<std::string> extra_columns() const override;
  void velocity_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                   const std::vector<Point<dim>>                           &points,
                   std::vector<double>                                     *rho,
                   std::vector<Tensor<1, dim>> &velocity) const override;
  void fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const override;
  /**
   * The transport solver's state (the interaction field is a function of rho_h: it is
   * gathered again from the restored density, as after a step).
   */
  void load_state(const CheckpointValues                 &values,
                  const std::vector<std::vector<double>> &records) override;

  /** b(x) = -grad V(x) - grad(W * mu_h)(x) of the current density. */
  Tensor<1, dim> velocity(const Point<dim> &x) const;

  /**
   * E(rho_h) = int V rho_h + 1/2 sum_ij W(x_i - x_j) mu_i mu_j over the atoms of mu_h (without
   * eps int rho log rho, which the free_energy column adds).
   */
  double energy() const;

  /** MMD_W^2(rho_h, nu) = sum_ij W(x_i - x_j) mu_i mu_j >= 0; NaN without a target. */
  double mmd_squared() const;

  /** The interaction of the current density's atoms (for tests). */
  const InteractionField<dim> &field() const;

private:
  using Base = TransportSolver<dim>;
  using Base::current_time;
  using Base::dof_handler;
  using Base::fe;
  using Base::ghosted_solution;
  using Base::locally_owned_dofs;
  using Base::mapping;
  using Base::mpi_communicator;
  using Base::physics;
  using Base::quadrature;

  /** nu JxW at the quadrature points of the locally owned cells (unit mass over all ranks). */
  void set_target(const std::string &target);
  /** Sliced: the points where the stages evaluate b (cell and face quadrature points). */
  std::vector<Point<dim>> stage_points() const;
  /** Gathers the atoms of rho_h - nu for the density @p u (owned layout) into @p into. */
  void gather_atoms(const PETScWrappers::MPI::Vector &u, InteractionField<dim> &into) const;
  /** -grad V at (x, t): the part of b that does not depend on rho. */
  Tensor<1, dim> potential_drift(const Point<dim> &x, const double t) const;
  /** max_K |b|_1 / h_K of the current density at the quadrature points. */
  double current_rate() const;

  const InteractionParameters parameters;
  /** nu as samples (Target/Samples): atoms of weight -w_j / sum w, the same on every rank. */
  std::vector<Point<dim>> sample_points;
  std::vector<double>     sample_weights;
  const bool              has_target;
  std::vector<double>     target_weights;
  /** The current density's field, and the one of the stage being assembled. */
  InteractionField<dim> current, stage;
  /** The field of the stage being assembled: current's for the first stage of a step. */
  const InteractionField<dim> *stage_field = &stage;
  double                       stage_time  = 0;
  double                       rate        = 0;
  /** A ghosted copy of a stage's density. */
  mutable PETScWrappers::MPI::Vector stage_ghosted;
};
} // namespace densityflow

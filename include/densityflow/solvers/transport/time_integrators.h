#pragma once

#include <densityflow/base/time_parameters.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/transport/transport_operator.h>
#include <densityflow/solvers/transport/zhang_shu_limiter.h>

#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <array>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * A time integrator of M rho' + (A(t) + D) rho = s(t) (TransportOperator). Each step
 * also integrates the net outflow a_out(t).rho - 1.s(t) with the scheme's own
 * quadrature, so that mass + outflow_mass stays at its initial value to round-off.
 */
template <int dim>
class TransportTimeIntegrator
{
public:
  virtual ~TransportTimeIntegrator() = default;

  /** Takes @p u as the density at t = 0 (it may change it: the limiter). */
  virtual void start(PETScWrappers::MPI::Vector &u) = 0;

  /**
   * Advances @p u from @p t by @p dt, with BDF2 where @p bdf2 (the previous step was of
   * the same size); adds the outflow of the step to @p outflow_change (set, not added).
   * Returns the linear-solver iterations.
   */
  virtual unsigned int step(PETScWrappers::MPI::Vector &u,
                            const double                t,
                            const double                dt,
                            const bool                  bdf2,
                            double                     &outflow_change) = 0;

  /** The linear solver, for the log; empty for explicit schemes. */
  virtual std::string description() const = 0;

  /**
   * The densities of earlier steps that the next step needs (BDF2: rho^{n-1}; none for
   * the one-step schemes), for a mesh change to carry over.
   */
  virtual std::vector<PETScWrappers::MPI::Vector *> history() { return {}; }

  /**
   * Continues from @p u at time @p t after a mesh change, as the integrator that was
   * stepping: @p history are the vectors of the old integrator's history(), carried to
   * this mesh, and @p state its scalar state (state()). Recomputes what depends on the
   * operators (Crank-Nicolson's (s A + D) u and inflow at t).
   */
  virtual void resume(const PETScWrappers::MPI::Vector                      &u,
                      const double                                           t,
                      const std::vector<const PETScWrappers::MPI::Vector *> &history,
                      const double                                           state)
  {
    (void)u, (void)t, (void)history, (void)state;
  }

  /** The scalar state a step carries to the next (BDF2's last outflow); 0 if none. */
  virtual double state() const { return 0; }

  /**
   * Every vector the next step reads besides u, for a checkpoint: history() and what
   * resume() would recompute (Crank-Nicolson's (s A + D) u^n and inflow at t_n), kept
   * so that the continued run is the uninterrupted one to the bit. After resume() on the
   * same mesh, setting them restores the integrator.
   */
  virtual std::vector<PETScWrappers::MPI::Vector *> checkpoint_vectors() { return history(); }
};

/**
 * Explicit Shu-Osher SSP-RK3 with the Zhang-Shu limiter after every stage: for CFL <=
 * largest_cfl_number(degree), cell means stay >= 0, so rho >= 0 at the limiter points.
 */
template <int dim>
class SSPRK3Integrator : public TransportTimeIntegrator<dim>
{
public:
  SSPRK3Integrator(TransportOperator<dim> &op, const ZhangShuLimiter<dim> &limiter);

  void         start(PETScWrappers::MPI::Vector &u) override;
  unsigned int step(PETScWrappers::MPI::Vector &u,
                    const double                t,
                    const double                dt,
                    const bool                  bdf2,
                    double                     &outflow_change) override;
  std::string  description() const override;

private:
  TransportOperator<dim>     &op;
  const ZhangShuLimiter<dim> &limiter;
  /** The stage and its rate, kept from step to step (reinitialised when the mesh changes). */
  PETScWrappers::MPI::Vector stage, rate;
};

/**
 * IMEX-SSP3(4,3,3) (Pareschi and Russo, J. Sci. Comput. 25, 2005) for M u' = -A(u) u + s - D u:
 * the advection (and inflow) explicit with the Shu-Osher SSP-RK3 tableau, A assembled from
 * each stage's density where a stage velocity is set; the diffusion D implicit with an
 * L-stable SDIRK (diagonal alpha = 0.2417) of the same weights; third order in time. Each
 * stage solves (M + alpha dt D) U_i = M (u + dt sum_j a_ij F_j) - dt sum_j a~_ij D U_j by CG,
 * and is limited (Zhang-Shu: the cell means are kept, so it changes nothing where they are
 * >= 0 and the polynomial is, and it cannot lift a negative mean, which the min-density
 * diagnostics then show). The step is u + dt sum_i b_i (F_i - M^{-1} D U_i), limited: its
 * mass changes by the outflow only, whatever the solver's tolerance (1^T D = 0).
 */
template <int dim>
class IMEXIntegrator : public TransportTimeIntegrator<dim>
{
public:
  IMEXIntegrator(TransportOperator<dim>       &op,
                 const ZhangShuLimiter<dim>   &limiter,
                 const LinearSolverParameters &linear_solver);

  void         start(PETScWrappers::MPI::Vector &u) override;
  unsigned int step(PETScWrappers::MPI::Vector &u,
                    const double                t,
                    const double                dt,
                    const bool                  bdf2,
                    double                     &outflow_change) override;
  std::string  description() const override;

private:
  TransportOperator<dim>          &op;
  const ZhangShuLimiter<dim>      &limiter;
  PETScWrappers::MPI::SparseMatrix system_matrix;
  /** The alpha dt that system_matrix = M + alpha dt D was built for. */
  double       system_step = -1;
  LinearSolver linear_solver;
};

/**
 * The implicit schemes a M u + b (s A + D) u = rhs at t_{n+1}: backward Euler (1, dt),
 * Crank-Nicolson (1, dt/2), BDF2 (3/2, dt) after a backward-Euler start; GMRES with
 * the configured preconditioner (auto: ILU per rank).
 */
template <int dim>
class ImplicitIntegrator : public TransportTimeIntegrator<dim>
{
public:
  ImplicitIntegrator(TransportOperator<dim>       &op,
                     const TimeScheme              scheme,
                     const LinearSolverParameters &linear_solver);

  void         start(PETScWrappers::MPI::Vector &u) override;
  unsigned int step(PETScWrappers::MPI::Vector &u,
                    const double                t,
                    const double                dt,
                    const bool                  bdf2,
                    double                     &outflow_change) override;
  std::string  description() const override;
  /** u^{n-1}. */
  std::vector<PETScWrappers::MPI::Vector *> history() override;
  void                                      resume(const PETScWrappers::MPI::Vector                      &u,
                                                   const double                                           t,
                                                   const std::vector<const PETScWrappers::MPI::Vector *> &history,
                                                   const double                                           state) override;
  /** The outflow of the last step, which BDF2's quadrature of the outflow uses. */
  double state() const override;
  /** u^{n-1}; for Crank-Nicolson also (s A + D) u^n and the inflow at t_n. */
  std::vector<PETScWrappers::MPI::Vector *> checkpoint_vectors() override;

private:
  /** a M + b (s A + D): rebuilt (with its preconditioner) only when it changes. */
  void set_system_matrix(const AdvectionAtTime &A, const double a, const double b);

  TransportOperator<dim>          &op;
  const TimeScheme                 scheme;
  PETScWrappers::MPI::SparseMatrix system_matrix;
  /** What system_matrix = a M + b (s A + D) was built from: (a, b, b s) and A. */
  std::array<double, 3>                   system_coefficients{};
  const PETScWrappers::MPI::SparseMatrix *system_operator = nullptr;
  LinearSolver                            linear_solver;
  /** u^{n-1}, for BDF2. */
  PETScWrappers::MPI::Vector old_solution;
  /** For Crank-Nicolson: (s A + D) u^n and the inflow source at t_n. */
  PETScWrappers::MPI::Vector old_operator_solution, old_source;
  /** The outflow of the previous step, which BDF2's quadrature of the outflow uses. */
  double last_outflow_change = 0;
};
} // namespace densityflow

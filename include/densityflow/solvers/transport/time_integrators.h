#pragma once

#include <densityflow/base/time_parameters.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/transport/transport_operator.h>
#include <densityflow/solvers/transport/zhang_shu_limiter.h>

#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <array>
#include <string>

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

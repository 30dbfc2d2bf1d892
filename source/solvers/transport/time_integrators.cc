#include <densityflow/base/compensated_sum.h>
#include <densityflow/solvers/petsc_array.h>
#include <densityflow/solvers/transport/imex_tableau.h>
#include <densityflow/solvers/transport/time_integrators.h>

#include <optional>
#include <vector>

namespace densityflow
{
template <int dim>
SSPRK3Integrator<dim>::SSPRK3Integrator(TransportOperator<dim>     &op,
                                        const ZhangShuLimiter<dim> &limiter)
    : op(op)
    , limiter(limiter)
{}

template <int dim>
void SSPRK3Integrator<dim>::start(PETScWrappers::MPI::Vector &u)
{
  // The projection of rough data over- and undershoots; the explicit scheme starts
  // from limited data, as its positivity argument needs.
  limiter.limit(u);
}

namespace
{
/**
 * One Shu-Osher stage in one pass over the owned entries: target = a p + b (q + dt r),
 * where a null @p p or @p q stands for the target itself. It replaces a copy, an AXPY and
 * an AXPBY of PETSc (and, through dt, the scaling of r), each a pass over the vectors.
 */
void shu_osher_stage(PETScWrappers::MPI::Vector       &target,
                     const double                      a,
                     const PETScWrappers::MPI::Vector *p,
                     const double                      b,
                     const PETScWrappers::MPI::Vector *q,
                     const double                      dt,
                     const PETScWrappers::MPI::Vector &r)
{
  WriteArray               out(static_cast<const Vec &>(target));
  const ReadArray          rate(static_cast<const Vec &>(r));
  std::optional<ReadArray> p_array, q_array;
  if (p != nullptr)
    p_array.emplace(static_cast<const Vec &>(*p));
  if (q != nullptr)
    q_array.emplace(static_cast<const Vec &>(*q));
  double           *w  = out.data();
  const double     *x  = p_array ? p_array->data() : w;
  const double     *y  = q_array ? q_array->data() : w;
  const double     *dr = rate.data();
  const std::size_t n  = target.locally_owned_size();
  // a = 0 reads no p: the target's old values, which it may stand for, are not used.
  if (a == 0 && b == 1)
    for (std::size_t k = 0; k < n; ++k)
      w[k] = y[k] + dt * dr[k];
  else
    for (std::size_t k = 0; k < n; ++k)
      w[k] = a * x[k] + b * (y[k] + dt * dr[k]);
}
} // namespace

template <int dim>
unsigned int SSPRK3Integrator<dim>::step(PETScWrappers::MPI::Vector &u,
                                         const double                t,
                                         const double                dt,
                                         const bool /*bdf2*/,
                                         double &outflow_change)
{
  // Shu-Osher SSP-RK3; each stage limited. The outflow of the step is the same
  // combination of the stage outflow rates, 1/6, 1/6, 2/3, so the mass balance is exact.
  if (stage.size() != u.size() || stage.locally_owned_elements() != u.locally_owned_elements())
    {
      stage.reinit(u);
      rate.reinit(u);
    }
  double       f;
  const double r0 = op.explicit_rate(u, t, rate, &f);
  shu_osher_stage(stage, 0, nullptr, 1, &u, dt * f, rate);
  limiter.limit(stage);
  const double r1 = op.explicit_rate(stage, t + dt, rate, &f);
  shu_osher_stage(stage, 0.75, &u, 0.25, nullptr, dt * f, rate);
  limiter.limit(stage);
  const double r2 = op.explicit_rate(stage, t + dt / 2, rate, &f);
  shu_osher_stage(u, 1.0 / 3, nullptr, 2.0 / 3, &stage, dt * f, rate);
  limiter.limit(u);
  outflow_change = dt * (r0 / 6 + r1 / 6 + 2 * r2 / 3);
  return 0;
}

template <int dim>
std::string SSPRK3Integrator<dim>::description() const
{
  return "";
}

template <int dim>
IMEXIntegrator<dim>::IMEXIntegrator(TransportOperator<dim>       &op,
                                    const ZhangShuLimiter<dim>   &limiter,
                                    const LinearSolverParameters &linear_solver_parameters)
    : op(op)
    , limiter(limiter)
    , linear_solver(linear_solver_parameters, op.space().communicator, true)
{
  if (op.diffusion_matrix() != nullptr)
    op.space().reinit_flux_matrix(system_matrix);
}

template <int dim>
void IMEXIntegrator<dim>::start(PETScWrappers::MPI::Vector &u)
{
  limiter.limit(u);
}

template <int dim>
unsigned int IMEXIntegrator<dim>::step(PETScWrappers::MPI::Vector &u,
                                       const double                t,
                                       const double                dt,
                                       const bool /*bdf2*/,
                                       double &outflow_change)
{
  const PETScWrappers::MPI::SparseMatrix *D = op.diffusion_matrix();
  if (D != nullptr && system_step != imex_ssp3_alpha * dt)
    {
      system_matrix.copy_from(*D);
      system_matrix *= imex_ssp3_alpha * dt;
      system_matrix.add(1.0, op.mass_matrix());
      linear_solver.set_matrix(system_matrix);
      system_step = imex_ssp3_alpha * dt;
    }
  // F_i = M^{-1}(s - A(U_i) U_i) and K_i = D U_i of the stages; stage 0 has no explicit part.
  std::vector<PETScWrappers::MPI::Vector> F(4, u), K(D != nullptr ? 4 : 0, u);
  PETScWrappers::MPI::Vector              stage(u), rhs(u);
  double                                  rates[4]   = {0, 0, 0, 0};
  unsigned int                            iterations = 0;
  for (unsigned int i = 0; i < 4; ++i)
    {
      stage = u;
      for (unsigned int j = 0; j < i; ++j)
        if (imex_ssp3.explicit_a[i][j] != 0)
          stage.add(dt * imex_ssp3.explicit_a[i][j], F[j]);
      if (D != nullptr)
        {
          op.mass_matrix().vmult(rhs, stage);
          for (unsigned int j = 0; j < i; ++j)
            rhs.add(-dt * imex_ssp3.implicit_a[i][j], K[j]);
          iterations += linear_solver.solve(stage, rhs);
        }
      limiter.limit(stage);
      if (i > 0)
        rates[i] = op.explicit_rate(stage, t + imex_ssp3.explicit_c[i] * dt, F[i]);
      if (D != nullptr)
        D->vmult(K[i], stage);
    }
  // u += dt sum_i b_i (F_i - M^{-1} K_i); b_0 = 0.
  for (unsigned int i = 1; i < 4; ++i)
    u.add(dt * imex_ssp3.b[i], F[i]);
  if (D != nullptr)
    {
      rhs = 0;
      for (unsigned int i = 1; i < 4; ++i)
        rhs.add(imex_ssp3.b[i], K[i]);
      op.inverse_mass_matrix().vmult(stage, rhs);
      u.add(-dt, stage);
    }
  limiter.limit(u);
  outflow_change = dt * (rates[1] / 6 + rates[2] / 6 + 2 * rates[3] / 3);
  return iterations;
}

template <int dim>
std::string IMEXIntegrator<dim>::description() const
{
  return "IMEX-SSP3(4,3,3), diffusion by " + linear_solver.description();
}

template <int dim>
ImplicitIntegrator<dim>::ImplicitIntegrator(TransportOperator<dim>       &op,
                                            const TimeScheme              scheme,
                                            const LinearSolverParameters &linear_solver_parameters)
    : op(op)
    , scheme(scheme)
    , linear_solver(linear_solver_parameters, op.space().communicator, false)
{
  op.space().reinit_flux_matrix(system_matrix);
}

template <int dim>
void ImplicitIntegrator<dim>::start(PETScWrappers::MPI::Vector &u)
{
  old_solution.reinit(u);
  old_solution = u;
  if (scheme == TimeScheme::crank_nicolson)
    {
      old_operator_solution.reinit(u);
      old_source.reinit(u);
      op.apply(op.advection_at(0.0), u, old_operator_solution);
      op.inflow(0.0, old_source);
    }
}

template <int dim>
void ImplicitIntegrator<dim>::set_system_matrix(const AdvectionAtTime &A,
                                                const double           a,
                                                const double           b)
{
  const std::array<double, 3> coefficients = {{a, b, b * A.scale}};
  if (coefficients == system_coefficients && A.matrix == system_operator && !op.reassembled())
    return;
  system_matrix.copy_from(*A.matrix);
  system_matrix *= b * A.scale;
  system_matrix.add(a, op.mass_matrix());
  if (op.diffusion_matrix() != nullptr)
    system_matrix.add(b, *op.diffusion_matrix());
  linear_solver.set_matrix(system_matrix);
  system_coefficients = coefficients;
  system_operator     = A.matrix;
}

template <int dim>
unsigned int ImplicitIntegrator<dim>::step(PETScWrappers::MPI::Vector &u,
                                           const double                t,
                                           const double                dt,
                                           const bool                  bdf2,
                                           double                     &outflow_change)
{
  const double               t_new = t + dt;
  const AdvectionAtTime      A     = op.advection_at(t_new);
  PETScWrappers::MPI::Vector source(u), rhs(u), work(u);
  op.inflow(t_new, source);

  const double a = bdf2 ? 1.5 : 1.0, b = scheme == TimeScheme::crank_nicolson ? dt / 2 : dt;
  op.mass_matrix().vmult(rhs, u);
  if (bdf2)
    {
      op.mass_matrix().vmult(work, old_solution);
      rhs.sadd(2.0, -0.5, work);
    }
  rhs.add(b, source);
  if (scheme == TimeScheme::crank_nicolson)
    {
      rhs.add(-dt / 2, old_operator_solution);
      rhs.add(dt / 2, old_source);
    }
  set_system_matrix(A, a, b);

  PETScWrappers::MPI::Vector new_solution(u);
  const unsigned int         iterations = linear_solver.solve(new_solution, rhs);

  // The balance 1^T S u = 1^T rhs (mass, outflow and inflow) holds exactly for the
  // exact solution; scaling u restores what the solver's residual breaks.
  system_matrix.vmult(work, new_solution);
  new_solution *= compensated_sum(rhs) / compensated_sum(work);

  // The net outflow rate at t_{n+1}, and the scheme's quadrature of it.
  const double rate =
      A.scale * compensated_dot(*A.outflow_weights, new_solution) - compensated_sum(source);
  if (scheme == TimeScheme::crank_nicolson)
    {
      const double old_rate = compensated_sum(old_operator_solution) - compensated_sum(old_source);
      last_outflow_change   = dt / 2 * (old_rate + rate);
      op.apply(A, new_solution, old_operator_solution);
      old_source = source;
    }
  else
    last_outflow_change = bdf2 ? 2.0 / 3 * dt * rate + last_outflow_change / 3 : dt * rate;

  old_solution   = u;
  u              = new_solution;
  outflow_change = last_outflow_change;
  return iterations;
}

template <int dim>
std::string ImplicitIntegrator<dim>::description() const
{
  return linear_solver.description();
}

template <int dim>
std::vector<PETScWrappers::MPI::Vector *> ImplicitIntegrator<dim>::history()
{
  return {&old_solution};
}

template <int dim>
void ImplicitIntegrator<dim>::resume(const PETScWrappers::MPI::Vector                      &u,
                                     const double                                           t,
                                     const std::vector<const PETScWrappers::MPI::Vector *> &history,
                                     const double                                           state)
{
  old_solution.reinit(u);
  old_solution        = history.empty() ? u : *history[0];
  last_outflow_change = state;
  if (scheme == TimeScheme::crank_nicolson)
    {
      old_operator_solution.reinit(u);
      old_source.reinit(u);
      op.apply(op.advection_at(t), u, old_operator_solution);
      op.inflow(t, old_source);
    }
}

template <int dim>
double ImplicitIntegrator<dim>::state() const
{
  return last_outflow_change;
}

template <int dim>
std::vector<PETScWrappers::MPI::Vector *> ImplicitIntegrator<dim>::checkpoint_vectors()
{
  if (scheme == TimeScheme::crank_nicolson)
    return {&old_solution, &old_operator_solution, &old_source};
  return {&old_solution};
}

template class SSPRK3Integrator<1>;
template class SSPRK3Integrator<2>;
template class SSPRK3Integrator<3>;
template class IMEXIntegrator<1>;
template class IMEXIntegrator<2>;
template class IMEXIntegrator<3>;
template class ImplicitIntegrator<1>;
template class ImplicitIntegrator<2>;
template class ImplicitIntegrator<3>;
} // namespace densityflow

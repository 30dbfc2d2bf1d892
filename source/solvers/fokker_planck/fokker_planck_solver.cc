#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/sparsity_tools.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <petscmat.h>

#include <cmath>
#include <sstream>

namespace densityflow
{
namespace
{
template <int dim>
std::string point_to_string(const Point<dim> &p)
{
  std::ostringstream out;
  out << "(" << p << ")";
  return out.str();
}

/** The degree, once the Fokker-Planck model is known to accept it and the scheme. */
unsigned int checked_degree(const unsigned int degree, const TimeScheme scheme)
{
  if (degree < 1)
    throw InputError("Discretization/Degree = 0 is out of range for the Fokker-Planck model: it "
                     "must be 1, 2 or 3.");
  if (scheme == TimeScheme::ssp_rk3)
    throw InputError(
        "Time/Scheme = ssp-rk3 is for the transport model without diffusion; the Fokker-Planck "
        "solver is implicit (backward-euler, crank-nicolson, bdf2).");
  return degree;
}

/** The Bernoulli function B(s) = s / (e^s - 1), B(0) = 1, finite for all s. */
double bernoulli(const double s)
{
  if (std::abs(s) < 1e-8)
    return 1.0 - s / 2;
  if (s > 0)
    return s * std::exp(-s) / -std::expm1(-s);
  return s / std::expm1(s);
}

/**
 * The fields of density.pvd: rho, V, the normalised pi, the probability-flow velocity
 * v = -(grad V + eps grad log rho), and the exact solution and error where one is
 * given. It evaluates the solver on the cell it is handed, since rho is not a finite
 * element function of the unknowns y.
 */
template <int dim>
class FokkerPlanckPostprocessor : public DataPostprocessor<dim>
{
public:
  FokkerPlanckPostprocessor(const FokkerPlanckSolver<dim> &solver,
                            const Physics<dim>            &physics,
                            const double                   shift,
                            const double                   partition_function,
                            const Expression<dim>         *exact)
      : solver(solver)
      , physics(physics)
      , shift(shift)
      , partition_function(partition_function)
      , exact(exact)
  {}

  void evaluate_scalar_field(const DataPostprocessorInputs::Scalar<dim> &inputs,
                             std::vector<Vector<double>>                &computed) const override
  {
    const auto                  cell = inputs.template get_cell<dim>();
    std::vector<double>         rho;
    std::vector<Tensor<1, dim>> velocity;
    std::vector<double>         V(inputs.evaluation_points.size());
    const double                time = solver.time();
    for (unsigned int q = 0; q < V.size(); ++q)
      V[q] = physics.potential().value(inputs.evaluation_points[q], time);
    solver.evaluate_at_patch_points(cell, inputs.evaluation_points, V, rho, velocity);
    for (unsigned int q = 0; q < inputs.evaluation_points.size(); ++q)
      {
        const Point<dim> &x = inputs.evaluation_points[q];
        unsigned int      k = 0;
        computed[q](k++)    = rho[q];
        computed[q](k++)    = V[q];
        computed[q](k++)    = std::exp(-(V[q] - shift) / physics.diffusion()) / partition_function;
        for (unsigned int d = 0; d < dim; ++d)
          computed[q](k++) = velocity[q][d];
        if (exact != nullptr)
          {
            const double rho_exact = exact->value(x, time);
            computed[q](k++)       = rho_exact;
            computed[q](k++)       = rho[q] - rho_exact;
          }
      }
  }

  std::vector<std::string> get_names() const override
  {
    std::vector<std::string> names = {"rho", "V", "pi"};
    for (unsigned int d = 0; d < dim; ++d)
      names.emplace_back("velocity");
    if (exact != nullptr)
      {
        names.emplace_back("exact");
        names.emplace_back("error");
      }
    return names;
  }

  std::vector<DataComponentInterpretation::DataComponentInterpretation>
  get_data_component_interpretation() const override
  {
    std::vector<DataComponentInterpretation::DataComponentInterpretation> kinds(
        3, DataComponentInterpretation::component_is_scalar);
    for (unsigned int d = 0; d < dim; ++d)
      kinds.push_back(DataComponentInterpretation::component_is_part_of_vector);
    if (exact != nullptr)
      kinds.insert(kinds.end(), 2, DataComponentInterpretation::component_is_scalar);
    return kinds;
  }

  UpdateFlags get_needed_update_flags() const override { return update_quadrature_points; }

private:
  const FokkerPlanckSolver<dim> &solver;
  const Physics<dim>            &physics;
  const double                   shift;
  const double                   partition_function;
  const Expression<dim>         *exact;
};
} // namespace

template <int dim>
FokkerPlanckSolver<dim>::FokkerPlanckSolver(const Mesh<dim>                &mesh,
                                            const Physics<dim>             &physics,
                                            const DiscretizationParameters &discretization,
                                            const TimeParameters           &time,
                                            const LinearSolverParameters &linear_solver_parameters)
    : mesh(mesh)
    , physics(physics)
    , discretization(discretization)
    , scheme(time.scheme == TimeScheme::automatic ? TimeScheme::bdf2 : time.scheme)
    , step_size(time.step_size())
    , mpi_communicator(mesh.communicator())
    , mapping(mesh.mapping())
    , fe(checked_degree(discretization.degree, time.scheme))
    , quadrature(discretization.degree + 2)
    , dof_handler(mesh.triangulation())
    , linear_solver(linear_solver_parameters, mesh.communicator())
{
  if (!(physics.diffusion() > 0) || !std::isfinite(physics.diffusion()))
    throw InputError("Physics/Diffusion must be positive for the Fokker-Planck equation, but "
                     "it is " +
                     std::to_string(physics.diffusion()) + ".");

  dof_handler.distribute_dofs(fe);
  locally_owned_dofs = dof_handler.locally_owned_dofs();
  DoFTools::extract_locally_relevant_dofs(dof_handler, locally_relevant_dofs);

  DynamicSparsityPattern dsp(locally_relevant_dofs);
  DoFTools::make_sparsity_pattern(dof_handler, dsp);
  SparsityTools::distribute_sparsity_pattern(
      dsp, locally_owned_dofs, mpi_communicator, locally_relevant_dofs);
  stiffness_matrix.reinit(locally_owned_dofs, locally_owned_dofs, dsp, mpi_communicator);
  system_matrix.reinit(locally_owned_dofs, locally_owned_dofs, dsp, mpi_communicator);
  if (!discretization.mass_lumping)
    mass_matrix.reinit(locally_owned_dofs, locally_owned_dofs, dsp, mpi_communicator);

  for (auto *v : {&lumped_mass,
                  &root_pi,
                  &solution,
                  &old_solution,
                  &mass_solution,
                  &old_mass_solution,
                  &stiffness_solution})
    v->reinit(locally_owned_dofs, mpi_communicator);
  ghosted_solution.reinit(locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
  nodal_potential.reinit(locally_owned_dofs, locally_relevant_dofs, mpi_communicator);

  update_potential(0.0);
  assemble_matrices();
}

template <int dim>
FokkerPlanckSolver<dim>::~FokkerPlanckSolver() = default;

template <int dim>
void FokkerPlanckSolver<dim>::update_potential(const double t)
{
  if (potential_evaluated && !physics.potential().depends_on_time())
    return;

  const Quadrature<dim> support_quadrature(fe.get_unit_support_points());
  FEValues<dim>         fe_values(mapping, fe, quadrature, update_quadrature_points);
  FEValues<dim>         support_values(mapping, fe, support_quadrature, update_quadrature_points);
  const unsigned int    n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);

  potential_at_quadrature_points.assign(mesh.triangulation().n_active_cells() * n_q, 0.);
  PETScWrappers::MPI::Vector owned_potential(locally_owned_dofs, mpi_communicator);
  std::vector<bool>          done(locally_owned_dofs.n_elements(), false);

  double      minimum = std::numeric_limits<double>::infinity();
  bool        failed  = false;
  std::string message;
  const auto  evaluate = [&](const Point<dim> &x) {
    const double value = physics.potential().value(x, t);
    if (!std::isfinite(value) && !failed)
      {
        failed = true;
        std::ostringstream out;
        out << "Physics/Potential = '" << physics.potential().expression().text()
            << "' is not finite at x = " << point_to_string(x) << ", t = " << t << " (value "
            << value << ").";
        message = out.str();
      }
    minimum = std::min(minimum, value);
    return value;
  };
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const unsigned int c = cell->active_cell_index();
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < n_q; ++q)
          potential_at_quadrature_points[c * n_q + q] = evaluate(fe_values.quadrature_point(q));
        // Each node's V is evaluated once, by its owner, so that all cells and ranks
        // see the same value and K annihilates the stationary state exactly.
        support_values.reinit(cell);
        cell->get_dof_indices(dof_indices);
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          if (locally_owned_dofs.is_element(dof_indices[i]))
            {
              const auto k = locally_owned_dofs.index_within_set(dof_indices[i]);
              if (!done[k])
                {
                  owned_potential(dof_indices[i]) = evaluate(support_values.quadrature_point(i));
                  done[k]                         = true;
                }
            }
      }
  owned_potential.compress(VectorOperation::insert);
  throw_if_any(failed, message, mpi_communicator, t > 0);

  const double               old_shift = shift;
  PETScWrappers::MPI::Vector old_root_pi(root_pi);
  shift = Utilities::MPI::min(minimum, mpi_communicator);
  for (const auto j : locally_owned_dofs)
    root_pi(j) = std::exp(-(owned_potential(j) - shift) / (2 * physics.diffusion()));
  root_pi.compress(VectorOperation::insert);

  if (potential_evaluated)
    {
      // V changed: carry the stored vectors over to the new scaling. Vectors of
      // values (y) scale by root_pi_new / root_pi_old, tested vectors (M y, K y) by
      // the inverse; both from exponent differences, so nothing over- or underflows.
      PETScWrappers::MPI::Vector up(root_pi), down(root_pi);
      for (const auto j : locally_owned_dofs)
        {
          const double change = (-(owned_potential(j) - shift) + (nodal_potential(j) - old_shift)) /
                                (2 * physics.diffusion());
          up(j)   = std::exp(change);
          down(j) = std::exp(-change);
        }
      up.compress(VectorOperation::insert);
      down.compress(VectorOperation::insert);
      for (auto *v : {&solution, &old_solution})
        v->scale(up);
      for (auto *v : {&mass_solution, &old_mass_solution, &stiffness_solution})
        v->scale(down);
    }
  (void)old_root_pi;
  nodal_potential     = owned_potential;
  potential_evaluated = true;
  matrices_changed    = true;
}

template <int dim>
void FokkerPlanckSolver<dim>::assemble_matrices()
{
  const double  eps = physics.diffusion();
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_gradients | update_JxW_values);
  const unsigned int  n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  FullMatrix<double>  cell_mass(dofs_per_cell), cell_stiffness(dofs_per_cell);
  Vector<double>      cell_lumped(dofs_per_cell);
  std::vector<double> V(dofs_per_cell);
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);

  stiffness_matrix = 0;
  lumped_mass      = 0;
  if (!discretization.mass_lumping)
    mass_matrix = 0;

  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell->get_dof_indices(dof_indices);
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          V[i] = nodal_potential(dof_indices[i]);
        const double *V_q = &potential_at_quadrature_points[cell->active_cell_index() * n_q];

        // Scaled entries: M_ij = int pi phi_i phi_j / sqrt(pi_i pi_j), whose weight
        // exp(-(V - (V_i + V_j)/2)/eps) involves differences of V only.
        cell_mass      = 0;
        cell_stiffness = 0;
        cell_lumped    = 0;
        for (unsigned int q = 0; q < n_q; ++q)
          for (unsigned int i = 0; i < dofs_per_cell; ++i)
            {
              cell_lumped(i) +=
                  std::exp(-(V_q[q] - V[i]) / eps) * fe_values.shape_value(i, q) * fe_values.JxW(q);
              for (unsigned int j = 0; j < dofs_per_cell; ++j)
                {
                  const double weight =
                      fe.degree == 1 ? 1.0 : std::exp(-(V_q[q] - (V[i] + V[j]) / 2) / eps);
                  if (!discretization.mass_lumping)
                    cell_mass(i, j) += std::exp(-(V_q[q] - (V[i] + V[j]) / 2) / eps) *
                                       fe_values.shape_value(i, q) * fe_values.shape_value(j, q) *
                                       fe_values.JxW(q);
                  // Q1 weighs the geometric stiffness by edge averages below.
                  cell_stiffness(i, j) += eps * weight * fe_values.shape_grad(i, q) *
                                          fe_values.shape_grad(j, q) * fe_values.JxW(q);
                }
            }

        if (fe.degree == 1)
          {
            // EAFE: the pair (i, j) is weighted by the harmonic mean of pi along the
            // segment x_i x_j for V linear on it, pi_low B(|dV|/eps). Scaled by
            // sqrt(pi_i pi_j) this is B(|s|) e^{|s|/2} = |s| / (2 sinh(|s|/2)), and the
            // diagonal that makes K annihilate root_pi is -sum_j G_ij B(-s_ij), with
            // s_ij = (V_i - V_j)/eps.
            for (unsigned int i = 0; i < dofs_per_cell; ++i)
              {
                double diagonal = 0;
                for (unsigned int j = 0; j < dofs_per_cell; ++j)
                  if (j != i)
                    {
                      const double s        = (V[i] - V[j]) / eps;
                      const double geometry = cell_stiffness(i, j);
                      cell_stiffness(i, j) =
                          geometry * (std::abs(s) < 1e-8 ? 1.0 : s / (2 * std::sinh(s / 2)));
                      diagonal -= geometry * bernoulli(-s);
                    }
                cell_stiffness(i, i) = diagonal;
              }
          }

        stiffness_matrix.add(dof_indices, cell_stiffness);
        lumped_mass.add(dof_indices, cell_lumped);
        if (!discretization.mass_lumping)
          mass_matrix.add(dof_indices, cell_mass);
      }
  stiffness_matrix.compress(VectorOperation::add);
  lumped_mass.compress(VectorOperation::add);
  if (!discretization.mass_lumping)
    mass_matrix.compress(VectorOperation::add);

  // Z_h = 1^T M_unscaled 1 = sum_j lumped_j pi_j (row sums, lumped or not).
  PETScWrappers::MPI::Vector pi(root_pi);
  pi.scale(root_pi);
  partition_function = compensated_dot(lumped_mass, pi);
  matrices_changed   = true;
}

template <int dim>
void FokkerPlanckSolver<dim>::apply_mass(const PETScWrappers::MPI::Vector &y,
                                         PETScWrappers::MPI::Vector       &result) const
{
  if (discretization.mass_lumping)
    {
      result = y;
      result.scale(lumped_mass);
    }
  else
    mass_matrix.vmult(result, y);
}

template <int dim>
void FokkerPlanckSolver<dim>::set_system_matrix(const double a, const double b)
{
  if (!matrices_changed && a == system_a && b == system_b)
    return;
  system_matrix.copy_from(stiffness_matrix);
  system_matrix *= b;
  if (discretization.mass_lumping)
    {
      PETScWrappers::MPI::Vector diagonal(lumped_mass);
      diagonal *= a;
      const PetscErrorCode code =
          MatDiagonalSet(system_matrix.petsc_matrix(), diagonal, ADD_VALUES);
      AssertThrow(code == 0, ExcPETScError(code));
    }
  else
    system_matrix.add(a, mass_matrix);

  // Where V changes in time, the preconditioner of an earlier matrix usually still
  // serves; it is rebuilt when the iteration count has doubled since the last setup.
  const bool reuse = physics.potential().depends_on_time() && a == system_a && b == system_b &&
                     iterations_after_setup > 0;
  linear_solver.set_matrix(system_matrix, reuse);
  if (!reuse)
    iterations_after_setup = 0;
  system_a         = a;
  system_b         = b;
  matrices_changed = false;
}

template <int dim>
double FokkerPlanckSolver<dim>::set_initial_density(const Expression<dim> &rho0)
{
  PETScWrappers::MPI::Vector rhs(locally_owned_dofs, mpi_communicator);
  const double total_mass = assemble_initial_load(rho0, dof_handler, mapping, quadrature, rhs);

  // The (lumped) weighted L2 projection (pi u, phi_j) = (rho0, phi_j), scaled: it keeps
  // the mass of rho0 exactly and, lumped with Q1, its sign. The right-hand side is
  // divided by root_pi_j, from the exponent so that it does not overflow needlessly.
  for (const auto j : locally_owned_dofs)
    rhs(j) =
        rhs(j) / total_mass * std::exp((nodal_potential(j) - shift) / (2 * physics.diffusion()));
  rhs.compress(VectorOperation::insert);
  throw_if_any(!std::isfinite(rhs.linfty_norm()),
               rho0.parameter_name() +
                   " is not small where (V - V_min)/eps is large: rho0 / sqrt(pi) "
                   "exceeds the floating-point range. Shrink the domain, raise "
                   "Physics/Diffusion, or "
                   "start from a density that decays like sqrt(pi).",
               mpi_communicator);

  if (discretization.mass_lumping)
    {
      solution = rhs;
      for (const auto j : locally_owned_dofs)
        solution(j) = rhs(j) / lumped_mass(j);
      solution.compress(VectorOperation::insert);
    }
  else
    {
      LinearSolverParameters projection_parameters;
      projection_parameters.preconditioner = "jacobi";
      projection_parameters.tolerance      = 1e-13;
      LinearSolver projection(projection_parameters, mpi_communicator);
      projection.set_matrix(mass_matrix);
      solution = 0;
      projection.solve(solution, rhs);
    }
  apply_mass(solution, mass_solution);
  const double scaling = 1.0 / compensated_dot(root_pi, mass_solution);
  solution *= scaling;
  mass_solution *= scaling;

  old_solution      = solution;
  old_mass_solution = mass_solution;
  if (scheme == TimeScheme::crank_nicolson)
    stiffness_matrix.vmult(stiffness_solution, solution);
  current_time = 0;
  step_number  = 0;
  update_ghosts();
  return 1.0 / total_mass;
}

template <int dim>
unsigned int FokkerPlanckSolver<dim>::advance(const double dt)
{
  const double new_time = current_time + dt;
  if (physics.potential().depends_on_time())
    {
      update_potential(new_time);
      assemble_matrices();
    }

  // The system a M^{n+1} y^{n+1} + b K^{n+1} y^{n+1} = rhs of each scheme.
  PETScWrappers::MPI::Vector rhs(mass_solution);
  double                     a = 1, b = dt;
  if (scheme == TimeScheme::crank_nicolson)
    {
      b = dt / 2;
      rhs.add(-dt / 2, stiffness_solution);
    }
  // BDF2 needs the previous step to be of the same size; a step of another size (to
  // land on a comparison time) and the one after it are backward Euler.
  else if (scheme == TimeScheme::bdf2 && step_number > 0 && dt == previous_step)
    {
      a = 1.5;
      rhs *= 2.0;
      rhs.add(-0.5, old_mass_solution);
    }
  set_system_matrix(a, b);

  PETScWrappers::MPI::Vector new_solution(solution);
  if (step_number > 0)
    new_solution.sadd(2.0, -1.0, old_solution); // extrapolated initial guess
  const unsigned int iterations = linear_solver.solve(new_solution, rhs);
  if (iterations_after_setup == 0)
    iterations_after_setup = iterations;
  else if (iterations > 2 * iterations_after_setup)
    matrices_changed = true; // rebuild the preconditioner at the next step

  // Exact mass: root_pi^T K = 0, so the exact solution has root_pi^T M y = root_pi^T rhs
  // / a. Scaling y to that mass removes the solver's residual from the mass direction and
  // keeps both the sign of y and the stationary state y = c root_pi.
  old_mass_solution = mass_solution;
  apply_mass(new_solution, mass_solution);
  const double scaling =
      compensated_dot(root_pi, rhs) / a / compensated_dot(root_pi, mass_solution);
  new_solution *= scaling;
  mass_solution *= scaling;

  old_solution = solution;
  solution     = new_solution;
  if (scheme == TimeScheme::crank_nicolson)
    stiffness_matrix.vmult(stiffness_solution, solution);

  if (!std::isfinite(solution.l2_norm()))
    throw RunError("The density is no longer finite after step " + std::to_string(step_number + 1) +
                   " (t = " + std::to_string(new_time) +
                   "): check Physics/Potential and Time/Time step.");
  current_time  = new_time;
  previous_step = dt;
  ++step_number;
  update_ghosts();
  return iterations;
}

template <int dim>
void FokkerPlanckSolver<dim>::update_ghosts()
{
  ghosted_solution = solution;
}

template <int dim>
void FokkerPlanckSolver<dim>::evaluate_on_cell(
    const typename DoFHandler<dim>::active_cell_iterator &cell,
    const FEValues<dim>                                  &fe_values,
    const std::vector<double>                            &V_at_points,
    std::vector<double>                                  &rho,
    std::vector<Tensor<1, dim>>                          *velocity) const
{
  // rho(x) = pi(x) sum_j u_j phi_j(x) with u_j = y_j / root_pi_j. With a = (V_j -
  // shift)/(2 eps) and A its maximum on the cell, c_j = y_j e^{a_j - A} <= y_j and rho(x)
  // = e^{A - (V(x) - shift)/eps} sum_j c_j phi_j(x), whose exponent is bounded by the
  // variation of V over the cell: no overflow where u itself would overflow.
  const double                         eps           = physics.diffusion();
  const unsigned int                   dofs_per_cell = fe.n_dofs_per_cell();
  const unsigned int                   n_points      = V_at_points.size();
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);
  cell->get_dof_indices(dof_indices);

  std::vector<double> a(dofs_per_cell), c(dofs_per_cell);
  double              A = -std::numeric_limits<double>::infinity();
  for (unsigned int j = 0; j < dofs_per_cell; ++j)
    {
      a[j] = (nodal_potential(dof_indices[j]) - shift) / (2 * eps);
      A    = std::max(A, a[j]);
    }
  for (unsigned int j = 0; j < dofs_per_cell; ++j)
    c[j] = ghosted_solution(dof_indices[j]) * std::exp(a[j] - A);

  rho.resize(n_points);
  if (velocity != nullptr)
    velocity->resize(n_points);
  for (unsigned int q = 0; q < n_points; ++q)
    {
      double         sum = 0;
      Tensor<1, dim> gradient;
      for (unsigned int j = 0; j < dofs_per_cell; ++j)
        {
          sum += c[j] * fe_values.shape_value(j, q);
          if (velocity != nullptr)
            gradient += c[j] * fe_values.shape_grad(j, q);
        }
      rho[q] = std::exp(A - (V_at_points[q] - shift) / eps) * sum;
      // v = -(grad V + eps grad log rho) = -eps grad u / u.
      if (velocity != nullptr)
        (*velocity)[q] = sum > 0 ? Tensor<1, dim>(-eps * gradient / sum) : Tensor<1, dim>();
    }
}

template <int dim>
void FokkerPlanckSolver<dim>::evaluate(const typename DoFHandler<dim>::active_cell_iterator &cell,
                                       const std::vector<Point<dim>>                        &points,
                                       std::vector<double>                                  &rho,
                                       std::vector<Tensor<1, dim>> *velocity) const
{
  std::vector<Point<dim>> unit_points(points.size());
  std::vector<double>     V(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    {
      unit_points[q] = mapping.transform_real_to_unit_cell(cell, points[q]);
      V[q]           = physics.potential().value(points[q], current_time);
    }
  FEValues<dim> fe_values(mapping,
                          fe,
                          Quadrature<dim>(unit_points),
                          update_values |
                              (velocity != nullptr ? update_gradients : update_default));
  fe_values.reinit(cell);
  evaluate_on_cell(cell, fe_values, V, rho, velocity);
}

template <int dim>
void FokkerPlanckSolver<dim>::evaluate_at_patch_points(
    const typename DoFHandler<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                        &points,
    const std::vector<double>                            &V,
    std::vector<double>                                  &rho,
    std::vector<Tensor<1, dim>>                          &velocity) const
{
  // DataOut evaluates at the points of QIterated(QTrapezoid, subdivisions) of each cell;
  // one FEValues on that rule serves all cells, where mapping the points back to the
  // unit cell one by one would dominate the cost of output.
  if (!patch_values)
    patch_values = std::make_unique<FEValues<dim>>(mapping,
                                                   fe,
                                                   QIterated<dim>(QTrapezoid<1>(), fe.degree),
                                                   update_values | update_gradients |
                                                       update_quadrature_points);
  if (patch_values->n_quadrature_points == points.size())
    {
      patch_values->reinit(cell);
      const double tolerance = 1e-10 * cell->diameter();
      bool         same      = true;
      for (unsigned int q = 0; q < points.size() && same; ++q)
        same = patch_values->quadrature_point(q).distance(points[q]) < tolerance;
      if (same)
        {
          evaluate_on_cell(cell, *patch_values, V, rho, &velocity);
          return;
        }
    }
  evaluate(cell, points, rho, &velocity);
}

template <int dim>
double FokkerPlanckSolver<dim>::time_step() const
{
  return step_size;
}

template <int dim>
double FokkerPlanckSolver<dim>::time() const
{
  return current_time;
}

template <int dim>
void FokkerPlanckSolver<dim>::set_time(const double t)
{
  current_time = t;
}

template <int dim>
types::global_dof_index FokkerPlanckSolver<dim>::n_dofs() const
{
  return dof_handler.n_dofs();
}

template <int dim>
const DoFHandler<dim> &FokkerPlanckSolver<dim>::get_dof_handler() const
{
  return dof_handler;
}

template <int dim>
const PETScWrappers::MPI::Vector &FokkerPlanckSolver<dim>::scaled_solution() const
{
  return solution;
}

template <int dim>
DensityStatistics<dim> FokkerPlanckSolver<dim>::statistics(const Expression<dim> *exact) const
{
  const double  eps = physics.diffusion();
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
  const unsigned int  n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  std::vector<double> rho(n_q), V(n_q);
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);
  DensityIntegrals<dim>                integrals;
  const double                         log_Z   = std::log(partition_function);
  double                               entropy = 0; // int rho log(rho / pi_normalised)

  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        const double *V_q = &potential_at_quadrature_points[cell->active_cell_index() * n_q];
        V.assign(V_q, V_q + n_q);
        evaluate_on_cell(cell, fe_values, V, rho, nullptr);
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const Point<dim> &x = fe_values.quadrature_point(q);
            integrals.add(x, rho[q], fe_values.JxW(q));
            if (exact != nullptr)
              integrals.add_exact(rho[q], exact->value(x, current_time), fe_values.JxW(q));
            // log(rho / pi_normalised) = log(rho) + (V - shift)/eps + log Z
            if (!discretization.mass_lumping && rho[q] > 0)
              entropy +=
                  rho[q] * (std::log(rho[q]) + (V[q] - shift) / eps + log_Z) * fe_values.JxW(q);
          }
        // Nodal densities rho_j = root_pi_j y_j, for the minimum.
        cell->get_dof_indices(dof_indices);
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          integrals.add_to_minimum(
              std::exp(-(nodal_potential(dof_indices[i]) - shift) / (2 * eps)) *
              ghosted_solution(dof_indices[i]));
      }
  // With lumping, the entropy is the one the scheme dissipates: sum_j m_j u_j log(u_j Z),
  // where m_j u_j = lumped_j root_pi_j y_j and log u_j = log y_j + (V_j - shift)/(2 eps).
  if (discretization.mass_lumping)
    for (const auto j : locally_owned_dofs)
      if (solution(j) > 0)
        entropy += lumped_mass(j) * root_pi(j) * solution(j) *
                   (std::log(solution(j)) + (nodal_potential(j) - shift) / (2 * eps) + log_Z);

  DensityStatistics<dim> result;
  integrals.finish(result, mpi_communicator);
  result.relative_entropy = Utilities::MPI::sum(entropy, mpi_communicator);
  // F(rho) = eps KL(rho | pi) - eps log(Z_true) mass, with Z_true = e^{-shift/eps} Z_h.
  result.free_energy = eps * result.relative_entropy + result.mass * (shift - eps * log_Z);
  return result;
}

template <int dim>
void FokkerPlanckSolver<dim>::fill_output(DataOut<dim>          &data_out,
                                          const Expression<dim> *exact) const
{
  // DataOut keeps pointers to the postprocessor and the subdomain vector until it has
  // written its files: both live in the solver until the next output.
  output_postprocessor = std::make_unique<FokkerPlanckPostprocessor<dim>>(
      *this, physics, shift, partition_function, exact);
  output_subdomain.reinit(mesh.triangulation().n_active_cells());
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      output_subdomain(cell->active_cell_index()) = cell->subdomain_id();

  data_out.attach_dof_handler(dof_handler);
  data_out.add_data_vector(ghosted_solution, *output_postprocessor);
  data_out.add_data_vector(output_subdomain, "subdomain");
  data_out.build_patches(mapping, fe.degree);
}

template <int dim>
types::global_dof_index FokkerPlanckSolver<dim>::n_positive_off_diagonals() const
{
  types::global_dof_index count = 0;
  for (const auto row : locally_owned_dofs)
    for (auto entry = stiffness_matrix.begin(row); entry != stiffness_matrix.end(row); ++entry)
      if (entry->column() != row &&
          entry->value() > 1e-14 * std::abs(stiffness_matrix.diag_element(row)))
        ++count;
  return Utilities::MPI::sum(count, mpi_communicator);
}

template <int dim>
std::string FokkerPlanckSolver<dim>::description() const
{
  std::ostringstream out;
  out << "Fokker-Planck, symmetric weighted form, Q" << fe.degree
      << (fe.degree == 1 ? " with edge-averaged (EAFE) weights" : " with Gauss-point weights")
      << ", " << (discretization.mass_lumping ? "lumped" : "consistent") << " mass, "
      << to_string(scheme) << "; " << dof_handler.n_dofs() << " DoFs; "
      << linear_solver.description();
  if (physics.potential().depends_on_time())
    out << "; V depends on t: matrices assembled every step";
  return out.str();
}

template <int dim>
void FokkerPlanckSolver<dim>::quadrature_measure(
    const unsigned int                                              n,
    std::vector<typename Triangulation<dim>::active_cell_iterator> &cells,
    std::vector<Point<dim>>                                        &points,
    std::vector<double>                                            &weights) const
{
  const QGauss<dim> gauss(n);
  FEValues<dim>     fe_values(
      mapping, fe, gauss, update_values | update_quadrature_points | update_JxW_values);
  std::vector<double> rho, V(gauss.size());
  cells.clear(), points.clear(), weights.clear();
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < gauss.size(); ++q)
          V[q] = physics.potential().value(fe_values.quadrature_point(q), current_time);
        evaluate_on_cell(cell, fe_values, V, rho, nullptr);
        cells.push_back(cell);
        for (unsigned int q = 0; q < gauss.size(); ++q)
          {
            points.push_back(fe_values.quadrature_point(q));
            weights.push_back(rho[q] * fe_values.JxW(q));
          }
      }
}

template <int dim>
void FokkerPlanckSolver<dim>::density_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     &rho) const
{
  evaluate(typename DoFHandler<dim>::active_cell_iterator(
               &mesh.triangulation(), cell->level(), cell->index(), &dof_handler),
           points,
           rho,
           nullptr);
}

template <int dim>
void FokkerPlanckSolver<dim>::velocity_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     &rho,
    std::vector<Tensor<1, dim>>                             &velocity) const
{
  evaluate(typename DoFHandler<dim>::active_cell_iterator(
               &mesh.triangulation(), cell->level(), cell->index(), &dof_handler),
           points,
           rho,
           &velocity);
}

template class FokkerPlanckSolver<1>;
template class FokkerPlanckSolver<2>;
template class FokkerPlanckSolver<3>;
} // namespace densityflow

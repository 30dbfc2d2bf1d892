#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>
#include <densityflow/solvers/matrix_structure.h>
#include <densityflow/solvers/petsc_array.h>
#include <densityflow/solvers/petsc_check.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/sparsity_tools.h>

#include <petscmat.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace densityflow
{
namespace
{
double seconds_since(const std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/** The scheme, once the Fokker-Planck model is known to accept it. */
TimeScheme fokker_planck_scheme(const TimeScheme scheme)
{
  if (scheme == TimeScheme::ssp_rk3)
    throw InputError(
        "Time/Scheme = ssp-rk3 is for the transport model without diffusion; the Fokker-Planck "
        "solver is implicit (backward-euler, crank-nicolson, bdf2).");
  if (scheme == TimeScheme::imex_ssp3)
    throw InputError("Time/Scheme = imex-ssp3 is for the transport and interaction models; the "
                     "Fokker-Planck solver is implicit (backward-euler, crank-nicolson, bdf2).");
  return scheme == TimeScheme::automatic ? TimeScheme::bdf2 : scheme;
}

/**
 * What the Q1 matrix implies for the scheme in use: only backward Euler with a lumped
 * mass matrix turns an M-matrix into rho >= 0 and a decreasing free energy.
 */
std::string m_matrix_note(const std::size_t n_positive, const bool lumped, const TimeScheme scheme)
{
  if (n_positive > 0)
    return "note: " + std::to_string(n_positive) +
           " positive off-diagonal stiffness entries (cells not box-shaped): positivity is not "
           "guaranteed, min_density is monitored";
  if (!lumped)
    return "the Q1 stiffness is an M-matrix; positivity needs Mass lumping = true (and "
           "backward Euler), min_density is monitored";
  if (scheme == TimeScheme::backward_euler)
    return "the Q1 stiffness is an M-matrix and the mass lumped: backward Euler keeps "
           "rho >= 0 and lets F decrease at every step";
  return "the Q1 stiffness is an M-matrix, but " + to_string(scheme) +
         " does not keep rho >= 0 or F decreasing (backward Euler would): min_density is "
         "monitored";
}

} // namespace

template <int dim>
FokkerPlanckSolver<dim>::FokkerPlanckSolver(const Mesh<dim>                &mesh,
                                            const Physics<dim>             &physics,
                                            const DiscretizationParameters &discretization,
                                            const TimeParameters           &time,
                                            const LinearSolverParameters &linear_solver_parameters,
                                            const AbsorbingWalls<dim>    &walls)
    : Base(mesh,
           physics,
           fokker_planck_scheme(time.scheme),
           std::make_unique<FE_Q<dim>>(discretization.degree),
           discretization.degree + 2)
    , discretization(discretization)
    , step_size(time.step_size())
    // The other schemes have no start step: they ignore the option (the log's solver
    // line names the start only where it is used).
    , crank_nicolson_start(time.bdf2_start == Bdf2Start::crank_nicolson &&
                           fokker_planck_scheme(time.scheme) == TimeScheme::bdf2)
    , linear_solver_parameters(linear_solver_parameters)
    , linear_solver(std::make_unique<LinearSolver>(linear_solver_parameters, mesh.communicator()))
    // No basis where it cannot serve: a direct solve ignores any guess, and where V
    // depends on time every step has a matrix of its own.
    , projection(linear_solver_parameters.preconditioner == Preconditioner::direct ||
                         physics.potential().depends_on_time()
                     ? 0
                     : linear_solver_parameters.previous_solutions)
{
  // Physics has checked eps > 0, DiscretizationParameters the degree.
  auto start = std::chrono::steady_clock::now();
  set_up_system();
  find_absorbing_nodes(walls);
  set_up_periodicity();
  timing.sparsity = seconds_since(start);

  start = std::chrono::steady_clock::now();
  update_potential(0.0);
  timing.potential = seconds_since(start);
  start            = std::chrono::steady_clock::now();
  assemble_matrices();
  timing.assembly = seconds_since(start);
}

template <int dim>
void FokkerPlanckSolver<dim>::set_up_system()
{
  std::unique_ptr<const MatrixStructure> structure;
  {
    // The pattern makes the matrices' structure and is freed before their values exist.
    DynamicSparsityPattern dsp(locally_relevant_dofs);
    DoFTools::make_sparsity_pattern(dof_handler, dsp);
    SparsityTools::distribute_sparsity_pattern(
        dsp, locally_owned_dofs, mpi_communicator, locally_relevant_dofs);
    structure = std::make_unique<const MatrixStructure>(dsp, locally_owned_dofs, mpi_communicator);
  }
#ifdef __GLIBC__
  // The pattern's rows are small blocks of the heap, which malloc keeps after they are freed:
  // give them back before the matrices are made (in 3D Q2 the pattern is about as large as
  // a matrix). Not after a mesh adaptation: the next one needs that memory again, and
  // taking it back page by page cost more than the rebuild's arithmetic.
  if (adaptive_triangulation == nullptr)
    malloc_trim(0);
#endif
  // One structure (row starts and columns) for all three; values of their own.
  structure->make_matrix(stiffness_matrix);
  structure->make_matrix(system_matrix);
  if (!discretization.mass_lumping)
    structure->make_matrix(mass_matrix);

  for (auto *v : {&lumped_mass,
                  &root_pi,
                  &solution,
                  &old_solution,
                  &mass_solution,
                  &old_mass_solution,
                  &stiffness_solution})
    v->reinit(locally_owned_dofs, mpi_communicator);
  nodal_potential.reinit(locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
  // y_j = rho_j / root_pi_j spans hundreds of orders of magnitude where rho0 is much
  // wider than pi, and the residual's Euclidean norm then sees only the far field,
  // whose nodes hardly move: a solve "converged" without changing the density where
  // its mass is. root_pi r is the residual in mass per node, which does not depend on
  // the scaling of the unknowns; a solve must meet the tolerance in both.
  linear_solver->set_residual_weights(root_pi);
}

template <int dim>
FokkerPlanckSolver<dim>::~FokkerPlanckSolver()
{
  MatDestroy(&condensed_product);
}

template <int dim>
void FokkerPlanckSolver<dim>::find_absorbing_nodes(const AbsorbingWalls<dim> &walls)
{
  absorbing = !walls.empty();
  if (!absorbing)
    return;
  // A node on a wall of a box belongs to an owned cell with a face on that wall (the cells
  // are boxes too), so the owned cells' faces find all of this rank's nodes.
  std::vector<types::global_dof_index> face_dofs(fe.n_dofs_per_face());
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      for (const auto f : cell->face_indices())
        if (cell->face(f)->at_boundary() && walls.contains(cell->face(f)->center()))
          {
            cell->face(f)->get_dof_indices(face_dofs);
            for (const auto j : face_dofs)
              if (locally_owned_dofs.is_element(j))
                absorbing_nodes.push_back(static_cast<PetscInt>(j));
          }
  std::sort(absorbing_nodes.begin(), absorbing_nodes.end());
  absorbing_nodes.erase(std::unique(absorbing_nodes.begin(), absorbing_nodes.end()),
                        absorbing_nodes.end());
}

template <int dim>
void FokkerPlanckSolver<dim>::apply_absorbing_walls(PETScWrappers::MPI::Vector &vector)
{
  for (const PetscInt j : absorbing_nodes)
    vector(j) = 0;
  vector.compress(VectorOperation::insert);
}

template <int dim>
double FokkerPlanckSolver<dim>::current_mass() const
{
  return compensated_dot(root_pi, mass_solution);
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
  if (a != system_a || b != system_b)
    projection.reset(); // (a rebuild for the preconditioner alone keeps the matrix)
  const auto start = std::chrono::steady_clock::now();
  system_matrix.copy_from(stiffness_matrix);
  system_matrix *= b;
  if (discretization.mass_lumping)
    {
      PETScWrappers::MPI::Vector diagonal(lumped_mass);
      diagonal *= a;
      DENSITYFLOW_PETSC(MatDiagonalSet(system_matrix.petsc_matrix(), diagonal, ADD_VALUES));
    }
  else // the same structure (MatrixStructure): no new matrix, unlike deal.II's add()
    DENSITYFLOW_PETSC(MatAXPY(
        system_matrix.petsc_matrix(), a, static_cast<Mat>(mass_matrix), SAME_NONZERO_PATTERN));

  if (absorbing)
    {
      // y = 0 on the walls: identity rows and columns keep the matrix symmetric, and
      // the pattern, which the system shares with K (and M), must not change.
      DENSITYFLOW_PETSC(
          MatSetOption(system_matrix.petsc_matrix(), MAT_KEEP_NONZERO_PATTERN, PETSC_TRUE));
      DENSITYFLOW_PETSC(MatZeroRowsColumns(system_matrix.petsc_matrix(),
                                           static_cast<PetscInt>(absorbing_nodes.size()),
                                           absorbing_nodes.data(),
                                           1.0,
                                           nullptr,
                                           nullptr));
    }

  // Where V changes in time, the preconditioner of an earlier matrix usually still
  // serves; it is rebuilt when the iteration count has doubled since the last setup.
  const bool reuse = physics.potential().depends_on_time() && a == system_a && b == system_b &&
                     iterations_after_setup > 0;
  if (periodic)
    {
      condense_matrix(system_matrix, condensed_system_matrix);
      linear_solver->set_matrix(condensed_system_matrix, reuse);
    }
  else
    linear_solver->set_matrix(system_matrix, reuse);
  if (!reuse)
    iterations_after_setup = 0;
  system_a             = a;
  system_b             = b;
  matrices_changed     = false;
  timing.system_matrix = seconds_since(start);
  timing.system_setups += timing.system_matrix;
  ++timing.n_system_setups;
}

template <int dim>
double FokkerPlanckSolver<dim>::set_initial_density(const Expression<dim> &rho0)
{
  if (adaptive_triangulation != nullptr)
    for (unsigned int cycle = 0; cycle < adaptivity.initial_cycles; ++cycle)
      {
        // rho0 is projected afresh on each mesh: nothing to transfer.
        project_initial_density(rho0);
        refine_without_transfer();
      }
  return project_initial_density(rho0);
}

template <int dim>
double FokkerPlanckSolver<dim>::project_initial_density(const Expression<dim> &rho0)
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

  PETScWrappers::MPI::Vector lumped(lumped_mass);
  if (periodic)
    {
      // The projection onto the periodic functions: loads and lumped masses of the nodes
      // on the upper walls go to their images (0 / 0 is avoided below, distribute() fills
      // them).
      condense(rhs);
      if (hanging_nodes)
        condense_lumped_mass(lumped);
      else
        condense(lumped);
      for (const PetscInt j : periodic_nodes)
        lumped(j) = 1;
      lumped.compress(VectorOperation::insert);
    }
  if (discretization.mass_lumping)
    {
      solution = rhs;
      for (const auto j : locally_owned_dofs)
        solution(j) = rhs(j) / lumped(j);
      solution.compress(VectorOperation::insert);
    }
  else
    {
      LinearSolverParameters projection_parameters;
      projection_parameters.preconditioner = Preconditioner::jacobi;
      projection_parameters.tolerance      = 1e-13;
      LinearSolver                     projection(projection_parameters, mpi_communicator);
      PETScWrappers::MPI::SparseMatrix condensed_mass;
      if (periodic)
        condense_matrix(mass_matrix, condensed_mass);
      projection.set_matrix(periodic ? condensed_mass : mass_matrix);
      solution = 0;
      projection.solve(solution, rhs);
    }
  if (periodic)
    distribute(solution);
  apply_mass(solution, mass_solution);
  const double scaling = 1.0 / compensated_dot(root_pi, mass_solution);
  solution *= scaling;
  mass_solution *= scaling;
  if (absorbing)
    {
      // rho = 0 on the walls from the start. What rho0 had there is absorbed at t = 0, not
      // spread over the rest by normalising again: that would put O(h) too much mass in
      // the domain for good, where the walls of the exact flow take the layer at once.
      apply_absorbing_walls(solution);
      apply_mass(solution, mass_solution);
      absorbed_mass     = 1 - current_mass();
      survival_integral = 0;
    }

  old_solution      = solution;
  old_mass_solution = mass_solution;
  if (scheme == TimeScheme::crank_nicolson || crank_nicolson_start)
    stiffness_matrix.vmult(stiffness_solution, solution);
  this->reset_clock();
  ghosted_solution = solution;
  return 1.0 / total_mass;
}

template <int dim>
unsigned int FokkerPlanckSolver<dim>::advance(const double dt)
{
  const double new_time = current_time + dt;
  // Time/BDF2 start = crank-nicolson: the first step takes K y^0 (kept from t = 0 by
  // project_initial_density(), rescaled with the other tested vectors where V moves).
  const bool crank_nicolson_first = crank_nicolson_start && step_number == 0;
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
  else if (this->bdf2_step(dt))
    {
      a = 1.5;
      rhs *= 2.0;
      rhs.add(-0.5, old_mass_solution);
    }
  else if (crank_nicolson_first)
    {
      b = dt / 2;
      rhs.add(-dt / 2, stiffness_solution);
    }
  set_system_matrix(a, b);

  PETScWrappers::MPI::Vector new_solution(solution);
  if (step_number > 0)
    new_solution.sadd(2.0, -1.0, old_solution); // extrapolated initial guess
  // Periodic: the system is condensed, rhs stays the full M y^n for the mass below.
  PETScWrappers::MPI::Vector condensed_rhs;
  if (periodic)
    {
      condensed_rhs.reinit(rhs);
      condensed_rhs = rhs;
      condense(condensed_rhs);
      WriteArray guess(new_solution);
      if (hanging_nodes) // the unknowns are z = D^{-1} y at the masters
        {
          const ReadArray scale(column_scale);
          for (std::size_t k = 0; k < locally_owned_dofs.n_elements(); ++k)
            guess[k] = guess[k] / scale[k];
        }
      // The condensed system's solution is 0 on the copied nodes: so is the guess, which
      // then solves it at once where y^n does (the stationary state).
      for (const PetscInt j : periodic_nodes)
        guess[locally_owned_dofs.index_within_set(j)] = 0;
    }
  PETScWrappers::MPI::Vector &system_rhs = periodic ? condensed_rhs : rhs;
  if (absorbing)
    apply_absorbing_walls(system_rhs);
  const PETScWrappers::MPI::SparseMatrix &solved_matrix =
      periodic ? condensed_system_matrix : system_matrix;
  const auto solve_start = std::chrono::steady_clock::now();
  if (projection.ready())
    projection.guess(system_rhs, new_solution);
  const unsigned int iterations = linear_solver->solve(new_solution, system_rhs);
  projection.add(new_solution, solved_matrix);
  timing.solves += seconds_since(solve_start);
  timing.solve_iterations += iterations;
  ++timing.n_solves;
  if (periodic)
    distribute(new_solution);
  if (iterations_after_setup == 0)
    iterations_after_setup = iterations;
  else if (iterations > 2 * iterations_after_setup)
    matrices_changed = true; // rebuild the preconditioner at the next step

  // Exact mass: root_pi^T K = 0, so the exact solution has root_pi^T M y = root_pi^T rhs
  // / a. Scaling y to that mass removes the solver's residual from the mass direction and
  // keeps both the sign of y and the stationary state y = c root_pi.
  // With absorbing walls the mass is what leaves, so the solve's own mass stays.
  const double mass_before = absorbing ? current_mass() : 0;
  old_mass_solution        = mass_solution;
  apply_mass(new_solution, mass_solution);
  if (absorbing)
    {
      const double mass_after = current_mass();
      absorbed_flux           = (mass_before - mass_after) / dt;
      absorbed_mass += mass_before - mass_after;
      survival_integral += dt * (mass_before + mass_after) / 2;
    }
  else
    {
      const double scaling =
          compensated_dot(root_pi, rhs) / a / compensated_dot(root_pi, mass_solution);
      new_solution *= scaling;
      mass_solution *= scaling;
    }

  old_solution = solution;
  solution     = new_solution;
  if (scheme == TimeScheme::crank_nicolson)
    stiffness_matrix.vmult(stiffness_solution, solution);

  this->complete_step(solution, dt, "check Physics/Potential and Time/Time step.");
  if (adaptive_triangulation != nullptr && step_number % adaptivity.interval == 0)
    adapt_after_step(adaptivity, current_time, *adaptive_triangulation, [this](const bool mark) {
      adapt_mesh(mark);
    });
  return iterations;
}

template <int dim>
double FokkerPlanckSolver<dim>::time_step() const
{
  return step_size;
}

template <int dim>
const PETScWrappers::MPI::Vector &FokkerPlanckSolver<dim>::scaled_solution() const
{
  return solution;
}

template <int dim>
const FokkerPlanckSetupTiming &FokkerPlanckSolver<dim>::setup_timing() const
{
  return timing;
}

template <int dim>
std::string FokkerPlanckSolver<dim>::description() const
{
  std::ostringstream out;
  out << "Fokker-Planck, symmetric weighted form, Q" << fe.degree
      << (fe.degree == 1 ? " with edge-averaged (EAFE) weights" : " with Gauss-point weights")
      << ", " << (discretization.mass_lumping ? "lumped" : "consistent") << " mass, "
      << to_string(scheme) << (crank_nicolson_start ? " (Crank-Nicolson start)" : "") << "; "
      << dof_handler.n_dofs() << " DoFs; " << linear_solver->description();
  if (physics.potential().depends_on_time())
    out << "; V depends on t: matrices assembled every step";
  return out.str();
}

template <int dim>
std::vector<std::string> FokkerPlanckSolver<dim>::notes() const
{
  if (fe.degree != 1)
    return {};
  return {m_matrix_note(n_positive_off_diagonals(), discretization.mass_lumping, scheme)};
}

template class FokkerPlanckSolver<1>;
template class FokkerPlanckSolver<2>;
template class FokkerPlanckSolver<3>;
} // namespace densityflow

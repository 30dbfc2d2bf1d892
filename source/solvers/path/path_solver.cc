#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/discretization.h>
#include <densityflow/solvers/path/path_solver.h>
#include <densityflow/solvers/petsc_check.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/sparsity_tools.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

namespace densityflow
{
namespace
{
/** The path uses CG with BoomerAMG unless the user chose a preconditioner. */
LinearSolverParameters path_linear_solver(LinearSolverParameters parameters)
{
  if (parameters.preconditioner == Preconditioner::automatic)
    parameters.preconditioner = Preconditioner::amg;
  return parameters;
}
} // namespace

template <int dim>
PathSolver<dim>::PathSolver(const Mesh<dim>                &mesh,
                            const Physics<dim>             &physics,
                            const PathParameters           &path_parameters,
                            const DiscretizationParameters &discretization,
                            const TimeParameters           &time,
                            const LinearSolverParameters   &linear_solver_parameters)
    : Base(mesh,
           physics,
           TimeScheme::backward_euler,
           std::make_unique<FE_Q<dim>>(discretization.degree),
           discretization.degree + 2)
    , parameters(path_parameters)
    , step_size(time.step_size())
    , linear_solver(path_linear_solver(linear_solver_parameters), mesh.communicator())
{
  DynamicSparsityPattern dsp(locally_relevant_dofs);
  DoFTools::make_sparsity_pattern(dof_handler, dsp);
  SparsityTools::distribute_sparsity_pattern(
      dsp, locally_owned_dofs, mpi_communicator, locally_relevant_dofs);
  system_matrix.reinit(locally_owned_dofs, locally_owned_dofs, dsp, mpi_communicator);
  system_rhs.reinit(locally_owned_dofs, mpi_communicator);
  phi_pinned.reinit(locally_owned_dofs, mpi_communicator);
  phi.reinit(locally_owned_dofs, mpi_communicator);
  phi_before.reinit(locally_owned_dofs, mpi_communicator);
}

template <int dim>
PathSolver<dim>::~PathSolver() = default;

template <int dim>
double PathSolver<dim>::set_initial_density(const Expression<dim> &rho0)
{
  path = std::make_unique<DensityPath<dim>>(parameters, physics, rho0);
  this->reset_clock();
  accumulated_action = accumulated_length = largest_speed_so_far = 0;
  guess_times.fill(std::numeric_limits<double>::quiet_NaN());
  // New endpoints: the cached quadrature data are the old path's.
  JxW_q.clear();
  solve_at(0.0);

  // The mass of rho0 on the mesh, for the factor the log reports; where U is given,
  // rho0 must be the path's density at t = 0 (the particles are sampled from rho0).
  FEValues<dim>  fe_values(mapping, fe, quadrature, update_quadrature_points | update_JxW_values);
  CompensatedSum mass, difference;
  std::vector<double> rho0_q;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          rho0_q.push_back(rho0.value(fe_values.quadrature_point(q), 0.0));
      }
  std::size_t k = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < quadrature.size(); ++q, ++k)
          mass.add(rho0_q[k] * fe_values.JxW(q));
      }
  const double total_mass = Utilities::MPI::sum(mass.value(), mpi_communicator);
  if (!(total_mass > 0) || !std::isfinite(total_mass))
    throw InputError(rho0.parameter_name() + " = '" + rho0.text() +
                     "' has no finite positive mass on the mesh; it cannot be normalised.");
  k = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < quadrature.size(); ++q, ++k)
          difference.add(
              std::abs(rho0_q[k] / total_mass - std::exp(-(U_q[k] - U_min)) / partition_function) *
              fe_values.JxW(q));
      }
  const double l1 = Utilities::MPI::sum(difference.value(), mpi_communicator);
  if (!path->is_geometric() && !(l1 <= 1e-6))
    throw InputError("Path/Log density at t = 0 is not the Initial density/Expression: the L1 "
                     "distance of the normalised densities is " +
                     std::to_string(l1) +
                     " (> 1e-6). The particles start from the Initial density: make them one.");
  return 1.0 / total_mass;
}

template <int dim>
unsigned int PathSolver<dim>::advance(const double dt)
{
  const double       old_energy = energy;
  const unsigned int iterations = solve_at(current_time + dt);
  accumulated_action += dt / 2 * (old_energy + energy);
  accumulated_length += dt / 2 * (std::sqrt(old_energy) + std::sqrt(energy));
  this->complete_step(phi, dt, "check Path/Log density and the mesh.");
  return iterations;
}

template <int dim>
void PathSolver<dim>::solve_at_time(const double t)
{
  solve_at(t);
  current_time     = t;
  ghosted_solution = phi;
}

template <int dim>
unsigned int PathSolver<dim>::solve_at(const double t)
{
  evaluate_path(t);

  pin_largest_density();
  assemble();

  // The preconditioner is set up anew at every step: rho_t changes by many orders of
  // magnitude in the tails between steps (U_t - U_s grows with |x|), and a
  // preconditioner kept from an earlier step then stalls CG (measured: no convergence
  // in 1000 iterations on a 1D Gaussian path, with Jacobi and with AMG).
  linear_solver.set_matrix(system_matrix);
  // The initial guess: the previous phi, extrapolated linearly in time from the one
  // before where the times increase, and shifted to 0 at the pin (which moves with the
  // largest density).
  if (std::isfinite(guess_times[1]))
    {
      phi_pinned = phi;
      if (guess_times[0] < guess_times[1] && guess_times[1] < t)
        {
          const double r = (t - guess_times[1]) / (guess_times[1] - guess_times[0]);
          phi_pinned *= 1 + r;
          phi_pinned.add(-r, phi_before);
        }
      const double at_pin = Utilities::MPI::sum(
          locally_owned_dofs.is_element(pinned_dof) ? double(phi_pinned(pinned_dof)) : 0.,
          mpi_communicator);
      phi_pinned.add(-at_pin);
    }
  else
    phi_pinned = 0;
  phi_before.swap(phi);
  guess_times                   = {{guess_times[1], t}};
  const unsigned int iterations = linear_solver.solve(phi_pinned, system_rhs);
  constraints.distribute(phi_pinned);

  phi = phi_pinned;
  finish_potential();
  return iterations;
}

template <int dim>
void PathSolver<dim>::cache_quadrature()
{
  // The path model never changes its mesh, so the points and weights of the locally
  // owned cells' quadrature and their DoF indices are found once; every step then runs
  // over flat arrays.
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points | update_JxW_values);
  const bool    fixed_endpoints          = path->has_fixed_endpoints();
  const unsigned int                   n = fe.n_dofs_per_cell();
  std::vector<types::global_dof_index> dofs(n);
  JxW_q.clear(), points_q.clear(), endpoints_q.clear(), cell_dofs.clear();
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        cell->get_dof_indices(dofs);
        cell_dofs.insert(cell_dofs.end(), dofs.begin(), dofs.end());
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            JxW_q.push_back(fe_values.JxW(q));
            // V (a sum over a data file's rows, say) once per point, not at every step.
            if (fixed_endpoints)
              endpoints_q.push_back(path->endpoints(fe_values.quadrature_point(q)));
            else
              points_q.push_back(fe_values.quadrature_point(q));
          }
      }
}

template <int dim>
Point<dim> PathSolver<dim>::quadrature_point(const std::size_t k) const
{
  if (!points_q.empty())
    return points_q[k];
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points);
  std::size_t   first = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        if (k < first + quadrature.size())
          {
            fe_values.reinit(cell);
            return fe_values.quadrature_point(k - first);
          }
        first += quadrature.size();
      }
  return Point<dim>();
}

template <int dim>
void PathSolver<dim>::evaluate_path(const double t)
{
  if (JxW_q.empty())
    cache_quadrature();
  const std::size_t n_points        = JxW_q.size();
  const bool        fixed_endpoints = path->has_fixed_endpoints();
  const double      b               = fixed_endpoints ? path->schedule(t) : 0;
  const double      b_rate          = fixed_endpoints ? path->schedule_rate(t) : 0;
  U_q.resize(n_points), U_rate_q.resize(n_points), rho_q.resize(n_points);
  bool        failed = false;
  std::string message;
  double      local_min = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < n_points; ++k)
    {
      double U, rate;
      if (fixed_endpoints)
        std::tie(U, rate) = path->from_endpoints(endpoints_q[k], b, b_rate);
      else
        U = path->value(points_q[k], t), rate = path->time_derivative(points_q[k], t);
      if (!(std::isfinite(U) && std::isfinite(rate)) && !failed)
        {
          failed = true;
          std::ostringstream out;
          out << path->parameter_name() << " gives U = " << U << ", dU/dt = " << rate << " at x = ("
              << quadrature_point(k) << "), t = " << t
              << ": the path density exp(-U) must be positive and finite on "
              << "the mesh"
              << (path->is_geometric() ? " (the geometric path takes -log of the Initial "
                                         "density, which must be > 0 everywhere)."
                                       : ".");
          message = out.str();
        }
      local_min   = std::min(local_min, U);
      U_q[k]      = U;
      U_rate_q[k] = rate;
    }
  throw_if_any(failed, message, mpi_communicator);
  U_min = Utilities::MPI::min(local_min, mpi_communicator);

  // Z_t and <dU/dt>_rho with the quadrature of the load vector: the load then sums to
  // zero up to round-off (compatibility of the discrete Neumann problem).
  CompensatedSum z, rate;
  for (std::size_t k = 0; k < n_points; ++k)
    {
      rho_q[k]       = std::exp(-(U_q[k] - U_min));
      const double w = rho_q[k] * JxW_q[k];
      z.add(w);
      rate.add(w * U_rate_q[k]);
    }
  std::vector<double> sums = {z.value(), rate.value()};
  Utilities::MPI::sum(sums, mpi_communicator, sums);
  partition_function = sums[0];
  mean_rate          = sums[1] / sums[0];
}

template <int dim>
void PathSolver<dim>::pin_largest_density()
{
  // The cell of the quadrature point with the smallest U (the largest rho_t); its
  // first DoF is pinned. Ties: the smallest DoF index.
  const unsigned int      n          = fe.n_dofs_per_cell();
  double                  local_best = std::numeric_limits<double>::infinity();
  types::global_dof_index local_dof  = 0;
  for (std::size_t k = 0; k < U_q.size(); ++k)
    {
      const types::global_dof_index first = cell_dofs[k / quadrature.size() * n];
      if (U_q[k] < local_best || (U_q[k] == local_best && first < local_dof))
        local_best = U_q[k], local_dof = first;
    }
  const double best = Utilities::MPI::min(local_best, mpi_communicator);
  pinned_dof        = Utilities::MPI::min(
      local_best == best ? local_dof : std::numeric_limits<types::global_dof_index>::max(),
      mpi_communicator);
  constraints.clear();
  constraints.reinit(locally_relevant_dofs);
  if (locally_relevant_dofs.is_element(pinned_dof))
    constraints.add_line(pinned_dof);
  constraints.close();
}

template <int dim>
void PathSolver<dim>::assemble()
{
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_gradients | update_JxW_values);
  const unsigned int    n = fe.n_dofs_per_cell(), n_q = quadrature.size();
  FullMatrix<double>    cell_matrix(n, n);
  Vector<double>        cell_rhs(n);
  std::vector<PetscInt> indices(n);
  // rho_t relative to its largest value is exp(-(U - U_min)); the weight floor is relative.
  const double floor = parameters.weight_floor;
  system_matrix      = 0;
  system_rhs         = 0;
  DENSITYFLOW_PETSC(VecSetOption(system_rhs, VEC_IGNORE_NEGATIVE_INDICES, PETSC_TRUE));
  // The one constraint (phi = 0 at the pinned DoF) is applied as AffineConstraints
  // would, at a fraction of its cost: the writer leaves out the pinned row and column
  // (and PETSc the load's, at the negative index) and sets the diagonal as it would.
  if (writer == nullptr)
    writer = std::make_unique<CellMatrixWriter>(system_matrix, cell_dofs, n, true);
  CellMatrixWriter::Target target = writer->open(system_matrix);
  const auto               begin  = cell_dofs.begin();
  std::size_t              k = 0, c = 0, cell_index = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell_matrix = 0;
        cell_rhs    = 0;
        for (unsigned int q = 0; q < n_q; ++q, ++k)
          {
            const double rho    = rho_q[k] / partition_function;
            const double weight = std::max(rho, floor / partition_function) * fe_values.JxW(q);
            const double load   = rho * (mean_rate - U_rate_q[k]) * fe_values.JxW(q);
            for (unsigned int i = 0; i < n; ++i)
              {
                const Tensor<1, dim> grad_i = fe_values.shape_grad(i, q);
                for (unsigned int j = 0; j <= i; ++j)
                  cell_matrix(i, j) += weight * (grad_i * fe_values.shape_grad(j, q));
                cell_rhs(i) += load * fe_values.shape_value(i, q);
              }
          }
        for (unsigned int i = 0; i < n; ++i)
          for (unsigned int j = i + 1; j < n; ++j)
            cell_matrix(i, j) = cell_matrix(j, i);
        writer->add(target, cell_index, cell_matrix, pinned_dof);
        for (unsigned int i = 0; i < n; ++i, ++c)
          indices[i] = begin[c] == pinned_dof ? PetscInt(-1) : static_cast<PetscInt>(begin[c]);
        DENSITYFLOW_PETSC(VecSetValues(system_rhs, n, indices.data(), cell_rhs.data(), ADD_VALUES));
        ++cell_index;
      }
  writer->close(target);
  system_matrix.compress(VectorOperation::add);
  system_rhs.compress(VectorOperation::add);
}

template <int dim>
void PathSolver<dim>::finish_potential()
{
  ghosted_solution = phi;
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_gradients | update_JxW_values);
  const unsigned int n = fe.n_dofs_per_cell(), n_q = quadrature.size();
  // All cells' DoF values in one read of the ghosted vector, not one per cell.
  std::vector<double> values(cell_dofs.size());
  ghosted_solution.extract_subvector_to(cell_dofs.begin(), cell_dofs.end(), values.begin());
  CompensatedSum mean, kinetic;
  double         speed = 0;
  std::size_t    k = 0, c = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < n_q; ++q, ++k)
          {
            double         phi_q = 0;
            Tensor<1, dim> grad_q;
            for (unsigned int i = 0; i < n; ++i)
              {
                phi_q += values[c + i] * fe_values.shape_value(i, q);
                grad_q += values[c + i] * fe_values.shape_grad(i, q);
              }
            const double rho_JxW = rho_q[k] / partition_function * fe_values.JxW(q);
            mean.add(rho_JxW * phi_q);
            kinetic.add(rho_JxW * grad_q.norm_square());
            speed = std::max(speed, grad_q.norm());
          }
        c += n;
      }
  std::vector<double> sums = {mean.value(), kinetic.value()};
  Utilities::MPI::sum(sums, mpi_communicator, sums);
  // int rho_t = 1 with the same quadrature, up to round-off.
  phi.add(-sums[0]);
  ghosted_solution     = phi;
  energy               = sums[1];
  largest_speed        = Utilities::MPI::max(speed, mpi_communicator);
  largest_speed_so_far = std::max(largest_speed_so_far, largest_speed);
}

template <int dim>
double PathSolver<dim>::time_step() const
{
  return step_size;
}

template <int dim>
std::string PathSolver<dim>::description() const
{
  std::ostringstream out;
  out << "path velocity (least kinetic energy), Q" << fe.degree << " potential, "
      << dof_handler.n_dofs() << " DoFs; " << linear_solver.description();
  if (path)
    out << "; " << path->description();
  return out.str();
}

template <int dim>
double PathSolver<dim>::kinetic_energy() const
{
  return energy;
}

template <int dim>
double PathSolver<dim>::action() const
{
  return accumulated_action;
}

template <int dim>
double PathSolver<dim>::length() const
{
  return accumulated_length;
}

template <int dim>
double PathSolver<dim>::max_speed() const
{
  return largest_speed;
}

template <int dim>
double PathSolver<dim>::peak_speed() const
{
  return largest_speed_so_far;
}

template <int dim>
const PETScWrappers::MPI::Vector &PathSolver<dim>::potential() const
{
  return ghosted_solution;
}

template class PathSolver<1>;
template class PathSolver<2>;
template class PathSolver<3>;
} // namespace densityflow

#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/transport/transport_solver.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_interface_values.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/sparsity_tools.h>

#include <petscmat.h>

#include <cmath>
#include <sstream>

namespace densityflow
{
namespace
{
/** The scheme, once the transport model is known to accept it. */
TimeScheme transport_scheme(const TimeScheme scheme, const double eps)
{
  if (scheme == TimeScheme::automatic)
    return eps == 0 ? TimeScheme::ssp_rk3 : TimeScheme::bdf2;
  if (scheme == TimeScheme::ssp_rk3 && eps > 0)
    throw InputError(
        "Time/Scheme = ssp-rk3 needs Physics/Diffusion = 0 (an explicit diffusion step would be "
        "limited by h^2/eps); use backward-euler, crank-nicolson or bdf2.");
  return scheme;
}

/** The CFL number of explicit steps, once known to be one that keeps rho >= 0. */
double checked_cfl(const double requested, const unsigned int degree, const TimeScheme scheme)
{
  const double largest = TransportSolver<1>::largest_cfl_number(degree);
  if (scheme != TimeScheme::ssp_rk3)
    return requested > 0 ? requested : 0.9 * largest;
  if (requested > largest)
    {
      std::ostringstream message;
      message << "Time/CFL number = " << requested << " cannot be met: with Degree = " << degree
              << ", SSP-RK3 is stable and the limiter keeps rho >= 0 only for CFL <= " << largest
              << " (dt max_K |b|_1 / h_K).";
      throw InputError(message.str());
    }
  return requested > 0 ? requested : 0.9 * largest;
}

/**
 * Points of the unit cell where the limiter makes rho >= 0: those the Zhang-Shu proof
 * needs (N-point Gauss-Lobatto with 2N - 3 >= degree in one direction, the face
 * quadrature's points in the others, over all directions), and also the nodes and
 * the volume quadrature points, so that every integral of the diagnostics sees
 * rho >= 0 too.
 */
template <int dim>
std::vector<Point<dim>> limiter_point_set(const FiniteElement<dim>  &fe,
                                          const Quadrature<dim>     &quadrature,
                                          const Quadrature<dim - 1> &face_quadrature)
{
  const unsigned int      n = fe.degree <= 1 ? 2 : 3;
  const QGaussLobatto<1>  lobatto(n);
  std::vector<Point<dim>> points;
  for (unsigned int direction = 0; direction < dim; ++direction)
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int q = 0; q < face_quadrature.size(); ++q)
        {
          Point<dim> p;
          for (unsigned int d = 0, k = 0; d < dim; ++d)
            p[d] = d == direction ? lobatto.point(i)[0] : face_quadrature.point(q)[k++];
          points.push_back(p);
        }
  points.insert(
      points.end(), fe.get_unit_support_points().begin(), fe.get_unit_support_points().end());
  points.insert(points.end(), quadrature.get_points().begin(), quadrature.get_points().end());
  return points;
}

/** A copy of the parallel AIJ matrix @p A without its stored zeros. */
Mat without_zeros(const Mat A)
{
  MPI_Comm comm;
  PetscObjectGetComm(reinterpret_cast<PetscObject>(A), &comm);
  PetscInt first, last, first_column, last_column, m, n;
  MatGetOwnershipRange(A, &first, &last);
  MatGetOwnershipRangeColumn(A, &first_column, &last_column);
  MatGetLocalSize(A, &m, &n);
  std::vector<PetscInt> diagonal(m, 0), off_diagonal(m, 0);
  for (PetscInt row = first; row < last; ++row)
    {
      PetscInt           n_entries;
      const PetscInt    *columns;
      const PetscScalar *values;
      MatGetRow(A, row, &n_entries, &columns, &values);
      for (PetscInt k = 0; k < n_entries; ++k)
        if (values[k] != 0)
          ++(columns[k] >= first_column && columns[k] < last_column ? diagonal
                                                                    : off_diagonal)[row - first];
      MatRestoreRow(A, row, &n_entries, &columns, &values);
    }
  Mat B;
  MatCreateAIJ(
      comm, m, n, PETSC_DETERMINE, PETSC_DETERMINE, 0, diagonal.data(), 0, off_diagonal.data(), &B);
  for (PetscInt row = first; row < last; ++row)
    {
      PetscInt           n_entries;
      const PetscInt    *columns;
      const PetscScalar *values;
      MatGetRow(A, row, &n_entries, &columns, &values);
      for (PetscInt k = 0; k < n_entries; ++k)
        if (values[k] != 0)
          MatSetValue(B, row, columns[k], values[k], INSERT_VALUES);
      MatRestoreRow(A, row, &n_entries, &columns, &values);
    }
  MatAssemblyBegin(B, MAT_FINAL_ASSEMBLY);
  MatAssemblyEnd(B, MAT_FINAL_ASSEMBLY);
  return B;
}

/** The extent of @p cell normal to its face @p f: volume over face area. */
template <typename Cell>
double cell_extent(const Cell &cell, const unsigned int f)
{
  if constexpr (Cell::AccessorType::dimension == 1)
    return cell->measure();
  else
    return cell->measure() / cell->face(f)->measure();
}

/** Whether this rank assembles the interior face between its @p cell and @p neighbor. */
template <typename Cell, typename Neighbor>
bool assembles_face(const Cell &cell, const Neighbor &neighbor)
{
  if (neighbor->is_locally_owned())
    return cell->id() < neighbor->id();
  return cell->subdomain_id() < neighbor->subdomain_id();
}

/**
 * Output fields of the transport solver: rho, the drift b, the probability-flow
 * velocity b - eps grad log rho, and the exact solution and error where given.
 */
template <int dim>
class TransportPostprocessor : public DataPostprocessor<dim>
{
public:
  TransportPostprocessor(const Physics<dim>    &physics,
                         const double           time,
                         const Expression<dim> *exact)
      : physics(physics)
      , time(time)
      , exact(exact)
  {}

  void evaluate_scalar_field(const DataPostprocessorInputs::Scalar<dim> &inputs,
                             std::vector<Vector<double>>                &computed) const override
  {
    const double eps = physics.diffusion();
    for (unsigned int q = 0; q < inputs.solution_values.size(); ++q)
      {
        const Point<dim>    &x   = inputs.evaluation_points[q];
        const double         rho = inputs.solution_values[q];
        const Tensor<1, dim> b   = physics.drift(x, time);
        unsigned int         k   = 0;
        computed[q](k++)         = rho;
        for (unsigned int d = 0; d < dim; ++d)
          computed[q](k++) = b[d];
        for (unsigned int d = 0; d < dim; ++d)
          computed[q](k++) = rho > 0 ? b[d] - eps * inputs.solution_gradients[q][d] / rho : b[d];
        if (exact != nullptr)
          {
            const double rho_exact = exact->value(x, time);
            computed[q](k++)       = rho_exact;
            computed[q](k++)       = rho - rho_exact;
          }
      }
  }

  std::vector<std::string> get_names() const override
  {
    std::vector<std::string> names = {"rho"};
    names.insert(names.end(), dim, "b");
    names.insert(names.end(), dim, "velocity");
    if (exact != nullptr)
      names.insert(names.end(), {"exact", "error"});
    return names;
  }

  std::vector<DataComponentInterpretation::DataComponentInterpretation>
  get_data_component_interpretation() const override
  {
    std::vector<DataComponentInterpretation::DataComponentInterpretation> kinds(
        1, DataComponentInterpretation::component_is_scalar);
    kinds.insert(kinds.end(), 2 * dim, DataComponentInterpretation::component_is_part_of_vector);
    if (exact != nullptr)
      kinds.insert(kinds.end(), 2, DataComponentInterpretation::component_is_scalar);
    return kinds;
  }

  UpdateFlags get_needed_update_flags() const override
  {
    return update_values | update_gradients | update_quadrature_points;
  }

private:
  const Physics<dim>    &physics;
  const double           time;
  const Expression<dim> *exact;
};
} // namespace

template <int dim>
double TransportSolver<dim>::largest_cfl_number(const unsigned int degree)
{
  // min(Zhang-Shu's first Gauss-Lobatto weight, the SSP-RK3 stability limit of DG-Q_p):
  // degree 0: 1 (upwind); 1: min(1/2, 0.409); 2: min(1/6, 0.209); 3: min(1/6, 0.130).
  static const double bound[4] = {1.0, 0.4, 1.0 / 6, 0.13};
  return bound[std::min(degree, 3u)];
}

template <int dim>
TransportSolver<dim>::TransportSolver(const Mesh<dim>                &mesh,
                                      const Physics<dim>             &physics,
                                      const DiscretizationParameters &discretization,
                                      const TimeParameters           &time,
                                      const LinearSolverParameters   &linear_solver_parameters)
    : mesh(mesh)
    , physics(physics)
    , discretization(discretization)
    , scheme(transport_scheme(time.scheme, physics.diffusion()))
    , fixed_step(time.step_size())
    , cfl(checked_cfl(time.cfl_number, discretization.degree, scheme))
    , mpi_communicator(mesh.communicator())
    , mapping(mesh.mapping())
    , fe(discretization.degree)
    , quadrature(discretization.degree + 2)
    , face_quadrature(discretization.degree + 2)
    , dof_handler(mesh.triangulation())
    , linear_solver(linear_solver_parameters, mesh.communicator(), false)
{
  setup_system();
  assemble_mass();
  if (physics.diffusion() > 0)
    assemble_diffusion();
  setup_limiter();

  // Fixed operators are assembled now; a general b(x, t) at its first use.
  if (!physics.drift_depends_on_time())
    {
      forward = std::make_unique<Advection>();
      assemble_advection([&](const Point<dim> &x) { return physics.drift(x, 0.0); }, *forward);
    }
  else if (physics.drift_is_separable())
    {
      forward  = std::make_unique<Advection>();
      backward = std::make_unique<Advection>();
      assemble_advection([&](const Point<dim> &x) { return physics.velocity(x, 0.0); }, *forward);
      assemble_advection([&](const Point<dim> &x) { return -physics.velocity(x, 0.0); }, *backward);
    }
}

template <int dim>
TransportSolver<dim>::~TransportSolver() = default;

template <int dim>
TransportSolver<dim>::Advection::~Advection()
{
  if (explicit_matrix != nullptr)
    {
      Mat product = static_cast<Mat>(explicit_matrix);
      MatDestroy(&product);
    }
}

template <int dim>
void TransportSolver<dim>::setup_system()
{
  dof_handler.distribute_dofs(fe);
  locally_owned_dofs = dof_handler.locally_owned_dofs();
  DoFTools::extract_locally_relevant_dofs(dof_handler, locally_relevant_dofs);

  DynamicSparsityPattern cell_pattern(locally_relevant_dofs);
  DoFTools::make_sparsity_pattern(dof_handler, cell_pattern);
  SparsityTools::distribute_sparsity_pattern(
      cell_pattern, locally_owned_dofs, mpi_communicator, locally_relevant_dofs);
  mass_matrix.reinit(locally_owned_dofs, locally_owned_dofs, cell_pattern, mpi_communicator);
  inverse_mass_matrix.reinit(
      locally_owned_dofs, locally_owned_dofs, cell_pattern, mpi_communicator);

  if (scheme != TimeScheme::ssp_rk3)
    {
      DynamicSparsityPattern flux_pattern(locally_relevant_dofs);
      DoFTools::make_flux_sparsity_pattern(dof_handler, flux_pattern);
      SparsityTools::distribute_sparsity_pattern(
          flux_pattern, locally_owned_dofs, mpi_communicator, locally_relevant_dofs);
      system_matrix.reinit(locally_owned_dofs, locally_owned_dofs, flux_pattern, mpi_communicator);
    }

  for (auto *v : {&solution_vector, &old_solution, &ones, &old_operator_solution, &old_source})
    v->reinit(locally_owned_dofs, mpi_communicator);
  ghosted_solution.reinit(locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
  ones = 1.0;
}

template <int dim>
void TransportSolver<dim>::assemble_mass()
{
  FEValues<dim>      fe_values(mapping, fe, quadrature, update_values | update_JxW_values);
  const unsigned int n = fe.n_dofs_per_cell();
  FullMatrix<double> cell_mass(n), cell_inverse(n);
  std::vector<types::global_dof_index> dofs(n);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell_mass = 0;
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          for (unsigned int i = 0; i < n; ++i)
            for (unsigned int j = 0; j < n; ++j)
              cell_mass(i, j) +=
                  fe_values.shape_value(i, q) * fe_values.shape_value(j, q) * fe_values.JxW(q);
        cell_inverse.invert(cell_mass);
        cell->get_dof_indices(dofs);
        mass_matrix.add(dofs, cell_mass);
        inverse_mass_matrix.add(dofs, cell_inverse);
      }
  mass_matrix.compress(VectorOperation::add);
  inverse_mass_matrix.compress(VectorOperation::add);
}

template <int dim>
void TransportSolver<dim>::assemble_diffusion()
{
  // Symmetric interior penalty; no diffusive flux through the boundary, so boundary
  // faces contribute nothing. Penalty max(1, 2 p (p + 1)) / h with h the cell extent
  // normal to the face: for p = 0 this is the two-point flux eps (rho_K - rho_K') / h.
  const double           eps = physics.diffusion();
  const unsigned int     p   = fe.degree;
  DynamicSparsityPattern pattern(locally_relevant_dofs);
  DoFTools::make_flux_sparsity_pattern(dof_handler, pattern);
  SparsityTools::distribute_sparsity_pattern(
      pattern, locally_owned_dofs, mpi_communicator, locally_relevant_dofs);
  diffusion_matrix.reinit(locally_owned_dofs, locally_owned_dofs, pattern, mpi_communicator);

  FEValues<dim>          fe_values(mapping, fe, quadrature, update_gradients | update_JxW_values);
  FEInterfaceValues<dim> fe_interface(mapping,
                                      fe,
                                      face_quadrature,
                                      update_values | update_gradients | update_JxW_values |
                                          update_normal_vectors);
  const unsigned int     n = fe.n_dofs_per_cell();
  FullMatrix<double>     cell_matrix(n);
  std::vector<types::global_dof_index> dofs(n);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell_matrix = 0;
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          for (unsigned int i = 0; i < n; ++i)
            for (unsigned int j = 0; j < n; ++j)
              cell_matrix(i, j) +=
                  eps * fe_values.shape_grad(i, q) * fe_values.shape_grad(j, q) * fe_values.JxW(q);
        cell->get_dof_indices(dofs);
        diffusion_matrix.add(dofs, cell_matrix);

        for (const unsigned int f : cell->face_indices())
          {
            if (cell->at_boundary(f))
              continue;
            const auto neighbor = cell->neighbor(f);
            if (!assembles_face(cell, neighbor))
              continue;
            fe_interface.reinit(cell,
                                f,
                                numbers::invalid_unsigned_int,
                                neighbor,
                                cell->neighbor_of_neighbor(f),
                                numbers::invalid_unsigned_int);
            const unsigned int  m       = fe_interface.n_current_interface_dofs();
            const double        extent  = std::min(cell_extent(cell, f),
                                           cell_extent(neighbor, cell->neighbor_of_neighbor(f)));
            const double        penalty = std::max(1.0, 2.0 * p * (p + 1)) / extent;
            FullMatrix<double>  face_matrix(m);
            std::vector<double> jump(m), normal_gradient(m);
            for (unsigned int q = 0; q < fe_interface.n_quadrature_points; ++q)
              {
                const Tensor<1, dim> &normal = fe_interface.normal(q);
                for (unsigned int i = 0; i < m; ++i)
                  {
                    jump[i]            = fe_interface.jump_in_shape_values(i, q);
                    normal_gradient[i] = fe_interface.average_of_shape_gradients(i, q) * normal;
                  }
                const double w = eps * fe_interface.JxW(q);
                for (unsigned int i = 0; i < m; ++i)
                  for (unsigned int j = 0; j < m; ++j)
                    face_matrix(i, j) +=
                        w * (-normal_gradient[j] * jump[i] - jump[j] * normal_gradient[i] +
                             penalty * jump[j] * jump[i]);
              }
            const auto interface_dofs = fe_interface.get_interface_dof_indices();
            diffusion_matrix.add(interface_dofs, face_matrix);
          }
      }
  diffusion_matrix.compress(VectorOperation::add);
}

template <int dim>
void TransportSolver<dim>::assemble_advection(
    const std::function<Tensor<1, dim>(const Point<dim> &)> &b, Advection &advection) const
{
  // M rho' + A rho = s with A_ij = -int_K phi_j b.grad phi_i + int_F (b.n) phi_j^upwind [phi_i]
  // over interior faces and int (b.n)^+ phi_j phi_i over the boundary.
  if (advection.matrix.m() == 0)
    {
      DynamicSparsityPattern pattern(locally_relevant_dofs);
      DoFTools::make_flux_sparsity_pattern(dof_handler, pattern);
      SparsityTools::distribute_sparsity_pattern(
          pattern, locally_owned_dofs, mpi_communicator, locally_relevant_dofs);
      advection.matrix.reinit(locally_owned_dofs, locally_owned_dofs, pattern, mpi_communicator);
      advection.outflow_weights.reinit(locally_owned_dofs, mpi_communicator);
    }
  advection.matrix = 0;

  FEValues<dim>                        fe_values(mapping,
                          fe,
                          quadrature,
                          update_values | update_gradients | update_quadrature_points |
                              update_JxW_values);
  FEFaceValues<dim>                    fe_face(mapping,
                            fe,
                            face_quadrature,
                            update_values | update_quadrature_points | update_normal_vectors |
                                update_JxW_values);
  FEInterfaceValues<dim>               fe_interface(mapping,
                                      fe,
                                      face_quadrature,
                                      update_values | update_quadrature_points |
                                          update_normal_vectors | update_JxW_values);
  const unsigned int                   n = fe.n_dofs_per_cell();
  FullMatrix<double>                   cell_matrix(n);
  std::vector<types::global_dof_index> dofs(n);
  double                               rate = 0;

  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell_matrix    = 0;
        const double h = cell->minimum_vertex_distance();
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const Tensor<1, dim> velocity = b(fe_values.quadrature_point(q));
            double               l1       = 0;
            for (unsigned int d = 0; d < dim; ++d)
              l1 += std::abs(velocity[d]);
            rate = std::max(rate, l1 / h);
            for (unsigned int i = 0; i < n; ++i)
              {
                const double b_grad_i = velocity * fe_values.shape_grad(i, q) * fe_values.JxW(q);
                for (unsigned int j = 0; j < n; ++j)
                  cell_matrix(i, j) -= fe_values.shape_value(j, q) * b_grad_i;
              }
          }

        for (const unsigned int f : cell->face_indices())
          if (cell->at_boundary(f))
            {
              fe_face.reinit(cell, f);
              for (unsigned int q = 0; q < face_quadrature.size(); ++q)
                {
                  const double bn = b(fe_face.quadrature_point(q)) * fe_face.normal_vector(q);
                  if (bn > 0)
                    for (unsigned int i = 0; i < n; ++i)
                      for (unsigned int j = 0; j < n; ++j)
                        cell_matrix(i, j) += bn * fe_face.shape_value(j, q) *
                                             fe_face.shape_value(i, q) * fe_face.JxW(q);
                }
            }
          else
            {
              const auto neighbor = cell->neighbor(f);
              if (!assembles_face(cell, neighbor))
                continue;
              fe_interface.reinit(cell,
                                  f,
                                  numbers::invalid_unsigned_int,
                                  neighbor,
                                  cell->neighbor_of_neighbor(f),
                                  numbers::invalid_unsigned_int);
              const unsigned int  m = fe_interface.n_current_interface_dofs();
              FullMatrix<double>  face_matrix(m);
              std::vector<double> jump(m), upwind(m);
              for (unsigned int q = 0; q < fe_interface.n_quadrature_points; ++q)
                {
                  const double bn = b(fe_interface.get_fe_face_values(0).quadrature_point(q)) *
                                    fe_interface.normal(q);
                  for (unsigned int i = 0; i < m; ++i)
                    {
                      jump[i]   = fe_interface.jump_in_shape_values(i, q);
                      upwind[i] = bn * fe_interface.shape_value(bn > 0, i, q) * fe_interface.JxW(q);
                    }
                  for (unsigned int i = 0; i < m; ++i)
                    if (jump[i] != 0)
                      for (unsigned int j = 0; j < m; ++j)
                        face_matrix(i, j) += upwind[j] * jump[i];
                }
              // Values of shape functions that vanish on the face may come out as round-off;
              // make them the exact zeros they are.
              const double largest = face_matrix.linfty_norm();
              for (unsigned int i = 0; i < m; ++i)
                for (unsigned int j = 0; j < m; ++j)
                  if (std::abs(face_matrix(i, j)) < 1e-14 * largest)
                    face_matrix(i, j) = 0;
              advection.matrix.add(fe_interface.get_interface_dof_indices(), face_matrix);
            }
        cell->get_dof_indices(dofs);
        advection.matrix.add(dofs, cell_matrix);
      }
  advection.matrix.compress(VectorOperation::add);
  advection.rate = Utilities::MPI::max(rate, mpi_communicator);

  // 1^T A: interior faces cancel, what is left is the outflow through the boundary.
  advection.matrix.Tvmult(advection.outflow_weights, ones);

  if (scheme == TimeScheme::ssp_rk3)
    {
      // M^{-1} A once, so that an explicit stage is one matrix-vector product.
      // Upwinding couples each face one way only, so half of the face blocks are
      // exact zeros; where the operator is assembled once they are dropped, which
      // makes the product 2 to 3 times smaller (a reassembled operator keeps its
      // pattern, since the upwind side may change).
      if (advection.explicit_matrix != nullptr)
        {
          Mat old = static_cast<Mat>(advection.explicit_matrix);
          MatDestroy(&old);
        }
      Mat                  product;
      const PetscErrorCode code = MatMatMult(static_cast<Mat>(inverse_mass_matrix),
                                             static_cast<Mat>(advection.matrix),
                                             MAT_INITIAL_MATRIX,
                                             PETSC_DEFAULT,
                                             &product);
      AssertThrow(code == 0, ExcPETScError(code));
      advection.explicit_matrix = product;
      if (!physics.drift_depends_on_time() || physics.drift_is_separable())
        {
          advection.explicit_matrix = without_zeros(product);
          MatDestroy(&product);
        }
    }
}

template <int dim>
void TransportSolver<dim>::assemble_inflow(const double t, PETScWrappers::MPI::Vector &source) const
{
  source = 0;
  if (physics.inflow_is_zero())
    return;
  FEFaceValues<dim>                    fe_face(mapping,
                            fe,
                            face_quadrature,
                            update_values | update_quadrature_points | update_normal_vectors |
                                update_JxW_values);
  const unsigned int                   n = fe.n_dofs_per_cell();
  Vector<double>                       cell_source(n);
  std::vector<types::global_dof_index> dofs(n);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned() && cell->at_boundary())
      {
        cell_source = 0;
        for (const unsigned int f : cell->face_indices())
          if (cell->at_boundary(f))
            {
              fe_face.reinit(cell, f);
              for (unsigned int q = 0; q < face_quadrature.size(); ++q)
                {
                  const Point<dim> &x  = fe_face.quadrature_point(q);
                  const double      bn = physics.drift(x, t) * fe_face.normal_vector(q);
                  if (bn < 0)
                    {
                      const double g = physics.inflow_density().value(x, t);
                      for (unsigned int i = 0; i < n; ++i)
                        cell_source(i) -= bn * g * fe_face.shape_value(i, q) * fe_face.JxW(q);
                    }
                }
            }
        cell->get_dof_indices(dofs);
        source.add(dofs, cell_source);
      }
  source.compress(VectorOperation::add);
}

template <int dim>
void TransportSolver<dim>::setup_limiter()
{
  const std::vector<Point<dim>> points = limiter_point_set<dim>(fe, quadrature, face_quadrature);
  const unsigned int            n      = fe.n_dofs_per_cell();
  limiter_points.resize(points.size() * n);
  negative_shape_sum = 0;
  for (unsigned int k = 0; k < points.size(); ++k)
    {
      double negative = 0;
      for (unsigned int j = 0; j < n; ++j)
        {
          limiter_points[k * n + j] = fe.shape_value(j, points[k]);
          negative += std::max(-limiter_points[k * n + j], 0.0);
        }
      negative_shape_sum = std::max(negative_shape_sum, negative);
    }

  FEValues<dim> fe_values(mapping, fe, quadrature, update_values | update_JxW_values);
  std::vector<types::global_dof_index> dofs(n);
  // (A rank may own no cells at all on a coarse mesh.)
  const types::global_dof_index first =
      locally_owned_dofs.n_elements() > 0 ? locally_owned_dofs.nth_index_in_set(0) : 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        cell->get_dof_indices(dofs);
        // A DG cell's dofs are numbered consecutively; the limiter relies on it.
        for (unsigned int j = 1; j < n; ++j)
          AssertThrow(dofs[j] == dofs[0] + j, ExcInternalError());
        cell_first_dof.push_back(dofs[0] - first);
        fe_values.reinit(cell);
        std::vector<double> weights(n, 0.0);
        double              volume = 0;
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            volume += fe_values.JxW(q);
            for (unsigned int j = 0; j < n; ++j)
              weights[j] += fe_values.shape_value(j, q) * fe_values.JxW(q);
          }
        for (const double w : weights)
          mean_weights.push_back(w / volume);
      }
}

template <int dim>
void TransportSolver<dim>::limit(PETScWrappers::MPI::Vector &u)
{
  if (!discretization.limiter || fe.degree == 0)
    return;
  const unsigned int n = fe.n_dofs_per_cell(), n_points = limiter_points.size() / n;
  // A multilinear function takes its extremes at the vertices, which are the nodes of Q1.
  const bool    nodal_minimum = fe.degree == 1;
  const double *P             = limiter_points.data();
  PetscScalar  *values;
  Vec           vector = static_cast<const Vec &>(u);
  VecGetArray(vector, &values);
  for (std::size_t c = 0; c < cell_first_dof.size(); ++c)
    {
      double *rho     = values + cell_first_dof[c];
      double  minimum = std::numeric_limits<double>::infinity();
      double  maximum = -std::numeric_limits<double>::infinity();
      for (unsigned int j = 0; j < n; ++j)
        {
          minimum = std::min(minimum, rho[j]);
          maximum = std::max(maximum, rho[j]);
        }
      // rho(x) = m + sum_j (rho_j - m) phi_j(x) >= m - (M - m) sum_j max(-phi_j(x), 0):
      // where that bound is >= 0, no point can be negative.
      if (!nodal_minimum && minimum - (maximum - minimum) * negative_shape_sum < 0)
        for (unsigned int k = 0; k < n_points; ++k)
          {
            double value = 0;
            for (unsigned int j = 0; j < n; ++j)
              value += P[k * n + j] * rho[j];
            minimum = std::min(minimum, value);
          }
      if (minimum >= 0)
        continue;

      const double *w    = &mean_weights[c * n];
      double        mean = 0;
      for (unsigned int j = 0; j < n; ++j)
        mean += w[j] * rho[j];
      // Scale towards the mean until the minimum is 1e-12 of the mean, which leaves it
      // >= 0 after round-off. A negative mean (impossible under the CFL bound) is left
      // as it is and shows in min_density.
      const double theta = mean > 0 ? std::min(1.0, (1 - 1e-12) * mean / (mean - minimum)) : 1.0;
      if (theta < 1)
        {
          for (unsigned int j = 0; j < n; ++j)
            rho[j] = mean + theta * (rho[j] - mean);
          ++limited_cells;
        }
    }
  VecRestoreArray(vector, &values);
}

template <int dim>
typename TransportSolver<dim>::Operator TransportSolver<dim>::advection_at(const double t)
{
  if (!physics.drift_depends_on_time())
    return {&forward->matrix, forward->explicit_matrix, &forward->outflow_weights, 1.0};
  if (physics.drift_is_separable())
    {
      const double     f     = physics.velocity_factor(t);
      const Advection &which = f >= 0 ? *forward : *backward;
      return {&which.matrix, which.explicit_matrix, &which.outflow_weights, std::abs(f)};
    }
  if (!forward)
    forward = std::make_unique<Advection>();
  if (assembled_time != t)
    {
      assemble_advection([&](const Point<dim> &x) { return physics.drift(x, t); }, *forward);
      assembled_time = t;
    }
  return {&forward->matrix, forward->explicit_matrix, &forward->outflow_weights, 1.0};
}

template <int dim>
double TransportSolver<dim>::explicit_rate(const PETScWrappers::MPI::Vector &u,
                                           const double                      t,
                                           PETScWrappers::MPI::Vector       &du)
{
  const Operator       A    = advection_at(t);
  const PetscErrorCode code = MatMult(static_cast<Mat>(A.explicit_matrix), u, du);
  AssertThrow(code == 0, ExcPETScError(code));
  du *= -A.scale;
  double rate = A.scale * compensated_dot(*A.outflow_weights, u);
  if (!physics.inflow_is_zero())
    {
      PETScWrappers::MPI::Vector source(du), scaled(du);
      assemble_inflow(t, source);
      inverse_mass_matrix.vmult(scaled, source);
      du += scaled;
      rate -= compensated_sum(source);
    }
  return rate;
}

template <int dim>
unsigned int TransportSolver<dim>::advance_explicit(const double dt)
{
  // Shu-Osher SSP-RK3; each stage limited. The outflow of the step is the same
  // combination of the stage outflow rates, 1/6, 1/6, 2/3, so the mass balance is exact.
  const double               t = current_time;
  PETScWrappers::MPI::Vector stage(solution_vector), rate(solution_vector);
  const double               r0 = explicit_rate(solution_vector, t, rate);
  stage.add(dt, rate);
  limit(stage);
  const double r1 = explicit_rate(stage, t + dt, rate);
  stage.add(dt, rate);
  stage.sadd(0.25, 0.75, solution_vector);
  limit(stage);
  const double r2 = explicit_rate(stage, t + dt / 2, rate);
  stage.add(dt, rate);
  solution_vector.sadd(1.0 / 3, 2.0 / 3, stage);
  limit(solution_vector);
  last_outflow_change = dt * (r0 / 6 + r1 / 6 + 2 * r2 / 3);
  return 0;
}

template <int dim>
unsigned int TransportSolver<dim>::advance_implicit(const double dt)
{
  // a M u + b (s A + D) u = rhs at t_{n+1}: backward Euler (1, dt), Crank-Nicolson
  // (1, dt/2), BDF2 (3/2, dt) after a backward-Euler start.
  const double               t_new = current_time + dt;
  const Operator             A     = advection_at(t_new);
  PETScWrappers::MPI::Vector source(solution_vector), rhs(solution_vector), work(solution_vector);
  assemble_inflow(t_new, source);

  // BDF2 needs the previous step to be of the same size (see the Fokker-Planck solver).
  const bool   bdf2 = scheme == TimeScheme::bdf2 && step_number > 0 && dt == previous_step;
  const double a = bdf2 ? 1.5 : 1.0, b = scheme == TimeScheme::crank_nicolson ? dt / 2 : dt;
  mass_matrix.vmult(rhs, solution_vector);
  if (bdf2)
    {
      mass_matrix.vmult(work, old_solution);
      rhs.sadd(2.0, -0.5, work);
    }
  rhs.add(b, source);
  if (scheme == TimeScheme::crank_nicolson)
    {
      rhs.add(-dt / 2, old_operator_solution);
      rhs.add(dt / 2, old_source);
    }

  // a M + b (s A + D): rebuilt (with its preconditioner) only when it changes.
  const std::array<double, 3> coefficients = {{a, b, b * A.scale}};
  if (coefficients != system_coefficients || A.matrix != system_operator ||
      (physics.drift_depends_on_time() && !physics.drift_is_separable()))
    {
      system_matrix.copy_from(*A.matrix);
      system_matrix *= b * A.scale;
      system_matrix.add(a, mass_matrix);
      if (physics.diffusion() > 0)
        system_matrix.add(b, diffusion_matrix);
      linear_solver.set_matrix(system_matrix);
      system_coefficients = coefficients;
      system_operator     = A.matrix;
    }

  PETScWrappers::MPI::Vector new_solution(solution_vector);
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
      A.matrix->vmult(old_operator_solution, new_solution);
      old_operator_solution *= A.scale;
      if (physics.diffusion() > 0)
        {
          diffusion_matrix.vmult(work, new_solution);
          old_operator_solution += work;
        }
      old_source = source;
    }
  else
    last_outflow_change = bdf2 ? 2.0 / 3 * dt * rate + last_outflow_change / 3 : dt * rate;

  old_solution    = solution_vector;
  solution_vector = new_solution;
  return iterations;
}

template <int dim>
unsigned int TransportSolver<dim>::advance(const double dt)
{
  const unsigned int iterations =
      scheme == TimeScheme::ssp_rk3 ? advance_explicit(dt) : advance_implicit(dt);
  outflow += last_outflow_change;
  if (!std::isfinite(solution_vector.l2_norm()))
    throw RunError("The density is no longer finite after step " + std::to_string(step_number + 1) +
                   " (t = " + std::to_string(current_time + dt) +
                   "): check Physics/Velocity and the time step.");
  current_time += dt;
  previous_step = dt;
  ++step_number;
  ghosted_solution = solution_vector;
  return iterations;
}

template <int dim>
double TransportSolver<dim>::cfl_rate(const double t) const
{
  if (!physics.drift_depends_on_time())
    return forward->rate;
  if (physics.drift_is_separable())
    return std::abs(physics.velocity_factor(t)) * std::max(forward->rate, backward->rate);
  // A general b(x, t): max_K |b|_1 / h_K at the quadrature points, without assembling.
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points);
  double        rate = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        const double h = cell->minimum_vertex_distance();
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const Tensor<1, dim> b  = physics.drift(fe_values.quadrature_point(q), t);
            double               l1 = 0;
            for (unsigned int d = 0; d < dim; ++d)
              l1 += std::abs(b[d]);
            rate = std::max(rate, l1 / h);
          }
      }
  return Utilities::MPI::max(rate, mpi_communicator);
}

template <int dim>
double TransportSolver<dim>::time_step() const
{
  if (scheme != TimeScheme::ssp_rk3)
    return fixed_step;
  // Where b changes in time, the rate that limits the step is the largest over the
  // step, not the one at its start (which may be zero where b reverses): probe the
  // start, middle and end of a candidate step and shrink it until the rate over it
  // allows it.
  double dt = fixed_step;
  for (unsigned int iteration = 0; iteration < 10; ++iteration)
    {
      double rate = cfl_rate(current_time);
      if (physics.drift_depends_on_time())
        rate = std::max({rate, cfl_rate(current_time + dt / 2), cfl_rate(current_time + dt)});
      if (rate * dt <= cfl)
        return dt;
      dt = cfl / rate;
    }
  return dt;
}

template <int dim>
bool TransportSolver<dim>::adjustable_time_step() const
{
  return scheme == TimeScheme::ssp_rk3;
}

template <int dim>
double TransportSolver<dim>::set_initial_density(const Expression<dim> &rho0)
{
  // The L2 projection is local to each cell: rho_K = M_K^{-1} (rho0, phi), exact in mass.
  PETScWrappers::MPI::Vector rhs(locally_owned_dofs, mpi_communicator);
  const double total_mass = assemble_initial_load(rho0, dof_handler, mapping, quadrature, rhs);
  rhs /= total_mass;
  inverse_mass_matrix.vmult(solution_vector, rhs);
  // The projection of rough data over- and undershoots; the explicit scheme starts
  // from limited data, as its positivity argument needs.
  if (scheme == TimeScheme::ssp_rk3)
    limit(solution_vector);
  old_solution     = solution_vector;
  ghosted_solution = solution_vector;
  current_time     = 0;
  step_number      = 0;
  outflow          = 0;

  if (scheme == TimeScheme::crank_nicolson)
    {
      const Operator A = advection_at(0.0);
      A.matrix->vmult(old_operator_solution, solution_vector);
      old_operator_solution *= A.scale;
      if (physics.diffusion() > 0)
        {
          PETScWrappers::MPI::Vector work(solution_vector);
          diffusion_matrix.vmult(work, solution_vector);
          old_operator_solution += work;
        }
      assemble_inflow(0.0, old_source);
    }
  return 1.0 / total_mass;
}

template <int dim>
double TransportSolver<dim>::time() const
{
  return current_time;
}

template <int dim>
void TransportSolver<dim>::set_time(const double t)
{
  current_time = t;
}

template <int dim>
types::global_dof_index TransportSolver<dim>::n_dofs() const
{
  return dof_handler.n_dofs();
}

template <int dim>
const PETScWrappers::MPI::Vector &TransportSolver<dim>::solution() const
{
  return solution_vector;
}

template <int dim>
const DoFHandler<dim> &TransportSolver<dim>::get_dof_handler() const
{
  return dof_handler;
}

template <int dim>
unsigned long TransportSolver<dim>::n_limited_cells() const
{
  return Utilities::MPI::sum(limited_cells, mpi_communicator);
}

template <int dim>
DensityStatistics<dim> TransportSolver<dim>::statistics(const Expression<dim> *exact) const
{
  const double  eps = physics.diffusion();
  const double  t   = current_time;
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
  const Quadrature<dim> points(limiter_point_set<dim>(fe, quadrature, face_quadrature));
  FEValues<dim>         point_values(mapping, fe, points, update_values);
  std::vector<double>   rho(quadrature.size()), rho_points(points.size());
  DensityIntegrals<dim> integrals;
  // Sums for F = int V rho + eps int rho log rho, and for KL(rho | exp(-V/eps)/Z).
  double potential_energy = 0, entropy = 0, z_local = 0,
         v_min = std::numeric_limits<double>::infinity();
  std::vector<double> V(quadrature.size());
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(ghosted_solution, rho);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const Point<dim> &x = fe_values.quadrature_point(q);
            integrals.add(x, rho[q], fe_values.JxW(q));
            if (exact != nullptr)
              integrals.add_exact(rho[q], exact->value(x, t), fe_values.JxW(q));
            V[q]  = physics.potential().value(x, t);
            v_min = std::min(v_min, V[q]);
            potential_energy += V[q] * rho[q] * fe_values.JxW(q);
            if (rho[q] > 0)
              entropy += rho[q] * std::log(rho[q]) * fe_values.JxW(q);
          }
        point_values.reinit(cell);
        point_values.get_function_values(ghosted_solution, rho_points);
        for (const double value : rho_points)
          integrals.add_to_minimum(value);
      }
  DensityStatistics<dim> result;
  integrals.finish(result, mpi_communicator);
  result.outflow_mass = outflow;
  potential_energy    = Utilities::MPI::sum(potential_energy, mpi_communicator);
  entropy             = Utilities::MPI::sum(entropy, mpi_communicator);
  result.free_energy  = potential_energy + eps * entropy;
  if (eps > 0)
    {
      // KL(rho | pi) = (F(rho) - mass * F_min) / eps with Z = int exp(-(V - V_min)/eps).
      v_min = Utilities::MPI::min(v_min, mpi_communicator);
      for (const auto &cell : dof_handler.active_cell_iterators())
        if (cell->is_locally_owned())
          {
            fe_values.reinit(cell);
            for (unsigned int q = 0; q < quadrature.size(); ++q)
              z_local +=
                  std::exp(-(physics.potential().value(fe_values.quadrature_point(q), t) - v_min) /
                           eps) *
                  fe_values.JxW(q);
          }
      const double Z = Utilities::MPI::sum(z_local, mpi_communicator);
      result.relative_entropy =
          (result.free_energy - result.mass * (v_min - eps * std::log(Z))) / eps;
    }
  return result;
}

template <int dim>
void TransportSolver<dim>::fill_output(DataOut<dim> &data_out, const Expression<dim> *exact) const
{
  output_postprocessor =
      std::make_unique<TransportPostprocessor<dim>>(physics, current_time, exact);
  output_subdomain.reinit(mesh.triangulation().n_active_cells());
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      output_subdomain(cell->active_cell_index()) = cell->subdomain_id();
  data_out.attach_dof_handler(dof_handler);
  data_out.add_data_vector(ghosted_solution, *output_postprocessor);
  data_out.add_data_vector(output_subdomain, "subdomain");
  data_out.build_patches(mapping, std::max(1u, fe.degree));
}

template <int dim>
std::string TransportSolver<dim>::description() const
{
  std::ostringstream out;
  out << "transport, discontinuous Galerkin Q" << fe.degree << ", upwind flux"
      << (physics.diffusion() > 0 ? " + interior penalty" : "") << ", " << to_string(scheme);
  if (scheme == TimeScheme::ssp_rk3)
    out << " (CFL " << cfl
        << (discretization.limiter && fe.degree > 0 ? ", Zhang-Shu limiter)" : ", no limiter)");
  out << "; " << dof_handler.n_dofs() << " DoFs";
  if (scheme != TimeScheme::ssp_rk3)
    out << "; " << linear_solver.description();
  out << (!physics.drift_depends_on_time() ? "; b constant in time: operator assembled once"
          : physics.drift_is_separable()   ? "; b = f(t) w(x): operator assembled once for w and -w"
                                           : "; b depends on t: operator assembled at every stage");
  return out.str();
}

template <int dim>
void TransportSolver<dim>::quadrature_measure(
    const unsigned int                                              n,
    std::vector<typename Triangulation<dim>::active_cell_iterator> &cells,
    std::vector<Point<dim>>                                        &points,
    std::vector<double>                                            &weights) const
{
  const QGauss<dim> gauss(n);
  FEValues<dim>     fe_values(
      mapping, fe, gauss, update_values | update_quadrature_points | update_JxW_values);
  std::vector<double> rho(gauss.size());
  cells.clear(), points.clear(), weights.clear();
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(ghosted_solution, rho);
        cells.push_back(cell);
        for (unsigned int q = 0; q < gauss.size(); ++q)
          {
            points.push_back(fe_values.quadrature_point(q));
            weights.push_back(rho[q] * fe_values.JxW(q));
          }
      }
}

template <int dim>
void TransportSolver<dim>::density_at(const typename Triangulation<dim>::active_cell_iterator &cell,
                                      const std::vector<Point<dim>> &points,
                                      std::vector<double>           &rho) const
{
  const typename DoFHandler<dim>::active_cell_iterator dof_cell(
      &mesh.triangulation(), cell->level(), cell->index(), &dof_handler);
  std::vector<Point<dim>> unit_points(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    unit_points[q] = mapping.transform_real_to_unit_cell(cell, points[q]);
  FEValues<dim> fe_values(mapping, fe, Quadrature<dim>(unit_points), update_values);
  fe_values.reinit(dof_cell);
  rho.resize(points.size());
  fe_values.get_function_values(ghosted_solution, rho);
}

template <int dim>
void TransportSolver<dim>::velocity_at(
    const typename Triangulation<dim>::active_cell_iterator &cell,
    const std::vector<Point<dim>>                           &points,
    std::vector<double>                                     &rho,
    std::vector<Tensor<1, dim>>                             &velocity) const
{
  const typename DoFHandler<dim>::active_cell_iterator dof_cell(
      &mesh.triangulation(), cell->level(), cell->index(), &dof_handler);
  std::vector<Point<dim>> unit_points(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    unit_points[q] = mapping.transform_real_to_unit_cell(cell, points[q]);
  FEValues<dim> fe_values(
      mapping, fe, Quadrature<dim>(unit_points), update_values | update_gradients);
  fe_values.reinit(dof_cell);
  rho.resize(points.size());
  std::vector<Tensor<1, dim>> gradients(points.size());
  fe_values.get_function_values(ghosted_solution, rho);
  fe_values.get_function_gradients(ghosted_solution, gradients);
  // As in the output's postprocessor.
  const double eps = physics.diffusion();
  velocity.resize(points.size());
  for (unsigned int q = 0; q < points.size(); ++q)
    {
      velocity[q] = physics.drift(points[q], current_time);
      if (rho[q] > 0)
        velocity[q] -= eps * gradients[q] / rho[q];
    }
}

template class TransportSolver<1>;
template class TransportSolver<2>;
template class TransportSolver<3>;
} // namespace densityflow

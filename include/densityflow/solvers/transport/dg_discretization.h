#pragma once

#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/mapping.h>

namespace dealii
{
namespace PETScWrappers
{
namespace MPI
{
class SparseMatrix;
} // namespace MPI
} // namespace PETScWrappers
} // namespace dealii

namespace densityflow
{
using namespace dealii;

/**
 * What the operators of DG transport are assembled on: the discontinuous element's
 * DoFHandler on the mesh's mapping, the cell and face quadratures and the parallel
 * layout. It refers to what the transport solver owns.
 */
template <int dim>
struct DGDiscretization
{
  const DoFHandler<dim>     &dof_handler;
  const Mapping<dim>        &mapping;
  const Quadrature<dim>     &quadrature;
  const Quadrature<dim - 1> &face_quadrature;
  const IndexSet            &locally_owned_dofs;
  const IndexSet            &locally_relevant_dofs;
  MPI_Comm                   communicator;

  /** Reinitialises @p matrix on the pattern that couples cells across faces. */
  void reinit_flux_matrix(PETScWrappers::MPI::SparseMatrix &matrix) const;

  /** Reinitialises each of @p matrices on the block-diagonal (cell) pattern. */
  void
  reinit_cell_matrices(std::initializer_list<PETScWrappers::MPI::SparseMatrix *> matrices) const;
};

/** The extent of @p cell normal to its face @p f: volume over face area. */
template <typename Cell>
double cell_extent(const Cell &cell, const unsigned int f)
{
  if constexpr (Cell::AccessorType::dimension == 1)
    return cell->measure();
  else
    return cell->measure() / cell->face(f)->measure();
}

/**
 * Whether this rank assembles the interior face between its @p cell and @p neighbor:
 * each face once, by the cell of lower id, or across ranks by the lower rank.
 */
template <typename Cell, typename Neighbor>
bool assembles_face(const Cell &cell, const Neighbor &neighbor)
{
  if (neighbor->is_locally_owned())
    return cell->id() < neighbor->id();
  return cell->subdomain_id() < neighbor->subdomain_id();
}
} // namespace densityflow

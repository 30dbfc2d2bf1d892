#pragma once

#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/mapping.h>

#include <tuple>
#include <utility>

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
 * Whether face @p f of @p cell is a wall of the domain: on the boundary and not on a
 * periodic wall (Mesh/Periodic), across which the cell has its periodic image's cell as
 * a neighbour and the face is interior to the torus.
 */
template <typename Cell>
bool at_wall(const Cell &cell, const unsigned int f)
{
  return cell->at_boundary(f) && !cell->has_periodic_neighbor(f);
}

/**
 * The cell across the face @p f of @p cell that is not at_wall(), and the number of the
 * face there: the neighbour, or on a periodic wall the periodic image's cell.
 */
template <typename Cell>
auto across_face(const Cell &cell, const unsigned int f)
{
  if (cell->at_boundary(f))
    return std::make_pair(cell->periodic_neighbor(f), cell->periodic_neighbor_face_no(f));
  return std::make_pair(cell->neighbor(f), cell->neighbor_of_neighbor(f));
}

/** How an interior face meets the cells across it (hanging faces of adaptive meshes). */
enum class FaceKind
{
  /** One cell of the same level across (or the periodic image's cell). */
  conforming,
  /** The face is refined: a finer cell across each of its subfaces. */
  finer_across,
  /** The face is a subface of the coarser neighbour's face. */
  coarser_across
};

/**
 * How the face @p f of @p cell, not at_wall(), meets the cells across it, also on a
 * periodic wall, where the cell across is the periodic image's. The DG loops assemble a
 * hanging face once per subface from the coarser side, so that a conforming mesh keeps
 * the arithmetic it had before there were hanging faces.
 */
template <typename Cell>
FaceKind face_kind(const Cell &cell, const unsigned int f)
{
  if (cell->at_boundary(f))
    {
      // This side of a periodic wall has no refined face of its own: the image's cell
      // (of this level or coarser) tells.
      if (cell->periodic_neighbor_is_coarser(f))
        return FaceKind::coarser_across;
      return cell->periodic_neighbor(f)->has_children() ? FaceKind::finer_across
                                                        : FaceKind::conforming;
    }
  if (cell->face(f)->has_children())
    return FaceKind::finer_across;
  if (cell->neighbor_is_coarser(f))
    return FaceKind::coarser_across;
  return FaceKind::conforming;
}

/** The number of subfaces of a face whose face_kind() is finer_across. */
template <typename Cell>
unsigned int n_subfaces(const Cell &cell, const unsigned int f)
{
  if (cell->at_boundary(f))
    return cell->periodic_neighbor(f)->face(cell->periodic_neighbor_face_no(f))->n_children();
  return cell->face(f)->n_children();
}

/**
 * Across subface @p sf of a face whose face_kind() is finer_across: the finer cell there
 * and the number of its face on this one.
 */
template <typename Cell>
auto across_subface(const Cell &cell, const unsigned int f, const unsigned int sf)
{
  if (cell->at_boundary(f))
    return std::make_pair(cell->periodic_neighbor_child_on_subface(f, sf),
                          cell->periodic_neighbor_face_no(f));
  return std::make_pair(cell->neighbor_child_on_subface(f, sf), cell->neighbor_of_neighbor(f));
}

/**
 * Across a face whose face_kind() is coarser_across: the coarser cell, the number of its
 * face and the subface of it that this face is.
 */
template <typename Cell>
auto across_coarser(const Cell &cell, const unsigned int f)
{
  const auto [face, subface] = cell->at_boundary(f)
                                   ? cell->periodic_neighbor_of_coarser_periodic_neighbor(f)
                                   : cell->neighbor_of_coarser_neighbor(f);
  return std::make_tuple(
      cell->at_boundary(f) ? cell->periodic_neighbor(f) : cell->neighbor(f), face, subface);
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

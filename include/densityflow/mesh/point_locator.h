#pragma once

#include <densityflow/mesh/mesh.h>

#include <deal.II/base/bounding_box.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/particles/particle_handler.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * Finds the cells of points spread over the ranks and hands each point, with a
 * fixed number of doubles of data that travel with it, to the rank that owns its
 * cell; points in no cell are reported. Collective.
 *
 * It wraps Particles::ParticleHandler::insert_global_particles, which finds points
 * however far they are from where they were, but exchanges ids and properties itself
 * only on ranks that send points (a collective call that ranks without points skip
 * in deal.II 9.4); here positions alone go through deal.II and the data follow by
 * point-to-point messages.
 *
 * Most points are found without it: a point is first looked for in the cell it had
 * before (a hint) and in the cells that share a vertex with that cell, then in the
 * cells of this rank whose bounding boxes cover its bucket of a uniform grid over this
 * rank's part of the mesh; only the points not found there (points of other ranks'
 * cells, points outside the domain) take the global search. On a box mesh the cells
 * are their bounding boxes and no point is mapped back to the unit cell. Cells are the
 * mapping's: on a curved mesh a point between a boundary cell's chord and its arc is
 * in that cell.
 *
 * Built for the mesh as it is: once the mesh changes (refinement, coarsening,
 * repartitioning: MeshChangeListener) it is outdated(), and Mesh::point_locator() makes a
 * new one at its next use. Hints from before the change may be passed: a hint that is no
 * active cell of the mesh now is ignored (is_current_active_cell()), one that is (the same
 * cell, or another one in its place) is only a first guess, checked like any other.
 */
class MeshChangeListener;

template <int dim>
class PointLocator
{
public:
  PointLocator(const Mesh<dim> &mesh, const Mapping<dim> &mapping);
  ~PointLocator();

  /** Whether the mesh has changed since this locator was built (then it is of no use). */
  bool outdated() const;

  /**
   * @param points  this rank's points; replaced by the points this rank owns afterwards
   * @param data    @p stride doubles per point, moved along with the points
   * @param cells   before: a hint per point (the cell it was in, or an invalid
   *                iterator), used if there is one for each point; afterwards: the
   *                cell of each point. Points come out grouped by cell.
   * @return the indices (in this rank's arrays before the call) of points in no cell
   */
  std::vector<std::size_t>
  locate(std::vector<Point<dim>>                                        &points,
         std::vector<double>                                            &data,
         const unsigned int                                              stride,
         std::vector<typename Triangulation<dim>::active_cell_iterator> &cells);

  /** locate() with the cells find_locally() gave as @p found (the hints are not used). */
  std::vector<std::size_t>
  locate(std::vector<Point<dim>>                                        &points,
         std::vector<double>                                            &data,
         const unsigned int                                              stride,
         std::vector<typename Triangulation<dim>::active_cell_iterator>  found,
         std::vector<typename Triangulation<dim>::active_cell_iterator> &cells);

  /**
   * The first half of locate(), without communication: each point's cell among this
   * rank's cells (from its hint, used where there is one per point and the mesh is not a
   * box, the hint's vertex neighbours and the bucket grid), an invalid iterator where none
   * of them holds it.
   */
  std::vector<typename Triangulation<dim>::active_cell_iterator>
  find_locally(const std::vector<Point<dim>>                                        &points,
               const std::vector<typename Triangulation<dim>::active_cell_iterator> &hints) const;

  /** Whether find_locally() found a cell for every point on every rank. Collective. */
  bool found_everywhere(
      const std::vector<typename Triangulation<dim>::active_cell_iterator> &found) const;

  /**
   * The permutation that groups points by cell as locate() does: new position i holds
   * the point at order[i], stably sorted by active cell index.
   */
  static std::vector<std::size_t>
  grouping_order(const std::vector<typename Triangulation<dim>::active_cell_iterator> &cells);

private:
  using CellIterator = typename Triangulation<dim>::active_cell_iterator;

  /**
   * The bounding boxes of this rank's cells (of their mapped shape) and the bucket grid
   * over them. Returns how far the cells reach out of their vertices' boxes.
   */
  double build_bucket_grid(const Triangulation<dim> &tria);

  /** Whether @p cell is locally owned and holds @p p. */
  bool holds(const CellIterator &cell, const Point<dim> &p) const;

  /** Whether the locally owned @p cell, of active cell index @p index, holds @p p. */
  bool
  owned_cell_holds(const unsigned int index, const CellIterator &cell, const Point<dim> &p) const;

  /** The locally owned cell among @p hint and its vertex neighbours that holds @p p. */
  CellIterator find_near(const CellIterator &hint, const Point<dim> &p) const;

  /** The locally owned cell that holds @p p, through the bucket grid. */
  CellIterator find_local(const Point<dim> &p) const;

  /** The global search of deal.II, for the points that find_near() and find_local() did
      not place. */
  std::vector<std::size_t>
  locate_globally(std::vector<Point<dim>>                                        &points,
                  std::vector<double>                                            &data,
                  const unsigned int                                              stride,
                  std::vector<typename Triangulation<dim>::active_cell_iterator> &cells);

  const Mapping<dim>                                                         &mapping;
  std::vector<std::vector<typename Triangulation<dim>::active_cell_iterator>> vertex_cells;
  /** Bounding boxes of the locally owned cells, by active cell index. */
  std::vector<BoundingBox<dim>> cell_boxes;
  /** Whether each cell is its bounding box (axis-parallel box meshes, 1D). */
  bool cells_are_boxes;
  /** The bucket grid: origin, buckets per unit length and per direction, and the
      cells of bucket b in bucket_cells[bucket_start[b]..bucket_start[b + 1]). */
  Point<dim>                    grid_origin;
  Tensor<1, dim>                grid_scale;
  std::array<unsigned int, dim> grid_size{};
  std::vector<std::size_t>      bucket_start;
  std::vector<CellIterator>     bucket_cells;
  /** The active cell indices of bucket_cells (no call into deal.II to read them). */
  std::vector<unsigned int> bucket_cell_indices;
  /**
   * Box meshes: per bucket, the place in bucket_cells of the cell that covers most of it,
   * tried first; a point inside its box by more than unique_margin is in no other cell's
   * (the boxes tile the domain and no cell's tolerance reaches that far), so the scan of
   * the bucket, which picks the first cell that holds the point, would pick it too.
   */
  std::vector<std::size_t>                   bucket_primary;
  double                                     unique_margin = 0;
  MPI_Comm                                   mpi_communicator;
  Particles::ParticleHandler<dim>            handler;
  std::vector<std::vector<BoundingBox<dim>>> rank_boxes;
  bool                                       mesh_changed = false;
  std::unique_ptr<MeshChangeListener>        mesh_changes;
};
} // namespace densityflow

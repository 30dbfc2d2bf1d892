#pragma once

#include <densityflow/mesh.h>

#include <deal.II/base/bounding_box.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/particles/particle_handler.h>

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
 * Points that moved little are found without it: a point is first looked for in the
 * cell it had before (a hint) and in the cells that share a vertex with that cell;
 * only the points not found there, on any rank, take the global search.
 */
template <int dim>
class PointLocator
{
public:
  PointLocator(const Mesh<dim> &mesh, const Mapping<dim> &mapping);
  ~PointLocator();

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

private:
  /** The locally owned cell among @p hint and its vertex neighbours that holds @p p. */
  typename Triangulation<dim>::active_cell_iterator
  find_near(const typename Triangulation<dim>::active_cell_iterator &hint,
            const Point<dim>                                        &p) const;

  /** The global search of deal.II, for the points that find_near() did not place. */
  std::vector<std::size_t>
  locate_globally(std::vector<Point<dim>>                                        &points,
                  std::vector<double>                                            &data,
                  const unsigned int                                              stride,
                  std::vector<typename Triangulation<dim>::active_cell_iterator> &cells);

  const Mapping<dim>                                                         &mapping;
  std::vector<std::vector<typename Triangulation<dim>::active_cell_iterator>> vertex_cells;
  MPI_Comm                                                                    mpi_communicator;
  Particles::ParticleHandler<dim>                                             handler;
  std::vector<std::vector<BoundingBox<dim>>>                                  rank_boxes;
};
} // namespace densityflow

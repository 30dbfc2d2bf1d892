#pragma once

#include <deal.II/grid/tria.h>

#include <functional>
#include <vector>

#include <boost/signals2/connection.hpp>

namespace densityflow
{
using namespace dealii;

/**
 * Calls a function whenever the cells of a triangulation change: refinement and coarsening
 * (Mesh/Adaptivity; p4est changes the local cells several times per adaptation, so the
 * function may be called more than once for one), repartitioning, loading, clearing.
 *
 * Cell iterators die with such a change (the cell a particle was in may be refined,
 * coarsened away or owned by another rank). Whatever keeps iterators across steps (the
 * PointLocator's cell lists, the particles' cells) listens here instead of being told
 * by whoever refined the mesh, so that a solver that adapts the mesh (inside its step)
 * needs to tell nobody. The function should only mark what is outdated: it runs in the
 * middle of the triangulation's change, where nothing collective may be done.
 *
 * Disconnects when destroyed; neither copied nor moved (the function captures its owner).
 */
class MeshChangeListener
{
public:
  template <int dim>
  MeshChangeListener(const Triangulation<dim> &triangulation, std::function<void()> on_change);
  ~MeshChangeListener();

  MeshChangeListener(const MeshChangeListener &)            = delete;
  MeshChangeListener &operator=(const MeshChangeListener &) = delete;

private:
  std::vector<boost::signals2::connection> connections;
};

/**
 * Whether @p cell is an active cell of its triangulation as it is now: a cell iterator kept
 * from before a change may point at a level or index that no longer exists, or at a cell
 * that was refined or coarsened away. Reads nothing out of range (the level and index are
 * checked first).
 */
template <int dim>
bool is_current_active_cell(const typename Triangulation<dim>::active_cell_iterator &cell);
} // namespace densityflow

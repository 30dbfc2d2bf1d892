#include <densityflow/mesh/mesh_changes.h>

namespace densityflow
{
template <int dim>
MeshChangeListener::MeshChangeListener(const Triangulation<dim> &triangulation,
                                       std::function<void()>     on_change)
{
  // any_change follows create, post_refinement (also each of p4est's local changes) and
  // clear; the distributed signals mark the end of an adaptation, a repartition, a load.
  auto &signals = triangulation.signals;
  connections.push_back(signals.any_change.connect(on_change));
  connections.push_back(signals.post_distributed_refinement.connect(on_change));
  connections.push_back(signals.post_distributed_repartition.connect(on_change));
  connections.push_back(signals.post_distributed_load.connect(on_change));
}

MeshChangeListener::~MeshChangeListener()
{
  for (auto &connection : connections)
    connection.disconnect();
}

template <int dim>
bool is_current_active_cell(const typename Triangulation<dim>::active_cell_iterator &cell)
{
  if (cell.state() != IteratorState::valid)
    return false;
  const Triangulation<dim> &tria  = cell->get_triangulation();
  const unsigned int        level = cell->level();
  return level < tria.n_levels() &&
         static_cast<unsigned int>(cell->index()) < tria.n_raw_cells(level) && cell->used() &&
         cell->is_active();
}

template MeshChangeListener::MeshChangeListener(const Triangulation<1> &, std::function<void()>);
template MeshChangeListener::MeshChangeListener(const Triangulation<2> &, std::function<void()>);
template MeshChangeListener::MeshChangeListener(const Triangulation<3> &, std::function<void()>);
template bool is_current_active_cell<1>(const Triangulation<1>::active_cell_iterator &);
template bool is_current_active_cell<2>(const Triangulation<2>::active_cell_iterator &);
template bool is_current_active_cell<3>(const Triangulation<3>::active_cell_iterator &);
} // namespace densityflow

#include <densityflow/point_locator.h>

#include <deal.II/grid/filtered_iterator.h>
#include <deal.II/grid/grid_tools.h>

#include <map>

namespace densityflow
{
template <int dim>
PointLocator<dim>::PointLocator(const Mesh<dim> &mesh, const Mapping<dim> &mapping)
    : mpi_communicator(mesh.communicator())
{
  handler.initialize(mesh.triangulation(), mapping, 0);
  const auto local_boxes = GridTools::compute_mesh_predicate_bounding_box(
      static_cast<const Triangulation<dim> &>(mesh.triangulation()),
      std::function<bool(const typename Triangulation<dim>::active_cell_iterator &)>(
          IteratorFilters::LocallyOwnedCell()));
  rank_boxes = Utilities::MPI::all_gather(mpi_communicator, local_boxes);
}

template <int dim>
PointLocator<dim>::~PointLocator() = default;

template <int dim>
std::vector<std::size_t>
PointLocator<dim>::locate(std::vector<Point<dim>>                                        &points,
                          std::vector<double>                                            &data,
                          const unsigned int                                              stride,
                          std::vector<typename Triangulation<dim>::active_cell_iterator> &cells)
{
  // deal.II numbers each inserted point by its place in the concatenation of all
  // ranks' arrays, and returns per sending rank the indices of the points this rank
  // now owns.
  handler.clear();
  const auto         found      = handler.insert_global_particles(points, rank_boxes);
  const unsigned int rank       = Utilities::MPI::this_mpi_process(mpi_communicator);
  const auto         n_per_rank = Utilities::MPI::all_gather(mpi_communicator, points.size());
  std::vector<types::particle_index> first_index(n_per_rank.size(), 0);
  for (unsigned int r = 1; r < n_per_rank.size(); ++r)
    first_index[r] = first_index[r - 1] + n_per_rank[r - 1];

  // 1. Tell every sender which of its points arrived here.
  std::map<unsigned int, std::vector<types::global_dof_index>> arrived, delivered;
  for (const auto &[sender, indices] : found)
    (sender == rank ? delivered : arrived)[sender] =
        std::vector<types::global_dof_index>(indices.begin(), indices.end());
  for (auto &[owner, indices] : Utilities::MPI::some_to_some(mpi_communicator, arrived))
    delivered[owner] = std::move(indices);

  // 2. Send each delivered point's data to its new owner, after deal.II's number for it.
  std::map<unsigned int, std::vector<double>> outgoing, incoming;
  std::vector<bool>                           was_found(points.size(), false);
  for (const auto &[owner, indices] : delivered)
    for (const auto k : indices)
      {
        was_found[k]             = true;
        std::vector<double> &out = (owner == rank ? incoming : outgoing)[owner];
        out.push_back(static_cast<double>(first_index[rank] + k));
        out.insert(out.end(), data.begin() + k * stride, data.begin() + (k + 1) * stride);
      }
  std::vector<std::size_t> outside;
  for (std::size_t k = 0; k < points.size(); ++k)
    if (!was_found[k])
      outside.push_back(k);
  for (auto &[sender, values] : Utilities::MPI::some_to_some(mpi_communicator, outgoing))
    incoming[sender] = std::move(values);
  std::map<types::particle_index, const double *> by_number;
  for (const auto &[sender, values] : incoming)
    for (std::size_t k = 0; k < values.size(); k += stride + 1)
      by_number[static_cast<types::particle_index>(values[k])] = &values[k + 1];

  // 3. This rank's points are now those in its cells, in the handler's (cell) order.
  points.clear(), data.clear(), cells.clear();
  for (const auto &particle : handler)
    {
      const double *values = by_number.at(particle.get_id());
      points.push_back(particle.get_location());
      data.insert(data.end(), values, values + stride);
      cells.push_back(particle.get_surrounding_cell());
    }
  return outside;
}

template class PointLocator<1>;
template class PointLocator<2>;
template class PointLocator<3>;
} // namespace densityflow

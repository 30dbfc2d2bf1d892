#include <densityflow/mesh/mesh_changes.h>
#include <densityflow/mesh/point_locator.h>

#include <deal.II/grid/filtered_iterator.h>
#include <deal.II/grid/grid_tools.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace densityflow
{
template <int dim>
PointLocator<dim>::PointLocator(const Mesh<dim> &mesh, const Mapping<dim> &mapping)
    : mapping(mapping)
    , cells_are_boxes(mesh.is_box() || dim == 1)
    , mpi_communicator(mesh.communicator())
{
  const auto &tria = mesh.triangulation();
  for (const auto &cells : GridTools::vertex_to_cell_map(tria))
    vertex_cells.emplace_back(cells.begin(), cells.end());

  const double bulge = build_bucket_grid(tria);

  handler.initialize(tria, mapping, 0);
  auto local_boxes = GridTools::compute_mesh_predicate_bounding_box(
      static_cast<const Triangulation<dim> &>(tria),
      std::function<bool(const typename Triangulation<dim>::active_cell_iterator &)>(
          IteratorFilters::LocallyOwnedCell()));
  // Those boxes are the vertices'; curved cells reach out of them by up to the bulge.
  if (bulge > 0)
    for (BoundingBox<dim> &box : local_boxes)
      box.extend(2 * bulge);
  rank_boxes   = Utilities::MPI::all_gather(mpi_communicator, local_boxes);
  mesh_changes = std::make_unique<MeshChangeListener>(tria, [this]() { mesh_changed = true; });
}

template <int dim>
PointLocator<dim>::~PointLocator() = default;

template <int dim>
bool PointLocator<dim>::outdated() const
{
  return mesh_changed;
}

template <int dim>
double PointLocator<dim>::build_bucket_grid(const Triangulation<dim> &tria)
{
  // Buckets about as large as the smallest cell, at most a few per cell, each listing
  // the cells whose boxes meet it.
  cell_boxes.resize(tria.n_active_cells());
  std::vector<CellIterator> owned;
  BoundingBox<dim>          region;
  Tensor<1, dim>            smallest;
  double                    bulge = 0;
  for (unsigned int d = 0; d < dim; ++d)
    smallest[d] = std::numeric_limits<double>::max();
  for (const auto &cell : tria.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        BoundingBox<dim> box = cell->bounding_box();
        if (!cells_are_boxes)
          {
            // A curved cell (a mapping of higher degree) is not inside its vertices' box.
            const BoundingBox<dim> vertex_box = box;
            box.merge_with(mapping.get_bounding_box(cell));
            for (unsigned int d = 0; d < dim; ++d)
              bulge = std::max({bulge,
                                vertex_box.lower_bound(d) - box.lower_bound(d),
                                box.upper_bound(d) - vertex_box.upper_bound(d)});
          }
        cell_boxes[cell->active_cell_index()] = box;
        if (owned.empty())
          region = box;
        else
          region.merge_with(box);
        for (unsigned int d = 0; d < dim; ++d)
          smallest[d] = std::min(smallest[d], box.side_length(d));
        owned.push_back(cell);
      }
  if (owned.empty())
    return bulge;
  grid_origin      = region.get_boundary_points().first;
  double n_buckets = 1;
  for (unsigned int d = 0; d < dim; ++d)
    n_buckets *= std::max(1.0, region.side_length(d) / smallest[d]);
  // Graded meshes would ask for far more buckets than cells: coarsen uniformly.
  const double coarsening = std::max(1.0, std::pow(n_buckets / (4.0 * owned.size()), 1.0 / dim));
  std::size_t  total      = 1;
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double extent = region.side_length(d);
      grid_size[d]        = std::max(
          1u, static_cast<unsigned int>(std::ceil(extent / (smallest[d] * coarsening) - 1e-8)));
      grid_scale[d] = extent > 0 ? grid_size[d] / extent : 0.0;
      total *= grid_size[d];
    }
  const auto bucket_range = [&](const BoundingBox<dim> &box, const unsigned int d) {
    // A tolerance of a small part of a bucket puts a cell into the buckets it touches.
    const double lo = (box.lower_bound(d) - grid_origin[d]) * grid_scale[d] - 1e-8;
    const double hi = (box.upper_bound(d) - grid_origin[d]) * grid_scale[d] + 1e-8;
    return std::make_pair(
        static_cast<unsigned int>(std::max(0.0, std::floor(lo))),
        std::min(grid_size[d] - 1, static_cast<unsigned int>(std::max(0.0, std::floor(hi)))));
  };
  const auto for_each_bucket = [&](const CellIterator &cell, const auto &action) {
    std::array<std::pair<unsigned int, unsigned int>, dim> range;
    std::array<unsigned int, dim>                          i;
    for (unsigned int d = 0; d < dim; ++d)
      {
        range[d] = bucket_range(cell_boxes[cell->active_cell_index()], d);
        i[d]     = range[d].first;
      }
    while (true)
      {
        std::size_t b = 0;
        for (unsigned int d = dim; d-- > 0;)
          b = b * grid_size[d] + i[d];
        action(b);
        unsigned int d = 0;
        while (d < dim && i[d] == range[d].second)
          i[d] = range[d].first, ++d;
        if (d == dim)
          break;
        ++i[d];
      }
  };
  // Compressed rows: count, sum up, fill.
  bucket_start.assign(total + 1, 0);
  for (const auto &cell : owned)
    for_each_bucket(cell, [&](const std::size_t b) { ++bucket_start[b + 1]; });
  std::partial_sum(bucket_start.begin(), bucket_start.end(), bucket_start.begin());
  bucket_cells.resize(bucket_start.back());
  bucket_cell_indices.resize(bucket_start.back());
  std::vector<std::size_t> fill(bucket_start.begin(), bucket_start.end() - 1);
  for (const auto &cell : owned)
    for_each_bucket(cell, [&](const std::size_t b) {
      bucket_cell_indices[fill[b]] = cell->active_cell_index();
      bucket_cells[fill[b]++]      = cell;
    });

  if (cells_are_boxes)
    {
      // owned_cell_holds() widens a box by 1e-10 of its first side: twice the widest.
      double widest = 0;
      for (const auto &cell : owned)
        widest = std::max(widest, cell_boxes[cell->active_cell_index()].side_length(0));
      unique_margin = 2e-10 * widest;
      bucket_primary.assign(total, std::numeric_limits<std::size_t>::max());
      for (std::size_t b = 0; b < total; ++b)
        {
          double           covered = 0;
          BoundingBox<dim> bucket;
          std::size_t      rest = b;
          for (unsigned int d = 0; d < dim; ++d)
            {
              const std::size_t i = rest % grid_size[d];
              rest /= grid_size[d];
              bucket.get_boundary_points().first[d]  = grid_origin[d] + i / grid_scale[d];
              bucket.get_boundary_points().second[d] = grid_origin[d] + (i + 1) / grid_scale[d];
            }
          for (std::size_t k = bucket_start[b]; k < bucket_start[b + 1]; ++k)
            {
              const auto &corners = cell_boxes[bucket_cell_indices[k]].get_boundary_points();
              double      overlap = 1;
              for (unsigned int d = 0; d < dim; ++d)
                overlap *=
                    std::max(0.0,
                             std::min(corners.second[d], bucket.get_boundary_points().second[d]) -
                                 std::max(corners.first[d], bucket.get_boundary_points().first[d]));
              if (overlap > covered)
                covered = overlap, bucket_primary[b] = k;
            }
        }
    }
  return bulge;
}

template <int dim>
bool PointLocator<dim>::holds(const CellIterator &cell, const Point<dim> &p) const
{
  return cell->is_locally_owned() && owned_cell_holds(cell->active_cell_index(), cell, p);
}

template <int dim>
bool PointLocator<dim>::owned_cell_holds(const unsigned int  index,
                                         const CellIterator &cell,
                                         const Point<dim>   &p) const
{
  // The bounding box is cheap and rules out almost every cell (its corners are read
  // inline: BoundingBox's lower_bound() and side_length() are calls into deal.II).
  const auto  &corners   = cell_boxes[index].get_boundary_points();
  const double tolerance = 1e-10 * (corners.second[0] - corners.first[0]);
  for (unsigned int d = 0; d < dim; ++d)
    if (p[d] < corners.first[d] - tolerance || p[d] > corners.second[d] + tolerance)
      return false;
  if (cells_are_boxes)
    return true;
  try
    {
      return GeometryInfo<dim>::is_inside_unit_cell(mapping.transform_real_to_unit_cell(cell, p),
                                                    1e-10);
    }
  catch (const typename Mapping<dim>::ExcTransformationFailed &)
    {
      return false;
    }
}

template <int dim>
typename PointLocator<dim>::CellIterator PointLocator<dim>::find_near(const CellIterator &hint,
                                                                      const Point<dim>   &p) const
{
  if (holds(hint, p))
    return hint;
  for (const unsigned int v : hint->vertex_indices())
    for (const auto &cell : vertex_cells[hint->vertex_index(v)])
      if (cell != hint && holds(cell, p))
        return cell;
  return {};
}

template <int dim>
typename PointLocator<dim>::CellIterator PointLocator<dim>::find_local(const Point<dim> &p) const
{
  if (bucket_cells.empty())
    return {};
  std::size_t b = 0;
  for (unsigned int d = dim; d-- > 0;)
    {
      const double s = std::floor((p[d] - grid_origin[d]) * grid_scale[d]);
      // Points on the upper end of the grid belong to its last bucket.
      const double i = s == grid_size[d] ? s - 1 : s;
      if (!(i >= 0 && i < grid_size[d]))
        return {};
      b = b * grid_size[d] + static_cast<std::size_t>(i);
    }
  if (cells_are_boxes && bucket_primary[b] < bucket_cells.size())
    {
      const std::size_t k       = bucket_primary[b];
      const auto       &corners = cell_boxes[bucket_cell_indices[k]].get_boundary_points();
      bool              inside  = true;
      for (unsigned int d = 0; d < dim; ++d)
        inside = inside && p[d] > corners.first[d] + unique_margin &&
                 p[d] < corners.second[d] - unique_margin;
      if (inside)
        return bucket_cells[k];
    }
  for (std::size_t k = bucket_start[b]; k < bucket_start[b + 1]; ++k)
    if (owned_cell_holds(bucket_cell_indices[k], bucket_cells[k], p))
      return bucket_cells[k];
  return {};
}

template <int dim>
std::vector<std::size_t> PointLocator<dim>::grouping_order(const std::vector<CellIterator> &cells)
{
  // What std::stable_sort by the key gives: a counting sort where the points are many
  // against the cells, else a stable sort of the keys read once.
  std::vector<std::size_t> order(cells.size());
  if (cells.empty())
    return order;
  std::vector<unsigned int> key(cells.size());
  for (std::size_t k = 0; k < cells.size(); ++k)
    key[k] = cells[k]->active_cell_index();
  const std::size_t n_cells = cells[0]->get_triangulation().n_active_cells();
  if (4 * cells.size() >= n_cells)
    {
      std::vector<std::size_t> start(n_cells + 1, 0);
      for (const unsigned int c : key)
        ++start[c + 1];
      std::partial_sum(start.begin(), start.end(), start.begin());
      for (std::size_t k = 0; k < cells.size(); ++k)
        order[start[key[k]]++] = k;
    }
  else
    {
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](const std::size_t a, const std::size_t b) {
        return key[a] < key[b];
      });
    }
  return order;
}

template <int dim>
std::vector<typename PointLocator<dim>::CellIterator>
PointLocator<dim>::find_locally(const std::vector<Point<dim>>   &points,
                                const std::vector<CellIterator> &hints) const
{
  std::vector<CellIterator> found(points.size());
  // On a box mesh the bucket grid finds a cell from a few box tests, cheaper than the
  // checks that a hint is still a cell of the mesh (deal.II calls out of line).
  const bool hinted = !cells_are_boxes && hints.size() == points.size();
  for (std::size_t k = 0; k < points.size(); ++k)
    {
      if (hinted && is_current_active_cell<dim>(hints[k]))
        found[k] = find_near(hints[k], points[k]);
      if (found[k].state() != IteratorState::valid)
        found[k] = find_local(points[k]);
    }
  return found;
}

template <int dim>
bool PointLocator<dim>::found_everywhere(const std::vector<CellIterator> &found) const
{
  const bool here = std::all_of(found.begin(), found.end(), [](const CellIterator &cell) {
    return cell.state() == IteratorState::valid;
  });
  return Utilities::MPI::sum<std::uint64_t>(here ? 0 : 1, mpi_communicator) == 0;
}

template <int dim>
std::vector<std::size_t>
PointLocator<dim>::locate(std::vector<Point<dim>>                                        &points,
                          std::vector<double>                                            &data,
                          const unsigned int                                              stride,
                          std::vector<typename Triangulation<dim>::active_cell_iterator> &cells)
{
  return locate(points, data, stride, find_locally(points, cells), cells);
}

template <int dim>
std::vector<std::size_t>
PointLocator<dim>::locate(std::vector<Point<dim>>                                        &points,
                          std::vector<double>                                            &data,
                          const unsigned int                                              stride,
                          std::vector<CellIterator>                                       found,
                          std::vector<typename Triangulation<dim>::active_cell_iterator> &cells)
{
  bool all_found_in_order = true;
  for (std::size_t k = 0; k < points.size() && all_found_in_order; ++k)
    all_found_in_order =
        found[k].state() == IteratorState::valid &&
        (k == 0 || found[k - 1]->active_cell_index() <= found[k]->active_cell_index());
  // The common case of small steps: every point is still here and still grouped by cell,
  // so the arrays stay as they are (what the general path below would give them).
  if (Utilities::MPI::sum<std::uint64_t>(all_found_in_order ? 0 : 1, mpi_communicator) == 0)
    {
      cells = std::move(found);
      return {};
    }

  // Points in this rank's cells stay; the others (and their indices) go to the global
  // search.
  std::vector<Point<dim>>   near_points, far_points;
  std::vector<double>       near_data, far_data;
  std::vector<CellIterator> near_cells, far_cells;
  std::vector<std::size_t>  far_index;
  for (std::size_t k = 0; k < points.size(); ++k)
    {
      const CellIterator &cell = found[k];
      const bool          near = cell.state() == IteratorState::valid;
      (near ? near_points : far_points).push_back(points[k]);
      auto &d = near ? near_data : far_data;
      d.insert(d.end(), data.begin() + k * stride, data.begin() + (k + 1) * stride);
      if (near)
        near_cells.push_back(cell);
      else
        far_index.push_back(k);
    }
  std::vector<std::size_t> outside;
  if (Utilities::MPI::sum<std::uint64_t>(far_points.size(), mpi_communicator) > 0)
    for (const std::size_t k : locate_globally(far_points, far_data, stride, far_cells))
      outside.push_back(far_index[k]);

  // Group the points by cell, so that a cell's points are evaluated together.
  near_points.insert(near_points.end(), far_points.begin(), far_points.end());
  near_data.insert(near_data.end(), far_data.begin(), far_data.end());
  near_cells.insert(near_cells.end(), far_cells.begin(), far_cells.end());
  std::vector<std::size_t> order = grouping_order(near_cells);
  points.resize(order.size()), cells.resize(order.size()), data.resize(order.size() * stride);
  for (std::size_t i = 0; i < order.size(); ++i)
    {
      points[i] = near_points[order[i]];
      cells[i]  = near_cells[order[i]];
      std::copy(near_data.begin() + order[i] * stride,
                near_data.begin() + (order[i] + 1) * stride,
                data.begin() + i * stride);
    }
  return outside;
}

template <int dim>
std::vector<std::size_t> PointLocator<dim>::locate_globally(
    std::vector<Point<dim>>                                        &points,
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
  // An empty handler has nothing to carry through a change of the mesh.
  handler.clear();
  return outside;
}

template class PointLocator<1>;
template class PointLocator<2>;
template class PointLocator<3>;
} // namespace densityflow

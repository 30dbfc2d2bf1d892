#include <densityflow/base/exceptions.h>
#include <densityflow/base/npy.h>
#include <densityflow/mesh/point_locator.h>
#include <densityflow/output/grid_output.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

namespace densityflow
{
namespace
{
/** Grid points are evaluated this fraction of the box towards its upper corner. */
constexpr double evaluation_offset = 1e-8;
} // namespace

template <int dim>
GridOutput<dim>::GridOutput(const Mesh<dim>                 &mesh,
                            const std::vector<unsigned int> &counts,
                            const std::string               &directory,
                            const MPI_Comm                   communicator)
    : directory(directory)
    , mpi_communicator(communicator)
{
  if (counts.size() != dim)
    {
      std::string text;
      for (const unsigned int c : counts)
        text += (text.empty() ? "" : ", ") + std::to_string(c);
      throw InputError("Output/Grid = '" + text + "' has " + std::to_string(counts.size()) +
                       " count(s); a " + std::to_string(dim) + "D problem needs " +
                       std::to_string(dim) + " (points per direction), or none for no grid.");
    }
  std::size_t n_points = 1;
  for (unsigned int d = 0; d < dim; ++d)
    {
      size[d] = counts[d];
      n_points *= counts[d];
    }
  lower = mesh.bounding_box().get_boundary_points().first;
  upper = mesh.bounding_box().get_boundary_points().second;

  // Each rank starts with a contiguous slice of the flat (C-order) indices; the
  // locator hands every point to the owner of its cell.
  const unsigned int rank    = Utilities::MPI::this_mpi_process(communicator);
  const unsigned int n_ranks = Utilities::MPI::n_mpi_processes(communicator);
  const std::size_t  begin   = n_points * rank / n_ranks;
  const std::size_t  end     = n_points * (rank + 1) / n_ranks;
  // A grid point on a face between cells would take the values (the velocity, and for
  // DG rho itself, jump there) of whichever cell the partition offers first. Each point
  // is therefore evaluated a little towards the upper corner, beyond the locator's
  // tolerance of 1e-10 cell sizes: the cell above a face, on any number of ranks.
  std::array<std::vector<double>, dim> axes;
  for (unsigned int d = 0; d < dim; ++d)
    {
      axes[d] = coordinates(d);
      for (double &x : axes[d])
        x += evaluation_offset * (upper[d] - lower[d]);
    }
  for (std::size_t flat = begin; flat < end; ++flat)
    {
      Point<dim>  p;
      std::size_t rest = flat;
      for (int d = dim - 1; d >= 0; --d)
        {
          p[d] = axes[d][rest % size[d]];
          rest /= size[d];
        }
      points.push_back(p);
      indices.push_back(double(flat));
    }
  PointLocator<dim> &locator = mesh.point_locator();
  outside = Utilities::MPI::sum<std::uint64_t>(locator.locate(points, indices, 1, cells).size(),
                                               communicator);
}

template <int dim>
GridOutput<dim>::~GridOutput() = default;

template <int dim>
std::vector<double> GridOutput<dim>::coordinates(const unsigned int d) const
{
  std::vector<double> x(size[d]);
  for (unsigned int i = 0; i < size[d]; ++i)
    x[i] = lower[d] + (i + 0.5) * (upper[d] - lower[d]) / size[d];
  return x;
}

template <int dim>
std::size_t GridOutput<dim>::n_outside() const
{
  return outside;
}

template <int dim>
void GridOutput<dim>::write(const DensitySolver<dim> &solver)
{
  // (index, rho, velocity) per point, in runs of the points of one cell.
  std::vector<double>         local;
  std::vector<Point<dim>>     cell_points;
  std::vector<double>         rho;
  std::vector<Tensor<1, dim>> velocity;
  local.reserve(points.size() * (2 + dim));
  for (std::size_t first = 0; first < points.size();)
    {
      std::size_t last = first;
      while (last < points.size() && cells[last] == cells[first])
        ++last;
      cell_points.assign(points.begin() + first, points.begin() + last);
      solver.velocity_at(cells[first], cell_points, &rho, velocity);
      for (std::size_t k = first; k < last; ++k)
        {
          local.push_back(indices[k]);
          local.push_back(rho[k - first]);
          for (unsigned int d = 0; d < dim; ++d)
            local.push_back(velocity[k - first][d]);
        }
      first = last;
    }
  const auto parts = Utilities::MPI::gather(mpi_communicator, local, 0);

  bool        failed = false;
  std::string message;
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      std::size_t n_points = 1;
      for (unsigned int d = 0; d < dim; ++d)
        n_points *= size[d];
      const double        nan = std::numeric_limits<double>::quiet_NaN();
      std::vector<double> rho_grid(n_points, nan), velocity_grid(n_points * dim, nan);
      for (const auto &part : parts)
        for (std::size_t i = 0; i + 1 < part.size(); i += 2 + dim)
          {
            const auto flat = static_cast<std::size_t>(part[i]);
            rho_grid[flat]  = part[i + 1];
            for (unsigned int d = 0; d < dim; ++d)
              velocity_grid[flat * dim + d] = part[i + 2 + d];
          }
      std::ostringstream number;
      number << std::setw(5) << std::setfill('0') << records.size();
      const std::string        rho_file = "grid_rho_" + number.str() + ".npy";
      const std::string        v_file   = "grid_velocity_" + number.str() + ".npy";
      std::vector<std::size_t> shape(size.begin(), size.end());
      try
        {
          write_npy(directory + "/" + rho_file, rho_grid, shape);
          shape.push_back(dim);
          write_npy(directory + "/" + v_file, velocity_grid, shape);
        }
      catch (const std::exception &e)
        {
          failed  = true;
          message = std::string("Output/Grid: ") + e.what();
        }
      records.emplace_back(solver.time(), number.str());

      // Rewritten at every output, so that it lists the files written so far.
      std::ostringstream json;
      json << std::setprecision(17) << "{\n  \"dimension\": " << dim << ",\n  \"shape\": [";
      for (unsigned int d = 0; d < dim; ++d)
        json << (d ? ", " : "") << size[d];
      json << "],\n  \"lower\": [";
      for (unsigned int d = 0; d < dim; ++d)
        json << (d ? ", " : "") << lower[d];
      json << "],\n  \"upper\": [";
      for (unsigned int d = 0; d < dim; ++d)
        json << (d ? ", " : "") << upper[d];
      json << "],\n"
           << "  \"points\": \"cell-centred: x_d[i] = lower[d] + (i + 0.5) * (upper[d] - "
              "lower[d]) / shape[d]\",\n"
           << "  \"indexing\": \"rho[i, j(, k)] is at (x[i], y[j](, z[k])), as "
              "numpy.meshgrid(x, y, indexing='ij'); velocity has a last axis of length "
              "dimension\",\n"
           << "  \"evaluated_at\": \"x + 1e-8 * (upper - lower): a point on a face between "
              "cells takes the values of the cell above it\",\n"
           << "  \"outside\": \"NaN at grid points in no cell of the mesh\",\n"
           << "  \"points_outside\": " << outside << ",\n"
           << "  \"velocity\": \"the probability-flow velocity, as the velocity field of "
              "density.pvd\",\n"
           << "  \"times\": [";
      for (std::size_t k = 0; k < records.size(); ++k)
        json << (k ? ", " : "") << records[k].first;
      json << "],\n  \"rho_files\": [";
      for (std::size_t k = 0; k < records.size(); ++k)
        json << (k ? ", " : "") << "\"grid_rho_" << records[k].second << ".npy\"";
      json << "],\n  \"velocity_files\": [";
      for (std::size_t k = 0; k < records.size(); ++k)
        json << (k ? ", " : "") << "\"grid_velocity_" << records[k].second << ".npy\"";
      json << "]\n}\n";
      std::ofstream file(directory + "/grid.json");
      file << json.str();
      if (!file && !failed)
        {
          failed  = true;
          message = "Output/Grid: cannot write '" + directory + "/grid.json'";
        }
    }
  else
    records.emplace_back(solver.time(), std::string());
  throw_if_any(failed, message, mpi_communicator, true);
}

template class GridOutput<1>;
template class GridOutput<2>;
template class GridOutput<3>;
} // namespace densityflow

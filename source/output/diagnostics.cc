#include <densityflow/base/exceptions.h>
#include <densityflow/output/column_descriptions.h>
#include <densityflow/output/diagnostics.h>

#include <algorithm>
#include <cmath>
#include <iomanip>

namespace densityflow
{
namespace
{
const char *axis_names[3] = {"x", "y", "z"};
}

Diagnostics::Diagnostics(const unsigned int              dim,
                         const std::string              &csv_file,
                         const MPI_Comm                  communicator,
                         const std::vector<std::string> &regions,
                         const std::vector<std::string> &extra,
                         const bool                      append)
{
  column_names = {
      "time", "step", "mass", "min_density", "negative_mass", "free_energy", "relative_entropy"};
  for (unsigned int i = 0; i < dim; ++i)
    column_names.push_back(std::string("mean_") + axis_names[i]);
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int j = i; j < dim; ++j)
      column_names.push_back(std::string("cov_") + axis_names[i] + axis_names[j]);
  for (const char *name : {"l2_error", "outflow_mass", "linear_iterations", "wall_seconds"})
    column_names.emplace_back(name);
  column_names.insert(column_names.end(), extra.begin(), extra.end());
  for (const std::string &region : regions)
    column_names.push_back("mass_" + region);

  // On every rank, so that an undescribed column stops all of them alike.
  const std::string descriptions = column_descriptions(column_names);
  if (!csv_file.empty() && Utilities::MPI::this_mpi_process(communicator) == 0)
    {
      write_column_descriptions(csv_file, descriptions);
      file = std::make_unique<std::ofstream>(csv_file, append ? std::ios::app : std::ios::out);
      if (append)
        return;
      for (std::size_t c = 0; c < column_names.size(); ++c)
        *file << (c > 0 ? "," : "") << column_names[c];
      *file << '\n' << std::flush;
    }
}

template <int dim>
void Diagnostics::add(const double                  time,
                      const unsigned int            step,
                      const DensityStatistics<dim> &s,
                      const unsigned int            linear_iterations,
                      const double                  wall_seconds,
                      const std::vector<double>    &region_masses)
{
  std::vector<double> row = {time,
                             double(step),
                             s.mass,
                             s.min_density,
                             s.negative_mass,
                             s.free_energy,
                             s.relative_entropy};
  for (unsigned int i = 0; i < dim; ++i)
    row.push_back(s.mean[i]);
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int j = i; j < dim; ++j)
      row.push_back(s.covariance[i][j]);
  row.insert(row.end(), {s.l2_error, s.outflow_mass, double(linear_iterations), wall_seconds});
  row.insert(row.end(), s.extra.begin(), s.extra.end());
  row.insert(row.end(), region_masses.begin(), region_masses.end());
  AssertDimension(row.size(), column_names.size());
  data.push_back(row);

  if (file)
    {
      *file << std::setprecision(16);
      for (std::size_t c = 0; c < row.size(); ++c)
        {
          if (c > 0)
            *file << ',';
          if (std::isfinite(row[c]))
            *file << row[c];
        }
      *file << '\n' << std::flush;
    }
}

const std::vector<std::string> &Diagnostics::columns() const
{
  return column_names;
}

const std::vector<std::vector<double>> &Diagnostics::rows() const
{
  return data;
}

double Diagnostics::value(const std::size_t row, const std::string &column) const
{
  const auto it = std::find(column_names.begin(), column_names.end(), column);
  if (it == column_names.end())
    throw std::out_of_range("diagnostics has no column '" + column + "'");
  return data.at(row)[it - column_names.begin()];
}

template void Diagnostics::add(double,
                               unsigned int,
                               const DensityStatistics<1> &,
                               unsigned int,
                               double,
                               const std::vector<double> &);
template void Diagnostics::add(double,
                               unsigned int,
                               const DensityStatistics<2> &,
                               unsigned int,
                               double,
                               const std::vector<double> &);
template void Diagnostics::add(double,
                               unsigned int,
                               const DensityStatistics<3> &,
                               unsigned int,
                               double,
                               const std::vector<double> &);
} // namespace densityflow

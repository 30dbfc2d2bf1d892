#include <densityflow/distances/distances.h>
#include <densityflow/output/column_descriptions.h>
#include <densityflow/output/distance_csv.h>

namespace densityflow
{
DistanceCsv::DistanceCsv(const std::string              &path,
                         const unsigned int              dim,
                         const std::vector<std::string> &regions,
                         const MPI_Comm                  communicator,
                         const bool                      append)
    : dim(dim)
{
  const auto        columns      = distance_columns(dim, regions);
  const std::string descriptions = column_descriptions(columns);
  if (dealii::Utilities::MPI::this_mpi_process(communicator) != 0)
    return;
  write_column_descriptions(path, descriptions);
  file = std::make_unique<std::ofstream>(path, append ? std::ios::app : std::ios::out);
  if (append)
    return;
  for (std::size_t c = 0; c < columns.size(); ++c)
    *file << (c ? "," : "") << columns[c];
  *file << std::endl;
}

DistanceCsv::~DistanceCsv() = default;

void DistanceCsv::add(const EnsembleDistances &distances)
{
  if (!file)
    return;
  const auto row = distance_row(distances, dim);
  for (std::size_t c = 0; c < row.size(); ++c)
    *file << (c ? "," : "") << row[c];
  *file << std::endl;
}
} // namespace densityflow

#include <densityflow/output/column_descriptions.h>
#include <densityflow/output/particle_output.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/data_out_base.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <tuple>

namespace densityflow
{
namespace
{
/** Particles as point patches, so that deal.II's (p)vtu writers take them. */
template <int dim>
class ParticlePatches : public DataOutInterface<0, dim>
{
public:
  std::vector<DataOutBase::Patch<0, dim>> patches;

  const std::vector<DataOutBase::Patch<0, dim>> &get_patches() const override { return patches; }

  std::vector<std::string> get_dataset_names() const override
  {
    std::vector<std::string> names = {"id", "system", "rank"};
    names.insert(names.end(), dim, "velocity");
    names.emplace_back("log_density");
    return names;
  }

  std::vector<std::tuple<unsigned int,
                         unsigned int,
                         std::string,
                         DataComponentInterpretation::DataComponentInterpretation>>
  get_nonscalar_data_ranges() const override
  {
    return {std::make_tuple(3u,
                            3u + dim - 1,
                            std::string("velocity"),
                            DataComponentInterpretation::component_is_part_of_vector)};
  }
};
} // namespace

template <int dim>
ParticleOutput<dim>::ParticleOutput(const std::string &directory,
                                    const bool         write_csv,
                                    const MPI_Comm     communicator)
    : directory(directory)
    , csv(write_csv)
    , mpi_communicator(communicator)
{}

template <int dim>
void ParticleOutput<dim>::write(
    const std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &ensembles,
    const DensitySolver<dim>                                  &solver)
{
  const unsigned int   rank = Utilities::MPI::this_mpi_process(mpi_communicator);
  ParticlePatches<dim> out;
  // Rows for the CSV: system, id, then coordinates, velocity, log density.
  std::vector<std::vector<double>> rows;
  for (const auto &ensemble : ensembles)
    {
      const auto          velocity = ensemble->velocities(&solver);
      const auto         &x        = ensemble->positions();
      const auto         &ids      = ensemble->ids();
      const auto         &log_rho  = ensemble->log_densities();
      const std::uint64_t n_total  = ensemble->n_particles() + ensemble->n_lost();
      for (std::size_t k = 0; k < x.size(); ++k)
        {
          DataOutBase::Patch<0, dim> patch;
          patch.vertices[0] = x[k];
          patch.data.reinit(4 + dim, 1);
          patch.data(0, 0) = ensemble->system() * n_total + ids[k];
          patch.data(1, 0) = ensemble->system();
          patch.data(2, 0) = rank;
          for (unsigned int d = 0; d < dim; ++d)
            patch.data(3 + d, 0) = velocity[k][d];
          patch.data(3 + dim, 0) = log_rho[k];
          patch.patch_index      = out.patches.size();
          out.patches.push_back(patch);
          if (csv)
            {
              std::vector<double> row = {double(ensemble->system()), double(ids[k])};
              for (unsigned int d = 0; d < dim; ++d)
                row.push_back(x[k][d]);
              for (unsigned int d = 0; d < dim; ++d)
                row.push_back(velocity[k][d]);
              row.push_back(log_rho[k]);
              rows.push_back(row);
            }
        }
    }

  DataOutBase::VtkFlags flags;
  flags.time              = solver.time();
  flags.cycle             = records.size();
  flags.compression_level = DataOutBase::VtkFlags::best_speed;
  out.set_flags(flags);
  const std::string pvtu = out.write_vtu_with_pvtu_record(
      directory + "/", "particles", records.size(), mpi_communicator, 5);
  records.emplace_back(solver.time(), pvtu);
  if (rank == 0)
    {
      std::ofstream pvd(directory + "/particles.pvd");
      DataOutBase::write_pvd_record(pvd, records);
    }

  if (csv)
    {
      const auto all = Utilities::MPI::gather(mpi_communicator, rows, 0);
      if (rank == 0)
        {
          std::vector<std::vector<double>> sorted;
          for (const auto &part : all)
            sorted.insert(sorted.end(), part.begin(), part.end());
          std::sort(sorted.begin(), sorted.end());
          std::ostringstream name;
          name << directory << "/particles_" << std::setw(5) << std::setfill('0')
               << records.size() - 1 << ".csv";
          const char              *axes[3] = {"x", "y", "z"};
          std::vector<std::string> columns = {"system", "id"};
          for (unsigned int d = 0; d < dim; ++d)
            columns.emplace_back(axes[d]);
          for (unsigned int d = 0; d < dim; ++d)
            columns.push_back(std::string("v") + axes[d]);
          columns.emplace_back("log_density");
          // One sidecar, particles.columns.csv, for all particles_NNNNN.csv.
          if (records.size() == 1)
            write_column_descriptions(directory + "/particles.csv", column_descriptions(columns));
          std::ofstream file(name.str());
          file << "# time = " << std::setprecision(16) << solver.time() << "\n";
          for (std::size_t c = 0; c < columns.size(); ++c)
            file << (c ? "," : "") << columns[c];
          file << "\n";
          for (const auto &row : sorted)
            {
              file << static_cast<unsigned long>(row[0]) << ','
                   << static_cast<unsigned long>(row[1]);
              for (std::size_t c = 2; c < row.size(); ++c)
                {
                  file << ',';
                  if (std::isfinite(row[c]))
                    file << row[c];
                }
              file << '\n';
            }
        }
    }
}

template <int dim>
const std::vector<std::pair<double, std::string>> &ParticleOutput<dim>::series() const
{
  return records;
}

template <int dim>
void ParticleOutput<dim>::restore_series(const std::vector<std::pair<double, std::string>> &series)
{
  // The .pvd of a run killed after the checkpoint lists later outputs: written again.
  records = series;
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      std::ofstream pvd(directory + "/particles.pvd");
      DataOutBase::write_pvd_record(pvd, records);
    }
}

template class ParticleOutput<1>;
template class ParticleOutput<2>;
template class ParticleOutput<3>;
} // namespace densityflow

#include <densityflow/output/density_output.h>

#include <fstream>

namespace densityflow
{
template <int dim>
DensityOutput<dim>::DensityOutput(const std::string &directory, const MPI_Comm communicator)
    : directory(directory)
    , mpi_communicator(communicator)
{}

template <int dim>
void DensityOutput<dim>::write(const DensitySolver<dim> &solver, const Expression<dim> *exact)
{
  DataOut<dim> data_out;
  solver.fill_output(data_out, exact);
  DataOutBase::VtkFlags flags;
  flags.time  = solver.time();
  flags.cycle = records.size();
  // deal.II's default, the best zlib compression, took 3/4 of a run's time; best_speed
  // gives files about 10% larger.
  flags.compression_level = DataOutBase::VtkFlags::best_speed;
  data_out.set_flags(flags);
  const std::string pvtu = data_out.write_vtu_with_pvtu_record(
      directory + "/", "density", records.size(), mpi_communicator, 5);
  records.emplace_back(solver.time(), pvtu);
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      std::ofstream pvd(directory + "/density.pvd");
      DataOutBase::write_pvd_record(pvd, records);
    }
}

template <int dim>
const std::vector<std::pair<double, std::string>> &DensityOutput<dim>::series() const
{
  return records;
}

template <int dim>
void DensityOutput<dim>::restore_series(const std::vector<std::pair<double, std::string>> &series)
{
  // The .pvd of a run killed after the checkpoint lists later outputs: written again.
  records = series;
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      std::ofstream pvd(directory + "/density.pvd");
      DataOutBase::write_pvd_record(pvd, records);
    }
}

template class DensityOutput<1>;
template class DensityOutput<2>;
template class DensityOutput<3>;
} // namespace densityflow

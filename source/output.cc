#include <densityflow/exceptions.h>
#include <densityflow/output.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

namespace densityflow
{
void OutputParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Output");
  prm.declare_entry("Directory",
                    "",
                    Patterns::Anything(),
                    "Folder for density.pvd, diagnostics.csv and the rest. Empty: "
                    "output/<name of the .prm file> in the working directory.");
  prm.declare_entry("Interval",
                    "0.1",
                    Patterns::Double(0),
                    "Simulated time between outputs (rounded to whole time steps); 0: only "
                    "the initial and the final state.");
  prm.declare_entry("Write files",
                    "true",
                    Patterns::Bool(),
                    "Write the output files; false keeps diagnostics in memory and on "
                    "screen only (for sweeps).");
  prm.declare_entry("Grid",
                    "",
                    Patterns::List(Patterns::Integer(1), 0, 3),
                    "Points per direction of a regular grid, one count per dimension (e.g. "
                    "'256, 256'), on which rho_h and the probability-flow velocity are "
                    "written at every output as grid_rho_NNNNN.npy and "
                    "grid_velocity_NNNNN.npy (NumPy), described by grid.json. The grid is "
                    "cell-centred on the mesh's bounding box; points in no cell are NaN. "
                    "Empty: no grid.");
  prm.leave_subsection();
}

void OutputParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Output");
  directory   = prm.get("Directory");
  interval    = prm.get_double("Interval");
  write_files = prm.get_bool("Write files");
  grid.clear();
  for (const std::string &count : Utilities::split_string_list(prm.get("Grid"), ','))
    grid.push_back(std::stoul(count));
  prm.leave_subsection();
}

RunDirectory::RunDirectory(const std::string &path, const MPI_Comm communicator)
    : directory(path)
    , mpi_communicator(communicator)
{
  bool        failed = false;
  std::string message;
  if (Utilities::MPI::this_mpi_process(communicator) == 0)
    {
      std::error_code error;
      std::filesystem::create_directories(directory, error);
      if (error)
        {
          failed  = true;
          message = "Output/Directory: cannot create '" + directory + "': " + error.message();
        }
      else
        {
          // Only files densityflow writes, so that a user's own files survive.
          const std::regex ours(
              R"((density|particles)(_\d+(\.\d+)?)?\.(vtu|pvtu|pvd)|.*\.csv|parameters\.prm|status|grid_(rho|velocity)_\d+\.npy|grid\.json)");
          for (const auto &entry : std::filesystem::directory_iterator(directory, error))
            if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), ours))
              std::filesystem::remove(entry.path(), error);
        }
    }
  throw_if_any(failed, message, communicator);
  write_file("status", "running\n");
}

const std::string &RunDirectory::path() const
{
  return directory;
}

void RunDirectory::write_file(const std::string &name, const std::string &text) const
{
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      std::ofstream file(directory + "/" + name);
      file << text;
    }
}

void RunDirectory::mark_completed() const
{
  write_file("status", "completed\n");
}

void RunDirectory::mark_failed(const std::string &reason) const
{
  write_file("status", "failed: " + reason + "\n");
}
} // namespace densityflow

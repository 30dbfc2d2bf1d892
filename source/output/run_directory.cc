#include <densityflow/base/exceptions.h>
#include <densityflow/output/run_directory.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <vector>

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
  prm.declare_entry("Keep previous run",
                    "false",
                    Patterns::Bool(),
                    "A run moves the files of a completed run already in the folder to "
                    "previous/ (and puts them back if it fails). false: previous/ is "
                    "removed once the new run completes; true: it is kept, so the last two "
                    "completed runs are there.");
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
  directory     = prm.get("Directory");
  interval      = prm.get_double("Interval");
  write_files   = prm.get_bool("Write files");
  keep_previous = prm.get_bool("Keep previous run");
  grid.clear();
  for (const std::string &count : Utilities::split_string_list(prm.get("Grid"), ','))
    grid.push_back(std::stoul(count));
  prm.leave_subsection();
}

const char *output_file_pattern()
{
  return R"((density|particles)(_\d+(\.\d+)?)?\.(vtu|pvtu|pvd|csv))"
         R"(|(diagnostics|particles-vs-pde|compare|particles)(\.columns)?\.csv)"
         R"(|parameters\.prm|status|grid_(rho|velocity)_\d+\.npy|grid\.json)";
}

namespace
{
namespace fs = std::filesystem;

/** densityflow's files in @p folder. */
std::vector<fs::path> output_files(const fs::path &folder)
{
  std::vector<fs::path> files;
  const std::regex      ours(output_file_pattern());
  std::error_code       error;
  if (fs::is_directory(folder, error))
    for (const auto &entry : fs::directory_iterator(folder, error))
      if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), ours))
        files.push_back(entry.path());
  return files;
}

void remove_output(const fs::path &folder)
{
  for (const fs::path &file : output_files(folder))
    fs::remove(file);
}

/** Moves densityflow's files from @p from to @p to (created), after clearing @p to of them. */
void move_output(const fs::path &from, const fs::path &to)
{
  fs::create_directories(to);
  remove_output(to);
  for (const fs::path &file : output_files(from))
    fs::rename(file, to / file.filename());
}

bool holds_completed_run(const fs::path &folder)
{
  std::ifstream status(folder / "status");
  std::string   line;
  return std::getline(status, line) && line == "completed";
}
} // namespace

RunDirectory::RunDirectory(const std::string &path,
                           const bool         keep_previous,
                           const MPI_Comm     communicator)
    : directory(path)
    , keep_previous(keep_previous)
    , mpi_communicator(communicator)
{
  bool        failed = false;
  std::string message;
  if (Utilities::MPI::this_mpi_process(communicator) == 0)
    {
      try
        {
          fs::create_directories(directory);
          if (holds_completed_run(directory))
            {
              move_output(directory, fs::path(directory) / "previous");
              moved_previous = true;
            }
          else
            remove_output(directory);
        }
      catch (const fs::filesystem_error &error)
        {
          failed  = true;
          message = "Output/Directory = '" + directory + "': " + error.code().message() + " (" +
                    error.path1().string() + ")";
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
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0 && moved_previous && !keep_previous)
    {
      std::error_code error;
      const fs::path  previous = fs::path(directory) / "previous";
      remove_output(previous);
      fs::remove(previous, error); // only if empty: a user's files there stay
    }
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      // A failed attempt before this run is superseded by it.
      std::error_code error;
      const fs::path  failed = fs::path(directory) / "failed";
      remove_output(failed);
      fs::remove(failed, error);
    }
}

std::string RunDirectory::mark_failed(const std::string &reason) const
{
  write_file("status", "failed: " + reason + "\n");
  if (!moved_previous)
    return "";
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      // Best effort: the run has failed already, and this must not hide why.
      try
        {
          const fs::path folder(directory), previous = folder / "previous";
          move_output(folder, folder / "failed");
          move_output(previous, folder);
          std::error_code error;
          fs::remove(previous, error);
        }
      catch (const fs::filesystem_error &error)
        {
          return "  could not restore the previous run from " + directory +
                 "/previous: " + error.what();
        }
    }
  return "  " + directory + " holds the previous completed run again; this run's files are in " +
         directory + "/failed";
}
} // namespace densityflow

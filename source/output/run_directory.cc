#include <densityflow/base/exceptions.h>
#include <densityflow/output/run_directory.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <vector>

namespace densityflow
{
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
                           const MPI_Comm     communicator,
                           const bool         resume)
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
          if (resume)
            ; // a restart continues the files of the run it restarts
          else if (holds_completed_run(directory))
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

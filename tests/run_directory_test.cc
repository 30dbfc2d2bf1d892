// The run folder's clean-up (RunDirectory): a completed run is moved aside to previous/
// and put back when the new run fails, removed once the new run completes (or kept with
// Output/Keep previous run); an unfinished run's files are replaced; only densityflow's
// own files (output_file_pattern()) are moved or removed, a user's files stay.
#include <densityflow/output/run_directory.h>

#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace densityflow;
namespace fs = std::filesystem;

namespace
{
const fs::path work = TEST_WORK_DIRECTORY;

bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

std::string read(const fs::path &file)
{
  std::ifstream     in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write(const fs::path &file, const std::string &text)
{
  std::ofstream(file) << text;
}

/** A fresh folder @p name under the work folder holding a run whose status is @p status
    (none if empty) and a user's own file notes.txt. Collective. */
fs::path folder_with_run(const std::string &name, const std::string &status)
{
  const fs::path folder = work / name;
  if (root())
    {
      fs::remove_all(folder);
      fs::create_directories(folder);
      if (!status.empty())
        {
          write(folder / "status", status + "\n");
          write(folder / "diagnostics.csv", "old diagnostics\n");
          write(folder / "density_00000.0.vtu", "old density\n");
        }
      write(folder / "notes.txt", "the user's notes\n");
    }
  MPI_Barrier(MPI_COMM_WORLD);
  return folder;
}
} // namespace

TEST(RunDirectory, NewFolderIsMarkedRunningThenCompleted)
{
  const fs::path folder = work / "new";
  if (root())
    fs::remove_all(folder);
  MPI_Barrier(MPI_COMM_WORLD);
  RunDirectory run(folder.string(), false, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  if (root())
    {
      EXPECT_EQ(read(folder / "status"), "running\n");
    }
  run.mark_completed();
  MPI_Barrier(MPI_COMM_WORLD);
  if (root())
    {
      EXPECT_EQ(read(folder / "status"), "completed\n");
    }
}

TEST(RunDirectory, CompletedRunIsKeptAsideAndRemovedWhenTheNewOneCompletes)
{
  const fs::path folder = folder_with_run("replace", "completed");
  RunDirectory   run(folder.string(), false, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  if (root())
    {
      EXPECT_EQ(read(folder / "previous" / "diagnostics.csv"), "old diagnostics\n");
      EXPECT_EQ(read(folder / "previous" / "status"), "completed\n");
      EXPECT_FALSE(fs::exists(folder / "diagnostics.csv"));
      EXPECT_FALSE(fs::exists(folder / "density_00000.0.vtu"));
      EXPECT_EQ(read(folder / "notes.txt"), "the user's notes\n");
      write(folder / "diagnostics.csv", "new diagnostics\n");
    }
  run.mark_completed();
  MPI_Barrier(MPI_COMM_WORLD);
  if (root())
    {
      EXPECT_FALSE(fs::exists(folder / "previous"));
      EXPECT_EQ(read(folder / "diagnostics.csv"), "new diagnostics\n");
      EXPECT_EQ(read(folder / "notes.txt"), "the user's notes\n");
    }
}

TEST(RunDirectory, KeepPreviousRunKeepsIt)
{
  const fs::path folder = folder_with_run("keep", "completed");
  RunDirectory   run(folder.string(), true, MPI_COMM_WORLD);
  run.mark_completed();
  MPI_Barrier(MPI_COMM_WORLD);
  if (root())
    {
      EXPECT_EQ(read(folder / "previous" / "diagnostics.csv"), "old diagnostics\n");
      EXPECT_EQ(read(folder / "status"), "completed\n");
    }
}

TEST(RunDirectory, FailedRunPutsTheCompletedOneBack)
{
  const fs::path folder = folder_with_run("fail", "completed");
  RunDirectory   run(folder.string(), false, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  if (root())
    write(folder / "diagnostics.csv", "half a run\n");
  const std::string note = run.mark_failed("NaN at step 3");
  MPI_Barrier(MPI_COMM_WORLD);
  if (root()) // the rank that moved the files says so; the log is rank 0's
    {
      EXPECT_NE(note.find("holds the previous completed run again"), std::string::npos) << note;
      EXPECT_EQ(read(folder / "status"), "completed\n");
      EXPECT_EQ(read(folder / "diagnostics.csv"), "old diagnostics\n");
      EXPECT_EQ(read(folder / "density_00000.0.vtu"), "old density\n");
      EXPECT_EQ(read(folder / "failed" / "status"), "failed: NaN at step 3\n");
      EXPECT_EQ(read(folder / "failed" / "diagnostics.csv"), "half a run\n");
      EXPECT_FALSE(fs::exists(folder / "previous"));
      EXPECT_EQ(read(folder / "notes.txt"), "the user's notes\n");
    }

  // The next run that completes supersedes the failed attempt.
  RunDirectory again(folder.string(), false, MPI_COMM_WORLD);
  again.mark_completed();
  MPI_Barrier(MPI_COMM_WORLD);
  if (root())
    {
      EXPECT_FALSE(fs::exists(folder / "failed"));
      EXPECT_FALSE(fs::exists(folder / "previous"));
    }
}

TEST(RunDirectory, UnfinishedRunIsReplacedNotKept)
{
  for (const std::string status : {"running", "failed: killed"})
    {
      const fs::path    folder = folder_with_run("unfinished", status);
      RunDirectory      run(folder.string(), false, MPI_COMM_WORLD);
      const std::string note = run.mark_failed("again");
      MPI_Barrier(MPI_COMM_WORLD);
      EXPECT_EQ(note, "");
      if (root())
        {
          EXPECT_FALSE(fs::exists(folder / "previous")) << status;
          EXPECT_FALSE(fs::exists(folder / "diagnostics.csv")) << status;
          EXPECT_FALSE(fs::exists(folder / "density_00000.0.vtu")) << status;
          EXPECT_EQ(read(folder / "notes.txt"), "the user's notes\n");
        }
    }
}

TEST(RunDirectory, FilePatternIsDensityflowsFilesOnly)
{
  const std::regex ours(output_file_pattern());
  for (const std::string name : {"density.pvd",
                                 "density_00012.pvtu",
                                 "density_00012.3.vtu",
                                 "particles_00002.csv",
                                 "diagnostics.csv",
                                 "diagnostics.columns.csv",
                                 "particles-vs-pde.csv",
                                 "compare.csv",
                                 "parameters.prm",
                                 "status",
                                 "grid_rho_00001.npy",
                                 "grid_velocity_00001.npy",
                                 "grid.json"})
    EXPECT_TRUE(std::regex_match(name, ours)) << name;
  for (const std::string name : {"notes.txt",
                                 "density.py",
                                 "my-diagnostics.csv",
                                 "status.bak",
                                 "run.prm",
                                 "grid_rho.npy",
                                 "density_00012.vtu.orig"})
    EXPECT_FALSE(std::regex_match(name, ours)) << name;
}

TEST(RunDirectory, FolderThatCannotBeMadeIsNamed)
{
  const fs::path blocker = work / "blocker";
  if (root())
    {
      fs::create_directories(work);
      write(blocker, "a file, not a folder\n");
    }
  MPI_Barrier(MPI_COMM_WORLD);
  try
    {
      RunDirectory run((blocker / "run").string(), false, MPI_COMM_WORLD);
      FAIL() << "a folder below a file was made";
    }
  catch (const std::exception &e)
    {
      EXPECT_NE(std::string(e.what()).find("Output/Directory = '" + (blocker / "run").string()),
                std::string::npos)
          << e.what();
    }
}

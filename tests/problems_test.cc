// Every shipped problem parses, runs a few steps on the ranks given, and writes a
// complete output folder: status `completed`, parameters.prm, diagnostics.csv, and
// density.pvd whose .pvtu files carry the documented fields.
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <test_tools.h>

using namespace densityflow;

namespace
{
std::string read(const std::string &file)
{
  std::ifstream      in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class ShippedProblem : public ::testing::TestWithParam<std::string>
{};
} // namespace

TEST_P(ShippedProblem, RunsAndWritesCompleteOutput)
{
  const std::string name      = GetParam();
  const std::string directory = std::string(TEST_WORK_DIRECTORY) + "/" + name;
  ProblemParameters parameters =
      ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/" + name + ".prm",
                                   {"Output/Directory=" + directory, "Output/Interval=0"});
  // A few steps are enough to see that the problem is well formed.
  parameters.time.end_time = 3 * parameters.time.step_size();
  std::ostringstream log;
  run_problem(parameters, MPI_COMM_WORLD, log);
  MPI_Barrier(MPI_COMM_WORLD);

  EXPECT_EQ(read(directory + "/status"), "completed\n");
  EXPECT_NE(read(directory + "/parameters.prm").find("set Dimension"), std::string::npos);
  const std::string csv = read(directory + "/diagnostics.csv");
  EXPECT_EQ(
      csv.rfind("time,step,mass,min_density,negative_mass,free_energy,relative_entropy,mean_x", 0),
      0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3); // header, t = 0, t = T

  const std::string pvd = read(directory + "/density.pvd");
  EXPECT_NE(pvd.find("density_00001.pvtu"), std::string::npos);
  const std::string pvtu      = read(directory + "/density_00001.pvtu");
  const bool        transport = parameters.physics.model == Model::transport;
  for (const char *field : {"rho", "velocity", "subdomain"})
    EXPECT_NE(pvtu.find("Name=\"" + std::string(field) + "\""), std::string::npos) << field;
  for (const char *field : {"V", "pi"})
    EXPECT_EQ(pvtu.find("Name=\"" + std::string(field) + "\"") != std::string::npos, !transport)
        << field;
  EXPECT_EQ(pvtu.find("Name=\"b\"") != std::string::npos, transport);
  const bool has_exact = !parameters.exact_solution.empty();
  EXPECT_EQ(pvtu.find("Name=\"error\"") != std::string::npos, has_exact);
  for (unsigned int rank = 0; rank < Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD); ++rank)
    EXPECT_TRUE(
        std::filesystem::exists(directory + "/density_00001." + std::to_string(rank) + ".vtu"));
}

INSTANTIATE_TEST_SUITE_P(Problems,
                         ShippedProblem,
                         ::testing::Values("ou-1d",
                                           "ou-2d",
                                           "ou-3d",
                                           "double-well-2d",
                                           "gaussian-mixture-2d",
                                           "obstacle-2d",
                                           "rotation-2d",
                                           "vortex-2d",
                                           "compression-3d",
                                           "nonreversible-ou-2d"),
                         [](const auto &info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Comparing ensembles at a time the steps reach anyway (up to round-off) leaves the
// density alone: BDF2 keeps its step, and the density at the end is the plain run's.
TEST(CompareEnsembles, KeepTheStepsThatLandOnTheirTimes)
{
  const auto final_statistics = [](const bool compare) {
    ProblemParameters parameters =
        ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm",
                                     {"Output/Write files=false",
                                      "Mesh/Refinement=3",
                                      "Time/End time=0.3",
                                      "Time/Scheme=bdf2",
                                      "Particles/Number=0"});
    std::ostringstream log;
    Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
    if (compare)
      {
        // 0.2 is not 20 * 0.01 in floating point.
        EnsembleSnapshot<2> snapshot;
        snapshot.source  = "snapshot";
        snapshot.time    = 0.2;
        snapshot.points  = {Point<2>(1, 0.5)};
        snapshot.weights = {1};
        simulation.compare_ensembles({snapshot});
      }
    simulation.run();
    EXPECT_EQ(simulation.ensemble_distances().size(), compare ? 1u : 0u);
    return simulation.solver().statistics(nullptr);
  };
  const DensityStatistics<2> plain = final_statistics(false), compared = final_statistics(true);
  EXPECT_NEAR(compared.free_energy, plain.free_energy, 1e-12);
  EXPECT_NEAR((compared.mean - plain.mean).norm(), 0, 1e-12);
}

// The particles a run writes (particles_*.csv), read back and compared with the density
// by `compare`, give the distances the run itself wrote: the reader, the landing on the
// snapshot time and the distances agree end to end (up to the CSV's rounding).
TEST(CompareEnsembles, ParticlesReadBackGiveTheRunsDistances)
{
  const std::string              directory = std::string(TEST_WORK_DIRECTORY) + "/read-back";
  const std::vector<std::string> common    = {
         "Mesh/Refinement=3", "Time/End time=0.1", "Output/Interval=0.05", "Particles/Number=300"};
  std::vector<std::string> first = common;
  first.insert(first.end(), {"Output/Directory=" + directory, "Particles/Write CSV=true"});
  std::ostringstream log;
  Simulation<2>      run(
      ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm", first),
      MPI_COMM_WORLD,
      log);
  run.run();
  MPI_Barrier(MPI_COMM_WORLD);

  std::vector<std::string> second = common;
  second.insert(second.end(), {"Output/Write files=false", "Particles/Number=0"});
  Simulation<2> compare(
      ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm", second),
      MPI_COMM_WORLD,
      log);
  compare.compare_ensembles(
      read_ensembles<2>(directory + "/particles_00001.csv", std::nullopt, 0.1));
  compare.run();

  // The run compared its two systems at t = 0, 0.05, 0.1; the file is the one of 0.05.
  ASSERT_EQ(run.distances().size(), 6u);
  ASSERT_EQ(compare.ensemble_distances().size(), 2u);
  for (unsigned int k = 0; k < 2; ++k)
    {
      const EnsembleDistances &a = run.distances()[2 + k], &b = compare.ensemble_distances()[k];
      EXPECT_EQ(b.ensemble, directory + "/particles_00001.csv#system=" + std::to_string(k));
      EXPECT_DOUBLE_EQ(b.time, a.time);
      EXPECT_EQ(b.n_particles, a.n_particles);
      for (const auto member : {&EnsembleDistances::mean_error,
                                &EnsembleDistances::covariance_error,
                                &EnsembleDistances::histogram_tv,
                                &EnsembleDistances::energy_distance,
                                &EnsembleDistances::sliced_w2})
        EXPECT_NEAR(b.*member, a.*member, 1e-9 * std::abs(a.*member)) << a.ensemble;
    }
}

// Particles/Output interval thins the particle output and the distances, not the density's.
TEST(ParticleOutput, FollowsItsOwnInterval)
{
  const std::string directory = std::string(TEST_WORK_DIRECTORY) + "/particle-interval";
  ProblemParameters parameters =
      ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm",
                                   {"Output/Directory=" + directory,
                                    "Mesh/Refinement=3",
                                    "Time/End time=0.05",
                                    "Output/Interval=0.01",
                                    "Particles/Number=100",
                                    "Particles/Output interval=0.02"});
  std::ostringstream log;
  run_problem(parameters, MPI_COMM_WORLD, log);
  MPI_Barrier(MPI_COMM_WORLD);

  const auto lines = [](const std::string &text) {
    return std::count(text.begin(), text.end(), '\n');
  };
  EXPECT_EQ(lines(read(directory + "/diagnostics.csv")), 1 + 6); // t = 0, 0.01, ..., 0.05
  // t = 0, 0.02, 0.04 and the end time 0.05, for two particle systems.
  EXPECT_EQ(lines(read(directory + "/particles-vs-pde.csv")), 1 + 4 * 2);
  const std::string pvd      = read(directory + "/particles.pvd");
  std::size_t       datasets = 0;
  for (std::size_t p = pvd.find("<DataSet"); p != std::string::npos;
       p             = pvd.find("<DataSet", p + 1))
    ++datasets;
  EXPECT_EQ(datasets, 4u);
}

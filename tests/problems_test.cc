// Every shipped problem parses, runs a few steps on the ranks given, and writes a
// complete output folder: status `completed`, parameters.prm, diagnostics.csv, and
// density.pvd whose .pvtu files carry the documented fields.
#include <densityflow/output/column_descriptions.h>

#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <support/test_tools.h>

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
  const bool path        = parameters.physics.model == Model::path;
  const bool interaction = parameters.physics.model == Model::interaction;
  for (const char *field : {"V", "pi"})
    EXPECT_EQ(pvtu.find("Name=\"" + std::string(field) + "\"") != std::string::npos,
              !transport && !path && !interaction)
        << field;
  EXPECT_EQ(pvtu.find("Name=\"phi\"") != std::string::npos, path);
  EXPECT_EQ(pvtu.find("Name=\"b\"") != std::string::npos, transport || interaction);
  const bool has_exact = !parameters.exact_solution.empty();
  EXPECT_EQ(pvtu.find("Name=\"error\"") != std::string::npos, has_exact);
  for (unsigned int rank = 0; rank < Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD); ++rank)
    EXPECT_TRUE(
        std::filesystem::exists(directory + "/density_00001." + std::to_string(rank) + ".vtu"));
}

INSTANTIATE_TEST_SUITE_P(Problems,
                         ShippedProblem,
                         ::testing::Values("ou-1d",
                                           "path-bimodal-1d",
                                           "mmd-1d",
                                           "aggregation-1d",
                                           "mmd-2d",
                                           "aggregation-2d",
                                           "aggregation-diffusion-1d",
                                           "ou-2d",
                                           "ou-3d",
                                           "double-well-2d",
                                           "gaussian-mixture-2d",
                                           "obstacle-2d",
                                           "rotation-2d",
                                           "vortex-2d",
                                           "compression-3d",
                                           "nonreversible-ou-2d",
                                           "learned-velocity-2d",
                                           "posterior-2d",
                                           "posterior-path-2d",
                                           "exit-time-2d",
                                           "dihedral-2d",
                                           "ou-2d-adaptive",
                                           "rotation-2d-adaptive"),
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
        // 0.2 is not 20 * 0.01 in floating point; the one at the end time keeps the
        // comparing run going to it.
        EnsembleSnapshot<2> snapshot;
        snapshot.source          = "snapshot";
        snapshot.time            = 0.2;
        snapshot.points          = {Point<2>(1, 0.5)};
        snapshot.weights         = {1};
        EnsembleSnapshot<2> last = snapshot;
        last.time                = 0.3;
        simulation.compare_ensembles({snapshot, last});
      }
    simulation.run();
    EXPECT_EQ(simulation.ensemble_distances().size(), compare ? 2u : 0u);
    return simulation.solver().statistics(nullptr);
  };
  const DensityStatistics<2> plain = final_statistics(false), compared = final_statistics(true);
  EXPECT_NEAR(compared.free_energy, plain.free_energy, 1e-12);
  EXPECT_NEAR((compared.mean - plain.mean).norm(), 0, 1e-12);
}

// `compare` stops at its last ensemble's time, not at the end time, and gives there the
// distances and the density of the run that goes on to the end time: the same steps.
TEST(CompareEnsembles, StopAtTheLastEnsemble)
{
  const auto compare_until = [](const std::vector<double> &times) {
    ProblemParameters parameters =
        ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm",
                                     {"Output/Write files=false",
                                      "Mesh/Refinement=3",
                                      "Time/End time=0.5",
                                      "Output/Interval=0.1",
                                      "Particles/Number=0"});
    std::ostringstream log;
    auto simulation = std::make_unique<Simulation<2>>(parameters, MPI_COMM_WORLD, log);
    std::vector<EnsembleSnapshot<2>> snapshots;
    for (const double t : times)
      {
        EnsembleSnapshot<2> snapshot;
        snapshot.source  = "snapshot";
        snapshot.time    = t;
        snapshot.points  = {Point<2>(1, 0.5), Point<2>(0.5, 0)};
        snapshot.weights = {0.5, 0.5};
        snapshots.push_back(snapshot);
      }
    simulation->compare_ensembles(snapshots);
    simulation->run();
    return simulation;
  };
  const auto early = compare_until({0.25}), whole = compare_until({0.25, 0.5});
  EXPECT_EQ(early->solver().time(), 0.25);
  EXPECT_EQ(whole->solver().time(), 0.5);
  // Output at 0, 0.1, 0.2 and at the stop.
  const auto &rows = early->diagnostics().rows();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows.back()[0], 0.25);
  ASSERT_EQ(early->ensemble_distances().size(), 1u);
  const EnsembleDistances &a = early->ensemble_distances()[0], &b = whole->ensemble_distances()[0];
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.mean_error, b.mean_error);
  EXPECT_EQ(a.sliced_w2, b.sliced_w2);
  EXPECT_EQ(a.energy_distance, b.energy_distance);
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

namespace
{
/** The header of a CSV file, and the first column of its sidecar NAME.columns.csv. */
void expect_self_describing(const std::string &csv, const std::string &sidecar_of = "")
{
  SCOPED_TRACE(csv);
  std::ifstream in(csv);
  std::string   header;
  do
    ASSERT_TRUE(std::getline(in, header));
  while (header.rfind("#", 0) == 0); // a comment (# time = ...) is not the header
  std::ifstream sidecar(column_descriptions_path(sidecar_of.empty() ? csv : sidecar_of));
  std::string   line;
  ASSERT_TRUE(std::getline(sidecar, line));
  EXPECT_EQ(line, "column,unit,meaning");
  std::string described;
  while (std::getline(sidecar, line))
    {
      ASSERT_NE(line.find(','), std::string::npos);
      described += (described.empty() ? "" : ",") + line.substr(0, line.find(','));
      EXPECT_GT(line.size(), line.find(',') + 3) << "no meaning: " << line;
    }
  EXPECT_EQ(described, header);
}
} // namespace

// Every column of every CSV file the code writes has a unit and a meaning in the one
// table of source/column_descriptions.cc; a column without one fails here.
TEST(CsvFiles, EveryColumnIsDescribed)
{
  for (unsigned int dim = 1; dim <= 3; ++dim)
    {
      std::vector<std::string> columns   = Diagnostics(dim, "", MPI_COMM_WORLD).columns();
      const auto               distances = distance_columns(dim);
      columns.insert(columns.end(), distances.begin(), distances.end());
      for (const std::string &column : columns)
        EXPECT_NE(describe_column(column), nullptr) << column << " (" << dim << "D)";
    }
  EXPECT_EQ(describe_column("no_such_column"), nullptr);
  EXPECT_THROW(column_descriptions({"time", "no_such_column"}), std::logic_error);
  // The files a run writes, and those of compare, carry their sidecars.
  const std::string  directory = std::string(TEST_WORK_DIRECTORY) + "/csv-files";
  const std::string  problem   = std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm";
  std::ostringstream log;
  run_problem(ProblemParameters::from_file(problem,
                                           {"Mesh/Refinement=3",
                                            "Time/End time=0.05",
                                            "Particles/Number=100",
                                            "Particles/Write CSV=true",
                                            "Output/Directory=" + directory}),
              MPI_COMM_WORLD,
              log);
  MPI_Barrier(MPI_COMM_WORLD);
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    {
      expect_self_describing(directory + "/diagnostics.csv");
      expect_self_describing(directory + "/particles-vs-pde.csv");
      expect_self_describing(directory + "/particles_00001.csv", directory + "/particles.csv");
    }
  compare_problem(
      ProblemParameters::from_file(
          problem, {"Mesh/Refinement=3", "Time/End time=0.05", "Output/Directory=" + directory}),
      {{directory + "/particles_00001.csv", std::nullopt}},
      MPI_COMM_WORLD,
      log);
  MPI_Barrier(MPI_COMM_WORLD);
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    {
      // ou-2d's finer start adapts the mesh; compare locates the ensembles once and so
      // solves on the uniform mesh, and says so.
      EXPECT_NE(log.str().find("compare: Mesh/Adaptivity is not used"), std::string::npos);
      expect_self_describing(directory + "/compare/compare.csv");
      expect_self_describing(directory + "/compare/diagnostics.csv");
    }
  // Absorbing windows with Langevin particles: the exit-time columns and exit_times.csv.
  const std::string exits = std::string(TEST_WORK_DIRECTORY) + "/csv-files-exits";
  run_problem(ProblemParameters::from_file(
                  std::string(PROBLEMS_DIRECTORY) + "/exit-time-2d.prm",
                  {"Time/End time=0.5", "Particles/Number=200", "Output/Directory=" + exits}),
              MPI_COMM_WORLD,
              log);
  MPI_Barrier(MPI_COMM_WORLD);
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    {
      expect_self_describing(exits + "/diagnostics.csv");
      expect_self_describing(exits + "/exit_times.csv");
    }
}

// The time columns hold the schedule's exact values: k / 10 after 10 k steps of 0.01,
// not a sum of 10 k steps (1.0000000000000007 at t = 1), for fixed steps (BDF2) and for
// steps that vary and land on the output times (SSP-RK3).
TEST(TimeColumns, HoldTheSchedulesExactValues)
{
  const std::string problems = PROBLEMS_DIRECTORY;
  {
    std::ostringstream log;
    Simulation<2>      run(ProblemParameters::from_file(problems + "/ou-2d.prm",
                                                   {"Output/Write files=false",
                                                         "Mesh/Refinement=2",
                                                         "Time/End time=1",
                                                         "Output/Interval=0.1",
                                                         "Particles/Number=0"}),
                      MPI_COMM_WORLD,
                      log);
    run.run();
    const auto &rows = run.diagnostics().rows();
    ASSERT_EQ(rows.size(), 11u);
    for (unsigned int k = 0; k < rows.size(); ++k)
      {
        EXPECT_EQ(rows[k][0], k / 10.0) << "row " << k;
        EXPECT_EQ(rows[k][1], 10.0 * k);
      }
    EXPECT_EQ(run.solver().time(), 1.0);
  }
  {
    std::ostringstream log;
    Simulation<2>      run(ProblemParameters::from_file(problems + "/rotation-2d.prm",
                                                   {"Output/Write files=false",
                                                         "Mesh/Refinement=3",
                                                         "Time/End time=0.3",
                                                         "Output/Interval=0.05",
                                                         "Particles/Number=0"}),
                      MPI_COMM_WORLD,
                      log);
    run.run();
    const auto &rows = run.diagnostics().rows();
    ASSERT_EQ(rows.size(), 7u);
    for (unsigned int k = 0; k + 1 < rows.size(); ++k)
      EXPECT_EQ(rows[k][0], k * 0.05) << "row " << k;
    EXPECT_EQ(rows.back()[0], 0.3); // the end time itself
  }
}

// Particles/Time step = 5 PDE steps: Langevin particles take one step of 5 dt after
// every 5 PDE steps, exactly the steps they take when the PDE step itself is 5 dt (the
// random numbers are keyed by particle step); the probability flow stays with the PDE.
TEST(ParticleSteps, AMultipleOfThePDEStep)
{
  const auto positions = [](const std::vector<std::string> &step) {
    std::vector<std::string> overrides = {"Output/Write files=false",
                                          "Mesh/Refinement=3",
                                          "Time/End time=0.1",
                                          "Output/Interval=0.1",
                                          "Particles/Number=100",
                                          "Particles/Dynamics=langevin, probability-flow"};
    overrides.insert(overrides.end(), step.begin(), step.end());
    std::ostringstream log;
    Simulation<2>      run(
        ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm", overrides),
        MPI_COMM_WORLD,
        log);
    run.run();
    return std::make_pair(densityflow::testing::gather_positions(*run.particle_systems()[0]),
                          log.str());
  };
  const auto [multiple, log] = positions({"Time/Time step=0.01", "Particles/Time step=0.05"});
  const auto pde             = positions({"Time/Time step=0.05"}).first;
  const auto small           = positions({"Time/Time step=0.01"}).first;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0) // the log is rank 0's
    {
      EXPECT_NE(log.find("system 0 = langevin, 100 particles from the initial density, step 0.05 "
                         "(5 PDE steps)"),
                std::string::npos)
          << log;
      EXPECT_NE(
          log.find("system 1 = probability-flow, 100 particles from the initial density, step "
                   "0.01 (the PDE's, as the probability flow needs rho_h)"),
          std::string::npos)
          << log;
    }
  ASSERT_EQ(multiple.size(), 100u);
  ASSERT_EQ(pde.size(), 100u);
  double largest = 0, from_small = 0;
  for (const auto &[id, x] : multiple)
    {
      largest    = std::max(largest, x.distance(pde.at(id)));
      from_small = std::max(from_small, x.distance(small.at(id)));
    }
  EXPECT_LT(largest, 1e-12);
  EXPECT_GT(from_small, 1e-3); // steps of 0.01 are other paths: the test can tell
}

// The log says what the Q1 M-matrix implies for the scheme in use.
TEST(Log, MMatrixMessageFitsTheScheme)
{
  const auto log_of = [](const std::string &scheme) {
    std::ostringstream log;
    Simulation<2> run(ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm",
                                                   {"Output/Write files=false",
                                                    "Mesh/Refinement=2",
                                                    "Discretization/Degree=1",
                                                    "Discretization/Mass lumping=true",
                                                    "Time/Scheme=" + scheme,
                                                    "Particles/Number=0"}),
                      MPI_COMM_WORLD,
                      log);
    return log.str();
  };
  const std::string euler = log_of("backward-euler"), bdf2 = log_of("bdf2");
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) != 0)
    return; // the log is rank 0's
  EXPECT_NE(euler.find("M-matrix and the mass lumped: backward Euler keeps rho >= 0 and lets F "
                       "decrease"),
            std::string::npos)
      << euler;
  EXPECT_NE(bdf2.find("M-matrix, but bdf2 does not keep rho >= 0 or F decreasing"),
            std::string::npos)
      << bdf2;
  EXPECT_EQ(bdf2.find("keeps rho >= 0"), std::string::npos) << bdf2;
}

// compare's timing keeps the distances apart from the solve.
TEST(CompareEnsembles, TimingSeparatesTheDistances)
{
  const auto timing = [](const bool compare) {
    std::ostringstream log;
    Simulation<2> run(ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/ou-2d.prm",
                                                   {"Output/Write files=false",
                                                    "Mesh/Refinement=3",
                                                    "Time/End time=0.1",
                                                    "Particles/Number=0"}),
                      MPI_COMM_WORLD,
                      log);
    if (compare)
      {
        EnsembleSnapshot<2> snapshot;
        snapshot.source = "snapshot";
        snapshot.time   = 0.05;
        for (unsigned int k = 0; k < 2000; ++k)
          snapshot.points.emplace_back(std::sin(k), std::cos(3 * k));
        snapshot.weights.assign(snapshot.points.size(), 1);
        run.compare_ensembles({snapshot});
      }
    run.run();
    if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0) // the log is rank 0's
      {
        EXPECT_NE(log.str().find("); distances "), std::string::npos) << log.str();
      }
    return run.timing();
  };
  EXPECT_EQ(timing(false).distance_seconds, 0);
  const RunTiming t = timing(true);
  EXPECT_GT(t.distance_seconds, 0);
  EXPECT_GT(t.solve_seconds, 0);
}

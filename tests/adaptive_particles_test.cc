// Particles on adaptive meshes (Mesh/Adaptivity): after every adaptation each particle is
// found again in its new cell, on the rank that owns it, and nothing else about it changes;
// Langevin particles (analytic drift) are the same on an adaptive and a uniform mesh; the
// probability flow on an adapted mesh follows the exact affine flow map of OU; 1 and 2
// ranks give the same ensemble.
#include <densityflow/mesh/mesh_changes.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/distributed/tria.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <support/rank_comparison.h>
#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

double quantile(std::vector<double> values, const double q)
{
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(q * (values.size() - 1) + 0.5)];
}

/** OU from N((1, 0.5), s0 I) on [-4, 4]^2 (OuProblem: A with eigenvalues 2 and 1, eps = 0.5). */
OuProblem ou(const double s0, const unsigned int refinement, const double end_time)
{
  OuProblem p;
  p.s0         = s0;
  p.half_width = 4;
  p.m0[0]      = 1;
  p.m0[1]      = 0.5;
  p.degree     = 2;
  p.refinement = refinement;
  p.end_time   = end_time;
  p.time_step  = 0.01;
  return p;
}

/** The Mesh/Adaptivity subsection (levels min..max, every @p interval steps). */
std::string adaptivity(const unsigned int interval,
                       const unsigned int min_level,
                       const unsigned int max_level,
                       const unsigned int initial_cycles,
                       const std::string &indicator = "kelly")
{
  return "subsection Mesh\n subsection Adaptivity\n  set Interval = " + std::to_string(interval) +
         "\n  set Minimum level = " + std::to_string(min_level) +
         "\n  set Maximum level = " + std::to_string(max_level) +
         "\n  set Initial cycles = " + std::to_string(initial_cycles) +
         "\n  set Refine fraction = 0.7\n  set Coarsen fraction = 0.02\n  set Indicator = " +
         indicator + "\n end\nend\n";
}

std::string particles(const unsigned int n, const std::string &dynamics)
{
  return "subsection Particles\n set Number = " + std::to_string(n) +
         "\n set Dynamics = " + dynamics + "\nend\n";
}

/** Every system's particles after the run, by id (gathered on every rank of @p communicator). */
struct ParticleRun
{
  std::vector<std::map<std::uint64_t, Point<2>>> initial, final;
  std::vector<std::uint64_t>                     lost;
  RunResult                                      diagnostics;
  /** The flow map's density_error_mean of the last output (the last system's). */
  double density_error_mean = 0;
};

ParticleRun run_particles(const std::string &prm, const MPI_Comm communicator = MPI_COMM_WORLD)
{
  std::ostringstream log;
  Simulation<2>      simulation(ProblemParameters::from_string(
                               prm, {"Output/Write files=false", "Distances/Floor samples=0"}),
                           communicator,
                           log);
  ParticleRun        result;
  for (const auto &ensemble : simulation.particle_systems())
    result.initial.push_back(gather_positions(*ensemble, communicator));
  simulation.run();
  for (const auto &ensemble : simulation.particle_systems())
    {
      result.final.push_back(gather_positions(*ensemble, communicator));
      result.lost.push_back(ensemble->n_lost());
    }
  result.diagnostics = result_of(simulation);
  if (!simulation.distances().empty())
    result.density_error_mean = simulation.distances().back().density_error_mean;
  return result;
}

/**
 * The transport model: a Gaussian (centre (0.3, 0), standard deviation 0.1) turned by the
 * rotation b = (-y, x) on [-1, 1]^2 to T = 0.4, DG Q1 with the limiter, SSP-RK3, level 4;
 * the density stays far inside the box. With @p adapt: the jump indicator every 2 steps
 * between levels 3 and 6, no initial cycles (so both meshes sample the same particles).
 */
std::string rotation(const bool adapt)
{
  std::string prm =
      "set Dimension = 2\n"
      "subsection Mesh\n set Lower corner = -1, -1\n set Upper corner = 1, 1\n"
      " set Refinement = 4\nend\n"
      "subsection Physics\n set Model = transport\n set Velocity = -y; x\n set Diffusion = 0\nend\n"
      "subsection Initial density\n set Expression = exp(-((x - 0.3)^2 + y^2) / 0.02)\nend\n"
      "subsection Time\n set End time = 0.4\n set Scheme = ssp-rk3\nend\n"
      "subsection Output\n set Interval = 0.1\nend\n" +
      particles(400, "flow-map");
  if (adapt)
    prm += "subsection Mesh\n subsection Adaptivity\n  set Interval = 2\n"
           "  set Minimum level = 3\n  set Maximum level = 6\n  set Initial cycles = 0\n"
           " end\nend\n";
  return prm;
}

/** The largest distance between the particles of @p a and @p b of the same id. */
double largest_difference(const std::map<std::uint64_t, Point<2>> &a,
                          const std::map<std::uint64_t, Point<2>> &b)
{
  EXPECT_EQ(a.size(), b.size());
  double largest = 0;
  for (const auto &[id, x] : a)
    {
      const auto other = b.find(id);
      if (other == b.end())
        return std::numeric_limits<double>::infinity();
      largest = std::max(largest, x.distance(other->second));
    }
  return largest;
}

} // namespace

// Langevin with an analytic drift on a box never looks at the mesh: with the same seed, the
// same start (no initial cycles: sampled on the same level-4 mesh) and the mesh adapted every
// 2 steps between levels 3 and 6, every particle ends where it ends on the uniform mesh, to
// the bit; none is lost, and the distances at every output (which locate the particles in
// the adapted cells) are computed. The run also carries probability-flow particles, which
// are located in the new cells after every adaptation.
TEST(AdaptiveParticles, LangevinSameOnAdaptiveAndUniformMesh)
{
  const OuProblem   p   = ou(0.1, 4, 0.2);
  const std::string prm = p.text() + particles(400, "langevin, probability-flow") +
                          "subsection Output\n set Interval = 0.05\nend\n";
  const ParticleRun uniform  = run_particles(prm);
  const ParticleRun adaptive = run_particles(prm + adaptivity(2, 3, 6, 0));
  ASSERT_EQ(adaptive.final.size(), 2u);
  const double cells = adaptive.diagnostics.last("cells");
  if (root())
    std::cout << "  adapted mesh: " << cells << " cells at T (uniform: 256)" << std::endl;
  EXPECT_NE(cells, 256.0);
  for (std::size_t s = 0; s < 2; ++s)
    {
      EXPECT_EQ(adaptive.final[s].size(), 400u);
      EXPECT_EQ(adaptive.lost[s], 0u);
      EXPECT_EQ(largest_difference(adaptive.initial[s], uniform.initial[s]), 0.0);
    }
  EXPECT_EQ(largest_difference(adaptive.final[0], uniform.final[0]), 0.0);
  // The probability flow depends on the mesh (through rho_h): the uniform h = 0.5 resolves
  // this start (standard deviation 0.32) poorly; its accuracy is the exact-map test's.
  const double pf = largest_difference(adaptive.final[1], uniform.final[1]);
  if (root())
    std::cout << "  probability flow, adaptive against uniform: largest difference " << pf
              << std::endl;
}

// Flow-map particles of the transport model on an adaptive mesh: b is analytic, so they go
// where they go on the uniform mesh, to the bit, and none is lost; each output compares
// their carried density with rho_h where they are, which needs them located in the cells of
// the adapted mesh: that comparison is better than on the uniform start mesh (the adapted
// one is finer where the density is), where a particle evaluated in a stale cell would be
// off by O(1). 1 and 2 ranks give the same ensemble and the same comparison.
TEST(AdaptiveParticles, TransportFlowMapOnAdaptiveMesh)
{
  const ParticleRun uniform  = run_particles(rotation(false));
  const ParticleRun adaptive = run_particles(rotation(true));
  ASSERT_EQ(adaptive.final.size(), 1u);
  const double cells = adaptive.diagnostics.last("cells");
  EXPECT_NE(cells, 256.0);
  EXPECT_EQ(adaptive.final[0].size(), 400u);
  EXPECT_EQ(adaptive.lost[0], 0u);
  EXPECT_EQ(largest_difference(adaptive.initial[0], uniform.initial[0]), 0.0);
  EXPECT_EQ(largest_difference(adaptive.final[0], uniform.final[0]), 0.0);
  if (root())
    std::cout << "  transport, " << cells << " cells at T: density_error_mean adapted "
              << adaptive.density_error_mean << ", uniform level 4 " << uniform.density_error_mean
              << std::endl;
  EXPECT_GT(adaptive.density_error_mean, 0.0);
  EXPECT_LT(adaptive.density_error_mean, uniform.density_error_mean);
  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) == 2)
    {
      ParticleRun one;
      if (root())
        one = run_particles(rotation(true), MPI_COMM_SELF);
      const double difference = Utilities::MPI::broadcast(
          MPI_COMM_WORLD, root() ? largest_difference(one.final[0], adaptive.final[0]) : 0.0, 0);
      EXPECT_EQ(difference, 0.0);
      const double error_one = Utilities::MPI::broadcast(MPI_COMM_WORLD, one.density_error_mean, 0);
      EXPECT_NEAR(error_one, adaptive.density_error_mean, 1e-9 * error_one);
    }
}

// 1 and 2 ranks: the same ensembles on the adapted mesh (Langevin to the bit, the probability
// flow to the solver's round-off) and the same diagnostics.
TEST(AdaptiveParticles, OneAndTwoRanks)
{
  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) != 2)
    GTEST_SKIP() << "runs on 2 ranks";
  const std::string prm = ou(0.1, 4, 0.1).text() + particles(300, "langevin, probability-flow") +
                          adaptivity(2, 3, 6, 2);
  const ParticleRun two = run_particles(prm);
  ParticleRun       one;
  if (root())
    one = run_particles(prm, MPI_COMM_SELF);
  for (std::size_t s = 0; s < 2; ++s)
    {
      EXPECT_EQ(two.final[s].size(), 300u);
      double difference = root() ? largest_difference(one.final[s], two.final[s]) : 0;
      difference        = Utilities::MPI::broadcast(MPI_COMM_WORLD, difference, 0);
      if (root())
        std::cout << "  system " << s << ": largest difference 1 against 2 ranks " << difference
                  << std::endl;
      EXPECT_LE(difference, s == 0 ? 0.0 : 1e-9);
    }
  one.diagnostics.rows    = Utilities::MPI::broadcast(MPI_COMM_WORLD, one.diagnostics.rows, 0);
  one.diagnostics.columns = two.diagnostics.columns;
  expect_same_diagnostics(one.diagnostics, two.diagnostics);
}

// After every adaptation (driven here step by step, as Simulation does) the particles know
// that their cells are gone; located again, each is in an active cell of the new mesh that
// holds it, on the rank that owns that cell, with its id, position and state as before.
TEST(AdaptiveParticles, LocatedAgainAfterEveryAdaptation)
{
  const OuProblem         p          = ou(0.05, 4, 0.2);
  const ProblemParameters parameters = ProblemParameters::from_string(
      p.text() + particles(500, "probability-flow") + adaptivity(2, 3, 6, 2),
      {"Output/Write files=false"});
  Mesh<2>               mesh(parameters.mesh, parameters.discretization.degree, MPI_COMM_WORLD);
  Physics<2>            physics(parameters.physics, parameters.constants);
  Expression<2>         rho0(parameters.initial_density, physics.constants(), "Initial density");
  FokkerPlanckSolver<2> solver(mesh,
                               physics,
                               parameters.discretization,
                               parameters.time,
                               parameters.linear_solver,
                               AbsorbingWalls<2>(parameters.absorbing_walls, mesh));
  solver.enable_adaptivity(
      parameters.adaptivity,
      dynamic_cast<parallel::distributed::Triangulation<2> &>(mesh.triangulation()));
  solver.set_initial_density(rho0);
  ParticleEnsemble<2> ensemble(
      ParticleDynamics::probability_flow, 0, parameters.particles, mesh, physics);
  ensemble.sample(rho0);

  unsigned int adaptations = 0;
  for (unsigned int step = 1; step <= 20; ++step)
    {
      ensemble.prepare_step(&solver);
      ASSERT_TRUE(ensemble.is_located());
      const auto before = gather_positions(ensemble);
      solver.advance(0.01); // adapts the mesh after every second step
      solver.set_time(0.01 * step);
      if (step % 2 == 0)
        {
          ++adaptations;
          EXPECT_FALSE(ensemble.is_located()) << "step " << step;
          EXPECT_TRUE(ensemble.locate().empty());
          // Checked without trusting the cells: a cell of the mesh before the adaptation
          // may be gone (is_current_active_cell reads nothing out of range).
          unsigned int wrong = 0;
          for (std::size_t k = 0; k < ensemble.positions().size(); ++k)
            {
              const auto &cell = ensemble.cells()[k];
              if (!is_current_active_cell<2>(cell) || !cell->is_locally_owned() ||
                  !cell->point_inside(ensemble.positions()[k]))
                ++wrong;
            }
          wrong = Utilities::MPI::sum(wrong, MPI_COMM_WORLD);
          ASSERT_EQ(wrong, 0u) << "particles not in their cells after adaptation " << adaptations;
          EXPECT_EQ(largest_difference(before, gather_positions(ensemble)), 0.0);
        }
      ensemble.advance(0.01, &solver);
    }
  EXPECT_EQ(ensemble.n_particles(), 500u);
  EXPECT_EQ(adaptations, 10u);
  if (root())
    std::cout << "  " << adaptations << " adaptations, " << ensemble.n_particles() << " particles; "
              << mesh.triangulation().n_global_active_cells() << " cells at the end" << std::endl;
}

namespace
{
/** How a run's probability-flow particles and cells are spread over the ranks at T. */
struct Spread
{
  double                            particle_imbalance = 0; // largest rank's / mean
  double                            cell_imbalance     = 0;
  std::map<std::uint64_t, Point<2>> positions;
};

Spread spread(const std::string &prm, const std::string &weight)
{
  std::ostringstream log;
  Simulation<2>      simulation(
      ProblemParameters::from_string(prm,
                                     {"Output/Write files=false",
                                           "Distances/Floor samples=0",
                                           "Mesh/Adaptivity/Particle weight=" + weight}),
      MPI_COMM_WORLD,
      log);
  simulation.run();
  // Located at the last output, each on the owner of its cell.
  const auto        &ensemble  = *simulation.particle_systems()[0];
  const unsigned int ranks     = Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD);
  const auto         imbalance = [&](const double local) {
    return Utilities::MPI::max(local, MPI_COMM_WORLD) /
           (Utilities::MPI::sum(local, MPI_COMM_WORLD) / ranks);
  };
  Spread s;
  s.particle_imbalance = imbalance(ensemble.positions().size());
  s.cell_imbalance = imbalance(simulation.mesh().triangulation().n_locally_owned_active_cells());
  s.positions      = gather_positions(ensemble);
  return s;
}
} // namespace

// Mesh/Adaptivity/Particle weight: p4est balances 1 per cell + the weight per particle in it.
// The narrow start's probability-flow particles crowd into a few refined cells; with the
// particles weighing 10 cells each, their split over the 2 ranks is more even than with the
// cells alone (weight 0), the cells' less so, and the particles are the same (to the
// solver's round-off: only the partition differs).
TEST(AdaptiveParticles, RepartitionWeighsTheParticles)
{
  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) != 2)
    GTEST_SKIP() << "runs on 2 ranks";
  const std::string prm =
      ou(0.05, 4, 0.1).text() + particles(1000, "probability-flow") + adaptivity(2, 3, 6, 2);
  const Spread cells_only = spread(prm, "0"), weighted = spread(prm, "10");
  if (root())
    std::cout << "  largest rank over the mean: particles " << cells_only.particle_imbalance
              << " (weight 0), " << weighted.particle_imbalance << " (weight 10); cells "
              << cells_only.cell_imbalance << ", " << weighted.cell_imbalance << std::endl;
  EXPECT_LT(weighted.particle_imbalance, cells_only.particle_imbalance);
  EXPECT_GT(weighted.cell_imbalance, cells_only.cell_imbalance);
  EXPECT_EQ(weighted.positions.size(), 1000u);
  EXPECT_LE(largest_difference(weighted.positions, cells_only.positions), 1e-9);
}

// A cell iterator kept from before an adaptation is told from a cell of the mesh now without
// reading out of range: after refining a cell it is no active cell, after coarsening its
// level may be gone; a cell left alone stays a current active cell. (The point locator
// takes hints only when they pass this.)
TEST(AdaptiveParticles, KeptCellsAreCheckedAgainstTheMeshNow)
{
  const ProblemParameters parameters =
      ProblemParameters::from_string(ou(0.1, 2, 0.1).text(), {"Output/Write files=false"});
  Mesh<2>    mesh(parameters.mesh, 1, MPI_COMM_WORLD);
  auto      &tria  = dynamic_cast<parallel::distributed::Triangulation<2> &>(mesh.triangulation());
  const auto owned = [&]() {
    std::vector<Triangulation<2>::active_cell_iterator> cells;
    for (const auto &cell : tria.active_cell_iterators())
      if (cell->is_locally_owned())
        cells.push_back(cell);
    return cells;
  };
  const auto count = [](const std::vector<Triangulation<2>::active_cell_iterator> &cells) {
    unsigned int n = 0;
    for (const auto &cell : cells)
      n += is_current_active_cell<2>(cell) ? 1 : 0;
    return Utilities::MPI::sum(n, MPI_COMM_WORLD);
  };
  const auto level2 = owned();
  EXPECT_EQ(count(level2), 16u);
  for (const auto &cell : level2)
    if (cell->center()[0] < 0)
      cell->set_refine_flag();
  tria.execute_coarsening_and_refinement();
  // The 8 cells in x < 0 are parents now; the other 8 may have moved to the other rank.
  EXPECT_LE(count(level2), 8u);
  const auto level3 = owned();
  EXPECT_EQ(count(level3), 8u + 32u);
  for (const auto &cell : level3)
    if (cell->level() == 3)
      cell->set_coarsen_flag();
  tria.execute_coarsening_and_refinement();
  EXPECT_EQ(tria.n_global_levels(), 3u);
  unsigned int finer = 0;
  for (const auto &cell : level3)
    finer += cell->level() == 3 && is_current_active_cell<2>(cell) ? 1 : 0;
  EXPECT_EQ(Utilities::MPI::sum(finer, MPI_COMM_WORLD), 0u);
  EXPECT_EQ(count(owned()), 16u);
}

// The probability flow on an adapted mesh against the exact affine flow map, as
// ParticlesFollowTheExactFlowMap (probability_flow_test) on the uniform h = 0.5 mesh: 1000
// particles of N((1, 0.5), 0.25 I), Q2, dt = 0.01, T = 0.5, but adapted every 2 steps
// between levels 3 and 5 (h = 1 to 0.25). The exact velocity integrated by the same Heun
// steps is off by < 4e-4, so what is measured is the velocity; the bounds are the uniform
// h = 0.5 test's (median 3e-3, p99 2e-2, max 4e-2).
TEST(AdaptiveParticles, ProbabilityFlowFollowsTheExactFlowMap)
{
  const OuProblem   p   = ou(0.25, 4, 0.5);
  const std::string prm = p.text() + particles(1000, "probability-flow") + adaptivity(2, 3, 5, 2);
  const ParticleRun r   = run_particles(prm);
  ASSERT_EQ(r.final[0].size(), 1000u);
  const std::vector<double> errors = flow_map_errors(p, r.initial[0], r.final[0]);
  const double              median = quantile(errors, 0.5), p99 = quantile(errors, 0.99),
               worst = quantile(errors, 1.0);
  if (root())
    std::cout << "  adapted (" << r.diagnostics.last("cells") << " cells at T): median " << median
              << ", p99 " << p99 << ", max " << worst << std::endl;
  EXPECT_LT(median, 3e-3);
  EXPECT_LT(p99, 2e-2);
  EXPECT_LT(worst, 4e-2);
}

// Convergence: the probability-flow particles' errors against the exact flow map fall as the
// adaptive mesh's maximum level rises (3, 4, 5: cells down to h = 1, 0.5, 0.25 where Kelly's
// indicator puts them), every quantile. 300 particles of N((1, 0.5), 0.25 I), Q2, adapted
// every 4 steps from level 3 (3 initial cycles), dt = 0.005 (the time error is below the
// finest level's spatial error), T = 0.2. Each level samples its own initial mesh, so the
// particles differ; the falls (about a factor 10 per level in the median at T = 0.3) are far
// above the sampling noise of the quantiles.
TEST(AdaptiveParticles, ProbabilityFlowErrorFallsWithTheMaximumLevel)
{
  OuProblem p = ou(0.25, 3, 0.2);
  p.time_step = 0.005;
  std::vector<std::vector<double>> quantiles;
  for (const unsigned int level : {3u, 4u, 5u})
    {
      const ParticleRun r =
          run_particles(p.text() + particles(300, "probability-flow") + adaptivity(4, 2, level, 3));
      ASSERT_EQ(r.final[0].size(), 300u);
      const std::vector<double> errors = flow_map_errors(p, r.initial[0], r.final[0]);
      quantiles.push_back({quantile(errors, 0.5),
                           quantile(errors, 0.9),
                           quantile(errors, 0.99),
                           quantile(errors, 1.0)});
      if (root())
        std::cout << "  maximum level " << level << " (" << r.diagnostics.last("cells")
                  << " cells at T): median " << quantiles.back()[0] << ", p90 "
                  << quantiles.back()[1] << ", p99 " << quantiles.back()[2] << ", max "
                  << quantiles.back()[3] << std::endl;
    }
  const char *names[4] = {"median", "p90", "p99", "max"};
  for (std::size_t l = 1; l < quantiles.size(); ++l)
    for (unsigned int q = 0; q < 4; ++q)
      EXPECT_LT(quantiles[l][q], quantiles[l - 1][q]) << names[q] << ", level " << 3 + l;
}

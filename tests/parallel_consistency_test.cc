// 1 rank and 2 ranks give the same diagnostics: each problem runs on MPI_COMM_WORLD (2
// ranks) and, on rank 0, alone on MPI_COMM_SELF; the diagnostics must agree to 1e-9
// (relative to each column's scale, at least 1: densities are of order one).
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <map>

#include <support/rank_comparison.h>
#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
void expect_same_on_one_and_two_ranks(const std::string &prm, const std::string &what)
{
  ASSERT_EQ(Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD), 2u) << "run this test on 2 ranks";
  const RunResult two = run(prm, {}, MPI_COMM_WORLD);
  RunResult       one;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    one = run(prm, {}, MPI_COMM_SELF);
  one.rows    = Utilities::MPI::broadcast(MPI_COMM_WORLD, one.rows, 0);
  one.columns = two.columns;

  SCOPED_TRACE(what);
  expect_same_diagnostics(one, two);
}
} // namespace

TEST(ParallelConsistency, OneDimensionalSharedTriangulation)
{
  OuProblem p;
  p.dim        = 1;
  p.degree     = 2;
  p.refinement = 6;
  p.interval   = 0.1;
  expect_same_on_one_and_two_ranks(p.text(), "1D Q2");
  // Q1, lumped, backward Euler; and Q3 with a consistent mass matrix, which undershoots,
  // so that negative_mass and min_density have parts on both ranks.
  p.degree     = 1;
  p.refinement = 7;
  p.scheme     = "backward-euler";
  expect_same_on_one_and_two_ranks(p.text(), "1D Q1");
  p.degree     = 3;
  p.refinement = 4;
  p.lumping    = "false";
  p.scheme     = "crank-nicolson";
  p.s0         = 0.02;
  expect_same_on_one_and_two_ranks(p.text(), "1D Q3");
}

TEST(ParallelConsistency, TwoDimensionalQ1AndQ2)
{
  OuProblem p;
  p.interval   = 0.1;
  p.refinement = 5;
  expect_same_on_one_and_two_ranks(p.text(), "2D Q1");
  p.degree     = 2;
  p.refinement = 4;
  p.scheme     = "crank-nicolson";
  expect_same_on_one_and_two_ranks(p.text(), "2D Q2");
}

TEST(ParallelConsistency, ThreeDimensional)
{
  OuProblem p;
  p.dim        = 3;
  p.refinement = 3;
  p.half_width = 4;
  p.end_time   = 0.2;
  p.time_step  = 0.02;
  p.interval   = 0.1;
  p.scheme     = "backward-euler";
  expect_same_on_one_and_two_ranks(p.text(), "3D Q1");
  // The consistent mass matrix (its projection, quadrature entropy), Crank-Nicolson.
  // (Q2 on this coarse mesh: the initial projection's CG does not converge.)
  p.lumping = "false";
  p.scheme  = "crank-nicolson";
  expect_same_on_one_and_two_ranks(p.text(), "3D Q1 consistent mass");
}

TEST(ParallelConsistency, TransportExplicitAndImplicit)
{
  // Explicit DG with the limiter (2D), implicit DG with diffusion (1D), explicit in 3D.
  const std::string rotation =
      "set Dimension = 2\nsubsection Mesh\n set Lower corner = -1, -1\n set Upper corner = 1, 1\n "
      "set Refinement = 4\nend\n"
      "subsection Physics\n set Model = transport\n set Velocity = -6.283185307179586 * y; "
      "6.283185307179586 * x\n"
      " set Diffusion = 0\nend\n"
      "subsection Initial density\n set Expression = if((x - 0.4)^2 + y^2 < 0.0625, 1, 0) + "
      "exp(-(x^2 + (y - 0.4)^2) / 0.02)\nend\n"
      "subsection Time\n set End time = 0.5\nend\nsubsection Discretization\n set Degree = 2\nend\n"
      "subsection Output\n set Interval = 0.1\nend\n";
  expect_same_on_one_and_two_ranks(rotation, "transport 2D Q2 ssp-rk3");

  const std::string diffusion_1d =
      "set Dimension = 1\nsubsection Mesh\n set Lower corner = -3\n set Upper corner = 3\n set "
      "Refinement = 6\nend\n"
      "subsection Physics\n set Model = transport\n set Potential = x^2 / 2\n set Velocity = 0.5\n "
      "set Diffusion = 0.25\nend\n"
      "subsection Initial density\n set Expression = exp(-(x + 1)^2 / 0.1)\nend\n"
      "subsection Time\n set End time = 0.5\n set Time step = 0.01\nend\nsubsection "
      "Discretization\n set Degree = 1\nend\n"
      "subsection Linear solver\n set Tolerance = 1e-13\nend\nsubsection Output\n set Interval = "
      "0.1\nend\n";
  expect_same_on_one_and_two_ranks(diffusion_1d, "transport 1D Q1 bdf2 with diffusion");

  const std::string compression_3d =
      "set Dimension = 3\nsubsection Mesh\n set Lower corner = -1, -1, -1\n set Upper corner = 1, "
      "1, 1\n set Refinement = 2\nend\n"
      "subsection Physics\n set Model = transport\n set Velocity = -x; -y; -z\n set Diffusion = "
      "0\nend\n"
      "subsection Initial density\n set Expression = exp(-((x - 0.2)^2 + y^2 + z^2) / 0.1)\nend\n"
      "subsection Time\n set End time = 0.2\nend\nsubsection Discretization\n set Degree = 1\nend\n"
      "subsection Output\n set Interval = 0.1\nend\n";
  expect_same_on_one_and_two_ranks(compression_3d, "transport 3D Q1 ssp-rk3");
}

// One coarse cell: one of the two ranks owns nothing, which every loop must survive.
TEST(ParallelConsistency, RankWithoutCells)
{
  OuProblem p;
  p.refinement = 0;
  p.degree     = 2;
  p.interval   = 0.25;
  expect_same_on_one_and_two_ranks(p.text(), "Fokker-Planck on one cell");
  const std::string transport =
      "set Dimension = 2\nsubsection Mesh\n set Refinement = 0\nend\n"
      "subsection Physics\n set Model = transport\n set Velocity = -y; x\n set Diffusion = 0\nend\n"
      "subsection Initial density\n set Expression = exp(-(x^2 + y^2))\nend\n"
      "subsection Time\n set End time = 0.1\nend\nsubsection Discretization\n set Degree = "
      "2\nend\n";
  expect_same_on_one_and_two_ranks(transport, "transport on one cell");
}

namespace
{
/** An OU problem in @p dim dimensions that particle tests can afford on 1 and 2 ranks. */
OuProblem particle_problem(const unsigned int dim)
{
  OuProblem p;
  p.dim        = dim;
  p.refinement = dim == 1 ? 7 : dim == 2 ? 4 : 3;
  p.half_width = dim == 3 ? 4 : 5;
  // Wide enough for the 3D mesh's cells to bound rho0 for rejection sampling.
  p.s0        = dim == 3 ? 0.3 : 0.1;
  p.time_step = 0.05;
  return p;
}

template <int dim>
std::vector<std::map<std::uint64_t, Point<dim>>> particle_positions(const std::string &prm,
                                                                    const MPI_Comm     communicator)
{
  std::ostringstream log;
  Simulation<dim>    simulation(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), communicator, log);
  std::vector<std::map<std::uint64_t, Point<dim>>> result;
  for (const auto &e : simulation.particle_systems())
    result.push_back(gather_positions(*e, communicator));
  simulation.run();
  for (const auto &e : simulation.particle_systems())
    result.push_back(gather_positions(*e, communicator));
  return result;
}

template <int dim>
void expect_same_particles_on_one_and_two_ranks()
{
  OuProblem p = particle_problem(dim);
  p.end_time  = 0.5;
  const std::string prm =
      p.text() +
      "subsection Particles\n set Number = 1000\n set Dynamics = flow-map, langevin, mala\nend\n";
  const auto two = particle_positions<dim>(prm, MPI_COMM_WORLD);
  std::vector<std::map<std::uint64_t, Point<dim>>> one;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    one = particle_positions<dim>(prm, MPI_COMM_SELF);
  one = Utilities::MPI::broadcast(MPI_COMM_WORLD, one, 0);
  ASSERT_EQ(one.size(), two.size());
  ASSERT_EQ(one.size(), 6u); // 3 systems, at the start and at the end
  for (std::size_t s = 0; s < one.size(); ++s)
    {
      ASSERT_EQ(one[s].size(), 1000u) << dim << "D, system/time " << s;
      ASSERT_EQ(two[s].size(), 1000u) << dim << "D";
      double worst = 0;
      for (const auto &[id, x] : one[s])
        worst = std::max(worst, x.distance(two[s].at(id)));
      EXPECT_LE(worst, 1e-12) << dim << "D, system/time " << s;
    }
}

/** The distances of each particle system at each output time, as numbers. */
template <int dim>
std::vector<std::vector<double>> particle_distances(const std::string &prm,
                                                    const MPI_Comm     communicator)
{
  std::ostringstream log;
  Simulation<dim>    simulation(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), communicator, log);
  simulation.run();
  std::vector<std::vector<double>> rows;
  for (const auto &d : simulation.distances())
    rows.push_back({d.time,
                    double(d.n_particles),
                    double(d.outside),
                    d.mean_error,
                    d.covariance_error,
                    d.histogram_tv,
                    d.energy_distance,
                    d.energy_distance_slicing_error,
                    d.w1,
                    d.w2,
                    d.sliced_w2,
                    d.sliced_w2_slicing_error,
                    d.density_error_max,
                    d.density_error_mean,
                    double(d.histogram_bins),
                    d.floor_excess});
  for (const auto &d : simulation.distances())
    for (const DistanceFloor &f : {d.mean_error_floor,
                                   d.covariance_error_floor,
                                   d.histogram_tv_floor,
                                   d.energy_distance_floor,
                                   d.w1_floor,
                                   d.w2_floor,
                                   d.sliced_w2_floor})
      rows.push_back({f.value, f.spread});
  return rows;
}

template <int dim>
void expect_same_distances_on_one_and_two_ranks()
{
  OuProblem p = particle_problem(dim);
  p.end_time  = 0.2;
  p.interval  = 0.1;
  const std::string prm =
      p.text() +
      "subsection Particles\n set Number = 2000\n set Dynamics = flow-map, langevin\nend\n";
  const auto                       two = particle_distances<dim>(prm, MPI_COMM_WORLD);
  std::vector<std::vector<double>> one;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    one = particle_distances<dim>(prm, MPI_COMM_SELF);
  one = Utilities::MPI::broadcast(MPI_COMM_WORLD, one, 0);
  ASSERT_EQ(one.size(), two.size());
  ASSERT_EQ(one.size(), 6u * 8); // 3 output times, 2 systems; and their 7 floors
  for (std::size_t r = 0; r < one.size(); ++r)
    for (std::size_t c = 0; c < one[r].size(); ++c)
      {
        if (std::isnan(two[r][c]))
          {
            EXPECT_TRUE(std::isnan(one[r][c])) << dim << "D, row " << r << ", column " << c;
            continue;
          }
        EXPECT_NEAR(one[r][c], two[r][c], 1e-10 * std::max(1.0, std::abs(two[r][c])))
            << dim << "D, row " << r << ", column " << c;
      }
}
} // namespace

// The same particles on 1 and 2 ranks: the same sample of rho0, and the same paths for
// the deterministic flow map and for Langevin and MALA (their random numbers are drawn
// per particle id), in 1D (shared triangulation), 2D and 3D.
TEST(ParallelConsistency, ParticleEnsembles1D)
{
  expect_same_particles_on_one_and_two_ranks<1>();
}

TEST(ParallelConsistency, ParticleEnsembles2D)
{
  expect_same_particles_on_one_and_two_ranks<2>();
}

TEST(ParallelConsistency, ParticleEnsembles3D)
{
  expect_same_particles_on_one_and_two_ranks<3>();
}

// The distances between particle systems and rho_h agree on 1 and 2 ranks to 1e-10: 1D
// (exact W1, W2), 2D and 3D (sliced).
TEST(ParallelConsistency, Distances1D)
{
  expect_same_distances_on_one_and_two_ranks<1>();
}

TEST(ParallelConsistency, Distances2D)
{
  expect_same_distances_on_one_and_two_ranks<2>();
}

TEST(ParallelConsistency, Distances3D)
{
  expect_same_distances_on_one_and_two_ranks<3>();
}

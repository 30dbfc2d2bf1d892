// Periodic directions (Mesh/Periodic) of the Fokker-Planck model and its particles:
// - the heat equation (V = 0) on the circle [0, 2 pi) and the torus [0, 2 pi)^2: the mode
//   1 + a sin(k . x), which no-flux walls would not keep a mode, decays as exp(-eps |k|^2 t)
//   at the order of Q1 with BDF2 (h and dt halved together: 2);
// - with a periodic V the discrete stationary state is pi_h exactly, as without periodicity;
// - Langevin and MALA particles on the torus with V = 0 stay uniform and in the box;
// - particles that cross a periodic wall: the fraction of Langevin, MALA and probability-flow
//   particles beyond it agrees with the density's;
// - 1 and 2 ranks give the same diagnostics and particles;
// - on adapted meshes (Mesh/Adaptivity), where the walls' identities and the hanging nodes
//   are one map: the heat mode decays as on a uniform mesh, the stationary state stays
//   pi_h to round-off through refinements.
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/mapping_q1.h>

#include <gtest/gtest.h>

#include <cmath>
#include <iomanip>
#include <sstream>

#include <support/rank_comparison.h>
#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
constexpr double eps = 0.5;

bool on_rank_zero()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/** The mode 1 + sin(x) / 2 (1D) or 1 + sin(x + y) / 2 (2D) on [0, 2 pi)^dim, V = 0. */
std::string heat(const unsigned int dim, const unsigned int refinement, const double dt)
{
  const double       T    = 1;
  const std::string  k2   = dim == 1 ? "1" : "2";
  const std::string  wave = dim == 1 ? "sin(x)" : "sin(x + y)";
  std::ostringstream out;
  out << std::setprecision(17) << "set Dimension = " << dim << "\n"
      << "subsection Mesh\n  set Lower corner = 0, 0\n  set Upper corner = " << 2 * M_PI << ", "
      << 2 * M_PI << "\n  set Refinement = " << refinement
      << "\n  set Periodic = " << (dim == 1 ? "true" : "true, true") << "\nend\n"
      << "subsection Physics\n  set Potential = 0\n  set Diffusion = " << eps << "\nend\n"
      << "subsection Initial density\n  set Expression = 1 + 0.5 * " << wave << "\nend\n"
      << "subsection Exact solution\n  set Expression = (1 + 0.5 * " << wave << " * exp(-" << k2
      << " * eps * t)) / (2 * pi)^" << dim << "\nend\n"
      << "subsection Time\n  set End time = " << T << "\n  set Time step = " << dt
      << "\n  set Scheme = bdf2\nend\n"
      << "subsection Discretization\n  set Degree = 1\nend\n"
      << "subsection Output\n  set Interval = " << T / 4 << "\nend\n";
  return out.str();
}

/** Mesh/Adaptivity's settings: Kelly every 2 steps between levels @p levels. */
std::vector<std::string> adapted(const std::string &levels, const std::string &coarsen)
{
  const auto comma = levels.find(',');
  return {"Mesh/Adaptivity/Interval=2",
          "Mesh/Adaptivity/Minimum level=" + levels.substr(0, comma),
          "Mesh/Adaptivity/Maximum level=" + levels.substr(comma + 1),
          "Mesh/Adaptivity/Refine fraction=0.3",
          "Mesh/Adaptivity/Coarsen fraction=" + coarsen,
          "Mesh/Adaptivity/Initial cycles=2",
          "Mesh/Adaptivity/Indicator=kelly"};
}

/** "-pi, -pi" or "pi, pi" as numbers (the mesh's corners are numbers, not expressions). */
std::string half_turn(const std::string &sign)
{
  std::ostringstream out;
  out << std::setprecision(17) << sign << M_PI << ", " << sign << M_PI;
  return out.str();
}

/** A periodic V on the torus [-pi, pi)^2 (x only: "true, false" with a V periodic in x). */
std::string torus(const std::string &periodic,
                  const std::string &potential,
                  const std::string &rho0,
                  const std::string &more = "")
{
  return "set Dimension = 2\n"
         "subsection Mesh\n  set Lower corner = " +
         half_turn("-") + "\n  set Upper corner = " + half_turn("") +
         "\n  set Refinement = 4\n  set Periodic = " + periodic +
         "\nend\n"
         "subsection Physics\n  set Potential = " +
         potential + "\n  set Diffusion = 0.5\nend\n" +
         "subsection Initial density\n  set Expression = " + rho0 + "\nend\n" + more;
}

const std::string dihedral = "cos(x) + 0.5 * cos(2 * y) + 0.3 * sin(x + y)";

/** Runs @p prm on @p communicator; the particle positions of each system, by id. */
template <int dim>
std::vector<std::map<std::uint64_t, Point<dim>>>
particles_of(const std::string &prm, RunResult &diagnostics, const MPI_Comm communicator)
{
  std::ostringstream log;
  Simulation<dim>    simulation(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), communicator, log);
  simulation.run();
  diagnostics = result_of(simulation);
  std::vector<std::map<std::uint64_t, Point<dim>>> all;
  for (const auto &system : simulation.particle_systems())
    all.push_back(gather_positions(*system, communicator));
  return all;
}
} // namespace

// Q1 + BDF2 with h and dt halved together: second order in the relative L2 error. With
// no-flux walls instead (the periodicity constraints dropped) sin(x) is no mode and the
// error is O(1) (measured 0.05-0.1).
TEST(Periodic, HeatModeDecays)
{
  for (const unsigned int dim : {1u, 2u})
    {
      const unsigned int  base = dim == 1 ? 5 : 4;
      std::vector<double> errors;
      for (const unsigned int level : {0u, 1u})
        {
          const RunResult r = run(heat(dim, base + level, 0.1 / (1 << level)));
          for (std::size_t row = 0; row < r.rows.size(); ++row)
            EXPECT_NEAR(r.value(row, "mass"), 1, 1e-12);
          errors.push_back(r.last("l2_error"));
        }
      if (on_rank_zero())
        std::cout << "  " << dim << "D: relative L2 error at T = 1: " << errors[0] << ", "
                  << errors[1] << " (order " << observed_order(errors[0], errors[1]) << ")"
                  << std::endl;
      EXPECT_GT(observed_order(errors[0], errors[1]), 1.8) << dim << "D";
      EXPECT_LT(errors[1], 2e-3) << dim << "D";
    }
}

// rho0 = exp(-V/eps) projected is pi_h; y = c sqrt(pi) must then not move at all.
TEST(Periodic, StationaryStateIsExact)
{
  for (const std::string periodic : {"true, true", "true, false"})
    for (const std::string degree : {"1", "2"})
      for (const std::string scheme : {"backward-euler", "crank-nicolson", "bdf2"})
        {
          const std::string       V = periodic == "true, true" ? dihedral : "cos(x) + y^2";
          const ProblemParameters parameters =
              ProblemParameters::from_string(torus(periodic, V, "exp(-(" + V + ") / eps)"),
                                             {"Discretization/Degree=" + degree,
                                              "Time/Scheme=" + scheme,
                                              "Time/End time=1",
                                              "Time/Time step=0.05",
                                              "Output/Write files=false",
                                              "Output/Interval=0.25"});
          std::ostringstream log;
          Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
          const auto &solver = dynamic_cast<const FokkerPlanckSolver<2> &>(simulation.solver());
          PETScWrappers::MPI::Vector initial(solver.scaled_solution());
          simulation.run();
          PETScWrappers::MPI::Vector difference(solver.scaled_solution());
          difference -= initial;
          const std::string what = periodic + " Q" + degree + " " + scheme;
          EXPECT_LE(difference.linfty_norm(), 1e-12 * initial.linfty_norm()) << what;
          const RunResult result = result_of(simulation);
          for (std::size_t row = 0; row < result.rows.size(); ++row)
            {
              EXPECT_NEAR(result.value(row, "relative_entropy"), 0.0, 1e-12) << what;
              EXPECT_NEAR(result.value(row, "mass"), 1.0, 1e-12) << what;
            }
        }
}

// V = 0 on the torus from the uniform density: 10000 Langevin and 10000 MALA particles stay uniform
// (mean of cos x and cos y, the fraction in x < 0 and in y < 0, each within 4 standard
// errors) and every particle stays in [-pi, pi)^2. Without wrapping a third of them have
// left the box by T = 2.
TEST(Periodic, ParticlesStayUniform)
{
  const unsigned int n = 10000;
  RunResult          diagnostics;
  const auto         systems =
      particles_of<2>(torus("true, true",
                            "0",
                            "1",
                            "subsection Time\n  set End time = 2\n  set Time step = 0.04\nend\n"
                            "subsection Output\n  set Interval = 2\nend\n"
                            "subsection Distances\n  set Floor samples = 0\nend\n"
                            "subsection Particles\n  set Number = " +
                                std::to_string(n) + "\n  set Dynamics = langevin, mala\nend\n"),
                      diagnostics,
                      MPI_COMM_WORLD);
  ASSERT_EQ(systems.size(), 2u);
  for (const auto &system : systems)
    {
      ASSERT_EQ(system.size(), n);
      double cos_x = 0, cos_y = 0, left = 0, low = 0;
      for (const auto &[id, p] : system)
        {
          EXPECT_TRUE(p[0] >= -M_PI && p[0] < M_PI && p[1] >= -M_PI && p[1] < M_PI) << p;
          cos_x += std::cos(p[0]) / n;
          cos_y += std::cos(p[1]) / n;
          left += (p[0] < 0) / double(n);
          low += (p[1] < 0) / double(n);
        }
      const double cos_error = std::sqrt(0.5 / n), fraction_error = 0.5 / std::sqrt(double(n));
      if (on_rank_zero())
        std::cout << "  mean cos x " << cos_x << ", cos y " << cos_y << " (standard error "
                  << cos_error << "); fraction x < 0 " << left << ", y < 0 " << low
                  << " (standard error " << fraction_error << ")" << std::endl;
      EXPECT_NEAR(cos_x, 0, 4 * cos_error);
      EXPECT_NEAR(cos_y, 0, 4 * cos_error);
      EXPECT_NEAR(left, 0.5, 4 * fraction_error);
      EXPECT_NEAR(low, 0.5, 4 * fraction_error);
    }
}

// On the circle [-pi, pi) with V = cos x, from a density centred near the upper wall
// (x = 2.6): the fraction of particles beyond the wall, in [-pi, -2), at T = 0.5 against
// int over it of rho_h, within 4 binomial standard errors plus the time discretisation's
// O(dt) (measured below 0.003). Without wrapping, none of the Langevin particles are there.
TEST(Periodic, ParticlesCrossTheWallLikeTheDensity)
{
  const unsigned int n = 10000;
  std::ostringstream prm;
  prm << "set Dimension = 1\n"
      << std::setprecision(17) << "subsection Mesh\n  set Lower corner = " << -M_PI
      << "\n  set Upper corner = " << M_PI << "\n"
      << "  set Refinement = 6\n  set Periodic = true\nend\n"
      << "subsection Physics\n  set Potential = cos(x)\n  set Diffusion = 0.5\nend\n"
      << "subsection Initial density\n  set Expression = exp(4 * cos(x - 2.6))\nend\n"
      << "subsection Discretization\n  set Degree = 2\nend\n"
      << "subsection Time\n  set End time = 0.5\n  set Time step = 0.005\nend\n"
      << "subsection Diagnostics\n  set Regions = across: x < -2\nend\n"
      << "subsection Output\n  set Interval = 0.5\nend\n"
      << "subsection Distances\n  set Floor samples = 0\nend\n"
      << "subsection Particles\n  set Number = " << n
      << "\n  set Dynamics = langevin, mala, probability-flow\nend\n";
  RunResult    diagnostics;
  const auto   systems        = particles_of<1>(prm.str(), diagnostics, MPI_COMM_WORLD);
  const double p              = diagnostics.last("mass_across") / diagnostics.last("mass");
  const double standard_error = std::sqrt(p * (1 - p) / n);
  EXPECT_GT(p, 0.05); // the density has crossed
  const char *names[] = {"langevin", "mala", "probability-flow"};
  for (std::size_t s = 0; s < systems.size(); ++s)
    {
      double across = 0;
      for (const auto &[id, x] : systems[s])
        across += (x[0] < -2) / double(n);
      if (on_rank_zero())
        std::cout << "  " << names[s] << ": fraction beyond the wall " << across << ", density's "
                  << p << " (standard error " << standard_error << ")" << std::endl;
      EXPECT_NEAR(across, p, 4 * standard_error + 0.003) << names[s];
    }
}

// MALA keeps pi on the circle at a large step (dt = 0.2: proposals of standard deviation 0.45,
// 92% accepted) where pi has its mode near the periodic wall, V = cos x - 0.6 sin 2x: the
// fraction of 20000 particles from pi in each of four arcs after 20 steps is pi_h's within 4
// binomial standard errors (measured within 1.3). Taking the wrapped proposal into the
// Metropolis ratio instead of the unwrapped pair of images puts 0.85 instead of 0.70 in the
// arc x < -2.
TEST(Periodic, MalaKeepsPiAcrossTheWall)
{
  const unsigned int n = 20000;
  const std::string  V = "cos(x) - 0.6 * sin(2 * x)";
  std::ostringstream prm;
  prm << "set Dimension = 1\n"
      << std::setprecision(17) << "subsection Mesh\n  set Lower corner = " << -M_PI
      << "\n  set Upper corner = " << M_PI << "\n"
      << "  set Refinement = 6\n  set Periodic = true\nend\n"
      << "subsection Physics\n  set Potential = " << V << "\n  set Diffusion = 0.5\nend\n"
      << "subsection Initial density\n  set Expression = exp(-(" << V << ") / eps)\nend\n"
      << "subsection Discretization\n  set Degree = 2\nend\n"
      << "subsection Time\n  set End time = 4\n  set Time step = 0.2\nend\n"
      << "subsection Diagnostics\n  set Regions = a: x < -2; b: x >= -2 && x < 0; c: x >= 0 && "
         "x < 2; d: x >= 2\nend\n"
      << "subsection Output\n  set Interval = 4\nend\n"
      << "subsection Distances\n  set Floor samples = 0\nend\n"
      << "subsection Particles\n  set Number = " << n << "\n  set Dynamics = mala\nend\n";
  RunResult    diagnostics;
  const auto   systems = particles_of<1>(prm.str(), diagnostics, MPI_COMM_WORLD);
  const double lower[] = {-10, -2, 0, 2}, upper[] = {-2, 0, 2, 10};
  const char  *names[] = {"a", "b", "c", "d"};
  for (unsigned int r = 0; r < 4; ++r)
    {
      const double p = diagnostics.last(std::string("mass_") + names[r]) / diagnostics.last("mass");
      double       fraction = 0;
      for (const auto &[id, x] : systems[0])
        fraction += (x[0] >= lower[r] && x[0] < upper[r]) / double(n);
      const double standard_error = std::sqrt(p * (1 - p) / n);
      if (on_rank_zero())
        std::cout << "  arc " << names[r] << ": MALA " << fraction << ", pi_h " << p
                  << " (standard error " << standard_error << ")" << std::endl;
      EXPECT_NEAR(fraction, p, 4 * standard_error) << names[r];
    }
}

// The same numbers on 1 rank and on 2: the heat mode's diagnostics, and the Langevin and
// MALA particles on the torus by id.
TEST(Periodic, OneAndTwoRanksAgree)
{
  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) != 2)
    GTEST_SKIP() << "runs on 2 ranks";
  const std::string prm =
      torus("true, true",
            dihedral,
            "1 + 0.5 * sin(x)",
            "subsection Time\n  set End time = 0.5\n  set Time step = 0.05\nend\n"
            "subsection Output\n  set Interval = 0.25\nend\n"
            "subsection Particles\n  set Number = 2000\n  set Dynamics = langevin, mala\nend\n");
  RunResult  two, one;
  const auto on_two = particles_of<2>(prm, two, MPI_COMM_WORLD);
  if (!on_rank_zero())
    return;
  const auto on_one = particles_of<2>(prm, one, MPI_COMM_SELF);
  expect_same_diagnostics(one, two);
  ASSERT_EQ(on_one.size(), on_two.size());
  for (std::size_t s = 0; s < on_two.size(); ++s)
    {
      ASSERT_EQ(on_one[s].size(), on_two[s].size());
      for (const auto &[id, p] : on_two[s])
        EXPECT_EQ(on_one[s].at(id).distance(p), 0.0) << "system " << s << " id " << id;
    }
}

// The heat mode on the torus (Q2, BDF2, dt = 0.025) on a mesh adapted by Kelly every 2
// steps between levels 3 and 5: cells finer than their images across a wall and hanging
// nodes on the walls. Its error at T = 1 is below that of the uniform mesh of its coarsest
// level (every cell is at least that fine; measured 4.7e-5 against 5.0e-4; the uniform
// level 5: 3.5e-5, dt-limited), the mass stays 1 to 1e-12 through every adaptation, and 2
// ranks give 1 rank's numbers. Without the walls' identities in the adapted mesh's map (no-
// flux walls) sin(x + y) is no mode: O(1) error.
TEST(Periodic, AdaptedMeshHeatModeDecays)
{
  const std::string              prm  = heat(2, 3, 0.025);
  const std::vector<std::string> q2   = {"Discretization/Degree=2"};
  std::vector<std::string>       with = adapted("3,5", "0.05");
  with.insert(with.end(), q2.begin(), q2.end());
  const RunResult adaptive = run(prm, with);
  const RunResult uniform  = run(prm, q2);
  double          fewest = 1e300, most = 0;
  for (std::size_t row = 0; row < adaptive.rows.size(); ++row)
    {
      EXPECT_NEAR(adaptive.value(row, "mass"), 1, 1e-12) << "row " << row;
      fewest = std::min(fewest, adaptive.value(row, "cells"));
      most   = std::max(most, adaptive.value(row, "cells"));
    }
  if (on_rank_zero())
    std::cout << "  adapted (levels 3-5, " << fewest << "-" << most
              << " cells): relative L2 error at T = 1 " << adaptive.last("l2_error")
              << "; uniform level 3 (64 cells): " << uniform.last("l2_error") << std::endl;
  EXPECT_GT(most, fewest); // the mesh changed
  EXPECT_GT(most, 64);
  EXPECT_LT(adaptive.last("l2_error"), uniform.last("l2_error"));

  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) == 2 && on_rank_zero())
    expect_same_diagnostics(run(prm, with, MPI_COMM_SELF), adaptive);
}

// With a periodic V (several minima) from rho0 = pi, refinements only (coarsening would
// project rho_h = pi_h onto coarser cells, which changes it at the discretisation's
// order): u = rho_h / pi stays constant through refinements (hanging nodes, with the walls'
// identities in the same map), Q1 and Q2, to the round-off of the transfer's projection (CG
// to 1e-13 of the residual; Q1 lumps it): 1e-10 relative (measured 3.9e-15 Q1, 6.1e-12 Q2).
TEST(Periodic, AdaptedMeshKeepsTheStationaryState)
{
  for (const std::string degree : {"1", "2"})
    {
      std::vector<std::string> overrides = adapted("4,6", "0");
      overrides.insert(overrides.end(),
                       {"Discretization/Degree=" + degree,
                        "Time/End time=0.5",
                        "Time/Time step=0.05",
                        "Output/Write files=false",
                        "Output/Interval=0.25"});
      std::ostringstream log;
      Simulation<2>      simulation(
          ProblemParameters::from_string(
              torus("true, true", dihedral, "exp(-(" + dihedral + ") / eps)"), overrides),
          MPI_COMM_WORLD,
          log);
      simulation.run();
      const auto &solver = dynamic_cast<const FokkerPlanckSolver<2> &>(simulation.solver());
      // u_j = y_j / sqrt(pi_j) up to one factor (the solver's shift of V).
      std::map<types::global_dof_index, Point<2>> nodes;
      DoFTools::map_dofs_to_support_points(MappingQ1<2>(), solver.get_dof_handler(), nodes);
      const PETScWrappers::MPI::Vector &y      = solver.scaled_solution();
      double                            lowest = 1e300, highest = 0;
      for (const auto j : y.locally_owned_elements())
        {
          const Point<2> &p = nodes.at(j);
          const double V = std::cos(p[0]) + 0.5 * std::cos(2 * p[1]) + 0.3 * std::sin(p[0] + p[1]);
          const double u = y(j) * std::exp(V / (2 * eps));
          lowest         = std::min(lowest, u);
          highest        = std::max(highest, u);
        }
      lowest                 = Utilities::MPI::min(lowest, MPI_COMM_WORLD);
      highest                = Utilities::MPI::max(highest, MPI_COMM_WORLD);
      const RunResult result = result_of(simulation);
      if (on_rank_zero())
        std::cout << "  Q" << degree << ": " << result.value(0, "cells") << " -> "
                  << result.last("cells") << " cells, u in [" << std::setprecision(17) << lowest
                  << ", " << highest << "]" << std::setprecision(6) << std::endl;
      EXPECT_GT(result.last("cells"), result.value(0, "cells")) << "Q" << degree;
      EXPECT_LE(highest - lowest, 1e-10 * highest) << "Q" << degree;
      for (std::size_t row = 0; row < result.rows.size(); ++row)
        EXPECT_NEAR(result.value(row, "mass"), 1.0, 1e-12) << "Q" << degree;
    }
}

// Periodic directions (Mesh/Periodic) of the transport model's DG solver:
// - a wave 1 + sin(k . x) / 2 carried by a constant velocity b on the unit circle and torus
//   comes back through the opposite wall: the exact solution is rho0(x - b t), which
//   walls would turn into outflow. Upwind DG of degree p with SSP-RK3 converges at order
//   p + 1 (h halved, dt CFL-limited), the mass stays 1 to round-off and nothing flows out;
// - with eps > 0 the same wave decays as exp(-eps |k|^2 t) (SIPG faces across the walls,
//   Q1 + BDF2 with h and dt halved together: order 2);
// - a velocity that is not periodic is refused, naming the parameter;
// - flow-map particles wrap: a second run twice as long ends where the first ended moved
//   by b (mod the box), and 1 and 2 ranks give the same numbers;
// - on an adapted mesh a bump crosses both walls (hanging faces across them): the mass is
//   kept to round-off, nothing flows out, the error is that of the finest level's mesh
//   with a fraction of its cells, and 1 and 2 ranks build the same meshes.
#include <densityflow/base/exceptions.h>
#include <densityflow/particles/particle_ensemble.h>

#include <gtest/gtest.h>

#include <cmath>
#include <iomanip>
#include <regex>
#include <sstream>

#include <support/rank_comparison.h>
#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
bool on_rank_zero()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/**
 * The wave 1 + sin(2 pi (x [+ y])) / 2 on the unit box, periodic in every direction, moved
 * by b = @p speed (1D) or @p speed (1, 0.5) (2D) with diffusion @p eps, to @p T.
 */
std::string wave(const unsigned int dim,
                 const unsigned int refinement,
                 const unsigned int degree,
                 const double       eps,
                 const double       T,
                 const std::string &time  = "  set Scheme = ssp-rk3\n",
                 const std::string &more  = "",
                 const double       speed = 1)
{
  std::ostringstream out;
  out << std::setprecision(17) << "set Dimension = " << dim << "\n"
      << "subsection Mesh\n  set Lower corner = 0, 0\n  set Upper corner = 1, 1\n"
      << "  set Refinement = " << refinement
      << "\n  set Periodic = " << (dim == 1 ? "true" : "true, true") << "\nend\n"
      << "subsection Physics\n  set Model = transport\n  set Velocity = " << speed;
  if (dim == 2)
    out << "; " << 0.5 * speed;
  out << "\n  set Diffusion = " << eps << "\nend\n"
      << "subsection Initial density\n  set Expression = 1 + 0.5 * sin("
      << (dim == 1 ? "2 * pi * x" : "2 * pi * (x + y)") << ")\nend\n"
      << "subsection Exact solution\n  set Expression = 1 + 0.5 * sin("
      << (dim == 1 ? "2 * pi * (x - " : "2 * pi * (x + y - 1.5 * ") << speed << " * t)) * exp(-"
      << (dim == 1 ? "4 * pi^2" : "8 * pi^2") << " * " << eps << " * t)\nend\n"
      << "subsection Time\n  set End time = " << T << "\n"
      << time << "end\n"
      << "subsection Discretization\n  set Degree = " << degree << "\nend\n"
      << "subsection Output\n  set Interval = " << T / 2 << "\nend\n"
      << more;
  return out.str();
}

/**
 * Relative L2 errors at @p T on two meshes (BDF2 with @p dt halved with h, else SSP-RK3);
 * checks mass and outflow on the way.
 */
std::vector<double> errors_of(const unsigned int dim,
                              const unsigned int coarse,
                              const unsigned int degree,
                              const double       eps,
                              const double       dt,
                              const double       T     = 1,
                              const double       speed = 1)
{
  std::vector<double> errors;
  for (const unsigned int level : {0u, 1u})
    {
      const std::string time =
          dt > 0
              ? "  set Scheme = bdf2\n  set Time step = " + std::to_string(dt / (1 << level)) + "\n"
              : "  set Scheme = ssp-rk3\n";
      const RunResult r = run(wave(dim, coarse + level, degree, eps, T, time, "", speed));
      for (std::size_t row = 0; row < r.rows.size(); ++row)
        {
          EXPECT_NEAR(r.value(row, "mass"), 1, 1e-12) << dim << "D row " << row;
          EXPECT_NEAR(r.value(row, "outflow_mass"), 0, 1e-12) << dim << "D row " << row;
        }
      errors.push_back(r.last("l2_error"));
    }
  if (on_rank_zero())
    std::cout << "  " << dim << "D Q" << degree << " b = " << speed << " eps = " << eps
              << ": relative L2 error at T = " << T << ": " << errors[0] << ", " << errors[1]
              << " (order " << observed_order(errors[0], errors[1]) << ")" << std::endl;
  return errors;
}
} // namespace

// With walls instead of periodic faces (the mutation `at_wall` without the periodic test)
// the wave flows out: the mass falls to about 0.5-0.6 and the error is O(1).
TEST(PeriodicTransport, WaveComesBackThroughTheWall)
{
  {
    const std::vector<double> e = errors_of(1, 5, 2, 0, 0);
    EXPECT_GT(observed_order(e[0], e[1]), 2.7);
    EXPECT_LT(e[1], 5e-6);
  }
  {
    const std::vector<double> e = errors_of(2, 4, 1, 0, 0);
    EXPECT_GT(observed_order(e[0], e[1]), 1.7);
    EXPECT_LT(e[1], 4e-3);
  }
}

// SIPG across the periodic walls: the standing wave (b = 0) decays by diffusion alone,
// Q1 + BDF2. Without the SIPG terms on the periodic faces (walls there) the error is O(1).
// The moving, diffusing wave checks advection and diffusion together.
TEST(PeriodicTransport, WaveDiffusesAcrossTheWall)
{
  {
    const std::vector<double> e = errors_of(2, 4, 1, 0.05, 0.02, 0.25, 0);
    EXPECT_GT(observed_order(e[0], e[1]), 1.7);
    EXPECT_LT(e[1], 1.5e-3);
  }
  const std::vector<double> e = errors_of(2, 4, 1, 0.01, 0.02);
  EXPECT_GT(observed_order(e[0], e[1]), 1.7);
  EXPECT_LT(e[1], 1.5e-2);
}

TEST(PeriodicTransport, VelocityThatIsNotPeriodicIsRefused)
{
  const std::string prm = wave(2, 3, 1, 0, 0.1);
  const std::string shear =
      std::regex_replace(prm, std::regex("Velocity = 1; 0.5"), "Velocity = 1; 0.5 + x");
  try
    {
      run(shear);
      FAIL() << "a velocity that is not periodic was accepted";
    }
  catch (const InputError &error)
    {
      EXPECT_NE(std::string(error.what()).find("is not periodic"), std::string::npos)
          << error.what();
      EXPECT_NE(std::string(error.what()).find("Physics/Velocity"), std::string::npos)
          << error.what();
    }
}

// Flow-map particles move by b exactly (a constant velocity), wrapped into the box: the
// positions of a run to T = 1 and of one to T = 2 differ by b mod 1 in each direction,
// no particle is lost, and 1 and 2 ranks agree.
TEST(PeriodicTransport, FlowMapParticlesWrap)
{
  const std::string particles =
      "subsection Particles\n  set Number = 500\n  set Dynamics = flow-map\nend\n";
  std::map<std::uint64_t, Point<2>> at[2];
  RunResult                         result[2];
  for (const unsigned int k : {0u, 1u})
    {
      const ProblemParameters parameters = ProblemParameters::from_string(
          wave(2, 3, 1, 0, 1.0 + k, "  set Scheme = ssp-rk3\n", particles),
          {"Output/Write files=false"});
      std::ostringstream log;
      Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
      simulation.run();
      result[k] = result_of(simulation);
      at[k]     = gather_positions(*simulation.particle_systems().at(0));
    }
  ASSERT_EQ(at[0].size(), 500u);
  ASSERT_EQ(at[1].size(), 500u);
  const Tensor<1, 2> b({1.0, 0.5});
  for (const auto &[id, p] : at[0])
    {
      const Point<2> q = at[1].at(id);
      for (unsigned int d = 0; d < 2; ++d)
        {
          const double shift = q[d] - p[d] - b[d];
          EXPECT_NEAR(shift - std::round(shift), 0, 1e-9) << "id " << id << " direction " << d;
          EXPECT_GE(q[d], 0);
          EXPECT_LT(q[d], 1);
        }
    }
  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) != 2 || !on_rank_zero())
    return;
  const RunResult one =
      run(wave(2, 3, 1, 0, 2, "  set Scheme = ssp-rk3\n", particles), {}, MPI_COMM_SELF);
  expect_same_diagnostics(one, result[1]);
}

namespace
{
/**
 * The periodic bump 1 + exp(8 (cos 2 pi (x - 0.8) - 1) + 8 (cos 2 pi (y - 0.8) - 1)) (width
 * about 0.06, normalised) carried by b = (1, 0.5) on the unit torus to T = 0.5: it crosses x = 1
 * and y = 1. Q1, SSP-RK3; @p mesh is the Mesh subsection's body.
 */
std::string periodic_bump(const std::string &mesh)
{
  // Divided by its mass 1 + (I_0(8) e^-8)^2, so that rho0 has mass 1 as the run makes it.
  const auto bump = [](const std::string &x, const std::string &y) {
    return "(1 + exp(8 * (cos(2 * pi * (" + x + " - 0.8)) - 1) + 8 * (cos(2 * pi * (" + y +
           " - 0.8)) - 1))) / 1.0205726760466312";
  };
  return "set Dimension = 2\nsubsection Mesh\n  set Lower corner = 0, 0\n"
         "  set Upper corner = 1, 1\n  set Periodic = true, true\n" +
         mesh +
         "end\nsubsection Physics\n  set Model = transport\n  set Velocity = 1; 0.5\n  set "
         "Diffusion = 0\nend\n"
         "subsection Initial density\n  set Expression = " +
         bump("x", "y") +
         "\nend\nsubsection Exact solution\n  set Expression = " + bump("x - t", "y - 0.5 * t") +
         "\nend\nsubsection Time\n  set End time = 0.5\n  set Scheme = ssp-rk3\nend\n"
         "subsection Discretization\n  set Degree = 1\nend\n"
         "subsection Output\n  set Interval = 0.05\nend\n";
}

const std::string adapted_torus = "  set Refinement = 4\n  subsection Adaptivity\n"
                                  "    set Interval = 2\n    set Minimum level = 3\n"
                                  "    set Maximum level = 6\n    set Refine fraction = 0.3\n"
                                  "    set Coarsen fraction = 0.1\n  end\n";
} // namespace

// Hanging faces across the periodic walls (the bump's refined cells reach the walls while
// the cells beyond are coarser). Without the couplings across them in the matrix pattern
// PETSc drops their face terms: the mass leaves as "outflow". With deal.II's own flag
// preparation alone 2 ranks coarsened fewer families than 1 rank (3 to 6 cells more at the
// outputs).
TEST(PeriodicTransport, AdaptedMeshCarriesTheBumpAcrossTheWall)
{
  const RunResult adapted       = run(periodic_bump(adapted_torus));
  const RunResult finest        = run(periodic_bump("  set Refinement = 6\n"));
  const double    mass0         = adapted.value(0, "mass");
  double          largest_cells = 0;
  for (std::size_t row = 0; row < adapted.rows.size(); ++row)
    {
      EXPECT_NEAR(adapted.value(row, "mass"), mass0, 1e-12 * mass0) << "row " << row;
      EXPECT_NEAR(adapted.value(row, "outflow_mass"), 0, 1e-12) << "row " << row;
      largest_cells = std::max(largest_cells, adapted.value(row, "cells"));
    }
  if (on_rank_zero())
    std::cout << "  bump across the walls at T = 0.5: relative L2 error "
              << adapted.last("l2_error") << " on at most " << largest_cells
              << " cells (uniform level 6: " << finest.last("l2_error") << " on 4096)" << std::endl;
  // The adapted mesh holds the bump at the finest level: its error is that of uniform
  // level 6 (where the bump is, the same cells) up to the coarser far field's share.
  EXPECT_LT(adapted.last("l2_error"), 1.5 * finest.last("l2_error"));
  EXPECT_LT(largest_cells, 0.5 * 4096);
  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) != 2 || !on_rank_zero())
    return;
  expect_same_diagnostics(run(periodic_bump(adapted_torus), {}, MPI_COMM_SELF), adapted);
}

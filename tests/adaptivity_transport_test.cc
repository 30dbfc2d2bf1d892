// Adaptive meshes of the transport model's DG solver (Mesh/Adaptivity):
// - hanging faces: on a mesh refined in half of the box (a static mesh with hanging faces),
//   a constant density carried by a divergence-free velocity stays constant (each subface
//   assembled once and consistently), a compactly supported bump carried by a constant b
//   converges at the scheme's order under global refinement of that mesh and keeps its
//   mass, and SIPG diffusion across the hanging faces converges at order 2;
// - adaptation: the bump carried by b and adapted every few steps keeps its mass across
//   every adaptation (refining and coarsening), stays >= 0 with the limiter, and reaches
//   the error of the uniform mesh of the finest level with fewer cells; BDF2 with
//   diffusion carries its history over;
// - 1 and 2 ranks give the same diagnostics; what is not supported is refused.
#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/transport/transport_solver.h>

#include <deal.II/distributed/tria.h>

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <memory>
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

/** The bump (1 - r^2/R^2)^4 (r < R = 0.25; C^3, mass pi R^2 / 5) centred at (0.35, 0.35) + b t. */
std::string bump_expression(const std::string &t)
{
  const std::string r2 = "((x - 0.35 - " + t + ")^2 + (y - 0.35 - 0.5 * " + t + ")^2)";
  return "(" + r2 + " < 0.0625 ? (1 - " + r2 + " / 0.0625)^4 * 5 / (pi * 0.0625) : 0)";
}

/**
 * The bump carried by b = (1, 0.5) on the unit box to T (its exact solution; at T <= 0.3
 * nothing flows out), SSP-RK3; @p more is appended.
 */
std::string bump(const unsigned int refinement, const double T, const std::string &more = "")
{
  std::ostringstream out;
  out << "set Dimension = 2\n"
      << "subsection Mesh\n  set Lower corner = 0, 0\n  set Upper corner = 1, 1\n"
      << "  set Refinement = " << refinement << "\nend\n"
      << "subsection Physics\n  set Model = transport\n  set Velocity = 1; 0.5\n  set Diffusion = "
         "0\nend\n"
      << "subsection Initial density\n  set Expression = " << bump_expression("0") << "\nend\n"
      << "subsection Exact solution\n  set Expression = " << bump_expression("t") << "\nend\n"
      << "subsection Time\n  set End time = " << T << "\n  set Scheme = ssp-rk3\nend\n"
      << "subsection Output\n  set Interval = " << T << "\nend\n"
      << more;
  return out.str();
}

/** Adaptation every 4 steps between levels 3 and 6 by the jump indicator; @p more added. */
std::string adaptivity(const std::string &more = "")
{
  return "subsection Mesh\n subsection Adaptivity\n  set Interval = 4\n"
         "  set Minimum level = 3\n  set Maximum level = 6\n"
         "  set Refine fraction = 0.6\n  set Coarsen fraction = 0.05\n"
         "  set Initial cycles = 3\n" +
         more + " end\nend\n";
}

/** A transport solver on its own mesh (not run by Simulation), for the tests to step. */
struct SolverRun
{
  SolverRun(const std::string                             &prm,
            const std::vector<std::string>                &overrides,
            const std::function<void(Triangulation<2> &)> &refine = {})
      : parameters(ProblemParameters::from_string(prm, overrides))
      , mesh(parameters.mesh, parameters.discretization.degree, MPI_COMM_WORLD)
      , physics(parameters.physics, parameters.constants)
      , rho0(parameters.initial_density, physics.constants(), "Initial density/Expression")
      , exact(parameters.exact_solution, physics.constants(), "Exact solution/Expression")
  {
    if (refine)
      refine(mesh.triangulation());
    solver = std::make_unique<TransportSolver<2>>(
        mesh, physics, parameters.discretization, parameters.time, parameters.linear_solver);
    if (parameters.adaptivity.enabled())
      solver->enable_adaptivity(parameters.adaptivity, triangulation());
    solver->set_initial_density(rho0);
  }
  parallel::distributed::Triangulation<2> &triangulation()
  {
    return dynamic_cast<parallel::distributed::Triangulation<2> &>(mesh.triangulation());
  }
  DensityStatistics<2> statistics() const { return solver->statistics(&exact); }
  /** One step of the solver's own size, landing on @p T. */
  void step(const double T) { solver->advance(std::min(solver->time_step(), T - solver->time())); }

  ProblemParameters                   parameters;
  Mesh<2>                             mesh;
  Physics<2>                          physics;
  Expression<2>                       rho0, exact;
  std::unique_ptr<TransportSolver<2>> solver;
};

/** Refines the cells with x + y > 1 at their centre once: hanging faces along a staircase. */
void refine_upper_half(Triangulation<2> &triangulation)
{
  for (const auto &cell : triangulation.active_cell_iterators())
    if (cell->is_locally_owned() && cell->center()[0] + cell->center()[1] > 1)
      cell->set_refine_flag();
  triangulation.execute_coarsening_and_refinement();
}
} // namespace

// Free-stream preservation: rho = 1/4 on [-1, 1]^2 carried by the rotation b = (-y, x)
// with the inflow density 1/4 is a steady state of the exact equation and of the scheme on
// any mesh where the face integrals are consistent; on hanging faces that needs each
// subface once. (Measured: 1e-15; with the subfaces skipped, about 0.1.)
TEST(AdaptivityTransport, ConstantStaysConstantAcrossHangingFaces)
{
  for (const std::string degree : {"1", "2"})
    {
      const std::string prm =
          "set Dimension = 2\nsubsection Mesh\n  set Lower corner = -1, -1\n"
          "  set Upper corner = 1, 1\n  set Refinement = 3\nend\n"
          "subsection Physics\n  set Model = transport\n  set Velocity = -y; x\n"
          "  set Inflow density = 0.25\n  set Diffusion = 0\nend\n"
          "subsection Initial density\n  set Expression = 1\nend\n"
          "subsection Exact solution\n  set Expression = 0.25\nend\n"
          "subsection Time\n  set End time = 0.5\n  set Scheme = ssp-rk3\nend\n";
      SolverRun r(prm, {"Discretization/Degree=" + degree}, [](Triangulation<2> &t) {
        // Two levels of hanging faces: the first quadrant, then a disc in it.
        for (const auto &cell : t.active_cell_iterators())
          if (cell->is_locally_owned() && cell->center()[0] > 0 && cell->center()[1] > 0)
            cell->set_refine_flag();
        t.execute_coarsening_and_refinement();
        for (const auto &cell : t.active_cell_iterators())
          if (cell->is_locally_owned() && (cell->center() - Point<2>(0.5, 0.4)).norm() < 0.3)
            cell->set_refine_flag();
        t.execute_coarsening_and_refinement();
      });
      ASSERT_TRUE(r.mesh.triangulation().has_hanging_nodes());
      for (unsigned int k = 0; k < 20; ++k)
        r.step(0.5);
      const DensityStatistics<2> s = r.statistics();
      if (on_rank_zero())
        std::cout << "  Q" << degree
                  << ": relative L2 deviation from 1/4 after 20 steps: " << s.l2_error << std::endl;
      EXPECT_LT(s.l2_error, 1e-12) << "Q" << degree;
      EXPECT_NEAR(s.mass + s.outflow_mass, 1, 1e-12);
    }
}

// The bump carried by b = (1, 0.5) across the staircase of hanging faces (x + y = 1):
// relative L2 error at T = 0.3 of order p + 1 under global refinement of the pre-adapted
// mesh (Q1: > 1.7; Q2: > 2.7), mass + outflow 1 to round-off at every step (the outflow is
// what the scheme's tails carry to the walls).
TEST(AdaptivityTransport, OrderAcrossHangingFaces)
{
  for (const unsigned int degree : {1u, 2u})
    {
      std::vector<double> errors;
      for (const unsigned int level : {5u - degree, 6u - degree})
        {
          SolverRun r(bump(level, 0.3),
                      {"Discretization/Degree=" + std::to_string(degree)},
                      refine_upper_half);
          while (r.solver->time() < 0.3 - 1e-12)
            r.step(0.3);
          const DensityStatistics<2> s = r.statistics();
          EXPECT_NEAR(s.mass + s.outflow_mass, 1, 1e-12) << "Q" << degree << " level " << level;
          errors.push_back(s.l2_error);
        }
      const double order = observed_order(errors[0], errors[1]);
      if (on_rank_zero())
        std::cout << "  Q" << degree << " on the half-refined mesh: errors " << errors[0] << ", "
                  << errors[1] << " (order " << order << ")" << std::endl;
      EXPECT_GT(order, degree + 1 - 0.3) << "Q" << degree;
    }
}

// SIPG across hanging faces: the mode 1 + cos(pi x) cos(pi y) / 2 on the unit box with
// no-flux walls decays as exp(-2 pi^2 eps t) (b = 0, eps = 0.05), Q1 + BDF2 with h and dt
// halved together on the half-refined mesh: order 2 (> 1.7), mass 1 to round-off.
TEST(AdaptivityTransport, DiffusionAcrossHangingFaces)
{
  const std::string   mode = "1 + 0.5 * cos(pi * x) * cos(pi * y)";
  std::vector<double> errors;
  for (const unsigned int level : {3u, 4u})
    {
      const std::string prm =
          "set Dimension = 2\nsubsection Mesh\n  set Lower corner = 0, 0\n"
          "  set Upper corner = 1, 1\n  set Refinement = " +
          std::to_string(level) +
          "\nend\nsubsection Physics\n  set Model = transport\n  set Velocity = 0; 0\n"
          "  set Diffusion = 0.05\nend\n"
          "subsection Initial density\n  set Expression = " +
          mode +
          "\nend\nsubsection Exact solution\n  set Expression = 1 + 0.5 * cos(pi * x) * "
          "cos(pi * y) * exp(-2 * pi^2 * 0.05 * t)\nend\n"
          "subsection Time\n  set End time = 0.5\n  set Scheme = bdf2\n  set Time step = " +
          std::to_string(0.04 / (1 << level)) + "\nend\n";
      SolverRun r(prm, {}, refine_upper_half);
      while (r.solver->time() < 0.5 - 1e-12)
        r.step(0.5);
      const DensityStatistics<2> s = r.statistics();
      EXPECT_NEAR(s.mass, 1, 1e-12);
      errors.push_back(s.l2_error);
    }
  const double order = observed_order(errors[0], errors[1]);
  if (on_rank_zero())
    std::cout << "  SIPG Q1 + BDF2 on the half-refined mesh: errors " << errors[0] << ", "
              << errors[1] << " (order " << order << ")" << std::endl;
  EXPECT_GT(order, 1.7);
}

// The bump carried by b = (1, 0.5), Q1, SSP-RK3 with the limiter, adapted every 4 steps
// between levels 3 and 6 from 3 initial cycles: across every adaptation the mass is kept
// to 1e-12 (relative; refinement exact, coarsening the L2 projection, the limiter a
// scaling towards each cell's mean), rho_h >= 0 at the limiter's points after the transfer,
// and the mesh both refines and coarsens. At T the L2 error is within 1.3 of the uniform
// mesh of level 6 with fewer than half its cells.
TEST(AdaptivityTransport, BumpOnAnAdaptiveMesh)
{
  const double             T = 0.3;
  SolverRun                adaptive_run(bump(4, T, adaptivity()), {});
  types::global_cell_index refined = 0, coarsened = 0, adaptations = 0;
  std::ostringstream       cells;
  for (unsigned int step = 1; adaptive_run.solver->time() < T - 1e-12; ++step)
    {
      adaptive_run.step(T);
      if (step % 4 != 0)
        continue;
      const DensityStatistics<2> s = adaptive_run.statistics();
      EXPECT_NEAR(s.mass + s.outflow_mass, 1, 1e-12);
      const TransportAdaptationReport r = adaptive_run.solver->last_adaptation();
      EXPECT_NEAR(r.mass_after, r.mass_before, 1e-12 * r.mass_before);
      EXPECT_NEAR(r.mass_transferred, r.mass_before, 1e-12 * r.mass_before);
      EXPECT_GE(r.min_after, 0) << "adaptation " << adaptations;
      refined += r.refined;
      coarsened += r.coarsened;
      cells << " " << r.cells_after;
      ++adaptations;
    }
  const DensityStatistics<2> adaptive = adaptive_run.statistics();
  const auto cells_at_end             = adaptive_run.mesh.triangulation().n_global_active_cells();

  SolverRun uniform(bump(6, T), {});
  while (uniform.solver->time() < T - 1e-12)
    uniform.step(T);
  const double uniform_error = uniform.statistics().l2_error;
  if (on_rank_zero())
    std::cout << "  " << adaptations << " adaptations, cells" << cells.str() << "; " << refined
              << " refined, " << coarsened << " coarsened; L2 error at T " << adaptive.l2_error
              << " on " << cells_at_end << " cells against " << uniform_error
              << " on the uniform 4096; min rho_h " << adaptive.min_density << std::endl;
  EXPECT_GT(adaptations, 3u);
  EXPECT_GT(refined, 0u);
  EXPECT_GT(coarsened, 0u);
  EXPECT_LT(adaptive.l2_error, 1.3 * uniform_error);
  EXPECT_LT(cells_at_end, 2048u);
  EXPECT_GE(adaptive.min_density, 0);
}

// Mesh/Adaptivity/Stop time for the transport model: the bump on levels 3..6 (every 4
// steps) returns to the uniform level 4 of Mesh/Refinement at the first adaptation step at
// or after the stop time (two levels down, one per pass, and up from coarsened level-3
// cells), mass and outflow to round-off, and stays there.
TEST(AdaptivityTransport, StopTimeReturnsToTheRefinementLevel)
{
  const double             T = 0.3;
  SolverRun                run(bump(4, T, adaptivity("  set Stop time = 0.1\n")), {});
  types::global_cell_index largest_before = 0;
  bool                     returned       = false;
  for (unsigned int step = 1; run.solver->time() < T - 1e-12; ++step)
    {
      run.step(T);
      const DensityStatistics<2> s     = run.statistics();
      const auto                 cells = run.mesh.triangulation().n_global_active_cells();
      EXPECT_NEAR(s.mass + s.outflow_mass, 1, 1e-12);
      if (run.solver->time() < 0.1 - 1e-12)
        largest_before = std::max(largest_before, cells);
      else if (step % 4 == 0 || returned)
        {
          EXPECT_EQ(cells, 256u) << "step " << step;
          const TransportAdaptationReport r = run.solver->last_adaptation();
          EXPECT_NEAR(r.mass_after, r.mass_before, 1e-12 * r.mass_before) << "step " << step;
          returned = true;
        }
    }
  if (on_rank_zero())
    std::cout << "  largest mesh before the stop time " << largest_before << " cells" << std::endl;
  EXPECT_TRUE(returned);
  EXPECT_GT(largest_before, 256u);
}

// Q2 with the limiter on an adaptive mesh (levels 3..5, every 3 steps): the limiter's
// subface points keep the coarse cells' outflow through hanging faces >= 0, and the
// transfer is followed by the limiter, so rho_h >= 0 at the limiter's points after every
// adaptation and every step; the mass is kept across each adaptation to 1e-12.
TEST(AdaptivityTransport, PositivityQ2OnAnAdaptiveMesh)
{
  const double      T = 0.15;
  const std::string adapt =
      "subsection Mesh\n subsection Adaptivity\n  set Interval = 3\n"
      "  set Minimum level = 3\n  set Maximum level = 5\n"
      "  set Refine fraction = 0.6\n  set Coarsen fraction = 0.05\n end\nend\n"
      "subsection Discretization\n  set Degree = 2\nend\n";
  SolverRun q2(bump(4, T, adapt), {});
  double    smallest = std::numeric_limits<double>::infinity();
  for (unsigned int step = 1; q2.solver->time() < T - 1e-12; ++step)
    {
      q2.step(T);
      const DensityStatistics<2> s = q2.statistics();
      smallest                     = std::min(smallest, s.min_density);
      EXPECT_GE(s.min_density, 0) << "step " << step;
      EXPECT_NEAR(s.mass + s.outflow_mass, 1, 1e-12) << "step " << step;
      if (step % 3 == 0)
        {
          const TransportAdaptationReport r = q2.solver->last_adaptation();
          EXPECT_NEAR(r.mass_after, r.mass_before, 1e-12 * r.mass_before) << "step " << step;
          EXPECT_GE(r.min_after, 0) << "step " << step;
        }
    }
  const double error = q2.statistics().l2_error; // (collective)
  if (on_rank_zero())
    std::cout << "  Q2: smallest rho_h over the steps " << smallest << ", error at T " << error
              << " on " << q2.mesh.triangulation().n_global_active_cells() << " cells" << std::endl;
}

// BDF2 with diffusion on the adaptive mesh, run by Simulation (the `cells` column): the
// Gaussian N(c + b t, (s^2 + 2 eps t) I) carried and spread; BDF2's rho^{n-1} is carried
// over each adaptation. Mass + outflow 1 to 1e-12 at every output; the error within 1.3 of
// the uniform finest mesh's; 1 and 2 ranks give the same diagnostics (cells included).
TEST(AdaptivityTransport, DiffusionBdf2AndRanks)
{
  const std::string S = "(0.0025 + 0.004 * t)";
  const std::string gauss =
      "exp(-((x - 0.35 - t)^2 + (y - 0.35 - 0.5 * t)^2) / (2 * " + S + ")) / (2 * pi * " + S + ")";
  const auto prm = [&](const unsigned int refinement, const bool adaptive) {
    std::ostringstream out;
    out << "set Dimension = 2\nsubsection Mesh\n  set Lower corner = 0, 0\n"
        << "  set Upper corner = 1, 1\n  set Refinement = " << refinement << "\n";
    if (adaptive)
      out << " subsection Adaptivity\n  set Interval = 3\n  set Minimum level = 3\n"
          << "  set Maximum level = 5\n  set Refine fraction = 0.6\n"
          << "  set Coarsen fraction = 0.05\n end\n";
    out << "end\nsubsection Physics\n  set Model = transport\n  set Velocity = 1; 0.5\n"
        << "  set Diffusion = 0.002\nend\n"
        << "subsection Initial density\n  set Expression = " << gauss << "\nend\n"
        << "subsection Exact solution\n  set Expression = " << gauss << "\nend\n"
        << "subsection Time\n  set End time = 0.2\n  set Scheme = bdf2\n"
        << "  set Time step = 0.005\nend\n"
        << "subsection Output\n  set Interval = 0.05\nend\n"
        // GMRES with ILU per rank ends elsewhere on 1 and 2 ranks within its tolerance:
        // 1e-12, so that 1e-9 checks the ranks and not the tolerance (at 1e-10 min_density
        // differed by 1.1e-9).
        << "subsection Linear solver\n  set Tolerance = 1e-12\nend\n";
    return out.str();
  };
  const RunResult two = run(prm(4, true));
  for (std::size_t row = 0; row < two.rows.size(); ++row)
    EXPECT_NEAR(two.value(row, "mass") + two.value(row, "outflow_mass"), 1, 1e-12) << row;
  const RunResult uniform = run(prm(5, false));
  if (on_rank_zero())
    std::cout << "  BDF2, eps = 0.002: L2 error at T " << two.last("l2_error") << " on "
              << two.last("cells") << " cells against " << uniform.last("l2_error")
              << " on the uniform 1024" << std::endl;
  EXPECT_LT(two.last("l2_error"), 1.3 * uniform.last("l2_error"));
  EXPECT_LT(two.last("cells"), 512);
  if (Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) != 2)
    return;
  RunResult one;
  if (on_rank_zero())
    one = run(prm(4, true), {}, MPI_COMM_SELF);
  one.rows    = Utilities::MPI::broadcast(MPI_COMM_WORLD, one.rows, 0);
  one.columns = two.columns;
  expect_same_diagnostics(one, two);
}

// What the transport model's adaptivity does not support is refused with one InputError
// naming the parameter. (Particles on its adaptive meshes: adaptive_particles_test.)
TEST(AdaptivityTransport, RefusedInput)
{
  const auto refused = [](const std::string &prm, const std::vector<std::string> &overrides) {
    try
      {
        run(prm, overrides);
      }
    catch (const InputError &e)
      {
        return std::string(e.what());
      }
    return std::string("accepted");
  };
  const std::string adapt = "subsection Mesh\n subsection Adaptivity\n  set Interval = 2\n"
                            "  set Minimum level = 2\n  set Maximum level = 5\n end\nend\n";
  const std::string prm   = bump(3, 0.02, adapt);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"Mesh/Adaptivity/Indicator=kelly"}, "Indicator = kelly"},
      {{"Mesh/Adaptivity/Indicator=log-kelly"}, "Indicator = log-kelly"}};
  for (const auto &[overrides, expected] : cases)
    {
      const std::string message = refused(prm, overrides);
      EXPECT_NE(message.find("Mesh/Adaptivity"), std::string::npos) << message;
      EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
  // The jump indicator is the transport model's.
  const std::string fokker_planck =
      "set Dimension = 2\nsubsection Mesh\n set Lower corner = -4, -4\n set Upper corner = 4, 4\n"
      " set Refinement = 3\n" +
      adapt.substr(std::string("subsection Mesh\n").size()) +
      "subsection Physics\n set Potential = x^2 + y^2\n set Diffusion = 0.5\nend\n"
      "subsection Initial density\n set Expression = exp(-x^2 - y^2)\nend\n"
      "subsection Time\n set End time = 0.02\n set Time step = 0.01\nend\n";
  const std::string message = refused(fokker_planck, {"Mesh/Adaptivity/Indicator=jump"});
  EXPECT_NE(message.find("Mesh/Adaptivity/Indicator = jump"), std::string::npos) << message;
}

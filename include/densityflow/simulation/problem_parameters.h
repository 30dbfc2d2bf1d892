#pragma once

#include <densityflow/base/expression.h>
#include <densityflow/base/time_parameters.h>
#include <densityflow/distances/distances.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/adaptivity.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/output/checkpoint.h>
#include <densityflow/output/output_parameters.h>
#include <densityflow/output/regions.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/physics.h>
#include <densityflow/physics/velocity_grid.h>
#include <densityflow/solvers/discretization.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/path/density_path.h>

#include <deal.II/base/parameter_handler.h>

#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * Everything a problem file says: `Dimension`, `Constants`, and the subsections
 * Mesh, Physics, Initial density, Exact solution, Time, Discretization, Linear
 * solver and Output, each declared and parsed by the struct of the class that uses it.
 *
 * A problem is read from a .prm file; overrides "Section/Name=value" (the command
 * line's --set) are applied after it and checked like lines of the file.
 */
struct ProblemParameters
{
  /** The problem's name (the .prm file's name without extension). */
  std::string name = "problem";
  /** The folder of the .prm file: relative mesh paths start there. */
  std::string directory = ".";

  unsigned int   dimension = 2;
  Constants      constants;
  MeshParameters mesh;
  /** Mesh/Absorbing walls. */
  AbsorbingWallParameters absorbing_walls;
  AdaptivityParameters    adaptivity;
  PhysicsParameters       physics;
  /** Physics/Velocity grid. */
  VelocityGridParameters   velocity_grid;
  std::string              initial_density = "1";
  std::string              exact_solution;
  TimeParameters           time;
  DiscretizationParameters discretization;
  LinearSolverParameters   linear_solver;
  /** The density path of Physics/Model = path. */
  PathParameters path;
  /** The kernel and target of Physics/Model = interaction. */
  InteractionParameters interaction;
  OutputParameters      output;
  ParticleParameters    particles;
  DistanceParameters    distances;
  /** Diagnostics/Regions. */
  RegionParameters regions;
  /** Checkpoint/Interval. */
  CheckpointParameters checkpoint;

  /** The complete parameter file of this run, with every value in effect. */
  std::string effective_parameters;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);

  /** Reads @p filename and applies @p overrides. InputError on any bad line. */
  static ProblemParameters from_file(const std::string              &filename,
                                     const std::vector<std::string> &overrides = {});

  /** The same from the text of a parameter file (tests and tools). */
  static ProblemParameters from_string(const std::string              &text,
                                       const std::vector<std::string> &overrides = {},
                                       const std::string              &name      = "problem",
                                       const std::string              &directory = ".");

  /** Every parameter with its default and documentation, as a .prm file. */
  static std::string documentation();

  /** The folder the run writes to. */
  std::string output_directory() const;
};
} // namespace densityflow

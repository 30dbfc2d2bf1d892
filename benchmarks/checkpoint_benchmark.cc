// The checkpoint benchmark: the time to write a checkpoint (Checkpoint/Interval) and to
// read it back (--restart), and its size, for OU-2D with Q1 on a 1024 x 1024 mesh
// (1,050,625 DoFs) and 1e6 Langevin particles. Each number is the program's own
// report ("checkpoint: ... MB in X s", "restart: ... read in X s"); set-up, the step and
// the outputs are not part of them.
//
//   checkpoint_benchmark [REFINEMENT [PARTICLES]]   (default 10 and 1000000)
//   mpirun -np 2 checkpoint_benchmark
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

#include <deal.II/base/mpi.h>

#include <cstdio>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>

using namespace densityflow;

namespace
{
/** The first number after @p label in @p log's line that contains @p line. */
std::string reported(const std::string &log, const std::string &line, const std::string &label)
{
  std::smatch match;
  if (std::regex_search(log, match, std::regex(line + "[^\n]*" + label + "([0-9.e+-]+)")))
    return match[1];
  return "?";
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const MPI_Comm                   comm       = MPI_COMM_WORLD;
  const bool                       root       = Utilities::MPI::this_mpi_process(comm) == 0;
  const std::string                refinement = argc > 1 ? argv[1] : "10";
  const std::string                particles  = argc > 2 ? argv[2] : "1000000";
  const std::string                folder     = "checkpoint-benchmark-output";
  const std::string                prm =
      "set Dimension = 2\n"
      "subsection Mesh\n  set Lower corner = -4, -4\n  set Upper corner = 4, 4\n"
      "  set Refinement = " +
      refinement +
      "\nend\n"
      "subsection Physics\n  set Potential = (x^2 + y^2) / 2\n"
      "  set Potential gradient = x; y\n  set Diffusion = 0.5\nend\n"
      "subsection Initial density\n  set Expression = exp(-((x - 1)^2 + y^2) / 0.2)\nend\n"
      "subsection Time\n  set End time = 0.002\n  set Time step = 0.001\n"
      "  set Scheme = bdf2\nend\n"
      "subsection Output\n  set Directory = " +
      folder +
      "\n  set Interval = 0\nend\n"
      "subsection Particles\n  set Number = " +
      particles +
      "\n  set Dynamics = langevin\nend\n"
      "subsection Distances\n  set Floor samples = 0\n  set Projections = 10\nend\n"
      "subsection Checkpoint\n  set Interval = 1\nend\n";

  std::ostringstream write_log, read_log;
  {
    const ProblemParameters parameters = ProblemParameters::from_string(prm);
    Simulation<2>           simulation(parameters, comm, write_log);
    simulation.run();
  }
  {
    const ProblemParameters parameters = ProblemParameters::from_string(prm);
    Simulation<2>           simulation(parameters, comm, read_log, folder);
  }
  if (root)
    {
      const std::string log = write_log.str();
      std::cout << "OU-2D, Q1, refinement " << refinement << " (DoFs: see the solver line), "
                << particles << " Langevin particles, " << Utilities::MPI::n_mpi_processes(comm)
                << " rank(s)\n"
                << "  DoFs: " << reported(log, "solver:", "bdf2; ") << "\n"
                << "  write: " << reported(log, "checkpoint: t = 0.001", "in ") << " s (step 1), "
                << reported(log, "checkpoint: t = 0.002", "in ") << " s (step 2), size "
                << reported(log, "checkpoint: t = 0.002", "step 2, ") << " MB\n"
                << "  read:  " << reported(read_log.str(), "restart: checkpoint", "read in ")
                << " s (files) + " << reported(read_log.str(), "restart: from", "restored in ")
                << " s (state)" << std::endl;
    }
  return 0;
}

// densityflow: the command-line program.
#include <densityflow/exceptions.h>
#include <densityflow/parameters.h>
#include <densityflow/simulation.h>

#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace
{
const char *usage = R"(usage:
  densityflow PROBLEM.prm [--set "Section/Name=value"]...
      Solve the problem; output goes to Output/Directory (default output/PROBLEM/).
  densityflow compare PROBLEM.prm --particles FILE... [--time T] [--set ...]
      Solve the problem once and compare point ensembles written by any code (CSV with
      a header x[,y[,z]][,weight][,time] and a '# time = ...' line or a time column; or
      NumPy .npy arrays of shape (N, dim) at --time T) with the density: compare.csv.
  densityflow --print-parameters
      Print every parameter with its default and documentation.
  densityflow --help
PETSc options (e.g. -ksp_monitor, -log_view) may follow a "--".

Examples:
  densityflow problems/ou-2d.prm
  mpirun -np 2 densityflow problems/ou-2d.prm --set "Mesh/Refinement=6" --set "Time/Scheme=bdf2"
)";
}

int main(int argc, char **argv)
{
  using namespace densityflow;
  // One thread per rank: expressions are not thread-safe, and results stay reproducible.
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const MPI_Comm                           communicator = MPI_COMM_WORLD;
  const bool root = dealii::Utilities::MPI::this_mpi_process(communicator) == 0;

  try
    {
      std::vector<std::string> arguments(argv + 1, argv + argc);
      std::string              problem_file;
      std::vector<std::string> overrides, ensembles;
      std::optional<double>    time;
      const bool               compare = !arguments.empty() && arguments[0] == "compare";
      for (std::size_t i = compare ? 1 : 0; i < arguments.size(); ++i)
        {
          const std::string &a = arguments[i];
          if (a == "--help" || a == "-h")
            {
              if (root)
                std::cout << usage;
              return 0;
            }
          else if (a == "--print-parameters")
            {
              if (root)
                std::cout << ProblemParameters::documentation();
              return 0;
            }
          else if (a == "--set")
            {
              if (i + 1 == arguments.size())
                throw InputError("--set needs an argument \"Section/Name=value\".");
              overrides.push_back(arguments[++i]);
            }
          else if (a.rfind("--set=", 0) == 0)
            overrides.push_back(a.substr(6));
          else if (compare && a == "--particles")
            {
              while (i + 1 < arguments.size() && arguments[i + 1].rfind("-", 0) != 0)
                ensembles.push_back(arguments[++i]);
            }
          else if (compare && a == "--time")
            {
              if (i + 1 == arguments.size())
                throw InputError("--time needs a value.");
              try
                {
                  time = std::stod(arguments[++i]);
                }
              catch (const std::exception &)
                {
                  throw InputError("--time '" + arguments[i] + "' is not a number.");
                }
            }
          else if (a == "--")
            break; // what follows is for PETSc (-ksp_monitor, -log_view, ...)
          else if (a.rfind("-", 0) == 0)
            throw InputError("Unknown option '" + a + "'.\n" + usage);
          else if (problem_file.empty())
            problem_file = a;
          else
            throw InputError("More than one problem file: '" + problem_file + "' and '" + a + "'.");
        }
      if (problem_file.empty())
        throw InputError(std::string("No problem file given.\n") + usage);

      if (compare)
        {
          compare_problem(ProblemParameters::from_file(problem_file, overrides),
                          ensembles,
                          time,
                          communicator,
                          std::cout);
          return 0;
        }
      run_problem(ProblemParameters::from_file(problem_file, overrides), communicator, std::cout);
      return 0;
    }
  catch (const InputError &e)
    {
      // Every rank found the same error: report once, leave cleanly.
      if (root)
        std::cerr << "densityflow: error: " << e.what() << std::endl;
      return 1;
    }
  catch (const RunError &e)
    {
      if (root)
        std::cerr << "densityflow: the run failed: " << e.what() << std::endl;
      return 2;
    }
  catch (const dealii::ExceptionBase &e)
    {
      // Possibly on this rank only: report and stop all ranks, rather than hang.
      std::cerr << "densityflow: internal error on rank "
                << dealii::Utilities::MPI::this_mpi_process(communicator) << ": ";
      e.print_info(std::cerr);
      std::cerr << std::endl;
      MPI_Abort(communicator, 3);
    }
  catch (const std::exception &e)
    {
      std::cerr << "densityflow: internal error on rank "
                << dealii::Utilities::MPI::this_mpi_process(communicator) << ": " << e.what()
                << std::endl;
      MPI_Abort(communicator, 3);
    }
  return 3;
}

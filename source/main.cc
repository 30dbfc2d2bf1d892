// densityflow: the command-line program.
#include <densityflow/base/exceptions.h>
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

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
  densityflow PROBLEM.prm --restart DIR [--set ...]
      Continue the run in DIR from its checkpoint (DIR/checkpoint, written with
      Checkpoint/Interval > 0); Time/End time may be extended. Output continues in DIR.
  densityflow compare PROBLEM.prm --particles FILE... [--time T] [--particles FILE... [--time T]]... [--set ...]
      Solve the problem once and compare point ensembles written by any code (CSV with
      a header x[,y[,z]][,weight][,time] and a '# time = ...' line or a time column; or
      NumPy .npy arrays of shape (N, dim)) with the density: Output/Directory/compare/
      compare.csv. --time T is the time of the --particles files before it (and only
      of those); a file that carries its time needs no --time, and one given both is
      refused, as is a --time given twice.
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
      std::vector<std::string>  arguments(argv + 1, argv + argc);
      std::string               problem_file;
      std::vector<std::string>  overrides;
      std::vector<EnsembleFile> ensembles;
      std::string               restart;
      // The files of the last --particles, which a --time after them belongs to.
      std::size_t group_begin = 0;
      bool        have_group  = false;
      std::string group_time;
      const bool  compare = !arguments.empty() && arguments[0] == "compare";
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
          else if (!compare && a == "--restart")
            {
              if (i + 1 == arguments.size() || !restart.empty())
                throw InputError("--restart needs one folder: the Output/Directory of the run "
                                 "to continue.");
              restart = arguments[++i];
            }
          else if (compare && a == "--particles")
            {
              group_begin = ensembles.size();
              while (i + 1 < arguments.size() && arguments[i + 1].rfind("-", 0) != 0)
                ensembles.push_back({arguments[++i], std::nullopt});
              if (ensembles.size() == group_begin)
                throw InputError("--particles needs at least one file.");
              have_group = true;
              group_time.clear();
            }
          else if (compare && a == "--time")
            {
              if (i + 1 == arguments.size())
                throw InputError("--time needs a value.");
              const std::string text = arguments[++i];
              double            t    = 0;
              try
                {
                  std::size_t used = 0;
                  t                = std::stod(text, &used);
                  if (used != text.size())
                    throw std::invalid_argument(text);
                }
              catch (const std::exception &)
                {
                  throw InputError("--time '" + text + "' is not a number.");
                }
              if (!have_group)
                throw InputError("--time " + text +
                                 " comes before any --particles: it is the time of the "
                                 "--particles files before it, as in --particles a.npy --time 1 "
                                 "--particles b.npy --time 5.");
              std::string files;
              for (std::size_t k = group_begin; k < ensembles.size(); ++k)
                files += (k > group_begin ? ", " : "") + ensembles[k].file;
              if (!group_time.empty())
                throw InputError("two times for " + files + ": --time " + group_time +
                                 " and --time " + text +
                                 "; give one --time after the files it "
                                 "is for.");
              group_time = text;
              for (std::size_t k = group_begin; k < ensembles.size(); ++k)
                ensembles[k].time = t;
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
                          communicator,
                          std::cout);
          return 0;
        }
      run_problem(
          ProblemParameters::from_file(problem_file, overrides), communicator, std::cout, restart);
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

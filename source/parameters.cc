#include <densityflow/exceptions.h>
#include <densityflow/parameters.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace densityflow
{
namespace
{
/** deal.II's message of @p e on one line. */
std::string describe(const ExceptionBase &e)
{
  std::ostringstream out;
  e.print_info(out);
  std::istringstream words(out.str());
  std::string        word, line;
  while (words >> word)
    line += (line.empty() ? "" : " ") + word;
  return line;
}

Constants parse_constants(const std::string &text)
{
  Constants constants;
  for (const std::string &item : Utilities::split_string_list(text, ','))
    {
      const auto        equals = item.find('=');
      const std::string name =
          equals == std::string::npos ? "" : Utilities::trim(item.substr(0, equals));
      bool valid_name = !name.empty() && (std::isalpha(name[0]) || name[0] == '_');
      for (const char c : name)
        valid_name = valid_name && (std::isalnum(c) || c == '_');
      if (!valid_name)
        throw InputError("Constants = '" + text + "': '" + item +
                         "' is not of the form name = value.");
      const std::string value = Utilities::trim(item.substr(equals + 1));
      try
        {
          std::size_t used = 0;
          constants[name]  = std::stod(value, &used);
          if (used != value.size())
            throw std::invalid_argument(value);
        }
      catch (const std::exception &)
        {
          throw InputError("Constants = '" + text + "': the value of '" + name +
                           "' is not a number.");
        }
    }
  return constants;
}

void parse_overrides(ParameterHandler &prm, const std::vector<std::string> &overrides)
{
  for (const std::string &item : overrides)
    {
      const auto equals = item.find('=');
      if (equals == std::string::npos)
        throw InputError("--set '" + item + "': expected \"Section/Name=value\".");
      std::vector<std::string> path  = Utilities::split_string_list(item.substr(0, equals), '/');
      const std::string        value = Utilities::trim(item.substr(equals + 1));
      // Written as lines of a parameter file, an override gets the file's checks.
      std::string text;
      for (std::size_t i = 0; i + 1 < path.size(); ++i)
        text += "subsection " + path[i] + "\n";
      text += "set " + (path.empty() ? std::string() : path.back()) + " = " + value + "\n";
      for (std::size_t i = 0; i + 1 < path.size(); ++i)
        text += "end\n";
      try
        {
          prm.parse_input_from_string(text);
        }
      catch (const ExceptionBase &e)
        {
          std::string reason = describe(e);
          // The line number refers to the snippet above, which the user never saw.
          const auto colon = reason.find(">: ");
          if (reason.rfind("Line <", 0) == 0 && colon != std::string::npos)
            reason = reason.substr(colon + 3);
          throw InputError("--set '" + item + "': " + reason);
        }
    }
}

ProblemParameters parse(std::istream                   &input,
                        const std::string              &filename,
                        const std::vector<std::string> &overrides,
                        const std::string              &name,
                        const std::string              &directory)
{
  ParameterHandler prm;
  ProblemParameters::declare_parameters(prm);
  try
    {
      prm.parse_input(input, filename);
    }
  catch (const ExceptionBase &e)
    {
      throw InputError(describe(e));
    }
  parse_overrides(prm, overrides);

  ProblemParameters parameters;
  parameters.name      = name;
  parameters.directory = directory;
  parameters.parse_parameters(prm);
  std::ostringstream effective;
  prm.print_parameters(effective, ParameterHandler::PRM);
  parameters.effective_parameters = effective.str();
  return parameters;
}
} // namespace

void ProblemParameters::declare_parameters(ParameterHandler &prm)
{
  prm.declare_entry("Dimension", "2", Patterns::Integer(1, 3), "Space dimension: 1, 2 or 3.");
  prm.declare_entry("Constants",
                    "",
                    Patterns::Anything(),
                    "Named constants for all expressions, as 'a = 1, m = 0.5'. The "
                    "diffusion is always available as eps, and pi as pi.");
  MeshParameters::declare_parameters(prm);
  PhysicsParameters::declare_parameters(prm);
  prm.enter_subsection("Initial density");
  prm.declare_entry("Expression",
                    "1",
                    Patterns::Anything(),
                    "rho0 as an expression of x (y, z); non-negative, normalised to unit mass "
                    "on the mesh (the factor is reported).");
  prm.leave_subsection();
  prm.enter_subsection("Exact solution");
  prm.declare_entry("Expression",
                    "",
                    Patterns::Anything(),
                    "The exact density as an expression of x (y, z) and t, for the l2_error "
                    "column and the exact and error fields. Empty: none.");
  prm.leave_subsection();
  TimeParameters::declare_parameters(prm);
  DiscretizationParameters::declare_parameters(prm);
  LinearSolverParameters::declare_parameters(prm);
  OutputParameters::declare_parameters(prm);
  ParticleParameters::declare_parameters(prm);
  DistanceParameters::declare_parameters(prm);
  RegionParameters::declare_parameters(prm);
}

void ProblemParameters::parse_parameters(ParameterHandler &prm)
{
  dimension = prm.get_integer("Dimension");
  constants = parse_constants(prm.get("Constants"));
  mesh.parse_parameters(prm, directory);
  physics.parse_parameters(prm);
  prm.enter_subsection("Initial density");
  initial_density = prm.get("Expression");
  prm.leave_subsection();
  prm.enter_subsection("Exact solution");
  exact_solution = Utilities::trim(prm.get("Expression"));
  prm.leave_subsection();
  time.parse_parameters(prm);
  discretization.parse_parameters(prm);
  linear_solver.parse_parameters(prm);
  output.parse_parameters(prm);
  particles.parse_parameters(prm);
  distances.parse_parameters(prm);
  regions.parse_parameters(prm);
}

ProblemParameters ProblemParameters::from_file(const std::string              &filename,
                                               const std::vector<std::string> &overrides)
{
  std::ifstream input(filename);
  if (!input)
    throw InputError("Cannot open the problem file '" + filename + "'.");
  const std::filesystem::path path(filename);
  const std::string           directory =
      path.has_parent_path() ? path.parent_path().string() : std::string(".");
  return parse(input, filename, overrides, path.stem().string(), directory);
}

ProblemParameters ProblemParameters::from_string(const std::string              &text,
                                                 const std::vector<std::string> &overrides,
                                                 const std::string              &name,
                                                 const std::string              &directory)
{
  std::istringstream input(text);
  return parse(input, name, overrides, name, directory);
}

std::string ProblemParameters::documentation()
{
  ParameterHandler prm;
  declare_parameters(prm);
  std::ostringstream out;
  prm.print_parameters(out, ParameterHandler::PRM);
  return out.str();
}

std::string ProblemParameters::output_directory() const
{
  return output.directory.empty() ? "output/" + name : output.directory;
}
} // namespace densityflow

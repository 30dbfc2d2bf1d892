#include <densityflow/base/exceptions.h>
#include <densityflow/simulation/problem_parameters.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
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

/** The edit distance of @p a and @p b, ignoring case: how far a misspelling is. */
std::size_t edit_distance(const std::string &a, const std::string &b)
{
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    {
      std::size_t diagonal = row[0];
      row[0]               = i;
      for (std::size_t j = 1; j <= b.size(); ++j)
        {
          const std::size_t above = row[j];
          const bool        same  = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                            std::tolower(static_cast<unsigned char>(b[j - 1]));
          row[j]   = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
          diagonal = above;
        }
    }
  return row[b.size()];
}

/** The declared entries and subsections, by subsection path ("Mesh", "" at the top). */
struct DeclaredNames
{
  std::map<std::string, std::vector<std::string>> entries, subsections;
};

std::string join(const std::vector<std::string> &path)
{
  std::string text;
  for (const std::string &part : path)
    text += (text.empty() ? "" : "/") + part;
  return text;
}

/** Reads the names back from the parameter file of the defaults. */
DeclaredNames declared_names()
{
  ParameterHandler prm;
  ProblemParameters::declare_parameters(prm);
  std::ostringstream out;
  prm.print_parameters(out, ParameterHandler::ShortPRM);
  std::istringstream       lines(out.str());
  std::string              line;
  std::vector<std::string> path;
  DeclaredNames            names;
  while (std::getline(lines, line))
    {
      line = Utilities::trim(line);
      if (line.rfind("subsection ", 0) == 0)
        {
          const std::string name = Utilities::trim(line.substr(11));
          names.subsections[join(path)].push_back(name);
          path.push_back(name);
        }
      else if (line == "end" && !path.empty())
        path.pop_back();
      else if (line.rfind("set ", 0) == 0)
        names.entries[join(path)].push_back(Utilities::trim(line.substr(4, line.find('=') - 4)));
    }
  return names;
}

/** " Did you mean <A>?" for the nearest of @p candidates to @p name, or the list of them. */
std::string suggestion(const std::string &name, const std::vector<std::string> &candidates)
{
  if (candidates.empty())
    return "";
  std::size_t best = std::string::npos;
  for (const std::string &c : candidates)
    best = std::min(best, edit_distance(name, c));
  std::vector<std::string> nearest;
  for (const std::string &c : candidates)
    if (edit_distance(name, c) == best)
      nearest.push_back("<" + c + ">");
  if (best <= std::max<std::size_t>(2, name.size() / 3))
    {
      std::string text = " Did you mean " + nearest[0];
      for (std::size_t k = 1; k < nearest.size(); ++k)
        text += (k + 1 == nearest.size() ? " or " : ", ") + nearest[k];
      return text + "?";
    }
  std::string text = " The names there are:";
  for (std::size_t k = 0; k < candidates.size(); ++k)
    text += (k ? ", " : " ") + candidates[k];
  return text + ".";
}

/**
 * deal.II's message for an unknown entry or subsection, with the subsection it was
 * looked for in, the closing > that the subsection message lacks, and the nearest
 * declared names. @p path_at gives the subsection path in effect at a line.
 */
std::string
explain_unknown_name(const std::string                                           &reason,
                     const std::function<std::vector<std::string>(unsigned int)> &path_at)
{
  static const std::regex entry(
      R"(^Line <(\d+)> of file <(.*?)>: No entry with name <(.*?)> was declared[^.]*\.?)");
  static const std::regex subsection(
      R"(^Line <(\d+)> of file <(.*?): There is no such subsection to be entered: (.*)$)");
  std::smatch match;
  const bool  is_entry = std::regex_search(reason, match, entry);
  if (!is_entry && !std::regex_search(reason, match, subsection))
    return reason;
  const std::vector<std::string> path = path_at(std::stoul(match[1]));
  const std::string              name = Utilities::trim(match[3]);
  const std::string where      = path.empty() ? "at the top level" : "in subsection " + join(path);
  DeclaredNames     names      = declared_names();
  const auto       &candidates = (is_entry ? names.entries : names.subsections)[join(path)];
  const std::string prefix =
      "Line <" + std::string(match[1]) + "> of file <" + std::string(match[2]) + ">: ";
  if (is_entry)
    return prefix + "No entry with name <" + name + "> was declared " + where + "." +
           suggestion(name, candidates);
  return prefix + "There is no subsection <" + name + "> " + where + "." +
         suggestion(name, candidates);
}

/** The subsection path at each line of a parameter file's @p text (index 0: line 1). */
std::function<std::vector<std::string>(unsigned int)> subsection_paths(const std::string &text)
{
  std::vector<std::vector<std::string>> paths;
  std::vector<std::string>              path;
  std::istringstream                    lines(text);
  std::string                           line;
  while (std::getline(lines, line))
    {
      paths.push_back(path);
      line = Utilities::trim(line.substr(0, line.find('#')));
      std::istringstream words(line);
      std::string        first, rest, word;
      words >> first;
      while (words >> word)
        rest += (rest.empty() ? "" : " ") + word;
      if (first == "subsection")
        path.push_back(rest);
      else if (first == "end" && !path.empty())
        path.pop_back();
    }
  return [paths](const unsigned int line) {
    return line >= 1 && line <= paths.size() ? paths[line - 1] : std::vector<std::string>();
  };
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
          // The snippet's line L is inside the first L - 1 subsections of the path.
          const auto path_at = [&path](const unsigned int line) {
            const std::size_t depth =
                line == 0 || path.empty() ? 0 : std::min<std::size_t>(line, path.size()) - 1;
            return std::vector<std::string>(path.begin(), path.begin() + depth);
          };
          std::string reason = explain_unknown_name(describe(e), path_at);
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
  std::ostringstream text;
  text << input.rdbuf();
  try
    {
      std::istringstream lines(text.str());
      prm.parse_input(lines, filename);
    }
  catch (const ExceptionBase &e)
    {
      throw InputError(explain_unknown_name(describe(e), subsection_paths(text.str())));
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
  AbsorbingWallParameters::declare_parameters(prm);
  AdaptivityParameters::declare_parameters(prm);
  PhysicsParameters::declare_parameters(prm);
  VelocityGridParameters::declare_parameters(prm);
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
  PathParameters::declare_parameters(prm);
  InteractionParameters::declare_parameters(prm);
  OutputParameters::declare_parameters(prm);
  ParticleParameters::declare_parameters(prm);
  DistanceParameters::declare_parameters(prm);
  RegionParameters::declare_parameters(prm);
  CheckpointParameters::declare_parameters(prm);
}

void ProblemParameters::parse_parameters(ParameterHandler &prm)
{
  dimension = prm.get_integer("Dimension");
  constants = parse_constants(prm.get("Constants"));
  mesh.parse_parameters(prm, directory);
  absorbing_walls.parse_parameters(prm);
  adaptivity.parse_parameters(prm);
  adaptivity.set_refinement(mesh.refinement);
  physics.parse_parameters(prm, directory);
  velocity_grid.parse_parameters(prm, directory);
  if (!velocity_grid.file.empty() && physics.model != Model::transport)
    throw InputError("Physics/Velocity grid/File is for Model = transport (set Physics/Model = "
                     "transport).");
  if (!velocity_grid.file.empty() && !physics.velocity.empty())
    throw InputError("Physics/Velocity and Physics/Velocity grid/File both give the velocity w: "
                     "set one of them.");
  prm.enter_subsection("Initial density");
  initial_density = prm.get("Expression");
  prm.leave_subsection();
  prm.enter_subsection("Exact solution");
  exact_solution = Utilities::trim(prm.get("Expression"));
  prm.leave_subsection();
  time.parse_parameters(prm);
  if (time.bdf2_start == Bdf2Start::crank_nicolson && physics.model != Model::fokker_planck)
    throw InputError("Time/BDF2 start = crank-nicolson is implemented for Physics/Model = "
                     "fokker-planck only.");
  discretization.parse_parameters(prm, physics.model);
  linear_solver.parse_parameters(prm);
  path.parse_parameters(prm);
  interaction.parse_parameters(prm, directory);
  output.parse_parameters(prm);
  particles.parse_parameters(prm);
  distances.parse_parameters(prm);
  regions.parse_parameters(prm);
  checkpoint.parse_parameters(prm);
  // Flow-map particles of a path carry log-density by -div v_h, the Laplacian of phi_h,
  // which is zero for Q1 (not div v): refuse rather than carry a wrong density.
  const bool flow_map =
      std::find(particles.dynamics.begin(), particles.dynamics.end(), ParticleDynamics::flow_map) !=
      particles.dynamics.end();
  if (physics.model == Model::path && particles.number > 0 && flow_map && discretization.degree < 2)
    throw InputError("Particles/Dynamics = flow-map with Physics/Model = path carries "
                     "log-density by -div v_h, the Laplacian of the potential phi_h, which is "
                     "zero for Discretization/Degree = 1: set Degree = 2 or 3.");
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

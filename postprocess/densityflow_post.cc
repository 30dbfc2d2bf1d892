// densityflow-post: look at a densityflow run with VTK (see README, "Visualisation").
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "run_reader.h"
#include <unistd.h>

namespace
{
const char *usage =
    "usage: densityflow-post info RUN_DIR\n"
    "       densityflow-post render RUN_DIR [--time T | --all] [--size W,H] [--output FILE.png]\n"
    "                                       [--no-particles] [--particle-size PX]\n"
    "                                       [--every K] [--fit domain|density|X0,X1,Y0,Y1]\n"
    "       densityflow-post plot RUN_DIR [--columns a,b,...] [--size W,H] [--output-dir DIR]\n";

std::vector<std::string> split(const std::string &text, const char separator)
{
  std::vector<std::string> parts;
  std::string::size_type   begin = 0;
  while (true)
    {
      const auto end = text.find(separator, begin);
      parts.push_back(text.substr(begin, end - begin));
      if (end == std::string::npos)
        return parts;
      begin = end + 1;
    }
}

double parse_number(const std::string &option, const std::string &text)
{
  try
    {
      std::size_t  used  = 0;
      const double value = std::stod(text, &used);
      if (used == text.size())
        return value;
    }
  catch (const std::exception &)
    {}
  throw densityflow::PostError(option + ": '" + text + "' is not a number");
}

void parse_size(const std::string &text, int &width, int &height)
{
  const auto parts = split(text, ',');
  if (parts.size() != 2)
    throw densityflow::PostError("--size: '" + text + "' is not W,H");
  width  = static_cast<int>(parse_number("--size", parts[0]));
  height = static_cast<int>(parse_number("--size", parts[1]));
  if (width < 16 || height < 16 || width > 8192 || height > 8192)
    throw densityflow::PostError("--size: " + text + " is outside 16..8192 pixels");
}

/**
 * Debian's VTK renders through X only (no OSMesa, no EGL). Without a display, run this
 * same command again under xvfb-run, which starts a virtual X server for it and stops it
 * afterwards; say clearly when that is not possible.
 */
void ensure_display(char **argv)
{
  const char *display = std::getenv("DISPLAY");
  if (display != nullptr && *display != '\0')
    return;
  if (std::getenv("DENSITYFLOW_POST_UNDER_XVFB") != nullptr)
    throw densityflow::PostError("xvfb-run started, but DISPLAY is still unset");
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0)
    throw densityflow::PostError(
        "rendering needs an X display: DISPLAY is not set and xvfb-run is not installed "
        "(Debian: apt-get install xvfb), so no virtual one can be started");
  setenv("DENSITYFLOW_POST_UNDER_XVFB", "1", 1);
  // -a takes the first free display number from -n on: starting from one that depends on
  // the process id keeps concurrent commands from racing for the same number.
  static std::string  first_display = std::to_string(100 + getpid() % 800);
  std::vector<char *> arguments     = {const_cast<char *>("xvfb-run"),
                                       const_cast<char *>("-a"),
                                       const_cast<char *>("-n"),
                                       first_display.data(),
                                       const_cast<char *>("-s"),
                                       const_cast<char *>("-screen 0 1280x1024x24 -nolisten tcp")};
  for (char **a = argv; *a != nullptr; ++a)
    arguments.push_back(*a);
  arguments.push_back(nullptr);
  execvp("xvfb-run", arguments.data());
  throw densityflow::PostError(std::string("cannot start xvfb-run: ") + std::strerror(errno));
}
} // namespace

int main(int argc, char **argv)
{
  using namespace densityflow;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h")
    {
      std::cout << usage;
      return args.empty() ? 1 : 0;
    }
  try
    {
      capture_vtk_messages();
      const std::string command = args[0];
      if (args.size() < 2 || args[1].rfind("--", 0) == 0)
        throw PostError(command + ": RUN_DIR missing\n" + usage);
      const std::string run_directory = args[1];

      if (command == "info")
        {
          if (args.size() > 2)
            throw PostError("info: unexpected argument '" + args[2] + "'");
          return info_command(run_directory);
        }
      if (command == "render")
        {
          RenderOptions options;
          options.run_directory = run_directory;
          for (std::size_t i = 2; i < args.size(); ++i)
            {
              const bool has_value = i + 1 < args.size();
              if (args[i] == "--all")
                options.all = true;
              else if (args[i] == "--no-particles")
                options.particles = false;
              else if (args[i] == "--particle-size" && has_value)
                {
                  options.particle_size = parse_number("--particle-size", args[++i]);
                  if (!(options.particle_size >= 1 && options.particle_size <= 50))
                    throw PostError("--particle-size: must be in 1..50 pixels");
                }
              else if (args[i] == "--every" && has_value)
                {
                  const double every = parse_number("--every", args[++i]);
                  if (every < 1 || every != std::floor(every))
                    throw PostError("--every: must be a positive integer");
                  options.particle_every = static_cast<int>(every);
                }
              else if (args[i] == "--fit" && has_value)
                {
                  const std::string fit = args[++i];
                  if (fit == "density" || fit == "domain")
                    options.fit_density = fit == "density";
                  else
                    {
                      for (const auto &v : split(fit, ','))
                        options.fit_box.push_back(parse_number("--fit", v));
                      if (options.fit_box.size() != 4 || options.fit_box[1] <= options.fit_box[0] ||
                          options.fit_box[3] <= options.fit_box[2])
                        throw PostError("--fit: '" + fit +
                                        "' is not density, domain or a box X0,X1,Y0,Y1");
                    }
                }
              else if (args[i] == "--time" && has_value)
                {
                  options.time = parse_number("--time", args[++i]);
                  if (options.time < 0)
                    throw PostError("--time: must be >= 0");
                }
              else if (args[i] == "--size" && has_value)
                parse_size(args[++i], options.width, options.height);
              else if (args[i] == "--output" && has_value)
                options.output = args[++i];
              else
                throw PostError("render: unknown or incomplete option '" + args[i] + "'");
            }
          if (options.all && options.time >= 0)
            throw PostError("render: --time and --all exclude each other");
          check_run_directory(run_directory);
          ensure_display(argv);
          return render_command(options);
        }
      if (command == "plot")
        {
          PlotOptions options;
          options.run_directory = run_directory;
          for (std::size_t i = 2; i < args.size(); ++i)
            {
              const bool has_value = i + 1 < args.size();
              if (args[i] == "--columns" && has_value)
                options.columns = split(args[++i], ',');
              else if (args[i] == "--size" && has_value)
                parse_size(args[++i], options.width, options.height);
              else if (args[i] == "--output-dir" && has_value)
                options.output_directory = args[++i];
              else
                throw PostError("plot: unknown or incomplete option '" + args[i] + "'");
            }
          check_run_directory(run_directory);
          ensure_display(argv);
          return plot_command(options);
        }
      throw PostError("unknown command '" + command + "'\n" + usage);
    }
  catch (const PostError &error)
    {
      std::cerr << "densityflow-post: " << error.what() << std::endl;
      return 1;
    }
  catch (const std::exception &error)
    {
      std::cerr << "densityflow-post: " << error.what() << std::endl;
      return 2;
    }
}

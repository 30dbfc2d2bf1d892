#pragma once

#include <string>
#include <vector>

namespace densityflow
{
/** Options of `densityflow-post render`. */
struct RenderOptions
{
  std::string         run_directory;
  double              time  = -1;    ///< the snapshot nearest to it; < 0: the last one
  bool                all   = false; ///< one frame per snapshot
  int                 width = 800, height = 600;
  std::string         output;              ///< FILE.png; with --all, frames FILE_NNNNN.png
  bool                particles   = true;  ///< draw particles.pvd on top when the run has it
  bool                fit_density = false; ///< 2D: frame where rho > 1% of its peak, not the domain
  double              particle_size  = 2;  ///< the points' size in pixels
  int                 particle_every = 1;  ///< draw every k-th particle (in file order)
  std::vector<double> fit_box;             ///< 2D: frame this box (x0, x1, y0, y1) when given
};

/** Options of `densityflow-post plot`. */
struct PlotOptions
{
  std::string              run_directory;
  std::vector<std::string> columns; ///< empty: the default curves of each CSV
  int                      width = 900, height = 650;
  std::string              output_directory; ///< default: the run directory
};

/** `densityflow-post info`: per snapshot the arrays, their ranges and the integral of rho. */
int info_command(const std::string &run_directory);

/** `densityflow-post render`; prints what it wrote (and where the density's peak is drawn). */
int render_command(const RenderOptions &options);

/** `densityflow-post plot`: one PNG per CSV of the run (diagnostics, particles-vs-pde). */
int plot_command(const PlotOptions &options);
} // namespace densityflow

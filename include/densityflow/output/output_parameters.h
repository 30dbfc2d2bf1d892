#pragma once

#include <deal.II/base/parameter_handler.h>

#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/** The `Output` subsection. */
struct OutputParameters
{
  /** Where the run writes; empty: output/<problem name> in the working directory. */
  std::string directory;
  /** Simulated time between outputs; 0: only the first and the last. */
  double interval    = 0.1;
  bool   write_files = true;
  /** Keep the completed run a new run replaces in previous/ (else removed once the new one
   * completes). */
  bool keep_previous = false;
  /** Points per direction of the NumPy grid (GridOutput); empty: no grid. */
  std::vector<unsigned int> grid;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};
} // namespace densityflow

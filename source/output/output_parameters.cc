#include <densityflow/output/output_parameters.h>

namespace densityflow
{
void OutputParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Output");
  prm.declare_entry("Directory",
                    "",
                    Patterns::Anything(),
                    "Folder for density.pvd, diagnostics.csv and the rest. Empty: "
                    "output/<name of the .prm file> in the working directory.");
  prm.declare_entry("Interval",
                    "0.1",
                    Patterns::Double(0),
                    "Simulated time between outputs (rounded to whole time steps); 0: only "
                    "the initial and the final state.");
  prm.declare_entry("Write files",
                    "true",
                    Patterns::Bool(),
                    "Write the output files; false keeps diagnostics in memory and on "
                    "screen only (for sweeps).");
  prm.declare_entry("Keep previous run",
                    "false",
                    Patterns::Bool(),
                    "A run moves the files of a completed run already in the folder to "
                    "previous/ (and puts them back if it fails). false: previous/ is "
                    "removed once the new run completes; true: it is kept, so the last two "
                    "completed runs are there.");
  prm.declare_entry("Grid",
                    "",
                    Patterns::List(Patterns::Integer(1), 0, 3),
                    "Points per direction of a regular grid, one count per dimension (e.g. "
                    "'256, 256'), on which rho_h and the probability-flow velocity are "
                    "written at every output as grid_rho_NNNNN.npy and "
                    "grid_velocity_NNNNN.npy (NumPy), described by grid.json. The grid is "
                    "cell-centred on the mesh's bounding box; points in no cell are NaN. "
                    "Empty: no grid.");
  prm.leave_subsection();
}

void OutputParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Output");
  directory     = prm.get("Directory");
  interval      = prm.get_double("Interval");
  write_files   = prm.get_bool("Write files");
  keep_previous = prm.get_bool("Keep previous run");
  grid.clear();
  for (const std::string &count : Utilities::split_string_list(prm.get("Grid"), ','))
    grid.push_back(std::stoul(count));
  prm.leave_subsection();
}
} // namespace densityflow

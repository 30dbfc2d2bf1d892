#include <densityflow/distances/distances.h>
#include <densityflow/simulation/run_report.h>
#include <densityflow/simulation/simulation.h>

#include <iomanip>
#include <sstream>

namespace densityflow
{
void print_distance_table(std::ostream                         &out,
                          const std::vector<EnsembleDistances> &distances,
                          const unsigned int                    dim,
                          const std::vector<std::string>       &regions)
{
  const std::vector<std::string> columns    = distance_columns(dim, regions);
  std::size_t                    name_width = 0;
  for (const std::string &name : columns)
    name_width = std::max(name_width, name.size());
  for (std::size_t first = 0; first < distances.size(); first += 6)
    {
      std::vector<std::vector<std::string>> rows;
      std::size_t                           width = 12;
      for (std::size_t k = first; k < std::min(first + 6, distances.size()); ++k)
        {
          rows.push_back(distance_row(distances[k], dim));
          width = std::max(width, rows.back()[1].size() + 2);
        }
      for (std::size_t c = 0; c < columns.size(); ++c)
        {
          out << "  " << std::left << std::setw(name_width) << columns[c] << std::right;
          for (const auto &row : rows)
            {
              std::ostringstream cell;
              // Counts and words as they are, other numbers with 4 digits.
              std::size_t end   = 0;
              double      value = 0;
              try
                {
                  value = std::stod(row[c], &end);
                }
              catch (const std::exception &)
                {
                  end = 0;
                }
              if (row[c].empty())
                cell << "-";
              else if (end != row[c].size() || row[c].find_first_of(".e") == std::string::npos)
                cell << row[c];
              else
                cell << std::scientific << std::setprecision(3) << value;
              out << std::setw(width) << cell.str();
            }
          out << std::endl;
        }
    }
}

std::string timing_summary(const RunTiming &timing, const unsigned long n_dofs)
{
  const unsigned int n_steps = std::max(timing.n_steps, 1u);
  std::ostringstream line;
  line << std::scientific << std::setprecision(3) << "timing: setup " << timing.setup_seconds
       << " s; " << timing.n_steps << " steps in " << timing.solve_seconds << " s ("
       << timing.solve_seconds / n_steps << " s/step, "
       << double(timing.linear_iterations) / n_steps << " linear iterations/step, "
       << double(n_dofs) * n_steps / timing.solve_seconds << " DoF-steps/s); distances "
       << timing.distance_seconds << " s; particles " << timing.particle_seconds
       << " s; output and diagnostics " << timing.output_seconds << " s; total "
       << timing.total_seconds << " s";
  return line.str();
}
} // namespace densityflow

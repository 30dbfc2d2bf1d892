#include <vtkDataArray.h>
#include <vtkPointData.h>
#include <vtkUnstructuredGrid.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "run_reader.h"

namespace densityflow
{
namespace
{
/** Prints every point array with its range (of the magnitude for vectors). */
void print_arrays(vtkUnstructuredGrid &grid)
{
  vtkPointData *data = grid.GetPointData();
  for (int a = 0; a < data->GetNumberOfArrays(); ++a)
    {
      vtkDataArray *array = data->GetArray(a);
      if (array == nullptr || array->GetName() == nullptr)
        continue;
      const int components = array->GetNumberOfComponents();
      double    low = INFINITY, high = -INFINITY;
      vtkIdType non_finite = 0;
      for (vtkIdType i = 0; i < array->GetNumberOfTuples(); ++i)
        {
          double value  = 0;
          bool   finite = true;
          for (int c = 0; c < components; ++c)
            {
              const double x = array->GetComponent(i, c);
              finite         = finite && std::isfinite(x);
              value += components == 1 ? x : x * x;
            }
          if (!finite)
            {
              ++non_finite;
              continue;
            }
          if (components > 1)
            value = std::sqrt(value);
          low  = std::min(low, value);
          high = std::max(high, value);
        }
      if (low <= high)
        std::printf("  %-14s %s [%.9g, %.9g]",
                    array->GetName(),
                    components == 1 ? "      " : "|.| in",
                    low,
                    high);
      else
        std::printf("  %-14s no finite value", array->GetName());
      if (non_finite > 0)
        std::printf("  non-finite: %lld of %lld",
                    static_cast<long long>(non_finite),
                    static_cast<long long>(array->GetNumberOfTuples()));
      std::printf("\n");
    }
}
} // namespace

int info_command(const std::string &run_directory)
{
  check_run_directory(run_directory);
  for (const std::string series : {"density", "particles"})
    {
      const std::string pvd = run_directory + "/" + series + ".pvd";
      if (series == "particles" && !std::filesystem::exists(pvd))
        continue;
      const auto snapshots = read_pvd(pvd);
      std::printf("%s.pvd: %zu snapshots\n", series.c_str(), snapshots.size());
      for (const auto &snapshot : snapshots)
        {
          auto grid = read_pvtu(run_directory + "/" + snapshot.file);
          std::printf("%s t = %.9g (%s): %lld cells, %lld points\n",
                      series.c_str(),
                      snapshot.time,
                      snapshot.file.c_str(),
                      static_cast<long long>(grid->GetNumberOfCells()),
                      static_cast<long long>(grid->GetNumberOfPoints()));
          print_arrays(*grid);
          if (series == "density")
            {
              std::printf("  integral of rho = %.12e\n", integrate(*grid, "rho"));
              if (grid->GetPointData()->GetArray("rho_cell_mean") != nullptr)
                std::printf("  integral of rho_cell_mean = %.12e\n",
                            integrate(*grid, "rho_cell_mean"));
            }
        }
    }
  return 0;
}
} // namespace densityflow

#include "style.h"

#include <vtkColorTransferFunction.h>
#include <vtkLookupTable.h>

#include <cmath>

namespace densityflow
{
namespace
{
// matplotlib's viridis at 0, 1/8, ..., 1 (and 15/16, where it turns from green to yellow).
constexpr double viridis[][4] = {{0.0, 0.267004, 0.004874, 0.329415},
                                 {0.125, 0.282623, 0.140926, 0.457517},
                                 {0.25, 0.253935, 0.265254, 0.529983},
                                 {0.375, 0.206756, 0.371758, 0.553117},
                                 {0.5, 0.163625, 0.471133, 0.558148},
                                 {0.625, 0.127568, 0.566949, 0.550556},
                                 {0.75, 0.134692, 0.658636, 0.517649},
                                 {0.875, 0.266941, 0.748751, 0.440573},
                                 {0.9375, 0.565498, 0.842430, 0.262877},
                                 {1.0, 0.993248, 0.906157, 0.143936}};

// Particle systems: red, white, orange, cyan, magenta, black (then again).
constexpr double systems[][3] = {{0.89, 0.10, 0.11},
                                 {1.0, 1.0, 1.0},
                                 {1.0, 0.55, 0.0},
                                 {0.0, 0.9, 1.0},
                                 {0.9, 0.2, 0.9},
                                 {0.0, 0.0, 0.0}};
} // namespace

vtkSmartPointer<vtkLookupTable> make_density_lookup_table()
{
  vtkNew<vtkColorTransferFunction> function;
  for (const auto &point : viridis)
    function->AddRGBPoint(point[0], point[1], point[2], point[3]);
  auto table = vtkSmartPointer<vtkLookupTable>::New();
  table->SetNumberOfTableValues(256);
  for (int i = 0; i < 256; ++i)
    {
      double rgb[3];
      function->GetColor(i / 255.0, rgb);
      table->SetTableValue(i, rgb[0], rgb[1], rgb[2], 1.0);
    }
  table->Build();
  return table;
}

std::array<unsigned char, 3> density_top_colour()
{
  const auto &top = viridis[std::size(viridis) - 1];
  return {static_cast<unsigned char>(std::lround(255 * top[1])),
          static_cast<unsigned char>(std::lround(255 * top[2])),
          static_cast<unsigned char>(std::lround(255 * top[3]))};
}

vtkSmartPointer<vtkLookupTable> make_system_lookup_table(const std::size_t n)
{
  auto table = vtkSmartPointer<vtkLookupTable>::New();
  table->SetNumberOfTableValues(n);
  for (std::size_t i = 0; i < n; ++i)
    {
      const auto &c = systems[i % std::size(systems)];
      table->SetTableValue(i, c[0], c[1], c[2], 1.0);
    }
  table->SetRange(-0.5, n - 0.5);
  table->Build();
  return table;
}

std::array<double, 3> series_colour(const std::size_t i)
{
  // For curves on white: the particle colours with white replaced by blue.
  constexpr double curves[][3] = {{0.89, 0.10, 0.11},
                                  {0.12, 0.47, 0.71},
                                  {1.0, 0.5, 0.0},
                                  {0.17, 0.63, 0.17},
                                  {0.58, 0.40, 0.74},
                                  {0.0, 0.0, 0.0}};
  const auto      &c           = curves[i % std::size(curves)];
  return {c[0], c[1], c[2]};
}
} // namespace densityflow

#pragma once

#include <vtkSmartPointer.h>

#include <array>
#include <cstddef>

class vtkLookupTable;

namespace densityflow
{
/** The density's colour map (viridis, 256 entries): low purple, high yellow. */
vtkSmartPointer<vtkLookupTable> make_density_lookup_table();

/** The colour map's top colour, 8-bit RGB: the colour of the density's peak. */
std::array<unsigned char, 3> density_top_colour();

/** Distinct colours for particle systems 0..n-1, readable on top of viridis. */
vtkSmartPointer<vtkLookupTable> make_system_lookup_table(std::size_t n);

/** The RGB colour (0..1) of curve/system @p i in plots and legends. */
std::array<double, 3> series_colour(std::size_t i);
} // namespace densityflow

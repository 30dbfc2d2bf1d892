#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace densityflow
{
/**
 * Writes @p values as a NumPy .npy file (format 1.0) of little-endian float64 with
 * the shape @p shape, C order (the last index varies fastest): what np.load reads.
 * std::runtime_error if the file cannot be written (on the calling rank only); the
 * product of @p shape must be values.size().
 */
void write_npy(const std::string              &file,
               const std::vector<double>      &values,
               const std::vector<std::size_t> &shape);
} // namespace densityflow

#include <densityflow/base/npy.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <numeric>
#include <stdexcept>

namespace densityflow
{
void write_npy(const std::string              &file,
               const std::vector<double>      &values,
               const std::vector<std::size_t> &shape)
{
  const std::size_t n =
      std::accumulate(shape.begin(), shape.end(), std::size_t(1), std::multiplies<>());
  if (n != values.size())
    throw std::logic_error("write_npy: shape and number of values differ");
  std::string extents;
  for (const std::size_t e : shape)
    extents += std::to_string(e) + ", ";
  // As NumPy writes it: (3,) for one dimension, (3, 4) otherwise.
  if (!shape.empty())
    extents.resize(extents.size() - (shape.size() == 1 ? 1 : 2));
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + extents + "), }";
  // Padded with spaces and a newline so that the data start at a multiple of 64 bytes.
  const std::size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::ofstream out(file, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t length = header.size();
  out.put(static_cast<char>(length & 0xff));
  out.put(static_cast<char>(length >> 8));
  out.write(header.data(), header.size());
  // x86 and ARM are little-endian, as '<f8' says.
  out.write(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(double));
  if (!out)
    throw std::runtime_error("cannot write '" + file + "'");
}
} // namespace densityflow

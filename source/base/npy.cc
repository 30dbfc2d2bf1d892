#include <densityflow/base/exceptions.h>
#include <densityflow/base/npy.h>

#include <deal.II/base/utilities.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>
#include <regex>
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

std::size_t NpyHeader::size() const
{
  return std::accumulate(shape.begin(), shape.end(), std::size_t(1), std::multiplies<>());
}

NpyHeader read_npy_header(std::istream &in, const std::string &file)
{
  char magic[6];
  in.read(magic, 6);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw InputError(file + ": not a NumPy .npy file (no \\x93NUMPY magic).");
  unsigned char version[2];
  in.read(reinterpret_cast<char *>(version), 2);
  std::uint32_t header_length = 0;
  if (version[0] == 1)
    {
      unsigned char bytes[2];
      in.read(reinterpret_cast<char *>(bytes), 2);
      header_length = bytes[0] | (bytes[1] << 8);
    }
  else
    {
      unsigned char bytes[4];
      in.read(reinterpret_cast<char *>(bytes), 4);
      header_length =
          bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (std::uint32_t(bytes[3]) << 24);
    }
  // A corrupt length must not allocate gigabytes: real headers are a few hundred bytes.
  if (!in || header_length > (1u << 20))
    throw InputError(file + ": the .npy header is cut short.");
  std::string header(header_length, ' ');
  in.read(&header[0], header_length);
  if (!in)
    throw InputError(file + ": the .npy header is cut short.");

  std::smatch descr, order, shape;
  if (!std::regex_search(header, descr, std::regex(R"('descr'\s*:\s*'([<>|=])([fi])(\d+)')")) ||
      !std::regex_search(header, order, std::regex(R"('fortran_order'\s*:\s*(True|False))")) ||
      !std::regex_search(header, shape, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    throw InputError(file + ": cannot read the .npy header '" + header + "'.");
  const std::string kind = descr[2], bytes = descr[3];
  if (kind != "f" || (bytes != "8" && bytes != "4") || descr[1] == ">")
    throw InputError(file + ": the array holds '" + std::string(descr[1]) + kind + bytes +
                     "'; densityflow reads little-endian float64 or float32.");
  NpyHeader result;
  result.shape_text    = shape[1];
  result.fortran_order = std::string(order[1]) == "True";
  result.bytes         = bytes == "8" ? 8 : 4;
  for (const std::string &e : dealii::Utilities::split_string_list(result.shape_text, ','))
    if (!dealii::Utilities::trim(e).empty())
      result.shape.push_back(std::stoull(dealii::Utilities::trim(e)));
  return result;
}

std::vector<double>
read_npy_values(std::istream &in, const NpyHeader &header, const std::string &file)
{
  std::vector<double> values(header.size());
  if (header.bytes == 8)
    in.read(reinterpret_cast<char *>(values.data()), values.size() * sizeof(double));
  else
    {
      std::vector<float> single(values.size());
      in.read(reinterpret_cast<char *>(single.data()), single.size() * sizeof(float));
      std::copy(single.begin(), single.end(), values.begin());
    }
  if (!in)
    throw InputError(file + ": the file is shorter than its shape (" + header.shape_text +
                     ") says.");
  return values;
}

NpyArray read_npy(const std::string &file)
{
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw InputError(file + ": cannot open the file.");
  const NpyHeader header = read_npy_header(in, file);
  NpyArray        array{header.shape, header.shape_text, read_npy_values(in, header, file)};
  if (header.fortran_order && header.shape.size() > 1)
    {
      // Walks the C-order multi-index and finds each value at its Fortran-order place.
      const std::size_t        rank = header.shape.size();
      std::vector<std::size_t> stride(rank, 1), index(rank, 0);
      for (std::size_t k = 1; k < rank; ++k)
        stride[k] = stride[k - 1] * header.shape[k - 1];
      std::vector<double> c_order(array.values.size());
      for (std::size_t c = 0; c < c_order.size(); ++c)
        {
          std::size_t f = 0;
          for (std::size_t k = 0; k < rank; ++k)
            f += index[k] * stride[k];
          c_order[c] = array.values[f];
          for (std::size_t k = rank; k-- > 0;)
            if (++index[k] < header.shape[k])
              break;
            else
              index[k] = 0;
        }
      array.values = std::move(c_order);
    }
  return array;
}
} // namespace densityflow

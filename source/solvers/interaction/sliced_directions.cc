#include <densityflow/solvers/interaction/sliced_directions.h>

#include <cmath>
#include <random>

namespace densityflow
{
namespace
{
/** A uniform number in [0, 1) from the raw 64 bits (the same on every standard library). */
double uniform(std::mt19937_64 &random)
{
  return static_cast<double>(random() >> 11) * 0x1.0p-53;
}

/** A standard normal number by Box-Muller (portable, unlike std::normal_distribution). */
double normal(std::mt19937_64 &random)
{
  const double u = 1 - uniform(random), v = uniform(random);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
}
} // namespace

double slicing_constant(const unsigned int dim)
{
  return dim == 1 ? 1 : dim == 2 ? M_PI / 2 : 2;
}

template <int dim>
std::vector<Tensor<1, dim>> sliced_directions(const SlicingParameters &slicing)
{
  std::vector<Tensor<1, dim>> directions;
  if constexpr (dim == 1)
    {
      Tensor<1, dim> e;
      e[0] = 1;
      directions.push_back(e);
      return directions;
    }
  std::mt19937_64    random(slicing.seed);
  const unsigned int K = slicing.directions / slicing.sets;
  for (unsigned int s = 0; s < slicing.sets; ++s)
    {
      if constexpr (dim == 2)
        {
          const double offset = uniform(random);
          for (unsigned int k = 0; k < K; ++k)
            {
              const double   angle = M_PI * (k + offset) / K;
              Tensor<1, dim> theta;
              theta[0] = std::cos(angle), theta[1] = std::sin(angle);
              directions.push_back(theta);
            }
        }
      else
        {
          // A uniform rotation: the unit quaternion of four normal numbers.
          double q[4], norm = 0;
          for (double &c : q)
            c = normal(random), norm += c * c;
          norm = std::sqrt(norm);
          for (double &c : q)
            c /= norm;
          const double w = q[0], x = q[1], y = q[2], z = q[3];
          const double rotation[3][3] = {
              {1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
              {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
              {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}};
          const double golden = M_PI * (3 - std::sqrt(5.0));
          for (unsigned int k = 0; k < K; ++k)
            {
              const double h = 1 - (2 * k + 1.0) / K, radius = std::sqrt(1 - h * h);
              const double p[3] = {radius * std::cos(golden * k), radius * std::sin(golden * k), h};
              Tensor<1, dim> theta;
              for (unsigned int i = 0; i < dim; ++i)
                for (unsigned int j = 0; j < 3; ++j)
                  theta[i] += rotation[i][j] * p[j];
              directions.push_back(theta / theta.norm());
            }
        }
    }
  return directions;
}

template std::vector<Tensor<1, 1>> sliced_directions<1>(const SlicingParameters &);
template std::vector<Tensor<1, 2>> sliced_directions<2>(const SlicingParameters &);
template std::vector<Tensor<1, 3>> sliced_directions<3>(const SlicingParameters &);
} // namespace densityflow

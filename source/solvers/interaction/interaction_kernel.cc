#include <densityflow/solvers/interaction/interaction_kernel.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace densityflow
{
RadialKernel::RadialKernel(const InteractionParameters &parameters)
    : kind(parameters.kernel)
{
  switch (kind)
    {
      case InteractionKernel::riesz:
        first = parameters.exponent;
        break;
      case InteractionKernel::gaussian:
        first = parameters.width;
        break;
      case InteractionKernel::attractive_repulsive:
        first  = parameters.attractive_exponent;
        second = parameters.repulsive_exponent;
        break;
    }
}

RadialKernel RadialKernel::riesz(const double r)
{
  RadialKernel kernel;
  kernel.first = r;
  return kernel;
}

InteractionKernel RadialKernel::type() const
{
  return kind;
}

double RadialKernel::riesz_exponent() const
{
  return kind == InteractionKernel::riesz ? first : std::numeric_limits<double>::quiet_NaN();
}

double RadialKernel::value(const double n) const
{
  switch (kind)
    {
      case InteractionKernel::riesz:
        return -std::pow(n, first);
      case InteractionKernel::gaussian:
        return std::exp(-n * n / (2 * first * first));
      case InteractionKernel::attractive_repulsive:
        return std::pow(n, first) / first - (second > 0 ? std::pow(n, second) / second : 0.0);
    }
  return 0;
}

double RadialKernel::velocity_factor(const double n) const
{
  switch (kind)
    {
      case InteractionKernel::riesz:
        return first * std::pow(n, first - 2);
      case InteractionKernel::gaussian:
        return std::exp(-n * n / (2 * first * first)) / (first * first);
      case InteractionKernel::attractive_repulsive:
        // b = 1 and a = 2 (the usual pair) without pow: it is most of the cost of direct sums.
        return (second == 1  ? 1 / n
                : second > 0 ? std::pow(n, second - 2)
                             : 0.0) -
               (first == 2 ? 1.0 : std::pow(n, first - 2));
    }
  return 0;
}

std::string RadialKernel::description() const
{
  std::ostringstream out;
  switch (kind)
    {
      case InteractionKernel::riesz:
        out << "W(z) = -|z|^" << first;
        break;
      case InteractionKernel::gaussian:
        out << "W(z) = exp(-|z|^2 / (2 * " << first << "^2))";
        break;
      case InteractionKernel::attractive_repulsive:
        out << "W(z) = |z|^" << first << " / " << first;
        if (second > 0)
          out << " - |z|^" << second << " / " << second;
        break;
    }
  return out.str();
}
} // namespace densityflow

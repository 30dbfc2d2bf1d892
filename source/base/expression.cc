#include <densityflow/base/exceptions.h>
#include <densityflow/base/expression.h>
#include <densityflow/base/muparser_setup.h>

#include <muParser.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>

namespace densityflow
{
namespace
{
const char *coordinate_names[3] = {"x", "y", "z"};

double if_function(double condition, double a, double b)
{
  return condition != 0. ? a : b;
}
double pow_function(double a, double b)
{
  return std::pow(a, b);
}
double atan2_function(double y, double x)
{
  return std::atan2(y, x);
}
double erf_function(double x)
{
  return std::erf(x);
}
double erfc_function(double x)
{
  return std::erfc(x);
}
double floor_function(double x)
{
  return std::floor(x);
}
double ceil_function(double x)
{
  return std::ceil(x);
}
double fmod_function(double a, double b)
{
  return std::fmod(a, b);
}

std::string trim(const std::string &s)
{
  const auto begin = s.find_first_not_of(" \t\n\r");
  if (begin == std::string::npos)
    return "";
  const auto end = s.find_last_not_of(" \t\n\r");
  return s.substr(begin, end - begin + 1);
}
} // namespace

void define_constants_and_functions(mu::Parser &parser, const Constants &constants)
{
  parser.DefineConst("pi", M_PI);
  for (const auto &[name, value] : constants)
    parser.DefineConst(name, value);
  parser.DefineFun("if", if_function);
  parser.DefineFun("pow", pow_function);
  parser.DefineFun("atan2", atan2_function);
  parser.DefineFun("erf", erf_function);
  parser.DefineFun("erfc", erfc_function);
  parser.DefineFun("floor", floor_function);
  parser.DefineFun("ceil", ceil_function);
  parser.DefineFun("fmod", fmod_function);
}

std::string variable_names(const unsigned int dim)
{
  std::string names;
  for (unsigned int d = 0; d < dim; ++d)
    names += std::string(coordinate_names[d]) + ", ";
  return names + "t";
}

std::vector<std::string> split_components(const std::string &text)
{
  std::vector<std::string> components;
  std::stringstream        stream(text);
  std::string              component;
  while (std::getline(stream, component, ';'))
    components.push_back(trim(component));
  if (!text.empty() && text.back() == ';')
    components.push_back("");
  return components;
}

template <int dim>
struct Expression<dim>::Parsers
{
  std::string text;
  std::string parameter_name;
  // x, (y, (z,)) t: the parsers hold pointers to these, so they must not move.
  mutable std::array<double, dim + 1>      variables{};
  std::vector<std::unique_ptr<mu::Parser>> components;
  bool                                     time_dependent  = false;
  bool                                     space_dependent = false;
  // An expression of t alone (a time factor, a constant) is asked for at the same t
  // over and over (once per particle and stage); muparser's evaluation, deterministic,
  // is done once per t (once for all where t is not used either).
  mutable double              cached_time = std::numeric_limits<double>::quiet_NaN();
  mutable bool                cache_valid = false;
  mutable std::vector<double> cached_values;
};

template <int dim>
Expression<dim>::Expression(const std::string &text,
                            const Constants   &constants,
                            const std::string &parameter_name,
                            const unsigned int n_components)
    : parsers(std::make_unique<Parsers>())
{
  parsers->text           = text;
  parsers->parameter_name = parameter_name;

  const std::vector<std::string> component_texts = split_components(text);
  if (component_texts.size() != n_components)
    throw InputError(parameter_name + " = '" + text + "' has " +
                     std::to_string(component_texts.size()) + " component(s) separated by ';'" +
                     ", but " + std::to_string(n_components) + " are needed in " +
                     std::to_string(dim) + "D.");

  for (const std::string &component_text : component_texts)
    {
      if (component_text.empty())
        throw InputError(parameter_name + " = '" + text + "' has an empty component.");
      auto parser = std::make_unique<mu::Parser>();
      try
        {
          for (unsigned int d = 0; d < dim; ++d)
            parser->DefineVar(coordinate_names[d], &parsers->variables[d]);
          parser->DefineVar("t", &parsers->variables[dim]);
          define_constants_and_functions(*parser, constants);
          parser->SetExpr(component_text);
          // muparser parses lazily: evaluate once so that errors surface here.
          parser->Eval();
          const auto used = parser->GetUsedVar();
          if (used.count("t") > 0)
            parsers->time_dependent = true;
          for (unsigned int d = 0; d < dim; ++d)
            if (used.count(coordinate_names[d]) > 0)
              parsers->space_dependent = true;
        }
      catch (const mu::Parser::exception_type &e)
        {
          std::string constant_names;
          for (const auto &c : constants)
            constant_names += (constant_names.empty() ? "" : ", ") + c.first;
          throw InputError(
              parameter_name + " = '" + text + "' cannot be parsed: " + e.GetMsg() + " (in " +
              std::to_string(dim) + "D the variables are " + variable_names(dim) +
              (constant_names.empty() ? std::string() : "; constants: " + constant_names) + ").");
        }
      parsers->components.push_back(std::move(parser));
    }
}

template <int dim>
Expression<dim>::~Expression() = default;

template <int dim>
Expression<dim>::Expression(Expression &&) noexcept = default;

template <int dim>
Expression<dim> &Expression<dim>::operator=(Expression &&) noexcept = default;

template <int dim>
double
Expression<dim>::value(const Point<dim> &p, const double t, const unsigned int component) const
{
  if (!parsers->space_dependent)
    {
      Parsers &cache = *parsers;
      if (!cache.cache_valid || (cache.time_dependent && !(t == cache.cached_time)))
        {
          cache.variables[dim] = t;
          cache.cached_values.resize(cache.components.size());
          for (std::size_t c = 0; c < cache.components.size(); ++c)
            cache.cached_values[c] = cache.components[c]->Eval();
          cache.cached_time = t;
          cache.cache_valid = true;
        }
      return cache.cached_values[component];
    }
  for (unsigned int d = 0; d < dim; ++d)
    parsers->variables[d] = p[d];
  parsers->variables[dim] = t;
  return parsers->components[component]->Eval();
}

template <int dim>
Tensor<1, dim> Expression<dim>::vector_value(const Point<dim> &p, const double t) const
{
  for (unsigned int d = 0; d < dim; ++d)
    parsers->variables[d] = p[d];
  parsers->variables[dim] = t;
  Tensor<1, dim> result;
  for (unsigned int d = 0; d < dim; ++d)
    result[d] = parsers->components[d]->Eval();
  return result;
}

template <int dim>
bool Expression<dim>::depends_on_time() const
{
  return parsers->time_dependent;
}

template <int dim>
bool Expression<dim>::depends_on_space() const
{
  return parsers->space_dependent;
}

template <int dim>
unsigned int Expression<dim>::n_components() const
{
  return parsers->components.size();
}

template <int dim>
const std::string &Expression<dim>::text() const
{
  return parsers->text;
}

template <int dim>
const std::string &Expression<dim>::parameter_name() const
{
  return parsers->parameter_name;
}

template <int dim>
ScalarField<dim>::ScalarField(const std::string &value_text,
                              const std::string &gradient_text,
                              const Constants   &constants,
                              const std::string &parameter_name)
    : field(value_text, constants, parameter_name)
{
  if (!trim(gradient_text).empty())
    gradient_expression = std::make_unique<Expression<dim>>(
        gradient_text, constants, parameter_name + " gradient", dim);
}

template <int dim>
double ScalarField<dim>::value(const Point<dim> &p, const double t) const
{
  double result = field.value(p, t);
  for (const auto &term : terms)
    result += term->value(p, t);
  return result;
}

template <int dim>
Tensor<1, dim> ScalarField<dim>::gradient(const Point<dim> &p, const double t) const
{
  if (terms.empty())
    return expression_gradient(p, t);
  // A flat prior (a constant expression) costs nothing beside the data term.
  Tensor<1, dim> result = field.depends_on_space() ? expression_gradient(p, t) : Tensor<1, dim>();
  for (const auto &term : terms)
    result += term->gradient(p, t);
  return result;
}

template <int dim>
Tensor<1, dim> ScalarField<dim>::expression_gradient(const Point<dim> &p, const double t) const
{
  if (gradient_expression)
    return gradient_expression->vector_value(p, t);

  // Fourth-order central differences; the step balances truncation (h^4) against
  // cancellation (1e-16 / h) for fields of unit scale.
  Tensor<1, dim> result;
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double h   = 1e-3 * std::max(1.0, std::abs(p[d]));
      Point<dim>   q   = p;
      q[d]             = p[d] + h;
      const double f1  = field.value(q, t);
      q[d]             = p[d] - h;
      const double f_1 = field.value(q, t);
      q[d]             = p[d] + 2 * h;
      const double f2  = field.value(q, t);
      q[d]             = p[d] - 2 * h;
      const double f_2 = field.value(q, t);
      result[d]        = (8 * (f1 - f_1) - (f2 - f_2)) / (12 * h);
    }
  return result;
}

template <int dim>
bool ScalarField<dim>::depends_on_time() const
{
  for (const auto &term : terms)
    if (term->depends_on_time())
      return true;
  return field.depends_on_time() || (gradient_expression && gradient_expression->depends_on_time());
}

template <int dim>
bool ScalarField<dim>::is_constant_in_space() const
{
  for (const auto &term : terms)
    if (term->depends_on_space())
      return false;
  return !field.depends_on_space();
}

template <int dim>
void ScalarField<dim>::add_term(std::shared_ptr<const ScalarFieldTerm<dim>> term)
{
  terms.push_back(std::move(term));
}

template <int dim>
std::string ScalarField<dim>::description() const
{
  std::string result = field.parameter_name() + " = '" + field.text() + "'";
  for (const auto &term : terms)
    result += " + " + term->description();
  return result;
}

template <int dim>
bool ScalarField<dim>::has_gradient_expression() const
{
  return static_cast<bool>(gradient_expression);
}

template <int dim>
const Expression<dim> &ScalarField<dim>::expression() const
{
  return field;
}

template <int dim>
double divergence(const Expression<dim> &w, const Point<dim> &p, const double t)
{
  double result = 0;
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double h = 1e-3 * std::max(1.0, std::abs(p[d]));
      Point<dim>   q = p;
      double       f[4];
      const double offsets[4] = {h, -h, 2 * h, -2 * h};
      for (unsigned int k = 0; k < 4; ++k)
        {
          q[d] = p[d] + offsets[k];
          f[k] = w.value(q, t, d);
        }
      result += (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
    }
  return result;
}

template <int dim>
double ScalarField<dim>::laplacian(const Point<dim> &p, const double t) const
{
  if (terms.empty())
    return expression_laplacian(p, t);
  double result = field.depends_on_space() ? expression_laplacian(p, t) : 0.0;
  for (const auto &term : terms)
    result += term->laplacian(p, t);
  return result;
}

template <int dim>
double ScalarField<dim>::expression_laplacian(const Point<dim> &p, const double t) const
{
  if (gradient_expression)
    return divergence(*gradient_expression, p, t);
  // Fourth-order second differences; h balances h^4 against 1e-16 / h^2.
  const double center = field.value(p, t);
  double       result = 0;
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double h = 1e-2 * std::max(1.0, std::abs(p[d]));
      Point<dim>   q = p;
      double       f[4];
      const double offsets[4] = {h, -h, 2 * h, -2 * h};
      for (unsigned int k = 0; k < 4; ++k)
        {
          q[d] = p[d] + offsets[k];
          f[k] = field.value(q, t);
        }
      result += (16 * (f[0] + f[1]) - (f[2] + f[3]) - 30 * center) / (12 * h * h);
    }
  return result;
}

template double divergence(const Expression<1> &, const Point<1> &, double);
template double divergence(const Expression<2> &, const Point<2> &, double);
template double divergence(const Expression<3> &, const Point<3> &, double);
template class Expression<1>;
template class Expression<2>;
template class Expression<3>;
template class ScalarField<1>;
template class ScalarField<2>;
template class ScalarField<3>;
} // namespace densityflow

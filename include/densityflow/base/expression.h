#pragma once

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/** Named constants that every expression of a problem may use (`Constants`, plus `eps`).
 */
using Constants = std::map<std::string, double>;

/**
 * A function of space and time written by the user as a muparser expression of the
 * coordinates (x; x, y; x, y, z) and t, with named constants. Vector-valued
 * expressions separate their components by ';'.
 *
 * Parse errors are reported at construction as an InputError that names the
 * parameter the text came from. Besides muparser's built-in functions, expressions
 * may use pi, pow, atan2, erf, erfc, floor, ceil, fmod and if(condition, a, b).
 *
 * Evaluation is not thread-safe; densityflow runs one thread per MPI rank.
 */
template <int dim>
class Expression
{
public:
  /**
   * @param text            the expression, components separated by ';'
   * @param constants       named constants the expression may use
   * @param parameter_name  where the text came from ("Physics/Potential"), for errors
   * @param n_components    the number of components the text must have
   */
  Expression(const std::string &text,
             const Constants   &constants,
             const std::string &parameter_name,
             const unsigned int n_components = 1);
  ~Expression();
  Expression(Expression &&) noexcept;
  Expression &operator=(Expression &&) noexcept;

  /** The value of one component at point @p p and time @p t. */
  double value(const Point<dim> &p, const double t, const unsigned int component = 0) const;

  /** All dim components of a vector expression at @p p and @p t. */
  Tensor<1, dim> vector_value(const Point<dim> &p, const double t) const;

  /** Whether the text uses the variable t. */
  bool depends_on_time() const;

  /** Whether the text uses any of the coordinates x, y, z. */
  bool depends_on_space() const;

  unsigned int n_components() const;

  /** The text as the user wrote it. */
  const std::string &text() const;

  /** The parameter the text came from, e.g. "Physics/Potential". */
  const std::string &parameter_name() const;

private:
  struct Parsers;
  std::unique_ptr<Parsers> parsers;
};

/**
 * A term added to a ScalarField that is not one expression, such as the negative
 * log-likelihood of a data file (physics/likelihood.h): V = expression + terms.
 */
template <int dim>
class ScalarFieldTerm
{
public:
  virtual ~ScalarFieldTerm() = default;

  virtual double value(const Point<dim> &p, const double t) const = 0;

  virtual Tensor<1, dim> gradient(const Point<dim> &p, const double t) const = 0;

  virtual double laplacian(const Point<dim> &p, const double t) const = 0;

  virtual bool depends_on_time() const = 0;

  virtual bool depends_on_space() const = 0;

  /** What the term is, for messages: "the negative log-likelihood of FILE (50 rows)". */
  virtual std::string description() const = 0;
};

/**
 * A scalar field with its gradient, such as the potential V: the gradient is either
 * the user's own expression or is computed by fourth-order central differences
 * (error of order 1e-12 for smooth fields of unit scale).
 */
template <int dim>
class ScalarField
{
public:
  /**
   * @param value_text     the field
   * @param gradient_text  its gradient, dim components separated by ';', or empty
   */
  ScalarField(const std::string &value_text,
              const std::string &gradient_text,
              const Constants   &constants,
              const std::string &parameter_name);

  double value(const Point<dim> &p, const double t) const;

  Tensor<1, dim> gradient(const Point<dim> &p, const double t) const;

  bool depends_on_time() const;

  /** Laplace V: the divergence of the gradient expression, or fourth-order differences. */
  double laplacian(const Point<dim> &p, const double t) const;

  /** Whether the field does not depend on x (its gradient is zero). */
  bool is_constant_in_space() const;

  /** Whether the gradient comes from the user's expression (not from differences). */
  bool has_gradient_expression() const;

  const Expression<dim> &expression() const;

  /**
   * Adds @p term to the field (value, gradient, Laplacian): V = expression + term.
   * Callers of value() and gradient() see the sum and need not know about it.
   */
  void add_term(std::shared_ptr<const ScalarFieldTerm<dim>> term);

  /** The field for messages: "Physics/Potential = '...'" and its added terms. */
  std::string description() const;

private:
  /** The gradient and Laplacian of the expression alone (without the terms). */
  Tensor<1, dim> expression_gradient(const Point<dim> &p, const double t) const;
  double         expression_laplacian(const Point<dim> &p, const double t) const;

  Expression<dim>                                          field;
  std::unique_ptr<Expression<dim>>                         gradient_expression;
  std::vector<std::shared_ptr<const ScalarFieldTerm<dim>>> terms;
};

/**
 * div w of a vector expression with dim components, by fourth-order central
 * differences (error of order 1e-12 for smooth fields of unit scale).
 */
template <int dim>
double divergence(const Expression<dim> &w, const Point<dim> &p, const double t);

/** The variable names of expressions in @p dim dimensions, e.g. "x, y, t". */
std::string variable_names(const unsigned int dim);

/** Splits "a; b; c" into its trimmed components. */
std::vector<std::string> split_components(const std::string &text);

} // namespace densityflow

// Expressions: parsing, the parameter named in errors, gradients, time dependence.
#include <densityflow/base/exceptions.h>
#include <densityflow/base/expression.h>

#include <gtest/gtest.h>

using namespace densityflow;

namespace
{
/** The message of the InputError that @p f throws (empty if none). */
template <typename F>
std::string input_error_of(const F &f)
{
  try
    {
      f();
    }
  catch (const InputError &e)
    {
      return e.what();
    }
  return "";
}
} // namespace

TEST(Expression, EvaluatesWithConstantsAndTime)
{
  const Expression<2> e("a * x + y^2 + t + pi", {{"a", 3.0}}, "Test/Value");
  EXPECT_DOUBLE_EQ(e.value(Point<2>(1, 2), 0.5), 3 + 4 + 0.5 + M_PI);
  EXPECT_TRUE(e.depends_on_time());
  EXPECT_FALSE(Expression<2>("x * y", {}, "Test/Value").depends_on_time());
}

TEST(Expression, ExtraFunctions)
{
  const Expression<1> e(
      "if(x > 0, pow(x, 3), atan2(1, 1)) + erf(0) + floor(1.5) + fmod(5, 3)", {}, "Test/Value");
  EXPECT_DOUBLE_EQ(e.value(Point<1>(2.0), 0), 8 + 0 + 1 + 2);
  EXPECT_DOUBLE_EQ(e.value(Point<1>(-2.0), 0), M_PI / 4 + 0 + 1 + 2);
}

TEST(Expression, ErrorsNameTheParameter)
{
  std::string message = input_error_of([] { Expression<2>("x^^2", {}, "Physics/Potential"); });
  EXPECT_NE(message.find("Physics/Potential = 'x^^2' cannot be parsed"), std::string::npos)
      << message;

  // z is not a variable in 2D; the message lists the ones that are.
  message = input_error_of([] { Expression<2>("x + z", {}, "Physics/Potential"); });
  EXPECT_NE(message.find("x, y, t"), std::string::npos) << message;

  message = input_error_of([] { Expression<2>("x; y; 1", {}, "Physics/Velocity", 2); });
  EXPECT_NE(message.find("has 3 component(s)"), std::string::npos) << message;

  message = input_error_of([] { Expression<3>("x;;y", {}, "Physics/Velocity", 3); });
  EXPECT_NE(message.find("empty component"), std::string::npos) << message;
}

TEST(ScalarField, NumericalGradientMatchesExact)
{
  const ScalarField<3> numerical("sin(x) * exp(y) + z^3 * t", "", {}, "Physics/Potential");
  const ScalarField<3> exact("sin(x) * exp(y) + z^3 * t",
                             "cos(x) * exp(y); sin(x) * exp(y); 3 * z^2 * t",
                             {},
                             "Physics/Potential");
  EXPECT_TRUE(exact.has_gradient_expression());
  EXPECT_FALSE(numerical.has_gradient_expression());
  for (const Point<3> &p :
       {Point<3>(0.3, -0.7, 1.1), Point<3>(-2.5, 0.4, -3.0), Point<3>(10, 1, 0.5)})
    {
      const Tensor<1, 3> g = numerical.gradient(p, 0.7), h = exact.gradient(p, 0.7);
      // Fourth-order differences with h = 1e-3 max(1, |x|): truncation ~ h^4 |f^(5)| / 30.
      for (unsigned int d = 0; d < 3; ++d)
        EXPECT_NEAR(g[d], h[d], 1e-9 * std::max(1.0, std::abs(h[d]))) << p;
    }
}

// Expressions of t alone (time factors) and constants are evaluated once per t: the
// values must be bit for bit those of the same text evaluated afresh at every point
// (`+ 0 * x` makes it depend on space, which is never cached), at times asked for in
// any order and for every component.
TEST(Expression, TimeOnlyExpressionsGiveTheSameBitsInAnyOrder)
{
  const Expression<2> cached("1 - t / 2 + sin(3 * t); 2 * exp(-t)", {}, "f", 2);
  const Expression<2> fresh("1 - t / 2 + sin(3 * t) + 0 * x; 2 * exp(-t) + 0 * x", {}, "f", 2);
  const Expression<2> constant("exp(1) / 3", {}, "f"),
      constant_fresh("exp(1) / 3 + 0 * y", {}, "f");
  const Point<2> p(0.3, -0.2);
  for (const double t : {0.0, 0.1, 0.1, 0.25, 0.1, 0.7, 0.7, 0.0, 1e-300, 0.25})
    for (const unsigned int component : {1u, 0u, 1u})
      {
        EXPECT_EQ(cached.value(p, t, component), fresh.value(p, t, component))
            << "t " << t << " component " << component;
        EXPECT_EQ(constant.value(Point<2>(), t), constant_fresh.value(p, t)) << "t " << t;
      }
  EXPECT_FALSE(cached.depends_on_space());
  EXPECT_TRUE(fresh.depends_on_space());
}

#include <densityflow/base/exceptions.h>
#include <densityflow/physics/likelihood.h>
#include <densityflow/physics/physics.h>

namespace densityflow
{
namespace
{
/** The `Physics/Velocity` expression as a VelocityField. */
template <int dim>
class ExpressionVelocity : public VelocityField<dim>
{
public:
  ExpressionVelocity(const std::string &text, const Constants &constants)
      : w(text, constants, "Physics/Velocity", dim)
  {}

  Tensor<1, dim> value(const Point<dim> &x, const double t) const override
  {
    return w.vector_value(x, t);
  }

  double divergence(const Point<dim> &x, const double t) const override
  {
    return densityflow::divergence(w, x, t);
  }

  bool depends_on_time() const override { return w.depends_on_time(); }

private:
  Expression<dim> w;
};
} // namespace

void PhysicsParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Physics");
  prm.declare_entry(
      "Model",
      "fokker-planck",
      Patterns::Selection("fokker-planck|transport|path|interaction"),
      "fokker-planck: d/dt rho = div(eps grad rho + rho grad V), eps > 0, by the "
      "symmetric weighted CG solver. transport: d/dt rho + div(rho b) = eps Laplace "
      "rho with b = -grad V + f(t) w, eps >= 0, by discontinuous Galerkin. path: the "
      "density path of the Path subsection (rho0 to pi = exp(-V/eps)/Z) and the "
      "velocity of least kinetic energy along it. interaction: d/dt rho = div(rho grad(V + "
      "W * (rho - nu))) + eps Laplace rho, eps >= 0, the gradient flow of int V rho + 1/2 "
      "MMD_W^2(rho, nu) + eps int rho log rho (the Interaction subsection), by "
      "discontinuous Galerkin.");
  prm.declare_entry("Potential",
                    "0",
                    Patterns::Anything(),
                    "The potential V as an expression of x (y, z) and t and the Constants; "
                    "its drift is -grad V and its stationary density pi = exp(-V/eps)/Z.");
  prm.declare_entry("Potential gradient",
                    "",
                    Patterns::Anything(),
                    "grad V as dim expressions separated by ';'. Empty: computed from "
                    "Potential by fourth-order central differences.");
  prm.declare_entry("Velocity",
                    "",
                    Patterns::Anything(),
                    "Transport model: the velocity w (dim expressions of x (y, z), t "
                    "separated by ';'; any field, not only a gradient) added to -grad V. "
                    "Empty: none.");
  prm.declare_entry("Velocity time factor",
                    "1",
                    Patterns::Anything(),
                    "Transport model: a factor f(t) of Velocity, b = -grad V + f(t) w. When "
                    "V is constant and w does not depend on t, the DG operator is assembled "
                    "once and only scaled by f(t) (fast); putting t into w instead works too "
                    "but reassembles the operator at every stage.");
  prm.declare_entry("Inflow density",
                    "0",
                    Patterns::Anything(),
                    "Transport model: the density entering where b.n < 0, an expression of "
                    "x (y, z) and t.");
  prm.declare_entry("Diffusion",
                    "1",
                    Patterns::Double(),
                    "The diffusion eps (temperature): > 0 for the Fokker-Planck model, >= 0 "
                    "for transport. Expressions can use it as eps.");
  LikelihoodParameters::declare_parameters(prm);
  prm.leave_subsection();
}

void PhysicsParameters::parse_parameters(ParameterHandler &prm, const std::string &base_directory)
{
  prm.enter_subsection("Physics");
  const std::string model_name = prm.get("Model");
  model                        = model_name == "transport"     ? Model::transport
                                 : model_name == "path"        ? Model::path
                                 : model_name == "interaction" ? Model::interaction
                                                               : Model::fokker_planck;
  potential                    = prm.get("Potential");
  potential_gradient           = prm.get("Potential gradient");
  velocity                     = Utilities::trim(prm.get("Velocity"));
  velocity_factor              = prm.get("Velocity time factor");
  inflow_density               = prm.get("Inflow density");
  diffusion                    = prm.get_double("Diffusion");
  likelihood.parse_parameters(prm, base_directory);
  prm.leave_subsection();

  if (model == Model::path)
    {
      if (!velocity.empty())
        throw InputError("Physics/Velocity is for Model = transport; the path model computes its "
                         "velocity from the Path subsection.");
      if (!(diffusion > 0))
        throw InputError("Physics/Diffusion must be positive for the path model (its target is "
                         "pi = exp(-V/eps)/Z), but it is " +
                         std::to_string(diffusion) + ".");
    }
  else if (model == Model::fokker_planck)
    {
      if (!velocity.empty())
        throw InputError(
            "Physics/Velocity is for Model = transport; the Fokker-Planck model's drift is "
            "-grad V (set Physics/Model = transport for other drifts).");
      if (!(diffusion > 0))
        throw InputError(
            "Physics/Diffusion must be positive for the Fokker-Planck equation, but it is " +
            std::to_string(diffusion) + ".");
    }
  else if (model == Model::interaction)
    {
      if (!velocity.empty())
        throw InputError("Physics/Velocity is for Model = transport; the interaction model's "
                         "velocity is -grad(V + W * (rho - nu)) (the Interaction subsection).");
      if (!(diffusion >= 0))
        throw InputError("Physics/Diffusion must be >= 0 for the interaction model, but it is " +
                         std::to_string(diffusion) + ".");
    }
  else if (!(diffusion >= 0))
    throw InputError("Physics/Diffusion must be >= 0 for the transport model, but it is " +
                     std::to_string(diffusion) + ".");
}

Constants constants_with_diffusion(const Constants &constants, const double diffusion)
{
  if (constants.count("eps") > 0)
    throw InputError("Constants: 'eps' is reserved for Physics/Diffusion; choose another name.");
  Constants all = constants;
  all["eps"]    = diffusion;
  return all;
}

template <int dim>
Physics<dim>::Physics(const PhysicsParameters &parameters, const Constants &constants)
    : physics_model(parameters.model)
    , all_constants(constants_with_diffusion(constants, parameters.diffusion))
    , eps(parameters.diffusion)
    , potential_field(
          parameters.potential, parameters.potential_gradient, all_constants, "Physics/Potential")
    , factor(parameters.velocity_factor, all_constants, "Physics/Velocity time factor")
    , inflow(parameters.inflow_density, all_constants, "Physics/Inflow density")
{
  if (parameters.likelihood.enabled())
    potential_field.add_term(
        std::make_shared<Likelihood<dim>>(parameters.likelihood, all_constants));
  if (!parameters.velocity.empty())
    velocity_field = std::make_shared<ExpressionVelocity<dim>>(parameters.velocity, all_constants);
  if (factor.depends_on_space())
    throw InputError("Physics/Velocity time factor = '" + parameters.velocity_factor +
                     "' must depend on t only (put x, y, z into Physics/Velocity).");
  zero_inflow =
      !inflow.depends_on_space() && !inflow.depends_on_time() && inflow.value(Point<dim>(), 0) == 0;
}

template <int dim>
Model Physics<dim>::model() const
{
  return physics_model;
}

template <int dim>
const ScalarField<dim> &Physics<dim>::potential() const
{
  return potential_field;
}

template <int dim>
double Physics<dim>::diffusion() const
{
  return eps;
}

template <int dim>
Tensor<1, dim> Physics<dim>::velocity(const Point<dim> &x, const double t) const
{
  return velocity_field ? velocity_field->value(x, t) : Tensor<1, dim>();
}

template <int dim>
void Physics<dim>::set_velocity(std::shared_ptr<const VelocityField<dim>> field)
{
  velocity_field = std::move(field);
}

template <int dim>
double Physics<dim>::velocity_factor(const double t) const
{
  return factor.value(Point<dim>(), t);
}

template <int dim>
Tensor<1, dim> Physics<dim>::drift(const Point<dim> &x, const double t) const
{
  Tensor<1, dim> b =
      velocity_field ? velocity_factor(t) * velocity_field->value(x, t) : Tensor<1, dim>();
  if (!potential_field.is_constant_in_space())
    b -= potential_field.gradient(x, t);
  return b;
}

template <int dim>
double Physics<dim>::drift_divergence(const Point<dim> &x, const double t) const
{
  double result = velocity_field ? velocity_factor(t) * velocity_field->divergence(x, t) : 0.0;
  if (!potential_field.is_constant_in_space())
    result -= potential_field.laplacian(x, t);
  return result;
}

template <int dim>
void Physics<dim>::drift_and_divergence(const Point<dim> &x,
                                        const double      t,
                                        Tensor<1, dim>   &b,
                                        double           &div) const
{
  const double   f = velocity_factor(t);
  Tensor<1, dim> w;
  double         div_w = 0;
  if (velocity_field)
    velocity_field->value_and_divergence(x, t, w, div_w);
  b   = f * w;
  div = velocity_field ? f * div_w : 0.0;
  if (!potential_field.is_constant_in_space())
    {
      b -= potential_field.gradient(x, t);
      div -= potential_field.laplacian(x, t);
    }
}

template <int dim>
bool Physics<dim>::drift_depends_on_time() const
{
  return (!potential_field.is_constant_in_space() && potential_field.depends_on_time()) ||
         (velocity_field && (factor.depends_on_time() || velocity_field->depends_on_time()));
}

template <int dim>
bool Physics<dim>::drift_is_separable() const
{
  return potential_field.is_constant_in_space() &&
         !(velocity_field && velocity_field->depends_on_time());
}

template <int dim>
const Expression<dim> &Physics<dim>::inflow_density() const
{
  return inflow;
}

template <int dim>
bool Physics<dim>::inflow_is_zero() const
{
  return zero_inflow;
}

template <int dim>
const Constants &Physics<dim>::constants() const
{
  return all_constants;
}

template class Physics<1>;
template class Physics<2>;
template class Physics<3>;
} // namespace densityflow

#include <densityflow/output/column_descriptions.h>

#include <fstream>
#include <stdexcept>

namespace densityflow
{
const std::vector<ColumnDescription> &column_table()
{
  // One line per column of every CSV file (diagnostics.csv, particles-vs-pde.csv,
  // compare.csv, particles_NNNNN.csv). Units: "time" and "length" are the problem's
  // own units; "1" is dimensionless; V is in units of the potential.
  static const std::vector<ColumnDescription> table = {
      // diagnostics.csv
      {"time", "time", "simulated time of the row (the schedule's exact value)"},
      {"step", "1", "number of PDE time steps taken to reach this row"},
      {"mass", "1", "int rho_h dx over the mesh (1 up to round-off unless there is outflow)"},
      {"min_density", "1/length^dim", "minimum of rho_h over quadrature and support points"},
      {"negative_mass",
       "1",
       "int max(-rho_h, 0) dx: mass of the negative part (0 where rho_h >= 0)"},
      {"free_energy",
       "V",
       "F = int V rho_h dx + eps int rho_h log rho_h dx (the entropy term includes eps; 0 log 0 = "
       "0; negative parts left out); empty for transport; for Physics/Model = interaction the "
       "energy E = int V rho_h dx + 1/2 sum_ij W(x_i - x_j) mu_i mu_j over the quadrature atoms "
       "of mu = rho_h - nu (1/2 MMD_W^2(rho_h, nu) for the MMD flow)"},
      {"relative_entropy",
       "nats",
       "KL(rho_h | pi) = int rho_h log(rho_h / pi) dx with pi = exp(-V/eps)/Z; empty for "
       "transport"},
      {"mean_x", "length", "mean of x under rho_h"},
      {"mean_y", "length", "mean of y under rho_h"},
      {"mean_z", "length", "mean of z under rho_h"},
      {"cov_xx", "length^2", "covariance of x and x under rho_h"},
      {"cov_xy", "length^2", "covariance of x and y under rho_h"},
      {"cov_xz", "length^2", "covariance of x and z under rho_h"},
      {"cov_yy", "length^2", "covariance of y and y under rho_h"},
      {"cov_yz", "length^2", "covariance of y and z under rho_h"},
      {"cov_zz", "length^2", "covariance of z and z under rho_h"},
      {"l2_error",
       "1",
       "||rho_h - rho_exact||_L2 / ||rho_exact||_L2; empty without Exact solution/Expression"},
      {"outflow_mass",
       "1",
       "mass that has left through the boundary since t = 0, net of inflow (mass + outflow_mass "
       "is conserved)"},
      {"linear_iterations", "1", "linear-solver iterations since the previous row"},
      {"wall_seconds", "s", "wall-clock time since the run started"},
      {"kinetic_energy",
       "length^2/time^2",
       "path model: int rho_t |v_t|^2 of the finite-element velocity v_t = grad phi_h at this "
       "time"},
      {"action",
       "length^2/time",
       "path model: int_0^t kinetic_energy dt (trapezoidal rule over the steps); for the "
       "constant-speed reparametrisation over [0, 1] it is at least w2_length^2"},
      {"w2_length",
       "length",
       "path model: int_0^t sqrt(kinetic_energy) dt (trapezoidal rule), the Wasserstein-2 length "
       "of the path so far"},
      {"max_speed", "length/time", "path model: the largest |v_t| at the quadrature points"},
      {"mmd_squared",
       "length^r",
       "interaction model with a target: MMD_W^2(rho_h, nu) = int int W(x - y) d(rho_h - nu) "
       "d(rho_h - nu) >= 0 (W = -|z|^r) with the quadrature atoms of both (twice the "
       "interaction energy)"},
      {"absorbed_mass",
       "1",
       "Fokker-Planck model with Mesh/Absorbing walls: mass absorbed at the walls since t = 0 "
       "(mass + absorbed_mass = 1 to round-off)"},
      {"absorbed_flux",
       "1/time",
       "Fokker-Planck model with Mesh/Absorbing walls: the mass absorbed in the last step over "
       "its length (the rate at which mass leaves, -d mass/dt)"},
      {"survival_integral",
       "time",
       "Fokker-Planck model with Mesh/Absorbing walls or windows: int_0^t mass dt (trapezoidal "
       "rule over the steps), the mean of min(exit time, t); the mean exit time as t -> inf"},
      {"cells",
       "count",
       "Fokker-Planck model with Mesh/Adaptivity: active cells of the adapted mesh at this time"},
      // Particle systems absorbed at walls: one set per system (named by its dynamics).
      {"absorbed_fraction_*",
       "1",
       "particles absorbed at the walls since t = 0 over the particles sampled (the particles' "
       "1 - mass)"},
      {"mean_exit_time_se_*",
       "time",
       "standard error of mean_exit_time_* (sample standard deviation of the exit times / "
       "sqrt(n)); empty below two exits"},
      {"mean_exit_time_*",
       "time",
       "mean exit time of the particles absorbed so far (each placed within its step by the "
       "Brownian bridge); empty before the first"},
      {"survival_integral_*",
       "time",
       "mean over the particles sampled of min(exit time, t): int_0^t of the surviving "
       "fraction, to compare with survival_integral"},
      // particles-vs-pde.csv and compare.csv (time as above)
      {"ensemble",
       "",
       "the particle system (Particles/Dynamics) or the file (file#system=k) compared with rho_h"},
      {"n_particles", "1", "particles compared (inside the domain)"},
      {"outside", "1", "particles outside the domain or lost through it (not compared)"},
      {"mean_error", "length", "Euclidean norm of the ensemble's mean minus rho_h's"},
      {"covariance_error", "length^2", "Frobenius norm of the ensemble's covariance minus rho_h's"},
      {"histogram_tv", "1", "1/2 sum over cells K of |n_K / N - int_K rho_h|"},
      {"energy_distance",
       "length",
       "2 E|X-Y| - E|X-X'| - E|Y-Y'|, Y ~ rho_h; sliced over Distances/Projections directions in "
       "2D/3D (scaled to equal the full one in expectation)"},
      {"energy_distance_slicing_error",
       "length",
       "standard error of energy_distance from the random slicing only (not a sampling error of "
       "the ensemble: see energy_distance_floor); 0 in 1D"},
      {"w1", "length", "1D: exact Wasserstein-1 distance between the ensemble and rho_h"},
      {"w2", "length", "1D: exact Wasserstein-2 distance between the ensemble and rho_h"},
      {"sliced_w2",
       "length",
       "sliced Wasserstein-2 distance over Distances/Projections random directions"},
      {"sliced_w2_slicing_error",
       "length",
       "standard error of sliced_w2 from the random slicing only (not a sampling error: see "
       "sliced_w2_floor)"},
      // The noise floor (Distances/Floor samples): what an exact i.i.d. sample of rho_h of the
      // same size would get.
      {"*_floor",
       "as the distance",
       "noise floor of the distance: its expected value for an exact i.i.d. sample of rho_h of "
       "the ensemble's size (closed form for energy_distance, mean_error, histogram_tv; else the "
       "mean over Distances/Floor samples exact samples)"},
      {"*_floor_spread",
       "as the distance",
       "standard deviation of the distance over exact samples of rho_h of the ensemble's size"},
      {"histogram_bins",
       "1",
       "bins of histogram_tv: cells grouped by their ancestor at the finest level where "
       "1 / sum p_B^2 <= min(N / 20, 20)"},
      {"floor_excess",
       "floor spreads",
       "largest (distance - floor) / floor spread over the distances"},
      {"floor_excess_of", "", "the distance that has floor_excess"},
      {"verdict",
       "",
       "biased if floor_excess > 3, else consistent; empty when Distances/Floor samples = 0"},
      {"density_error_max",
       "1",
       "flow map: max over particles of |rho_h(X) / carried density - 1|; empty otherwise"},
      {"density_error_mean",
       "1",
       "flow map: mean over particles of |rho_h(X) / carried density - 1|; empty otherwise"},
      // Diagnostics/Regions: one set per named region (the suffix rule comes first).
      {"*_stderr",
       "1",
       "region: binomial standard error sqrt(p (1 - p) / N_eff) of the fraction of an exact "
       "i.i.d. sample of rho_h of the ensemble's size in the region (p = density_fraction)"},
      {"mass_*", "1", "region: int over the named region (Diagnostics/Regions) of rho_h"},
      {"density_fraction_*",
       "1",
       "region: p = int over the region of rho_h / int rho_h at the same time"},
      {"fraction_*",
       "1",
       "region: the ensemble's weighted fraction of its points in the domain that lie in the "
       "region"},
      // particles_NNNNN.csv (with Particles/Write CSV)
      {"system", "1", "index of the particle system in Particles/Dynamics"},
      {"id", "1", "global particle id (stable over time and MPI ranks)"},
      {"x", "length", "particle position, x"},
      {"y", "length", "particle position, y"},
      {"z", "length", "particle position, z"},
      {"vx", "length/time", "particle velocity, x"},
      {"vy", "length/time", "particle velocity, y"},
      {"vz", "length/time", "particle velocity, z"},
      {"log_density", "log(1/length^dim)", "flow map: the carried log-density; NaN for others"},
      // exit_times.csv (system and id as above)
      {"dynamics", "", "the particle system's dynamics (Particles/Dynamics)"},
      {"exit_time",
       "time",
       "when the particle was absorbed: within its step, sampled from the Brownian bridge "
       "between its two positions"},
      {"wall", "", "the wall it left through (x-min, ..., z-max)"},
      {"window",
       "1",
       "the entry of Mesh/Absorbing windows it left through (from 1); 0: a whole wall of "
       "Mesh/Absorbing walls"},
  };
  return table;
}

const ColumnDescription *describe_column(const std::string &column)
{
  // A name may end in '*' (a prefix, e.g. region columns) or start with it (a suffix, e.g.
  // the noise floor of every distance).
  const auto matches = [&column](const std::string &name) {
    if (name.size() > 1 && name.back() == '*')
      return column.compare(0, name.size() - 1, name, 0, name.size() - 1) == 0;
    if (name.size() > 1 && name.front() == '*')
      return column.size() >= name.size() - 1 &&
             column.compare(column.size() - (name.size() - 1), name.size() - 1, name, 1) == 0;
    return name == column;
  };
  for (const ColumnDescription &d : column_table())
    if (matches(d.name))
      return &d;
  return nullptr;
}

namespace
{
/** @p text as a CSV field: quoted where it holds a comma or a quote. */
std::string field(const std::string &text)
{
  if (text.find_first_of(",\"\n") == std::string::npos)
    return text;
  std::string quoted = "\"";
  for (const char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}
} // namespace

std::string column_descriptions(const std::vector<std::string> &columns)
{
  std::string text = "column,unit,meaning\n";
  for (const std::string &column : columns)
    {
      const ColumnDescription *d = describe_column(column);
      if (d == nullptr)
        throw std::logic_error("The CSV column '" + column +
                               "' has no description: add it to source/column_descriptions.cc.");
      text += field(column) + "," + field(d->unit) + "," + field(d->meaning) + "\n";
    }
  return text;
}

std::string column_descriptions_path(const std::string &csv_path)
{
  const std::string suffix = ".csv";
  const bool        csv    = csv_path.size() >= suffix.size() &&
                   csv_path.compare(csv_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  return (csv ? csv_path.substr(0, csv_path.size() - suffix.size()) : csv_path) + ".columns.csv";
}

void write_column_descriptions(const std::string &csv_path, const std::string &descriptions)
{
  std::ofstream(column_descriptions_path(csv_path)) << descriptions;
}
} // namespace densityflow

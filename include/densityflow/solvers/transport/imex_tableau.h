#pragma once

namespace densityflow
{
/**
 * A four-stage IMEX Runge-Kutta scheme with shared weights: explicit and (diagonally)
 * implicit tableaux, row-major, and the explicit abscissae.
 */
struct ImexTableau
{
  double explicit_a[4][4];
  double implicit_a[4][4];
  double b[4];
  double explicit_c[4];
};

/** IMEX-SSP3(4,3,3)'s SDIRK diagonal alpha and its last row's beta and eta. */
inline constexpr double imex_ssp3_alpha = 0.24169426078821, imex_ssp3_beta = 0.06042356519705,
                        imex_ssp3_eta = 0.12915286960590;

/**
 * IMEX-SSP3(4,3,3) of Pareschi and Russo (J. Sci. Comput. 25, 2005): the explicit part is
 * Shu-Osher's SSP-RK3 after a void first stage, the implicit one an L-stable SDIRK; third
 * order with the coupling conditions (imex_tableau_test checks them).
 */
inline constexpr ImexTableau imex_ssp3 = {
    {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 1, 0, 0}, {0, 0.25, 0.25, 0}},
    {{imex_ssp3_alpha, 0, 0, 0},
     {-imex_ssp3_alpha, imex_ssp3_alpha, 0, 0},
     {0, 1 - imex_ssp3_alpha, imex_ssp3_alpha, 0},
     {imex_ssp3_beta,
      imex_ssp3_eta,
      0.5 - imex_ssp3_beta - imex_ssp3_eta - imex_ssp3_alpha,
      imex_ssp3_alpha}},
    {0, 1.0 / 6, 1.0 / 6, 2.0 / 3},
    {0, 0, 1, 0.5}};
} // namespace densityflow

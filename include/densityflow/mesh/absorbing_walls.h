#pragma once

#include <deal.II/base/bounding_box.h>
#include <deal.II/base/point.h>

#include <array>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace dealii
{
class ParameterHandler;
}

namespace densityflow
{
using namespace dealii;

template <int dim>
class Mesh;

/** One entry of `Mesh/Absorbing windows`, as parsed (checked against the mesh later). */
struct AbsorbingWindowEntry
{
  /** The entry as written (for messages). */
  std::string text;
  /** The wall's name: x-min, ..., z-max. */
  std::string wall;
  /** (coordinate 0, 1, 2 for x, y, z; lower; upper) of each bounded tangential coordinate. */
  std::vector<std::tuple<unsigned int, double, double>> ranges;
};

/**
 * `Mesh/Absorbing walls` (whole walls of a box where rho = 0) and `Mesh/Absorbing windows`
 * (parts of walls, `x-max: y in [0.4, 0.6]; ...`); the other walls are no-flux.
 */
struct AbsorbingWallParameters
{
  /** Wall names as written: x-min, x-max, y-min, y-max, z-min, z-max. */
  std::vector<std::string> walls;
  /** The windows; InputError naming the entry on bad syntax (parse_parameters()). */
  std::vector<AbsorbingWindowEntry> windows;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/** What a step from x0 to x1 has to do with the absorbing walls (AbsorbingWalls::hit()). */
struct WallHit
{
  /** The probability that the Brownian path from x0 to x1 has been absorbed. */
  double probability = 0;
  /**
   * The piece (AbsorbingWalls::name()) it went out through if absorbed: the one it ends
   * beyond, else the one it most probably touched; -1: none can absorb it.
   */
  int piece = -1;
  /** The distances of x0 and x1 from that piece's wall (|b|: beyond it as well). */
  double a = 0, b = 0;
};

/**
 * The absorbing parts of a box's walls: whole walls (planes x_d = lower_d or upper_d) and
 * windows (a box within such a plane). A face of the mesh is absorbing when its centre lies
 * on a whole wall or in a window, so a window is resolved to whole faces.
 */
template <int dim>
class AbsorbingWalls
{
public:
  /**
   * InputError where a name is not a wall of a @p dim-dimensional box, is given twice, or
   * the mesh is not a box; where a window bounds the wall's normal coordinate, is empty,
   * reaches beyond its wall, overlaps another or lies on a whole absorbing wall, or contains
   * no face centre of the mesh. Collective (counts the faces of each window).
   */
  AbsorbingWalls(const AbsorbingWallParameters &parameters, const Mesh<dim> &mesh);

  bool empty() const;

  /** Whether the boundary face with centre @p centre lies on an absorbing wall or window. */
  bool contains(const Point<dim> &centre) const;

  /**
   * Whether a Brownian path from @p x0 to @p x1 (inside the box or beyond its walls), whose
   * increment has the variance @p variance per coordinate (2 eps dt), has hit an absorbing
   * part: probability 1 where @p x1 is beyond a whole wall; else, from the Brownian bridge,
   * 1 - prod over the walls of (1 - exp(-2 a b / variance)), a and b the distances of x0 and
   * x1 from the wall. A window counts where the path crosses (or, by the reflection
   * principle, most probably touches) its wall inside it: at x0 + a / (a + |b|) (x1 - x0),
   * the point where the straight line to x1 or to its mirror image meets the wall; it does
   * not count otherwise (the particle is reflected there).
   */
  WallHit hit(const Point<dim> &x0, const Point<dim> &x1, const double variance) const;

  /** hit(x0, x1, variance).probability. */
  double
  hitting_probability(const Point<dim> &x0, const Point<dim> &x1, const double variance) const;

  /** A point well outside the box, beyond its first absorbing wall (an absorbed particle). */
  Point<dim> outside_point() const;

  /** "Mesh/Absorbing walls = x-min and Mesh/Absorbing windows = x-max: y in [0.4, 0.6]". */
  std::string description() const;

  /** The number of pieces: the whole walls, then the windows in their order. */
  unsigned int n_pieces() const;
  /** The wall's name (x-max) of piece @p k. */
  std::string wall_name(const unsigned int k) const;
  /** 0 for a whole wall, else the window's number (from 1) in Mesh/Absorbing windows. */
  unsigned int window_number(const unsigned int k) const;

private:
  struct Piece
  {
    unsigned int direction;
    bool         upper;
    /** 0 for a whole wall, else the window's number. */
    unsigned int window;
    /** The window's box in the wall's plane (all of it for a whole wall). */
    std::array<std::pair<double, double>, dim> range;
    std::string                                text;
  };
  /** Whether @p p (on the piece's plane) is in the piece's window. */
  bool in_window(const Piece &piece, const Point<dim> &p) const;
  void add_windows(const AbsorbingWallParameters &parameters, const Mesh<dim> &mesh);

  std::vector<Piece> pieces;
  BoundingBox<dim>   box;
  double             tolerance = 0;
};

/**
 * The time within a step of length @p dt at which a Brownian path that starts at the
 * distance @p a from a wall and ends at the distance @p b from it (on either side), with the
 * increment's variance @p variance, first hits the wall, given that it does: w = tau /
 * (dt - tau) is inverse Gaussian with mean a / b and shape a^2 / variance (Levy where b = 0),
 * sampled from the uniform numbers @p u1, @p u2 (a normal by Box-Muller) and @p u3
 * (Michael, Schucany and Haas), all in (0, 1].
 */
double bridge_hitting_time(const double a,
                           const double b,
                           const double variance,
                           const double dt,
                           const double u1,
                           const double u2,
                           const double u3);
} // namespace densityflow

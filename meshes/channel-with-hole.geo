// channel-with-hole: the rectangle [-4, 4] x [-3, 3] with a circular hole of radius 1
// at the origin, meshed with quadrilaterals (for deal.II).
//   gmsh -2 channel-with-hole.geo -format msh22 -o channel-with-hole.msh
// Physical ids: surface 1; outer boundary 1, hole boundary 2.
h = 0.5;
Point(1) = {-4, -3, 0, h};
Point(2) = { 4, -3, 0, h};
Point(3) = { 4,  3, 0, h};
Point(4) = {-4,  3, 0, h};
Point(5) = { 0,  0, 0, h};
Point(6) = { 1,  0, 0, h / 2};
Point(7) = { 0,  1, 0, h / 2};
Point(8) = {-1,  0, 0, h / 2};
Point(9) = { 0, -1, 0, h / 2};
Line(1) = {1, 2};
Line(2) = {2, 3};
Line(3) = {3, 4};
Line(4) = {4, 1};
Circle(5) = {6, 5, 7};
Circle(6) = {7, 5, 8};
Circle(7) = {8, 5, 9};
Circle(8) = {9, 5, 6};
Curve Loop(1) = {1, 2, 3, 4};
Curve Loop(2) = {5, 6, 7, 8};
Plane Surface(1) = {1, 2};
Physical Surface(1) = {1};
Physical Curve(1) = {1, 2, 3, 4};
Physical Curve(2) = {5, 6, 7, 8};
Recombine Surface {1};
Mesh.RecombinationAlgorithm = 1;
Mesh.SubdivisionAlgorithm = 1; // all quadrilaterals
Mesh.Algorithm = 6; // Frontal-Delaunay (the quad variant, 8, crashes gmsh 4.8.4)

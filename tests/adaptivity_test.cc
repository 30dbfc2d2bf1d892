
// What the transfer does not support is refused with one InputError naming the parameter.
TEST(Adaptivity, RefusedInput)
{
  const auto refused = [](const std::string &prm, const std::vector<std::string> &overrides) {
    try
      {
        run(prm, overrides);
      }
    catch (const InputError &e)
      {
        return std::string(e.what());
      }
    return std::string("accepted");
  };
  const std::string                                                   prm   = ou_problem();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"Mesh/Adaptivity/Interval=2", "Mesh/Adaptivity/Maximum level=1"}, "Maximum level"},
      {{"Mesh/Adaptivity/Interval=2", "Mesh/Refinement=7"}, "Mesh/Refinement = 7"},
      {{"Mesh/Adaptivity/Interval=2", "Physics/Model=transport"}, "fokker-planck only"},
      {{"Mesh/Adaptivity/Interval=2", "Particles/Number=10"}, "Particles/Number"},
      {{"Mesh/Adaptivity/Interval=2", "Mesh/Periodic=true, false"}, "Mesh/Periodic"},
      {{"Mesh/Adaptivity/Interval=2", "Mesh/Absorbing walls=x-max"}, "absorbing walls"},
      {{"Mesh/Adaptivity/Interval=2", "Physics/Potential=x^2 + y^2 / 2 + t"}, "depends on t"},
      {{"Mesh/Adaptivity/Interval=2", "Output/Grid=16, 16"}, "Output/Grid"},
      {{"Mesh/Adaptivity/Interval=2",
        "Mesh/Adaptivity/Refine fraction=0.8",
        "Mesh/Adaptivity/Coarsen fraction=0.3"},
       "must not exceed 1"}};
  for (const auto &[overrides, expected] : cases)
    {
      const std::string message = refused(prm, overrides);
      EXPECT_NE(message.find("Mesh/Adaptivity"), std::string::npos) << message;
      EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
  // 1D: p4est has no 1D meshes.
  const std::string one_d =
      "set Dimension = 1\nsubsection Mesh\n set Lower corner = -4\n set Upper "
      "corner = 4\n set Subdivisions = 1\n set Refinement = 4\n subsection "
      "Adaptivity\n  set Interval = 2\n  set Maximum level = 6\n end\nend\n"
      "subsection Physics\n set Potential = x^2\n set Diffusion = 0.5\nend\n"
      "subsection Initial density\n set Expression = exp(-x^2)\nend\n"
      "subsection Time\n set End time = 0.02\n set Time step = 0.01\nend\n";
  EXPECT_NE(refused(one_d, {}).find("no 1D meshes"), std::string::npos) << refused(one_d, {});
}

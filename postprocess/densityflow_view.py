"""densityflow's view in ParaView: density (colour map), particles (points by system), the
time, and a line chart of diagnostics.csv beside it.

Batch (screenshots, optionally an animation):
    pvbatch postprocess/densityflow_view.py RUN_DIR [--output DIR] [--size W,H] [--animation]
Interactive (the same view in the GUI):
    DENSITYFLOW_RUN=RUN_DIR paraview --script=postprocess/densityflow_view.py

Without a display, start pvbatch under xvfb-run (Debian's ParaView renders through X).
"""

import argparse
import os
import sys

from paraview import servermanager
from paraview.simple import (AnnotateTime, AssignViewToLayout, ColorBy, CreateLayout,
                             CreateView, CSVReader, GetAnimationScene,
                             GetColorTransferFunction, GetLayout, GetScalarBar, PVDReader,
                             Render, SaveAnimation, SaveScreenshot, SetActiveView, Show,
                             Slice)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", default=os.environ.get("DENSITYFLOW_RUN"),
                        help="run directory (holds density.pvd); or $DENSITYFLOW_RUN")
    parser.add_argument("--output", help="folder for the screenshots (default RUN/paraview)")
    parser.add_argument("--size", default="1200,500", help="W,H of the screenshots")
    parser.add_argument("--animation", action="store_true",
                        help="also save every snapshot (animation_NNNN.png)")
    # Under `paraview --script` there is no command line of the script's own.
    args = parser.parse_args([a for a in sys.argv[1:] if not a.startswith("--script")])
    if not args.run:
        parser.error("no run directory: give RUN_DIR, or set DENSITYFLOW_RUN for the GUI")
    if not os.path.isfile(os.path.join(args.run, "density.pvd")):
        parser.error("%s holds no density.pvd: not a densityflow run directory" % args.run)
    try:
        args.size = [int(v) for v in args.size.split(",")]
        assert len(args.size) == 2 and min(args.size) >= 16
    except (ValueError, AssertionError):
        parser.error("--size: %r is not W,H" % args.size)
    return args


def dimension(run):
    """From the run's parameters.prm (`set Dimension = d`), else 2."""
    try:
        with open(os.path.join(run, "parameters.prm")) as prm:
            for line in prm:
                words = line.split("#")[0].split()
                if words[:3] == ["set", "Dimension", "="]:
                    return int(words[3])
    except OSError:
        pass
    return 2


def build_view(run):
    """The density view and, beside it, the diagnostics chart.

    Returns the layout, the render view, the density's displays and the snapshot times.
    """
    dim = dimension(run)
    density = PVDReader(registrationName="density", FileName=os.path.join(run, "density.pvd"))
    view = CreateView("RenderView")
    view.Background = [1, 1, 1]
    view.OrientationAxesVisibility = 0
    try:  # ParaView >= 5.10 lets the background ignore the colour palette
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    if dim == 3:
        shown = []
        for normal in ([1, 0, 0], [0, 1, 0], [0, 0, 1]):
            cut = Slice(Input=density)
            cut.SliceType.Normal = normal
            shown.append(Show(cut, view))
        Show(density, view).SetRepresentationType("Outline")
    else:
        shown = [Show(density, view)]
    for display in shown:
        ColorBy(display, ("POINTS", "rho"))
    rho = GetColorTransferFunction("rho")
    rho.ApplyPreset("Viridis (matplotlib)", True)
    rho.RescaleOnVisibilityChange = 1
    bar = GetScalarBar(rho, view)
    bar.Title = "rho"
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0, 0, 0]
    bar.TitleFontSize = bar.LabelFontSize = 12
    bar.WindowLocation = "Any Location"
    bar.Position = [0.84, 0.1]
    bar.ScalarBarLength = 0.8
    bar.Visibility = 1

    particles_pvd = os.path.join(run, "particles.pvd")
    if os.path.isfile(particles_pvd):
        particles = PVDReader(registrationName="particles", FileName=particles_pvd)
        points = Show(particles, view)
        points.SetRepresentationType("Points")
        points.PointSize = 2
        # Colour by system: 0 red, 1 (white-ish) ... over the systems' range.
        ColorBy(points, ("POINTS", "system"))
        system = GetColorTransferFunction("system")
        system.ApplyPreset("Cool to Warm", True)
        system.InvertTransferFunction()
        particles.UpdatePipeline()
        low, high = particles.PointData["system"].GetRange()
        system.RescaleTransferFunction(low, max(high, low + 1))
        system.AutomaticRescaleRangeMode = "Never"
        points.SetScalarBarVisibility(view, False)
        if dim < 3:
            points.Position = [0, 0, 1e-3]  # in front of the density

    time = AnnotateTime(registrationName="time")
    time.Format = "t = {time:.4g}"
    text = Show(time, view)
    text.Color = [0, 0, 0]
    text.WindowLocation = "Upper Left Corner"
    text.FontSize = 14

    view.ResetCamera()
    if dim < 3:
        view.InteractionMode = "2D"
        view.CameraPosition = [0, 0, 10]
        view.CameraViewUp = [0, 1, 0]
        view.ResetCamera()
    else:
        view.CameraPosition = [2.2, -1.6, 1.4]
        view.CameraViewUp = [0, 0, 1]
        view.ResetCamera()

    layout = GetLayout(view) or CreateLayout("densityflow")
    if GetLayout(view) is None:
        AssignViewToLayout(view=view, layout=layout, hint=0)
    csv = os.path.join(run, "diagnostics.csv")
    if os.path.isfile(csv):
        diagnostics = CSVReader(registrationName="diagnostics.csv", FileName=[csv])
        chart = CreateView("XYChartView")
        chart.LeftAxisLogScale = 1
        chart.LeftAxisTitle = "KL, relative L2 error"
        chart.BottomAxisTitle = "t"
        lines = Show(diagnostics, chart)
        lines.UseIndexForXAxis = 0
        lines.XArrayName = "time"
        wanted = ["relative_entropy", "l2_error"]
        lines.SeriesVisibility = wanted
        for name in ("LeftAxisTitleFontSize", "BottomAxisTitleFontSize", "LegendFontSize",
                     "LeftAxisLabelFontSize", "BottomAxisLabelFontSize"):
            setattr(chart, name, 12)
        layout.SplitHorizontal(0, 0.6)
        AssignViewToLayout(view=chart, layout=layout, hint=2)
    SetActiveView(view)
    return layout, view, shown, list(density.TimestepValues or [0.0])


def main():
    args = parse_arguments()
    layout, view, shown, times = build_view(args.run)
    process = servermanager.vtkProcessModule.GetProcessModule()
    if process.GetProcessType() == process.PROCESS_CLIENT:
        Render(view)  # the GUI: leave the view to the user
        return
    output = args.output or os.path.join(args.run, "paraview")
    os.makedirs(output, exist_ok=True)
    # First, middle and last snapshot.
    for t in sorted({times[0], times[len(times) // 2], times[-1]}):
        view.ViewTime = t
        shown[0].RescaleTransferFunctionToDataRange(False, True)
        Render(view)
        name = os.path.join(output, "view_t%.4g.png" % t)
        SaveScreenshot(name, layout, ImageResolution=args.size)
        print("wrote", name)
    if args.animation:
        scene = GetAnimationScene()
        scene.UpdateAnimationUsingDataTimeSteps()
        name = os.path.join(output, "animation.png")
        SaveAnimation(name, layout, ImageResolution=args.size)
        print("wrote", name.replace(".png", ".NNNN.png"), "(%d frames)" % len(times))


if __name__ == "__main__":
    main()

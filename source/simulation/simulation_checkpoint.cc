// Checkpoints of a run and restarts from them (Checkpoint/Interval, --restart).
#include <densityflow/base/build_info.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/output/checkpoint.h>
#include <densityflow/simulation/simulation.h>
#include <densityflow/solvers/checkpointable_solver.h>

#include <deal.II/base/config.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace densityflow
{
namespace
{
const char *format_name = "densityflow checkpoint 2";
/** What may change on a restart: the run may be extended; it writes where it was. */
const std::vector<std::string> may_differ = {
    "Time/End time", "Checkpoint/Interval", "Output/Directory", "Output/Keep previous run"};
/** The CSV files a restart cuts back to their length at the checkpoint. */
const std::vector<std::string> continued_files = {"diagnostics.csv", "particles-vs-pde.csv"};

/** The files p4est's save() may write for the adapted mesh (checkpoint/mesh...). */
const std::vector<std::string> mesh_files = {
    "mesh", "mesh.info", "mesh_fixed.data", "mesh_variable.data"};

/**
 * InputError unless @p folder holds the adapted mesh that @p meta names, each file of the
 * length and checksum written (p4est would read a damaged one without a word).
 */
void check_mesh_files(const std::string      &folder,
                      const CheckpointValues &meta,
                      const std::string      &where)
{
  if (!meta.has("mesh/mesh"))
    throw InputError(where + "has no saved mesh (it was written on a mesh that was not "
                             "adapted), but Mesh/Adaptivity/Interval > 0.");
  for (const std::string &name : mesh_files)
    if (meta.has("mesh/" + name) &&
        file_checksum(folder + "/" + name) != meta.get_text("mesh/" + name))
      throw InputError(where + "file " + folder + "/" + name +
                       " is missing, truncated or corrupt (its length and checksum do not "
                       "match metadata.txt).");
}

/** An output series as "time file time file ...", the times exact. */
std::string series_text(const std::vector<std::pair<double, std::string>> &series)
{
  std::string text;
  char        buffer[64];
  for (const auto &[time, file] : series)
    {
      std::snprintf(buffer, sizeof(buffer), "%a", time);
      text += (text.empty() ? "" : " ") + std::string(buffer) + " " + file;
    }
  return text;
}

std::vector<std::pair<double, std::string>> parse_series(const std::string &text)
{
  std::vector<std::pair<double, std::string>> series;
  std::istringstream                          in(text);
  std::string                                 time, file;
  while (in >> time >> file)
    series.emplace_back(std::strtod(time.c_str(), nullptr), file);
  return series;
}

/**
 * The arrays <prefix><rank>.bin that @p n_ranks ranks wrote in @p folder: on as many ranks
 * and with @p same_partition, each reads its own (the others' stay empty); else every rank
 * reads all.
 */
std::vector<std::vector<double>> read_rank_arrays(const std::string &folder,
                                                  const std::string &prefix,
                                                  const unsigned int n_ranks,
                                                  const bool         same_partition,
                                                  const MPI_Comm     communicator)
{
  std::vector<std::vector<double>> arrays(n_ranks);
  std::string                      error;
  const unsigned int               rank = Utilities::MPI::this_mpi_process(communicator);
  const bool same = same_partition && n_ranks == Utilities::MPI::n_mpi_processes(communicator);
  for (unsigned int r = 0; r < n_ranks && error.empty(); ++r)
    if (!same || r == rank)
      arrays[r] = read_checkpoint_array(folder + "/" + prefix + std::to_string(r) + ".bin", error);
  throw_if_any(!error.empty(), "--restart: " + error, communicator);
  return arrays;
}
} // namespace

template <int dim>
void Simulation<dim>::check_checkpoint_support() const
{
  const std::string what = restart_directory.empty() ? "Checkpoint/Interval > 0" : "--restart";
  if (dynamic_cast<const CheckpointableSolver *>(density_solver.get()) == nullptr)
    {
      const char *models[] = {"fokker-planck", "transport", "path", "interaction"};
      throw InputError(what + " is not implemented for Physics/Model = " +
                       models[static_cast<int>(parameters.physics.model)] +
                       " (its solver keeps no checkpoint).");
    }
  if (!parameters.output.grid.empty())
    throw InputError(what + " is not implemented with Output/Grid (the grid_*.npy files are not "
                            "continued): set Output/Grid empty.");
  if (!parameters.output.write_files)
    throw InputError(what + " needs Output/Write files = true (the checkpoint and the files it "
                            "continues are in the run's folder).");
}

template <int dim>
std::string Simulation<dim>::check_restart_metadata() const
{
  const std::string      folder = CheckpointFolder(restart_directory).complete();
  const CheckpointValues meta   = CheckpointValues::read(folder + "/metadata.txt");
  const std::string      where  = "--restart " + restart_directory + ": the checkpoint ";
  if (meta.get_text("format") != format_name)
    throw InputError(where + "is of another format ('" + meta.get_text("format") + "', not '" +
                     format_name + "').");
  if (meta.get_text("deal.II") != DEAL_II_PACKAGE_VERSION)
    throw InputError(where + "was written by deal.II " + meta.get_text("deal.II") +
                     " and this is deal.II " + DEAL_II_PACKAGE_VERSION +
                     ": its files are not portable between deal.II versions. Run the "
                     "problem again from the start.");
  if (meta.get("dimension") != dim)
    throw InputError(where + "is of a " + std::to_string(int(meta.get("dimension"))) +
                     "D problem, this one is " + std::to_string(dim) + "D.");
  std::ifstream     file(folder + "/parameters.prm");
  std::stringstream written;
  written << file.rdbuf();
  const std::vector<std::string> differences =
      differing_parameters(written.str(), parameters.effective_parameters, may_differ);
  if (!differences.empty())
    {
      std::string list;
      for (const std::string &d : differences)
        list += "\n  " + d;
      throw InputError(where +
                       "was written for other parameters (only Time/End time, "
                       "Checkpoint/Interval and Output/Directory may change):" +
                       list);
    }
  if (parameters.adaptivity.enabled())
    check_mesh_files(folder, meta, where);
  // The format decides what can be read; another commit of the same format may still
  // compute otherwise, which the user should know when comparing runs.
  const std::string written_by = meta.has("commit") ? meta.get_text("commit") : "unknown";
  if (written_by != build_commit())
    pcout << "  warning: " << where << "was written by densityflow " << written_by
          << ", this is densityflow " << build_commit()
          << " (same checkpoint format: continuing; the results may differ from those of an "
             "uninterrupted run of either)"
          << std::endl;
  return folder;
}

template <int dim>
void Simulation<dim>::check_restart(const std::string &folder)
{
  const CheckpointValues meta  = CheckpointValues::read(folder + "/metadata.txt");
  const std::string      where = "--restart " + restart_directory + ": the checkpoint ";
  const double           time  = meta.get("time");
  if (parameters.time.end_time < time)
    throw InputError(where + "is at t = " + std::to_string(time) +
                     ", after Time/End time = " + std::to_string(parameters.time.end_time) + ".");
  // A CFL-limited step is the solver's at each time, not set by End time.
  if (!density_solver->adjustable_time_step() &&
      meta.get("time step") != density_solver->time_step())
    {
      std::ostringstream message;
      message << std::setprecision(17) << where << "was written with the step "
              << meta.get("time step") << "; Time/End time = " << parameters.time.end_time
              << " gives " << density_solver->time_step()
              << " (End time / ceil(End time / Time step)): extend End time by whole steps.";
      throw InputError(message.str());
    }
  const CheckpointValues state = CheckpointValues::read(folder + "/state.txt");
  for (const std::string &name : continued_files)
    if (state.has("files/" + name) &&
        file_size(restart_directory + "/" + name) < state.get("files/" + name))
      throw InputError(where + "does not belong to the files in " + restart_directory + ": " +
                       name + " is shorter than when it was written.");

  Timer              clock;
  const unsigned int n_ranks = static_cast<unsigned int>(meta.get("ranks"));
  // A uniform mesh is partitioned alike on as many ranks; a loaded adapted one need not be
  // (measured on a periodic one: a rank owned a DoF that the other had written), so the
  // density's records are read by every rank, which takes what it owns.
  const bool adapted = parameters.adaptivity.enabled();
  restart_arrays["density_"] =
      read_rank_arrays(folder, "density_", n_ranks, !adapted, mpi_communicator);
  for (const auto &ensemble : particles->systems())
    {
      const std::string prefix = "particles_" + std::to_string(ensemble->system()) + "_";
      restart_arrays[prefix]   = read_rank_arrays(folder, prefix, n_ranks, true, mpi_communicator);
    }
  pcout << "  restart: checkpoint files read in " << clock.wall_time() << " s" << std::endl;
}

template <int dim>
void Simulation<dim>::truncate_output(const std::string &folder) const
{
  if (Utilities::MPI::this_mpi_process(mpi_communicator) != 0)
    return;
  // Rows written after the checkpoint (by a run killed later) go; the restart writes them.
  const CheckpointValues state = CheckpointValues::read(folder + "/state.txt");
  for (const std::string &name : continued_files)
    if (state.has("files/" + name))
      truncate_file(output_path + "/" + name,
                    static_cast<std::uint64_t>(state.get("files/" + name)));
}

template <int dim>
void Simulation<dim>::restore_checkpoint(const std::string &folder)
{
  Timer                  clock;
  const CheckpointValues meta    = CheckpointValues::read(folder + "/metadata.txt");
  const CheckpointValues state   = CheckpointValues::read(folder + "/state.txt");
  const unsigned int     n_ranks = static_cast<unsigned int>(meta.get("ranks"));

  auto &solver = dynamic_cast<CheckpointableSolver &>(*density_solver);
  solver.load_state(state, restart_arrays.at("density_"));
  schedule->restore_position(state.get_vector("schedule"));
  density_solver->set_time(schedule->time());
  particles->restore_pending(state.has("particles/pending") ? state.get_vector("particles/pending")
                                                            : std::vector<double>());
  for (auto &ensemble : particles->systems())
    ensemble->restore(restart_arrays.at("particles_" + std::to_string(ensemble->system()) + "_"));
  restart_arrays.clear();
  const std::vector<double> iterations = state.get_vector("run/iterations");
  iterations_since_output              = static_cast<unsigned int>(iterations.at(0));
  total_iterations                     = static_cast<unsigned long>(iterations.at(1));
  if (density_output)
    density_output->restore_series(parse_series(state.get_text("series/density")));
  if (particle_output)
    particle_output->restore_series(parse_series(state.get_text("series/particles")));
  restarted = true;
  pcout << "  restart: from " << folder << " at t = " << schedule->time() << ", step "
        << schedule->step_number() << " (written on " << n_ranks << " rank(s)), restored in "
        << clock.wall_time() << " s" << std::endl;
}

template <int dim>
void Simulation<dim>::write_checkpoint()
{
  TimerOutput::Scope     scope(timer, "checkpoint");
  Timer                  clock;
  const CheckpointFolder checkpoints(output_path);
  const std::string      folder = checkpoints.begin(mpi_communicator);
  const unsigned int     rank   = Utilities::MPI::this_mpi_process(mpi_communicator);
  const std::string      suffix = std::to_string(rank) + ".bin";
  CheckpointValues       state;
  std::vector<double>    records;
  dynamic_cast<const CheckpointableSolver &>(*density_solver).save_state(state, records);
  std::uint64_t bytes = 8 * records.size();
  bool          ok    = write_checkpoint_array(folder + "/density_" + suffix, records);
  for (const auto &ensemble : particles->systems())
    {
      const std::vector<double> record = ensemble->checkpoint_record();
      bytes += 8 * record.size();
      ok =
          write_checkpoint_array(
              folder + "/particles_" + std::to_string(ensemble->system()) + "_" + suffix, record) &&
          ok;
    }
  throw_if_any(!ok, "Cannot write the checkpoint files in " + folder, mpi_communicator, true);
  bytes = Utilities::MPI::sum(bytes, mpi_communicator);

  state.set("schedule", schedule->position());
  state.set("particles/pending", particles->pending());
  state.set("run/iterations", {double(iterations_since_output), double(total_iterations)});
  for (const std::string &name : continued_files)
    if (std::ifstream(output_path + "/" + name))
      state.set("files/" + name, double(file_size(output_path + "/" + name)));
  state.set_text("series/density", density_output ? series_text(density_output->series()) : "");
  state.set_text("series/particles", particle_output ? series_text(particle_output->series()) : "");
  CheckpointValues meta;
  if (parameters.adaptivity.enabled())
    {
      // The adapted mesh itself (p4est), into the same folder; on restart the records
      // find their cells (by CellId) on the loaded mesh.
      mesh_->save_refinement(folder + "/mesh");
      if (rank == 0)
        for (const std::string &name : mesh_files)
          if (std::ifstream(folder + "/" + name))
            meta.set_text("mesh/" + name, file_checksum(folder + "/" + name));
    }
  meta.set_text("format", format_name);
  meta.set_text("commit", build_commit());
  meta.set_text("deal.II", DEAL_II_PACKAGE_VERSION);
  meta.set_text("problem", parameters.name);
  meta.set("dimension", dim);
  meta.set("ranks", Utilities::MPI::n_mpi_processes(mpi_communicator));
  meta.set("time", schedule->time());
  meta.set("step", schedule->step_number());
  meta.set("time step", density_solver->time_step());
  if (rank == 0)
    {
      std::ofstream(folder + "/state.txt") << state.to_text();
      std::ofstream(folder + "/parameters.prm") << parameters.effective_parameters;
      // Last: a folder with metadata.txt is complete.
      std::ofstream(folder + "/metadata.txt") << meta.to_text();
    }
  checkpoints.commit(mpi_communicator);
  pcout << "  checkpoint: t = " << schedule->time() << ", step " << schedule->step_number() << ", "
        << std::setprecision(3) << bytes / 1e6 << " MB in " << clock.wall_time() << " s"
        << std::endl;
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void        Simulation<dim>::check_checkpoint_support() const;                          \
  template std::string Simulation<dim>::check_restart_metadata() const;                            \
  template void        Simulation<dim>::check_restart(const std::string &);                        \
  template void        Simulation<dim>::truncate_output(const std::string &) const;                \
  template void        Simulation<dim>::restore_checkpoint(const std::string &);                   \
  template void        Simulation<dim>::write_checkpoint();
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow

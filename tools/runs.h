/* Many `m2msim run`s as child processes, for sweep and solve: J at a time, each writing
 * one part (a results database of one run, appearing atomically by the writer's rename),
 * its stderr into a log next to it. A part that exists is finished, so an interrupted
 * study resumes by running the same jobs again. Children die with the parent
 * (PR_SET_PDEATHSIG): a killed study leaves no runs behind. */
#pragma once

#include <stdbool.h>
#include <glib.h>

typedef struct {
  char **argv; /* the run's argument vector, argv[0] the executable */
  char *out;   /* the part it writes (".db"); its log is the same name with ".log" */
  char *label; /* what the run is, for messages ("run 12 (k=v, replication 3)") */
} RunsJob;

/* Takes argv and label. */
RunsJob *runs_job_new(char **argv, const char *out, char *label);
void runs_job_free(RunsJob *j);

/* True when path reads as a results database holding one run; anything else under the
 * name is removed so the run can write it again. */
bool runs_part_done(const char *path);

/* The executable children run: this process's own file. NULL when it cannot be found. */
char *runs_self_exe(const char *argv0);

/* The argument vector as one POSIX shell command line, every word quoted. */
char *runs_command_line(char *const *argv);

/* Writes `len` octets (-1: a string) to path atomically: a hidden temporary
 * ".NAME.tmp-PID-XXXXXX" beside it, synced, renamed over path. A kill leaves path whole
 * (old or new) and at most a hidden temporary, never a visible half-written name
 * (g_file_set_contents leaves "NAME.XXXXXX"). */
bool runs_write_file(const char *path, const char *data, gssize len, GError **error);

/* Makes dir for the parts of a study described by `manifest`, or checks an existing one
 * holds parts of that study (its manifest equal); `what` names the study in messages
 * ("sweep"). False after printing one line as `m2msim CMD: ...`. */
bool runs_prepare_dir(const char *cmd, const char *dir, const char *manifest, const char *what);

/* Runs those of `jobs` (RunsJob*) whose part is not done yet, `j` at a time, showing
 * progress on stderr. Stops starting runs at the first failure and prints which run
 * failed, the tail of its log and its command. CLI_EXIT_OK or CLI_EXIT_FAIL. */
int runs_execute(const char *cmd, const char *dir, GPtrArray *jobs, unsigned j);

/* -j J: at least 1 (NULL: the CPU count). False after printing the error. */
bool runs_jobs_arg(const char *cmd, const char *text, unsigned *jobs);

/* -o DB: refuses (false, the error printed) an existing file that is not a results
 * database or not a regular file, before the study runs for hours and cannot write it. */
bool runs_check_output(const char *cmd, const char *out);

/* ---- engines: where a round of runs executes ---------------------------------------- */

typedef enum {
  RUNS_LOCAL,    /* child processes here, J at a time (runs_execute) */
  RUNS_SLURM,    /* one sbatch --wait array job per round */
  RUNS_PARALLEL, /* GNU parallel --sshloginfile per round */
} RunsEngineKind;

typedef struct {
  RunsEngineKind kind;
  unsigned jobs;          /* local: runs at once */
  const char *sshloginfile; /* parallel: its --sshloginfile */
  const char *ssh;          /* parallel: its --ssh command, or NULL for ssh */
  const char *sbatch_args;  /* slurm: extra sbatch arguments (shell words), or NULL */
} RunsEngine;

/* The GOptionEntry lines of --engine, --sshloginfile, --ssh and --sbatch-args, filling
 * the four char * variables named (what runs_engine_args reads). */
#define RUNS_ENGINE_OPTIONS(engine, sshloginfile, ssh, sbatch_args)                               \
  {"engine", 0, 0, G_OPTION_ARG_STRING, &(engine),                                              \
   "where each round of runs executes: local (J at a time here, the default), slurm (one "      \
   "sbatch --wait array job per round) or parallel (GNU parallel over --sshloginfile)",         \
   "local|slurm|parallel"},                                                                     \
      {"sshloginfile", 0, 0, G_OPTION_ARG_FILENAME, &(sshloginfile),                           \
       "--engine parallel: the machines, as GNU parallel reads them", "FILE"},                 \
      {"ssh", 0, 0, G_OPTION_ARG_STRING, &(ssh), "--engine parallel: the ssh command to use",  \
       "CMD"},                                                                                  \
      {"sbatch-args", 0, 0, G_OPTION_ARG_STRING, &(sbatch_args),                               \
       "--engine slurm: more sbatch arguments, e.g. '--partition=long --time=2:00:00'", "ARGS"}

/* Parses --engine and its companions; false after printing one line. */
bool runs_engine_args(const char *cmd, const char *engine, const char *jobs, const char *sshloginfile,
                      const char *ssh, const char *sbatch_args, RunsEngine *out);

/* Runs the unfinished jobs on the engine and waits for them: locally as runs_execute; with
 * Slurm as one array job (sbatch --wait) of their commands; with GNU parallel over the
 * logins of the sshloginfile. Each round's job list and script stay in dir (round-N.*).
 * Then every job's part must exist: a run that did not write it is reported (its log:
 * dir/slurm-JOB_TASK.out, or parallel's output) and the result is CLI_EXIT_FAIL. */
int runs_execute_on(const char *cmd, const char *dir, GPtrArray *jobs, const RunsEngine *e);

/* An sbatch array script running line i of jobs_path for task i (lines at most
 * RUNS_MAX_ARRAY tasks: with more lines, task i runs lines i, i + RUNS_MAX_ARRAY, ...: Slurm
 * refuses arrays above MaxArraySize, 1001 by default). Each task stops at its first failed
 * run, so the failure reaches Slurm. comment: the script's first lines after #!. */
#define RUNS_MAX_ARRAY 1000
bool runs_slurm_script(const char *path, const char *jobs_path, size_t lines,
                       const char *parts_dir, const char *comment, GError **error);

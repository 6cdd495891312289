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

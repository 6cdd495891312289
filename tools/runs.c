/* Child processes running parts of a study (see runs.h). */
#include "runs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli.h"
#include "m2m/results.h"

bool
runs_write_file(const char *path, const char *data, gssize len, GError **error)
{
  size_t n = len < 0 ? strlen(data) : (size_t)len;
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *base = g_path_get_basename(path);
  g_autofree char *tmp = g_strdup_printf("%s/.%s.tmp-%ld-XXXXXX", dir, base, (long)getpid());
  int fd = g_mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create a file in %s: %s",
                dir, g_strerror(e));
    return false;
  }
  mode_t um = umask(0); /* the mode g_file_set_contents would give: 0666 less the umask */
  umask(um);
  fchmod(fd, 0666 & ~um);
  size_t done = 0;
  while (done < n) {
    ssize_t k = write(fd, data + done, n - done);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      break;
    done += (size_t)k;
  }
  int e = done < n ? errno : 0;
  if (e == 0 && fsync(fd) != 0)
    e = errno;
  if (close(fd) != 0 && e == 0)
    e = errno;
  if (e == 0 && g_rename(tmp, path) != 0)
    e = errno;
  if (e != 0) {
    g_unlink(tmp);
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", path,
                g_strerror(e));
    return false;
  }
  return true;
}

RunsJob *
runs_job_new(char **argv, const char *out, char *label)
{
  RunsJob *j = g_new(RunsJob, 1);
  j->argv = argv;
  j->out = g_strdup(out);
  j->label = label;
  return j;
}

void
runs_job_free(RunsJob *j)
{
  if (j == NULL)
    return;
  g_strfreev(j->argv);
  g_free(j->out);
  g_free(j->label);
  g_free(j);
}

/* Parts appear only by the atomic rename of a run that committed. */
bool
runs_part_done(const char *path)
{
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return false;
  g_autoptr(ResReader) r = res_reader_open(path, NULL);
  g_autoptr(GPtrArray) runs = r ? res_reader_runs(r, NULL) : NULL;
  if (runs != NULL && runs->len == 1)
    return true;
  g_unlink(path);
  return false;
}

char *
runs_self_exe(const char *argv0)
{
  char *p = g_file_read_link("/proc/self/exe", NULL);
  if (p != NULL)
    return p;
  if (strchr(argv0, '/') != NULL)
    return g_canonicalize_filename(argv0, NULL);
  return g_find_program_in_path(argv0);
}

char *
runs_command_line(char *const *argv)
{
  GString *s = g_string_new(NULL);
  for (char *const *a = argv; *a; a++) {
    g_autofree char *q = g_shell_quote(*a);
    g_string_append_printf(s, "%s%s", a == argv ? "" : " ", q);
  }
  return g_string_free(s, FALSE);
}

bool
runs_prepare_dir(const char *cmd, const char *dir, const char *manifest, const char *what)
{
  g_autofree char *mpath = g_build_filename(dir, "manifest", NULL);
  g_autoptr(GError) error = NULL;
  if (g_file_test(dir, G_FILE_TEST_EXISTS)) {
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
      cli_usage_error(cmd, "%s exists and is not a directory (the %s keeps its parts there)", dir,
                      what);
      return false;
    }
    g_autofree char *old = NULL;
    if (g_file_get_contents(mpath, &old, NULL, NULL)) {
      if (strcmp(old, manifest) == 0)
        return true;
      cli_usage_error(cmd,
                      "%s holds parts of a different %s (see its manifest for what differs); "
                      "use another -o or remove that directory",
                      dir, what);
      return false;
    }
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (d != NULL && g_dir_read_name(d) != NULL) {
      cli_usage_error(cmd,
                      "%s is not empty and has no %s manifest; use another -o or remove "
                      "that directory",
                      dir, what);
      return false;
    }
  } else if (g_mkdir(dir, 0777) != 0) {
    cli_usage_error(cmd, "cannot create %s: %s", dir, g_strerror(errno));
    return false;
  }
  if (!runs_write_file(mpath, manifest, -1, &error)) {
    cli_usage_error(cmd, "%s", error->message);
    return false;
  }
  return true;
}

static char *
log_path(const RunsJob *j)
{
  g_autofree char *stem =
      g_str_has_suffix(j->out, ".db") ? g_strndup(j->out, strlen(j->out) - 3) : g_strdup(j->out);
  return g_strconcat(stem, ".log", NULL);
}

static char *
fmt_hms(double s)
{
  if (!(s >= 0) || s > 1e8)
    return g_strdup("?");
  unsigned long t = (unsigned long)(s + 0.5);
  return g_strdup_printf("%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

typedef struct {
  const char *cmd;
  size_t total, done, skipped, running;
  gint64 start_us, last_us;
  bool tty;
} Progress;

static void
progress_show(Progress *p, bool final)
{
  gint64 now = g_get_monotonic_time();
  if (!p->tty && !final && now - p->last_us < 5 * G_USEC_PER_SEC)
    return;
  p->last_us = now;
  double elapsed = (double)(now - p->start_us) / 1e6;
  size_t fresh = p->done - p->skipped;
  double eta = fresh > 0 ? elapsed / (double)fresh * (double)(p->total - p->done) : -1;
  g_autofree char *el = fmt_hms(elapsed);
  g_autofree char *et = fmt_hms(eta);
  fprintf(stderr, "%s%s: %zu/%zu runs done (%zu running", p->tty ? "\r\033[K" : "", p->cmd,
          p->done, p->total, p->running);
  if (p->skipped)
    fprintf(stderr, ", %zu done before", p->skipped);
  fprintf(stderr, "), elapsed %s, ETA %s%s", el, p->done == p->total ? "0:00:00" : et,
          p->tty && !final ? "" : "\n");
  fflush(stderr);
}

typedef struct {
  pid_t pid;
  const RunsJob *job;
} Child;

/* Starts one run: stdin and stdout on /dev/null, stderr into its log file. Everything is
 * prepared before fork; the child only calls async-signal-safe functions. */
static pid_t
spawn(const char *cmd, const RunsJob *j)
{
  g_autofree char *log = log_path(j);
  int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (logfd < 0 || nullfd < 0) {
    fprintf(stderr, "m2msim %s: cannot open %s: %s\n", cmd, logfd < 0 ? log : "/dev/null",
            g_strerror(errno));
    if (logfd >= 0)
      close(logfd);
    if (nullfd >= 0)
      close(nullfd);
    return -1;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* Die with the study: a killed sweep must not leave runs writing behind it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    dup2(nullfd, 0);
    dup2(nullfd, 1);
    dup2(logfd, 2);
    execv(j->argv[0], j->argv);
    static const char msg[] = "m2msim: cannot execute the run command\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  int e = errno;
  close(logfd);
  close(nullfd);
  if (pid < 0)
    fprintf(stderr, "m2msim %s: fork: %s\n", cmd, g_strerror(e));
  return pid;
}

/* Last non-empty line of a run's log, for the failure message. */
static char *
log_tail(const char *path)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return g_strdup("");
  g_strchomp(text);
  const char *nl = strrchr(text, '\n');
  const char *line = nl ? nl + 1 : text;
  const char *cr = strrchr(line, '\r');
  return g_strdup(cr ? cr + 1 : line);
}

int
runs_execute(const char *cmd, const char *dir, GPtrArray *jobs_list, unsigned jobs)
{
  size_t n = jobs_list->len;
  res_remove_stale_temps(dir);
  g_autoptr(GPtrArray) todo = g_ptr_array_new();
  for (size_t i = 0; i < n; i++) {
    const RunsJob *j = jobs_list->pdata[i];
    if (!runs_part_done(j->out))
      g_ptr_array_add(todo, (gpointer)j);
  }
  Progress prog = {.cmd = cmd,
                   .total = n,
                   .done = n - todo->len,
                   .skipped = n - todo->len,
                   .start_us = g_get_monotonic_time(),
                   .tty = isatty(2)};
  g_autofree Child *kids = g_new0(Child, jobs);
  size_t next = 0;
  bool failed = false;
  bool shown = false;
  while ((next < todo->len && !failed) || prog.running > 0) {
    while (!failed && next < todo->len && prog.running < jobs) {
      const RunsJob *job = todo->pdata[next++];
      pid_t pid = spawn(cmd, job);
      if (pid < 0) {
        failed = true;
        break;
      }
      for (unsigned k = 0; k < jobs; k++)
        if (kids[k].pid == 0) {
          kids[k] = (Child){pid, job};
          break;
        }
      prog.running++;
    }
    if (prog.running == 0)
      break;
    if (!shown) {
      progress_show(&prog, false);
      shown = true;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      fprintf(stderr, "\nm2msim %s: waitpid: %s\n", cmd, g_strerror(errno));
      return CLI_EXIT_FAIL;
    }
    unsigned k = 0;
    while (k < jobs && kids[k].pid != pid)
      k++;
    if (k == jobs)
      continue;
    const RunsJob *job = kids[k].job;
    kids[k].pid = 0;
    prog.running--;
    g_autofree char *log = log_path(job);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && runs_part_done(job->out)) {
      g_unlink(log);
      prog.done++;
      progress_show(&prog, false);
      continue;
    }
    if (!failed && prog.tty)
      fputc('\n', stderr);
    failed = true;
    g_autofree char *tail = log_tail(log);
    g_autofree char *line = runs_command_line(job->argv);
    g_autofree char *how = WIFEXITED(status)
                               ? g_strdup_printf("exit status %d", WEXITSTATUS(status))
                           : WIFSIGNALED(status) ? g_strdup_printf("signal %d", WTERMSIG(status))
                                                 : g_strdup("unknown status");
    fprintf(stderr,
            "m2msim %s: %s failed (%s%s)%s%s\n"
            "  log: %s\n  command: %s\n",
            cmd, job->label, how,
            WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ", no results written" : "",
            *tail ? ": " : "", tail, log, line);
  }
  if (failed) {
    fprintf(stderr,
            "m2msim %s: %zu of %zu runs done; fix the cause and run the same "
            "command again to finish the others\n",
            cmd, prog.done, n);
    return CLI_EXIT_FAIL;
  }
  if (todo->len > 0)
    progress_show(&prog, true);
  return CLI_EXIT_OK;
}

bool
runs_jobs_arg(const char *cmd, const char *text, unsigned *jobs)
{
  *jobs = g_get_num_processors();
  if (text == NULL)
    return true;
  uint64_t v;
  if (!cli_uint_arg(cmd, "jobs", text, 4096, &v))
    return false;
  if (v < 1) {
    cli_usage_error(cmd, "-j: must be at least 1");
    return false;
  }
  *jobs = (unsigned)v;
  return true;
}

bool
runs_check_output(const char *cmd, const char *out)
{
  if (!g_file_test(out, G_FILE_TEST_EXISTS))
    return true;
  struct stat st;
  if (g_stat(out, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ResReader) r = res_reader_open(out, &error);
    if (r == NULL) {
      cli_usage_error(cmd, "-o %s", error->message);
      return false;
    }
  } else if (!S_ISREG(st.st_mode)) {
    cli_usage_error(cmd, "-o %s: not a regular file", out);
    return false;
  }
  return true;
}

/* ---- engines ------------------------------------------------------------------------- */

bool
runs_engine_args(const char *cmd, const char *engine, const char *jobs, const char *sshloginfile,
                 const char *ssh, const char *sbatch_args, RunsEngine *out)
{
  *out = (RunsEngine){.kind = RUNS_LOCAL};
  if (!runs_jobs_arg(cmd, jobs, &out->jobs))
    return false;
  if (engine == NULL || strcmp(engine, "local") == 0) {
    out->kind = RUNS_LOCAL;
  } else if (strcmp(engine, "slurm") == 0) {
    out->kind = RUNS_SLURM;
  } else if (strcmp(engine, "parallel") == 0) {
    out->kind = RUNS_PARALLEL;
  } else {
    cli_usage_error(cmd, "--engine %s: expected local, slurm or parallel", engine);
    return false;
  }
  if (out->kind == RUNS_PARALLEL && sshloginfile == NULL) {
    cli_usage_error(cmd, "--engine parallel needs --sshloginfile FILE (GNU parallel's list of "
                         "machines, e.g. lines '8/user@node1')");
    return false;
  }
  if (out->kind != RUNS_PARALLEL && (sshloginfile != NULL || ssh != NULL)) {
    cli_usage_error(cmd, "--sshloginfile and --ssh go with --engine parallel");
    return false;
  }
  if (out->kind != RUNS_SLURM && sbatch_args != NULL) {
    cli_usage_error(cmd, "--sbatch-args goes with --engine slurm");
    return false;
  }
  out->sshloginfile = sshloginfile;
  out->ssh = ssh;
  out->sbatch_args = sbatch_args;
  return true;
}

bool
runs_slurm_script(const char *path, const char *jobs_path, size_t lines, const char *parts_dir,
                  const char *comment, GError **error)
{
  g_autofree char *abs_jobs = g_canonicalize_filename(jobs_path, NULL);
  g_autofree char *q_jobs = g_shell_quote(abs_jobs);
  g_autofree char *abs_parts = g_canonicalize_filename(parts_dir, NULL);
  size_t tasks = MIN(lines, (size_t)RUNS_MAX_ARRAY);
  g_autofree char *script = g_strdup_printf(
      "#!/bin/bash\n"
      "%s"
      "#SBATCH --job-name=m2msim\n"
      "#SBATCH --array=1-%zu\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output=%s/slurm-%%A_%%a.out\n"
      "set -euo pipefail\n"
      "# task i runs line i of the job list, then every %d-th after it (arrays stay under\n"
      "# Slurm's MaxArraySize); the first failed run fails the task\n"
      "lines=%zu\n"
      "for ((n = SLURM_ARRAY_TASK_ID; n <= lines; n += %d)); do\n"
      "  line=$(sed -n \"${n}p\" %s)\n"
      "  if [ -z \"$line\" ]; then\n"
      "    echo \"m2msim: no line $n in %s\" >&2\n"
      "    exit 2\n"
      "  fi\n"
      "  eval \"$line\"\n"
      "done\n",
      comment, tasks, abs_parts, RUNS_MAX_ARRAY, lines, RUNS_MAX_ARRAY, q_jobs, abs_jobs);
  if (!runs_write_file(path, script, -1, error))
    return false;
  g_chmod(path, 0755);
  return true;
}

/* Runs argv (a NULL-terminated vector) to its end, stdout and stderr into log; its exit
 * status, or -1 when it cannot start (the error printed). */
static int
run_tool(const char *cmd, char **argv, const char *log)
{
  int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    fprintf(stderr, "m2msim %s: cannot open %s: %s\n", cmd, log, g_strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(fd);
  if (pid < 0) {
    fprintf(stderr, "m2msim %s: fork: %s\n", cmd, g_strerror(errno));
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int
runs_execute_on(const char *cmd, const char *dir, GPtrArray *jobs, const RunsEngine *e)
{
  if (e->kind == RUNS_LOCAL)
    return runs_execute(cmd, dir, jobs, e->jobs);
  res_remove_stale_temps(dir);
  g_autoptr(GPtrArray) todo = g_ptr_array_new();
  GString *lines = g_string_new(NULL);
  for (guint i = 0; i < jobs->len; i++) {
    const RunsJob *j = jobs->pdata[i];
    if (runs_part_done(j->out))
      continue;
    g_ptr_array_add(todo, (gpointer)j);
    g_autofree char *line = runs_command_line(j->argv);
    g_string_append_printf(lines, "%s\n", line);
  }
  if (todo->len == 0) {
    g_string_free(lines, TRUE);
    return CLI_EXIT_OK;
  }
  /* the round's files: the first round-N not used yet */
  unsigned round = 1;
  char *jobs_path = NULL;
  for (;; round++) {
    g_autofree char *name = g_strdup_printf("round-%u.jobs", round);
    jobs_path = g_build_filename(dir, name, NULL);
    if (!g_file_test(jobs_path, G_FILE_TEST_EXISTS))
      break;
    g_free(jobs_path);
  }
  g_autofree char *jobs_file = jobs_path;
  g_autoptr(GError) error = NULL;
  bool written = runs_write_file(jobs_file, lines->str, (gssize)lines->len, &error);
  g_string_free(lines, TRUE);
  if (!written) {
    fprintf(stderr, "m2msim %s: %s\n", cmd, error->message);
    return CLI_EXIT_FAIL;
  }
  g_autofree char *log = g_strdup_printf("%s/round-%u.log", dir, round);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  const char *what;
  if (e->kind == RUNS_SLURM) {
    what = "sbatch --wait";
    g_autofree char *script = g_strdup_printf("%s/round-%u.sbatch", dir, round);
    if (!runs_slurm_script(script, jobs_file, todo->len, dir,
                           "# m2msim: one round of runs, submitted and waited for by m2msim\n",
                           &error)) {
      fprintf(stderr, "m2msim %s: %s\n", cmd, error->message);
      return CLI_EXIT_FAIL;
    }
    g_ptr_array_add(argv, g_strdup("sbatch"));
    g_ptr_array_add(argv, g_strdup("--wait"));
    g_ptr_array_add(argv, g_strdup("-Q"));
    g_auto(GStrv) extra = NULL;
    if (e->sbatch_args != NULL && !g_shell_parse_argv(e->sbatch_args, NULL, &extra, &error)) {
      fprintf(stderr, "m2msim %s: --sbatch-args: %s\n", cmd, error->message);
      return CLI_EXIT_USAGE;
    }
    for (char **x = extra; x && *x; x++)
      g_ptr_array_add(argv, g_strdup(*x));
    g_ptr_array_add(argv, g_strdup(script));
  } else {
    what = "GNU parallel";
    g_ptr_array_add(argv, g_strdup("parallel"));
    g_ptr_array_add(argv, g_strdup("--will-cite"));
    if (e->ssh) {
      g_ptr_array_add(argv, g_strdup("--ssh"));
      g_ptr_array_add(argv, g_strdup(e->ssh));
    }
    g_ptr_array_add(argv, g_strdup("--sshloginfile"));
    g_ptr_array_add(argv, g_strdup(e->sshloginfile));
    g_ptr_array_add(argv, g_strdup("::::"));
    g_ptr_array_add(argv, g_strdup(jobs_file));
  }
  g_ptr_array_add(argv, NULL);
  fprintf(stderr, "%s: %u runs through %s (%s)\n", cmd, todo->len, what, jobs_file);
  int status = run_tool(cmd, (char **)argv->pdata, log);
  /* whatever the tool says, the parts are the truth */
  guint missing = 0;
  for (guint i = 0; i < todo->len; i++) {
    const RunsJob *j = todo->pdata[i];
    if (runs_part_done(j->out))
      continue;
    if (missing++ < 3)
      fprintf(stderr, "m2msim %s: %s wrote no results\n", cmd, j->label);
  }
  if (missing > 0 || status != 0) {
    g_autofree char *tail = log_tail(log);
    fprintf(stderr,
            "m2msim %s: %u of %u runs missing after %s (exit status %d%s%s); its output: %s%s; "
            "fix the cause and run the same command again to finish the others\n",
            cmd, missing, todo->len, what, status, *tail ? ": " : "", tail, log,
            e->kind == RUNS_SLURM ? " and the runs' own in slurm-*.out beside it" : "");
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

/* The results database (schema: ../shared/docs/results.md). All SQL of m2msim lives in
 * this file, in the statement table below; statements are prepared once per connection
 * and bound by name, in the manner of osmo-hlr's db.c.
 *
 * Why a temporary file and a rename: a results file is either the previous complete
 * result or the new complete result, never something in between, whatever happens to
 * the process (SIGKILL, power loss after commit returned). The writer fills
 * ".NAME.tmp-HOST-PID-XXXXXX" in the final file's directory inside one transaction,
 * with SQLite's own durability switched off (journal in memory, synchronous=OFF: the
 * rename gives durability, and a crash only ever damages the temporary file), then
 * commits, fsyncs the file, renames it over NAME and fsyncs the directory.
 *
 * A killed writer leaves its hidden temporary file behind. The next writer in that
 * directory removes temporary files whose PID is no longer alive on this host
 * (res_remove_stale_temps()); the host name in the file name keeps writers on other
 * machines sharing the directory (Slurm, NFS) safe from each other.
 *
 * Schema versions: PRAGMA user_version holds RES_SCHEMA_VERSION and PRAGMA
 * application_id holds RES_APPLICATION_ID. A file from a newer m2msim is refused rather
 * than half-understood; a file without our application_id is not ours.
 *
 * Security: the writer is generic and stores whatever it is given. Keys (K, OPc,
 * private keys) must never be passed to it; callers own that rule (design.md
 * "Results"). */
#include "m2m/results.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "m2m-config.h"

G_DEFINE_QUARK(res-error-quark, res_error)

/* ---- SQL ------------------------------------------------------------------------- */

/* Version 2. The first four tables are the user contract (results.md): add, never
 * rename. meta is ours (who wrote the file, what a solve found). The series index carries
 * t so a series comes out in time order without a sort. Version 2 added the run's
 * provenance (version .. host) to run; version 1 files are read as having none, and
 * migrated when copied (res_writer_open_copy). */
static const char res_schema_v2[] =
  "CREATE TABLE run (id INTEGER PRIMARY KEY, scenario TEXT, name TEXT, seed INTEGER,"
  "                  replication INTEGER, started TEXT, wall_s REAL, status TEXT,"
  "                  version TEXT, git_commit TEXT, command TEXT, host TEXT);"
  "CREATE TABLE param (run_id INTEGER, key TEXT, value TEXT);"
  "CREATE TABLE scalar (run_id INTEGER, name TEXT, value REAL);"
  "CREATE TABLE series (run_id INTEGER, name TEXT, t REAL, value REAL);"
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
  "INSERT INTO meta (key, value) VALUES ('created_by', 'm2msim " M2M_VERSION "');"
  "PRAGMA application_id = 1295142227;" /* RES_APPLICATION_ID, checked below */
  "PRAGMA user_version = 2;";

static const char res_migrate_v1[] = "ALTER TABLE run ADD COLUMN version TEXT;"
                                     "ALTER TABLE run ADD COLUMN git_commit TEXT;"
                                     "ALTER TABLE run ADD COLUMN command TEXT;"
                                     "ALTER TABLE run ADD COLUMN host TEXT;"
                                     "PRAGMA user_version = 2;";

/* Indexes of version 1, built at commit: one sort at the end is cheaper than keeping
 * them up to date row by row (a copied file already has them; SQLite then updates them
 * as rows come in). */
static const char res_indexes_v1[] =
  "CREATE INDEX IF NOT EXISTS param_run ON param (run_id);"
  "CREATE INDEX IF NOT EXISTS scalar_run_name ON scalar (run_id, name);"
  "CREATE INDEX IF NOT EXISTS series_run_name ON series (run_id, name, t);";
G_STATIC_ASSERT(RES_APPLICATION_ID == 1295142227);
G_STATIC_ASSERT(RES_SCHEMA_VERSION == 2);

/* Connection settings of the writer; see the file comment for why durability is off. */
static const char res_writer_pragmas[] = "PRAGMA journal_mode = MEMORY;"
                                         "PRAGMA synchronous = OFF;"
                                         "PRAGMA locking_mode = EXCLUSIVE;"
                                         "PRAGMA temp_store = MEMORY;"
                                         "PRAGMA cache_size = -32768;"; /* KiB */

typedef enum {
  /* writer */
  RES_STMT_RUN_INSERT,
  RES_STMT_RUN_FINISH,
  RES_STMT_PARAM_INSERT,
  RES_STMT_SCALAR_INSERT,
  RES_STMT_SERIES_INSERT,
  RES_STMT_RUN_PROVENANCE,
  RES_STMT_META_SET,
  RES_STMT_WRITER_N,
  /* reader */
  RES_STMT_RUNS = RES_STMT_WRITER_N,
  RES_STMT_PARAMS,
  RES_STMT_SCALARS,
  RES_STMT_SCALAR,
  RES_STMT_SERIES_NAMES,
  RES_STMT_SERIES,
  RES_STMT_META_GET,
  RES_STMT_N,
} ResStmt;

static const char *const res_stmt_sql[RES_STMT_N] = {
  [RES_STMT_RUN_INSERT] =
    "INSERT INTO run (scenario, name, seed, replication, started, status)"
    " VALUES (:scenario, :name, :seed, :replication, :started, 'unfinished')",
  [RES_STMT_RUN_FINISH] = "UPDATE run SET wall_s = :wall_s, status = :status WHERE id = :id",
  [RES_STMT_PARAM_INSERT] =
    "INSERT INTO param (run_id, key, value) VALUES (:run_id, :key, :value)",
  [RES_STMT_SCALAR_INSERT] =
    "INSERT INTO scalar (run_id, name, value) VALUES (:run_id, :name, :value)",
  [RES_STMT_SERIES_INSERT] =
    "INSERT INTO series (run_id, name, t, value) VALUES (:run_id, :name, :t, :value)",
  [RES_STMT_RUN_PROVENANCE] = "UPDATE run SET version = :version, git_commit = :git_commit,"
                              " command = :command, host = :host WHERE id = :id",
  [RES_STMT_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (:key, :value)",
  [RES_STMT_RUNS] = "SELECT id, scenario, name, seed, replication, started, wall_s, status,"
                    " version, git_commit, command, host FROM run ORDER BY id",
  [RES_STMT_PARAMS] = "SELECT key, value FROM param WHERE run_id = :run_id ORDER BY rowid",
  [RES_STMT_SCALARS] =
    "SELECT name, value FROM scalar WHERE run_id = :run_id ORDER BY name, rowid",
  [RES_STMT_SCALAR] = "SELECT value FROM scalar WHERE run_id = :run_id AND name = :name"
                      " ORDER BY rowid LIMIT 1",
  [RES_STMT_SERIES_NAMES] =
    "SELECT DISTINCT name FROM series WHERE run_id = :run_id ORDER BY name",
  [RES_STMT_SERIES] = "SELECT t, value FROM series WHERE run_id = :run_id AND name = :name"
                      " ORDER BY t, rowid",
  [RES_STMT_META_GET] = "SELECT value FROM meta WHERE key = :key",
};

/* The runs of a version 1 file, which has no provenance. */
static const char res_runs_v1_sql[] =
  "SELECT id, scenario, name, seed, replication, started, wall_s, status, NULL, NULL, NULL,"
  " NULL FROM run ORDER BY id";

struct ResWriter {
  sqlite3 *db;
  sqlite3_stmt *stmt[RES_STMT_WRITER_N];
  char *final_path;
  char *dir;       /* directory of final_path, fsynced after the rename */
  char *temp_path; /* NULL once committed or aborted */
  int fd;          /* the temporary file, kept open to fsync it after sqlite3_close */
  bool failed;     /* a write failed: commit is refused */
};

struct ResReader {
  sqlite3 *db;
  sqlite3_stmt *stmt[RES_STMT_N];
  char *path;
  int version; /* PRAGMA user_version */
};

/* ---- Helpers --------------------------------------------------------------------- */

/* Index of a named parameter; a missing name is a bug in the statement table. */
static int
res_idx(sqlite3_stmt *st, const char *name)
{
  int i = sqlite3_bind_parameter_index(st, name);
  g_assert(i > 0);
  return i;
}

static void
res_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
  int i = res_idx(st, name);
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static void
res_bind_int64(sqlite3_stmt *st, const char *name, int64_t v)
{
  sqlite3_bind_int64(st, res_idx(st, name), v);
}

static void
res_bind_double(sqlite3_stmt *st, const char *name, double v)
{
  sqlite3_bind_double(st, res_idx(st, name), v);
}

/* SQLite's message for the last error on db (for rc when db is NULL) as valid UTF-8: it
 * may quote names from a damaged file's schema, which can hold any octets. Caller frees. */
static char *
res_sqlite_msg(sqlite3 *db, int rc)
{
  return g_utf8_make_valid(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), -1);
}

static void
res_set_db_error(GError **error, sqlite3 *db, const char *path, const char *what)
{
  g_autofree char *msg = res_sqlite_msg(db, SQLITE_ERROR);
  g_set_error(error, RES_ERROR, RES_ERROR_DB, "%s: %s: %s", path, what, msg);
}

/* Reads an integer PRAGMA. Returns the SQLite result code. */
static int
res_pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int64(st, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* Checks that db (opened on path) is an m2msim results database and returns its schema
 * version. Does not judge the version beyond "at least 1". */
static bool
res_identify(sqlite3 *db, const char *path, int *version, GError **error)
{
  int64_t app = 0, ver = 0;
  int rc = res_pragma_int(db, "PRAGMA application_id", &app);
  if (rc == SQLITE_OK)
    rc = res_pragma_int(db, "PRAGMA user_version", &ver);
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ||
      (rc == SQLITE_OK && app != RES_APPLICATION_ID)) {
    g_set_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS, "%s: not an m2msim results database",
                path);
    return false;
  }
  if (rc != SQLITE_OK) {
    res_set_db_error(error, db, path, "cannot read the database header");
    return false;
  }
  if (ver < 1 || ver > G_MAXINT) {
    g_set_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS,
                "%s: not an m2msim results database (schema version %" G_GINT64_FORMAT ")",
                path, ver);
    return false;
  }
  *version = (int)ver;
  return true;
}

static bool
res_check_version(int version, const char *path, GError **error)
{
  if (version > RES_SCHEMA_VERSION) {
    g_set_error(error, RES_ERROR, RES_ERROR_NEWER,
                "%s: written by a newer m2msim (results schema version %d; this build knows "
                "up to %d)",
                path, version, RES_SCHEMA_VERSION);
    return false;
  }
  return true;
}

/*
 * The SQLite name for reading path without writing anything next to it. Our own files use a
 * rollback journal, but a user may hand us a database left in WAL mode (by the sqlite3
 * shell, say): opened plainly, even read-only, SQLite would create NAME-wal and NAME-shm
 * beside it and, if the file is damaged, leave them there. "immutable" tells SQLite the file
 * will not change while we read it, so it creates nothing. Only when a NAME-wal already exists
 * (a writer's uncommitted pages, which immutable would ignore) is the plain name used.
 */
static char *
res_read_uri(const char *path, int *flags)
{
  g_autofree char *wal = g_strconcat(path, "-wal", NULL);
  if (g_file_test(wal, G_FILE_TEST_EXISTS))
    return g_strdup(path);
  *flags |= SQLITE_OPEN_URI;
  g_autofree char *escaped = g_uri_escape_string(path, "/", TRUE);
  /* "file://" + an empty authority keeps a path starting with "//" from naming a host. */
  return g_strconcat(path[0] == '/' ? "file://" : "file:", escaped, "?immutable=1", NULL);
}

/* Opens path read-only and identifies it; NULL with an error if it is not ours. */
static sqlite3 *
res_open_existing(const char *path, int *version, GError **error)
{
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_READONLY;
  g_autofree char *name = res_read_uri(path, &flags);
  int rc = sqlite3_open_v2(name, &db, flags, NULL);
  if (rc != SQLITE_OK) {
    g_autofree char *msg = res_sqlite_msg(db, rc);
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: cannot open: %s", path, msg);
    sqlite3_close(db);
    return NULL;
  }
  if (!res_identify(db, path, version, error)) {
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

static void
res_finalize_all(sqlite3_stmt **stmt, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    sqlite3_finalize(stmt[i]);
    stmt[i] = NULL;
  }
}

static bool
res_prepare(sqlite3 *db, const char *path, ResStmt first, ResStmt end, sqlite3_stmt **stmt,
            GError **error)
{
  for (int i = first; i < (int)end; i++) {
    if (sqlite3_prepare_v3(db, res_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmt[i - first],
                           NULL) != SQLITE_OK) {
      g_autofree char *msg = res_sqlite_msg(db, SQLITE_ERROR);
      g_set_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS,
                  "%s: not an m2msim results database (%s)", path, msg);
      return false;
    }
  }
  return true;
}

/* Host name made safe for a file name. Caller frees. */
static char *
res_host_tag(void)
{
  char *h = g_strdup(g_get_host_name());
  for (char *p = h; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
      *p = '_';
  return h;
}

/* If entry is a writer temp file of host ".NAME.tmp-HOST-PID-XXXXXX", stores PID. */
static bool
res_parse_temp_name(const char *entry, const char *host, pid_t *pid)
{
  size_t n = strlen(entry);
  if (entry[0] != '.' || n < 8)
    return false;
  const char *end = entry + n - 7; /* "-XXXXXX" */
  if (*end != '-')
    return false;
  const char *p = end;
  while (p > entry && g_ascii_isdigit(p[-1]))
    p--;
  if (p == end || end - p > 10 || p[-1] != '-')
    return false;
  g_autofree char *tag = g_strdup_printf(".tmp-%s", host);
  size_t tl = strlen(tag);
  if ((size_t)(p - 1 - entry) < tl + 2) /* ".", at least one char of NAME, tag */
    return false;
  if (memcmp(p - 1 - tl, tag, tl) != 0)
    return false;
  guint64 v = g_ascii_strtoull(p, NULL, 10);
  if (v == 0 || v > G_MAXINT32)
    return false;
  *pid = (pid_t)v;
  return true;
}

/* Is pid a live process? A zombie is not: a writer killed with its parent (a killed
 * sweep) stays a zombie until something reaps it, and in a container whose PID 1 does not
 * reap orphans that is forever. EPERM means alive under another user. */
static bool
res_pid_alive(pid_t pid)
{
  if (kill(pid, 0) != 0 && errno == ESRCH)
    return false;
  g_autofree char *stat_path = g_strdup_printf("/proc/%ld/stat", (long)pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(stat_path, &text, NULL, NULL))
    return true; /* no /proc: trust kill() */
  const char *paren = strrchr(text, ')'); /* "PID (COMM) STATE ...", COMM may hold ')' */
  return !(paren && (paren[1] == ' ') && (paren[2] == 'Z' || paren[2] == 'X'));
}

unsigned
res_remove_stale_temps(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  g_autofree char *host = res_host_tag();
  unsigned removed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    pid_t pid;
    if (!res_parse_temp_name(e->d_name, host, &pid))
      continue;
    if (pid == getpid() || res_pid_alive(pid))
      continue;
    g_autofree char *path = g_build_filename(dir, e->d_name, NULL);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0)
      removed++;
  }
  closedir(d);
  return removed;
}

char *
res_iso8601_now(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

/* ---- Writer ---------------------------------------------------------------------- */

/* Validates final_path as an output; fills *dir and *st (st_mode 0 if absent). */
static bool
res_check_output(const char *final_path, char **dir, struct stat *st, GError **error)
{
  if (!final_path || !*final_path) {
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "empty results path");
    return false;
  }
  if (g_str_has_suffix(final_path, "/")) {
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: is a directory, not a results file",
                final_path);
    return false;
  }
  g_autofree char *d = g_path_get_dirname(final_path);
  struct stat dst;
  if (stat(d, &dst) != 0) {
    int e = errno;
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: directory %s: %s", final_path, d,
                g_strerror(e));
    return false;
  }
  if (!S_ISDIR(dst.st_mode)) {
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: %s is not a directory", final_path, d);
    return false;
  }
  memset(st, 0, sizeof *st);
  if (stat(final_path, st) != 0) {
    int e = errno;
    if (e != ENOENT) {
      g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: %s", final_path, g_strerror(e));
      return false;
    }
    memset(st, 0, sizeof *st);
  } else if (S_ISDIR(st->st_mode)) {
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: is a directory, not a results file",
                final_path);
    return false;
  } else if (!S_ISREG(st->st_mode)) {
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: not a regular file", final_path);
    return false;
  }
  if (access(d, W_OK | X_OK) != 0) {
    int e = errno;
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: cannot write in directory %s: %s",
                final_path, d, g_strerror(e));
    return false;
  }
  *dir = g_steal_pointer(&d);
  return true;
}

static bool
res_writer_exec(ResWriter *w, const char *sql, const char *what, GError **error)
{
  if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    res_set_db_error(error, w->db, w->temp_path, what);
    w->failed = true;
    return false;
  }
  return true;
}

static ResWriter *
res_writer_start(const char *path, bool copy, GError **error)
{
  /* A symlink's target is replaced, not the link (results.db -> /data/run7.db). */
  g_autofree char *resolved = NULL;
  struct stat st;
  if (path && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
    resolved = realpath(path, NULL);
    if (!resolved) {
      int e = errno;
      g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: symbolic link: %s", path,
                  g_strerror(e));
      return NULL;
    }
  }
  const char *final_path = resolved ? resolved : path;
  g_autofree char *dir = NULL;
  if (!res_check_output(final_path, &dir, &st, error))
    return NULL;
  bool exists = st.st_mode != 0;

  /* The existing file must be ours before we copy it or, later, replace it. */
  sqlite3 *src = NULL;
  int version = RES_SCHEMA_VERSION;
  if (copy && !exists) {
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: %s", final_path, g_strerror(ENOENT));
    return NULL;
  }
  if (exists && (copy || st.st_size > 0)) {
    src = res_open_existing(final_path, &version, error);
    if (!src)
      return NULL;
    if (copy && !res_check_version(version, final_path, error)) {
      sqlite3_close(src);
      return NULL;
    }
    if (!copy) {
      sqlite3_close(src);
      src = NULL;
    }
  }

  res_remove_stale_temps(dir);

  g_autoptr(ResWriter) w = g_new0(ResWriter, 1);
  w->fd = -1;
  w->final_path = g_strdup(final_path);
  w->dir = g_steal_pointer(&dir);
  g_autofree char *base = g_path_get_basename(final_path);
  g_autofree char *host = res_host_tag();
  g_autofree char *name = g_strdup_printf(".%s.tmp-%s-%ld-XXXXXX", base, host, (long)getpid());
  w->temp_path = g_build_filename(w->dir, name, NULL);
  w->fd = g_mkstemp_full(w->temp_path, O_RDWR | O_CLOEXEC, 0666); /* umask applies */
  if (w->fd < 0) {
    int e = errno;
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: cannot create a file in %s: %s",
                final_path, w->dir, g_strerror(e));
    g_clear_pointer(&w->temp_path, g_free);
    sqlite3_close(src);
    return NULL;
  }
  if (exists && fchmod(w->fd, st.st_mode & 07777) != 0) {
    int e = errno;
    g_set_error(error, RES_ERROR, RES_ERROR_IO, "%s: %s", w->temp_path, g_strerror(e));
    sqlite3_close(src);
    return NULL;
  }

  int rc = sqlite3_open_v2(w->temp_path, &w->db, SQLITE_OPEN_READWRITE, NULL);
  if (rc != SQLITE_OK) {
    g_autofree char *msg = res_sqlite_msg(w->db, rc);
    g_set_error(error, RES_ERROR, RES_ERROR_DB, "%s: cannot open: %s", w->temp_path, msg);
    sqlite3_close(src);
    return NULL;
  }
  if (!res_writer_exec(w, res_writer_pragmas, "cannot configure", error)) {
    sqlite3_close(src);
    return NULL;
  }
  if (src) {
    sqlite3_backup *b = sqlite3_backup_init(w->db, "main", src, "main");
    rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
      g_autofree char *msg = res_sqlite_msg(w->db, rc);
      g_set_error(error, RES_ERROR, RES_ERROR_DB, "%s: cannot copy %s: %s", w->temp_path,
                  final_path, msg);
      sqlite3_close(src);
      return NULL;
    }
    sqlite3_close(src);
    src = NULL;
    if (!res_writer_exec(w, "BEGIN", "cannot begin", error))
      return NULL;
    if (version < 2 && !res_writer_exec(w, res_migrate_v1, "cannot migrate", error))
      return NULL;
  } else {
    if (!res_writer_exec(w, "BEGIN", "cannot begin", error) ||
        !res_writer_exec(w, res_schema_v2, "cannot create the schema", error))
      return NULL;
  }
  if (!res_prepare(w->db, w->temp_path, 0, RES_STMT_WRITER_N, w->stmt, error))
    return NULL;
  return g_steal_pointer(&w);
}

ResWriter *
res_writer_open(const char *final_path, GError **error)
{
  return res_writer_start(final_path, false, error);
}

ResWriter *
res_writer_open_copy(const char *final_path, GError **error)
{
  return res_writer_start(final_path, true, error);
}

/* Runs a bound write statement to completion and resets it. */
static bool
res_writer_step(ResWriter *w, sqlite3_stmt *st, const char *what, GError **error)
{
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) {
    g_autofree char *msg = res_sqlite_msg(w->db, rc);
    g_set_error(error, RES_ERROR, RES_ERROR_DB, "%s: cannot write %s: %s", w->temp_path, what,
                msg);
    sqlite3_reset(st);
    w->failed = true;
    return false;
  }
  sqlite3_reset(st);
  return true;
}

static bool
res_writer_usable(ResWriter *w, GError **error)
{
  if (!w->db) {
    g_set_error(error, RES_ERROR, RES_ERROR_FAILED, "%s: results writer already finished",
                w->final_path);
    return false;
  }
  return true;
}

/* A figure's name for a message. It may come from a damaged file (merge, reader):
 * control characters are shown escaped, so the message stays one line. */
static char *
res_shown_name(const char *name)
{
  if (name == NULL)
    return g_strdup("(null)");
  for (const char *c = name; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return g_strescape(name, NULL);
  return g_strdup(name);
}

/* Refuses NaN; what names the value ("scalar", "series"), name the figure. */
static bool
res_check_value(ResWriter *w, const char *what, const char *name, double v, GError **error)
{
  if (isnan(v)) {
    g_autofree char *shown = res_shown_name(name);
    g_set_error(error, RES_ERROR, RES_ERROR_VALUE, "%s: %s %s is NaN", w->final_path, what,
                shown);
    w->failed = true;
    return false;
  }
  return true;
}

bool
res_writer_add_run(ResWriter *w, const char *scenario, const char *name, uint64_t seed,
                   int64_t replication, const char *started, int64_t *run_id, GError **error)
{
  if (!res_writer_usable(w, error))
    return false;
  if (seed > (uint64_t)INT64_MAX) {
    g_set_error(error, RES_ERROR, RES_ERROR_VALUE,
                "%s: seed %" G_GUINT64_FORMAT " does not fit a SQLite INTEGER (max 2^63-1)",
                w->final_path, seed);
    w->failed = true;
    return false;
  }
  sqlite3_stmt *st = w->stmt[RES_STMT_RUN_INSERT];
  res_bind_text(st, ":scenario", scenario);
  res_bind_text(st, ":name", name);
  res_bind_int64(st, ":seed", (int64_t)seed);
  res_bind_int64(st, ":replication", replication);
  res_bind_text(st, ":started", started);
  if (!res_writer_step(w, st, "run", error))
    return false;
  *run_id = sqlite3_last_insert_rowid(w->db);
  return true;
}

bool
res_writer_param(ResWriter *w, int64_t run_id, const char *key, const char *value,
                 GError **error)
{
  if (!res_writer_usable(w, error))
    return false;
  sqlite3_stmt *st = w->stmt[RES_STMT_PARAM_INSERT];
  res_bind_int64(st, ":run_id", run_id);
  res_bind_text(st, ":key", key);
  res_bind_text(st, ":value", value);
  return res_writer_step(w, st, "param", error);
}

bool
res_writer_scalar(ResWriter *w, int64_t run_id, const char *name, double value,
                  GError **error)
{
  if (!res_writer_usable(w, error) || !res_check_value(w, "scalar", name, value, error))
    return false;
  sqlite3_stmt *st = w->stmt[RES_STMT_SCALAR_INSERT];
  res_bind_int64(st, ":run_id", run_id);
  res_bind_text(st, ":name", name);
  res_bind_double(st, ":value", value);
  return res_writer_step(w, st, "scalar", error);
}

bool
res_writer_series(ResWriter *w, int64_t run_id, const char *name, double t_s, double value,
                  GError **error)
{
  if (!res_writer_usable(w, error) || !res_check_value(w, "series", name, value, error) ||
      !res_check_value(w, "time of series", name, t_s, error))
    return false;
  sqlite3_stmt *st = w->stmt[RES_STMT_SERIES_INSERT];
  res_bind_int64(st, ":run_id", run_id);
  res_bind_text(st, ":name", name);
  res_bind_double(st, ":t", t_s);
  res_bind_double(st, ":value", value);
  return res_writer_step(w, st, "series", error);
}

bool
res_writer_provenance(ResWriter *w, int64_t run_id, const ResProvenance *p, GError **error)
{
  if (!res_writer_usable(w, error))
    return false;
  sqlite3_stmt *st = w->stmt[RES_STMT_RUN_PROVENANCE];
  res_bind_text(st, ":version", p->version);
  res_bind_text(st, ":git_commit", p->git_commit);
  res_bind_text(st, ":command", p->command);
  res_bind_text(st, ":host", p->host);
  res_bind_int64(st, ":id", run_id);
  return res_writer_step(w, st, "run provenance", error);
}

bool
res_writer_meta(ResWriter *w, const char *key, const char *value, GError **error)
{
  if (!res_writer_usable(w, error))
    return false;
  sqlite3_stmt *st = w->stmt[RES_STMT_META_SET];
  res_bind_text(st, ":key", key);
  res_bind_text(st, ":value", value);
  return res_writer_step(w, st, "meta", error);
}

bool
res_writer_finish_run(ResWriter *w, int64_t run_id, double wall_s, const char *status,
                      GError **error)
{
  if (!res_writer_usable(w, error) || !res_check_value(w, "wall time", "of the run", wall_s, error))
    return false;
  sqlite3_stmt *st = w->stmt[RES_STMT_RUN_FINISH];
  res_bind_double(st, ":wall_s", wall_s);
  res_bind_text(st, ":status", status);
  res_bind_int64(st, ":id", run_id);
  if (!res_writer_step(w, st, "run status", error))
    return false;
  if (sqlite3_changes(w->db) != 1) {
    g_set_error(error, RES_ERROR, RES_ERROR_NOT_FOUND, "%s: no run %" G_GINT64_FORMAT,
                w->final_path, run_id);
    w->failed = true;
    return false;
  }
  return true;
}

bool
res_writer_checkpoint(ResWriter *w, GError **error)
{
  if (!res_writer_usable(w, error))
    return false;
  if (w->failed) {
    g_set_error(error, RES_ERROR, RES_ERROR_FAILED, "%s: an earlier write failed",
                w->final_path);
    return false;
  }
  return res_writer_exec(w, "COMMIT; BEGIN", "cannot checkpoint", error);
}

/* Closes the SQLite connection; returns its result code. */
static int
res_writer_close_db(ResWriter *w)
{
  res_finalize_all(w->stmt, RES_STMT_WRITER_N);
  int rc = sqlite3_close(w->db);
  w->db = NULL;
  return rc;
}

void
res_writer_abort(ResWriter *w)
{
  if (!w)
    return;
  if (w->db)
    res_writer_close_db(w);
  if (w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  if (w->temp_path) {
    g_unlink(w->temp_path);
    g_clear_pointer(&w->temp_path, g_free);
  }
}

/* fsyncs a directory so a rename in it survives power loss. Filesystems that cannot
 * sync directories (EINVAL) are accepted. */
static bool
res_sync_dir(const char *dir, GError **error)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e = 0;
  if (fd < 0)
    e = errno;
  else if (fsync(fd) != 0 && errno != EINVAL)
    e = errno;
  if (fd >= 0)
    close(fd);
  if (e) {
    g_set_error(error, RES_ERROR, RES_ERROR_IO, "%s: cannot sync directory: %s", dir,
                g_strerror(e));
    return false;
  }
  return true;
}

bool
res_writer_commit(ResWriter *w, GError **error)
{
  if (!res_writer_usable(w, error))
    return false;
  if (w->failed) {
    g_set_error(error, RES_ERROR, RES_ERROR_FAILED,
                "%s: an earlier write failed; nothing written", w->final_path);
    res_writer_abort(w);
    return false;
  }
  if (!res_writer_exec(w, res_indexes_v1, "cannot index", error) ||
      !res_writer_exec(w, "COMMIT", "cannot commit", error)) {
    res_writer_abort(w);
    return false;
  }
  if (res_writer_close_db(w) != SQLITE_OK) {
    g_set_error(error, RES_ERROR, RES_ERROR_DB, "%s: cannot close", w->temp_path);
    res_writer_abort(w);
    return false;
  }
  if (fsync(w->fd) != 0 || close(w->fd) != 0) {
    int e = errno;
    w->fd = -1; /* close() must not be retried, even after an error */
    g_set_error(error, RES_ERROR, RES_ERROR_IO, "%s: cannot sync: %s", w->temp_path,
                g_strerror(e));
    res_writer_abort(w);
    return false;
  }
  w->fd = -1;
  if (rename(w->temp_path, w->final_path) != 0) {
    int e = errno;
    g_set_error(error, RES_ERROR, RES_ERROR_IO, "%s: cannot rename %s over it: %s",
                w->final_path, w->temp_path, g_strerror(e));
    res_writer_abort(w);
    return false;
  }
  g_clear_pointer(&w->temp_path, g_free);
  if (!res_sync_dir(w->dir, error)) {
    g_prefix_error(error, "%s written, but: ", w->final_path);
    return false;
  }
  return true;
}

void
res_writer_free(ResWriter *w)
{
  if (!w)
    return;
  res_writer_abort(w);
  g_free(w->final_path);
  g_free(w->dir);
  g_free(w);
}

const char *
res_writer_temp_path(const ResWriter *w)
{
  return w->temp_path;
}

/* ---- Reader ---------------------------------------------------------------------- */

ResReader *
res_reader_open(const char *path, GError **error)
{
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: %s", path, g_strerror(e));
    return NULL;
  }
  if (S_ISDIR(st.st_mode)) {
    g_set_error(error, RES_ERROR, RES_ERROR_PATH, "%s: is a directory, not a results file",
                path);
    return NULL;
  }
  if (st.st_size == 0) {
    g_set_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS,
                "%s: not an m2msim results database (empty file)", path);
    return NULL;
  }
  g_autoptr(ResReader) r = g_new0(ResReader, 1);
  r->path = g_strdup(path);
  r->db = res_open_existing(path, &r->version, error);
  if (!r->db || !res_check_version(r->version, path, error))
    return NULL;
  ResStmt first = RES_STMT_WRITER_N;
  if (r->version < 2) {
    if (sqlite3_prepare_v3(r->db, res_runs_v1_sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &r->stmt[RES_STMT_RUNS], NULL) != SQLITE_OK) {
      g_autofree char *msg = res_sqlite_msg(r->db, SQLITE_ERROR);
      g_set_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS,
                  "%s: not an m2msim results database (%s)", path, msg);
      return NULL;
    }
    first = RES_STMT_RUNS + 1;
  }
  if (!res_prepare(r->db, path, first, RES_STMT_N, r->stmt + first, error))
    return NULL;
  return g_steal_pointer(&r);
}

void
res_reader_free(ResReader *r)
{
  if (!r)
    return;
  res_finalize_all(r->stmt, RES_STMT_N);
  sqlite3_close(r->db);
  g_free(r->path);
  g_free(r);
}

int
res_reader_schema_version(const ResReader *r)
{
  return r->version;
}

static char *
res_col_text(sqlite3_stmt *st, int i)
{
  return g_strdup((const char *)sqlite3_column_text(st, i));
}

static double
res_col_double(sqlite3_stmt *st, int i)
{
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Ends a SELECT loop: resets the statement; reports rc unless it is SQLITE_DONE. */
static bool
res_reader_done(ResReader *r, sqlite3_stmt *st, int rc, GError **error)
{
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) {
    res_set_db_error(error, r->db, r->path, "cannot read");
    return false;
  }
  return true;
}

GPtrArray *
res_reader_runs(ResReader *r, GError **error)
{
  sqlite3_stmt *st = r->stmt[RES_STMT_RUNS];
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)res_run_free);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ResRun *run = g_new0(ResRun, 1);
    run->id = sqlite3_column_int64(st, 0);
    run->scenario = res_col_text(st, 1);
    run->name = res_col_text(st, 2);
    run->seed = sqlite3_column_int64(st, 3);
    run->replication = sqlite3_column_int64(st, 4);
    run->started = res_col_text(st, 5);
    run->wall_s = res_col_double(st, 6);
    run->status = res_col_text(st, 7);
    run->prov.version = res_col_text(st, 8);
    run->prov.git_commit = res_col_text(st, 9);
    run->prov.command = res_col_text(st, 10);
    run->prov.host = res_col_text(st, 11);
    g_ptr_array_add(runs, run);
  }
  if (!res_reader_done(r, st, rc, error))
    return NULL;
  return g_steal_pointer(&runs);
}

GPtrArray *
res_reader_params(ResReader *r, int64_t run_id, GError **error)
{
  sqlite3_stmt *st = r->stmt[RES_STMT_PARAMS];
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)res_param_free);
  res_bind_int64(st, ":run_id", run_id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ResParam *p = g_new0(ResParam, 1);
    p->key = res_col_text(st, 0);
    p->value = res_col_text(st, 1);
    g_ptr_array_add(out, p);
  }
  if (!res_reader_done(r, st, rc, error))
    return NULL;
  return g_steal_pointer(&out);
}

GPtrArray *
res_reader_scalars(ResReader *r, int64_t run_id, GError **error)
{
  sqlite3_stmt *st = r->stmt[RES_STMT_SCALARS];
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)res_scalar_free);
  res_bind_int64(st, ":run_id", run_id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ResScalar *s = g_new0(ResScalar, 1);
    s->name = res_col_text(st, 0);
    s->value = res_col_double(st, 1);
    g_ptr_array_add(out, s);
  }
  if (!res_reader_done(r, st, rc, error))
    return NULL;
  return g_steal_pointer(&out);
}

bool
res_reader_scalar(ResReader *r, int64_t run_id, const char *name, double *value,
                  GError **error)
{
  sqlite3_stmt *st = r->stmt[RES_STMT_SCALAR];
  res_bind_int64(st, ":run_id", run_id);
  res_bind_text(st, ":name", name);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *value = res_col_double(st, 0);
    rc = SQLITE_DONE;
  } else if (rc == SQLITE_DONE) {
    res_reader_done(r, st, rc, NULL);
    g_autofree char *shown = res_shown_name(name);
    g_set_error(error, RES_ERROR, RES_ERROR_NOT_FOUND,
                "%s: run %" G_GINT64_FORMAT " has no scalar %s", r->path, run_id, shown);
    return false;
  }
  return res_reader_done(r, st, rc, error);
}

char **
res_reader_series_names(ResReader *r, int64_t run_id, GError **error)
{
  sqlite3_stmt *st = r->stmt[RES_STMT_SERIES_NAMES];
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
  res_bind_int64(st, ":run_id", run_id);
  int rc;
  /* A NULL name (a foreign writer) would end the list early and leak the rest. */
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
      g_ptr_array_add(out, res_col_text(st, 0));
  if (!res_reader_done(r, st, rc, error))
    return NULL;
  g_ptr_array_add(out, NULL);
  g_ptr_array_set_free_func(out, NULL);
  return (char **)g_ptr_array_free(g_steal_pointer(&out), false);
}

GArray *
res_reader_series(ResReader *r, int64_t run_id, const char *name, GError **error)
{
  sqlite3_stmt *st = r->stmt[RES_STMT_SERIES];
  g_autoptr(GArray) out = g_array_new(false, false, sizeof(ResPoint));
  res_bind_int64(st, ":run_id", run_id);
  res_bind_text(st, ":name", name);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ResPoint p = {res_col_double(st, 0), res_col_double(st, 1)};
    g_array_append_val(out, p);
  }
  if (!res_reader_done(r, st, rc, error))
    return NULL;
  return g_steal_pointer(&out);
}

char *
res_reader_meta(ResReader *r, const char *key)
{
  sqlite3_stmt *st = r->stmt[RES_STMT_META_GET];
  res_bind_text(st, ":key", key);
  char *value = NULL;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    value = res_col_text(st, 0);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return value;
}

void
res_run_free(ResRun *run)
{
  if (!run)
    return;
  g_free(run->scenario);
  g_free(run->name);
  g_free(run->started);
  g_free(run->status);
  g_free(run->prov.version);
  g_free(run->prov.git_commit);
  g_free(run->prov.command);
  g_free(run->prov.host);
  g_free(run);
}

void
res_param_free(ResParam *p)
{
  if (!p)
    return;
  g_free(p->key);
  g_free(p->value);
  g_free(p);
}

void
res_scalar_free(ResScalar *s)
{
  if (!s)
    return;
  g_free(s->name);
  g_free(s);
}

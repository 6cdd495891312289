/* The results database: one SQLite file per run or merged sweep, in the schema of
 * ../shared/docs/results.md (tables run, param, scalar, series; a contract for users'
 * scripts). The writer builds the whole file under a hidden temporary name in the same
 * directory and renames it over the final name at commit, so a reader never sees a
 * half-written file and a crash never clobbers the previous result. The reader serves
 * tests, plot, report and merge.
 *
 * This module is part of the engine: it knows the generic schema, nothing about M2M.
 * Security: callers must never pass keys (K, OPc, private keys) or anything derived
 * only from them as parameters, scalars or scenario text; results files are shared. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define RES_ERROR (res_error_quark())
GQuark res_error_quark(void);

typedef enum {
  RES_ERROR_PATH,        /* output or input path unusable (missing directory, a directory) */
  RES_ERROR_NOT_RESULTS, /* the file is not an m2msim results database */
  RES_ERROR_NEWER,       /* written by a newer m2msim (schema version unknown here) */
  RES_ERROR_DB,          /* SQLite failed (disk full, I/O error, ...) */
  RES_ERROR_IO,          /* fsync, rename or unlink failed */
  RES_ERROR_NOT_FOUND,   /* no such run, scalar or series */
  RES_ERROR_VALUE,       /* a value that cannot be stored faithfully (NaN, seed > 2^63-1) */
  RES_ERROR_FAILED,      /* commit refused: an earlier write on this writer failed */
} ResError;

/* Schema version written into PRAGMA user_version. Files with a higher version are
 * refused; a version 0 or a foreign application_id means "not ours". */
#define RES_SCHEMA_VERSION 2
/* PRAGMA application_id of every results file: "M2MS", so `file` can tell it apart. */
#define RES_APPLICATION_ID 0x4d324d53

/* ---- Writer ---------------------------------------------------------------------- */

typedef struct ResWriter ResWriter;

/* Starts a new results file that will appear at final_path on res_writer_commit().
 * Creates ".BASENAME.tmp-HOST-PID-XXXXXX" next to final_path (same filesystem, so the
 * rename is atomic) and opens one transaction on it. An existing final_path is left
 * untouched until commit; it must be an m2msim results database or an empty file (a
 * typo in --out must not destroy a scenario or a report). If final_path is a symbolic
 * link, its target is what gets replaced (a dangling link is an error). Before creating
 * its own temporary file, removes those left in that directory by dead processes of this
 * host.
 * Errors: RES_ERROR_PATH (directory missing, final_path a directory or not a regular
 * file, directory not writable), RES_ERROR_NOT_RESULTS, RES_ERROR_DB. */
ResWriter *res_writer_open(const char *final_path, GError **error);

/* Like res_writer_open(), but the new file starts as a copy of the existing results
 * database at final_path (SQLite backup API), so runs are appended; the rename at
 * commit replaces it. final_path must exist and be a results database of a schema
 * version this build knows (RES_ERROR_NOT_RESULTS, RES_ERROR_NEWER, RES_ERROR_PATH). */
ResWriter *res_writer_open_copy(const char *final_path, GError **error);

/* Adds a run row and returns its id in *run_id (ids continue after existing ones).
 * scenario is the whole scenario text; started an ISO 8601 wall-clock time (see
 * res_iso8601_now()). Any string may be NULL (stored as NULL). The run's status is
 * "unfinished" until res_writer_finish_run(). seed must fit in a signed 64-bit SQLite
 * INTEGER (RES_ERROR_VALUE otherwise). */
bool res_writer_add_run(ResWriter *w, const char *scenario, const char *name, uint64_t seed,
                        int64_t replication, const char *started, int64_t *run_id,
                        GError **error);

/* Where a run came from (schema version 2; NULL fields are stored as NULL): the m2msim
 * version, the git commit it was built from (`git describe --dirty`, NULL outside a
 * checkout), the full command line, the host name. Its start and wall time are the run
 * row's started and wall_s. */
typedef struct {
  char *version;
  char *git_commit;
  char *command;
  char *host;
} ResProvenance;

/* Records the run's provenance. */
bool res_writer_provenance(ResWriter *w, int64_t run_id, const ResProvenance *p,
                           GError **error);

/* Sets key in the file's meta table (one value per key; the last one set wins). */
bool res_writer_meta(ResWriter *w, const char *key, const char *value, GError **error);

/* One --set or sweep value of the run. */
bool res_writer_param(ResWriter *w, int64_t run_id, const char *key, const char *value,
                      GError **error);

/* One figure of the run. NaN is refused (RES_ERROR_VALUE): SQLite would store NULL and
 * the convention for "no value" is to leave the scalar out; infinities are stored, and
 * every other double comes back bit for bit except -0.0, which SQLite returns as 0.0. */
bool res_writer_scalar(ResWriter *w, int64_t run_id, const char *name, double value,
                       GError **error);

/* One sample of a time series; t_s in simulated seconds. NaN refused as for scalars. */
bool res_writer_series(ResWriter *w, int64_t run_id, const char *name, double t_s,
                       double value, GError **error);

/* Records the run's wall time (s) and status ("complete", or why it stopped).
 * RES_ERROR_NOT_FOUND if the run id is not in this file. */
bool res_writer_finish_run(ResWriter *w, int64_t run_id, double wall_s, const char *status,
                           GError **error);

/* Commits the work so far inside the temporary file and opens a new transaction, which
 * bounds the memory a long run holds; nothing becomes visible at final_path. */
bool res_writer_checkpoint(ResWriter *w, GError **error);

/* Commits, closes and fsyncs the temporary file, renames it over final_path and fsyncs
 * the directory. On failure the temporary file is removed and final_path is unchanged
 * (unless only the directory fsync failed, which the message says). Refused with
 * RES_ERROR_FAILED if any earlier call on this writer failed (a refused NaN, an unknown
 * run id, a SQLite error): a file missing a figure must not look complete. Either way the
 * writer is finished: only res_writer_free() may follow. */
bool res_writer_commit(ResWriter *w, GError **error);

/* Discards everything: closes and removes the temporary file; final_path unchanged.
 * Safe to call more than once and after commit (then it does nothing). */
void res_writer_abort(ResWriter *w);

/* Aborts if not committed, then frees. NULL is allowed. */
void res_writer_free(ResWriter *w);

/* Path of the temporary file (for tests and progress messages); NULL once finished. */
const char *res_writer_temp_path(const ResWriter *w);

/* Current UTC time as ISO 8601 with seconds ("2025-01-31T12:00:00Z"). Caller frees. */
char *res_iso8601_now(void);

/* Removes temp files (".NAME.tmp-HOST-PID-XXXXXX") in dir whose PID is not alive on
 * this host; returns how many were removed. Called by the writer on open; exposed for
 * `m2msim` housekeeping and tests. Files of other hosts (shared directories under
 * Slurm) and of live processes are left alone. */
unsigned res_remove_stale_temps(const char *dir);

/* ---- Reader ---------------------------------------------------------------------- */

typedef struct ResReader ResReader;

/* Plain records handed out by the reader (public fields: they are values, not objects). */
typedef struct {
  int64_t id;
  char *scenario; /* whole scenario text, or NULL */
  char *name;
  int64_t seed;
  int64_t replication;
  char *started; /* ISO 8601 wall clock */
  double wall_s; /* wall time of the run (s); NAN if not recorded */
  char *status;  /* "complete", or why the run stopped */
  ResProvenance prov; /* fields NULL when not recorded (schema version 1 files) */
} ResRun;

typedef struct {
  char *key;
  char *value;
} ResParam;

typedef struct {
  char *name;
  double value; /* NAN if stored as NULL by a foreign writer */
} ResScalar;

typedef struct {
  double t_s;   /* simulated seconds */
  double value;
} ResPoint;

/* Opens a results database read-only. Errors: RES_ERROR_PATH (missing, a directory),
 * RES_ERROR_NOT_RESULTS ("FILE: not an m2msim results database"), RES_ERROR_NEWER. */
ResReader *res_reader_open(const char *path, GError **error);
void res_reader_free(ResReader *r);

/* PRAGMA user_version of the file. */
int res_reader_schema_version(const ResReader *r);

/* All runs by id; a GPtrArray of ResRun* that frees its elements. */
GPtrArray *res_reader_runs(ResReader *r, GError **error);

/* Parameters of a run in insertion order; GPtrArray of ResParam*. Empty if none. */
GPtrArray *res_reader_params(ResReader *r, int64_t run_id, GError **error);

/* Scalars of a run sorted by name; GPtrArray of ResScalar*. Empty if none. */
GPtrArray *res_reader_scalars(ResReader *r, int64_t run_id, GError **error);

/* One scalar; RES_ERROR_NOT_FOUND if the run has no scalar of that name. */
bool res_reader_scalar(ResReader *r, int64_t run_id, const char *name, double *value,
                       GError **error);

/* The value of key in the file's meta table, or NULL. Caller frees. */
char *res_reader_meta(ResReader *r, const char *key);

/* Names of the series of a run, sorted; NULL-terminated, caller g_strfreev()s. */
char **res_reader_series_names(ResReader *r, int64_t run_id, GError **error);

/* Samples of one series ordered by t (then insertion); GArray of ResPoint. Empty if
 * the series does not exist. */
GArray *res_reader_series(ResReader *r, int64_t run_id, const char *name, GError **error);

void res_run_free(ResRun *run);
void res_param_free(ResParam *p);
void res_scalar_free(ResScalar *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ResWriter, res_writer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ResReader, res_reader_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ResRun, res_run_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ResParam, res_param_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ResScalar, res_scalar_free)

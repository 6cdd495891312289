/* Internals of scenario loading shared by models/scenario*.c (not a public header): the
 * YAML node tree with source marks, the problem list, and the schema of every key. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/scenario.h"

/* ---- Node tree (scenario-tree.c) ---- */

typedef enum {
  SCN_NODE_SCALAR,
  SCN_NODE_MAP, /* items: key, value, key, value ... (keys are scalars) */
  SCN_NODE_SEQ, /* items: values */
} ScnNodeKind;

typedef struct ScnNode ScnNode;
struct ScnNode {
  ScnNodeKind kind;
  int line, col;  /* 1-based source position; 0 when the node came from a --set */
  int set;        /* index of the --set that made this node, or -1 (from the file) */
  bool plain;     /* scalar written without quotes */
  char *text;     /* scalar text (UTF-8) */
  GPtrArray *items; /* map / sequence children (ScnNode*) */
};

/* One problem: where (file position or --set) and what. */
typedef struct {
  int line, col; /* 1-based, or 0 for a file-level problem */
  int set;       /* --set index, or -1 */
  unsigned seq;  /* order of recording (keeps the sort stable) */
  char *msg;
} ScnProblem;

/* Collects problems for one load. */
typedef struct {
  const char *file;        /* file name for messages */
  const char *const *sets; /* the --set strings, for messages */
  GArray *problems;        /* ScnProblem */
} ScnDiag;

void scn_diag_init(ScnDiag *d, const char *file, const char *const *sets);
void scn_diag_clear(ScnDiag *d);
/* Records a problem located at `node` (its set or file position; NULL = file level). */
void scn_diag_add(ScnDiag *d, const ScnNode *node, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void scn_diag_add_at(ScnDiag *d, int line, int col, int set, const char *fmt, ...)
  G_GNUC_PRINTF(5, 6);
/* All problems, ordered (--set problems first, then by position), one per line. */
char *scn_diag_format(ScnDiag *d);
static inline size_t
scn_diag_count(const ScnDiag *d)
{
  return d->problems->len;
}

ScnNode *scn_node_new(ScnNodeKind kind, int line, int col, int set);
ScnNode *scn_node_new_scalar(const char *text, int line, int col, int set);
void scn_node_free(ScnNode *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScnNode, scn_node_free)
ScnNode *scn_node_copy(const ScnNode *n);
/* Marks `n` and everything below it as made by --set number `set`. */
void scn_node_set_origin(ScnNode *n, int set);
/* Map lookup: the index i of the first pair whose key is `key` (items[i] the key,
 * items[i + 1] the value), or -1. */
int scn_map_find(const ScnNode *map, const char *key);
/* Null scalars: empty plain, "~", "null". */
bool scn_node_is_null(const ScnNode *n);
/* Flow YAML text of a node ("{a: 1, b: [x, y]}"), quoting scalars only when needed. */
char *scn_node_to_flow(const ScnNode *n);

/* Parses YAML text into a tree. On failure records the problem(s) in `d` (located in the
 * file, or at --set `set` when set >= 0) and returns NULL. An empty document gives an
 * empty plain scalar. Anchors, aliases, tags, several documents, UTF-16 and nesting
 * deeper than 64 are refused. */
ScnNode *scn_tree_parse(const char *data, size_t len, int set, ScnDiag *d);

/* ---- Schema and conversion (scenario-parse.c) ---- */

/* Applies "key.path=value" (set number `index`) to the tree, creating missing map keys
 * the schema knows; records a problem and returns false when the path or value is bad. */
bool scn_apply_set(ScnNode *root, const char *set, int index, ScnDiag *d);

/* Converts the whole tree into cfg (filling defaults); problems go to d. `clean` gets
 * one flag per top-level section: true when converting it found no problem. */
typedef struct {
  bool rs, vos, hos, manufacturers, owners, devices, faults, output, duration, sweep;
} ScnClean;
void scn_convert(const ScnNode *root, ScnConfig *cfg, ScnDiag *d, ScnClean *clean);

/* The keys of a one-site RS that registration_service.sites replaces (refused with sites,
 * and left out of the parameter list then), NULL-terminated. */
extern const char *const scn_one_site_keys[];

/* Frees everything cfg's fields own (not cfg itself, not provenance). */
void scn_config_clear_fields(ScnConfig *cfg);

/* Checks whether "a.b.0.c" names a settable key of the schema (indices checked against
 * `root` when not NULL). On failure writes a message to *why (caller frees). */
bool scn_path_check(const ScnNode *root, const char *path, char **why);

/* Levenshtein suggestion: the candidate nearest to `word` if near enough, else NULL. */
const char *scn_suggest(const char *word, const char *const *candidates, size_t n);

/* ---- Cross-field checks (scenario-validate.c) ---- */

void scn_validate(const ScnNode *root, ScnConfig *cfg, ScnDiag *d, const ScnClean *clean);

/* Finds the node at a dotted path ("visited_operators.0.share"): *key gets the map key
 * node of the last segment (NULL for a list item) and the return is the value, or NULL.
 * *nearest gets the deepest node found on the way (for locating defaults). */
const ScnNode *scn_tree_lookup(const ScnNode *root, const char *path, const ScnNode **key,
                               const ScnNode **nearest);

/* ---- Data files a scenario names (scenario-csv.c) ---- */

/* path as written in the scenario, resolved against the scenario file's directory
 * (scenario_file NULL or path absolute: path itself). Caller frees. */
char *scn_csv_resolve(const char *scenario_file, const char *path);

/* A production trace: header `time` (one manufacture time per row: seconds, or a duration)
 * or `day,count` (units made on each day, spread evenly over it). Returns the sorted times
 * (caller frees) and their number; NULL with *why ("FILE:LINE: ...") on any problem. */
SimTime *scn_csv_trace(const char *path, size_t *n, char **why);

/* An empirical distribution: header `value` (samples) or `value,cdf` (points of the
 * distribution function, values increasing, probabilities not decreasing, the last 1).
 * Returns the values in us (with cdf: value, probability pairs) and the row count. */
double *scn_csv_empirical(const char *path, size_t *n, bool *cdf, char **why);

/* The same from len octets already read (fuzzers); path only names them in messages. */
SimTime *scn_csv_trace_data(const char *path, const char *data, size_t len, size_t *n,
                            char **why);
double *scn_csv_empirical_data(const char *path, const char *data, size_t len, size_t *n,
                               bool *cdf, char **why);

/* Scenario step 1: YAML text -> a small tree of maps, sequences and scalars, each node
 * remembering its line and column (or the --set it came from), plus the list of
 * problems found while loading. libyaml's event parser does the YAML; this file refuses
 * what a scenario never needs and an attacker could abuse: anchors and aliases (so a
 * "billion laughs" file cannot expand), tags, several documents, deep nesting. */
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#include "scenario-internal.h"

#define SCN_MAX_DEPTH 64

/* ---- Problems ---- */

void
scn_diag_init(ScnDiag *d, const char *file, const char *const *sets)
{
  d->file = file;
  d->sets = sets;
  d->problems = g_array_new(FALSE, TRUE, sizeof(ScnProblem));
}

void
scn_diag_clear(ScnDiag *d)
{
  if (d->problems == NULL)
    return;
  for (guint i = 0; i < d->problems->len; i++)
    g_free(g_array_index(d->problems, ScnProblem, i).msg);
  g_array_unref(d->problems);
  d->problems = NULL;
}

static void
scn_diag_addv(ScnDiag *d, int line, int col, int set, const char *fmt, va_list ap)
{
  ScnProblem p = {line, col, set, d->problems->len, g_strdup_vprintf(fmt, ap)};
  g_array_append_val(d->problems, p);
}

void
scn_diag_add(ScnDiag *d, const ScnNode *node, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (node == NULL)
    scn_diag_addv(d, 0, 0, -1, fmt, ap);
  else
    scn_diag_addv(d, node->line, node->col, node->set, fmt, ap);
  va_end(ap);
}

void
scn_diag_add_at(ScnDiag *d, int line, int col, int set, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  scn_diag_addv(d, line, col, set, fmt, ap);
  va_end(ap);
}

static int
scn_problem_cmp(gconstpointer pa, gconstpointer pb)
{
  const ScnProblem *a = pa, *b = pb;
  /* --set problems first (in --set order), then file-level, then by position. */
  int ka = a->set >= 0 ? 0 : 1, kb = b->set >= 0 ? 0 : 1;
  if (ka != kb)
    return ka - kb;
  if (a->set != b->set)
    return a->set - b->set;
  if (a->line != b->line)
    return a->line - b->line;
  if (a->col != b->col)
    return a->col - b->col;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

char *
scn_diag_format(ScnDiag *d)
{
  g_array_sort(d->problems, scn_problem_cmp);
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < d->problems->len; i++) {
    const ScnProblem *p = &g_array_index(d->problems, ScnProblem, i);
    if (i > 0) {
      /* the same problem reached twice (e.g. via two paths) is said once */
      const ScnProblem *q = &g_array_index(d->problems, ScnProblem, i - 1);
      if (q->set == p->set && q->line == p->line && q->col == p->col && strcmp(q->msg, p->msg) == 0)
        continue;
      g_string_append_c(out, '\n');
    }
    if (p->set >= 0)
      g_string_append_printf(out, "--set %s: %s", d->sets[p->set], p->msg);
    else if (p->line > 0)
      g_string_append_printf(out, "%s:%d:%d: %s", d->file, p->line, p->col, p->msg);
    else
      g_string_append_printf(out, "%s: %s", d->file, p->msg);
  }
  return g_string_free(out, FALSE);
}

/* ---- Nodes ---- */

ScnNode *
scn_node_new(ScnNodeKind kind, int line, int col, int set)
{
  ScnNode *n = g_new0(ScnNode, 1);
  n->kind = kind;
  n->line = line;
  n->col = col;
  n->set = set;
  if (kind != SCN_NODE_SCALAR)
    n->items = g_ptr_array_new_with_free_func((GDestroyNotify)scn_node_free);
  return n;
}

ScnNode *
scn_node_new_scalar(const char *text, int line, int col, int set)
{
  ScnNode *n = scn_node_new(SCN_NODE_SCALAR, line, col, set);
  n->text = g_strdup(text);
  n->plain = true;
  return n;
}

void
scn_node_free(ScnNode *n)
{
  if (n != NULL) {
    g_free(n->text);
    if (n->items)
      g_ptr_array_unref(n->items);
    g_free(n);
  }
}

ScnNode *
scn_node_copy(const ScnNode *n)
{
  ScnNode *c = scn_node_new(n->kind, n->line, n->col, n->set);
  c->plain = n->plain;
  c->text = g_strdup(n->text);
  if (n->items)
    for (guint i = 0; i < n->items->len; i++)
      g_ptr_array_add(c->items, scn_node_copy(n->items->pdata[i]));
  return c;
}

void
scn_node_set_origin(ScnNode *n, int set)
{
  n->set = set;
  n->line = n->col = 0;
  if (n->items)
    for (guint i = 0; i < n->items->len; i++)
      scn_node_set_origin(n->items->pdata[i], set);
}

int
scn_map_find(const ScnNode *map, const char *key)
{
  if (map == NULL || map->kind != SCN_NODE_MAP)
    return -1;
  for (guint i = 0; i + 1 < map->items->len; i += 2) {
    const ScnNode *k = map->items->pdata[i];
    if (strcmp(k->text, key) == 0)
      return (int)i;
  }
  return -1;
}

bool
scn_node_is_null(const ScnNode *n)
{
  return n->kind == SCN_NODE_SCALAR && n->plain &&
         (n->text[0] == '\0' || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
          strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

static bool
scn_scalar_needs_quotes(const char *s)
{
  if (*s == '\0')
    return true;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && strchr("._/+-()", *p) == NULL)
      return true;
  return false;
}

static void
scn_node_flow(const ScnNode *n, GString *out)
{
  switch (n->kind) {
  case SCN_NODE_SCALAR:
    if (!scn_scalar_needs_quotes(n->text)) {
      g_string_append(out, n->text);
      break;
    }
    g_string_append_c(out, '"');
    for (const char *p = n->text; *p; p++) {
      if (*p == '"' || *p == '\\')
        g_string_append_c(out, '\\');
      if (*p == '\n')
        g_string_append(out, "\\n");
      else
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
    break;
  case SCN_NODE_MAP:
    g_string_append_c(out, '{');
    for (guint i = 0; i + 1 < n->items->len; i += 2) {
      if (i > 0)
        g_string_append(out, ", ");
      scn_node_flow(n->items->pdata[i], out);
      g_string_append(out, ": ");
      scn_node_flow(n->items->pdata[i + 1], out);
    }
    g_string_append_c(out, '}');
    break;
  case SCN_NODE_SEQ:
    g_string_append_c(out, '[');
    for (guint i = 0; i < n->items->len; i++) {
      if (i > 0)
        g_string_append(out, ", ");
      scn_node_flow(n->items->pdata[i], out);
    }
    g_string_append_c(out, ']');
    break;
  }
}

char *
scn_node_to_flow(const ScnNode *n)
{
  GString *out = g_string_new(NULL);
  scn_node_flow(n, out);
  return g_string_free(out, FALSE);
}

/* ---- YAML -> tree ---- */

/* 1-based line and column of byte `offset` (columns count characters, as libyaml does). */
static void
scn_offset_to_mark(const char *data, size_t len, size_t offset, int *line, int *col)
{
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset && i < len; i++) {
    unsigned char c = (unsigned char)data[i];
    if (c == '\n') {
      (*line)++;
      *col = 1;
    } else if ((c & 0xC0) != 0x80) {
      (*col)++;
    }
  }
}

static void
scn_yaml_problem(const yaml_parser_t *p, const char *data, size_t len, int set, ScnDiag *d)
{
  int line = 1, col = 1;
  g_autoptr(GString) msg = g_string_new(NULL);
  const char *problem = p->problem ? p->problem : "cannot parse";
  switch (p->error) {
  case YAML_READER_ERROR: {
    /* libyaml points at the offending octet; for a broken sequence, point at its start. */
    size_t off = p->problem_offset;
    if (strstr(problem, "trailing") || strstr(problem, "incomplete"))
      while (off > 0 && off < len + 1 && ((unsigned char)data[off - 1] & 0xC0) == 0x80)
        off--;
    if (strstr(problem, "trailing") && off > 0)
      off--;
    scn_offset_to_mark(data, len, off, &line, &col);
    if (off < len && ((unsigned char)data[off] & 0x80))
      g_string_append_printf(msg,
                             "not UTF-8 text: octet 0x%02x starts no valid UTF-8 "
                             "character (%s); save the file as UTF-8",
                             (unsigned char)data[off], problem);
    else
      g_string_append_printf(msg, "not a valid scenario text file: %s (octet 0x%02x)", problem,
                             (unsigned)p->problem_value & 0xff);
    break;
  }
  case YAML_MEMORY_ERROR:
    g_string_append(msg, "out of memory while parsing YAML");
    break;
  default:
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    g_string_append_printf(msg, "YAML syntax error: %s", problem);
    if (p->context && set >= 0)
      g_string_append_printf(msg, " (%s)", p->context);
    else if (p->context)
      g_string_append_printf(msg, " (%s at line %d column %d)", p->context,
                             (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    break;
  }
  if (set >= 0)
    scn_diag_add_at(d, 0, 0, set, "value is not valid YAML: %s", msg->str);
  else
    scn_diag_add_at(d, line, col, -1, "%s", msg->str);
}

typedef struct {
  ScnDiag *d;
  int set;
  bool failed;
  ScnNode *root;
  GPtrArray *stack; /* open maps / sequences (borrowed) */
} ScnBuild;

static void scn_build_problem(ScnBuild *b, const yaml_mark_t *m, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
scn_build_problem(ScnBuild *b, const yaml_mark_t *m, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (b->set >= 0)
    scn_diag_add_at(b->d, 0, 0, b->set, "%s", msg);
  else
    scn_diag_add_at(b->d, (int)m->line + 1, (int)m->column + 1, -1, "%s", msg);
  b->failed = true;
}

/* Adds a new node to the open container (or makes it the root). */
static void
scn_build_add(ScnBuild *b, ScnNode *n, const yaml_mark_t *m)
{
  if (b->stack->len == 0) {
    if (b->root == NULL)
      b->root = n;
    else
      scn_node_free(n);
    return;
  }
  ScnNode *parent = b->stack->pdata[b->stack->len - 1];
  if (parent->kind == SCN_NODE_MAP && parent->items->len % 2 == 0 && n->kind != SCN_NODE_SCALAR)
    scn_build_problem(b, m, "a key must be a plain name, not a %s",
                      n->kind == SCN_NODE_MAP ? "mapping" : "sequence");
  g_ptr_array_add(parent->items, n);
}

/* Refuses what scenarios do not use on a node event: anchors and tags. */
static void
scn_build_check_props(ScnBuild *b, const yaml_mark_t *m, const yaml_char_t *anchor,
                      const yaml_char_t *tag)
{
  if (anchor)
    scn_build_problem(b, m,
                      "YAML anchors (&%s) are not supported in scenarios: write the "
                      "value out",
                      (const char *)anchor);
  if (tag)
    scn_build_problem(b, m, "YAML tags (%s) are not supported in scenarios: remove the tag",
                      (const char *)tag);
}

ScnNode *
scn_tree_parse(const char *data, size_t len, int set, ScnDiag *d)
{
  yaml_parser_t p;
  ScnBuild b = {d, set, false, NULL, g_ptr_array_new()};
  int docs = 0;
  bool done = false;

  if (len >= 2 && (((unsigned char)data[0] == 0xFF && (unsigned char)data[1] == 0xFE) ||
                   ((unsigned char)data[0] == 0xFE && (unsigned char)data[1] == 0xFF))) {
    scn_diag_add_at(d, set >= 0 ? 0 : 1, set >= 0 ? 0 : 1, set,
                    "not UTF-8 text: this is UTF-16 (it starts with a UTF-16 byte order mark); "
                    "save the file as UTF-8");
    g_ptr_array_unref(b.stack);
    return NULL;
  }
  if (!yaml_parser_initialize(&p))
    g_error("libyaml: cannot initialise a parser (out of memory)");
  yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
  /* libyaml takes UTF-16 only with a byte order mark, which is refused above; without
   * one it reads UTF-8 (and skips a UTF-8 BOM). */
  while (!done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      scn_yaml_problem(&p, data, len, set, d);
      b.failed = true;
      break;
    }
    const yaml_mark_t *m = &ev.start_mark;
    int line = set >= 0 ? 0 : (int)m->line + 1, col = set >= 0 ? 0 : (int)m->column + 1;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = true;
      break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1) {
        scn_build_problem(&b, m,
                          "a scenario is one YAML document; remove the second "
                          "document (and its '---')");
        done = true;
      }
      break;
    case YAML_ALIAS_EVENT:
      scn_build_problem(&b, m,
                        "YAML aliases (*%s) are not supported in scenarios: write the "
                        "value out",
                        (const char *)ev.data.alias.anchor);
      scn_build_add(&b, scn_node_new_scalar("", line, col, set), m);
      break;
    case YAML_SCALAR_EVENT: {
      scn_build_check_props(&b, m, ev.data.scalar.anchor, ev.data.scalar.tag);
      ScnNode *n = scn_node_new(SCN_NODE_SCALAR, line, col, set);
      n->text = g_strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
      n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
      if (strlen(n->text) != ev.data.scalar.length)
        scn_build_problem(&b, m, "text holds a NUL character");
      scn_build_add(&b, n, m);
      break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      bool is_map = ev.type == YAML_MAPPING_START_EVENT;
      if (is_map)
        scn_build_check_props(&b, m, ev.data.mapping_start.anchor, ev.data.mapping_start.tag);
      else
        scn_build_check_props(&b, m, ev.data.sequence_start.anchor, ev.data.sequence_start.tag);
      if (b.stack->len >= SCN_MAX_DEPTH) {
        scn_build_problem(&b, m, "nested deeper than %d levels", SCN_MAX_DEPTH);
        done = true;
        break;
      }
      ScnNode *n = scn_node_new(is_map ? SCN_NODE_MAP : SCN_NODE_SEQ, line, col, set);
      scn_build_add(&b, n, m);
      g_ptr_array_add(b.stack, n);
      break;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      g_ptr_array_remove_index(b.stack, b.stack->len - 1);
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  g_ptr_array_unref(b.stack);
  if (b.failed) {
    scn_node_free(b.root);
    return NULL;
  }
  if (b.root == NULL) /* empty document */
    b.root = scn_node_new_scalar("", set >= 0 ? 0 : 1, set >= 0 ? 0 : 1, set);
  return b.root;
}

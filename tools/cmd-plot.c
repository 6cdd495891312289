/* `m2msim plot DB [-o DIR] [--format svg|png]`: the standard figures of a results
 * database (tools/plot.c), drawn by gnuplot into a temporary directory next to DIR and
 * moved into place only when every figure is done: DIR never holds half a set or half
 * a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli.h"
#include "m2m/study.h"
#include "plot.h"

#define CMD "plot"

/* Default DIR: the database's name without .db, plus "-plots". */
static char *
default_dir(const char *db)
{
  g_autofree char *stem =
      g_str_has_suffix(db, ".db") ? g_strndup(db, strlen(db) - 3) : g_strdup(db);
  return g_strconcat(stem, "-plots", NULL);
}

int
cmd_plot(int argc, char **argv)
{
  g_autofree char *dir = NULL, *format = NULL;
  const GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &dir,
       "directory for the figures (default: DB without .db, plus -plots)", "DIR"},
      {"format", 0, 0, G_OPTION_ARG_STRING, &format, "svg (default) or png", "svg|png"},
      {NULL},
  };
  if (!cli_parse(CMD, "DB",
                 "Draws with gnuplot, for each run (or sweep point): PIMSI pool occupancy,\n"
                 "AV queue and utilisation, the provisioning latency CDF and devices\n"
                 "provisioned over time; for a sweep also the main scalars against the\n"
                 "swept parameter with 95% confidence intervals.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc != 2)
    return cli_usage_error(CMD, argc < 2 ? "no results database given (m2msim plot DB)"
                                         : "one results database only");
  PlotFormat fmt = PLOT_SVG;
  if (format != NULL && strcmp(format, "png") == 0)
    fmt = PLOT_PNG;
  else if (format != NULL && strcmp(format, "svg") != 0)
    return cli_usage_error(CMD, "--format: '%s' is not svg or png", format);
  g_autofree char *gnuplot = plot_find_gnuplot();
  if (gnuplot == NULL)
    return cli_usage_error(CMD, PLOT_INSTALL_HINT);
  g_autoptr(GError) error = NULL;
  g_autoptr(Study) s = study_load(argv[1], &error);
  if (s == NULL)
    return cli_usage_error(CMD, "%s", error->message);
  if (dir == NULL)
    dir = default_dir(argv[1]);
  if (g_file_test(dir, G_FILE_TEST_EXISTS) && !g_file_test(dir, G_FILE_TEST_IS_DIR))
    return cli_usage_error(CMD, "-o %s: exists and is not a directory", dir);
  g_autofree char *parent = g_path_get_dirname(dir);
  g_autofree char *base = g_path_get_basename(dir);
  g_autofree char *tmpl = g_strdup_printf("%s/.%s.tmp-XXXXXX", parent, base);
  if (g_mkdtemp(tmpl) == NULL)
    return cli_usage_error(CMD, "cannot create a directory next to %s: %s", dir, g_strerror(errno));

  g_autoptr(GPtrArray) figs = g_ptr_array_new_with_free_func((GDestroyNotify)plot_figure_free);
  bool ok = plot_sweep(s, gnuplot, tmpl, fmt, figs, &error);
  for (size_t p = 0; ok && p < study_n_points(s); p++)
    ok = plot_point(s, p, gnuplot, tmpl, fmt, figs, &error);
  if (!ok) {
    fprintf(stderr, "m2msim plot: %s\n", error->message);
    cli_remove_tree(tmpl);
    return CLI_EXIT_FAIL;
  }
  /* Into place: the whole directory by one rename when DIR is new, else file by file
   * (each rename atomic; other files in DIR are left alone). */
  bool moved = !g_file_test(dir, G_FILE_TEST_EXISTS) && g_rename(tmpl, dir) == 0;
  for (guint i = 0; i < figs->len; i++) {
    PlotFigure *f = figs->pdata[i];
    g_autofree char *name = g_path_get_basename(f->path);
    g_autofree char *dest = g_build_filename(dir, name, NULL);
    if (!moved && g_rename(f->path, dest) != 0) {
      fprintf(stderr, "m2msim plot: cannot move %s to %s: %s\n", f->path, dest, g_strerror(errno));
      cli_remove_tree(tmpl);
      return CLI_EXIT_FAIL;
    }
    printf("%s\n", dest);
  }
  if (!moved)
    cli_remove_tree(tmpl);
  if (figs->len == 0)
    fprintf(stderr,
            "m2msim plot: %s has none of the series plotted (rs.pimsi.in_use, "
            "rs.av.queue, devices.provisioned) nor latency scalars\n",
            argv[1]);
  return CLI_EXIT_OK;
}

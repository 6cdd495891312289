/* Helpers shared by the test programs: reading the published test vectors and running
 * the m2msim binary as a subprocess. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Path of a file in tests/vectors/ (from $M2M_VECTORS). Caller frees. */
char *tu_vector_path(const char *name);

/* Reads a tab-separated vectors file: skips '#' comments and blank lines; returns an
 * array of rows, each a NULL-terminated strv of fields. Aborts the test if unreadable. */
GPtrArray *tu_read_tsv(const char *name);

/* Decodes hex into exactly len octets or fails the test. */
void tu_hex(const char *hex, uint8_t *out, size_t len);

/* Runs $M2MSIM with the NULL-terminated argv (without the program name); returns the exit
 * status and stores stdout/stderr (caller frees) when the pointers are not NULL. */
int tu_run_m2msim(char **out, char **err, const char *arg0, ...) G_GNUC_NULL_TERMINATED;

/* Same with an argv array. */
int tu_run_m2msimv(char **out, char **err, const char *const *args);

/* Removes path and, for a directory, everything below it (symbolic links not followed). */
void tu_rm_rf(const char *path);

/* The DOM of the HTML file at path as headless Chromium builds it (`chromium --headless
 * --dump-dom`), with a throw-away profile. Fails the test when Chromium is missing
 * (tools/test.sh installs Debian's chromium) or does not load the page. Caller frees. */
char *tu_browser_dom(const char *path);

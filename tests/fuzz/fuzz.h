/* The libFuzzer harnesses (tests/fuzz/fuzz-*.c) and what they share.
 *
 * Each harness defines LLVMFuzzerTestOneInput and its name, which is also the directory
 * of its corpus (tests/fuzz/NAME/). Built two ways: with -Dfuzz=true (clang, tools/fuzz.sh)
 * against libFuzzer's main; and always, against replay.c, as the unit test fuzz-NAME that
 * feeds every corpus file to the harness, so each crash once found stays fixed (its input
 * is added to the corpus). A harness reports a bug by aborting (g_assert, g_error, a
 * sanitizer): the fuzzer and the replay test both treat that as a failure. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/scenario.h"

/* Name of the harness and of its corpus directory tests/fuzz/NAME/. */
extern const char fuzz_name[];

/* Runs one input. Returns 0 (libFuzzer's convention); failures abort. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the outcome of a loader: exactly one of success and error, and an error
 * message fit for a terminal: non-empty, valid UTF-8, no trailing newline. */
void fuzz_check_error(gboolean ok, const GError *error);

/* For a configuration loaded from (text, len) with the NULL-terminated overrides `sets`
 * (or NULL): its effective parameters (scn_config_params) must be valid UTF-8 and, given
 * back as --set overrides after `sets`, must load and give the same parameters. */
void fuzz_check_params(const ScnConfig *cfg, const char *text, size_t len,
                       const char *const *sets);

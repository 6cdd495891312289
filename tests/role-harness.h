/* Driving one role of the world alone: a world built from a small scenario in which the
 * role under test is real and every other role is a recorder (it keeps a copy of each
 * message that reaches it). A test sends hand-made messages to the role through the
 * network layer, runs the clock, and reads what the role sent back: accepted and
 * refused events, timeouts, the figures the role registered. */
#pragma once

#include <glib.h>

#include "msg.h"
#include "net.h"
#include "role.h"
#include "world-internal.h"

typedef struct {
  World *w;
  ScnConfig *cfg;
  RoleKind real;
  GPtrArray *got; /* Msg copies (g_free), in arrival order; cert / blob / batch dropped */
  GArray *at;     /* SimTime: when each message of `got` arrived */
  GPtrArray *avs; /* per message of `got`: a copy of its AV batch (g_free), or NULL */
} Harness;

/* The world of the harness scenario (harness.c: two VOs, vo-a accepting PIMSIs and vo-b
 * not, one SHO, one manufacturer of 8 units whose production lies after the end of the
 * run, so nothing happens unless a test makes it), with `sets` (--set style, may be
 * NULL) applied, and every role but `real` replaced by a recorder. */
Harness *harness_new(RoleKind real, const char *const *sets);
void harness_free(Harness *h);

/* A message of `kind` from `from` to the role under test's instance `to_index`. */
Msg *harness_msg(Harness *h, MsgKind kind, NetAddr from, uint32_t to_index);

/* Sends m over its link (net_send), or by hand from the factory (manufacturer -> device
 * or owner). */
void harness_send(Harness *h, Msg *m);

/* Runs the world until simulated time `until` (absolute). */
void harness_run(Harness *h, SimTime until);

/* Messages the recorders got, in order; the last one of `kind` (NULL: none); how many of
 * `kind` (MSG_N: all). */
const Msg *harness_got(Harness *h, guint i);
const Msg *harness_last(Harness *h, MsgKind kind);
guint harness_count(Harness *h, MsgKind kind);

/* When a message of harness_got / harness_last arrived. */
SimTime harness_at(Harness *h, const Msg *m);

/* The av_batch AVs of a message that carried a batch (a copy kept by the recorder), or
 * NULL. */
const AkaVector *harness_batch(Harness *h, const Msg *m);

/* A new AV batch in the world's pool holding avs[0..n) (the rest of the av_batch slots
 * zero), for a hand-made MSG_AV_ANSWER (Msg.batch; the network layer frees it after
 * delivery unless the receiver keeps it). */
PoolId harness_batch_new(Harness *h, const AkaVector *avs, size_t n);

/* The test subscriber's keys (K and OPc of TS 35.207 test set 1), and the clock. */
void harness_keys(AkaKeys *keys);
SimTime harness_now(const Harness *h);

/* A figure of the run by name (NAN when absent). */
double harness_figure(Harness *h, const char *name);

/* Makes device `dev` exist (MSG_MADE from the manufacturer), and with `pimsi` != W_NONE32
 * gives it credentials for PIMSI `pimsi` with K = k (16 octets), OPc = opc. Devices must
 * be made in id order. */
void harness_make_device(Harness *h, uint32_t dev, uint32_t pimsi, const uint8_t *k,
                         const uint8_t *opc);

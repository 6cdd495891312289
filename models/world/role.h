/* A role of the world as the machinery sees it: one row of the world's role table
 * (world.c), indexed by RoleKind (msg.h). The network layer delivers a message through
 * `dispatch`, or through `lost` when the receiver is down; the request helper calls
 * `req_timeout` when one of the role's pending requests times out. A role's own state
 * (its instances, their tables) stays in its own file; the machinery never looks inside.
 *
 * A new role: its file with its RoleClass, a row in the role table (world.c), its links
 * (net.c) and its scenario section. */
#pragma once

#include <stdbool.h>

#include "msg.h"
#include "world-internal.h"

#define ROLE_ONE SIZE_MAX /* RoleClass.instances: one instance (the RS, all the devices) */

typedef struct RoleClass {
  const char *name; /* "RegistrationService": logs and errors */
  /* Instances: how many the scenario has (the size_t at this offset in ScnConfig, or
   * ROLE_ONE), and each one's constructor and destructor; the builder keeps them in
   * w->inst[kind], in scenario order (index = address index). */
  size_t instances;
  void *(*create)(World *w, uint32_t index, GError **error);
  void (*destroy)(void *instance);
  /* An instance's first events (after every role is built). NULL: none. */
  void (*start)(World *w, void *instance);
  /* Octets an instance holds (the memory estimate). NULL: nothing worth counting. */
  size_t (*memory)(const World *w, const void *instance);
  /* Octets per device the role kind will hold for a run of cfg (from the sizes of its
   * tables, before anything is built: the memory check of `m2msim run`). NULL: none. */
  double (*device_bytes)(const ScnConfig *cfg);
  /* Octets of one procedure context of the role (an attach being authenticated, a
   * download, an AV job): the builder makes the role kind's pool of them, w->ctx[kind],
   * shared by its instances. 0: none. */
  size_t ctx_size;
  /* Releases what a context still live at the end of the run owns. NULL: nothing. */
  void (*ctx_clear)(void *ctx);
  /* Prefetches what dispatching m will touch (the engine asks one event ahead; it must
   * change nothing). NULL: nothing worth it. */
  void (*prefetch)(const World *w, const Msg *m);
  /* A message arrived for m->to. The receiver may take m->batch / m->cert / m->blob by
   * setting them to zero; everything else is freed when it returns. */
  void (*dispatch)(World *w, Msg *m);
  /* A message arrived while m->to was down (faults): it is lost; count it, and drop what
   * it belonged to. NULL: nothing to do. */
  void (*lost)(World *w, Msg *m);
  /* A pending request of this role (req.h) timed out after its `tries`-th send; `ref` is
   * the role's own handle given to req_send, `sent` the request. With give_up the helper
   * forgets the request after this returns; otherwise it sends it again. NULL: the role
   * makes no requests. */
  void (*req_timeout)(World *w, PoolId req, uint64_t ref, const Msg *sent, unsigned tries,
                      bool give_up);
} RoleClass;

/* Instance `index` of role kind `kind` (as the role's create made it). */
static inline void *
w_inst(const World *w, RoleKind kind, uint32_t index)
{
  g_assert(index < w->n_inst[kind]);
  return w->inst[kind][index];
}

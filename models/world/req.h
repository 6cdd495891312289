/* The request helper: every requester of the world (manufacturers, owners, home and
 * visited operators, certificate fetches) sends its requests through it. It keeps a copy
 * of the request, arms the timeout, sends it again after each timeout (the same message,
 * the same txn, so an answer to any copy is taken), and gives up after the policy's
 * number of sends; the requesting role is told of each timeout (role.h) to count it and,
 * on giving up, to act. Answers name the request by Msg.txn. */
#pragma once

#include <stdbool.h>

#include "msg.h"
#include "world-internal.h"

typedef struct {
  const char *name;   /* "AV request": logs */
  unsigned max_tries; /* sends before giving up; 0: until answered */
  bool growing;       /* waits grow per send as w_timeout (devices.retry.factor, capped);
                         otherwise request_timeout each */
  bool jitter;        /* a resend waits a further uniform [0, request_timeout / 2] after
                         the timeout, so requests that timed out together (an outage)
                         are not all sent again at once */
} ReqPolicy;

/* Starts a request: m (from net_msg_new, from and to set) gets its txn and is sent now;
 * a copy stays for resends. `ref` is the requester's own handle (given back on timeout).
 * m must own no batch or certificate; a blob (GBytes) is kept by reference for the resends.
 * Returns the request's id. */
PoolId req_send(World *w, const ReqPolicy *p, Msg *m, uint64_t ref);

/* True, with the requester's ref, while the request `id` is pending. */
bool req_pending(World *w, PoolId id, uint64_t *ref);

/* The request was answered: its timeout is cancelled and it is forgotten. False (and
 * nothing done) when it was not pending any more (a late or second answer). */
bool req_done(World *w, PoolId id);

/* Requests pending now. */
size_t req_live(const World *w);

/* The run is over: what pending requests still hold (a blob) goes. */
void req_drain(World *w);

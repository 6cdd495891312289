/* Which site of the Registration Service a requester talks to (registration_service.sites).
 *
 * Every requester of the RS has a route: the sites in the order it tries them (a VO's
 * rs_sites, everyone else every site in scenario order), and where on it it is now. A
 * request that times out at the site it was sent to for the second time in a row (its
 * request_timeout, twice) moves its requester's route to the next site (a failover out of
 * one site, into the next); the route comes back to its first site failback_after later.
 * The request helper (req.c) sends each request where the route says at each send, and a
 * request out of tries goes on while its route has a site it was not sent to. A device's
 * traffic to the RS follows the route of the VO that carries it (its own timeouts move
 * nothing: the VO's routing does not see them).
 *
 * With one site there is nothing to choose: every address is site 0 and nothing here
 * draws, schedules or counts (the figures of a one-site run are those of the RS of old). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"
#include "world-internal.h"

typedef struct Routes Routes;

/* The routes of every requester; registers rs.sites.NAME.failovers_in / _out. */
Routes *route_new(World *w);
void route_free(Routes *r);

/* Sites of the RS (>= 1). */
uint32_t route_n_sites(const World *w);

/* The RS site `from` (a VO, SHO, manufacturer or the owners) sends to now. */
NetAddr route_rs(World *w, NetAddr from);

/* A request from `from` timed out for the second time in a row at `site`: if the route
 * is still there, it moves on to the next site (wrapping around). */
void route_failover(World *w, NetAddr from, uint32_t site);

/* Does the route of `from` list a site that is not in `tried` (bit i: site i)? */
bool route_untried(const World *w, NetAddr from, uint32_t tried);

/* The network layer of the world: the only way a role reaches another.
 *
 * net_send() carries a message (msg.h) over the link between its sender and its receiver
 * and delivers it, one event later, to the receiving role's dispatch entry (its row in
 * the world's role table, role.h); the message is freed after the receiver returns. The
 * links and their delays:
 *
 *   device <-> VO i        VO i's access link: attach_delay, of which each message takes
 *                          1/leg (msg_kind_info: the attach 1/2, challenge and answer 1/4;
 *                          refusal and grant 0, their time is the VO's own)
 *   VO i <-> RS            VO i's roaming interface: roaming_delay
 *   VO i <-> SHO           the same roaming interface (the SHO as home network of a real
 *                          IMSI: its AVs, the location update)
 *   device <-> RS or SHO   through the VO the device is attached to (Msg.via): the same
 *                          roaming interface, roaming_delay
 *   SHO j <-> RS           SHO j's register_delay
 *   owners <-> SHO, RS     owners.register_delay (a failed unit's PIMSI returned to the RS)
 *   device <-> owners      owners.register_delay (the owner hears a unit gave up)
 *   manufacturer <-> RS    no delay (the factory's line to the RS is not modelled)
 *
 * Each link draws from its own random stream (the stream numbers are those the roles used
 * before the network layer existed, so runs replay the same). A sender may add time of
 * its own (a service time, a processing delay) to the send.
 *
 * Outages: a role instance that is down (faults) loses every message that arrives; its
 * role's `lost` entry is told (to count it and drop what the message belonged to). What a
 * down role does on its own timers is the role's business. */
#pragma once

#include "msg.h"
#include "world-internal.h"

typedef struct Net Net;

/* Links and outage counters for the world's scenario. */
Net *net_new(World *w, GError **error);
void net_free(Net *n);

/* Registers the delivery's prefetch hook with the engine (roles' prefetch entries). */
void net_start(World *w);

/* Frees every message still in flight (the run is over) and what they own. */
void net_drain(World *w);

/* A fresh zeroed message of `kind` from `from` to `to`, to fill and pass to net_send. */
Msg *net_msg_new(World *w, MsgKind kind, NetAddr from, NetAddr to);

/* A fresh message that answers `req`: to its sender, from its receiver, with its txn,
 * ctx, dev, pimsi, seq and via. */
Msg *net_answer_new(World *w, const Msg *req, MsgKind kind);

/* Sends m after `extra` (>= 0) plus the link's delay. Returns the link's part of the
 * delay (the time the message spends on the wire). */
SimTime net_send(World *w, Msg *m, SimTime extra);

/* Delivers m at once, without a link or an event: for what passes by hand in the
 * factory (manufacturer -> device, manufacturer -> owner). */
void net_hand_over(World *w, Msg *m);

/* Frees a message made with net_msg_new that was not sent. */
void net_msg_discard(World *w, Msg *m);

/* A message made and not sent yet, by id: for a sender that holds its answer while a
 * server of its own works on it (an event's argument names it, never a pointer). */
PoolId net_msg_id(World *w, const Msg *m);
Msg *net_msg_at(World *w, PoolId id);

/* Outages (faults): delta +1 when one starts, -1 when it ends; they may overlap. */
void net_set_down(World *w, NetAddr who, int delta);
bool net_is_down(const World *w, NetAddr who);

/* The one-role harness (see role-harness.h). */
#include "role-harness.h"

#include <string.h>

static const char scenario[] =
    "name: harness\n"
    "seed: 11\n"
    "duration: 2d\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"901\", mnc: \"70\", size: 16}\n"
    "  pimsi_recycle: after_provisioning\n"
    "  pimsi_quarantine: 1h\n"
    "  av_servers: 1\n"
    "  av_service_time: {constant: 2ms}\n"
    "  register_service_time: {constant: 1ms}\n"
    "  request_timeout: 5s\n"
    "visited_operators:\n"
    "  - {name: vo-a, share: 1.0, accepts_pimsi: true, attach_delay: {constant: 400ms},\n"
    "     roaming_delay: {constant: 50ms}, refuse_delay: {constant: 1s}}\n"
    "  - {name: vo-b, share: 0.0, accepts_pimsi: false}\n"
    "home_operators:\n"
    "  - {name: sho-a, share: 1.0, download_time: {constant: 20s},\n"
    "     register_delay: {constant: 100ms}, auth_time: {constant: 10ms}}\n"
    "manufacturers:\n"
    "  - {name: acme, devices: 8, production: {burst: {at: 30d, over: 1s}}}\n"
    "owners:\n"
    "  select_home_operator_after: {constant: 1h}\n"
    "  register_delay: {constant: 200ms}\n"
    "devices:\n"
    "  power_on_after: {constant: 10min}\n"
    "  retry: {initial: 30s, factor: 2, max: 30min}\n"
    "output:\n"
    "  series_interval: 1h\n";

/* The recorders: every role kind but the one under test. */
static Harness *current; /* the harness a recorder writes to (one at a time per process) */

static void
record(World *w, Msg *m)
{
  Msg *copy = g_memdup2(m, sizeof *m);
  SimTime now = w_now(w);
  g_array_append_val(current->at, now);
  g_ptr_array_add(current->avs,
                  m->batch == POOL_NONE
                      ? NULL
                      : g_memdup2(idpool_get(w->batches, m->batch),
                                  w->cfg->registration_service.av_batch * sizeof(AkaVector)));
  copy->cert = NULL;
  copy->blob = NULL;
  copy->batch = POOL_NONE;
  g_ptr_array_add(current->got, copy);
}

static void
ignore_timeout(World *w, PoolId req, uint64_t ref, const Msg *sent, unsigned tries, bool give_up)
{
}

static const RoleClass recorder = {
    .name = "Recorder",
    .dispatch = record,
    .req_timeout = ignore_timeout,
};

Harness *
harness_new(RoleKind real, const char *const *sets)
{
  g_assert(current == NULL);
  Harness *h = g_new0(Harness, 1);
  g_autoptr(GError) error = NULL;
  h->cfg = scn_load_string(scenario, "harness.yaml", sets, &error);
  g_assert_no_error(error);
  h->w = world_new(h->cfg, &error);
  g_assert_no_error(error);
  h->real = real;
  h->got = g_ptr_array_new_with_free_func(g_free);
  h->at = g_array_new(FALSE, FALSE, sizeof(SimTime));
  h->avs = g_ptr_array_new_with_free_func(g_free);
  for (int r = 0; r < ROLE_N; r++)
    if (r != (int)real)
      h->w->roles[r] = &recorder;
  current = h;
  return h;
}

void
harness_free(Harness *h)
{
  if (h == NULL)
    return;
  world_free(h->w);
  scn_config_free(h->cfg);
  g_ptr_array_unref(h->got);
  g_array_unref(h->at);
  g_ptr_array_unref(h->avs);
  current = NULL;
  g_free(h);
}

Msg *
harness_msg(Harness *h, MsgKind kind, NetAddr from, uint32_t to_index)
{
  return net_msg_new(h->w, kind, from, net_addr(h->real, to_index));
}

void
harness_send(Harness *h, Msg *m)
{
  RoleKind to = net_addr_role(m->to);
  if (net_addr_role(m->from) == ROLE_MFR && (to == ROLE_DEV || to == ROLE_OWNER))
    net_hand_over(h->w, m);
  else
    net_send(h->w, m, 0);
}

void
harness_run(Harness *h, SimTime until)
{
  sim_run_until(h->w->sim, until);
}

const Msg *
harness_got(Harness *h, guint i)
{
  return i < h->got->len ? h->got->pdata[i] : NULL;
}

const Msg *
harness_last(Harness *h, MsgKind kind)
{
  for (guint i = h->got->len; i-- > 0;) {
    const Msg *m = h->got->pdata[i];
    if (m->kind == kind)
      return m;
  }
  return NULL;
}

guint
harness_count(Harness *h, MsgKind kind)
{
  guint n = 0;
  for (guint i = 0; i < h->got->len; i++)
    n += kind == MSG_N || ((const Msg *)h->got->pdata[i])->kind == kind;
  return n;
}

static guint
index_of(Harness *h, const Msg *m)
{
  guint i;
  g_assert_true(g_ptr_array_find(h->got, m, &i));
  return i;
}

SimTime
harness_at(Harness *h, const Msg *m)
{
  return g_array_index(h->at, SimTime, index_of(h, m));
}

const AkaVector *
harness_batch(Harness *h, const Msg *m)
{
  return h->avs->pdata[index_of(h, m)];
}

PoolId
harness_batch_new(Harness *h, const AkaVector *avs, size_t n)
{
  g_assert_cmpuint(n, <=, h->w->cfg->registration_service.av_batch);
  void *p;
  PoolId id = idpool_alloc(h->w->batches, &p);
  memcpy(p, avs, n * sizeof *avs);
  return id;
}

void
harness_keys(AkaKeys *keys)
{
  static const AkaKeys set1 = {
      {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6,
       0xbc},
      {0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b,
       0xaf},
  };
  *keys = set1;
}

SimTime
harness_now(const Harness *h)
{
  return w_now(h->w);
}

double
harness_figure(Harness *h, const char *name)
{
  return stat_registry_get(h->w->figs, name);
}

void
harness_make_device(Harness *h, uint32_t dev, uint32_t pimsi, const uint8_t *k, const uint8_t *opc)
{
  /* The device role receives these even when it is a recorder's: only a real one acts. */
  Msg *m = net_msg_new(h->w, MSG_MADE, net_addr(ROLE_MFR, 0), net_addr(ROLE_DEV, dev));
  m->dev = dev;
  net_hand_over(h->w, m);
  if (pimsi == W_NONE32)
    return;
  Msg *c = net_msg_new(h->w, MSG_CREDENTIALS, net_addr(ROLE_MFR, 0), net_addr(ROLE_DEV, dev));
  c->dev = dev;
  c->pimsi = pimsi;
  memcpy(c->u.reg.keys.k, k, 16);
  memcpy(c->u.reg.keys.opc, opc, 16);
  g_assert_true(imsi_parse("901700000000000", 2, &c->u.reg.imsi, NULL));
  net_hand_over(h->w, c);
}

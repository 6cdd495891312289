/* `m2msim bench av`: authentication vectors per second on one core, for the AES-NI path,
 * the portable path and, when built with libosmocore-dev, libosmocore's
 * osmo_auth_gen_vec() in the same process, so the ratio does not depend on the machine.
 *
 * The workload is an AuC's: the subscriber changes on every AV (the bench cycles through
 * 1024 pre-generated subscribers' K/OPc and SQN counters), each AV gets its own RAND
 * and its SQN from the subscriber's counter (aka_he_generate, IND 0 of 5 bits). On our
 * side RAND comes from a small xorshift generator behind AkaRandom; libosmocore is handed
 * pre-generated RANDs. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "m2m-config.h"
#include "m2m/aka.h"

#if M2M_HAVE_LIBOSMOCORE
#include <dlfcn.h>
#include <osmocom/crypt/auth.h>
#endif

enum {
  N_SUBS = 1024, /* subscribers cycled through */
  CHUNK = 4096,  /* AVs between clock reads */
};

typedef struct {
  AkaKeys keys;
  uint64_t seq_he;
} BenchSub;

static const char summary[] =
    "Generates authentication vectors for a stream of different subscribers (K changes\n"
    "on every AV) for --seconds on each path, then prints AVs per second:\n"
    "  fast: N         AES-NI MILENAGE (or 'n/a' without AES-NI)\n"
    "  portable: N     MILENAGE on OpenSSL's AES\n"
    "  libosmocore: N  osmo_auth_gen_vec() (or 'n/a' when built without libosmocore-dev)\n"
    "  ratio: R        fast / libosmocore (fast / portable when libosmocore is absent)";

static uint64_t
xorshift(uint64_t *s)
{
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static void
xorshift_fill(void *ctx, uint8_t *out, size_t len)
{
  for (size_t i = 0; i < len; i += 8) {
    uint64_t v = xorshift(ctx);
    memcpy(out + i, &v, len - i < 8 ? len - i : 8);
  }
}

/* AVs per second of aka_he_generate() on `mil`; *sink collects output bits. */
static double
run_ours(const MilImpl *mil, BenchSub *subs, double seconds, uint8_t *sink)
{
  AkaConfig cfg;
  aka_config_init(&cfg);
  uint64_t state = 0x9e3779b97f4a7c15u;
  AkaRandom rng = {xorshift_fill, &state};
  AkaVector av;
  uint64_t n = 0;
  double t0 = cli_now_s(), t;
  do {
    for (unsigned i = 0; i < CHUNK; i++) {
      BenchSub *s = &subs[(n + i) % N_SUBS];
      if (aka_he_generate(&cfg, mil, &s->keys, &s->seq_he, 0, AKA_AMF_SEPARATION, &rng, &av, 1) !=
          AKA_OK)
        s->seq_he = 0; /* cannot happen within a bench run; keeps the loop honest */
      *sink ^= av.xres[0] ^ av.autn[15];
    }
    n += CHUNK;
    t = cli_now_s();
  } while (t - t0 < seconds);
  return (double)n / (t - t0);
}

#if M2M_HAVE_LIBOSMOCORE
typedef int (*OsmoAuthGenVec)(struct osmo_auth_vector *vec, struct osmo_sub_auth_data *aud,
                              const uint8_t *rand);

/* osmo_auth_gen_vec from libosmogsm, opened now rather than linked (see tools/meson.build);
 * its MILENAGE registers itself from the library's constructor. NULL if absent. The
 * library stays loaded until exit. */
static OsmoAuthGenVec
osmo_load(void)
{
  void *lib = dlopen("libosmogsm.so", RTLD_NOW | RTLD_LOCAL); /* libosmocore-dev */
  for (int major = 30; lib == NULL && major >= 16; major--) {
    char name[32];
    g_snprintf(name, sizeof name, "libosmogsm.so.%d", major);
    lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  }
  if (lib == NULL) {
    fprintf(stderr, "bench av: cannot open libosmogsm (%s)\n", dlerror());
    return NULL;
  }
  OsmoAuthGenVec fn = (OsmoAuthGenVec)dlsym(lib, "osmo_auth_gen_vec");
  if (fn == NULL)
    fprintf(stderr, "bench av: libosmogsm has no osmo_auth_gen_vec\n");
  return fn;
}

static double
run_osmo(OsmoAuthGenVec gen_vec, BenchSub *subs, double seconds, uint8_t *sink)
{
  static struct osmo_sub_auth_data aud[N_SUBS];
  static uint8_t rands[N_SUBS][16];
  uint64_t state = 0x1234567887654321u;
  for (int i = 0; i < N_SUBS; i++) {
    memset(&aud[i], 0, sizeof aud[i]);
    aud[i].type = OSMO_AUTH_TYPE_UMTS;
    aud[i].algo = OSMO_AUTH_ALG_MILENAGE;
    memcpy(aud[i].u.umts.k, subs[i].keys.k, 16);
    memcpy(aud[i].u.umts.opc, subs[i].keys.opc, 16);
    aud[i].u.umts.amf[0] = 0x80;
    aud[i].u.umts.ind_bitlen = 5;
    xorshift_fill(&state, rands[i], 16);
  }
  struct osmo_auth_vector vec;
  uint64_t n = 0;
  double t0 = cli_now_s(), t;
  do {
    for (unsigned i = 0; i < CHUNK; i++) {
      unsigned s = (unsigned)((n + i) % N_SUBS);
      if (gen_vec(&vec, &aud[s], rands[(s * 7 + i) % N_SUBS]) != 0) {
        fprintf(stderr, "m2msim bench av: osmo_auth_gen_vec failed\n");
        return 0;
      }
      *sink ^= vec.res[0] ^ vec.autn[15];
    }
    n += CHUNK;
    t = cli_now_s();
  } while (t - t0 < seconds);
  return (double)n / (t - t0);
}
#endif

int
bench_av(int argc, char **argv)
{
  double seconds = 1.0;
  if (!cli_bench_seconds("bench av", "- AVs per second: AES-NI, portable, libosmocore", summary,
                         "measuring time per path, in seconds (default 1)", argc, argv, &seconds))
    return CLI_EXIT_USAGE;

  static BenchSub subs[N_SUBS];
  uint64_t state = 0x0123456789abcdefu;
  for (int i = 0; i < N_SUBS; i++) {
    xorshift_fill(&state, subs[i].keys.k, 16);
    xorshift_fill(&state, subs[i].keys.opc, 16);
    subs[i].seq_he = 0;
  }
  uint8_t sink = 0;
  const MilImpl *fast = mil_impl_aesni();
  double r_fast = 0, r_portable, r_osmo = 0;
  if (fast != NULL) {
    fprintf(stderr, "bench av: fast path (%g s)...\n", seconds);
    r_fast = run_ours(fast, subs, seconds, &sink);
  }
  fprintf(stderr, "bench av: portable path (%g s)...\n", seconds);
  r_portable = run_ours(mil_impl_portable(), subs, seconds, &sink);
#if M2M_HAVE_LIBOSMOCORE
  OsmoAuthGenVec gen_vec = osmo_load();
  if (gen_vec != NULL) {
    fprintf(stderr, "bench av: libosmocore osmo_auth_gen_vec (%g s)...\n", seconds);
    r_osmo = run_osmo(gen_vec, subs, seconds, &sink);
  }
#endif
  if (fast != NULL)
    printf("fast: %.0f\n", r_fast);
  else
    printf("fast: n/a\n");
  printf("portable: %.0f\n", r_portable);
  if (r_osmo > 0)
    printf("libosmocore: %.0f\n", r_osmo);
  else
    printf("libosmocore: n/a\n");
  double best = fast != NULL ? r_fast : r_portable;
  printf("ratio: %.2f\n", best / (r_osmo > 0 ? r_osmo : r_portable));
  volatile uint8_t keep = sink; /* the work must not be optimised away */
  (void)keep;
  return CLI_EXIT_OK;
}

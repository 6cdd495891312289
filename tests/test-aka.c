/* UMTS AKA (TS 33.102 §6.3, Annex C): every row of tests/vectors/aka.tsv on both MILENAGE
 * paths, then the Annex C behaviour of the HE and USIM sides together. */
#include <glib.h>
#include <string.h>

#include "m2m/aka.h"
#include "m2m/hex.h"
#include "testutil.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* "NAME=VALUE NAME=VALUE ..." -> hash table (caller unrefs). */
static GHashTable *
parse_fields(const char *text)
{
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) parts = g_strsplit(text, " ", -1);
  for (char **p = parts; *p; p++) {
    char *eq = strchr(*p, '=');
    if (**p == '\0' || eq == NULL)
      continue;
    g_hash_table_insert(h, g_strndup(*p, (gsize)(eq - *p)), g_strdup(eq + 1));
  }
  return h;
}

static const char *
field(GHashTable *h, const char *name)
{
  const char *v = g_hash_table_lookup(h, name);
  if (v == NULL)
    g_error("aka.tsv: field %s missing", name);
  return v;
}

static void
keys_from(GHashTable *h, AkaKeys *keys)
{
  tu_hex(field(h, "K"), keys->k, 16);
  tu_hex(field(h, "OPc"), keys->opc, 16);
}

static uint64_t
hex48(const char *hex)
{
  uint8_t b[6];
  tu_hex(hex, b, 6);
  return mil_sqn_get(b);
}

static void
check_hex(const char *what, const uint8_t *got, size_t len, const char *want)
{
  char buf[2 * 16 + 1];
  hex_encode(got, len, buf);
  if (g_ascii_strcasecmp(buf, want) != 0)
    g_error("%s: got %s, want %s", what, buf, want);
}

static const MilImpl *
impl_at(int i)
{
  return i == 0 ? mil_impl_portable() : mil_impl_aesni();
}

/* SQN carried by an AUTN: AUTN[0..5] xor f5(RAND). */
static uint64_t
sqn_of(const AkaKeys *keys, const AkaVector *av)
{
  static const uint8_t zero[8];
  MilOut o;
  mil_compute(NULL, keys->k, keys->opc, av->rand, zero, zero, &o);
  uint8_t s[6];
  for (int i = 0; i < 6; i++)
    s[i] = av->autn[i] ^ o.ak[i];
  return mil_sqn_get(s);
}

/* A pinned RAND source: a GRand with a fixed seed. */
static void
grand_fill(void *ctx, uint8_t *out, size_t len)
{
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)g_rand_int_range(ctx, 0, 256);
}

typedef struct {
  AkaConfig cfg;
  AkaKeys keys;
  GRand *grand;
  AkaRandom rng;
  uint64_t seq_he;
  AkaUsim usim;
} Pair;

static void
pair_init(Pair *p, unsigned ind_bits, uint64_t limit, guint32 seed)
{
  memset(p, 0, sizeof *p);
  aka_config_init(&p->cfg);
  p->cfg.ind_bits = ind_bits;
  if (limit)
    p->cfg.limit = limit;
  p->grand = g_rand_new_with_seed(seed);
  grand_fill(p->grand, p->keys.k, 16);
  grand_fill(p->grand, p->keys.opc, 16);
  p->rng = (AkaRandom){grand_fill, p->grand};
  aka_usim_init(&p->usim);
}

static void
pair_clear(Pair *p)
{
  g_rand_free(p->grand);
}

/* HE issues one AV for `ind`. */
static AkaVector
issue(Pair *p, unsigned ind)
{
  AkaVector av;
  g_assert_cmpint(aka_he_generate(&p->cfg, NULL, &p->keys, &p->seq_he, ind, AKA_AMF_SEPARATION,
                                  &p->rng, &av, 1),
                  ==, AKA_OK);
  return av;
}

/* USIM answers AUTN; on success checks RES/CK/IK against the AV. */
static AkaStatus
present(Pair *p, const AkaVector *av, AkaUsimAnswer *ans)
{
  AkaUsimAnswer local;
  if (ans == NULL)
    ans = &local;
  AkaStatus st = aka_usim_check(&p->cfg, NULL, &p->keys, &p->usim, av->rand, av->autn, ans);
  if (st == AKA_OK) {
    g_assert_cmpmem(ans->res, 8, av->xres, 8);
    g_assert_cmpmem(ans->ck, 16, av->ck, 16);
    g_assert_cmpmem(ans->ik, 16, av->ik, 16);
  }
  return st;
}

/* ---- aka.tsv ------------------------------------------------------------------------------ */

static void
test_vectors(void)
{
  g_autoptr(GPtrArray) rows = tu_read_tsv("aka.tsv");
  int seen[6] = {0}; /* av, opc, auts, resync-next, auts-make, total */
  for (guint r = 0; r < rows->len; r++) {
    char **f = rows->pdata[r];
    g_assert_cmpuint(g_strv_length(f), ==, 3);
    g_autoptr(GHashTable) in = parse_fields(f[1]);
    const char *kind = f[0];
    for (int p = 0; p < 2; p++) {
      const MilImpl *mil = impl_at(p);
      if (mil == NULL)
        continue;
      if (strcmp(kind, "av") == 0) {
        g_autoptr(GHashTable) want = parse_fields(f[2]);
        AkaKeys keys;
        keys_from(in, &keys);
        uint8_t rand[16], amf[2];
        tu_hex(field(in, "RAND"), rand, 16);
        tu_hex(field(in, "AMF"), amf, 2);
        AkaVector av;
        g_assert_cmpint(aka_av_build(mil, &keys, rand, hex48(field(in, "SQN")),
                                     (uint16_t)(amf[0] << 8 | amf[1]), &av),
                        ==, AKA_OK);
        g_assert_cmpmem(av.rand, 16, rand, 16);
        check_hex("AUTN", av.autn, 16, field(want, "AUTN"));
        const char *v;
        if ((v = g_hash_table_lookup(want, "RES")))
          check_hex("RES", av.xres, 8, v);
        if ((v = g_hash_table_lookup(want, "CK")))
          check_hex("CK", av.ck, 16, v);
        if ((v = g_hash_table_lookup(want, "IK")))
          check_hex("IK", av.ik, 16, v);
        /* And a USIM that has seen nothing accepts it with the same keys. */
        AkaConfig cfg;
        aka_config_init(&cfg);
        AkaUsim usim;
        uint64_t sqn = hex48(field(in, "SQN"));
        g_assert_true(aka_usim_init_at(&usim, &cfg, sqn > 0 ? sqn - 1 : 0));
        AkaUsimAnswer ans;
        AkaStatus st = aka_usim_check(&cfg, mil, &keys, &usim, rand, av.autn, &ans);
        g_assert_cmpint(st, ==, AKA_OK);
        g_assert_cmpmem(ans.res, 8, av.xres, 8);
        seen[0]++;
      } else if (strcmp(kind, "opc") == 0) {
        uint8_t k[16], op[16], opc[16];
        tu_hex(field(in, "K"), k, 16);
        tu_hex(field(in, "OP"), op, 16);
        mil_opc(mil, k, op, opc);
        g_autoptr(GHashTable) want = parse_fields(f[2]);
        check_hex("OPc", opc, 16, field(want, "OPc"));
        seen[1]++;
      } else if (strcmp(kind, "auts") == 0) {
        AkaKeys keys;
        keys_from(in, &keys);
        uint8_t rand[16], auts[14];
        tu_hex(field(in, "RAND"), rand, 16);
        tu_hex(field(in, "AUTS"), auts, 14);
        g_autoptr(GHashTable) want = parse_fields(f[2]);
        g_assert_cmpstr(field(want, "MAC-S"), ==, "valid");
        uint64_t ms = 0;
        g_assert_cmpint(aka_auts_verify(mil, &keys, rand, auts, &ms), ==, AKA_OK);
        g_assert_cmphex(ms, ==, hex48(field(want, "SQN_MS")));
        /* Our USIM side builds the same AUTS. */
        uint8_t again[14];
        aka_auts_build(mil, &keys, rand, ms, again);
        g_assert_cmpmem(again, 14, auts, 14);
        /* A flipped MAC-S bit is refused. */
        auts[13] ^= 1;
        g_assert_cmpint(aka_auts_verify(mil, &keys, rand, auts, &ms), ==, AKA_MAC_FAILURE);
        seen[2]++;
      } else if (strcmp(kind, "resync-next") == 0) {
        /* "SQN_MS=31 IND-bits=5 IND=10" -> "next SQN=42 then 74 then 106" */
        AkaConfig cfg;
        aka_config_init(&cfg);
        cfg.ind_bits = (unsigned)g_ascii_strtoull(field(in, "IND-bits"), NULL, 10);
        uint64_t sqn_ms = g_ascii_strtoull(field(in, "SQN_MS"), NULL, 10);
        const char *ind_s = g_hash_table_lookup(in, "IND");
        unsigned ind = ind_s ? (unsigned)g_ascii_strtoull(ind_s, NULL, 10) : 0;
        g_auto(GStrv) want = g_strsplit(f[2] + strlen("next SQN="), " then ", -1);
        /* From an HE counter the USIM would accept (0) and one it would not (far ahead). */
        uint64_t starts[2] = {0, (UINT64_C(1) << 30)};
        for (int s = 0; s < 2; s++) {
          Pair pr;
          pair_init(&pr, cfg.ind_bits, 0, 77 + s);
          pr.seq_he = starts[s];
          uint8_t rand[16], auts[14];
          grand_fill(pr.grand, rand, 16);
          aka_auts_build(mil, &pr.keys, rand, sqn_ms, auts);
          uint64_t got_ms = 0;
          g_assert_cmpint(aka_he_resync(&cfg, mil, &pr.keys, &pr.seq_he, rand, auts, &got_ms), ==,
                          AKA_OK);
          g_assert_cmpuint(got_ms, ==, sqn_ms);
          for (char **w = want; *w; w++) {
            uint64_t expect = g_ascii_strtoull(*w, NULL, 10);
            g_assert_cmpuint(aka_he_next_sqn(&cfg, pr.seq_he, ind), ==, expect);
            AkaVector av;
            g_assert_cmpint(
                aka_he_generate(&cfg, mil, &pr.keys, &pr.seq_he, ind, 0, &pr.rng, &av, 1), ==,
                AKA_OK);
            g_assert_cmpuint(sqn_of(&pr.keys, &av), ==, expect);
          }
          pair_clear(&pr);
        }
        seen[3]++;
      } else if (strcmp(kind, "auts-make") == 0) {
        AkaKeys keys;
        keys_from(in, &keys);
        uint8_t rand[16], auts[14];
        tu_hex(field(in, "RAND"), rand, 16);
        uint64_t ms = hex48(field(in, "SQN_MS"));
        g_autoptr(GHashTable) want = parse_fields(f[2]);
        aka_auts_build(mil, &keys, rand, ms, auts);
        check_hex("AUTS", auts, 14, field(want, "AUTS"));
        /* The USIM's own answer: highest accepted SQN_MS, offered an AUTN with SQN_MS. */
        AkaConfig cfg;
        aka_config_init(&cfg);
        for (unsigned bits = 0; bits <= AKA_IND_BITS_MAX; bits += 5) {
          cfg.ind_bits = bits;
          AkaUsim usim;
          g_assert_true(aka_usim_init_at(&usim, &cfg, ms));
          AkaVector av;
          g_assert_cmpint(aka_av_build(mil, &keys, rand, ms, 0x8000, &av), ==, AKA_OK);
          AkaUsimAnswer ans;
          g_assert_cmpint(aka_usim_check(&cfg, mil, &keys, &usim, rand, av.autn, &ans), ==,
                          AKA_SYNC_FAILURE);
          check_hex("USIM AUTS", ans.auts, 14, field(want, "AUTS"));
        }
        seen[4]++;
      } else {
        g_error("aka.tsv: unknown kind '%s'", kind);
      }
      seen[5]++;
    }
  }
  g_assert_cmpint(seen[0], >=, 4);
  g_assert_cmpint(seen[1], >=, 1);
  g_assert_cmpint(seen[2], >=, 3);
  g_assert_cmpint(seen[3], >=, 2);
  g_assert_cmpint(seen[4], >=, 1);
}

/* ---- Annex C behaviour ------------------------------------------------------------------ */

static void
test_batch_roundtrip(void)
{
  Pair p;
  pair_init(&p, 5, 0, 1);
  AkaVector avs[5];
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 3, 0x8000, &p.rng, avs, 5), ==,
                  AKA_OK);
  g_assert_cmpuint(p.seq_he, ==, 5);
  for (int i = 0; i < 5; i++) {
    g_assert_cmpuint(sqn_of(&p.keys, &avs[i]), ==, (uint64_t)(i + 1) << 5 | 3);
    g_assert_cmphex(avs[i].autn[6], ==, 0x80); /* AMF separation bit */
    g_assert_cmphex(avs[i].autn[7], ==, 0x00);
    if (i > 0)
      g_assert_true(memcmp(avs[i].rand, avs[i - 1].rand, 16) != 0);
    g_assert_cmpint(present(&p, &avs[i], NULL), ==, AKA_OK);
  }
  g_assert_cmpuint(p.usim.sqn_ms, ==, 5 << 5 | 3);
  g_assert_cmpuint(p.usim.seq[3], ==, 5);
  pair_clear(&p);
}

/* RAND is exactly what the caller's source gives. */
static void
count_fill(void *ctx, uint8_t *out, size_t len)
{
  unsigned *n = ctx;
  memset(out, (int)(0x40 + (*n)++), len);
}

static void
test_rand_source(void)
{
  Pair p;
  pair_init(&p, 5, 0, 2);
  unsigned n = 0;
  AkaRandom pinned = {count_fill, &n};
  AkaVector avs[3];
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 0, 0, &pinned, avs, 3), ==,
                  AKA_OK);
  g_assert_cmpuint(n, ==, 3);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 16; j++)
      g_assert_cmphex(avs[i].rand[j], ==, 0x40 + i);
  pair_clear(&p);
}

static void
test_replay_refused(void)
{
  Pair p;
  pair_init(&p, 5, 0, 3);
  AkaVector a = issue(&p, 7), b = issue(&p, 7);
  g_assert_cmpint(present(&p, &a, NULL), ==, AKA_OK);
  AkaUsim before = p.usim;
  AkaUsimAnswer ans;
  g_assert_cmpint(present(&p, &a, &ans), ==, AKA_SYNC_FAILURE); /* replay */
  g_assert_cmpmem(&before, sizeof before, &p.usim, sizeof p.usim);
  /* AUTS carries the highest accepted SQN (that of a). */
  uint64_t ms = 0;
  g_assert_cmpint(aka_auts_verify(NULL, &p.keys, a.rand, ans.auts, &ms), ==, AKA_OK);
  g_assert_cmpuint(ms, ==, sqn_of(&p.keys, &a));
  /* Same slot, out of order: b (newer) accepted, then a again refused. */
  g_assert_cmpint(present(&p, &b, NULL), ==, AKA_OK);
  g_assert_cmpint(present(&p, &a, NULL), ==, AKA_SYNC_FAILURE);
  g_assert_cmpint(present(&p, &b, NULL), ==, AKA_SYNC_FAILURE);
  pair_clear(&p);
}

/* Two serving nodes (IND 1 and 2) each hold a batch; the USIM uses them interleaved. */
static void
test_other_slot_fresh(void)
{
  Pair p;
  pair_init(&p, 5, 0, 4);
  AkaVector a[3], b[3];
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 1, 0, &p.rng, a, 3), ==,
                  AKA_OK);
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 2, 0, &p.rng, b, 3), ==,
                  AKA_OK);
  g_assert_cmpint(present(&p, &b[0], NULL), ==, AKA_OK); /* SEQ 4, slot 2 */
  g_assert_cmpint(present(&p, &a[0], NULL), ==, AKA_OK); /* SEQ 1 < 4, but slot 1 is fresh */
  g_assert_cmpint(present(&p, &a[1], NULL), ==, AKA_OK);
  g_assert_cmpint(present(&p, &b[1], NULL), ==, AKA_OK);
  g_assert_cmpint(present(&p, &a[0], NULL), ==, AKA_SYNC_FAILURE);
  g_assert_cmpint(present(&p, &b[0], NULL), ==, AKA_SYNC_FAILURE);
  g_assert_cmpint(present(&p, &a[2], NULL), ==, AKA_OK);
  g_assert_cmpuint(p.usim.sqn_ms, ==, 5 << 5 | 2); /* b[1] is the highest accepted */
  /* With IND bits 0 there is one slot: the older AV of the other node is refused. */
  Pair q;
  pair_init(&q, 0, 0, 5);
  AkaVector x = issue(&q, 0), y = issue(&q, 0);
  g_assert_cmpint(present(&q, &y, NULL), ==, AKA_OK);
  g_assert_cmpint(present(&q, &x, NULL), ==, AKA_SYNC_FAILURE);
  pair_clear(&q);
  pair_clear(&p);
}

static void
test_limit(void)
{
  Pair p;
  pair_init(&p, 5, 16, 6);
  AkaVector first = issue(&p, 0); /* SEQ 1 */
  g_assert_cmpint(present(&p, &first, NULL), ==, AKA_OK);
  /* SEQ exactly L ahead of the highest accepted (1 + 16 = 17): accepted. */
  p.seq_he = 16;
  AkaVector at_l = issue(&p, 1);
  g_assert_cmpint(present(&p, &at_l, NULL), ==, AKA_OK);
  /* SEQ L + 1 ahead (17 + 17 = 34): refused with AUTS for SQN 17||1. */
  p.seq_he = 33;
  AkaVector beyond = issue(&p, 2);
  AkaUsimAnswer ans;
  g_assert_cmpint(present(&p, &beyond, &ans), ==, AKA_SYNC_FAILURE);
  g_assert_cmpuint(p.usim.seq[2], ==, 0);
  /* The HE resynchronises: its next SEQ (35) is out of range, so it restarts at SEQ_MS. */
  uint64_t ms;
  g_assert_cmpint(aka_he_resync(&p.cfg, NULL, &p.keys, &p.seq_he, beyond.rand, ans.auts, &ms), ==,
                  AKA_OK);
  g_assert_cmpuint(ms, ==, 17 << 5 | 1);
  g_assert_cmpuint(p.seq_he, ==, 17);
  AkaVector next = issue(&p, 2);
  g_assert_cmpuint(sqn_of(&p.keys, &next), ==, 18 << 5 | 2);
  g_assert_cmpint(present(&p, &next, NULL), ==, AKA_OK);
  /* The default L is 2^28. */
  AkaConfig def;
  aka_config_init(&def);
  g_assert_cmpuint(def.limit, ==, UINT64_C(1) << 28);
  g_assert_cmpuint(def.ind_bits, ==, 5);
  pair_clear(&p);
}

/* IND cycles through every slot and comes back to slot 0 with a higher SEQ. */
static void
test_ind_wrap(void)
{
  Pair p;
  pair_init(&p, 5, 0, 7);
  AkaVector old0 = issue(&p, 0);
  g_assert_cmpint(present(&p, &old0, NULL), ==, AKA_OK);
  for (unsigned round = 0; round < 3; round++)
    for (unsigned ind = 0; ind < AKA_SLOTS_MAX; ind++) {
      AkaVector av = issue(&p, ind);
      g_assert_cmpint(present(&p, &av, NULL), ==, AKA_OK);
    }
  g_assert_cmpuint(p.usim.seq[0], ==, 1 + 2 * 32 + 1);
  g_assert_cmpuint(p.usim.seq[31], ==, 1 + 3 * 32);
  g_assert_cmpint(present(&p, &old0, NULL), ==, AKA_SYNC_FAILURE);
  /* An IND outside 0..2^ind_bits - 1 is refused, not wrapped silently. */
  AkaVector av;
  uint64_t before = p.seq_he;
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 32, 0, &p.rng, &av, 1), ==,
                  AKA_BAD_ARGUMENT);
  g_assert_cmpuint(p.seq_he, ==, before);
  pair_clear(&p);
}

/* A USIM ahead of its HE (e.g. after the HE lost state): sync failure, resync, success. */
static void
test_resync_then_success(void)
{
  for (unsigned bits = 0; bits <= AKA_IND_BITS_MAX; bits++) {
    Pair p;
    pair_init(&p, bits, 0, 8 + bits);
    uint64_t usim_at = (UINT64_C(1000) << bits) | ((1u << bits) - 1);
    g_assert_true(aka_usim_init_at(&p.usim, &p.cfg, usim_at));
    AkaVector stale = issue(&p, 0);
    AkaUsimAnswer ans;
    g_assert_cmpint(present(&p, &stale, &ans), ==, AKA_SYNC_FAILURE);
    uint64_t ms = 0, seq_before = p.seq_he;
    /* A corrupted AUTS is refused and changes nothing. */
    ans.auts[7] ^= 0x20;
    g_assert_cmpint(aka_he_resync(&p.cfg, NULL, &p.keys, &p.seq_he, stale.rand, ans.auts, &ms), ==,
                    AKA_MAC_FAILURE);
    g_assert_cmpuint(p.seq_he, ==, seq_before);
    ans.auts[7] ^= 0x20;
    /* AUTS made for another RAND is refused too. */
    AkaVector other = issue(&p, 0);
    g_assert_cmpint(aka_he_resync(&p.cfg, NULL, &p.keys, &p.seq_he, other.rand, ans.auts, &ms), ==,
                    AKA_MAC_FAILURE);
    g_assert_cmpint(aka_he_resync(&p.cfg, NULL, &p.keys, &p.seq_he, stale.rand, ans.auts, &ms), ==,
                    AKA_OK);
    g_assert_cmpuint(ms, ==, usim_at);
    g_assert_cmpuint(p.seq_he, ==, 1000);
    AkaVector fresh = issue(&p, 0);
    g_assert_cmpint(present(&p, &fresh, NULL), ==, AKA_OK);
    g_assert_cmpuint(p.usim.sqn_ms, ==, UINT64_C(1001) << bits);
    /* A resync when the HE is already ahead (within L) keeps its counter. */
    p.seq_he = 1500;
    AkaVector replay = fresh;
    g_assert_cmpint(present(&p, &replay, &ans), ==, AKA_SYNC_FAILURE);
    g_assert_cmpint(aka_he_resync(&p.cfg, NULL, &p.keys, &p.seq_he, replay.rand, ans.auts, &ms), ==,
                    AKA_OK);
    g_assert_cmpuint(p.seq_he, ==, 1500);
    pair_clear(&p);
  }
}

static void
test_mac_failure(void)
{
  Pair p;
  pair_init(&p, 5, 0, 20);
  AkaVector av = issue(&p, 4);
  AkaUsim before = p.usim;
  for (int pos = 0; pos < 16; pos++) {
    AkaVector bad = av;
    bad.autn[pos] ^= 0x01; /* SQN, AMF and MAC-A are all covered by MAC-A */
    AkaUsimAnswer ans;
    memset(&ans, 0x55, sizeof ans);
    g_assert_cmpint(present(&p, &bad, &ans), ==, AKA_MAC_FAILURE);
    AkaUsimAnswer zero = {0};
    g_assert_cmpmem(&ans, sizeof ans, &zero, sizeof zero);
  }
  AkaVector bad = av;
  bad.rand[0] ^= 0x80;
  g_assert_cmpint(present(&p, &bad, NULL), ==, AKA_MAC_FAILURE);
  /* Another subscriber's keys. */
  Pair q;
  pair_init(&q, 5, 0, 21);
  g_assert_cmpint(present(&q, &av, NULL), ==, AKA_MAC_FAILURE);
  g_assert_cmpmem(&before, sizeof before, &p.usim, sizeof p.usim);
  g_assert_cmpint(present(&p, &av, NULL), ==, AKA_OK);
  pair_clear(&q);
  pair_clear(&p);
}

/* init_at: the USIM has accepted every SQN up to N. */
static void
test_init_at(void)
{
  Pair p;
  pair_init(&p, 5, 0, 30);
  g_assert_true(aka_usim_init_at(&p.usim, &p.cfg, 42)); /* SEQ 1, IND 10 */
  g_assert_cmpuint(p.usim.seq[10], ==, 1);
  g_assert_cmpuint(p.usim.seq[9], ==, 1);
  g_assert_cmpuint(p.usim.seq[11], ==, 0);
  static const struct {
    uint64_t sqn;
    AkaStatus want;
  } cases[] = {{41, AKA_SYNC_FAILURE},
               {42, AKA_SYNC_FAILURE},
               {10, AKA_SYNC_FAILURE},
               {43, AKA_OK},
               {74, AKA_OK},
               {74, AKA_SYNC_FAILURE},
               {63, AKA_OK}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    AkaVector av;
    uint8_t rand[16];
    grand_fill(p.grand, rand, 16);
    g_assert_cmpint(aka_av_build(NULL, &p.keys, rand, cases[i].sqn, 0, &av), ==, AKA_OK);
    g_assert_cmpint(present(&p, &av, NULL), ==, cases[i].want);
  }
  g_assert_false(aka_usim_init_at(&p.usim, &p.cfg, AKA_SQN_MAX + 1));
  AkaConfig wide = p.cfg;
  wide.ind_bits = 6;
  g_assert_false(aka_usim_init_at(&p.usim, &wide, 1));
  pair_clear(&p);
}

static void
test_exhausted_and_args(void)
{
  Pair p;
  pair_init(&p, 5, 0, 40);
  AkaVector avs[2];
  p.seq_he = (AKA_SQN_MAX >> 5) - 1;
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 31, 0, &p.rng, avs, 2), ==,
                  AKA_SQN_EXHAUSTED);
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 31, 0, &p.rng, avs, 1), ==,
                  AKA_OK);
  g_assert_cmpuint(sqn_of(&p.keys, &avs[0]), ==, AKA_SQN_MAX);
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &p.seq_he, 0, 0, &p.rng, avs, 1), ==,
                  AKA_SQN_EXHAUSTED);
  g_assert_cmpint(aka_av_build(NULL, &p.keys, avs[0].rand, AKA_SQN_MAX + 1, 0, avs), ==,
                  AKA_BAD_ARGUMENT);
  AkaConfig bad = p.cfg;
  bad.ind_bits = 9;
  uint64_t s = 0;
  g_assert_cmpint(aka_he_generate(&bad, NULL, &p.keys, &s, 0, 0, &p.rng, avs, 1), ==,
                  AKA_BAD_ARGUMENT);
  AkaUsimAnswer ans;
  g_assert_cmpint(aka_usim_check(&bad, NULL, &p.keys, &p.usim, avs[0].rand, avs[0].autn, &ans), ==,
                  AKA_BAD_ARGUMENT);
  bad = p.cfg;
  bad.limit = 0;
  g_assert_cmpint(aka_usim_check(&bad, NULL, &p.keys, &p.usim, avs[0].rand, avs[0].autn, &ans), ==,
                  AKA_BAD_ARGUMENT);
  /* Zero AVs is a valid, empty batch. */
  s = 7;
  g_assert_cmpint(aka_he_generate(&p.cfg, NULL, &p.keys, &s, 0, 0, &p.rng, avs, 0), ==, AKA_OK);
  g_assert_cmpuint(s, ==, 7);
  g_assert_cmpstr(aka_status_name(AKA_SYNC_FAILURE), ==, "sync-failure");
  g_assert_cmpint(sizeof(AkaUsim), ==, 264);
  g_assert_cmpint(sizeof(AkaVector), ==, 72);
  pair_clear(&p);
}

/* The small store (AkaUsimSmall: unpack, check, pack, and the full state kept once more
 * slots moved than it holds) answers exactly what the full AkaUsim answers, on random
 * runs: a random start SQN, AUTNs for a few IND slots with SEQs fresh, replayed, far
 * ahead (past L) and behind, for 5 and 3 IND bits. */
static void
test_small_store(void)
{
  unsigned n_spilled = 0, n_small = 0;
  for (unsigned ind_bits = 3; ind_bits <= 5; ind_bits += 2) {
    for (guint32 seed = 1; seed <= 40; seed++) {
      Pair p;
      pair_init(&p, ind_bits, 64, seed);
      uint64_t start = g_rand_boolean(p.grand) ? 0 : (uint64_t)g_rand_int_range(p.grand, 0, 5000);
      g_assert_true(aka_usim_init_at(&p.usim, &p.cfg, start));
      AkaUsimSmall small;
      g_assert_true(aka_usim_small_init_at(&small, &p.cfg, start));
      AkaUsim full_copy; /* the spill: what a caller keeps once pack says no */
      bool spilled = false;
      unsigned n_slots = (unsigned)g_rand_int_range(p.grand, 1, 5); /* INDs this USIM meets */
      uint64_t seq = start >> ind_bits;
      for (int op = 0; op < 60; op++) {
        unsigned ind = (unsigned)g_rand_int_range(p.grand, 0, (gint32)n_slots) % (1u << ind_bits);
        int64_t step = g_rand_int_range(p.grand, -3, 6);
        if (g_rand_int_range(p.grand, 0, 10) == 0)
          step = 100; /* past the limit L = 64 */
        uint64_t s = (int64_t)seq + step > 0 ? (uint64_t)((int64_t)seq + step) : 0;
        seq = MAX(seq, s);
        AkaVector av;
        uint8_t rand[16];
        grand_fill(p.grand, rand, 16);
        g_assert_cmpint(aka_av_build(NULL, &p.keys, rand, (s << ind_bits) | ind, 0, &av), ==,
                        AKA_OK);
        AkaUsimAnswer want, got;
        AkaStatus sw = aka_usim_check(&p.cfg, NULL, &p.keys, &p.usim, av.rand, av.autn, &want);
        AkaUsim u;
        if (spilled)
          u = full_copy;
        else
          aka_usim_unpack(&small, &p.cfg, &u);
        AkaStatus sg = aka_usim_check(&p.cfg, NULL, &p.keys, &u, av.rand, av.autn, &got);
        g_assert_cmpint(sg, ==, sw);
        g_assert_cmpmem(&got, sizeof got, &want, sizeof want);
        if (spilled)
          full_copy = u;
        else if (!aka_usim_pack(&small, &p.cfg, &u)) {
          spilled = true;
          full_copy = u;
        }
        AkaUsim now;
        if (spilled)
          now = full_copy;
        else
          aka_usim_unpack(&small, &p.cfg, &now);
        g_assert_cmpmem(&now, sizeof now, &p.usim, sizeof p.usim);
      }
      n_spilled += spilled;
      n_small += !spilled;
      pair_clear(&p);
    }
  }
  g_assert_cmpuint(n_spilled, >, 0); /* both kinds of run were seen */
  g_assert_cmpuint(n_small, >, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/aka/vectors", test_vectors);
  g_test_add_func("/aka/batch-roundtrip", test_batch_roundtrip);
  g_test_add_func("/aka/rand-source", test_rand_source);
  g_test_add_func("/aka/replay-refused", test_replay_refused);
  g_test_add_func("/aka/other-slot-fresh", test_other_slot_fresh);
  g_test_add_func("/aka/limit", test_limit);
  g_test_add_func("/aka/ind-wrap", test_ind_wrap);
  g_test_add_func("/aka/resync-then-success", test_resync_then_success);
  g_test_add_func("/aka/mac-failure", test_mac_failure);
  g_test_add_func("/aka/init-at", test_init_at);
  g_test_add_func("/aka/small-store", test_small_store);
  g_test_add_func("/aka/exhausted-and-args", test_exhausted_and_args);
  return g_test_run();
}

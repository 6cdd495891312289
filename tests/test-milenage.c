/* MILENAGE on both paths: every published test set (TS 35.207/35.208, tests/vectors/), the
 * AES-128 kernel data, and the two paths against each other on random inputs. */
#include <glib.h>
#include <string.h>

#include "m2m/hex.h"
#include "m2m/milenage.h"
#include "testutil.h"

/* Both paths when the CPU has AES-NI, else the portable one (the AES-NI one is then
 * reported as skipped by /milenage/aesni-present). */
static const MilImpl *
impl_at(int i)
{
  return i == 0 ? mil_impl_portable() : mil_impl_aesni();
}

static void
assert_hex(const char *what, const char *set, const uint8_t *got, size_t len, const char *want)
{
  char buf[2 * 16 + 1];
  hex_encode(got, len, buf);
  if (g_ascii_strcasecmp(buf, want) != 0)
    g_error("set %s %s: got %s, want %s", set, what, buf, want);
}

static void
test_aesni_present(void)
{
  if (mil_impl_aesni() == NULL) {
    g_test_skip("this CPU has no AES-NI: only the portable path is tested");
    return;
  }
  g_assert_cmpstr(mil_impl_aesni()->name, ==, "aesni");
  g_assert_true(mil_impl_best() == mil_impl_aesni());
}

static void
test_select(void)
{
  g_assert_cmpstr(mil_impl_portable()->name, ==, "portable");
  g_assert_true(mil_impl_by_name("portable") == mil_impl_portable());
  g_assert_true(mil_impl_by_name("best") == mil_impl_best());
  g_assert_true(mil_impl_by_name("aesni") == mil_impl_aesni());
  g_assert_null(mil_impl_by_name("des"));
  g_assert_null(mil_impl_by_name(NULL));
}

static void
test_aes_kernel(void)
{
  g_autoptr(GPtrArray) rows = tu_read_tsv("aes128.tsv");
  int checked = 0;
  for (int p = 0; p < 2; p++) {
    const MilImpl *impl = impl_at(p);
    if (impl == NULL)
      continue;
    for (guint i = 1; i < rows->len; i++) { /* row 0 is the header */
      char **f = rows->pdata[i];
      g_assert_cmpuint(g_strv_length(f), ==, 4);
      uint8_t k[16], pt[16], ct[16];
      tu_hex(f[1], k, 16);
      tu_hex(f[2], pt, 16);
      impl->aes128(k, pt, ct);
      assert_hex(impl->name, f[0], ct, 16, f[3]);
      checked++;
    }
  }
  g_assert_cmpint(checked, >=, 20);
}

static void
test_vectors(void)
{
  g_autoptr(GPtrArray) rows = tu_read_tsv("milenage.tsv");
  g_assert_cmpuint(rows->len, ==, 22); /* header + 21 sets */
  char **head = rows->pdata[0];
  g_assert_cmpstr(head[0], ==, "set");
  g_assert_cmpstr(head[13], ==, "f5*");
  int checked = 0;
  for (int p = 0; p < 2; p++) {
    const MilImpl *impl = impl_at(p);
    if (impl == NULL)
      continue;
    for (guint i = 1; i < rows->len; i++) {
      char **f = rows->pdata[i];
      g_assert_cmpuint(g_strv_length(f), ==, 14);
      uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
      tu_hex(f[1], k, 16);
      tu_hex(f[2], rand, 16);
      tu_hex(f[3], sqn, 6);
      tu_hex(f[4], amf, 2);
      tu_hex(f[5], op, 16);
      mil_opc(impl, k, op, opc);
      g_autofree char *what = g_strdup_printf("%s OPc", impl->name);
      assert_hex(what, f[0], opc, 16, f[6]);
      MilOut o;
      memset(&o, 0xa5, sizeof o);
      mil_compute(impl, k, opc, rand, sqn, amf, &o);
      assert_hex("f1", f[0], o.mac_a, 8, f[7]);
      assert_hex("f1*", f[0], o.mac_s, 8, f[8]);
      assert_hex("f2", f[0], o.res, 8, f[9]);
      assert_hex("f5", f[0], o.ak, 6, f[10]);
      assert_hex("f3", f[0], o.ck, 16, f[11]);
      assert_hex("f4", f[0], o.ik, 16, f[12]);
      assert_hex("f5*", f[0], o.ak_s, 6, f[13]);
      checked++;
    }
  }
  g_assert_cmpint(checked, >=, 21);
}

/* The OPc of aka.tsv's "opc" row (K = 00..0f, OP = 0). */
static void
test_opc_row(void)
{
  uint8_t k[16], op[16] = {0}, opc[16];
  tu_hex("000102030405060708090a0b0c0d0e0f", k, 16);
  mil_opc(NULL, k, op, opc);
  assert_hex("OPc", "aka.tsv", opc, 16, "c6a13b37878f5b826f4f8162a1c8d879");
  /* In place. */
  mil_opc(mil_impl_portable(), k, op, op);
  g_assert_cmpmem(op, 16, opc, 16);
}

static void
fill(GRand *r, uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)g_rand_int_range(r, 0, 256);
}

static void
test_cross(void)
{
  const MilImpl *fast = mil_impl_aesni();
  if (fast == NULL) {
    g_test_skip("no AES-NI on this CPU");
    return;
  }
  const MilImpl *slow = mil_impl_portable();
  g_autoptr(GRand) r = g_rand_new_with_seed(20240601);
  for (int i = 0; i < 10000; i++) {
    uint8_t k[16], op[16], rand[16], sqn[6], amf[2], opc1[16], opc2[16], e1[16], e2[16];
    fill(r, k, 16);
    fill(r, op, 16);
    fill(r, rand, 16);
    fill(r, sqn, 6);
    fill(r, amf, 2);
    mil_opc(fast, k, op, opc1);
    mil_opc(slow, k, op, opc2);
    g_assert_cmpmem(opc1, 16, opc2, 16);
    fast->aes128(k, rand, e1);
    slow->aes128(k, rand, e2);
    g_assert_cmpmem(e1, 16, e2, 16);
    MilOut a, b;
    memset(&a, 0x11, sizeof a);
    memset(&b, 0x22, sizeof b);
    fast->compute(k, opc1, rand, sqn, amf, &a);
    slow->compute(k, opc1, rand, sqn, amf, &b);
    g_assert_cmpmem(&a, sizeof a, &b, sizeof b);
  }
}

static void
test_sqn_codec(void)
{
  uint8_t s[6];
  mil_sqn_put(0xff9bb4d0b607ULL, s);
  uint8_t want[6] = {0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07};
  g_assert_cmpmem(s, 6, want, 6);
  g_assert_cmphex(mil_sqn_get(s), ==, 0xff9bb4d0b607ULL);
  mil_sqn_put(0, s);
  g_assert_cmphex(mil_sqn_get(s), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/milenage/aesni-present", test_aesni_present);
  g_test_add_func("/milenage/select", test_select);
  g_test_add_func("/milenage/aes128-kernel", test_aes_kernel);
  g_test_add_func("/milenage/vectors", test_vectors);
  g_test_add_func("/milenage/opc", test_opc_row);
  g_test_add_func("/milenage/cross-random", test_cross);
  g_test_add_func("/milenage/sqn-codec", test_sqn_codec);
  return g_test_run();
}

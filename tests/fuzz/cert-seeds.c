/* Writes the cert harness's seed corpus (fuzz-cert.c) into a directory, from the
 * harness's own fixed material:
 *   build/tests/fuzz/fuzz-cert-seeds tests/fuzz/cert
 * Valid bundles and attach records of both algorithms, and broken ones: truncated, with
 * octets added, with their parts mixed up or swapped between the algorithms, lengths out
 * of range, times outside the certificates' lives. Ed25519 signs deterministically, so its
 * seeds equal the harness's fixed encodings and meet the "exactly the fixed input"
 * oracles; ECDSA signatures differ per run (cert.h), so the ECDSA seeds are valid but not
 * byte-equal (the flags that take the fixed certificate and proof reach those oracles). */
#include <stdio.h>
#include <string.h>

#include "fuzz-cert.h"

static const char *dir;

static void
put(const char *name, const void *data, size_t len)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_file_set_contents(path, data, (gssize)len, &error))
    g_error("%s", error->message);
}

static void
put_array(const char *name, GByteArray *a)
{
  put(name, a->data, a->len);
  g_byte_array_unref(a);
}

static void
put_be32(GByteArray *out, size_t n)
{
  uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  g_byte_array_append(out, b, 4);
}

/* root length || root || CRL length || CRL, from any two parts. */
static GByteArray *
bundle_of(const uint8_t *root, size_t root_len, const uint8_t *crl, size_t crl_len)
{
  GByteArray *b = g_byte_array_new();
  put_be32(b, root_len);
  g_byte_array_append(b, root, (guint)root_len);
  put_be32(b, crl_len);
  g_byte_array_append(b, crl, (guint)crl_len);
  return b;
}

static const uint8_t *
crl_of(const FuzzCertFixture *f, size_t *len)
{
  *len = f->bundle_len - 8 - f->root_der_len;
  return f->bundle + 8 + f->root_der_len;
}

static GByteArray *
record(const FuzzCertFixture *f, uint8_t flags, int64_t now, const CertProof *proof,
       const CertDevice *dev)
{
  size_t len = 0;
  const uint8_t *der = dev != NULL ? cert_device_der(dev, &len) : NULL;
  return fuzz_cert_record(flags | (f->alg == CERT_ED25519 ? FUZZ_CERT_ED25519 : 0), now,
                          proof != NULL ? proof : &f->proof, der, len);
}

int
main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  const FuzzCertFixture *ec = fuzz_cert_fixture(CERT_ECDSA_P256);
  const FuzzCertFixture *ed = fuzz_cert_fixture(CERT_ED25519);
  size_t ec_crl_len = 0, ed_crl_len = 0;
  const uint8_t *ec_crl = crl_of(ec, &ec_crl_len), *ed_crl = crl_of(ed, &ed_crl_len);

  /* Bundles. */
  put("bundle-ecdsa-p256", ec->bundle, ec->bundle_len);
  put("bundle-ed25519", ed->bundle, ed->bundle_len);
  put("bundle-ecdsa-p256-truncated-crl", ec->bundle, ec->bundle_len - 20);
  put("bundle-ed25519-truncated-root", ed->bundle, 4 + ed->root_der_len / 2);
  put("bundle-ed25519-length-only", ed->bundle, 4);
  g_autoptr(GByteArray) trailing = g_byte_array_new();
  g_byte_array_append(trailing, ed->bundle, (guint)ed->bundle_len);
  g_byte_array_append(trailing, (const uint8_t *)"", 1);
  put("bundle-ed25519-trailing-octet", trailing->data, trailing->len);
  put_array("bundle-mixed-crl-first",
            bundle_of(ec_crl, ec_crl_len, ec->root_der, ec->root_der_len));
  put_array("bundle-mixed-algs", bundle_of(ec->root_der, ec->root_der_len, ed_crl, ed_crl_len));
  put_array("bundle-mixed-root-twice",
            bundle_of(ed->root_der, ed->root_der_len, ed->root_der, ed->root_der_len));

  /* Attach records: valid, then each part wrong in turn. */
  put_array("attach-ecdsa-p256", record(ec, 0, FUZZ_CERT_VALID_NOW, NULL, ec->good));
  put_array("attach-ed25519", record(ed, 0, FUZZ_CERT_VALID_NOW, NULL, ed->good));
  put_array("attach-ecdsa-p256-fixed-parts", record(ec, FUZZ_CERT_CERT_GOOD | FUZZ_CERT_PROOF_FIXED,
                                                    FUZZ_CERT_VALID_NOW, NULL, NULL));
  put_array("attach-ed25519-revoked-not-yet",
            record(ed, 0, FUZZ_CERT_REV_AT - 1, NULL, ed->revoked));
  put_array("attach-ecdsa-p256-revoked", record(ec, 0, FUZZ_CERT_REV_AT, NULL, ec->revoked));
  put_array("attach-ed25519-expired", record(ed, 0, FUZZ_CERT_DEV_END, NULL, ed->good));
  put_array("attach-ed25519-revoked-crl-expired",
            record(ed, 0, FUZZ_CERT_CA_END, NULL, ed->revoked));
  put_array("attach-ecdsa-p256-not-yet-valid", record(ec, 0, 0, NULL, ec->good));
  put_array("attach-ed25519-before-crl", record(ed, 0, FUZZ_CERT_BUNDLE_NOW - 1, NULL, ed->good));
  put_array("attach-ecdsa-p256-far-future", record(ec, 0, INT64_MAX, NULL, ec->good));
  put_array("attach-ed25519-far-past", record(ed, 0, INT64_MIN, NULL, ed->good));
  put_array("attach-root-as-device",
            record(ec, FUZZ_CERT_CERT_ROOT, FUZZ_CERT_VALID_NOW, NULL, NULL));
  put_array("attach-mixed-algs", record(ed, 0, FUZZ_CERT_VALID_NOW, &ec->proof, ec->good));

  CertProof p = ec->proof;
  p.eph_pub_len = 255;
  put_array("attach-ecdsa-p256-eph-len-255", record(ec, 0, FUZZ_CERT_VALID_NOW, &p, ec->good));
  p = ec->proof;
  p.sig_len = 0;
  put_array("attach-ecdsa-p256-sig-len-0", record(ec, 0, FUZZ_CERT_VALID_NOW, &p, ec->good));
  p = ed->proof;
  p.sig_len = 255;
  put_array("attach-ed25519-sig-len-255", record(ed, 0, FUZZ_CERT_VALID_NOW, &p, ed->good));
  p = ed->proof;
  p.eph_pub[0] ^= 1;
  put_array("attach-ed25519-other-eph", record(ed, 0, FUZZ_CERT_VALID_NOW, &p, ed->good));

  g_autoptr(GByteArray) cut = record(ed, 0, FUZZ_CERT_VALID_NOW, NULL, ed->good);
  g_byte_array_set_size(cut, cut->len - 30);
  put("attach-ed25519-truncated-cert", cut->data, cut->len);
  put("empty", "", 0);
  return 0;
}

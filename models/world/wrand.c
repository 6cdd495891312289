/* Pick-by-share over the engine's streams (see wrand.h). */
#include "wrand.h"

unsigned
wrng_pick(WRng *r, const double *w, unsigned n, size_t stride)
{
  double sum = 0;
  for (unsigned i = 0; i < n; i++)
    sum += *(const double *)((const char *)w + i * stride);
  double x = wrng_u01(r) * sum;
  for (unsigned i = 0; i < n; i++) {
    double wi = *(const double *)((const char *)w + i * stride);
    if (x < wi)
      return i;
    x -= wi;
  }
  /* Rounding: the last one with a positive weight. */
  for (unsigned i = n; i-- > 0;)
    if (*(const double *)((const char *)w + i * stride) > 0)
      return i;
  return 0;
}

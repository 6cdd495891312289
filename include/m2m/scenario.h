/* Scenario loading: one YAML file (../shared/docs/scenario.md, reference in
 * scenarios/README.md) -> plain configuration structs for the world builder.
 *
 * Loading runs in two steps, as Open5GS does with its YAML: the text is parsed into a
 * small tree of maps, sequences and scalars that remembers where every node came from
 * (file line:column, or which --set override); --set overrides are applied to that tree;
 * then the tree is converted into the structs below field by field and checked across
 * fields (shares, pool size against E.212, fault targets...). Every problem found is
 * reported, one line each, as "FILE:LINE:COLUMN: message" or "--set KEY=VALUE: message".
 *
 * The config structs are plain data with public fields on purpose: they are a value
 * that the world builder, the results writer and the tests read, and hiding them behind
 * one getter per key would add nothing. Only the loader fills them. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "m2m/dist.h"
#include "m2m/simtime.h"

#define SCN_ERROR (scn_error_quark())
GQuark scn_error_quark(void);

typedef enum {
  SCN_ERROR_IO,      /* the file cannot be read, is a directory, or is too large */
  SCN_ERROR_INVALID, /* YAML syntax, unknown keys, wrong types, values out of range */
} ScnErrorCode;

/* Largest scenario file accepted, in octets: scenarios are a few kB; anything near this
 * is the wrong file, and the limit bounds the parser's memory. */
#define SCN_MAX_FILE_SIZE (4 * 1024 * 1024)

typedef enum {
  SCN_RECYCLE_NEVER,              /* a PIMSI is used once */
  SCN_RECYCLE_AFTER_PROVISIONING, /* released when its device has its real USIM */
} ScnRecycle;

typedef enum {
  SCN_AUTH_MILENAGE,    /* the RS serves UMTS AVs (TS 33.102, TS 35.206) */
  SCN_AUTH_CERTIFICATE, /* the RS gives VOs what they need to check a device certificate */
} ScnAuth;

typedef enum {
  SCN_CERT_ECDSA_P256,
  SCN_CERT_ED25519,
} ScnCertAlgorithm;

typedef enum {
  SCN_SHO_AUTH_NONE,        /* the SHO trusts the secured connection set up via the RS */
  SCN_SHO_AUTH_AKA,         /* the SHO runs its own AKA with the preliminary credentials */
  SCN_SHO_AUTH_CERTIFICATE, /* the SHO checks the device certificate */
} ScnShoAuth;

typedef enum {
  SCN_TARGET_RS, /* the registration service */
  SCN_TARGET_VO, /* visited_operators[index] */
  SCN_TARGET_HO, /* home_operators[index] */
  SCN_TARGET_SITE, /* registration_service.sites[index] */
} ScnTargetKind;

/* The PIMSI range the RS holds (ITU-T E.212): IMSI = mcc + mnc + MSIN, 15 digits at
 * most, MSINs first_msin .. first_msin + size - 1, written with 15 - 3 - len(mnc)
 * digits. */
typedef struct {
  char mcc[4];         /* 3 decimal digits, NUL-terminated */
  char mnc[4];         /* 2 or 3 decimal digits, NUL-terminated */
  uint64_t size;       /* PIMSIs in the pool, 1..POOL_MAX_SIZE */
  uint64_t first_msin; /* first MSIN of the range */
} ScnPimsiPool;

typedef enum {
  SCN_ALLOC_FILL_FIRST,  /* the first range with a free PIMSI */
  SCN_ALLOC_ROUND_ROBIN, /* each allocation from the range after the last one's */
} ScnAllocation;

/* One site of a Registration Service of several (registration_service.sites): its own AV
 * servers, its own copy of every PIMSI's SQN_HE (replicated from the others), the pool and
 * the device-to-SHO associations shared with every other site. */
typedef struct {
  char *name;
  uint32_t av_servers;      /* parallel AV generators at this site, >= 1 */
  DistSpec av_service_time; /* time one AV request holds one of them, its vectors aside */
  DistSpec extra_delay;     /* one way, added to a VO's roaming_delay to and from this site */
} ScnRsSite;

/* The delay from one VO to one site, in place of its roaming_delay
 * (visited_operators[].rs_site_delays). */
typedef struct {
  char *site;
  DistSpec roaming_delay; /* one way, VO <-> that site (the site's extra_delay not added) */
  uint32_t index;         /* the site's index (validation fills it) */
} ScnSiteDelay;

/* Most sites of one RS. */
#define SCN_MAX_SITES 16

/* Most number ranges of one RS. */
#define SCN_MAX_RANGES 16

typedef struct {
  ScnPimsiPool pimsi_pool;   /* the one range; zero when pimsi_pools is given */
  ScnPimsiPool *pimsi_pools; /* several ranges instead (NULL: pimsi_pool) */
  size_t n_pimsi_pools;
  ScnAllocation pimsi_allocation;
  ScnRecycle pimsi_recycle;
  SimTime pimsi_quarantine;       /* us: a released PIMSI waits this long before reuse */
  bool pimsi_release_failed;      /* the owner returns a failed unit's PIMSI to the RS */
  SimTime pimsi_validity;         /* us: a PIMSI not used this long after allocation expires;
                                     0 = never */
  SimTime pimsi_validity_grace;   /* us: an expired PIMSI goes back to the pool this long later */
  uint32_t av_servers;            /* parallel AV generators (c of an M/M/c queue), >= 1 */
  DistSpec av_service_time;       /* time one AV request holds a server, its vectors aside */
  DistSpec av_vector_time;        /* and each of the av_batch vectors it carries */
  uint32_t av_batch;              /* AVs per request, 1..100 (VO keeps spares) */
  ScnAuth auth;
  uint32_t ind_bits;              /* IND bits of SQN (TS 33.102 Annex C.2), 0..AKA_IND_BITS_MAX */
  DistSpec register_service_time; /* RS work for a non-AV request (registrations) */
  uint32_t front_servers;         /* servers doing that work (an M/G/c); 0: unlimited */
  SimTime request_timeout;        /* us: a VO/device waits this long for the RS, > 0 */
  ScnCertAlgorithm cert_algorithm;
  SimTime cert_lifetime;          /* us: validity of device certificates, > 0 */
  double revoked_fraction;        /* 0..1: device certificates revoked before use */
  SimTime ca_cache_lifetime;      /* us: how long a VO / SHO keeps the RS's root + CRL, > 0 */
  DistSpec cert_check_time;       /* RS: checking one attach proof + ECDH, on the AV servers */
  ScnRsSite *sites;               /* several sites (NULL: one, from av_servers, av_service_time) */
  size_t n_sites;
  SimTime failback_after;         /* us: a requester failed over goes back to its first site */
  DistSpec sqn_replication_delay; /* an SQN_HE change at one site reaches the others this late */
} ScnRegistrationService;

typedef struct {
  char *name;
  double share;            /* 0..1: fraction of devices powering on in this network */
  bool accepts_pimsi;      /* does its allowed list accept PIMSIs */
  DistSpec attach_delay;   /* radio + core, device <-> VO, one attach */
  DistSpec roaming_delay;  /* one way, VO <-> RS */
  DistSpec refuse_delay;   /* how long a refusal (PIMSI not accepted) takes */
  DistSpec cert_verify_time; /* checking one device certificate (auth: certificate) */
  SimTime temporary_access_limit; /* us: a temporary access ends this long after its grant; 0 never */
  SimTime spare_lifetime;         /* us: a device's spare AVs are purged this long after they came */
  char **rs_sites;                /* RS sites in the order this VO tries them; NULL = all, in
                                     registration_service.sites order */
  size_t n_rs_sites;
  uint32_t rs_route[SCN_MAX_SITES]; /* the same as site indices (validation fills it) */
  size_t n_rs_route;
  ScnSiteDelay *rs_site_delays; /* delays to particular sites (NULL: roaming_delay to all) */
  size_t n_rs_site_delays;
} ScnVisitedOperator;

typedef struct {
  char *name;
  double share;          /* 0..1: fraction of owners choosing this operator */
  DistSpec download_time; /* USIM application / parameters download */
  ScnShoAuth authenticate;
  DistSpec auth_time;     /* the SHO's own authentication of the device */
  DistSpec register_delay; /* SHO -> RS registration of the owner's equipment */
  uint32_t download_servers; /* downloads served at once (an M/G/c); 0: no limit */
} ScnHomeOperator;

typedef struct {
  char *name;
  uint64_t devices;           /* equipment made over the run, >= 1 */
  ArrivalSpec production;     /* arrival process of finished equipment */
  double home_operator_known; /* 0..1: fraction whose SHO is known at manufacture */
  double wrong_credentials;   /* 0..1: fraction given bad preliminary credentials */
  SimTime retry_after;        /* us: wait before retrying when the pool is empty, > 0 */
} ScnManufacturer;

/* When a run ends (stop_when): at `duration`, or once the world is done -- every unit of
 * every manufacturer made, each one provisioned and attached with its real IMSI, failed,
 * or given its USIM at the factory, and no request pending -- with `duration` the limit. */
typedef enum { SCN_STOP_DURATION, SCN_STOP_SETTLED } ScnStopWhen;

/* A distribution of a count (owners.fleet_size): N, {uniform: [A, B]} (integers, A <= B,
 * each equally likely) or {geometric: MEAN} (1, 2, ... with P(n) = p (1 - p)^(n - 1),
 * p = 1 / MEAN; heavy enough to make a few fleets large). */
typedef enum { SCN_COUNT_CONSTANT, SCN_COUNT_UNIFORM, SCN_COUNT_GEOMETRIC } ScnCountKind;
typedef struct {
  ScnCountKind kind;
  uint32_t a, b; /* constant: a; uniform: [a, b] */
  double mean;   /* geometric: >= 1 */
} ScnCount;

typedef struct {
  DistSpec select_home_operator_after; /* after the PIMSI is installed (hand-over) */
  DistSpec register_delay;             /* owner -> SHO registration */
  ScnCount fleet_size;                 /* units per owner (fleet), >= 1 */
  SimTime fleet_window;                /* us: a fleet not full this long after its first
                                          unit is registered as it is, > 0 */
} ScnOwners;

/* How a retry wait is spread (devices.retry.jitter), w the exponential back-off's wait:
 * none: w; full: uniform on [0, w]; equal: w/2 + uniform on [0, w/2]. */
typedef enum { SCN_JITTER_NONE, SCN_JITTER_FULL, SCN_JITTER_EQUAL } ScnJitter;

typedef struct {
  SimTime initial; /* us: first retry wait, > 0 */
  double factor;   /* >= 1: each wait is the previous times factor */
  SimTime max;     /* us: cap on one wait, >= initial */
  ScnJitter jitter;
} ScnRetry;

typedef struct {
  DistSpec power_on_after;    /* after the PIMSI is installed (the unit leaves the factory) */
  ScnRetry retry;
  uint32_t max_attempts;      /* attach attempts before giving up; 0 = unlimited */
  char **allowed_networks;    /* VO names the devices may use; NULL = all */
  size_t n_allowed_networks;
  double sqn_desync_fraction; /* 0..1: devices whose USIM SQN starts ahead of the RS */
  double never_deployed;      /* 0..1: units that get their PIMSI and never power on */
} ScnDevices;

typedef struct {
  SimTime at;       /* us from the start of the run, < duration */
  char *target;     /* "registration_service" (every site), a site name or an operator name */
  ScnTargetKind target_kind;
  size_t target_index; /* into visited_operators / home_operators / registration_service.sites */
  SimTime down_for; /* us, > 0 */
} ScnFault;

typedef struct {
  SimTime series_interval;     /* us between time-series samples, > 0 */
  uint64_t quantile_exact_max; /* exact quantiles up to this many samples; 0 = default */
} ScnOutput;

/* One axis of a sweep: a --set key and the values it takes (each as YAML text that
 * --set accepts). */
typedef struct {
  char *key;
  char **values; /* NULL-terminated */
  size_t n_values;
} ScnSweepAxis;

typedef struct {
  ScnSweepAxis *axes; /* in file order */
  size_t n_axes;
  uint32_t replications; /* runs per grid point, >= 1 */
} ScnSweep;

typedef struct {
  char *name;
  uint64_t seed;    /* 0 .. 2^63 - 1 */
  SimTime duration; /* us of simulated time, > 0 (with stop_when: settled, the limit) */
  ScnStopWhen stop_when;
  ScnRegistrationService registration_service;
  ScnVisitedOperator *visited_operators;
  size_t n_visited_operators; /* >= 1 */
  ScnHomeOperator *home_operators;
  size_t n_home_operators; /* >= 1 */
  ScnManufacturer *manufacturers;
  size_t n_manufacturers; /* >= 1 */
  ScnOwners owners;
  ScnDevices devices;
  ScnFault *faults;
  size_t n_faults;
  ScnOutput output;
  bool has_sweep; /* the file has a sweep: section */
  ScnSweep sweep;

  /* Provenance, for the results database. */
  char *path;  /* as given to scn_load, or the name given to scn_load_string */
  char *text;  /* the scenario file's text, as read */
  char **sets; /* the --set overrides applied, in order (NULL-terminated, maybe empty) */
} ScnConfig;

/* One effective parameter as text: key is a --set path ("manufacturers.0.devices"),
 * value its canonical YAML text ("5000", "{exponential: 2ms}"). */
typedef struct {
  char *key;
  char *value;
} ScnParam;

/* Loads, overrides and validates the scenario at `path`. `sets` is a NULL-terminated
 * list of "key.path=value" overrides (or NULL); each value is YAML (a scalar, or flow
 * YAML such as "{exponential: 2ms}") and goes through the same checks as the file.
 * Returns NULL and sets *error (SCN_ERROR_IO or SCN_ERROR_INVALID) whose message holds
 * every problem found, one per line, without a trailing newline:
 *   "PATH:LINE:COLUMN: message", "PATH: message" (file-level) or "--set K=V: message". */
ScnConfig *scn_load(const char *path, const char *const *sets, GError **error);

/* Same from NUL-terminated text; `name` stands for the file in messages. */
ScnConfig *scn_load_string(const char *text, const char *name, const char *const *sets,
                           GError **error);

/* Same from `len` octets that may hold NUL (for fuzzers). */
ScnConfig *scn_load_data(const char *data, size_t len, const char *name,
                         const char *const *sets, GError **error);

void scn_config_free(ScnConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScnConfig, scn_config_free)

/* Every effective parameter, defaults included, in schema order, as a new array of
 * ScnParam (free with g_ptr_array_unref). The sweep section is not a parameter and is
 * left out. Reflects the struct as it is now (e.g. after the caller changed seed). */
GPtrArray *scn_config_params(const ScnConfig *cfg);

/* The kind of value a --set KEY.PATH takes, by the schema alone (list indices are not
 * checked against any scenario): SCN_VALUE_NONE, with *why (caller frees) saying so,
 * when the path names no key; SCN_VALUE_OTHER for sections, lists, texts, enums,
 * distributions and the like. */
typedef enum {
  SCN_VALUE_NONE,
  SCN_VALUE_INTEGER,  /* a whole number (counts, sizes) */
  SCN_VALUE_REAL,     /* a plain number */
  SCN_VALUE_DURATION, /* "250ms", "2h" */
  SCN_VALUE_RATE,     /* "500/d" */
  SCN_VALUE_OTHER,
} ScnValueKind;
ScnValueKind scn_key_value_kind(const char *path, char **why);

/* Index of the visited / home operator called `name`, or -1. */
ssize_t scn_config_find_vo(const ScnConfig *cfg, const char *name);
ssize_t scn_config_find_ho(const ScnConfig *cfg, const char *name);

/* Canonical YAML text of a distribution ("{lognormal: {median: 20s, sigma: 0.5}}") and
 * of an arrival process ("{poisson: 500/d}"). Caller frees. */
char *scn_dist_to_string(const DistSpec *d);
char *scn_count_to_string(const ScnCount *c);
char *scn_arrival_to_string(const ArrivalSpec *a);

/* The RS's number ranges: pimsi_pools, or pimsi_pool as the one range. */
const ScnPimsiPool *scn_config_ranges(const ScnConfig *cfg, size_t *n);

/* Total devices over all manufacturers. */
uint64_t scn_config_total_devices(const ScnConfig *cfg);

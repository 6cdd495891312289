/* The catalogue of what the roles of the world say to each other: addresses, message
 * kinds (who sends each to whom, and what it carries) and the message record.
 *
 * A message is a copy: the sender fills a fresh record (net_msg_new), the network layer
 * (world/net.h) carries it over the link between the two roles, delivers it to the
 * receiver's one dispatch entry and frees it afterwards. A receiver copies what it keeps;
 * a sender keeps its own pending state in its own tables (or in a pending request of the
 * request helper, world/req.h), never in a message.
 *
 * Requests and answers: a request sent through the request helper carries `txn`, the id
 * of the requester's pending request, and `ctx`, the requester's own context id; the
 * answer echoes both, so the requester finds what the answer belongs to and drops it
 * when that request is no longer pending (answered already, given up).
 *
 * Adding a message kind: one row in MSG_KINDS below; the sender fills it, the receiver's
 * dispatch handles it. */
#pragma once

#include <stdint.h>

#include "m2m/aka.h"
#include "m2m/cert.h"
#include "m2m/imsi.h"
#include "m2m/milenage.h"
#include "m2m/seal.h"
#include "m2m/simtime.h"

/* ---- addresses ---------------------------------------------------------------------- */

/* The kinds of role; with an index (which VO, which device) they make an address. The
 * order is the order of the world's role table (world.c). */
typedef enum {
  ROLE_RS,    /* the Registration Service (one) */
  ROLE_VO,    /* visited operators, by scenario order */
  ROLE_SHO,   /* home operators, by scenario order */
  ROLE_MFR,   /* manufacturers, by scenario order */
  ROLE_OWNER, /* the owners of the equipment (one role for all of them) */
  ROLE_DEV,   /* devices, by id */
  ROLE_N
} RoleKind;

typedef uint64_t NetAddr; /* role << 32 | index */

static inline NetAddr
net_addr(RoleKind role, uint32_t index)
{
  return ((uint64_t)role << 32) | index;
}

static inline RoleKind
net_addr_role(NetAddr a)
{
  return (RoleKind)(a >> 32);
}

static inline uint32_t
net_addr_index(NetAddr a)
{
  return (uint32_t)a;
}

/* ---- message kinds ------------------------------------------------------------------ */

/* The kinds: X(NAME, LEG) and who sends it to whom, carrying what. LEG: the share of one
 * attach_delay draw the message takes on the access link device <-> VO (1/LEG; 0: no
 * draw, no time on that link); 1 elsewhere. A new kind is a row here. */
/* clang-format off */
#define MSG_KINDS(X) \
  /* TR 33.812 alternative 1, step 1: manufacture */                                             \
  X(REGISTER, 1)         /* manufacturer -> RS: a PIMSI for unit dev */                          \
  X(REGISTER_ANSWER, 1)  /* RS -> manufacturer: pimsi + u.reg, or ST_REFUSED */                  \
  /* in the factory's hands (net_hand_over: no link, at once) */                                 \
  X(MADE, 0)             /* manufacturer -> device: a new unit */                                \
  X(CREDENTIALS, 0)      /* manufacturer -> device: pimsi + u.reg (ST_MAC_FAILURE: a wrong K) */ \
  X(FACTORY_USIM, 0)     /* manufacturer -> device: the SHO's USIM, at the factory */            \
  X(HANDED_OVER, 0)      /* manufacturer -> owner: unit dev (pimsi) is the owner's */            \
  /* step 2: the owner picks a home operator, which registers the unit at the RS */              \
  X(OWNER_REGISTER, 1)   /* owner -> SHO: this unit (dev, pimsi) is mine */                      \
  X(OWNER_ACK, 1)        /* SHO -> owner: noted */                                               \
  X(SHO_REGISTER, 1)     /* SHO -> RS: dev / pimsi is ours */                                    \
  X(RS_ACK, 1)           /* RS -> SHO or owner: registration or release done */                  \
  /* interactions 1-2: attach with the PIMSI, AKA through the visited operator */                \
  X(ATTACH, 2)           /* device -> VO: attach with pimsi (seq) */                             \
  X(REFUSED, 0)          /* VO -> device: no PIMSIs here (its time is refuse_delay) */           \
  X(CHALLENGE, 4)        /* VO -> device: u.chal RAND || AUTN (certificates: a nonce) */         \
  X(AUTH_ANSWER, 4)      /* device -> VO: RES, AUTS or ST_MAC_FAILURE; or `cert` */              \
  X(GRANTED, 0)          /* VO -> device: temporary access granted */                            \
  X(REJECTED, 4)         /* VO -> device: status ST_MAC_FAILURE or ST_FAILED */                  \
  X(AV_REQUEST, 1)       /* VO/SHO -> RS, VO -> SHO: AVs (ST_SYNC_FAILURE: RAND, AUTS) */       \
  X(AV_ANSWER, 1)        /* RS -> VO or SHO, SHO -> VO: `batch` of AVs, or a failure */          \
  /* interaction 3: the secured connection to the RS */                                          \
  X(LOOKUP, 1)           /* device -> RS (via): u.conn RAND, K_RS proof; my SHO? */              \
  X(LOOKUP_ANSWER, 1)    /* RS -> device: aux = SHO + 1, or ST_REFUSED (any reason) */           \
  /* interaction 4: the USIM download */                                                         \
  X(DOWNLOAD, 1)         /* device -> SHO (via): u.conn RAND, K_SHO proof, IMSI */               \
  X(DOWNLOAD_STARTED, 1) /* SHO -> device: taken; the download takes its time */                 \
  X(DOWNLOAD_REFUSED, 1) /* SHO -> device: unknown, bad proof, failed authentication */          \
  X(KEY_REQUEST, 1)      /* SHO -> RS: K_SHO for dev / pimsi, RAND in u.conn */                  \
  X(KEY, 1)              /* RS -> SHO: u.key = K_SHO, or ST_REFUSED */                           \
  X(SHO_CHALLENGE, 1)    /* SHO -> device: its own AKA (u.chal) or a nonce */                    \
  X(SHO_AUTH_ANSWER, 1)  /* device -> SHO: RES or `cert`, or a failure */                        \
  X(PACKAGE, 1)          /* SHO -> device: u.pkg, the sealed USIM */                             \
  /* the USIM in: attach with the real IMSI, the SHO its home network (AV_REQUEST and */         \
  /* AV_ANSWER between VO and SHO, CHALLENGE, AUTH_ANSWER, GRANTED as above) */                  \
  X(HOME_ATTACH, 2)      /* device -> VO: attach with the real IMSI (imsi); aux = SHO + 1 */     \
  X(UPDATE_LOCATION, 1)  /* VO -> SHO: dev (pimsi) attached here with its real IMSI */           \
  X(LOCATION_ACK, 1)     /* SHO -> VO: noted */                                                  \
  X(RELEASE, 1)          /* SHO or owner -> RS: the PIMSI may go back to the pool */             \
  X(GAVE_UP, 1)          /* device -> owner: it gave up for good (dev, pimsi) */                 \
  /* certificates (auth: certificate, or an SHO that checks them) */                             \
  X(CA_FETCH, 1)         /* VO or SHO -> RS: the trust bundle, please */                         \
  X(CA_BUNDLE, 1)        /* RS -> VO or SHO: the bundle (root + CRL) in `blob` */               \
  /* several RS sites */                                                                         \
  X(SQN_UPDATE, 1)       /* RS site -> RS site: SEQ_HE of dev / pimsi is now ctx (replication) */
/* clang-format on */

typedef enum {
#define MSG_KIND_ENUM(name, leg) MSG_##name,
  MSG_KINDS(MSG_KIND_ENUM)
#undef MSG_KIND_ENUM
  MSG_N
} MsgKind;

/* Status carried in answers. */
typedef enum {
  ST_OK = 0,
  ST_REFUSED,      /* pool empty, device unknown, no SHO yet */
  ST_MAC_FAILURE,  /* device: AUTN's MAC wrong; VO: authentication failed */
  ST_SYNC_FAILURE, /* device: SQN not fresh, AUTS inside */
  ST_FAILED,       /* the network gave up (timeouts, no AV) */
  ST_EXPIRED,      /* RS: the device's PIMSI expired unused (pimsi_validity) */
} MsgStatus;

/* What the network layer needs to know of a kind. */
typedef struct {
  const char *name; /* "ATTACH": logs and tests */
  uint8_t leg;      /* on the access link device <-> VO: the message takes 1/leg of one
                       attach_delay draw (0: no draw, it takes no time on that link) */
} MsgKindInfo;

extern const MsgKindInfo msg_kind_info[MSG_N];

/* ---- the record ---------------------------------------------------------------------- */

typedef uint64_t PoolId; /* world/idpool.h */

/* A certificate and the proof a device made with it (certificate mode): the device's DER
 * certificate travels with its proof, as in a TLS handshake. */
typedef struct {
  CertProof proof;
  uint8_t nonce[CERT_NONCE_LEN];
  uint16_t der_len;
  uint8_t der[1024]; /* the device certificate (DER) */
} MsgCert;

/* One unit of a fleet registered in bulk (the blob of OWNER_REGISTER / SHO_REGISTER). */
typedef struct {
  uint32_t dev, pimsi;
} MsgUnit;

typedef struct {
  uint8_t kind;   /* MsgKind */
  uint8_t status; /* MsgStatus */
  uint8_t seq;    /* the device's request sequence this message belongs to */
  uint8_t pad;
  uint32_t via; /* the VO carrying a device's traffic (device <-> RS / SHO links) */
  NetAddr from, to;
  PoolId txn;     /* a request: the requester's pending request (req.h); echoed by answers */
  uint64_t ctx;   /* the requester's own context (a VO's attach, an SHO's download); echoed */
  uint32_t dev;   /* the equipment concerned */
  uint32_t pimsi; /* its PIMSI index in the pool */
  uint32_t aux;   /* MSG_LOOKUP_ANSWER, MSG_HOME_ATTACH: SHO index + 1; a fleet: its units */
  uint32_t pad2;
  Imsi imsi;      /* MSG_HOME_ATTACH, MSG_AV_REQUEST to an SHO: the real IMSI */
  PoolId batch;  /* MSG_AV_ANSWER: an AV batch (freed with the message unless taken) */
  MsgCert *cert; /* certificate mode: a proof (freed with the message unless taken) */
  void *blob;    /* MSG_CA_BUNDLE: a GBytes (unreffed with the message unless taken);
                    a fleet's OWNER_REGISTER / SHO_REGISTER: its units, MsgUnit[aux] */
  union {
    struct {
      uint8_t rand[MIL_K_LEN];
      uint8_t autn[AKA_AUTN_LEN]; /* challenge */
      uint8_t res[MIL_MAC_LEN];   /* answer: RES */
      uint8_t auts[AKA_AUTS_LEN]; /* answer: AUTS */
    } chal;
    struct {
      Imsi imsi;         /* the PIMSI as a number (the device's identity) */
      AkaKeys keys;      /* preliminary K, OPc */
      CertCa *issuer;    /* certificates: the CA that issues the device's credentials */
      int64_t cert_from; /* certificates: their validity starts here, s */
    } reg;
    struct {
      Imsi imsi;               /* the device's PIMSI */
      uint8_t rand[MIL_K_LEN]; /* the AKA run (or certificate nonce) the keys come from */
      uint8_t proof[16];       /* key confirmation of K_RS / K_SHO */
    } conn;
    uint8_t key[32];               /* K_SHO */
    uint8_t pkg[SEAL_PACKAGE_LEN]; /* sealed USIM */
  } u;
} Msg;

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
 * Adding a message kind: one row in MsgKind and one in msg_kind_info (msg.c), the sender
 * fills it, the receiver's dispatch handles it. */
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

typedef enum {
  /* TR 33.812 alternative 1, step 1: manufacture */
  MSG_REGISTER,        /* manufacturer -> RS: a PIMSI for this equipment (dev) */
  MSG_REGISTER_ANSWER, /* RS -> manufacturer: pimsi + u.reg (IMSI, K, OPc), or ST_REFUSED */
  /* in the factory's hands (net_hand_over: no link, at once) */
  MSG_MADE,         /* manufacturer -> device: a new unit (dev) */
  MSG_CREDENTIALS,  /* manufacturer -> device: pimsi + u.reg; status ST_MAC_FAILURE: the
                       factory wrote a wrong K (wrong_credentials) */
  MSG_FACTORY_USIM, /* manufacturer -> device: the SHO's USIM installed at the factory */
  MSG_HANDED_OVER,  /* manufacturer -> owner: unit dev (pimsi) is the owner's now */
  /* step 2: the owner selects a home operator, which registers the equipment at the RS */
  MSG_OWNER_REGISTER, /* owner -> SHO: this equipment (dev, pimsi) is mine */
  MSG_OWNER_ACK,      /* SHO -> owner: noted */
  MSG_SHO_REGISTER,   /* SHO -> RS: dev / pimsi is ours */
  MSG_RS_ACK,         /* RS -> SHO: registration or release done */
  /* interactions 1-2: attach with the PIMSI, AKA through the visited operator */
  MSG_ATTACH,      /* device -> VO: attach with pimsi (seq) */
  MSG_REFUSED,     /* VO -> device: this network takes no PIMSI */
  MSG_CHALLENGE,   /* VO -> device: u.chal.rand || autn (certificates: the nonce in rand) */
  MSG_AUTH_ANSWER, /* device -> VO: RES (ST_OK), AUTS (ST_SYNC_FAILURE) or ST_MAC_FAILURE;
                      certificates: u.cert (the proof) */
  MSG_GRANTED,     /* VO -> device: temporary access granted */
  MSG_REJECTED,    /* VO -> device: attach rejected; status ST_MAC_FAILURE or ST_FAILED */
  MSG_AV_REQUEST,  /* VO or SHO -> RS: AVs for pimsi; ST_SYNC_FAILURE with u.chal rand/auts */
  MSG_AV_ANSWER,   /* RS -> VO or SHO: `batch` holds av_batch AVs, or a failure status */
  /* interaction 3: the secured connection to the RS */
  MSG_LOOKUP,        /* device -> RS (via its VO): u.conn RAND + proof of K_RS; where is my SHO? */
  MSG_LOOKUP_ANSWER, /* RS -> device: aux = SHO + 1, or ST_REFUSED (alike for every reason) */
  /* interaction 4: the USIM download */
  MSG_DOWNLOAD,         /* device -> SHO (via its VO): u.conn RAND + proof of K_SHO, imsi */
  MSG_DOWNLOAD_STARTED, /* SHO -> device: request taken, the download takes its time */
  MSG_DOWNLOAD_REFUSED, /* SHO -> device: unknown device, bad proof, failed authentication */
  MSG_KEY_REQUEST,      /* SHO -> RS: K_SHO for dev / pimsi, RAND in u.conn */
  MSG_KEY,              /* RS -> SHO: u.key = K_SHO, or ST_REFUSED */
  MSG_SHO_CHALLENGE,    /* SHO -> device: its own AKA (u.chal) or certificate nonce */
  MSG_SHO_AUTH_ANSWER,  /* device -> SHO: RES or the proof (u.cert), or a failure status */
  MSG_PACKAGE,          /* SHO -> device: u.pkg, the sealed USIM */
  MSG_INSTALLED,        /* device -> SHO: USIM installed (dev, pimsi) */
  MSG_RELEASE,          /* SHO -> RS: the PIMSI may go back to the pool */
  /* certificates (registration_service.auth: certificate, or an SHO that checks them) */
  MSG_CA_FETCH,  /* VO or SHO -> RS: the trust bundle, please */
  MSG_CA_BUNDLE, /* RS -> VO or SHO: the bundle (root + CRL) in `blob` */
  MSG_N
} MsgKind;

/* Status carried in answers. */
typedef enum {
  ST_OK = 0,
  ST_REFUSED,      /* pool empty, device unknown, no SHO yet */
  ST_MAC_FAILURE,  /* device: AUTN's MAC wrong; VO: authentication failed */
  ST_SYNC_FAILURE, /* device: SQN not fresh, AUTS inside */
  ST_FAILED,       /* the network gave up (timeouts, no AV) */
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
  uint32_t aux;   /* MSG_LOOKUP_ANSWER: SHO index + 1 */
  uint32_t pad2;
  PoolId batch;  /* MSG_AV_ANSWER: an AV batch (freed with the message unless taken) */
  MsgCert *cert; /* certificate mode: a proof (freed with the message unless taken) */
  void *blob;    /* MSG_CA_BUNDLE: a GBytes (unreffed with the message unless taken) */
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

/* Names of the message kinds and their share of the access link (see msg.h). */
#include "msg.h"

const MsgKindInfo msg_kind_info[MSG_N] = {
    [MSG_REGISTER] = {"REGISTER", 1},
    [MSG_REGISTER_ANSWER] = {"REGISTER_ANSWER", 1},
    [MSG_MADE] = {"MADE", 0},
    [MSG_CREDENTIALS] = {"CREDENTIALS", 0},
    [MSG_FACTORY_USIM] = {"FACTORY_USIM", 0},
    [MSG_HANDED_OVER] = {"HANDED_OVER", 0},
    [MSG_OWNER_REGISTER] = {"OWNER_REGISTER", 1},
    [MSG_OWNER_ACK] = {"OWNER_ACK", 1},
    [MSG_SHO_REGISTER] = {"SHO_REGISTER", 1},
    [MSG_RS_ACK] = {"RS_ACK", 1},
    /* device <-> VO: the attach takes half an attach_delay draw, the challenge and the
     * answer a quarter each (together one attach); a rejection a quarter; a refusal and a
     * grant nothing on the link (the refusal's time is the VO's refuse_delay). */
    [MSG_ATTACH] = {"ATTACH", 2},
    [MSG_REFUSED] = {"REFUSED", 0},
    [MSG_CHALLENGE] = {"CHALLENGE", 4},
    [MSG_AUTH_ANSWER] = {"AUTH_ANSWER", 4},
    [MSG_GRANTED] = {"GRANTED", 0},
    [MSG_REJECTED] = {"REJECTED", 4},
    [MSG_AV_REQUEST] = {"AV_REQUEST", 1},
    [MSG_AV_ANSWER] = {"AV_ANSWER", 1},
    [MSG_LOOKUP] = {"LOOKUP", 1},
    [MSG_LOOKUP_ANSWER] = {"LOOKUP_ANSWER", 1},
    [MSG_DOWNLOAD] = {"DOWNLOAD", 1},
    [MSG_DOWNLOAD_STARTED] = {"DOWNLOAD_STARTED", 1},
    [MSG_DOWNLOAD_REFUSED] = {"DOWNLOAD_REFUSED", 1},
    [MSG_KEY_REQUEST] = {"KEY_REQUEST", 1},
    [MSG_KEY] = {"KEY", 1},
    [MSG_SHO_CHALLENGE] = {"SHO_CHALLENGE", 1},
    [MSG_SHO_AUTH_ANSWER] = {"SHO_AUTH_ANSWER", 1},
    [MSG_PACKAGE] = {"PACKAGE", 1},
    [MSG_INSTALLED] = {"INSTALLED", 1},
    [MSG_RELEASE] = {"RELEASE", 1},
    [MSG_CA_FETCH] = {"CA_FETCH", 1},
    [MSG_CA_BUNDLE] = {"CA_BUNDLE", 1},
};

/* Names of the message kinds and their share of the access link, from MSG_KINDS (msg.h). */
#include "msg.h"

const MsgKindInfo msg_kind_info[MSG_N] = {
#define MSG_KIND_INFO(name, leg) [MSG_##name] = {#name, leg},
    MSG_KINDS(MSG_KIND_INFO)
#undef MSG_KIND_INFO
};

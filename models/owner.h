/* Device owners: after select_home_operator_after (from manufacture) the owner of a
 * device picks a home operator by share and registers the device there, retrying while
 * the SHO does not answer. Owners hold no per-device state beyond their pending requests.
 * Reached only by messages, through its row in the role table (role.h). */
#pragma once

#include "role.h"

extern const RoleClass owner_role;

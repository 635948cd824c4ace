/* libpart: the partition model, configuration, and hypervisor backend of
 * partd. One header for users of the library. */
#pragma once

#include "part/error.h"
#include "part/name.h"
#include "part/text.h"
#include "part/setting.h"
#include "part/size.h"
#include "part/jsonpos.h"
#include "part/profile.h"
#include "part/config.h"
#include "part/cpc.h"
#include "part/domxml.h"
#include "part/hv.h"
#include "part/state.h"
#include "part/snapshot.h"
#include "part/events.h"
#include "part/monitor.h"
#include "part/policy.h"
#include "part/plan.h"
#include "part/manager.h"
#include "part/request.h"
#include "part/resize.h"

/* Names of partitions, groups and policies: one rule, its limit and the
 * message that states it. At the bottom of libpart: it includes nothing of
 * it. */
#pragma once

#include <stdbool.h>

#include "part/error.h"

#define PART_NAME_MAX 64 /* including the terminating NUL */

/* The rule, for messages and help. */
#define PART_NAME_RULE "1-63 of A-Z a-z 0-9 _ . -, not starting with . or -"

/* Returns whether name is a valid partition, group or policy name:
 * 1 to 63 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
bool part_name_valid(const char *name);

/* Returns 0 when name is valid, else -EINVAL with err (field set) saying
 * `FIELD: "NAME" is not a valid WHAT (RULE)`; what is e.g. "group name". */
int part_name_check(const char *name, const char *field, const char *what, struct part_error *err);

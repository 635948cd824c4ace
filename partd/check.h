/* partd --check: validate a configuration without starting anything. */
#pragma once

#include <stdio.h>

/* Validates path: a configuration directory (partd.json, when present, and
 * its partitions directory), a partd.json, or a single profile (a JSON
 * object with a "name"; its host paths are then left unchecked, for want of
 * the configuration's "paths"). Prints every error to err as FILE:LINE:COLUMN:
 * MESSAGE, and, when valid, the CPC and the partitions with their
 * entitlements to out. Returns 0 when valid, 1 when not. */
int check_run(const char *path, FILE *out, FILE *err);

/* partctl's CPCs: the list in cpcs.json (libpart's part/cpcs.h reads it),
 * where partctl finds it, a client set up for one of its entries (--cpc),
 * and all of them asked at once (cpcs, list --all, plan --all). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <part/cpcs.h>

#include "client.h"

struct partctl_ctx;

/* The exit status of a command over several CPCs that printed what the
 * reachable ones said, but some were not (or refused): 3. */
#define PARTCTL_PARTIAL 3

/* Where the list is: $PARTCTL_CPCS, else $XDG_CONFIG_HOME/partctl/cpcs.json
 * ($HOME/.config/... when XDG_CONFIG_HOME is unset) when it exists, else
 * PARTCTL_CONFDIR/cpcs.json. Writes it to buf and returns buf. */
const char *cpcs_path(char *buf, size_t len);

/* Loads the list into ctx->cpcs, once. Returns PARTCTL_OK, or
 * PARTCTL_FAILED with "partctl: FILE:LINE:COLUMN: FIELD: WHY" printed. */
int cpcs_load(struct partctl_ctx *ctx);

/* Sets c up for entry e: its URL, CA certificates and token (the token
 * file checked as part_cpcs_read_token() does). Returns 0, or a negative
 * errno with the reason, naming the file, in err. */
int cpcs_client(const struct part_cpc_entry *e, struct client *c, char *err, size_t len);

/* Sets ctx->client up for the CPC named name: its entry's URL, CA and
 * token (not read when --token-file is given: the caller reads that, and
 * --cacert, after). Returns
 * PARTCTL_OK or PARTCTL_FAILED, printed. */
int cpcs_select(struct partctl_ctx *ctx, const char *name);

/* What one CPC said, or why it said nothing. */
struct cpc_view {
    const struct part_cpc_entry *e;
    struct client c;
    const char *state; /* "ok", "unreachable", or "error" (a refusal, a bad token file) */
    char detail[1024]; /* why, when not ok */
    long status;       /* the HTTP status of a refusal, else 0 */
    json_t *cpc;       /* GET /v1/cpc, when asked and ok */
    json_t *parts;     /* GET /v1/partitions's "partitions", when asked and ok */
};

/* Asks every CPC of the list at once for /v1/cpc (with_cpc) and
 * /v1/partitions (with_parts), within the list's timeouts (--timeout
 * overrides the total). Returns PARTCTL_OK with the views, one per entry
 * in the file's order, in *ret (*ret_n of them; cpcs_views_free() them);
 * or PARTCTL_USAGE (a command line naming one partd) or PARTCTL_FAILED
 * (no list), printed. */
int cpcs_views(struct partctl_ctx *ctx, bool with_cpc, bool with_parts, struct cpc_view **ret,
               size_t *ret_n);

void cpcs_views_free(struct cpc_view *v, size_t n);

/* Prints "partctl: NAME: DETAIL" to stderr for every view not ok, and
 * returns PARTCTL_OK when all were, else PARTCTL_PARTIAL. */
int cpcs_report(const struct cpc_view *v, size_t n);

/* {"name", "url", "state", "detail" when not ok, "status" when refused}. */
json_t *cpcs_view_json(const struct cpc_view *v);

/* partctl's CPCs: the list in cpcs.json (libpart's part/cpcs.h reads it),
 * where partctl finds it, a client set up for one of its entries (--cpc),
 * and all of them asked at once (cpcs, list --all, plan --all). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <part/cpcs.h>

#include "client.h"

/* The exit status of a command over several CPCs that printed what the
 * reachable ones said, but some were not (or refused): 3. */
#define PARTCTL_PARTIAL 3

/* Where the list is: $PARTCTL_CPCS, else $XDG_CONFIG_HOME/partctl/cpcs.json
 * ($HOME/.config/... when XDG_CONFIG_HOME is unset) when it exists, else
 * PARTCTL_CONFDIR/cpcs.json. Writes it to buf and returns buf. */
const char *cpclist_path(char *buf, size_t len);

/* Loads the list at cpclist_path() into *slot, unless it holds one already.
 * Returns 0, or a negative errno with "FILE:LINE:COLUMN: FIELD: WHY" (or
 * that there is no such file) in err. */
int cpclist_load(struct part_cpcs **slot, char *err, size_t len);

/* Sets c up for entry e: its URL, CA certificates and token (the token
 * file checked as part_cpcs_read_token() does; without one, the local
 * partd's socket gets the local token files as without a list). Returns 0,
 * or a negative errno with the reason, naming the file, in err. */
int cpclist_client(const struct part_cpc_entry *e, struct client *c, char *err, size_t len);

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

/* Asks every CPC of list l at once for /v1/cpc (with_cpc) and
 * /v1/partitions (with_parts), within the list's timeouts (timeout_ms, when
 * not 0, overrides the total). Returns the views, one per entry in the
 * file's order (l->n of them; cpclist_views_free() them), or NULL on ENOMEM. */
struct cpc_view *cpclist_views(const struct part_cpcs *l, long timeout_ms, bool with_cpc,
                               bool with_parts);

void cpclist_views_free(struct cpc_view *v, size_t n);

/* Prints "partctl: NAME: DETAIL" to stderr for every view not ok, and
 * returns 0 when all were, else PARTCTL_PARTIAL. */
int cpclist_report(const struct cpc_view *v, size_t n);

/* {"name", "url", "state", "detail" when not ok, "status" when refused}. */
json_t *cpclist_view_json(const struct cpc_view *v);

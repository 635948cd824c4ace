/* Who is calling (auth.h). Tokens are compared in constant time, with every
 * role's, so that the time of a refusal says nothing of any token. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "auth.h"

int auth_load(struct auth *a, const struct part_config *cfg, struct part_error *err)
{
    int r = part_config_tokens(cfg, a->tokens, err);
    a->any = r == 0 && part_config_has_tokens(cfg);
    return r;
}

void auth_clear(struct auth *a)
{
    explicit_bzero(a->tokens, sizeof(a->tokens));
    a->any = false;
}

/* Whether h (NUL-terminated, any length) equals token, in a time that
 * depends on h's length only. */
static bool token_equal(const char *h, size_t len, const char *token)
{
    size_t n = strlen(token);
    unsigned char diff = len != n;
    for (size_t i = 0; i < len && i < PART_TOKEN_MAX; i++)
        diff |= (unsigned char)(h[i] ^ token[i < n ? i : n]);
    return diff == 0 && n > 0;
}

static enum part_role token_role(const struct auth *a, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    enum part_role role = PART_ROLE_NONE;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) /* the scheme is case-insensitive */
        return PART_ROLE_NONE;
    h += 7;
    size_t len = strlen(h);
    if (len >= PART_TOKEN_MAX)
        return PART_ROLE_NONE; /* no token is that long */
    for (int r = PART_ROLE_VIEWER; r < PART_ROLE_N; r++)
        if (token_equal(h, len, a->tokens[r])) /* no early exit: every role is compared */
            role = r;
    return role;
}

/* The uid of the peer of c when c is on a UNIX socket (SO_PEERCRED, as the
 * kernel saw it connect), else -1. */
static int64_t peer_uid(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred cred;
    socklen_t len = sizeof(cred), dlen = sizeof(int);
    int domain = 0;

    /* on TCP, SO_PEERCRED does not fail: it says "overflow uid" */
    if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) < 0 ||
        domain != AF_UNIX || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        len != sizeof(cred))
        return -1;
    return cred.uid;
}

struct part_caller auth_caller(const struct auth *a, struct MHD_Connection *c)
{
    return (struct part_caller){
        .role = a->any ? token_role(a, c) : PART_ROLE_ADMIN,
        .uid = peer_uid(c),
    };
}

bool auth_allows(const struct part_caller *caller, enum part_role need)
{
    return part_role_covers(caller->role, need);
}

/* partctl validate: checks a profile here, with libpart, exactly as partd
 * would, so that it works without a server and its messages are partd's
 * (file:line:column: field: message). */
#include <part/part.h>

#include "output.h"
#include "partctl.h"

int cmd_validate(struct partctl_ctx *ctx)
{
    const char *file = ctx->args[0];
    struct part_profile *p = NULL;
    struct part_error e = {0};
    char msg[1024], mem[32];

    if (part_profile_load(file, &p, &e) < 0) {
        fprintf(stderr, "%s\n", part_error_format(&e, msg, sizeof(msg)));
        return PARTCTL_FAILED;
    }
    if (ctx->json) {
        /* no server reply here: the profile as partd will read it instead */
        json_t *j = part_profile_to_json(p);
        if (j)
            output_json(j, stdout);
        json_decref(j);
    } else {
        printf("%s: valid profile of partition %s (%s, %u processors, %s)\n", file, p->name,
               p->mode == PART_MODE_DEDICATED ? "dedicated" : "shared", p->proc_initial,
               part_size_format(p->mem_initial, mem, sizeof(mem)));
    }
    part_profile_free(p);
    return PARTCTL_OK;
}

/* libFuzzer harness: part_resize_parse() (the PATCH /v1/partitions/NAME
 * body). A parsed request names at least one field and a valid scope. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <part/resize.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct part_resize req;
    struct part_error err = {0};

    if (part_resize_parse((const char *)data, size, &req, &err) < 0)
        return 0;
    bool any = false;
    for (enum part_setting s = 0; s < PART_SET_ALL; s++)
        any |= req.has[s];
    if (!any)
        abort(); /* "nothing to change" must be -ENODATA */
    if (req.scope != PART_SCOPE_RUNNING && req.scope != PART_SCOPE_PROFILE &&
        req.scope != PART_SCOPE_BOTH)
        abort();
    return 0;
}

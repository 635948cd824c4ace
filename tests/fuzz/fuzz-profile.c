/* libFuzzer harness: part_profile_parse() (a partitions.d/NAME.json file or
 * a POST /v1/partitions body). A profile that parses must validate and
 * survive a round trip through part_profile_to_json(). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <part/profile.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct part_profile *p = NULL, *q = NULL;
    struct part_error err = {0};

    if (part_profile_parse((const char *)data, size, NULL, &p, &err) < 0)
        return 0;
    if (part_profile_validate(p, &err) < 0)
        abort(); /* parse accepted what validate refuses */
    json_t *j = part_profile_to_json(p);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text) {
        if (part_profile_parse(text, strlen(text), NULL, &q, &err) < 0)
            abort(); /* what partd writes back, it cannot read */
        struct part_profile *d = part_profile_dup(q);
        part_profile_free(d);
        part_profile_free(q);
        free(text);
    }
    part_profile_free(p);
    return 0;
}

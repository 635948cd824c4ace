/* libFuzzer harness: part_policy_parse() (policies/NAME.json). A policy that
 * parses must serialise. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include <part/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct part_policy pol;
    struct part_error err = {0};

    if (part_policy_parse((const char *)data, size, "fuzz.json", &pol, &err) < 0)
        return 0;
    json_t *j = part_policy_to_json(&pol);
    if (!j)
        abort();
    json_decref(j);
    return 0;
}

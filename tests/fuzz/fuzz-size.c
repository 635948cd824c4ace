/* libFuzzer harness: part_size_parse() ("512MiB", "1.5GiB", ...).
 * The input is one NUL-terminated string; a parsed size must format and
 * parse back to the same number. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <part/size.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    uint64_t mib = 0, back = 0;
    char buf[64];

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (part_size_parse(s, &mib) == 0) {
        part_size_format(mib, buf, sizeof(buf));
        if (part_size_parse(buf, &back) != 0 || back != mib)
            abort(); /* format and parse disagree */
    }
    free(s);
    return 0;
}

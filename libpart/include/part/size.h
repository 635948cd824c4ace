/* Memory sizes: parsed from "512MiB", "4GiB", "1TiB" or a plain number of
 * MiB, kept as MiB internally. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses s into *ret_mib. Accepted: a decimal number followed by an optional
 * unit MiB, GiB or TiB (no unit means MiB). Fractions are allowed when the
 * result is a whole number of MiB ("1.5GiB"). Returns 0, or -EINVAL when the
 * text is not a size, -ERANGE when it does not fit. *ret_mib is written only
 * on success. */
int part_size_parse(const char *s, uint64_t *ret_mib);

/* Formats mib as the largest unit that represents it exactly ("4GiB",
 * "1536MiB") into buf and returns buf. */
const char *part_size_format(uint64_t mib, char *buf, size_t len);

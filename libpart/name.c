/* The name rule of partitions, groups and policies. */
#include <errno.h>
#include <string.h>

#include "part/name.h"

bool part_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= PART_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

int part_name_check(const char *name, const char *field, const char *what, struct part_error *err)
{
    if (part_name_valid(name))
        return 0;
    return part_error_set(err, -EINVAL, field, "%s: \"%s\" is not a valid %s (" PART_NAME_RULE ")",
                          field, name, what);
}

/* A program against the installed libpart: lists the profiles of a
 * partitions directory with their processors and memory. Build it with
 *   cc -o libpart-example docs/libpart-example.c $(pkg-config --cflags --libs libpart)
 * and run it on /etc/partd/partitions.d (or examples/test-cpc/partitions.d). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <part/part.h>

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/etc/partd/partitions.d";
    struct part_profile **profiles = NULL;
    struct part_error *errors = NULL, err = {0};
    size_t n = 0, n_errors = 0;
    char buf[512], mem[32];

    /* no paths: the profiles' host paths are shown as written, unchecked */
    int r = part_profiles_load_dir(dir, NULL, 0, &profiles, &n, &errors, &n_errors, &err);
    if (r < 0 && r != -EINVAL) {
        fprintf(stderr, "%s\n", part_error_format(&err, buf, sizeof(buf)));
        return 1;
    }
    for (size_t i = 0; i < n_errors; i++)
        fprintf(stderr, "%s\n", part_error_format(&errors[i], buf, sizeof(buf)));
    for (size_t i = 0; i < n; i++) {
        const struct part_profile *p = profiles[i];
        printf("%-16s %-9s processors %u (%u-%u) memory %s\n", p->name,
               p->mode == PART_MODE_DEDICATED ? "dedicated" : "shared", p->proc_initial,
               p->proc_min, p->proc_reserved, part_size_format(p->mem_initial, mem, sizeof(mem)));
    }
    part_profiles_free(profiles, n);
    free(errors);
    return n_errors ? 1 : 0;
}

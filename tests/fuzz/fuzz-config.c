/* libFuzzer harness: part_config_load() (partd.json). libpart reads the
 * configuration from a file only, so each input is written to a memfd and
 * loaded through /proc/self/fd/N; relative paths in it resolve against
 * /proc/self/fd. A config that loads must have its invariants. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <part/config.h>

static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct part_config *c = NULL;
    struct part_error err = {0};
    char path[64];

    if (fd < 0 && (fd = memfd_create("partd.json", 0)) < 0)
        abort();
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (part_config_load(path, &c, &err) < 0)
        return 0;
    if (!c->uri || !c->listen || !c->state_dir || !c->partitions_dir || !c->policy)
        abort();
    for (size_t i = 0; i < c->cpc.n_groups; i++)
        if (!part_config_group(&c->cpc, c->cpc.groups[i].name))
            abort();
    part_config_free(c);
    return 0;
}

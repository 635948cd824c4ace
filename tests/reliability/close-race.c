/* Reproduces a use-after-free found by fuzz-api: part_mgr_close() frees the
 * manager while libvirt's event-loop thread may still be delivering a domain
 * lifecycle event to it (mgr_on_event() locks mgr->ev_lock of a freed
 * manager). Opens a manager on the test driver with a copy of
 * examples/test-cpc, stops and starts a partition a few times, closes it at
 * once, and repeats. Build with PARTD_SANITIZE=ON to see ASan's report (about
 * one run of 2000 rounds in 4 hits it on a 2-CPU machine).
 *
 * Usage: partd-close-race SRCDIR [ROUNDS]   (prints "N passed, M failed") */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <part/part.h>

int main(int argc, char **argv)
{
    /* in /dev/shm: fsync costs nothing there, so close follows the events
     * closely (on a disk the race is much rarer) */
    char dir[] = "/dev/shm/partd-close-race-XXXXXX", cmd[4096], path[512];
    int rounds = argc > 2 ? atoi(argv[2]) : 2000;

    if (access("/dev/shm", W_OK) != 0)
        memcpy(dir, "/tmp/", 5), memmove(dir + 5, dir + 9, strlen(dir + 9) + 1);
    if (argc < 2 || !mkdtemp(dir)) {
        fprintf(stderr, "usage: %s SRCDIR [ROUNDS]\n", argv[0]);
        return 2;
    }
    snprintf(cmd, sizeof(cmd), "cp -r '%s/examples/test-cpc/.' '%s/'", argv[1], dir);
    if (system(cmd) != 0)
        return 2;
    snprintf(path, sizeof(path), "%s/partd.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 2;
    fprintf(f,
            "{\"uri\": \"test://%s/cpc.xml\", \"listen\": [\"unix:%s/s\"],\n"
            " \"state_dir\": \"%s/state\", \"partitions_dir\": \"partitions.d\",\n"
            " \"policies_dir\": \"%s/policies\", \"policy\": \"static\",\n"
            " \"cpc\": {\"host_reserved_cpus\": 2, \"host_reserved_memory\": \"4GiB\"}}\n",
            dir, dir, dir, argv[1]);
    fclose(f);
    for (int i = 0; i < rounds; i++) {
        struct part_config *cfg;
        struct part_mgr *mgr;
        struct part_error err = {0};
        if (part_config_load(path, &cfg, &err) < 0 ||
            part_mgr_open(cfg, &part_hv_libvirt_ops, NULL, NULL, &mgr, &err) < 0) {
            fprintf(stderr, "round %d: %s\n", i, err.message);
            printf("0 passed, 1 failed\n");
            return 1;
        }
        for (int k = 0; k < i % 4; k++) {
            part_mgr_deactivate(mgr, "web", true, 0, NULL, &err);
            part_mgr_activate(mgr, "web", NULL, &err);
        }
        part_mgr_close(mgr);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    printf("ok   %d rounds of open, stop/start, close\n1 passed, 0 failed\n", rounds);
    return 0;
}

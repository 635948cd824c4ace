/* The test guest's memory hog (built static into the initramfs by
 * guest-build.sh, started by guest-init.sh when /run/hog appears):
 *   hog MIB [STEP_MIB [STEP_MS [HOLD_S]]]
 * allocates MIB MiB of anonymous memory STEP_MIB at a time, touching every
 * page, a step every STEP_MS milliseconds (a workload that grows, not a
 * burst), then holds it HOLD_S seconds and exits 0. Its progress, "GOT/MIB"
 * in MiB, is rewritten to /run/hog.state after each step; an OOM kill
 * leaves it short, and guest-init.sh reports the exit status. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void state(long got, long want)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%ld/%ld\n", got, want);
    int fd = open("/run/hog.state.new", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    if (write(fd, buf, (size_t)n) == n)
        rename("/run/hog.state.new", "/run/hog.state");
    close(fd);
}

static long arg(int argc, char **argv, int i, long def)
{
    return argc > i ? strtol(argv[i], NULL, 10) : def;
}

int main(int argc, char **argv)
{
    long want = arg(argc, argv, 1, 0), step = arg(argc, argv, 2, 4);
    long ms = arg(argc, argv, 3, 250), hold = arg(argc, argv, 4, 10);
    struct timespec pause = {ms / 1000, ms % 1000 * 1000000};

    if (want <= 0 || step <= 0 || ms < 0 || hold < 0) {
        fprintf(stderr, "usage: hog MIB [STEP_MIB [STEP_MS [HOLD_S]]]\n");
        return 2;
    }
    state(0, want);
    for (long got = 0; got < want;) {
        long n = want - got < step ? want - got : step;
        char *p =
            mmap(NULL, (size_t)n << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            nanosleep(&pause, NULL); /* no address space now: try again */
            continue;
        }
        memset(p, 0x5a, (size_t)n << 20); /* touched: really the guest's */
        got += n;
        state(got, want);
        nanosleep(&pause, NULL);
    }
    sleep((unsigned)hold);
    return 0;
}

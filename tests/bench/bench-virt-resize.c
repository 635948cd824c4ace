/* Benchmark 6's baseline: the raw libvirt call that a running processor
 * change comes down to, virDomainSetVcpusFlags(LIVE), on a connection of
 * its own to libvirt's test driver (in this process, like partd's).
 *
 * Usage: bench-virt-resize URI DOMAIN A B [N]
 * Sets the domain's online vCPUs to A, B, A, ... N times (200 by default)
 * after a warm-up and prints the median and 90th percentile in
 * microseconds, for the call alone on a domain handle looked up once, and
 * for a name lookup plus the call (what a caller holding only the name
 * pays). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "bench.h"

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench-virt-resize URI DOMAIN A B [N]\n");
        return 2;
    }
    unsigned a = (unsigned)atoi(argv[3]), b = (unsigned)atoi(argv[4]);
    size_t n = argc > 5 ? strtoull(argv[5], NULL, 10) : 200;
    virConnectPtr conn = virConnectOpen(argv[1]);
    virDomainPtr dom = conn ? virDomainLookupByName(conn, argv[2]) : NULL;
    double *v = calloc(n, sizeof(*v)), t0;

    if (!dom || !v) {
        fprintf(stderr, "bench-virt-resize: %s: %s\n", argv[1], virGetLastErrorMessage());
        return 1;
    }
    for (size_t i = 0; i < 10; i++) /* warm-up */
        virDomainSetVcpusFlags(dom, i % 2 ? b : a, VIR_DOMAIN_AFFECT_LIVE);
    for (size_t i = 0; i < n; i++) {
        t0 = bench_mono();
        if (virDomainSetVcpusFlags(dom, i % 2 ? a : b, VIR_DOMAIN_AFFECT_LIVE) < 0) {
            fprintf(stderr, "bench-virt-resize: %s\n", virGetLastErrorMessage());
            return 1;
        }
        v[i] = bench_mono() - t0;
    }
    bench_report_us("setvcpus", v, n);
    for (size_t i = 0; i < n; i++) {
        t0 = bench_mono();
        virDomainPtr d = virDomainLookupByName(conn, argv[2]);
        if (!d || virDomainSetVcpusFlags(d, i % 2 ? a : b, VIR_DOMAIN_AFFECT_LIVE) < 0) {
            fprintf(stderr, "bench-virt-resize: %s\n", virGetLastErrorMessage());
            return 1;
        }
        virDomainFree(d);
        v[i] = bench_mono() - t0;
    }
    bench_report_us("lookup+setvcpus", v, n);
    virDomainFree(dom);
    virConnectClose(conn);
    free(v);
    return 0;
}

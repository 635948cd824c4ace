/* Benchmark 6 (and a GET floor): N requests over one keep-alive libcurl
 * handle, each timed with CLOCK_MONOTONIC around curl_easy_perform().
 *
 * Usage: bench-http URL TOKEN METHOD BODY N [BODY2]
 * BODY is sent for PATCH/POST ("-" for none); with BODY2, odd requests send
 * BODY2 (to alternate between two values). TOKEN "-" sends no
 * Authorization header. Every reply must be 2xx. Prints the median and the
 * 90th percentile in microseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bench.h"

static size_t sink(char *p, size_t size, size_t n, void *opaque)
{
    (void)p, (void)opaque;
    return size * n;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench-http URL TOKEN METHOD BODY N [BODY2]\n");
        return 2;
    }
    const char *url = argv[1], *token = argv[2], *method = argv[3];
    const char *bodies[2] = {argv[4], argc > 6 ? argv[6] : argv[4]};
    size_t n = strtoull(argv[5], NULL, 10);
    double *v = calloc(n + 1, sizeof(*v));
    char auth[600];
    struct curl_slist *h = NULL;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!c || !v)
        return 1;
    if (strcmp(token, "-") != 0) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    for (size_t i = 0; i <= n; i++) { /* request 0 opens the connection: not counted */
        const char *body = bodies[i % 2];
        if (strcmp(body, "-") != 0)
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        double t0 = bench_mono();
        CURLcode r = curl_easy_perform(c);
        double dt = bench_mono() - t0;
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (r != CURLE_OK || status / 100 != 2) {
            fprintf(stderr, "bench-http: %s %s: %s, HTTP %ld\n", method, url, curl_easy_strerror(r),
                    status);
            return 1;
        }
        if (i)
            v[i - 1] = dt;
    }
    bench_report_us(method, v, n);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    free(v);
    return 0;
}

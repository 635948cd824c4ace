/* partctl top: a view of the active partitions refreshed every few seconds,
 * like virt-top or xentop: what each is entitled to and what it uses, the
 * busiest first. On a terminal each frame replaces the last (ANSI clear
 * screen) and q quits; elsewhere the frames follow one another. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "partctl.h"

#define TOP_INTERVAL_S 2.0
#define CLEAR_SCREEN   "\033[H\033[2J"

struct top {
    double interval;               /* seconds between frames */
    unsigned long long iterations; /* frames to show, 0 for no end */
    bool tty;                      /* stdout is a terminal: redraw in place */
    bool keys;                     /* stdin is our terminal: q quits */
    struct termios saved;          /* stdin's mode, when keys */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Processors used, or -1 when not measured. */
static double used(const json_t *p)
{
    const json_t *u = reply_get(p, "utilisation");

    if (json_is_object(u))
        u = reply_get(u, "used");
    return json_is_number(u) ? json_number_value(u) : -1;
}

/* The busiest first; those not measured last; then by name. */
static int by_used(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    double ux = used(x), uy = used(y);
    const char *nx = json_string_value(reply_get(x, "name")),
               *ny = json_string_value(reply_get(y, "name"));

    if (ux != uy)
        return ux < uy ? 1 : -1;
    return strcmp(nx ? nx : "", ny ? ny : "");
}

static void header(const json_t *cpc, size_t active)
{
    const json_t *p = reply_get(cpc, "processors"), *reb = reply_get(cpc, "rebalancer");
    char a[64], b[64], c[64], d[64], e[64], when[16] = "";
    time_t t = time(NULL);
    struct tm tm;

    if (localtime_r(&t, &tm))
        strftime(when, sizeof(when), "%H:%M:%S", &tm);
    printf("CPC: pool %s CPUs, weight total %s, policy %s, %s actions applied, %zu of %s "
           "partitions active  %s\n",
           output_value(reply_get(p, "pool"), a, sizeof(a)),
           output_value(reply_get(p, "weight_total"), b, sizeof(b)),
           output_value(reply_get(reb, "policy"), c, sizeof(c)),
           output_value(reply_get(reb, "actions_applied"), d, sizeof(d)), active,
           output_value(reply_get(cpc, "partitions.defined"), e, sizeof(e)), when);
}

static void row(struct table *t, const json_t *p)
{
    const json_t *w = reply_get(p, "weight"), *m = reply_get(p, "memory"),
                 *ent = reply_get(p, "entitlement");
    double u = used(p);
    char a[64];

    table_cell(t, "%s", output_value(reply_get(p, "name"), a, sizeof(a)));
    table_cell(t, "%s", output_value(reply_get(w, "current"), a, sizeof(a)));
    if (json_is_number(ent))
        table_cell(t, "%.2f", json_number_value(ent)); /* as list and show do */
    else
        table_cell(t, "-");
    if (u >= 0)
        table_cell(t, "%.2f", u);
    else
        table_cell(t, "-");
    if (u >= 0 && json_is_number(ent) && json_number_value(ent) > 0)
        table_cell(t, "%.0f%%", 100 * u / json_number_value(ent));
    else
        table_cell(t, "-");
    table_cell(t, "%s", output_value(reply_get(p, "processors.online"), a, sizeof(a)));
    table_cell(t, "%s", output_size(reply_get(m, "target"), a, sizeof(a)));
    table_cell(t, "%s", output_size(reply_get(m, "actual"), a, sizeof(a)));
}

/* Prints frame n (from 0) from the CPC and the partition list. */
static void print_frame(const struct top *top, unsigned long long n, const json_t *cpc,
                        const json_t *parts)
{
    static const char *const head[] = {"NAME", "WEIGHT", "ENTITLEMENT", "USED",
                                       "%ENT", "CPUS",   "MEMORY",      "ACTUAL"};
    size_t total = json_array_size(parts), active = 0, rows = SIZE_MAX;
    const json_t **list = calloc(total + 1, sizeof(*list));
    struct winsize ws;

    if (!list) {
        fputs("partctl: out of memory\n", stderr);
        exit(PARTCTL_FAILED);
    }
    for (size_t i = 0; i < total; i++) {
        const json_t *p = json_array_get(parts, i);
        const char *state = json_string_value(reply_get(p, "state"));
        if (state && strcmp(state, "active") == 0)
            list[active++] = p;
    }
    qsort(list, active, sizeof(*list), by_used);
    /* on a terminal, what fits: the header, a blank line, the table's head
     * and the line of those left out take 4 lines */
    if (top->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 5)
        rows = ws.ws_row - 4u;

    fputs(top->tty ? CLEAR_SCREEN : n ? "\n" : "", stdout);
    header(cpc, active);
    putchar('\n');
    struct table *t = table_new(8, 2);
    for (size_t i = 0; i < 8; i++)
        table_cell(t, "%s", head[i]);
    for (size_t i = 0; i < active && i < rows; i++)
        row(t, list[i]);
    table_print(t, stdout);
    table_free(t);
    if (active > rows)
        printf("(%zu more)\n", active - rows);
    fflush(stdout);
    free(list);
}

/* Shows frame n; returns an exit status. */
static int frame(struct partctl_ctx *ctx, const struct top *top, unsigned long long n)
{
    bool json = ctx->json;
    json_t *cpc = NULL, *parts = NULL;

    ctx->json = false; /* the two replies go out as one line below */
    int r = cli_call(ctx, "GET", "/v1/cpc", NULL, &cpc);
    if (r == PARTCTL_OK)
        r = cli_call(ctx, "GET", "/v1/partitions", NULL, &parts);
    ctx->json = json;
    if (r == PARTCTL_OK && json) {
        json_t *both =
            json_pack("{s:O, s:O}", "cpc", cpc, "partitions", reply_get(parts, "partitions"));
        char *s = both ? json_dumps(both, JSON_COMPACT) : NULL;
        if (s)
            puts(s);
        fflush(stdout);
        free(s);
        json_decref(both);
    } else if (r == PARTCTL_OK) {
        print_frame(top, n, cpc, reply_get(parts, "partitions"));
    }
    json_decref(cpc);
    json_decref(parts);
    return r;
}

/* Waits until the monotonic time until; returns false when the wait ended
 * with q, SIGINT or SIGTERM. */
static bool wait_until(struct top *top, double until)
{
    for (;;) {
        if (cli_interrupted)
            return false;
        double left = until - now_s();
        if (left <= 0)
            return true;
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int r = poll(&pfd, top->keys ? 1 : 0, (int)ceil(left * 1000));
        if (r <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
            continue; /* the time is up, or a signal: look again */
        char c;
        if (read(STDIN_FILENO, &c, 1) != 1)
            top->keys = false; /* the end of input: only signals now */
        else if (c == 'q' || c == 'Q')
            return false;
    }
}

/* q without Enter and without echo, when stdin is the terminal we are in
 * the foreground of (a background job changing it would be stopped). */
static void keys_on(struct top *top)
{
    struct termios raw;

    if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
        tcgetattr(STDIN_FILENO, &top->saved) < 0)
        return;
    raw = top->saved;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: ctrl-c is SIGINT */
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    top->keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

static void keys_off(struct top *top)
{
    if (top->keys)
        tcsetattr(STDIN_FILENO, TCSANOW, &top->saved);
}

int cmd_top(struct partctl_ctx *ctx)
{
    const struct opt_value *interval = cli_opt(ctx, "interval");
    const struct opt_value *iterations = cli_opt(ctx, "iterations");
    struct top top = {.interval = interval ? interval->x : TOP_INTERVAL_S,
                      .iterations = iterations ? iterations->n : 0,
                      .tty = isatty(STDOUT_FILENO) && !ctx->json};
    int r = PARTCTL_OK;

    cli_catch_interrupts();
    keys_on(&top);
    double next = now_s();
    for (unsigned long long n = 0; !top.iterations || n < top.iterations; n++) {
        r = frame(ctx, &top, n);
        if (r != PARTCTL_OK || (top.iterations && n + 1 == top.iterations))
            break;
        next += top.interval;
        if (next < now_s()) /* partd was slow: no burst of frames to catch up */
            next = now_s() + top.interval;
        if (!wait_until(&top, next))
            break;
    }
    keys_off(&top);
    return r;
}

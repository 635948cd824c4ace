/* partd: the partition manager daemon. This file holds only option parsing,
 * start-up and the signal loop. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <part/part.h>

#include "api.h"
#include "check.h"
#include "http.h"
#include "log.h"
#include "moves.h"
#include "service.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: partd -c FILE [-f] [-v]\n"
               "       partd --check PATH\n"
               "       partd --help | --version\n"
               "\n"
               "Manages logical partitions (libvirt domains) with processing weights, caps and\n"
               "bounds, the way PR/SM does on a mainframe, and serves the partd HTTP API.\n"
               "\n"
               "  -c, --config FILE  the daemon configuration (partd.json); its partitions\n"
               "                     directory holds one profile per partition\n"
               "  -f, --foreground   stay in the foreground (logs go to stderr)\n"
               "  -v, --verbose      log debug messages too\n"
               "  -n, --check PATH   validate a configuration directory, a partd.json or a\n"
               "                     profile, print the CPC and the partitions, and exit\n"
               "                     (0 valid, 1 invalid)\n"
               "  -h, --help         show this help\n"
               "  -V, --version      show the version\n"
               "\n"
               "Signals: SIGTERM and SIGINT stop partd (partitions keep running); SIGHUP\n"
               "re-reads the partitions directory.\n"
               "See partd(8) and partd.json(5).\n");
}

/* Logs why start-up failed (err, or r's text when err says nothing) and
 * returns partd's exit code for it. */
static int fail(int r, const struct part_error *err)
{
    char buf[1024];
    struct part_error e = *err;
    part_error_errno(&e, r);
    log_msg(PART_LOG_ERROR, "%s", part_error_format(&e, buf, sizeof(buf)));
    return 1;
}

/* Reads the configuration and opens its listeners (before anything else,
 * so that a port in use, a bad token file or a listener that would let
 * strangers in stops partd before it touches a partition). */
static int start(const char *config, struct part_config **ret_cfg, struct http_server **ret_http)
{
    struct part_error err = {0};
    char abs[PATH_MAX];
    int r;

    /* absolute, so that relative paths in it survive daemon()'s chdir("/") */
    if (!realpath(config, abs)) {
        r = -errno;
        part_error_set(&err, r, NULL, "%s: %s", config, strerror(-r));
        return fail(r, &err);
    }
    if ((r = part_config_load(abs, ret_cfg, &err)) < 0)
        return fail(r, &err);
    if ((r = http_listen(*ret_cfg, ret_http, &err)) < 0)
        return fail(r, &err);
    return 0;
}

/* Serves until SIGTERM or SIGINT; SIGHUP reloads the partitions directory.
 * Returns the signal. */
static int serve(struct part_mgr *mgr, const sigset_t *sigs)
{
    char buf[1024];
    double every = service_tick_interval(15);
    for (;;) {
        struct timespec keepalive = {.tv_sec = (time_t)every,
                                     .tv_nsec = (long)((every - (time_t)every) * 1e9)};
        int sig = sigtimedwait(sigs, NULL, &keepalive);
        if (sig < 0) {
            api_events_tick(false); /* event followers learn that partd is alive */
            service_tick(mgr);
            continue;
        }
        if (sig != SIGHUP)
            return sig;
        struct part_error re = {0};
        log_msg(PART_LOG_INFO, "SIGHUP: reloading the partitions directory");
        service_reloading();
        if (part_mgr_reload(mgr, &re) < 0)
            log_msg(PART_LOG_ERROR, "reload: %s", part_error_format(&re, buf, sizeof(buf)));
        service_ready(mgr);
    }
}

static int run(const char *config, bool foreground)
{
    struct part_config *cfg = NULL;
    struct part_mgr *mgr = NULL;
    struct http_server *http = NULL;
    struct part_error err = {0};
    sigset_t sigs;
    int r;

    if (start(config, &cfg, &http) != 0) {
        http_stop(http);
        part_config_free(cfg);
        return 1;
    }
    if (!foreground && daemon(0, 1) < 0) {
        r = part_error_set(&err, -errno, NULL, "cannot go to the background: %s", strerror(errno));
        http_stop(http);
        part_config_free(cfg);
        return fail(r, &err);
    }
    /* signals are taken by sigwait() in serve(), never by the threads started next */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    log_msg(PART_LOG_INFO, "partd %s starting on %s", PARTD_VERSION, cfg->uri);
    service_root_notice();
    struct part_config *keep = cfg;        /* taken by the manager once open */
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: moves call peers (peer.c) */
    if ((r = part_mgr_open(cfg, &part_hv_libvirt_ops, log_part, NULL, &mgr, &err)) < 0) {
        http_stop(http);
        part_config_free(keep);
        return fail(r, &err);
    }
    if ((r = http_serve(http, mgr, &err)) < 0) {
        http_stop(http);
        part_mgr_close(mgr);
        return fail(r, &err);
    }
    if ((r = move_init(mgr)) < 0) /* the moves a killed partd left */
        log_msg(PART_LOG_ERROR, "cannot resolve moves left under way: %s", strerror(-r));
    malloc_trim(0); /* give back what start-up used and no longer needs */
    log_msg(PART_LOG_INFO, "ready");
    service_ready(mgr);
    int sig = serve(mgr, &sigs);
    log_msg(PART_LOG_INFO, "stopping (signal %d); partitions keep running", sig);
    service_stopping();
    api_events_tick(true);
    part_mgr_shutdown(mgr); /* deactivations stop waiting for their guests */
    usleep(200 * 1000);     /* let followers' streams end cleanly */
    http_stop(http);
    move_stop(); /* moves under way end (a migration at its timeout at the latest) */
    part_mgr_close(mgr);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},
        {"check", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *check = NULL, *config = NULL;
    bool foreground = false;
    int c, verbose = 0;

    while ((c = getopt_long(argc, argv, "c:fvn:hV", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'n':
            check = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("partd %s\n", PARTD_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (!check == !config)) {
        usage(stderr);
        return 2;
    }
    if (check)
        return check_run(check, stdout, stderr);
    log_init(verbose);
    /* a few request threads do not need a malloc arena each */
    mallopt(M_ARENA_MAX, 2);
    return run(config, foreground);
}

/* The simulator's report: the CSV and gnuplot files of each scenario, the
 * markdown table of the results, and what --check asserts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define STEP_MAX     3      /* intervals a step may take to converge */
#define STARVE_MAX   1      /* intervals a partition may starve after a step */
#define STATIC_SLACK 0.0005 /* mean distance allowed over static's (0.05 points) */

/* Output */

FILE *open_out(const char *dir, const char *name, const char *ext)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "we");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
    return f;
}

/* A gnuplot script drawing, per plotted partition, demand, the target
 * (the fair share at profile weights), entitlement, delivered capacity and
 * online processors over time, and below them the distance of delivered
 * capacity to the target and the entitlement shortfall. */
void write_gnuplot(const struct scenario *sc, const struct part_cpc *cpc, const char *policy,
                   double interval, const char *dir, const bool *capped)
{
    size_t shown = sc->n_plot ? sc->n_plot : sc->n;
    size_t rows = shown + 1 + (sc->n_plot ? 1 : 0);
    FILE *f = open_out(dir, sc->name, ".gp");

    fprintf(f, "# %s: %s (written by partd-sim)\n", sc->name, sc->title);
    fprintf(f, "if (!exists(\"datadir\")) datadir = '.'\n");
    fprintf(f, "if (!exists(\"outdir\")) outdir = '.'\n");
    fprintf(f, "set terminal pngcairo size 1250,%zu font 'DejaVu Sans,10'\n", 60 + 210 * rows);
    fprintf(f, "set output outdir.'/%s.png'\n", sc->name);
    fprintf(f, "set datafile separator ','\n");
    fprintf(f, "data = datadir.'/%s.csv'\ntotal = datadir.'/%s-total.csv'\n", sc->name, sc->name);
    fprintf(f, "set multiplot layout %zu,1 title '%s: %s (policy %s, 1 interval = %g s)'\n", rows,
            sc->name, sc->title, policy, interval);
    fprintf(f, "set key outside right top vertical\nset grid\nset xrange [0:%zu]\n", sc->T);
    fprintf(f, "set lmargin 10\nset rmargin 44\nset yrange [0:*]\nset offsets 0, 0, 0.4, 0\n");
    if (sc->n_plot) {
        fprintf(f, "set title 'all %zu partitions: totals' offset 0,-0.8\n", sc->n);
        fprintf(f, "set ylabel 'processors'\n");
        fprintf(f,
                "plot total using 1:2 every ::1 with lines dt 2 lc rgb 'black' title 'demand', \\\n"
                "     total using 1:3 every ::1 with lines lw 4 lc rgb '#bbbbbb' title "
                "'target', \\\n"
                "     total using 1:4 every ::1 with lines lw 1.5 lc rgb '#d62728' title "
                "'delivered', \\\n"
                "     total using 1:5 every ::1 with lines lc rgb '#2ca02c' title 'pool'\n");
    }
    for (size_t i = 0; i < shown; i++) {
        const char *name = cpc->parts[i]->profile->name;
        /* one partition's rows: a filtered stream, so that lines join */
        fprintf(f, "set title '%s' offset 0,-0.8\nset ylabel 'processors'\n", name);
        fprintf(f, "rows = \"< awk -F, '$2 == \\\"%s\\\"' \".data\n", name);
        fprintf(f,
                "plot rows using 1:3 with lines dt 2 lw 1.5 lc rgb 'black' title 'demand', \\\n"
                "     rows using 1:4 with lines lw 5 lc rgb '#bbbbbb' title "
                "'target (fair share at profile weights)', \\\n"
                "     rows using 1:6 with lines lw 1.5 lc rgb '#1f77b4' title 'entitlement', \\\n"
                "     rows using 1:5 with lines lw 1.5 lc rgb '#d62728' title 'delivered', \\\n"
                "     rows using 1:7 with steps lc rgb '#2ca02c' title 'online'%s\n",
                capped[i] ? ", \\\n     rows using 1:9 with steps lw 2 lc rgb '#9467bd' title 'cap'"
                          : "");
    }
    fprintf(f, "set title 'distance of delivered capacity to the target; entitlement shortfall "
               "beyond the floor' offset 0,-0.8\n");
    fprintf(f, "set ylabel '%% of the target'\nset xlabel 'interval'\n");
    fprintf(f, "plot total using 1:($6*100) every ::1 with lines lc rgb '#d62728' title "
               "'distance', \\\n"
               "     total using 1:($7*100) every ::1 with lines lc rgb '#1f77b4' title "
               "'shortfall', \\\n"
               "     5 with lines dt 3 lc rgb 'black' title '5%%'\n");
    fprintf(f, "unset multiplot\n");
    fclose(f);
}

static void list_steps(char *buf, size_t len, const size_t *x, size_t n)
{
    size_t at = 0;
    snprintf(buf, len, "—");
    for (size_t k = 0; k < n && at < len; k++) {
        if (x[k] == NEVER)
            at += (size_t)snprintf(buf + at, len - at, "%snever", k ? ", " : "");
        else
            at += (size_t)snprintf(buf + at, len - at, "%s%zu", k ? ", " : "", x[k]);
    }
}

static double per_hour(const struct result *r, size_t actions)
{
    return r->hours > 0 ? actions / r->hours : 0;
}

static void print_row(FILE *f, const struct result *r)
{
    char conv[128], worst[128], cover[128], starved[128], stat[32] = "—";
    list_steps(conv, sizeof(conv), r->conv, r->n_steps);
    list_steps(worst, sizeof(worst), r->worst, r->n_steps);
    list_steps(cover, sizeof(cover), r->cover, r->n_steps);
    list_steps(starved, sizeof(starved), r->starved, r->n_steps);
    if (r->err_static >= 0)
        snprintf(stat, sizeof(stat), "%.2f%%", 100 * r->err_static);
    fprintf(f,
            "| %s | %s | %zu | %zu | %s | %s | %s | %s | %.1f%% | %.2f%% | %s | %.2f%% | %.2f%% | "
            "%zu (%zu) | %.0f (%.0f w, %.0f p, %.0f m) | %zu | %zu | %.3f (%.3f) | %.1f%% |\n",
            r->name, r->family, r->n, r->T, conv, worst, starved, cover, 100 * r->within,
            100 * r->err_mean, stat, 100 * r->starve_share, 100 * r->short_mean, r->flips,
            r->flips_max, per_hour(r, r->actions), per_hour(r, r->actions_by[PART_SET_WEIGHT]),
            per_hour(r, r->actions_by[PART_SET_PROCESSORS]),
            per_hour(r, r->actions_by[PART_SET_MEMORY]), r->failed, r->violations, r->jain_mean,
            r->jain_min, 100 * r->mem_short);
}

void print_table(FILE *f, const struct result *res, size_t n)
{
    fprintf(f, "| scenario | family | partitions | intervals | delivered within 5%% of target, "
               "after each step | slowest partition, after each step | longest starvation "
               "after each step | entitlement covers target, after each step | intervals "
               "within 5%% | mean distance | `static`'s mean distance | starved | mean "
               "shortfall beyond the floor | direction changes, all phases (most of one "
               "partition) | actions per partition-hour (weight, processors, memory) | failed "
               "actions | violations | Jain's index mean (min) | memory short |\n");
    fprintf(f, "|---|---|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
               "---|---:|\n");
    for (size_t i = 0; i < n; i++)
        print_row(f, &res[i]);
}

/* The step checks of r; returns whether one failed. */
static int check_steps(const struct result *r)
{
    int bad = 0;
    for (size_t k = 0; k < r->n_steps; k++) {
        static const char *const what[] = {"delivered capacity", "the slowest partition"};
        const size_t *x[] = {r->conv, r->worst};
        for (int m = 0; m < 2; m++) {
            if (x[m][k] == NEVER)
                fprintf(stderr, "%s: step %zu: %s never converged within its phase\n", r->name, k,
                        what[m]);
            else if (x[m][k] > STEP_MAX)
                fprintf(stderr, "%s: step %zu: %s converged %zu intervals after it (at most %d)\n",
                        r->name, k, what[m], x[m][k], STEP_MAX);
            bad |= x[m][k] == NEVER || x[m][k] > STEP_MAX;
        }
        if (r->starved[k] > STARVE_MAX) {
            fprintf(stderr, "%s: step %zu: a partition starved for %zu intervals (at most %d)\n",
                    r->name, k, r->starved[k], STARVE_MAX);
            bad = 1;
        }
    }
    return bad;
}

int check_results(const struct result *res, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const struct result *r = &res[i];
        if (r->violations) {
            fprintf(stderr, "%s: %zu violations, the first: %s\n", r->name, r->violations,
                    r->first_violation);
            bad = 1;
        }
        if (strcmp(r->family, "periodic") == 0 && r->flips) {
            fprintf(stderr, "%s: %zu direction changes under periodic demand\n", r->name, r->flips);
            bad = 1;
        }
        if (r->err_static >= 0 && r->err_mean > r->err_static + STATIC_SLACK) {
            fprintf(stderr, "%s: mean distance %.2f%%, static's %.2f%%\n", r->name,
                    100 * r->err_mean, 100 * r->err_static);
            bad = 1;
        }
        if (r->actions_max > 0 && per_hour(r, r->actions) > r->actions_max) {
            fprintf(stderr, "%s: %.0f actions per partition-hour (at most %.0f)\n", r->name,
                    per_hour(r, r->actions), r->actions_max);
            bad = 1;
        }
        bad |= check_steps(r);
    }
    return bad;
}

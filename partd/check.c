/* partd --check: loads a configuration the way the daemon would (host
 * paths confined to its "paths", templates read), connects to the
 * hypervisor read-only for the host's size, runs admission control as if
 * the autostart partitions were activated, and prints the result. A profile
 * checked alone has no configuration: its host paths are not checked. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <part/part.h>

#include "check.h"

static void print_error(FILE *err, const struct part_error *e)
{
    char buf[1024];
    fprintf(err, "%s\n", part_error_format(e, buf, sizeof(buf)));
}

/* Whether the JSON file at path is a profile: profiles have a "name". */
static bool is_profile(const char *path)
{
    json_t *root = json_load_file(path, 0, NULL);
    bool yes = json_is_object(root) && json_object_get(root, "name");
    json_decref(root);
    return yes;
}

static int check_profile(const char *path, FILE *out, FILE *err)
{
    struct part_profile *p;
    struct part_error e = {0};
    char a[32];

    if (part_profile_load(path, &p, &e) < 0) {
        print_error(err, &e);
        return 1;
    }
    fprintf(out, "%s: valid profile of partition %s (%s, %u processors, %s)\n", path, p->name,
            p->mode == PART_MODE_DEDICATED ? "dedicated" : "shared", p->proc_initial,
            part_size_format(p->mem_initial, a, sizeof(a)));
    part_profile_free(p);
    return 0;
}

static const char *range_u(char *buf, size_t len, unsigned init, unsigned min, unsigned max)
{
    if (min == init && init == max)
        snprintf(buf, len, "%u", init);
    else
        snprintf(buf, len, "%u (%u-%u)", init, min, max);
    return buf;
}

static void print_cpc(const struct part_cpc *cpc, const char *uri, FILE *out)
{
    char a[32], b[32], c[32], buf[64];

    fprintf(out, "CPC %s\n", uri);
    fprintf(out,
            "  processors: %u host CPUs, %u reserved for the host, %u dedicated, shared pool "
            "%u\n",
            cpc->cpus, cpc->cfg.host_reserved_cpus, cpc->dedicated, cpc->pool);
    fprintf(out, "  memory:     %s, %s reserved for the host, %s to active partitions\n",
            part_size_format(cpc->memory, a, sizeof(a)),
            part_size_format(cpc->cfg.host_reserved_memory, b, sizeof(b)),
            part_size_format(cpc->memory_active, c, sizeof(c)));
    fprintf(out, "  weights:    %u in the shared pool\n\n", cpc->weight_total);
    fprintf(out, "%-16s %-9s %-10s %-12s %-16s %-6s %-11s %-22s %s\n", "NAME", "AUTOSTART", "MODE",
            "PROCESSORS", "WEIGHT", "CAP", "ENTITLEMENT", "MEMORY", "GROUP");
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        const struct part_profile *pp = p->profile;
        char procs[32], weight[32], cap[16], ent[16], mem[64];
        bool shared = pp->mode == PART_MODE_SHARED;
        snprintf(weight, sizeof(weight), "-");
        snprintf(cap, sizeof(cap), "-");
        if (shared) {
            range_u(weight, sizeof(weight), pp->weight_initial, pp->weight_min, pp->weight_max);
            if (pp->cap != PART_CAP_NONE)
                snprintf(cap, sizeof(cap), "%g", pp->cap);
            else
                snprintf(cap, sizeof(cap), "none");
        }
        if (p->active)
            snprintf(ent, sizeof(ent), "%.2f", p->entitlement);
        else
            snprintf(ent, sizeof(ent), "-");
        if (pp->mem_min == pp->mem_initial && pp->mem_initial == pp->mem_reserved)
            snprintf(mem, sizeof(mem), "%s", part_size_format(pp->mem_initial, a, sizeof(a)));
        else
            snprintf(mem, sizeof(mem), "%s (%s-%s)",
                     part_size_format(pp->mem_initial, a, sizeof(a)),
                     part_size_format(pp->mem_min, b, sizeof(b)),
                     part_size_format(pp->mem_reserved, c, sizeof(c)));
        fprintf(out, "%-16s %-9s %-10s %-12s %-16s %-6s %-11s %-22s %s\n", pp->name,
                pp->autostart ? "yes" : "no", shared ? "shared" : "dedicated",
                range_u(procs, sizeof(procs), pp->proc_initial, pp->proc_min, pp->proc_reserved),
                weight, cap, ent, mem, pp->group[0] ? pp->group : "-");
    }
    (void)buf;
    fprintf(out, "\nEntitlements are in processors, with the autostart partitions active.\n");
}

/* Admission control over the whole configuration: every profile defined,
 * the autostart ones activated, as the daemon would at start. */
static int check_cpc(const struct part_config *cfg, struct part_profile **profiles, size_t n,
                     FILE *out, FILE *err)
{
    struct part_hv *hv = NULL;
    struct part_hv_host host;
    struct part_cpc *cpc = NULL;
    struct part_error e = {0};
    int bad = 0;

    if (part_hv_open(&part_hv_libvirt_ops, cfg->uri, true, &hv, &e) < 0 ||
        part_hv_host(hv, &host, &e) < 0) {
        fprintf(err,
                "warning: cannot ask %s for the host's size (%s); the partitions were "
                "checked one by one, not against the CPC\n",
                cfg->uri, e.message);
        part_hv_close(hv);
        return 0;
    }
    part_hv_close(hv);
    if (part_cpc_new(host.cpus, host.memory, &cfg->cpc, &cpc, &e) < 0) {
        part_error_set_file(&e, cfg->path);
        print_error(err, &e);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        struct part_error pe = {0};
        struct part_profile *p = part_profile_dup(profiles[i]);
        if (!p || part_cpc_define(cpc, p, &pe) < 0) {
            part_profile_free(p);
            fprintf(err, "%s/%s.json: %s\n", cfg->partitions_dir, profiles[i]->name, pe.message);
            bad = 1;
        }
    }
    for (size_t i = 0; i < cpc->n; i++) {
        struct part_partition *p = cpc->parts[i];
        struct part_error pe = {0};
        if (!p->profile->autostart)
            continue;
        if (part_cpc_check_activate(cpc, p, &pe) < 0) {
            fprintf(err, "%s/%s.json: autostart: %s\n", cfg->partitions_dir, p->profile->name,
                    pe.message);
            bad = 1;
            continue;
        }
        part_cpc_set_active(cpc, p, true);
    }
    if (!bad)
        print_cpc(cpc, cfg->uri, out);
    part_cpc_free(cpc);
    return bad;
}

int check_run(const char *path, FILE *out, FILE *err)
{
    struct part_config *cfg = NULL;
    struct part_profile **profiles = NULL;
    struct part_error e = {0}, *errors = NULL;
    size_t n = 0, n_errors = 0;
    struct stat st;
    int bad = 1, r;

    if (stat(path, &st) < 0) {
        fprintf(err, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    if (S_ISDIR(st.st_mode)) {
        char *conf;
        if (asprintf(&conf, "%s/partd.json", path) < 0)
            return 1;
        r = access(conf, F_OK) == 0 ? part_config_load(conf, &cfg, &e)
                                    : part_config_default(path, &cfg);
        free(conf);
    } else if (is_profile(path)) {
        return check_profile(path, out, err);
    } else {
        r = part_config_load(path, &cfg, &e);
    }
    if (r < 0 || (r = part_hostpath_check_dirs(&cfg->paths, &e)) < 0) {
        print_error(err, &e);
        goto out;
    }
    /* host paths checked as partd would, but nothing created */
    r = part_profiles_load_dir(cfg->partitions_dir, &cfg->paths, 0, &profiles, &n, &errors,
                               &n_errors, &e);
    if (r < 0 && r != -EINVAL) {
        print_error(err, &e);
        goto out;
    }
    for (size_t i = 0; i < n_errors; i++)
        print_error(err, &errors[i]);
    if (n_errors)
        goto out;
    bad = check_cpc(cfg, profiles, n, out, err);
out:
    part_profiles_free(profiles, n);
    free(errors);
    part_config_free(cfg);
    return bad;
}

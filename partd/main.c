/* partd: the partition manager daemon. This file holds only option parsing
 * and main. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: partd --check PATH\n"
               "       partd --help | --version\n"
               "\n"
               "Manages logical partitions (libvirt domains) with processing weights, caps and\n"
               "bounds, the way PR/SM does on a mainframe.\n"
               "\n"
               "  -n, --check PATH  validate a configuration directory, a partd.json or a\n"
               "                    profile, print the CPC and the partitions, and exit\n"
               "                    (0 valid, 1 invalid)\n"
               "  -h, --help        show this help\n"
               "  -V, --version     show the version\n");
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"check", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *check = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "n:hV", options, NULL)) != -1) {
        switch (c) {
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
    if (optind != argc || !check) {
        usage(stderr);
        return 2;
    }
    return check_run(check, stdout, stderr);
}

/* The console's files, compiled into partd: the table that
 * cmake/console-embed.cmake generates from console/ at build time, served
 * by api-console.c. */
#pragma once

#include <stddef.h>

struct console_asset {
    const char *name; /* its path under console/: "app.js", "vendor/uplot/uPlot.esm.js" */
    const char *type; /* Content-Type */
    const char *etag; /* quoted: a hash of the bytes served */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip -9n of data, NULL when not smaller (or no gzip) */
    size_t gz_len;
};

/* Every file, ended by an entry whose name is NULL. */
extern const struct console_asset console_assets[];
/* The hash of the files other than index.html, which are served under
 * /console/BUNDLE/ and cached for good. */
extern const char console_bundle[];

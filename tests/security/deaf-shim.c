/* An LD_PRELOAD shim: guests that ignore a shutdown request, as a guest
 * without ACPI or with a hung init does. libvirt's test driver stops a
 * domain the moment it is asked; with this shim, virDomainShutdown() of a
 * domain named in $PARTD_DEAF_DOMAINS (comma-separated) succeeds and does
 * nothing, so that partd's deactivation has to wait for it (and destroy it
 * with force). tests/security/stuck.py uses it to check that the wait holds
 * no lock. Only for tests: partd itself is unchanged. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>

static bool deaf(virDomainPtr dom)
{
    const char *list = getenv("PARTD_DEAF_DOMAINS"), *name = virDomainGetName(dom);
    size_t n = name ? strlen(name) : 0;
    for (const char *p = list; p && n && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

int virDomainShutdown(virDomainPtr dom)
{
    int (*real)(virDomainPtr) = (int (*)(virDomainPtr))dlsym(RTLD_NEXT, "virDomainShutdown");
    if (deaf(dom))
        return 0;
    return real ? real(dom) : -1;
}

int virDomainShutdownFlags(virDomainPtr dom, unsigned int flags)
{
    int (*real)(virDomainPtr, unsigned int) =
        (int (*)(virDomainPtr, unsigned int))dlsym(RTLD_NEXT, "virDomainShutdownFlags");
    if (deaf(dom))
        return 0;
    return real ? real(dom, flags) : -1;
}

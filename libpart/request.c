/* Request bodies (request.h). */
#include <errno.h>
#include <stdio.h>

#include "json.h"
#include "part/manager.h"
#include "part/request.h"

/* Parses text as a JSON object into *ret (NULL for no text when
 * optional). */
static int request_object(const char *text, size_t len, bool optional, json_t **ret,
                          struct part_error *err)
{
    int r;
    *ret = NULL;
    if (!text && optional)
        return 0;
    if ((r = part_json_parse(text ? text : "", text ? len : 0, NULL, ret, err)) < 0)
        return r;
    if (json_is_object(*ret))
        return 0;
    r = part_error_set(err, -EINVAL, "", "expected a JSON object, got %s",
                       part_json_type_name(*ret));
    json_decref(*ret);
    *ret = NULL;
    return r;
}

int part_request_deactivate(const char *text, size_t len, bool *ret_force,
                            unsigned *ret_timeout_ms, struct part_error *err)
{
    static const char *const keys[] = {"force", "timeout", NULL};
    double timeout = PART_DEACTIVATE_TIMEOUT_DEFAULT;
    bool force = false;
    json_t *root;
    int r;

    if ((r = request_object(text, len, true, &root, err)) < 0)
        return r;
    if (root && ((r = part_json_check_keys(root, "", keys, err)) < 0 ||
                 (r = part_json_get_bool(root, "", "force", &force, err)) < 0 ||
                 (r = part_json_get_number(root, "", "timeout", 0, PART_DEACTIVATE_TIMEOUT_MAX,
                                           &timeout, err)) < 0))
        part_error_locate(err, text, len);
    json_decref(root);
    if (r < 0)
        return r;
    *ret_force = force;
    *ret_timeout_ms = (unsigned)(timeout * 1000);
    return 0;
}

int part_request_policy(const char *text, size_t len, char ret_name[PART_NAME_MAX],
                        struct part_error *err)
{
    static const char *const keys[] = {"name", NULL};
    json_t *root;
    int r;

    if ((r = request_object(text, len, false, &root, err)) < 0)
        return r;
    r = part_json_get_named_object(root, "policy", keys, ret_name, err);
    if (r < 0)
        part_error_locate(err, text, len);
    json_decref(root);
    return r;
}

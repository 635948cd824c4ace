/* Internal: reading JSON configuration with field paths in every error.
 * Getters leave *out untouched when the key is absent and return 0; they
 * return -EINVAL with err set when the value has the wrong type or range. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "part/error.h"
#include "part/name.h"

/* Writes "parent.key" (or "key" at the top) into buf and returns buf. */
const char *part_json_path(char *buf, size_t len, const char *parent, const char *key);
/* "an object", "a string", ...: for "expected X, got Y" messages. */
const char *part_json_type_name(const json_t *v);
/* Fails on the first member of obj not in the NULL-terminated allowed list. */
int part_json_check_keys(json_t *obj, const char *parent, const char *const *allowed,
                         struct part_error *err);
int part_json_get_object(json_t *obj, const char *parent, const char *key, json_t **ret,
                         struct part_error *err);
int part_json_get_uint(json_t *obj, const char *parent, const char *key, unsigned lo, unsigned hi,
                       unsigned *out, struct part_error *err);
int part_json_get_number(json_t *obj, const char *parent, const char *key, double lo, double hi,
                         double *out, struct part_error *err);
int part_json_get_bool(json_t *obj, const char *parent, const char *key, bool *out,
                       struct part_error *err);
/* *out points into obj: valid while obj lives. Empty strings are refused. */
int part_json_get_string(json_t *obj, const char *parent, const char *key, const char **out,
                         struct part_error *err);
/* A size: an integer of MiB or a string with a unit ("4GiB"). */
int part_json_get_size(json_t *obj, const char *parent, const char *key, uint64_t *out,
                       struct part_error *err);

/* Checks that root is an object whose keys are all in allowed, and reads its
 * required "name" (a valid name) into name. what names the document in
 * messages ("profile", "policy"). */
int part_json_get_named_object(json_t *root, const char *what, const char *const *allowed,
                               char name[PART_NAME_MAX], struct part_error *err);

/* Parses text (len bytes) from file (may be NULL) into *ret (caller
 * json_decref()s). Empty text is -ENODATA; a syntax error is -EINVAL with
 * jansson's line and column. */
int part_json_parse(const char *text, size_t len, const char *file, json_t **ret,
                    struct part_error *err);
/* Adds the line and column of err->field in text, when err has none yet. */
void part_error_locate(struct part_error *err, const char *text, size_t len);

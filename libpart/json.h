/* Internal: reading JSON configuration with field paths in every error.
 *
 * A reader describes each JSON object it reads as a static table of its
 * members, and part_json_read() does the rest: it refuses keys the table does
 * not have, checks each member's type and range, stores it into the reader's
 * output struct, and calls the reader's hooks, which hold the rules between
 * fields. For example, a resize body read into a struct of its own:
 *
 *     struct body {
 *         unsigned processors, weight;
 *         uint64_t memory;
 *         double cap;
 *         enum part_scope scope;
 *     };
 *     #define AT(field) offsetof(struct body, field)
 *     static const struct part_json_choice scopes[] = {
 *         {"running", PART_SCOPE_RUNNING}, {"profile", PART_SCOPE_PROFILE},
 *         {"both", PART_SCOPE_BOTH}, {NULL, 0},
 *     };
 *     static const struct part_json_member body_members[] = {
 *         {"processors", PART_JSON_UINT, .offset = AT(processors), .lo = 1,
 *          .hi = PART_PROCESSORS_MAX},
 *         {"memory", PART_JSON_SIZE, .offset = AT(memory)},
 *         {"weight", PART_JSON_UINT, .offset = AT(weight), .lo = PART_WEIGHT_MIN,
 *          .hi = PART_WEIGHT_MAX},
 *         {"cap", PART_JSON_CAP, .offset = AT(cap), .lo = PART_CAP_MIN, .hi = PART_CAP_MAX,
 *          .none = PART_CAP_NONE},
 *         {"scope", PART_JSON_ENUM, .offset = AT(scope), .choices = scopes,
 *          .what = "not running, profile or both"},
 *         {NULL},
 *     };
 *     struct body b = {.cap = PART_CAP_NONE, .scope = PART_SCOPE_BOTH};
 *     r = part_json_read(root, "", body_members, &b, err);
 *
 * A member that is absent leaves its place untouched: the caller sets the
 * defaults before. Errors are -EINVAL with err's field set to the member's
 * path ("processors.initial"); part_error_locate() then adds its position. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/error.h"
#include "part/name.h"

/* The types of members, and what each stores at its offset. */
enum part_json_type {
    PART_JSON_OBJECT, /* nothing itself: its .members are read into the same output */
    PART_JSON_UINT,   /* unsigned: an integer (2.0 counts as one) in [.lo, .hi] */
    PART_JSON_NUMBER, /* double: a number in [.lo, .hi] */
    PART_JSON_CAP,    /* double: null (.none) or a number in [.lo, .hi] */
    PART_JSON_SIZE,   /* uint64_t MiB: a positive integer, or a string with a unit ("4GiB") */
    PART_JSON_BOOL,   /* bool */
    PART_JSON_STRING, /* const char *, into the document (valid while it lives): not empty */
    PART_JSON_TEXT,   /* char[.size]: a string copied, refused when it does not fit */
    PART_JSON_NAME,   /* char[PART_NAME_MAX]: a string that part_name_check() accepts */
    PART_JSON_ENUM,   /* int (an enum): the value of the choice that the string names */
    PART_JSON_CUSTOM, /* whatever .read stores: it checks the value itself */
};

/* Member flags. */
#define PART_JSON_REQUIRED (1u << 0) /* absent: "PATH: required field missing" */
/* Read after the members without this flag (in table order among
 * themselves): where a reader checks in another order than the one its keys
 * are listed in, which decides the error reported first. */
#define PART_JSON_LATE (1u << 1)
/* PART_JSON_SIZE: zero is allowed too (0, "0GiB"), and a negative number is
 * "negative" rather than "not a positive size". */
#define PART_JSON_ZERO (1u << 2)

/* A reader's rule at member v, at path ("weight"); out is the output given
 * to part_json_read(). Returns 0, or a negative errno with err set. */
typedef int part_json_hook(json_t *v, const char *path, void *out, struct part_error *err);

/* One value of an enum member; a NULL name ends the list. */
struct part_json_choice {
    const char *name;
    int value;
};

/* One member of an object; a NULL key ends a table. Tables give key and
 * type in order, then what else the member needs by name:
 * {"min", PART_JSON_UINT, .offset = offsetof(struct s, min), .lo = 1, .hi = 8}. */
struct part_json_member {
    const char *key;
    enum part_json_type type;
    size_t offset;  /* where in the output the value goes: offsetof() */
    unsigned flags; /* PART_JSON_REQUIRED, PART_JSON_LATE, PART_JSON_ZERO */
    double lo, hi;  /* UINT, NUMBER, CAP: the range */
    double none;    /* CAP: what null stores (PART_CAP_NONE in libpart's tables) */
    size_t size;    /* TEXT: the size of the char array, NUL included */
    /* what a value of the wrong JSON type is told it should be, when not
     * the type's own ("an integer"): "a number of processors or null" */
    const char *expected;
    /* NAME: what the name names, in its message ("group name"); ENUM: how a
     * string that is no choice is told so, `PATH: "S" is WHAT`, when not
     * `neither "a" nor "b"` (e.g. "not running, profile or both") */
    const char *what;
    const struct part_json_member *members; /* OBJECT: its table */
    const struct part_json_choice *choices; /* ENUM */
    /* called when the member is given, before its value is read (for an
     * object: once it is known to be one): a rule refusing the member
     * whatever its value ("does not apply to dedicated partitions") */
    part_json_hook *before;
    /* called once the value is read and stored: rules between the fields
     * read so far, defaults that depend on them */
    part_json_hook *after;
    part_json_hook *read; /* CUSTOM: checks and stores the value */
};

#define PART_JSON_MEMBERS_MAX 32 /* members in one table */

/* Reads the object obj at path ("" at the top) into out, as members
 * describes it: fails on a value that is not an object ("PATH: expected an
 * object", at the top "expected a JSON object"), then on the first key that
 * is not in the table ("PATH.KEY: unknown field (expected one of: ...)",
 * keys in table order), then reads each member in table order (LATE ones
 * last): absent (or REQUIRED), given (.before), type and range, stored,
 * .after. Stops at the first error. Returns 0, or -EINVAL with err set (or
 * what a hook returns). */
int part_json_read(json_t *obj, const char *path, const struct part_json_member *members, void *out,
                   struct part_error *err);

/* Parses text (len bytes; NULL for no body) and reads it as part_json_read()
 * reads a top-level object, adding the position of any error in the text:
 * the readers of API request bodies. A missing body is -ENODATA. */
int part_json_read_text(const char *text, size_t len, const struct part_json_member *members,
                        void *out, struct part_error *err);

/* Writes "parent.key" (or "key" at the top) into buf and returns buf. */
const char *part_json_path(char *buf, size_t len, const char *parent, const char *key);
/* "an object", "a string", ...: for "expected X, got Y" messages. */
const char *part_json_type_name(const json_t *v);
/* Sets err to "PATH: expected WHAT, got TYPE-OF-v" and returns -EINVAL. */
int part_json_expected(const char *path, const char *what, const json_t *v, struct part_error *err);

/* Parses text (len bytes) from file (may be NULL) into *ret (caller
 * json_decref()s). Empty text is -ENODATA; a syntax error is -EINVAL with
 * jansson's line and column. */
int part_json_parse(const char *text, size_t len, const char *file, json_t **ret,
                    struct part_error *err);
/* Adds the line and column of err->field in text, when err has none yet. */
void part_error_locate(struct part_error *err, const char *text, size_t len);

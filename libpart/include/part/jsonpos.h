/* Where a value is in a JSON text. jansson reports positions only for syntax
 * errors; validation errors need the line and column of the value they are
 * about, so this scanner finds them in the (already valid) text. */
#pragma once

#include <stddef.h>

/* Finds the value at path in text (len bytes, valid JSON) and writes its
 * 1-based line and column. path is a dotted list of object keys
 * ("processors.initial"); "" is the whole document. When the path does not
 * exist, the position of its deepest existing ancestor is written. Returns 0
 * when the full path was found, -ENOENT when only an ancestor was. */
int part_jsonpos_locate(const char *text, size_t len, const char *path, int *ret_line,
                        int *ret_column);

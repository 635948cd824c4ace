/* Text from outside (a request, a guest, libvirt) on its way to a terminal
 * or a log: control characters escaped, so that it cannot move a cursor,
 * clear a screen or forge a log line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether s holds a control character: a byte below 0x20, 0x7f, or a C1
 * control (U+0080-U+009F, 0xc2 0x80-0x9f in UTF-8). */
bool part_text_has_controls(const char *s);

/* Writes s into buf (len bytes, NUL included) with each control byte as
 * \xNN (a C1 control as its two bytes), cut where it does not fit; returns
 * buf. */
const char *part_text_escape(const char *s, char *buf, size_t len);

/* json.h - a small streaming JSON writer.
 *
 * Tracks only whether a comma is due; callers nest objects and arrays in
 * the order they write them.  Strings are escaped per RFC 8259, and bytes
 * that are not valid UTF-8 become U+FFFD so the output always parses. */
#ifndef REEF_JSON_H
#define REEF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct json_writer {
    FILE *out;
    int depth;
    unsigned char need_comma[64]; /* 0 none yet, 1 comma due, 2 after key */
    bool pretty;
} json_writer;

void json_init(json_writer *w, FILE *out, bool pretty);
void json_begin_object(json_writer *w);
void json_end_object(json_writer *w);
void json_begin_array(json_writer *w);
void json_end_array(json_writer *w);
void json_key(json_writer *w, const char *key);
void json_string(json_writer *w, const char *s, size_t n);
void json_cstring(json_writer *w, const char *s);
void json_int(json_writer *w, int64_t v);
void json_uint(json_writer *w, uint64_t v);
void json_double(json_writer *w, double v);
void json_bool(json_writer *w, bool v);
void json_null(json_writer *w);
void json_finish(json_writer *w);

#endif

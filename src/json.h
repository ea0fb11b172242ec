/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A streaming JSON writer (RFC 8259), indented two spaces.  Strings are
 * escaped so that any input gives valid JSON: control characters as \uXXXX,
 * U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD.  The caller pairs
 * every begin with an end; the writer does not check nesting.
 */
#ifndef PC_JSON_H
#define PC_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PC_JSON_MAX_DEPTH 32

struct pc_json {
	FILE *out;
	int depth;
	bool first[PC_JSON_MAX_DEPTH];
	bool after_key;
};

void pc_json_init(struct pc_json *j, FILE *out);
void pc_json_begin_object(struct pc_json *j);
void pc_json_end_object(struct pc_json *j);
void pc_json_begin_array(struct pc_json *j);
void pc_json_end_array(struct pc_json *j);
void pc_json_key(struct pc_json *j, const char *key);
void pc_json_string(struct pc_json *j, const char *s);
/* Writes null for NULL or "". */
void pc_json_string_or_null(struct pc_json *j, const char *s);
void pc_json_uint(struct pc_json *j, uint64_t v);
void pc_json_int(struct pc_json *j, int64_t v);
void pc_json_bool(struct pc_json *j, bool v);
void pc_json_null(struct pc_json *j);
/* Ends the document with a newline. */
void pc_json_finish(struct pc_json *j);

/* Writes `s` as a quoted JSON string. */
void pc_json_quote(FILE *out, const char *s);

#endif

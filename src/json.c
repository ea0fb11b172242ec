/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json.h"

#include <string.h>

#include "util.h"

void pc_json_init(struct pc_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void indent(struct pc_json *j)
{
	static const char spaces[] =
			"\n                                                                ";

	fwrite_unlocked(spaces, 1, 1 + 2 * (size_t)j->depth, j->out);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct pc_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (!j->first[j->depth])
		fputc_unlocked(',', j->out);
	j->first[j->depth] = false;
	indent(j);
}

static void open_container(struct pc_json *j, char c)
{
	before_item(j);
	fputc_unlocked(c, j->out);
	if (j->depth + 1 < PC_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_container(struct pc_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc_unlocked(c, j->out);
}

void pc_json_begin_object(struct pc_json *j)
{
	open_container(j, '{');
}

void pc_json_end_object(struct pc_json *j)
{
	close_container(j, '}');
}

void pc_json_begin_array(struct pc_json *j)
{
	open_container(j, '[');
}

void pc_json_end_array(struct pc_json *j)
{
	close_container(j, ']');
}

void pc_json_key(struct pc_json *j, const char *key)
{
	before_item(j);
	pc_json_quote(j->out, key);
	fputs_unlocked(": ", j->out);
	j->after_key = true;
}

void pc_json_quote(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	fputc_unlocked('"', out);
	while (n) {
		/* A run of printable ASCII that needs no escape goes out at once. */
		size_t run = 0;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' &&
				p[run] != '\\')
			run++;
		if (run) {
			fwrite_unlocked(p, 1, run, out);
			p += run;
			n -= run;
			continue;
		}
		size_t len = pc_utf8_seq(p, n);

		if (len == 0) {
			fputs_unlocked("\\ufffd", out);
			len = 1;
		} else if (len == 1) {
			switch (*p) {
			case '"':
				fputs("\\\"", out);
				break;
			case '\\':
				fputs_unlocked("\\\\", out);
				break;
			case '\n':
				fputs_unlocked("\\n", out);
				break;
			case '\r':
				fputs_unlocked("\\r", out);
				break;
			case '\t':
				fputs_unlocked("\\t", out);
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					fprintf(out, "\\u%04x", *p);
				else
					fputc_unlocked(*p, out);
			}
		} else if (len == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
				(p[2] == 0xa8 || p[2] == 0xa9)) {
			fprintf(out, "\\u%04x", 0x2000 + (p[2] - 0x80));
		} else {
			fwrite(p, 1, len, out);
		}
		p += len;
		n -= len;
	}
	fputc_unlocked('"', out);
}

void pc_json_string(struct pc_json *j, const char *s)
{
	before_item(j);
	pc_json_quote(j->out, s);
}

void pc_json_string_or_null(struct pc_json *j, const char *s)
{
	if (s && *s)
		pc_json_string(j, s);
	else
		pc_json_null(j);
}

void pc_json_uint(struct pc_json *j, uint64_t v)
{
	before_item(j);
	fprintf(j->out, "%llu", (unsigned long long)v);
}

void pc_json_int(struct pc_json *j, int64_t v)
{
	before_item(j);
	fprintf(j->out, "%lld", (long long)v);
}

void pc_json_bool(struct pc_json *j, bool v)
{
	before_item(j);
	fputs(v ? "true" : "false", j->out);
}

void pc_json_null(struct pc_json *j)
{
	before_item(j);
	fputs_unlocked("null", j->out);
}

void pc_json_finish(struct pc_json *j)
{
	fputc_unlocked('\n', j->out);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "yaml.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void pc_ydoc_init(struct pc_ydoc *doc)
{
	memset(doc, 0, sizeof(*doc));
	pc_arena_init(&doc->arena);
	pc_arena_init(&doc->nodes);
}

void pc_ydoc_drop_tree(struct pc_ydoc *doc)
{
	pc_arena_finish(&doc->nodes);
	for (size_t i = 0; i < doc->nlists; i++)
		free(doc->lists[i]);
	free(doc->lists);
	doc->lists = NULL;
	doc->nlists = 0;
	doc->root = NULL;
}

void pc_ydoc_finish(struct pc_ydoc *doc)
{
	pc_ydoc_drop_tree(doc);
	pc_arena_finish(&doc->arena);
	free(doc->owned);
	memset(doc, 0, sizeof(*doc));
}

const struct pc_ynode *pc_ynode_get(const struct pc_ynode *map, const char *key)
{
	if (!map || map->kind != PC_Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->items[2 * i]->str, key))
			return map->items[2 * i + 1];
	return NULL;
}

const char *pc_ydoc_line(const struct pc_ydoc *doc, unsigned line, size_t *len)
{
	const char *p = doc->text, *end = doc->text + doc->text_len;

	if (!p || line == 0)
		return NULL;
	for (unsigned l = 1; l < line; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return NULL;
		p++;
	}
	const char *e = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((e ? e : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

/* ---- before libyaml: bytes it would misplace or accept ---------------- */

/*
 * libyaml reports encoding errors at 0:0, counts U+0085, U+2028, U+2029 and a
 * lone CR as line breaks (so its lines would not be ours), and lets format
 * characters through.  Every such byte is reported here at its own line and
 * column, and libyaml never sees the text.
 */
static int prescan(const char *file, const unsigned char *s, size_t len, struct pc_diags *d)
{
	unsigned line = 1;
	size_t line_start = 0;
	int bad = 0;

	if (len >= 2 && ((s[0] == 0xff && s[1] == 0xfe) || (s[0] == 0xfe && s[1] == 0xff))) {
		pc_diag_add(d, PC_SEV_ERROR, "yaml-encoding", file, 1, 1,
				"the policy is UTF-16; policies must be UTF-8");
		return -1;
	}
	for (size_t i = 0; i < len && bad < 20;) {
		unsigned col = (unsigned)(i - line_start + 1);
		unsigned char c = s[i];
		size_t n = pc_utf8_seq(s + i, len - i);

		if (c == '\n') {
			line++;
			line_start = ++i;
			continue;
		}
		if (n == 0) {
			pc_diag_add(d, PC_SEV_ERROR, "yaml-encoding", file, line, col,
					"invalid UTF-8 (byte 0x%02x); policies must be UTF-8", c);
			bad++;
			i++;
			continue;
		}
		const char *what = NULL;
		if (c == 0)
			what = "a NUL byte";
		else if (c == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			what = "a carriage return without a line feed";
		else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			what = "a control character";
		else if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0)
			what = "a C1 control character (U+0080-U+009F)";
		else if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
				((s[i + 2] >= 0x8b && s[i + 2] <= 0x8f) ||
						(s[i + 2] >= 0xa8 && s[i + 2] <= 0xae)))
			what = "a line separator, zero-width or bidirectional control character";
		else if (n == 3 && c == 0xe2 && s[i + 1] == 0x81 && s[i + 2] >= 0xa6 &&
				s[i + 2] <= 0xa9)
			what = "a bidirectional isolate character";
		else if (n == 3 && c == 0xef && s[i + 1] == 0xbb && s[i + 2] == 0xbf && i != 0)
			what = "a byte order mark inside the text";
		if (what) {
			struct pc_diag *x = pc_diag_add(d, PC_SEV_ERROR, "yaml-character", file,
					line, col, "%s is not allowed in a policy", what);
			if (c == 0)
				pc_diag_hint(x, "the file may be binary or truncated");
			bad++;
		}
		i += n;
	}
	return bad ? -1 : 0;
}

/* ---- the event stream ------------------------------------------------- */

struct frame {
	struct pc_ynode *node;
	struct pc_ynode **items;
	size_t n, cap;
};

struct reader {
	struct pc_ydoc *doc;
	struct pc_diags *diags;
	struct frame stack[PC_YAML_MAX_DEPTH + 1];
	int depth; /* open containers */
	size_t nodes;
	int errors;
	bool stop; /* a problem after which the rest cannot be trusted */
};

static PC_PRINTF(5, 6) struct pc_diag *rerror(struct reader *r, const char *code, yaml_mark_t mark,
		bool stop, const char *fmt, ...)
{
	va_list ap;
	struct pc_diag *d;

	va_start(ap, fmt);
	d = pc_diag_addv(r->diags, PC_SEV_ERROR, code, r->doc->file, (unsigned)mark.line + 1,
			(unsigned)mark.column + 1, fmt, ap);
	va_end(ap);
	r->errors++;
	r->stop |= stop;
	return d;
}

static struct pc_ynode *new_node(struct reader *r, enum pc_ynode_kind kind, yaml_mark_t mark)
{
	struct pc_ynode *n = pc_arena_alloc(&r->doc->nodes, sizeof(*n));

	n->kind = kind;
	n->line = (unsigned)mark.line + 1;
	n->col = (unsigned)mark.column + 1;
	return n;
}

static bool expecting_key(const struct reader *r)
{
	const struct frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;

	return f && f->node->kind == PC_Y_MAP && f->n % 2 == 0;
}

static void attach(struct reader *r, struct pc_ynode *n)
{
	if (r->depth == 0) {
		r->doc->root = n;
		return;
	}
	struct frame *f = &r->stack[r->depth - 1];
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->items = xreallocarray(f->items, f->cap, sizeof(*f->items));
	}
	f->items[f->n++] = n;
}

static int cmp_keys(const void *a, const void *b)
{
	const struct pc_ynode *x = *(const struct pc_ynode *const *)a;
	const struct pc_ynode *y = *(const struct pc_ynode *const *)b;
	int c = strcmp(x->str, y->str);

	if (c)
		return c;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->col < y->col ? -1 : 1);
}

/* Duplicate keys (libyaml accepts them), found by sorting: linear-log time. */
static void check_duplicates(struct reader *r, const struct pc_ynode *map)
{
	size_t n = map->n;

	if (n < 2)
		return;
	struct pc_ynode **keys = xcalloc(n, sizeof(*keys));
	for (size_t i = 0; i < n; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i]->str, keys[i - 1]->str))
			continue;
		size_t first = i - 1;
		while (first > 0 && !strcmp(keys[first - 1]->str, keys[i]->str))
			first--;
		yaml_mark_t m = {0, keys[i]->line - 1, keys[i]->col - 1};
		rerror(r, "yaml-duplicate-key", m, false, "duplicate key '%s' (first at %u:%u)",
				keys[i]->str, keys[first]->line, keys[first]->col);
	}
	free(keys);
}

/* The items of a container of at least this many bytes stay in the array they were read into. */
#define LIST_KEPT (16u << 10)

static void close_container(struct reader *r)
{
	struct frame *f = &r->stack[--r->depth];
	struct pc_ynode *n = f->node;

	if (f->n * sizeof(*n->items) >= LIST_KEPT) {
		/* A long list (a network's addresses) keeps its array, cut to its size. */
		struct pc_ydoc *doc = r->doc;
		doc->lists = xreallocarray(doc->lists, doc->nlists + 1, sizeof(*doc->lists));
		doc->lists[doc->nlists++] = n->items =
				xreallocarray(f->items, f->n, sizeof(*n->items));
		f->items = NULL;
	} else {
		n->items = pc_arena_alloc(&r->doc->nodes, (f->n ? f->n : 1) * sizeof(*n->items));
		if (f->n)
			memcpy(n->items, f->items, f->n * sizeof(*n->items));
	}
	n->n = (uint32_t)(n->kind == PC_Y_MAP ? f->n / 2 : f->n);
	free(f->items);
	memset(f, 0, sizeof(*f));
	if (n->kind == PC_Y_MAP)
		check_duplicates(r, n);
	attach(r, n);
}

static bool node_start(struct reader *r, yaml_mark_t mark, const yaml_char_t *anchor,
		const yaml_char_t *tag, bool implicit_tag)
{
	if (anchor) {
		rerror(r, "yaml-anchor", mark, true,
				"anchors (&%s) and aliases are not supported in policies", anchor);
		return false;
	}
	if (tag && !implicit_tag) /* reported; the node is still read, so more can be found */
		rerror(r, "yaml-tag", mark, false, "tags (%s) are not supported in policies", tag);
	if (++r->nodes > PC_YAML_MAX_NODES) {
		rerror(r, "yaml-limit", mark, true, "more than %u values in one policy",
				PC_YAML_MAX_NODES);
		return false;
	}
	return true;
}

static void on_scalar(struct reader *r, const yaml_event_t *e)
{
	const char *v = (const char *)e->data.scalar.value;
	size_t len = e->data.scalar.length;
	yaml_mark_t m = e->start_mark;
	bool key = expecting_key(r);

	if (!node_start(r, m, e->data.scalar.anchor, e->data.scalar.tag,
			    e->data.scalar.plain_implicit || e->data.scalar.quoted_implicit))
		return;
	if (key && len > PC_YAML_MAX_KEY) {
		rerror(r, "yaml-limit", m, true, "a key longer than %u bytes", PC_YAML_MAX_KEY);
		return;
	}
	if (len > PC_YAML_MAX_SCALAR) {
		rerror(r, "yaml-limit", m, false, "a value longer than %u bytes",
				PC_YAML_MAX_SCALAR);
		len = 0;
	}
	/* Escapes ("\0", "\e", "\u202e") can put in a value what the file may not hold. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			rerror(r, "yaml-character", m, false,
					"control character 0x%02x in a value (written as an escape)",
					c);
			break;
		}
	}
	if (key && e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && len == 2 &&
			!memcmp(v, "<<", 2))
		rerror(r, "yaml-merge", m, false, "merge keys (<<) are not supported in policies");
	struct pc_ynode *n = new_node(r, PC_Y_SCALAR, m);
	n->str = pc_arena_strndup(&r->doc->arena, v, len);
	n->len = (uint16_t)len;
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	attach(r, n);
}

static void on_open(struct reader *r, const yaml_event_t *e, enum pc_ynode_kind kind)
{
	yaml_mark_t m = e->start_mark;
	const yaml_char_t *anchor = kind == PC_Y_MAP ? e->data.mapping_start.anchor
						     : e->data.sequence_start.anchor;
	const yaml_char_t *tag =
			kind == PC_Y_MAP ? e->data.mapping_start.tag : e->data.sequence_start.tag;
	int implicit = kind == PC_Y_MAP ? e->data.mapping_start.implicit
					: e->data.sequence_start.implicit;

	if (expecting_key(r)) {
		rerror(r, "yaml-complex-key", m, true, "mapping keys must be plain values, not %s",
				kind == PC_Y_MAP ? "mappings" : "lists");
		return;
	}
	if (!node_start(r, m, anchor, tag, implicit))
		return;
	if (r->depth >= PC_YAML_MAX_DEPTH) {
		rerror(r, "yaml-limit", m, true, "nesting deeper than %d levels",
				PC_YAML_MAX_DEPTH);
		return;
	}
	struct pc_ynode *n = new_node(r, kind, m);
	n->flow = kind == PC_Y_MAP ? e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
				   : e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	r->stack[r->depth++] = (struct frame){n, NULL, 0, 0};
}

/* libyaml's words, rewritten for people who edit policies. */
static void parser_error(struct reader *r, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	const char *context = p->context ? p->context : "";
	yaml_mark_t m = p->problem_mark;
	struct pc_diag *d;

	if (p->error == YAML_MEMORY_ERROR)
		pc_oom_size(0); /* as every other allocation that fails */
	if (p->error == YAML_READER_ERROR) {
		rerror(r, "yaml-encoding", m, true, "%s", problem);
		return;
	}
	size_t off = m.index;
	char at = off < r->doc->text_len ? r->doc->text[off] : '\0';
	if (strstr(problem, "cannot start any token") && at == '\t') {
		d = rerror(r, "yaml-tab", m, true, "tabs are not allowed for indentation");
		pc_diag_hint(d, "indent with spaces");
	} else if (strstr(problem, "found unexpected end of stream") &&
			strstr(context, "quoted scalar")) {
		/* Said where the quote opens: the end of the file is no help. */
		d = rerror(r, "yaml-syntax", p->context_mark, true,
				"unterminated quoted string: it runs to the end of the file");
		pc_diag_hint(d, "close the quote");
	} else if ((strstr(problem, "mapping values are not allowed") ||
				   strstr(problem, "could not find expected ':'")) &&
			m.column > PC_YAML_MAX_KEY &&
			!memchr(r->doc->text + off - m.column, ':', m.column)) {
		rerror(r, "yaml-limit", m, true, "a key longer than %u bytes", PC_YAML_MAX_KEY);
	} else if (strstr(problem, "mapping values are not allowed")) {
		d = rerror(r, "yaml-syntax", m, true, "unexpected ':' here");
		pc_diag_hint(d, "a value holding ': ' must be quoted; or check the indentation");
	} else if (strstr(problem, "could not find expected ':'")) {
		d = rerror(r, "yaml-syntax", m, true, "expected 'key: value' (a ':' is missing)");
		pc_diag_hint(d, "check the line before: a key needs ': ' after it");
	} else if (strstr(problem, "did not find expected node content") && at == ':') {
		d = rerror(r, "yaml-syntax", m, true, "a value cannot start with ':' here");
		pc_diag_hint(d, "quote IPv6 addresses: \"::/0\", \"2001:db8::1\"");
	} else if (strstr(problem, "did not find expected key") ||
			strstr(problem, "did not find expected '-' indicator") ||
			strstr(problem, "did not find expected node content")) {
		d = rerror(r, "yaml-syntax", m, true, "bad indentation or a misplaced entry (%s)",
				problem);
		pc_diag_hint(d, "entries of one mapping or list start in the same column");
	} else if (strstr(problem, "found incompatible YAML document") ||
			strstr(problem, "found duplicate %YAML directive")) {
		rerror(r, "yaml-syntax", m, true, "only YAML 1.1 and 1.2 documents are read (%s)",
				problem);
	} else if (strstr(problem, "found character that cannot start any token") && at == '@') {
		d = rerror(r, "yaml-syntax", m, true, "a value cannot start with '@'");
		pc_diag_hint(d, "quote it");
	} else {
		rerror(r, "yaml-syntax", m, true, "%s%s%s", problem, *context ? " " : "", context);
	}
}

/* Parses doc->text, set by the caller. */
static int parse(struct pc_ydoc *doc, struct pc_diags *diags)
{
	struct reader r;
	yaml_parser_t parser;
	yaml_event_t event;
	int docs = 0;
	size_t before = diags->nerrors, len = doc->text_len;
	const char *text = doc->text;

	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.diags = diags;
	if (prescan(doc->file, (const unsigned char *)text, len, diags) < 0)
		return -1;

	if (!yaml_parser_initialize(&parser))
		pc_oom_size(sizeof(parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!r.stop) {
		if (!yaml_parser_parse(&parser, &event)) {
			parser_error(&r, &parser);
			break;
		}
		yaml_event_type_t type = event.type;
		switch (type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rerror(&r, "yaml-documents", event.start_mark, true,
						"a policy is one YAML document; a second one starts "
						"here");
			else if (event.data.document_start.tag_directives.start !=
					event.data.document_start.tag_directives.end)
				rerror(&r, "yaml-tag", event.start_mark, true,
						"%%TAG directives are not supported in policies");
			break;
		case YAML_ALIAS_EVENT:
			rerror(&r, "yaml-anchor", event.start_mark, true,
					"anchors and aliases (*%s) are not supported in policies",
					event.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&r, &event);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_open(&r, &event, PC_Y_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			on_open(&r, &event, PC_Y_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (r.depth > 0)
				close_container(&r);
			break;
		default:
			break;
		}
		yaml_event_delete(&event);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	while (r.depth > 0) {
		struct frame *f = &r.stack[--r.depth];
		free(f->items);
	}
	if (diags->nerrors == before && !doc->root) {
		pc_diag_add(diags, PC_SEV_ERROR, "yaml-empty", doc->file, 1, 1,
				"the policy is empty");
	}
	if (diags->nerrors != before) {
		doc->root = NULL;
		return -1;
	}
	return 0;
}

/* The file's name, and whether the text is within the size limit. */
static int parse_start(struct pc_ydoc *doc, const char *file, size_t len, struct pc_diags *diags)
{
	doc->file = pc_arena_strndup(&doc->arena, file, strlen(file));
	doc->root = NULL;
	if (len > PC_YAML_MAX_BYTES) {
		pc_diag_add(diags, PC_SEV_ERROR, "yaml-limit", file, 0, 0,
				"the policy is larger than %u bytes", PC_YAML_MAX_BYTES);
		return -1;
	}
	return 0;
}

int pc_yaml_parse(struct pc_ydoc *doc, const char *file, const char *data, size_t len,
		struct pc_diags *diags)
{
	if (parse_start(doc, file, len, diags) < 0)
		return -1;
	doc->text = pc_arena_strndup(&doc->arena, data, len);
	doc->text_len = len;
	return parse(doc, diags);
}

int pc_yaml_parse_buf(
		struct pc_ydoc *doc, const char *file, struct pc_buf *buf, struct pc_diags *diags)
{
	if (parse_start(doc, file, buf->len, diags) < 0)
		return -1;
	if (!buf->data)
		pc_buf_add(buf, "", 0);
	doc->owned = buf->data;
	doc->text = buf->data;
	doc->text_len = buf->len;
	pc_buf_init(buf);
	return parse(doc, diags);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IANA Service Name and Transport Protocol Port Number Registry in its
 * CSV form: RFC 4180 records (CRLF, or LF), quoted fields that may hold
 * line breaks and doubled quotes, a header naming twelve columns.
 *
 * The text is copied once into the layer's string table and unescaped in
 * place: each field becomes a NUL-terminated string at its own offset, so a
 * row costs no allocation.  Errors name the physical line and byte column.
 */
#include <stdarg.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string.h>

#include "layer.h"

#define MAX_ERRORS 50
#define ALIAS_MARK "alias to \""
#define FIELD_ROOM (COL_COUNT + 1 + 32) /* fields read per record; see simple_record() */
#define PC_CSV_PAD 32 /* zero bytes after the text, for 32-byte scans */

static const char *const column_names[COL_COUNT] = {
		[COL_NAME] = "Service Name",
		[COL_PORT] = "Port Number",
		[COL_PROTO] = "Transport Protocol",
		[COL_DESC] = "Description",
		[COL_ASSIGNEE] = "Assignee",
		[COL_CONTACT] = "Contact",
		[COL_REGISTERED] = "Registration Date",
		[COL_MODIFIED] = "Modification Date",
		[COL_REFERENCE] = "Reference",
		[COL_SERVICE_CODE] = "Service Code",
		[COL_UNAUTH] = "Unauthorized Use Reported",
		[COL_NOTES] = "Assignment Notes",
};

/* Byte classes for the unquoted-field fast path. */
enum {
	CL_PLAIN,
	CL_COMMA,
	CL_LF,
	CL_CR,
	CL_QUOTE,
	CL_NUL,
	CL_HIGH
};

struct csv {
	const char *label;
	struct pc_layer_builder *b;
	char *s; /* the string table; the text starts at `pos` */
	size_t pos, end;
	unsigned line;
	size_t line_start;
	struct pc_diags *diags;
	unsigned nerr;
	bool fatal;
	int where[COL_COUNT]; /* column -> field index */
	size_t nrows;
	char date[11]; /* the newest YYYY-MM-DD seen; "" until one is */
	size_t rec_start; /* where the last record began */
	struct pc_buf scratch; /* for putting a record's columns in order */
	bool identity; /* the columns are in the usual order */
	bool simple; /* the last record was on one line: */
	unsigned rec_line; /* its line */
	uint32_t rec_line_start; /* and where that line starts */
	unsigned char cls[256]; /* unquoted fields */
	unsigned char qcls[256]; /* quoted fields: nonzero needs care */
};

struct field {
	uint32_t off, len;
	uint32_t line; /* where the field starts */
	uint32_t line_start; /* offset of the first byte of that line */
};

static unsigned field_line(const struct csv *c, const struct field *f)
{
	return c->simple ? c->rec_line : f->line;
}

static unsigned field_col(const struct csv *c, const struct field *f)
{
	return f->off - (c->simple ? c->rec_line_start : f->line_start) + 1;
}

static PC_PRINTF(5, 6) void csv_error(
		struct csv *c, unsigned line, unsigned col, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (++c->nerr > MAX_ERRORS) {
		if (!c->fatal)
			pc_diag_add(c->diags, PC_SEV_ERROR, "csv-too-many-errors", c->label, line,
					col, "more than %d errors; stopping", MAX_ERRORS);
		c->fatal = true;
		return;
	}
	va_start(ap, fmt);
	pc_diag_addv(c->diags, PC_SEV_ERROR, code, c->label, line, col, fmt, ap);
	va_end(ap);
}

/*
 * The position of the next byte that ends or complicates an unquoted field:
 * comma, CR, LF, quote, NUL or a non-ASCII byte.  The text ends with a NUL
 * and PC_CSV_PAD zero bytes, so the scan needs no bounds check.  With SSE2,
 * sixteen bytes at a time: fields are short and a per-byte loop pays a
 * mispredicted branch at every field end.
 */
static inline size_t scan_plain(const char *s, size_t pos, const unsigned char *cls)
{
#if defined(__SSE2__)
	const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n');
	const __m128i cr = _mm_set1_epi8('\r'), quote = _mm_set1_epi8('"');
	const __m128i zero = _mm_setzero_si128();

	(void)cls;
	for (;;) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + pos));
		__m128i m = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf)),
				_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)));
		unsigned bits = (unsigned)_mm_movemask_epi8(
						_mm_or_si128(m, _mm_cmpeq_epi8(v, zero))) |
				(unsigned)_mm_movemask_epi8(v);
		if (bits)
			return pos + (size_t)__builtin_ctz(bits);
		pos += 16;
	}
#else
	while (cls[(unsigned char)s[pos]] == CL_PLAIN)
		pos++;
	return pos;
#endif
}

/*
 * Reads one record.  Returns the number of fields (the first `max` stored),
 * or -1 at end of input.  *bad is set when the record must be dropped.
 * The scanning state lives in locals; `c` is updated before every return
 * and before any diagnostic.
 */
static long read_record_general(struct csv *c, struct field *f, size_t max, bool *bad);

/*
 * Classifies the 32 bytes at `p`: a bit in *commas for each comma, a bit in
 * *other for each byte that ends or complicates an unquoted field (CR, LF,
 * quote, NUL, non-ASCII).
 */
static inline void classify32(
		const char *p, const unsigned char *cls, uint32_t *commas, uint32_t *other)
{
#if defined(__SSE2__)
	const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n');
	const __m128i cr = _mm_set1_epi8('\r'), quote = _mm_set1_epi8('"');
	const __m128i zero = _mm_setzero_si128();
	uint32_t cm = 0, ot = 0;

	(void)cls;
	for (int half = 0; half < 2; half++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * half));
		__m128i o = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)),
				_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, zero)));
		cm |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) << (16 * half);
		ot |= ((uint32_t)_mm_movemask_epi8(o) | (uint32_t)_mm_movemask_epi8(v))
		      << (16 * half);
	}
	*commas = cm;
	*other = ot;
#else
	uint32_t cm = 0, ot = 0;

	for (int i = 0; i < 32; i++) {
		unsigned char k = cls[(unsigned char)p[i]];
		cm |= (uint32_t)(k == CL_COMMA) << i;
		ot |= (uint32_t)(k != CL_PLAIN && k != CL_COMMA) << i;
	}
	*commas = cm;
	*other = ot;
#endif
}

/*
 * The common record: unquoted ASCII fields and a CRLF or LF end.  It finds
 * the field boundaries 32 bytes at a time and cuts the fields at the commas;
 * on anything else it puts the commas back and returns -1, and the general
 * path reads the record.  The text ends with a NUL and PC_CSV_PAD zero
 * bytes, so loads never need a bounds check.
 */
static long simple_record(const struct csv *c, struct field *f, size_t max, size_t *next, bool *eol)
{
	char *s = c->s;
	size_t base = c->pos, start = c->pos;
	long nf = 0;

	for (;;) {
		uint32_t commas, other;

		classify32(s + base, c->cls, &commas, &other);
		uint32_t stop = other & -other; /* the first byte that is not plain or a comma */
		uint32_t cm = stop ? commas & (stop - 1) : commas;
		/* `f` has room for 32 fields past `max`: one chunk's commas, checked after. */
		while (cm) {
			size_t p = base + (size_t)__builtin_ctz(cm);
			cm &= cm - 1;
			f[nf].off = (uint32_t)start;
			f[nf].len = (uint32_t)(p - start);
			nf++;
			s[p] = '\0';
			start = p + 1;
		}
		if ((size_t)nf >= max)
			goto restore; /* too many fields: the general path counts them */
		if (!stop) {
			base += 32;
			continue;
		}
		size_t p = base + (size_t)__builtin_ctz(stop);
		unsigned char x = (unsigned char)s[p];
		f[nf].off = (uint32_t)start;
		f[nf].len = (uint32_t)(p - start);
		nf++;
		*eol = true;
		if (x == '\n') {
			*next = p + 1;
		} else if (x == '\r' && s[p + 1] == '\n') {
			*next = p + 2;
		} else if (x == '\0' && p >= c->end) {
			*next = p; /* the last line has no end */
			*eol = false;
		} else {
			nf--; /* that field did not end at a comma */
			goto restore;
		}
		s[p] = '\0';
		return nf;
	}
restore:
	for (long i = 0; i < nf; i++)
		s[f[i].off + f[i].len] = ',';
	return -1;
}

static long read_record(struct csv *c, struct field *f, size_t max, bool *bad)
{
	size_t next;

	*bad = false;
	if (c->pos >= c->end)
		return -1;
	c->rec_start = c->pos;
	bool eol;
	long n = simple_record(c, f, max, &next, &eol);
	c->simple = n >= 0;
	if (n >= 0) {
		c->rec_line = c->line;
		c->rec_line_start = (uint32_t)c->line_start;
		c->pos = next;
		if (eol) {
			c->line++;
			c->line_start = next;
		}
		return n;
	}
	return read_record_general(c, f, max, bad);
}

static long read_record_general(struct csv *c, struct field *f, size_t max, bool *bad)
{
	char *s = c->s;
	const unsigned char *cls = c->cls, *qcls = c->qcls;
	size_t pos = c->pos, end = c->end, line_start = c->line_start;
	unsigned line = c->line;
	long nf = 0;

#define COL(at) ((unsigned)((at)-line_start + 1))
	*bad = false;
	if (pos >= end)
		return -1;
	for (;;) {
		size_t start = pos, w;
		unsigned fline = line;
		size_t fls = line_start;
		int ch;

		if (pos < end && s[pos] == '"') {
			start = w = ++pos;
			for (;;) {
				/* Bytes that need no care; copied once a "" has shrunk the field.
				 */
				if (w == pos) {
					while (!qcls[(unsigned char)s[pos]])
						pos++;
					w = pos;
				} else {
					while (!qcls[(unsigned char)s[pos]])
						s[w++] = s[pos++];
				}
				if (pos >= end) {
					csv_error(c, line, COL(pos), "csv-unterminated",
							"unterminated quoted field (opened at line %u, "
							"column %u)",
							fline, (unsigned)(start - fls));
					c->fatal = true;
					*bad = true;
					c->pos = pos;
					c->line = line;
					c->line_start = line_start;
					return nf + 1;
				}
				unsigned char x = (unsigned char)s[pos];
				if (x == '"') {
					if (pos + 1 < end && s[pos + 1] == '"') {
						s[w++] = '"';
						pos += 2;
						continue;
					}
					pos++;
					break;
				}
				if (x == '\n') {
					s[w++] = '\n';
					line++;
					line_start = ++pos;
				} else if (x == '\r' && pos + 1 < end && s[pos + 1] == '\n') {
					pos++; /* CRLF inside quotes reads as LF */
				} else if (x == '\r' || x == 0) {
					csv_error(c, line, COL(pos), x ? "csv-stray-cr" : "csv-nul",
							x ? "carriage return not followed by a line feed"
							  : "NUL byte in the file");
					*bad = true;
					pos++;
				} else {
					size_t n = pc_utf8_seq(
							(const unsigned char *)s + pos, end - pos);
					if (!n) {
						csv_error(c, line, COL(pos), "csv-encoding",
								"invalid UTF-8 (byte 0x%02x)", x);
						*bad = true;
						n = 1;
					}
					memmove(s + w, s + pos, n);
					w += n;
					pos += n;
				}
			}
			if (pos < end && s[pos] != ',' && s[pos] != '\r' && s[pos] != '\n') {
				csv_error(c, line, COL(pos), "csv-quote",
						"unexpected text after a closing quote");
				*bad = true;
				while (pos < end && s[pos] != ',' && s[pos] != '\r' &&
						s[pos] != '\n')
					pos++;
			}
		} else {
			for (;;) {
				pos = scan_plain(s, pos, cls);
				if (pos >= end)
					break;
				unsigned char k = cls[(unsigned char)s[pos]];
				if (k == CL_HIGH) {
					size_t n = pc_utf8_seq(
							(const unsigned char *)s + pos, end - pos);
					if (!n) {
						csv_error(c, line, COL(pos), "csv-encoding",
								"invalid UTF-8 (byte 0x%02x)",
								(unsigned char)s[pos]);
						*bad = true;
						n = 1;
					}
					pos += n;
				} else if (k == CL_QUOTE || k == CL_NUL) {
					csv_error(c, line, COL(pos),
							k == CL_NUL ? "csv-nul" : "csv-quote",
							k == CL_NUL ? "NUL byte in the file"
								    : "quote inside an unquoted field");
					*bad = true;
					pos++;
				} else {
					break;
				}
			}
			w = pos;
		}
		ch = pos < end ? (unsigned char)s[pos] : -1;
		s[w] = '\0';
		if ((size_t)nf < max) {
			f[nf].off = (uint32_t)start;
			f[nf].len = (uint32_t)(w - start);
			f[nf].line = fline;
			f[nf].line_start = (uint32_t)fls;
		}
		nf++;
		if (ch == ',') {
			pos++;
			continue;
		}
		if (ch == '\n') {
			line++;
			line_start = ++pos;
		} else if (ch == '\r') {
			if (pos + 1 < end && s[pos + 1] == '\n') {
				pos += 2;
				line++;
				line_start = pos;
			} else {
				csv_error(c, line, COL(pos), "csv-stray-cr",
						"carriage return not followed by a line feed");
				*bad = true;
				/* Resynchronise after the next LF; records are never merged. */
				while (pos < end && s[pos] != '\n')
					pos++;
				if (pos < end) {
					line++;
					line_start = ++pos;
				}
			}
		}
		c->pos = pos;
		c->line = line;
		c->line_start = line_start;
		return nf;
	}
#undef COL
}

static enum pc_state row_state(const char *name, const char *desc)
{
	char d = pc_fold(desc[0]);

	if (d != 'r' && d != 'u' && d != 'd')
		return PC_STATE_ASSIGNED;
	if (pc_startswith_fold(desc, "Reserved"))
		return PC_STATE_RESERVED;
	if (!*name && (pc_startswith_fold(desc, "Unassigned") ||
				      pc_startswith_fold(desc, "De-registered") ||
				      pc_startswith_fold(desc, "Removed")))
		return PC_STATE_UNASSIGNED;
	return PC_STATE_ASSIGNED;
}

/* An in-range note such as "Unauthorized Use Known on port 796" names one port. */
static uint16_t unauth_port_in(const char *text, uint16_t lo, uint16_t hi)
{
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
			continue;
		unsigned long v = 0;
		const char *q = p;
		while (*q >= '0' && *q <= '9' && v <= 65535)
			v = v * 10 + (unsigned long)(*q++ - '0');
		if (v >= lo && v <= hi && lo != hi)
			return (uint16_t)v;
	}
	return 0;
}

/* The registry spells protocols in lower case: exactly these. */
static int exact_proto(const char *p, uint32_t len)
{
	if (len == 3 && !memcmp(p, "tcp", 3))
		return PC_PROTO_TCP;
	if (len == 3 && !memcmp(p, "udp", 3))
		return PC_PROTO_UDP;
	if (len == 4 && !memcmp(p, "sctp", 4))
		return PC_PROTO_SCTP;
	if (len == 4 && !memcmp(p, "dccp", 4))
		return PC_PROTO_DCCP;
	return len ? -1 : PC_PROTO_ANY;
}

/* A single decimal port takes the fast way; ranges and errors the full one. */
static inline int parse_port(const char *s, uint32_t len, uint16_t *lo, uint16_t *hi)
{
	uint32_t v = 0;

	if (len > 5 || (len > 1 && s[0] == '0'))
		return pc_parse_port_range(s, len, lo, hi);
	for (uint32_t i = 0; i < len; i++) {
		uint32_t d = (uint32_t)(unsigned char)s[i] - '0';
		if (d > 9)
			return pc_parse_port_range(s, len, lo, hi);
		v = v * 10 + d;
	}
	if (v > 65535)
		return -1;
	*lo = *hi = (uint16_t)v;
	return 0;
}

/* The newest YYYY-MM-DD date seen, which stands for the snapshot's date. */
static void note_date(struct csv *c, const struct field *f)
{
	const char *d = c->s + f->off;

	if (f->len != 10 || d[4] != '-' || d[7] != '-' || memcmp(d, c->date, 4) < 0)
		return; /* not a date, or an older year */
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return;
	if (memcmp(d, c->date, 10) > 0)
		memcpy(c->date, d, 10);
}

/*
 * Rewrites the record that began at c->rec_start as its columns in the usual
 * order, each NUL-terminated.  It fits: the columns lose their quotes and
 * doubled quotes, and each separator becomes the NUL (a record without a line
 * end at the end of the text uses the NUL that follows it).
 */
static uint32_t compact_row(struct csv *c, const struct field *f)
{
	struct pc_buf *t = &c->scratch;

	size_t total = 0;

	for (int col = 0; col < COL_COUNT; col++)
		total += f[c->where[col]].len + 1u;
	t->len = 0;
	pc_buf_reserve(t, total);
	for (int col = 0; col < COL_COUNT; col++) {
		const struct field *x = &f[c->where[col]];
		memcpy(t->data + t->len, c->s + x->off, x->len);
		t->len += x->len;
		t->data[t->len++] = '\0';
	}
	memcpy(c->s + c->rec_start, t->data, t->len);
	return (uint32_t)c->rec_start;
}

static void add_row(struct csv *c, const struct field *f)
{
	struct pc_entry *e = pc_builder_add(c->b);
	const struct field *fname = &f[c->where[COL_NAME]];
	const struct field *fport = &f[c->where[COL_PORT]];
	const struct field *fproto = &f[c->where[COL_PROTO]];
	const char *name = c->s + fname->off, *port = c->s + fport->off;
	bool bad = false;

	e->line = field_line(c, &f[0]);

	if (fname->len >= PC_MAX_NAME) {
		csv_error(c, field_line(c, fname), field_col(c, fname), "csv-name",
				"service name longer than %d characters", PC_MAX_NAME - 1);
		bad = true;
	}
	uint32_t hash = 2166136261u; /* pc_name_hash(), while checking each byte */
	for (const char *p = name; *p; p++) {
		hash = (hash ^ (unsigned char)pc_fold(*p)) * 16777619u;
		if (!pc_name_char_ok((unsigned char)*p)) {
			char what[8];
			if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
				snprintf(what, sizeof(what), "'%c'", *p);
			else
				snprintf(what, sizeof(what), "0x%02x", (unsigned char)*p);
			csv_error(c, field_line(c, fname),
					field_col(c, fname) + (unsigned)(p - name), "csv-name",
					"service name contains %s", what);
			bad = true;
			break;
		}
	}
	if (fport->len) {
		if (parse_port(port, fport->len, &e->port_lo, &e->port_hi) < 0) {
			csv_error(c, field_line(c, fport), field_col(c, fport), "csv-port",
					"bad port '%s': expected a number from 0 to 65535 or a range "
					"LOW-HIGH",
					port);
			bad = true;
		} else if (e->port_lo == 0 && fname->len && !bad) {
			csv_error(c, field_line(c, fport), field_col(c, fport), "port-zero",
					PC_PORT_ZERO_MSG " (service '%s')", name);
			bad = true;
		} else {
			e->flags |= PC_ENTRY_F_PORT;
		}
	}
	int pr = exact_proto(c->s + fproto->off, fproto->len);
	if (pr < 0) {
		csv_error(c, field_line(c, fproto), field_col(c, fproto), "csv-protocol",
				"bad transport protocol '%s': expected tcp, udp, sctp, dccp or "
				"nothing",
				c->s + fproto->off);
		bad = true;
	} else {
		e->proto = (uint8_t)pr;
	}
	if (!fname->len && !fport->len && !bad) {
		csv_error(c, field_line(c, &f[0]), 1, "csv-empty-row",
				"row has neither a service name nor a port");
		bad = true;
	}
	if (bad) {
		c->b->n--;
		return;
	}
	pc_builder_set_hash(c->b, c->b->n - 1, hash);
	e->state = (uint8_t)row_state(name, c->s + f[c->where[COL_DESC]].off);
	note_date(c, &f[c->where[COL_REGISTERED]]);
	note_date(c, &f[c->where[COL_MODIFIED]]);
	/* Historic aliases say: This entry is an alias to "canonical-name" (linked later). */
	if (f[c->where[COL_NOTES]].len && strstr(c->s + f[c->where[COL_NOTES]].off, ALIAS_MARK))
		e->flags |= PC_ENTRY_F_HISTORIC;
	if (f[c->where[COL_UNAUTH]].len) {
		e->flags |= PC_ENTRY_F_UNAUTH;
		e->unauth_port = unauth_port_in(
				c->s + f[c->where[COL_UNAUTH]].off, e->port_lo, e->port_hi);
	}
	/*
	 * A simple record in the usual column order already holds its columns one
	 * after the other, NUL-terminated; any other is rewritten so, in place.
	 */
	e->row = c->simple && c->identity ? f[0].off : compact_row(c, f);
}

/* The canonical names of the rows add_row() marked historic. */
static void link_aliases(struct pc_layer_builder *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		struct pc_entry *e = &b->entries[i];

		if (!(e->flags & PC_ENTRY_F_HISTORIC))
			continue;
		const char *p = strstr(pc_row_col(b->strs.data, e, COL_NOTES), ALIAS_MARK);
		p += sizeof(ALIAS_MARK) - 1;
		const char *q = strchr(p, '"');
		if (!q || q == p || q - p >= PC_MAX_NAME) {
			e->flags &= (uint8_t)~PC_ENTRY_F_HISTORIC; /* no name to point to */
			continue;
		}
		char tmp[PC_MAX_NAME];
		memcpy(tmp, p, (size_t)(q - p));
		e->extra = pc_builder_str(b, tmp, (size_t)(q - p)); /* may move strs.data */
	}
}

static void parse_rows(struct csv *c)
{
	struct field f[FIELD_ROOM];
	bool bad;

	while (!c->fatal) {
		unsigned rec_line = c->line;
		long nf = read_record(c, f, COL_COUNT + 1, &bad);

		if (nf < 0)
			break;
		if (bad)
			continue;
		if (nf != COL_COUNT) {
			csv_error(c, rec_line, 1, "csv-columns", "expected %d fields, found %ld",
					COL_COUNT, nf);
			continue;
		}
		add_row(c, f);
		c->nrows++;
	}
}

int pc_iana_parse(const char *label, const char *data, size_t len, struct pc_layer **out,
		struct pc_diags *diags)
{
	struct pc_buf text;

	pc_buf_init(&text);
	pc_buf_add(&text, "", 1);
	pc_buf_add(&text, data, len);
	int ret = pc_iana_parse_text(label, &text, out, diags);
	pc_buf_finish(&text);
	return ret;
}

int pc_iana_parse_text(const char *label, struct pc_buf *text, struct pc_layer **out,
		struct pc_diags *diags)
{
	struct pc_layer_builder b;
	struct csv c;
	struct field f[FIELD_ROOM];
	bool bad;
	long nf;
	size_t nrows = 0;
	int ret = -1;

	*out = NULL;
	pc_builder_init(&b, PC_LAYER_IANA, label);
	memset(&c, 0, sizeof(c));
	c.label = label;
	c.b = &b;
	c.diags = diags;
	c.line = 1;
	for (int i = 0; i < 256; i++)
		c.cls[i] = i >= 0x80 ? CL_HIGH : CL_PLAIN;
	c.cls[','] = CL_COMMA;
	c.cls['\n'] = CL_LF;
	c.cls['\r'] = CL_CR;
	c.cls['"'] = CL_QUOTE;
	c.cls[0] = CL_NUL;
	for (int i = 0x80; i < 256; i++)
		c.qcls[i] = 1;
	c.qcls['"'] = c.qcls['\n'] = c.qcls['\r'] = c.qcls[0] = 1;

	/* The text is unescaped in place: it becomes the string table. */
	size_t len = text->len - 1;
	pc_builder_adopt(&b, text);
	pc_buf_reserve(&b.strs, 4096 + len / 64); /* canonical names of historic aliases */
	memset(b.strs.data + b.strs.len, 0, PC_CSV_PAD);
	pc_builder_expect(&b, (uint32_t)(len / 32 + 16));
	c.s = b.strs.data;
	c.pos = 1;
	c.end = 1 + len;
	c.line_start = c.pos;
	if (len >= 3 && memcmp(c.s + 1, "\xef\xbb\xbf", 3) == 0)
		c.pos += 3;

	nf = read_record(&c, f, COL_COUNT + 1, &bad);
	if (nf < 0 || (nf == 1 && f[0].len == 0)) {
		pc_diag_add(diags, PC_SEV_ERROR, "csv-empty", label, 1, 1,
				"the registry is empty: expected the header line \"%s,%s,...\"",
				column_names[0], column_names[1]);
		goto out;
	}
	if (bad)
		goto out;
	{
		bool seen[COL_COUNT] = {false};
		bool header_ok = nf == COL_COUNT;

		for (long i = 0; header_ok && i < nf; i++) {
			const char *h = c.s + f[i].off;
			int k;
			for (k = 0; k < COL_COUNT; k++)
				if (!strcmp(h, column_names[k]))
					break;
			if (k == COL_COUNT || seen[k]) {
				header_ok = false;
				break;
			}
			seen[k] = true;
			c.where[k] = (int)i;
			c.identity = i == 0 ? k == 0 : c.identity && k == i;
		}
		if (!header_ok) {
			struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "csv-header", label, 1,
					1,
					"unexpected header: expected the %d columns of the IANA "
					"registry CSV",
					COL_COUNT);
			pc_diag_hint(d,
					"the header names: %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
					"%s, %s",
					column_names[0], column_names[1], column_names[2],
					column_names[3], column_names[4], column_names[5],
					column_names[6], column_names[7], column_names[8],
					column_names[9], column_names[10], column_names[11]);
			goto out;
		}
	}

	parse_rows(&c);
	nrows = c.nrows;
	if (c.nerr)
		goto out;
	if (nrows == 0) {
		pc_diag_add(diags, PC_SEV_ERROR, "csv-empty", label, c.line, 1,
				"the registry has a header but no entries");
		goto out;
	}

	link_aliases(&b);
	uint32_t date = pc_builder_str(&b, c.date, strlen(c.date));
	*out = pc_builder_build(&b, diags);
	(*out)->date = (*out)->strtab + date;
	ret = 0;
out:
	pc_buf_finish(&c.scratch);
	pc_builder_finish(&b);
	return ret;
}

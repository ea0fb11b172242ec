/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * services(5) files: `name port/protocol [alias ...] [# comment]`.
 *
 * The same syntax carries the practice layer shipped with portcullis, where
 * the comment is the mandatory source note and two more forms exist:
 *   `name contested name1,name2 # why`
 * marking a name that people use for different ports,
 *   `daemon-name daemon service1,service2 # source`
 * naming the services a daemon serves (never resolved; a did-you-mean for
 * the daemon's name), and
 *   `name port/protocol [only] [claim] [alias ...] # source`
 * saying that the daemon serves the port over the protocols of the name's
 * practice rows only (`only`), and that the row's names mean the port
 * whatever IANA says of them elsewhere (`claim`).  A practice row may give a range of ports
 * (`49152-65535/tcp`), as IANA's rows do.
 *
 * In system mode a line that cannot be used is skipped with a warning, as
 * the C library skips it; protocols that are not IP transports (ddp) are
 * skipped silently.  In practice mode every problem is an error.
 */
#include <stdarg.h>
#include <string.h>

#include "layer.h"

struct svc {
	const char *label;
	enum pc_services_mode mode;
	struct pc_layer_builder *b;
	struct pc_diags *diags;
	unsigned nerr;
};

static PC_PRINTF(5, 6) void svc_problem(
		struct svc *s, unsigned line, unsigned col, const char *code, const char *fmt, ...)
{
	va_list ap;
	enum pc_severity sev = s->mode == PC_SERVICES_PRACTICE ? PC_SEV_ERROR : PC_SEV_WARNING;

	if (sev == PC_SEV_ERROR)
		s->nerr++;
	va_start(ap, fmt);
	struct pc_diag *d = pc_diag_addv(s->diags, sev, code, s->label, line, col, fmt, ap);
	va_end(ap);
	if (d && sev == PC_SEV_WARNING)
		pc_diag_hint(d, "the line is ignored");
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool non_ip_protocol(const char *p)
{
	return !strcmp(p, "ddp");
}

static bool check_name(
		struct svc *s, const char *tok, unsigned line, unsigned col, const char *what)
{
	size_t n = strlen(tok);

	if (n >= PC_MAX_NAME) {
		svc_problem(s, line, col, "services-syntax", "%s longer than %d characters", what,
				PC_MAX_NAME - 1);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!pc_name_char_ok((unsigned char)tok[i])) {
			svc_problem(s, line, col + (unsigned)i, "services-syntax",
					"%s contains a character that is not allowed in service names",
					what);
			return false;
		}
	}
	return true;
}

/*
 * Practice: `name port/proto only [aliases]` says the daemon serves the port
 * over the protocols of the name's practice rows only; `claim` (after `only`
 * if both) says the row's names mean this port, whatever IANA says of them
 * elsewhere.  Returns the index of the first alias.
 */
static unsigned practice_only(struct svc *s, struct pc_entry *e, char **tok, unsigned ntok)
{
	unsigned i = 2;

	if (s->mode != PC_SERVICES_PRACTICE || !(e->flags & PC_ENTRY_F_PORT))
		return i;
	if (i < ntok && !strcmp(tok[i], "only")) {
		e->flags |= PC_ENTRY_F_ONLY;
		i++;
	}
	if (i < ntok && !strcmp(tok[i], "claim")) {
		e->flags |= PC_ENTRY_F_CLAIM;
		i++;
	}
	return i;
}

/* One line, already NUL-terminated at `text` (the string table at `base`). */
static void parse_line(struct svc *s, char *base, uint32_t text, uint32_t len, unsigned line)
{
	char *p = base + text;
	char *tok[2 + PC_MAX_ALIASES];
	unsigned col[2 + PC_MAX_ALIASES];
	unsigned ntok = 0;
	char *hash = memchr(p, '#', len);
	char *end = hash ? hash : p + len;
	uint32_t comment = 0;

	for (uint32_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\0' || (ch < 0x20 && ch != '\t') || ch == 0x7f) {
			if (ch)
				svc_problem(s, line, i + 1, "services-syntax",
						"control character 0x%02x", ch);
			else
				svc_problem(s, line, i + 1, "services-syntax", "NUL byte");
			return;
		}
		if (ch >= 0x80) {
			size_t n = pc_utf8_seq((const unsigned char *)p + i, len - i);
			if (!n) {
				svc_problem(s, line, i + 1, "services-encoding", "invalid UTF-8");
				return;
			}
			i += (uint32_t)n - 1;
		}
	}
	if (hash) {
		char *c = hash + 1, *e = p + len;
		while (c < e && is_space(*c))
			c++;
		while (e > c && is_space(e[-1]))
			e--;
		*e = '\0';
		if (e > c)
			comment = (uint32_t)(c - base);
		*hash = '\0';
	}
	for (char *q = p; q < end;) {
		while (q < end && is_space(*q))
			*q++ = '\0';
		if (q >= end)
			break;
		if (ntok == PC_ARRAY_SIZE(tok)) {
			svc_problem(s, line, (unsigned)(q - p) + 1, "services-syntax",
					"more than %d aliases", PC_MAX_ALIASES);
			return;
		}
		col[ntok] = (unsigned)(q - p) + 1;
		tok[ntok++] = q;
		while (q < end && !is_space(*q))
			q++;
		if (q < end)
			*q++ = '\0';
	}
	if (ntok == 0)
		return;
	if (ntok == 1) {
		svc_problem(s, line, col[0], "services-syntax",
				"'%s' has no port/protocol (expected: name port/protocol [aliases])",
				tok[0]);
		return;
	}
	if (!check_name(s, tok[0], line, col[0], "service name"))
		return;

	struct pc_entry e;
	memset(&e, 0, sizeof(e));
	e.line = line;
	uint32_t cols[COL_COUNT] = {0};
	cols[COL_NAME] = (uint32_t)(tok[0] - base);

	bool daemon = s->mode == PC_SERVICES_PRACTICE && !strcmp(tok[1], "daemon");
	if (daemon || (s->mode == PC_SERVICES_PRACTICE && !strcmp(tok[1], "contested"))) {
		if (ntok != 3) {
			svc_problem(s, line, col[1], "services-syntax",
					"expected: name %s name1,name2 # %s", tok[1],
					daemon ? "source" : "why");
			return;
		}
		e.state = daemon ? PC_STATE_DAEMON : PC_STATE_CONTESTED;
		e.extra = (uint32_t)(tok[2] - base);
		ntok = 2; /* no aliases */
	} else {
		char *slash = strchr(tok[1], '/');
		if (!slash) {
			svc_problem(s, line, col[1], "services-syntax",
					"'%s' is not port/protocol (e.g. 88/tcp)", tok[1]);
			return;
		}
		*slash = '\0';
		const char *proto = slash + 1;
		if (non_ip_protocol(proto) && s->mode == PC_SERVICES_SYSTEM)
			return;
		int pr = pc_proto_parse(proto);
		if (pr < 0 || strcmp(proto, pc_proto_name((enum pc_proto)pr)) != 0) {
			svc_problem(s, line, col[1] + (unsigned)(slash - tok[1]) + 1,
					"services-syntax",
					"unknown protocol '%s' (expected tcp, udp, sctp or dccp)",
					proto);
			return;
		}
		/* A range (LOW-HIGH, as IANA's x11 6000-6063) only in practice mode. */
		if (pc_parse_port_range(tok[1], strlen(tok[1]), &e.port_lo, &e.port_hi) < 0 ||
				(e.port_lo != e.port_hi && s->mode != PC_SERVICES_PRACTICE)) {
			svc_problem(s, line, col[1], "services-syntax",
					s->mode == PC_SERVICES_PRACTICE
							? "bad port '%s': expected a number from 0 "
							  "to 65535 or a range LOW-HIGH"
							: "bad port '%s': expected a number from 0 "
							  "to 65535",
					tok[1]);
			return;
		}
		if (e.port_lo == 0) {
			svc_problem(s, line, col[1], "port-zero", PC_PORT_ZERO_MSG);
			return;
		}
		e.proto = (uint8_t)pr;
		e.flags |= PC_ENTRY_F_PORT;
	}
	unsigned first = practice_only(s, &e, tok, ntok);
	for (unsigned i = first; i < ntok; i++)
		if (!check_name(s, tok[i], line, col[i], "alias"))
			return;
	if (ntok > first) {
		e.aliases = (uint32_t)(tok[first] - base);
		e.naliases = (uint8_t)(ntok - first);
		/* Make the aliases contiguous: "a\0b\0c\0". */
		char *w = tok[first];
		for (unsigned i = first; i < ntok; i++) {
			size_t n = strlen(tok[i]) + 1;
			memmove(w, tok[i], n);
			w += n;
		}
	}
	if (s->mode == PC_SERVICES_PRACTICE) {
		if (!comment) {
			svc_problem(s, line, (unsigned)len + 1, "practice-source",
					"practice entry '%s' needs a source note after '#'",
					tok[0]);
			return;
		}
		cols[COL_NOTES] = comment;
	} else {
		cols[COL_DESC] = comment;
	}
	e.row = pc_builder_row(s->b, cols); /* may move the string table: `base` is stale */
	*pc_builder_add(s->b) = e;
}

int pc_services_parse(const char *label, const char *data, size_t len, enum pc_services_mode mode,
		struct pc_layer **out, struct pc_diags *diags)
{
	struct pc_buf text;

	pc_buf_init(&text);
	pc_buf_add(&text, "", 1);
	pc_buf_add(&text, data, len);
	int ret = pc_services_parse_text(label, &text, mode, out, diags);
	pc_buf_finish(&text);
	return ret;
}

int pc_services_parse_text(const char *label, struct pc_buf *text, enum pc_services_mode mode,
		struct pc_layer **out, struct pc_diags *diags)
{
	struct pc_layer_builder b;
	struct svc s = {label, mode, &b, diags, 0};
	unsigned line = 1;
	size_t len = text->len - 1;

	*out = NULL;
	pc_builder_init(&b, mode == PC_SERVICES_PRACTICE ? PC_LAYER_PRACTICE : PC_LAYER_SYSTEM,
			label);
	pc_builder_adopt(&b, text);
	pc_buf_add(&b.strs, "", 1); /* a NUL after the last line */
	size_t pos = 1, end = 1 + len;
	if (len >= 3 && memcmp(b.strs.data + 1, "\xef\xbb\xbf", 3) == 0)
		pos += 3;
	while (pos < end) {
		char *lf = memchr(b.strs.data + pos, '\n', end - pos);
		size_t le = lf ? (size_t)(lf - b.strs.data) : end;
		size_t n = le - pos;

		if (n && b.strs.data[le - 1] == '\r')
			n--;
		b.strs.data[pos + n] = '\0';
		parse_line(&s, b.strs.data, (uint32_t)pos, (uint32_t)n, line);
		pos = le + 1;
		line++;
	}
	if (s.nerr) {
		pc_builder_finish(&b);
		return -1;
	}
	*out = pc_builder_build(&b, diags);
	pc_builder_finish(&b);
	return 0;
}

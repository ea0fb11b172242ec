/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address list files, read as a stream: a line at most is held, whatever the
 * file's size, and each address goes to the caller as it is parsed.  The
 * common line (an address, maybe a length and a comment, nothing to say
 * about it) is read where it lies in the block, in one pass; any other line
 * goes to the strict parser, pc_prefix_parse(), which says what is wrong:
 * IPv4 by hand, IPv6 through inet_pton, which is strict enough.  The unit
 * tests and the fuzz target hold the two to the same answers.
 */
#include "portcullis/listfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TOKEN_SHOWN 64 /* bytes of a bad value quoted in a message */
#define BLOCK (64u << 10)

static const char general_hint[] = "one address a line: IPv4 in dotted decimal without leading "
				   "zeros (192.0.2.1), IPv6 as in RFC 4291 (2001:db8::1), each "
				   "with an optional /prefix; `#` begins a comment";

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Four decimal numbers of at most 255, without leading zeros, as inet_pton reads them. */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, nd = 0;
		if (part) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		for (; i < n && is_digit(s[i]) && nd < 4; i++, nd++)
			v = v * 10 + (unsigned)(s[i] - '0');
		if (nd == 0 || nd > 3 || v > 255 || (nd > 1 && s[i - nd] == '0'))
			return false;
		out[part] = (uint8_t)v;
	}
	return i == n;
}

enum pc_addr_status pc_prefix_parse(const char *s, size_t n, struct pc_prefix *out)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	char addr[INET6_ADDRSTRLEN];

	memset(out, 0, sizeof(*out));
	if (memchr(s, '%', alen))
		return PC_ADDR_ZONE;
	if (alen == 0 || alen >= sizeof(addr))
		return PC_ADDR_SYNTAX;
	if (!memchr(s, ':', alen)) {
		if (!parse_ipv4(s, alen, out->bytes))
			return PC_ADDR_SYNTAX;
		out->family = 4;
	} else {
		memcpy(addr, s, alen);
		addr[alen] = '\0';
		if (inet_pton(AF_INET6, addr, out->bytes) != 1)
			return PC_ADDR_SYNTAX;
		out->family = 6;
		if (!memcmp(out->bytes, mapped, sizeof(mapped)))
			return PC_ADDR_MAPPED;
	}
	unsigned max = out->family == 4 ? 32 : 128;
	out->len = (uint8_t)max;
	if (slash) {
		const char *q = slash + 1;
		size_t nd = (size_t)(s + n - q);
		unsigned v = 0;
		if (nd == 0 || nd > 3 || (q[0] == '0' && nd > 1))
			return PC_ADDR_PREFIX;
		for (size_t i = 0; i < nd; i++) {
			if (!is_digit(q[i]))
				return PC_ADDR_PREFIX;
			v = v * 10 + (unsigned)(q[i] - '0');
		}
		if (v > max)
			return PC_ADDR_PREFIX;
		out->len = (uint8_t)v;
	}
	bool host = false;
	for (unsigned bit = out->len; bit < max; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if (out->bytes[bit / 8] & m) {
			host = true;
			out->bytes[bit / 8] &= (uint8_t)~m;
		}
	}
	return host ? PC_ADDR_HOST_BITS : PC_ADDR_OK;
}

void pc_listfile_init(struct pc_listfile *lf, const char *file, struct pc_diags *diags,
		pc_listfile_add *add, void *arg)
{
	memset(lf, 0, sizeof(*lf));
	lf->file = file;
	lf->diags = diags;
	lf->add = add;
	lf->arg = arg;
	lf->buf = xmalloc(PC_LIST_MAX_LINE);
	pc_sha256_init(&lf->sha);
}

void pc_listfile_finish(struct pc_listfile *lf)
{
	free(lf->buf);
	lf->buf = NULL;
	for (size_t i = 0; i < lf->nkept; i++)
		free(lf->kept[i].text);
	lf->nkept = 0;
}

const char *pc_listfile_kept_line(const struct pc_listfile *lf, unsigned line, size_t *len)
{
	for (size_t i = 0; i < lf->nkept; i++) {
		if (lf->kept[i].line == line) {
			*len = lf->kept[i].len;
			return lf->kept[i].text;
		}
	}
	return NULL;
}

static void keep_line(struct pc_listfile *lf, const char *s, size_t n)
{
	if (lf->nkept && lf->kept[lf->nkept - 1].line == lf->line)
		return;
	if (lf->nkept >= PC_LIST_KEPT)
		return;
	lf->kept[lf->nkept++] = (struct pc_listfile_line){lf->line, xstrndup(s, n), n};
}

/*
 * A diagnostic on the current line (`s`, `n` bytes, for the source line
 * under it); NULL past the limits: errors past PC_LIST_MAX_ERRORS stop the
 * reading, warnings past PC_LIST_MAX_WARNINGS are counted for one note.
 */
static PC_PRINTF(7, 8) struct pc_diag *list_diag(struct pc_listfile *lf, const char *s, size_t n,
		enum pc_severity sev, const char *code, unsigned col, const char *fmt, ...)
{
	va_list ap;
	struct pc_diag *d;

	if (sev != PC_SEV_ERROR && lf->warnings >= PC_LIST_MAX_WARNINGS) {
		lf->unsaid++;
		return NULL;
	}
	va_start(ap, fmt);
	d = pc_diag_addv(lf->diags, sev, code, lf->file, lf->line, col, fmt, ap);
	va_end(ap);
	keep_line(lf, s, n);
	if (sev == PC_SEV_ERROR)
		lf->errors++;
	else
		lf->warnings++;
	return d;
}

static void stop_if_spent(struct pc_listfile *lf)
{
	if (lf->errors <= PC_LIST_MAX_ERRORS || lf->stopped)
		return;
	pc_diag_add(lf->diags, PC_SEV_ERROR, "list-limit", lf->file, lf->line, 0,
			"more than %u errors in this list file; stopping", PC_LIST_MAX_ERRORS);
	lf->stopped = true;
}

/* Did-you-mean for a value that is not an address, where one is likely. */
static void hint_for(struct pc_diag *d, const char *t, size_t n)
{
	struct pc_prefix x = {0};
	char fixed[INET6_ADDRSTRLEN + 8];

	if (!d)
		return;
	/* 010.0.0.1: the decimal reading, which inet_aton would not give. */
	size_t w = 0, digits = 0;
	bool dotted = n < sizeof(fixed);
	for (size_t i = 0; dotted && i < n; i++) {
		if (t[i] == '.' || t[i] == '/') {
			if (!digits)
				dotted = false;
			fixed[w++] = t[i];
			digits = 0;
		} else if (is_digit(t[i])) {
			if (t[i] != '0' || digits || i + 1 == n || t[i + 1] == '.' ||
					t[i + 1] == '/')
				fixed[w++] = t[i], digits++;
		} else {
			dotted = false;
		}
	}
	if (dotted && w < n && pc_prefix_parse(fixed, w, &x) <= PC_ADDR_HOST_BITS) {
		pc_diag_hint(d,
				"leading zeros are ambiguous (inet_aton reads 010 as 8): did you "
				"mean %.*s?",
				(int)w, fixed);
		return;
	}
	/* 192.0.2.1, or 192.0.2.1; */
	if (n > 1 && strchr(",;", t[n - 1]) && pc_prefix_parse(t, n - 1, &x) <= PC_ADDR_HOST_BITS) {
		pc_diag_hint(d, "did you mean %.*s? one address a line, with no separator",
				(int)(n - 1), t);
		return;
	}
	/* 192.0.2.1-192.0.2.9 */
	const char *dash = memchr(t, '-', n);
	if (dash && pc_prefix_parse(t, (size_t)(dash - t), &x) <= PC_ADDR_HOST_BITS) {
		pc_diag_hint(d, "ranges are not read: write the prefixes that cover it, one a "
				"line");
		return;
	}
	bool letters = false;
	for (size_t i = 0; i < n; i++)
		letters |= (t[i] >= 'g' && t[i] <= 'z') || (t[i] >= 'G' && t[i] <= 'Z');
	if (letters && memchr(t, '.', n) && !memchr(t, ':', n)) {
		pc_diag_hint(d, "addresses must be literal: portcullis never resolves host names");
		return;
	}
	pc_diag_hint(d, "%s", general_hint);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Hands an address of the current line to the caller, at column `col`. */
static void add_address(struct pc_listfile *lf, struct pc_prefix *x, unsigned col)
{
	lf->addresses++;
	x->where = lf->line;
	x->col = (uint16_t)col;
	lf->add(lf->arg, x);
}

static void parse_line(struct pc_listfile *lf, const char *s, size_t n)
{
	const char *line = s;
	size_t len = n, i = 0;
	struct pc_diag *d;
	int shown;

	if (lf->line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		line += 3; /* a UTF-8 byte order mark */
		len -= 3;
	}
	const char *nul = memchr(line, '\0', len);
	if (nul) {
		list_diag(lf, line, len, PC_SEV_ERROR, "list-syntax", (unsigned)(nul - line) + 1,
				"a NUL byte: a list file is text");
		return;
	}
	while (i < len && is_blank(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return;
	size_t start = i;
	while (i < len && !is_blank(line[i]) && line[i] != '#')
		i++;
	const char *t = line + start;
	size_t tn = i - start;
	unsigned col = (unsigned)start + 1;
	shown = tn > TOKEN_SHOWN ? TOKEN_SHOWN : (int)tn;
	const char *more = tn > TOKEN_SHOWN ? "..." : "";
	struct pc_prefix x;
	enum pc_addr_status st = pc_prefix_parse(t, tn, &x);
	switch (st) {
	case PC_ADDR_OK:
	case PC_ADDR_HOST_BITS:
		break;
	case PC_ADDR_SYNTAX:
		d = list_diag(lf, line, len, PC_SEV_ERROR, "address-syntax", col,
				"'%.*s%s': expected an IPv4 or IPv6 address or prefix", shown, t,
				more);
		hint_for(d, t, tn);
		return;
	case PC_ADDR_ZONE:
		list_diag(lf, line, len, PC_SEV_ERROR, "address-syntax", col,
				"'%.*s%s' is not an address: zone indexes (%%eth0) are not allowed",
				shown, t, more);
		return;
	case PC_ADDR_MAPPED:
		d = list_diag(lf, line, len, PC_SEV_ERROR, "address-mapped", col,
				"'%.*s%s' is an IPv4-mapped IPv6 address", shown, t, more);
		pc_diag_hint(d, "write the IPv4 address itself: %u.%u.%u.%u", x.bytes[12],
				x.bytes[13], x.bytes[14], x.bytes[15]);
		return;
	case PC_ADDR_PREFIX:
		list_diag(lf, line, len, PC_SEV_ERROR, "address-prefix", col,
				"'%.*s%s': the prefix length must be 0 to %u for IPv%u", shown, t,
				more, x.family == 4 ? 32 : 128, x.family);
		return;
	}
	while (i < len && is_blank(line[i]))
		i++;
	if (i < len && line[i] != '#') {
		size_t e = i;
		while (e < len && !is_blank(line[e]) && line[e] != '#')
			e++;
		d = list_diag(lf, line, len, PC_SEV_ERROR, "list-syntax", (unsigned)i + 1,
				"'%.*s%s' follows the address: one address a line",
				e - i > TOKEN_SHOWN ? TOKEN_SHOWN : (int)(e - i), line + i,
				e - i > TOKEN_SHOWN ? "..." : "");
		pc_diag_hint(d, "put each address on its own line; `#` begins a comment");
		return;
	}
	if (st == PC_ADDR_HOST_BITS) {
		char a[PC_ADDR_TEXT_MAX];
		pc_prefix_addr(a, &x);
		d = list_diag(lf, line, len, PC_SEV_WARNING, "address-host-bits", col,
				"'%.*s%s' has host bits set; it means %s/%u", shown, t, more, a,
				x.len);
		pc_diag_hint(d, "write %s/%u", a, x.len);
	}
	add_address(lf, &x, col);
}

bool pc_ipv4_quad(const unsigned char **pp, const unsigned char *e, uint8_t out[4])
{
	const unsigned char *p = *pp;
	unsigned v;

	for (int part = 0; part < 4; part++) {
		if (part && (p == e || *p++ != '.'))
			return false;
		if (p == e || (v = (unsigned)(*p - '0')) > 9)
			return false;
		/* at most three digits, none after a leading zero: a fourth is refused later */
		if (++p < e && v && (unsigned)(*p - '0') <= 9) {
			v = v * 10 + (unsigned)(*p++ - '0');
			if (p < e && (unsigned)(*p - '0') <= 9)
				v = v * 10 + (unsigned)(*p++ - '0');
		}
		if (v > 255)
			return false;
		out[part] = (uint8_t)v;
	}
	*pp = p;
	return true;
}

static int hex_value(unsigned char c)
{
	if ((unsigned)(c - '0') <= 9)
		return c - '0';
	c |= 0x20;
	return (unsigned)(c - 'a') < 6 ? c - 'a' + 10 : -1;
}

/*
 * Groups of one to four hex digits, eight of them or fewer around one `::`
 * standing for one group at least, without an IPv4 tail: the forms
 * inet_pton() reads that lists hold.  Not an IPv4-mapped address (refused,
 * with a hint, by the strict parser).
 */
static bool quick_ipv6(const unsigned char **pp, const unsigned char *e, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *p = *pp;
	unsigned group[8];
	int ng = 0, gap = -1;
	bool need = true; /* a group must come next */

	if (p < e && *p == ':') {
		if (p + 1 == e || p[1] != ':')
			return false;
		gap = 0;
		need = false;
		p += 2;
	}
	for (;;) {
		unsigned v = 0, nd = 0;
		int h;
		while (p < e && nd < 5 && (h = hex_value(*p)) >= 0) {
			v = v << 4 | (unsigned)h;
			p++;
			nd++;
		}
		if (nd == 0) {
			if (need)
				return false;
			break;
		}
		if (nd > 4 || ng == 8)
			return false;
		group[ng++] = v;
		if (p == e || *p != ':')
			break;
		if (++p < e && *p == ':') {
			if (gap >= 0)
				return false;
			gap = ng;
			need = false;
			p++;
		} else {
			need = true;
		}
	}
	if (gap < 0 ? ng != 8 : ng > 7)
		return false;
	for (int i = 0; i < ng; i++) {
		int at = gap >= 0 && i >= gap ? 8 - ng + i : i;
		out[2 * at] = (uint8_t)(group[i] >> 8);
		out[2 * at + 1] = (uint8_t)group[i];
	}
	if (!memcmp(out, mapped, sizeof(mapped)))
		return false;
	*pp = p;
	return true;
}

/*
 * The common line, read where it lies in the block: an address at the
 * line's start (IPv4 in dotted decimal, IPv6 in groups), an optional /LEN,
 * optional blanks and a comment, the line's end in the block.  Returns the
 * bytes of the line with its newline, or 0 for any other line (or one this
 * does not accept whole: host bits, a NUL, past the length limit), which
 * the strict parser then reads and says what is wrong with: only a line it
 * would read without a word is taken here.
 */
static size_t quick_line(const char *s, size_t n, struct pc_prefix *x)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	unsigned len, max;

	memset(x->bytes, 0, sizeof(x->bytes));
	if (pc_ipv4_quad(&p, e, x->bytes)) {
		max = 32;
	} else {
		memset(x->bytes, 0, sizeof(x->bytes));
		if (!quick_ipv6(&p, e, x->bytes))
			return 0;
		max = 128;
	}
	len = max;
	if (p < e && *p == '/') {
		if (++p == e || (len = (unsigned)(*p - '0')) > 9)
			return 0;
		/* two more digits at most, none after a leading zero: another is refused below */
		p++;
		for (int more = 0; more < 2 && len && p < e && (unsigned)(*p - '0') <= 9; more++)
			len = len * 10 + (unsigned)(*p++ - '0');
		if (len > max)
			return 0;
		/* host bits: the strict parser warns of them */
		for (unsigned i = len / 8; i < max / 8; i++)
			if (x->bytes[i] & (uint8_t) ~(i == len / 8 ? 0xff00u >> (len % 8) : 0))
				return 0;
	}
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p < e && *p == '#') {
		const unsigned char *nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl || memchr(p, '\0', (size_t)(nl - p)))
			return 0;
		p = nl;
	}
	if (p == e || *p != '\n' || (size_t)(p - (const unsigned char *)s) >= PC_LIST_MAX_LINE)
		return 0;
	x->family = max == 32 ? 4 : 6;
	x->len = (uint8_t)len;
	return (size_t)(p - (const unsigned char *)s) + 1;
}

/* Begins a line; false when the file has too many. */
static bool next_line(struct pc_listfile *lf)
{
	if (lf->line >= PC_LIST_MAX_LINES) {
		pc_diag_add(lf->diags, PC_SEV_ERROR, "list-limit", lf->file, lf->line, 0,
				"more than %u lines: a list file holds at most %u",
				PC_LIST_MAX_LINES, PC_LIST_MAX_LINES);
		lf->stopped = true;
		return false;
	}
	lf->line++;
	return true;
}

static void too_long(struct pc_listfile *lf)
{
	struct pc_diag *d =
			list_diag(lf, lf->buf, 0, PC_SEV_ERROR, "list-limit", PC_LIST_MAX_LINE + 1,
					"this line is longer than %u bytes", PC_LIST_MAX_LINE);
	pc_diag_hint(d, "one address a line; a comment that long belongs elsewhere");
	lf->skipping = true;
	lf->len = 0;
}

int pc_listfile_feed(struct pc_listfile *lf, const char *data, size_t n)
{
	if (lf->stopped)
		return -1;
	pc_sha256_update(&lf->sha, data, n);
	lf->bytes += n;
	while (n && !lf->stopped) {
		if (lf->len == 0 && !lf->skipping) {
			struct pc_prefix x;
			size_t used = quick_line(data, n, &x);
			if (used) {
				if (next_line(lf))
					add_address(lf, &x, 1);
				data += used;
				n -= used;
				continue;
			}
		}
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (lf->skipping) {
			/* the rest of a line said to be too long */
		} else if (lf->len == 0 && nl && take < PC_LIST_MAX_LINE) {
			/* The whole line is in this block: parsed where it lies. */
			if (next_line(lf))
				parse_line(lf, data, take);
		} else if (lf->len + take >= PC_LIST_MAX_LINE) {
			if (next_line(lf))
				too_long(lf);
		} else {
			memcpy(lf->buf + lf->len, data, take);
			lf->len += take;
			if (nl && next_line(lf))
				parse_line(lf, lf->buf, lf->len);
			if (nl)
				lf->len = 0;
		}
		stop_if_spent(lf);
		if (!nl)
			break;
		lf->skipping = false;
		data = nl + 1;
		n -= take + 1;
	}
	return lf->stopped ? -1 : 0;
}

int pc_listfile_end(struct pc_listfile *lf, char hex[65])
{
	if (!lf->stopped && lf->len && next_line(lf)) {
		parse_line(lf, lf->buf, lf->len);
		lf->len = 0;
		stop_if_spent(lf);
	}
	if (lf->unsaid && !lf->stopped)
		pc_diag_add(lf->diags, PC_SEV_NOTE, "address-host-bits", lf->file, 0, 0,
				"%u more warnings of this list file not shown", lf->unsaid);
	pc_sha256_hex(&lf->sha, hex);
	return lf->stopped ? -1 : 0;
}

int pc_listfile_read_fd(struct pc_listfile *lf, int fd, char hex[65])
{
	char *block = xmalloc(BLOCK);
	off_t at = 0;
	int ret = 0;

	for (;;) {
		ssize_t got = pread(fd, block, BLOCK, at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -2;
			break;
		}
		if (got == 0)
			break;
		if ((uint64_t)at + (uint64_t)got > PC_LIST_MAX_BYTES) {
			pc_diag_add(lf->diags, PC_SEV_ERROR, "list-limit", lf->file, lf->line, 0,
					"larger than %u MiB: a list file holds at most that",
					PC_LIST_MAX_BYTES >> 20);
			lf->stopped = true;
			break;
		}
		at += got;
		if (pc_listfile_feed(lf, block, (size_t)got) < 0)
			break;
	}
	free(block);
	if (ret == 0 && pc_listfile_end(lf, hex) < 0)
		ret = -1;
	return ret;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "portcullis/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * Every code a diagnostic can carry, sorted: --Wno-CODE is checked against it,
 * and tests/cli/diag-codes.py checks it against the sources.
 */
const char *const pc_diag_codes[] = {
		"acknowledge-code",
		"acknowledge-error",
		"acknowledge-reason",
		"acknowledge-stale",
		"address-host-bits",
		"address-mapped",
		"address-prefix",
		"address-syntax",
		"ambiguous-service",
		"anywhere-one-family",
		"contested",
		"csv-columns",
		"csv-empty",
		"csv-empty-row",
		"csv-encoding",
		"csv-header",
		"csv-name",
		"csv-nul",
		"csv-port",
		"csv-protocol",
		"csv-quote",
		"csv-stray-cr",
		"csv-too-many-errors",
		"csv-unterminated",
		"definition-alias",
		"definition-replaces",
		"duplicate-protocol",
		"duplicate-row",
		"duplicate-service",
		"historic-alias",
		"include-cycle",
		"include-depth",
		"include-limit",
		"include-read",
		"include-refused",
		"include-scope",
		"io",
		"ipt-expanded",
		"ipt-family",
		"ipt-interface",
		"ipt-name",
		"kdc-conf-addresses",
		"kdc-conf-disabled",
		"kdc-conf-iprop",
		"kdc-conf-kerberos4",
		"kdc-conf-read",
		"kdc-conf-realm",
		"kdc-conf-realms",
		"kdc-conf-value",
		"multi-port",
		"name-conflict",
		"nd-dropped",
		"network-cycle",
		"network-duplicate",
		"network-name",
		"network-overlap",
		"network-unknown",
		"network-unused",
		"nft-name",
		"no-port",
		"open-to-anywhere",
		"override-duplicate",
		"override-port",
		"override-protocol",
		"override-syntax",
		"pf-forward",
		"pf-interface",
		"pf-proto",
		"policy-name",
		"policy-owner",
		"policy-permissions",
		"port-all",
		"port-conflict",
		"port-protocol",
		"port-reserved",
		"port-syntax",
		"port-unassigned",
		"port-zero",
		"practice-only",
		"practice-source",
		"profile-encoding",
		"profile-include",
		"profile-limit",
		"profile-syntax",
		"protocol-conflict",
		"protocol-implied",
		"protocol-not-listed",
		"protocol-unknown",
		"registry-conflict",
		"replies-dropped",
		"rule-action",
		"rule-duplicate",
		"rule-interface",
		"rule-limit",
		"rule-no-match",
		"rule-peer",
		"rule-redundant",
		"rule-shadowed",
		"schema-empty",
		"schema-missing",
		"schema-type",
		"schema-unknown-key",
		"schema-value",
		"schema-version",
		"service-cycle",
		"service-duplicate",
		"service-group-limit",
		"service-name",
		"service-port-duplicate",
		"service-unused",
		"services-encoding",
		"services-syntax",
		"unauthorized-use",
		"unknown-service",
		"yaml-anchor",
		"yaml-character",
		"yaml-complex-key",
		"yaml-documents",
		"yaml-duplicate-key",
		"yaml-empty",
		"yaml-encoding",
		"yaml-limit",
		"yaml-merge",
		"yaml-syntax",
		"yaml-tab",
		"yaml-tag",
};
const size_t pc_diag_ncodes = PC_ARRAY_SIZE(pc_diag_codes);

bool pc_diag_code_known(const char *code, const char **nearest)
{
	unsigned best = 3;

	if (nearest)
		*nearest = NULL;
	for (size_t i = 0; i < pc_diag_ncodes; i++) {
		unsigned dist = pc_edit_distance(code, pc_diag_codes[i], 2);
		if (dist == 0)
			return true;
		if (nearest && dist < best) {
			best = dist;
			*nearest = pc_diag_codes[i];
		}
	}
	return false;
}

static void count(struct pc_diags *d, enum pc_severity sev, int by)
{
	if (sev == PC_SEV_ERROR)
		d->nerrors += (size_t)by;
	else if (sev == PC_SEV_WARNING)
		d->nwarnings += (size_t)by;
}

static void release(struct pc_diag *r)
{
	free(r->file);
	free(r->msg);
	free(r->hint);
}

void pc_diags_init(struct pc_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void pc_diags_finish(struct pc_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		release(&d->v[i]);
	free(d->v);
	pc_diags_init(d);
}

PC_PRINTF(1, 0) static char *vformat(const char *fmt, va_list ap)
{
	va_list aq;
	int n;
	char *s;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return xstrdup(fmt);
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

struct pc_diag *pc_diag_add(struct pc_diags *d, enum pc_severity sev, const char *code,
		const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	struct pc_diag *r;
	va_list ap;

	va_start(ap, fmt);
	r = pc_diag_addv(d, sev, code, file, line, col, fmt, ap);
	va_end(ap);
	return r;
}

struct pc_diag *pc_diag_addv(struct pc_diags *d, enum pc_severity sev, const char *code,
		const char *file, unsigned line, unsigned col, const char *fmt, va_list ap)
{
	struct pc_diag *r;

	count(d, sev, 1);
	if (d->max && d->n >= d->max) {
		d->dropped++;
		return NULL;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	r = &d->v[d->n++];
	r->sev = sev;
	r->code = code;
	r->file = file ? xstrdup(file) : NULL;
	r->line = line;
	r->col = col;
	r->msg = vformat(fmt, ap);
	r->hint = NULL;
	r->acknowledged = false;
	return r;
}

void pc_diags_set_severity(struct pc_diags *d, size_t i, enum pc_severity sev)
{
	if (i >= d->n)
		return;
	if (d->v[i].acknowledged) {
		d->v[i].sev = sev; /* counted in nacknowledged either way */
		return;
	}
	count(d, d->v[i].sev, -1);
	d->v[i].sev = sev;
	count(d, sev, 1);
}

bool pc_diags_acknowledge(struct pc_diags *d, size_t i)
{
	if (i >= d->n || d->v[i].sev == PC_SEV_ERROR)
		return false;
	if (!d->v[i].acknowledged) {
		count(d, d->v[i].sev, -1);
		d->v[i].acknowledged = true;
		d->nacknowledged++;
	}
	return true;
}

void pc_diags_filter(struct pc_diags *d, const char *const *codes, size_t ncodes, bool strict,
		size_t keep)
{
	size_t w = 0;

	/* What remains of the counters once every stored record is taken out: the dropped. */
	for (size_t i = 0; i < d->n; i++)
		if (!d->v[i].acknowledged)
			count(d, d->v[i].sev, -1);
	if (strict) {
		d->nerrors += d->nwarnings;
		d->nwarnings = 0;
	}
	d->dropped = 0;
	for (size_t i = 0; i < d->n; i++) {
		struct pc_diag *x = &d->v[i];
		bool silenced = x->acknowledged;

		for (size_t k = 0; k < ncodes && x->sev == PC_SEV_WARNING; k++)
			silenced |= x->code && !strcmp(x->code, codes[k]);
		if (silenced) {
			release(x);
			continue;
		}
		if (strict && x->sev == PC_SEV_WARNING)
			x->sev = PC_SEV_ERROR;
		count(d, x->sev, 1);
		if (keep && w == keep) {
			d->dropped++;
			release(x);
			continue;
		}
		d->v[w++] = *x;
	}
	d->n = w;
}

void pc_diag_hint(struct pc_diag *diag, const char *fmt, ...)
{
	va_list ap;

	if (!diag)
		return;
	free(diag->hint);
	va_start(ap, fmt);
	diag->hint = vformat(fmt, ap);
	va_end(ap);
}

const char *pc_severity_name(enum pc_severity sev)
{
	switch (sev) {
	case PC_SEV_NOTE:
		return "note";
	case PC_SEV_WARNING:
		return "warning";
	case PC_SEV_ERROR:
		return "error";
	}
	return "?";
}

void pc_fputs_escaped(const char *s, FILE *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n) {
		size_t len = pc_utf8_seq(p, n);

		if (len == 1 && *p == '\n')
			fputs("\\n", out);
		else if (len == 1 && *p == '\r')
			fputs("\\r", out);
		else if (len == 1 && *p == '\t')
			fputs("\\t", out);
		else if (len == 1 && (*p < 0x20 || *p == 0x7f))
			fprintf(out, "\\x%02x", *p);
		else if (len == 0)
			fprintf(out, "\\x%02x", *p);
		else if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			fprintf(out, "\\u%04x", p[1]); /* C1 controls, U+0085 among them */
		else if (len == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
				(p[2] == 0xa8 || p[2] == 0xa9 || (p[2] >= 0x8b && p[2] <= 0x8f) ||
						(p[2] >= 0xaa && p[2] <= 0xae)))
			fprintf(out, "\\u20%02x", p[2] - 0x80); /* line/para separators, bidi */
		else
			fwrite(p, 1, len, out);
		if (len == 0)
			len = 1;
		p += len;
		n -= len;
	}
}

void pc_diags_print(const struct pc_diags *d, FILE *out)
{
	pc_diags_print_with(d, out, NULL, NULL);
}

void pc_diags_print_with(const struct pc_diags *d, FILE *out,
		void (*context)(const struct pc_diag *r, FILE *out, void *arg), void *arg)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *r = &d->v[i];

		if (r->file) {
			pc_fputs_escaped(r->file, out);
			if (r->line)
				fprintf(out, ":%u", r->line);
			if (r->line && r->col)
				fprintf(out, ":%u", r->col);
			fputs(": ", out);
		}
		fprintf(out, "%s: ", pc_severity_name(r->sev));
		pc_fputs_escaped(r->msg, out);
		if (r->code)
			fprintf(out, " [%s]", r->code);
		fputc('\n', out);
		if (context)
			context(r, out, arg);
		if (r->hint) {
			fputs("  hint: ", out);
			pc_fputs_escaped(r->hint, out);
			fputc('\n', out);
		}
	}
	if (d->dropped)
		fprintf(out, "(%zu more diagnostics not shown)\n", d->dropped);
}

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
		"allowed-not-listening",
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
		"list-empty",
		"list-limit",
		"list-read",
		"list-syntax",
		"listening-dropped",
		"listening-owner",
		"listening-restricted",
		"multi-port",
		"name-conflict",
		"nd-dropped",
		"network-cycle",
		"network-duplicate",
		"network-limit",
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

/*
 * What each code is about, in one line, for reports that describe their
 * rules (SARIF's shortDescription): the codes of pc_diag_codes, in its
 * order (tests/cli/diag-codes.py checks it).
 */
const struct pc_diag_code_text pc_diag_code_texts[] = {
		{"acknowledge-code", "An acknowledgement names a code no diagnostic carries"},
		{"acknowledge-error",
				"An acknowledgement covers an error, which cannot be acknowledged"},
		{"acknowledge-reason", "An acknowledgement gives no reason"},
		{"acknowledge-stale", "An acknowledgement covers no finding any more"},
		{"address-host-bits", "A prefix has host bits set; read as its network"},
		{"address-mapped", "An IPv4-mapped IPv6 address, which no packet carries"},
		{"address-prefix", "A prefix length out of range for its family"},
		{"address-syntax", "Not an IPv4 or IPv6 address or prefix"},
		{"allowed-not-listening",
				"An input rule allows a port on which no socket of the host listens"},
		{"ambiguous-service", "Registry layers put the service name on different ports"},
		{"anywhere-one-family",
				"A source covers every address of one family and none of the other"},
		{"contested", "The practice layer marks the service name contested"},
		{"csv-columns", "An IANA CSV row with the wrong number of fields"},
		{"csv-empty", "An empty IANA CSV"},
		{"csv-empty-row", "An IANA CSV row with neither a name nor a port"},
		{"csv-encoding", "An IANA CSV that is not valid UTF-8"},
		{"csv-header", "An IANA CSV without the registry's header"},
		{"csv-name", "An IANA CSV row with an unusable service name"},
		{"csv-nul", "An IANA CSV with a NUL byte"},
		{"csv-port", "An IANA CSV row with an unusable port"},
		{"csv-protocol", "An IANA CSV row with an unusable transport protocol"},
		{"csv-quote", "An IANA CSV with a misplaced quote"},
		{"csv-stray-cr", "An IANA CSV with a carriage return without a line feed"},
		{"csv-too-many-errors", "An IANA CSV with so many errors that reading stopped"},
		{"csv-unterminated", "An IANA CSV with an unterminated quoted field"},
		{"definition-alias", "A definition gives exactly the ports of one IANA service"},
		{"definition-replaces", "A definition replaces what a lower registry layer says"},
		{"duplicate-protocol", "A protocol listed twice"},
		{"duplicate-row", "A registry row given twice; the second is ignored"},
		{"duplicate-service", "A port already in the rule, from another service"},
		{"historic-alias", "The service name is one of IANA's historic aliases"},
		{"include-cycle", "An include that includes itself"},
		{"include-depth", "Includes nested too deep"},
		{"include-limit", "Includes past the limits on files, size or path components"},
		{"include-read", "An include that cannot be read"},
		{"include-refused",
				"An include refused: a device, a planted link, or out of reach"},
		{"include-scope", "An included file holds what belongs in the policy itself"},
		{"io", "A file cannot be read"},
		{"ipt-expanded", "iptables has no sets: a rule became several"},
		{"ipt-family", "A rule of one family only: in the other family's iptables file"},
		{"ipt-interface", "Interfaces iptables cannot express: the rule is left out"},
		{"ipt-name", "The table name makes an iptables chain name too long"},
		{"kdc-conf-addresses",
				"A rule's destinations narrowed to the KDC's listen addresses, or not"},
		{"kdc-conf-disabled", "A rule allows a service the KDC configuration turns off"},
		{"kdc-conf-iprop", "iprop enabled without a port, or with no rule allowing it"},
		{"kdc-conf-kerberos4",
				"The KDC configuration opens 750 (Kerberos IV compatibility)"},
		{"kdc-conf-read", "The KDC configuration cannot be read or has errors"},
		{"kdc-conf-realm", "The realm named is not in the KDC configuration"},
		{"kdc-conf-realms", "Several realms: their ports taken together"},
		{"kdc-conf-value",
				"A port or address of a KDC configuration relation cannot be read"},
		{"list-empty", "A network's list file holds no address"},
		{"list-limit", "A list file past its limits on size, lines, line length or errors"},
		{"list-read", "A list file that changed while it was read"},
		{"list-syntax", "A line of a list file that is not one address: a NUL byte, two values"},
		{"listening-dropped",
				"A socket listens on an address other than loopback, and input drops "
				"it from every source"},
		{"listening-owner", "The process holding a listening socket could not be found"},
		{"listening-restricted",
				"A listening socket is reached only from the sources some rules name"},
		{"multi-port", "The deciding registry layer gives the service name several ports"},
		{"name-conflict", "Another registry layer puts the same name on other ports"},
		{"nd-dropped", "IPv6 neighbour discovery is dropped: IPv6 reaches no neighbour"},
		{"network-cycle", "A network contains itself"},
		{"network-duplicate", "A network defined twice"},
		{"network-limit", "Networks naming networks nested too deep"},
		{"network-name", "A network name that cannot be used safely in a ruleset"},
		{"network-overlap",
				"An address already inside another of the same rule or network"},
		{"network-unknown", "A network name the policy does not define"},
		{"network-unused", "A network no rule uses"},
		{"nft-name", "The table name cannot name an nft table"},
		{"no-port", "The service name is registered without a port"},
		{"open-to-anywhere", "A guarded administrative port is open to every address"},
		{"override-duplicate", "A name given to --define twice"},
		{"override-port", "A --define with a bad port"},
		{"override-protocol", "A --define with an unknown protocol"},
		{"override-syntax", "A malformed --define"},
		{"pf-forward", "pf has no forward hook: a forward rule is left out"},
		{"pf-interface", "Interfaces pf cannot express: the rule is left out"},
		{"pf-proto", "pf matches ports of tcp and udp only: other ports are left out"},
		{"policy-name", "A policy name that cannot be used safely in a ruleset"},
		{"policy-owner", "A policy file owned by neither the caller nor root"},
		{"policy-permissions", "A policy file every user may write"},
		{"port-all", "A port range that opens every port"},
		{"port-conflict", "Registry layers give the port to different services"},
		{"port-protocol", "A port without a protocol"},
		{"port-reserved", "IANA lists the port as Reserved"},
		{"port-syntax", "Not a port or a port range"},
		{"port-unassigned", "IANA lists the port as Unassigned"},
		{"port-zero", "Port 0, which cannot be matched"},
		{"practice-only",
				"The daemon serves the port over some of the registry's protocols only"},
		{"practice-source", "A practice-layer row without its source"},
		{"profile-encoding", "A krb5 profile with a NUL, control or invalid UTF-8 byte"},
		{"profile-include", "A krb5 profile include or includedir that cannot be followed"},
		{"profile-limit", "A krb5 profile over a limit (size, files, depth, line length)"},
		{"profile-syntax", "A krb5 profile line that is not a section, relation or brace"},
		{"protocol-conflict",
				"A service written with a protocol the rule's protocol leaves out"},
		{"protocol-implied", "A service name opened protocols the rule did not write"},
		{"protocol-not-listed", "Nothing the service names is on the rule's protocol"},
		{"protocol-unknown", "An unknown protocol"},
		{"registry-conflict", "IANA assigns the resolved port to another service"},
		{"replies-dropped", "The defaults drop the replies to what a rule accepts"},
		{"rule-action", "A rule without exactly one action"},
		{"rule-duplicate", "A rule repeats an earlier one"},
		{"rule-interface", "An interface a rule cannot use"},
		{"rule-limit", "Not a rate"},
		{"rule-no-match", "A rule that matches no packet"},
		{"rule-peer", "A rule names peers its direction does not have"},
		{"rule-redundant", "A rule the default makes redundant"},
		{"rule-shadowed", "An earlier rule matches every packet of this one"},
		{"schema-empty", "An empty value where one is needed"},
		{"schema-missing", "A required key is missing"},
		{"schema-type", "A value of the wrong type"},
		{"schema-unknown-key", "A key policies do not have"},
		{"schema-value", "A value out of those allowed"},
		{"schema-version", "An unsupported policy version"},
		{"service-cycle", "A service group contains itself"},
		{"service-duplicate", "A service defined twice"},
		{"service-group-limit", "Service groups nested too deep or expanding too far"},
		{"service-name", "A service name that cannot be used safely in a ruleset"},
		{"service-port-duplicate", "A definition lists one port twice"},
		{"service-unused", "A service definition no rule uses"},
		{"services-encoding", "A services file line that is not valid UTF-8"},
		{"services-syntax", "A services file line that cannot be used"},
		{"unauthorized-use", "IANA reports unauthorized use of the port"},
		{"unknown-service", "No registry layer knows the service name"},
		{"yaml-anchor", "YAML anchors and aliases, not used in policies"},
		{"yaml-character", "A character policies may not hold"},
		{"yaml-complex-key", "A YAML key that is not a scalar"},
		{"yaml-documents", "More than one YAML document"},
		{"yaml-duplicate-key", "A key repeated in one mapping"},
		{"yaml-empty", "An empty policy"},
		{"yaml-encoding", "A policy that is not UTF-8"},
		{"yaml-limit", "A policy past a limit on size, nesting or values"},
		{"yaml-merge", "YAML merge keys, not used in policies"},
		{"yaml-syntax", "Not readable YAML"},
		{"yaml-tab", "Tabs used for indentation"},
		{"yaml-tag", "YAML tags, not used in policies"},
};
_Static_assert(PC_ARRAY_SIZE(pc_diag_code_texts) == PC_ARRAY_SIZE(pc_diag_codes),
		"every code has a description");

const char *pc_diag_code_text(const char *code)
{
	size_t lo = 0, hi = PC_ARRAY_SIZE(pc_diag_code_texts);

	while (code && lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(pc_diag_code_texts[mid].code, code);
		if (c == 0)
			return pc_diag_code_texts[mid].text;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

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
	free(r->reason);
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
	r->reason = NULL;
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

bool pc_diags_acknowledge_because(struct pc_diags *d, size_t i, const char *reason)
{
	if (!pc_diags_acknowledge(d, i))
		return false;
	if (reason && !d->v[i].reason)
		d->v[i].reason = xstrdup(reason);
	return true;
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

/* Whether record x is silenced: acknowledged (unless kept as such), or a warning of `codes`. */
static bool silenced_by(const struct pc_diags *d, const struct pc_diag *x, const char *const *codes,
		size_t ncodes)
{
	if (x->acknowledged)
		return !d->keep_acknowledged;
	for (size_t k = 0; k < ncodes && x->sev == PC_SEV_WARNING; k++)
		if (x->code && !strcmp(x->code, codes[k]))
			return true;
	return false;
}

void pc_diags_filter(struct pc_diags *d, const char *const *codes, size_t ncodes, bool strict,
		size_t keep)
{
	size_t w = 0, errors = 0;

	/* What remains of the counters once every stored record is taken out: the dropped. */
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *x = &d->v[i];
		if (!x->acknowledged)
			count(d, x->sev, -1);
		if (!x->acknowledged && !silenced_by(d, x, codes, ncodes))
			errors += x->sev == PC_SEV_ERROR || (strict && x->sev == PC_SEV_WARNING);
	}
	if (strict) {
		d->nerrors += d->nwarnings;
		d->nwarnings = 0;
	}
	d->dropped = 0;
	/* Of the `keep` shown, the errors first: warnings never hide one. */
	size_t room_errors = keep && errors > keep ? keep : errors;
	size_t room_others = keep ? keep - room_errors : SIZE_MAX;
	for (size_t i = 0; i < d->n; i++) {
		struct pc_diag *x = &d->v[i];
		bool silenced = silenced_by(d, x, codes, ncodes);

		if (x->acknowledged && !silenced) {
			d->v[w++] = *x;
			continue;
		}
		if (silenced) {
			release(x);
			continue;
		}
		if (strict && x->sev == PC_SEV_WARNING)
			x->sev = PC_SEV_ERROR;
		count(d, x->sev, 1);
		size_t *room = x->sev == PC_SEV_ERROR ? &room_errors : &room_others;
		if (keep && !*room) {
			d->dropped++;
			release(x);
			continue;
		}
		if (keep)
			--*room;
		d->v[w++] = *x;
	}
	d->n = w;
}

void pc_diags_take(struct pc_diags *to, struct pc_diags *from)
{
	if (from->n) {
		to->v = xreallocarray(to->v, to->n + from->n, sizeof(*to->v));
		memcpy(to->v + to->n, from->v, from->n * sizeof(*from->v));
		to->n += from->n;
		to->cap = to->n;
	}
	to->nerrors += from->nerrors;
	to->nwarnings += from->nwarnings;
	to->nacknowledged += from->nacknowledged;
	to->dropped += from->dropped;
	free(from->v);
	from->v = NULL;
	from->n = from->cap = 0;
	from->nerrors = from->nwarnings = from->nacknowledged = from->dropped = 0;
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

		if (r->acknowledged)
			continue;
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

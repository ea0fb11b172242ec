/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Findings about resolved rules that no single name or address shows: a
 * sensitive port open to a whole address family, a rule no packet can match.
 * Every finding is a warning at the policy line it is about.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

static PC_PRINTF(5, 6) struct pc_diag *ldiag(struct pc_diags *diags, enum pc_severity sev,
		const char *code, const struct pc_loc *at, const char *fmt, ...)
{
	va_list ap;
	struct pc_diag *d;

	va_start(ap, fmt);
	d = pc_diag_addv(diags, sev, code, at->file, at->line, at->col, fmt, ap);
	va_end(ap);
	return d;
}

/*
 * The ports an administrator must never open to everybody, each with the
 * names it goes by (the first is the one messages use).  A rule is judged by
 * its ports, so a number, a range or another name for the port counts too,
 * and by its names, so a definition moving one of them elsewhere does as well.
 */
static const struct sensitive {
	uint16_t port;
	const char *names[5];
} sensitive[] = {
		{22, {"ssh", NULL}},
		{749, {"kerberos-adm", NULL}},
		{751, {"kerberos-master", "kerberos_master", NULL}},
		{754, {"krb5_prop", "krb_prop", "krb-prop", "hprop", NULL}},
		{2121, {"iprop", NULL}},
};

static bool sensitive_named(const struct sensitive *s, const char *name)
{
	for (int i = 0; name && s->names[i]; i++)
		if (pc_streq_fold(name, s->names[i]))
			return true;
	return false;
}

/*
 * Whether a normalised list of prefixes of one family (sorted, none inside
 * another) covers every address of it: each prefix must start where the one
 * before it ended, and the last must end at the top of the space.
 */
static bool family_covered(const struct pc_prefix *v, size_t n, unsigned bits)
{
	uint8_t next[16] = {0};

	for (size_t i = 0; i < n; i++) {
		if (memcmp(v[i].bytes, next, 16))
			return false;
		/* next = the prefix's last address + 1 */
		memcpy(next, v[i].bytes, 16);
		for (unsigned b = v[i].len; b < bits; b++)
			next[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		int k = (int)bits / 8 - 1;
		while (k >= 0 && next[k] == 0xff)
			next[k--] = 0;
		if (k < 0)
			return true; /* carried out of the space: it ends at the top */
		next[k]++;
	}
	return false;
}

/* Bit 0: every IPv4 address; bit 1: every IPv6 address. */
static unsigned families_covered(const struct pc_addrset *set, size_t npeers)
{
	if (npeers == 0 || set->any)
		return 3;
	return (unsigned)family_covered(set->v4, set->nv4, 32) |
	       (unsigned)family_covered(set->v6, set->nv6, 128) << 1;
}

/* Bit 0: the side holds IPv4 addresses; bit 1: IPv6 ones. */
static unsigned families_held(const struct pc_addrset *set, size_t npeers)
{
	if (npeers == 0 || set->any)
		return 3;
	return (set->nv4 ? 1u : 0u) | (set->nv6 ? 2u : 0u);
}

static const char *const family_words[] = {"", "every IPv4 address", "every IPv6 address",
		"anywhere (every IPv4 and IPv6 address)"};

/* Once per service as written: the sensitive ports `mask` (bits of sensitive[]) it opens. */
static void report_open(struct pc_diags *diags, const struct pc_loc *at, const char *text,
		unsigned mask, unsigned fams)
{
	char ports[160] = "";
	size_t w = 0;

	for (size_t k = 0; k < PC_ARRAY_SIZE(sensitive); k++)
		if ((mask & (1u << k)) && !sensitive_named(&sensitive[k], text) &&
				w < sizeof(ports))
			w += (size_t)snprintf(ports + w, sizeof(ports) - w, "%s%u is %s",
					w ? ", " : ": port ", sensitive[k].port,
					sensitive[k].names[0]);
	struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "open-to-anywhere", at,
			"'%s' is open to %s%s", text, family_words[fams], ports);
	pc_diag_hint(d, "name the hosts that need it with `from:`");
}

/*
 * The service of a rule written at `at`, or NULL.  Matches come in the order
 * of the services that made them, so the search goes on from `*from`: one
 * walk over the services for the whole rule.
 */
static const struct pc_rule_service *written_at(
		const struct pc_rule *rule, const struct pc_loc *at, size_t *from)
{
	for (size_t i = *from; i < rule->nservices; i++) {
		const struct pc_loc *l = &rule->services[i].loc;
		if (l->line == at->line && l->col == at->col && l->file == at->file) {
			*from = i + 1;
			return &rule->services[i];
		}
	}
	return NULL;
}

/*
 * An allow rule whose sources cover a whole family opens its sensitive
 * ports to it: said once per service as written, and per sensitive port.
 * A service's matches are consecutive (resolution adds them together).
 */
static void check_open(struct pc_diags *diags, const struct pc_rule *rule)
{
	unsigned fams = families_covered(&rule->src, rule->nfrom), mask = 0;
	const struct pc_loc *cur = NULL;
	const char *name = NULL;
	size_t next = 0;

	if (rule->action != PC_ACTION_ALLOW || rule->direction == PC_DIR_OUTPUT || !fams)
		return;
	for (size_t i = 0; i <= rule->nmatches; i++) {
		const struct pc_match *m = i < rule->nmatches ? &rule->matches[i] : NULL;
		if (cur && (!m || cur->line != m->loc.line || cur->col != m->loc.col ||
					   cur->file != m->loc.file)) {
			const struct pc_rule_service *written = written_at(rule, cur, &next);
			if (mask)
				report_open(diags, cur, written ? written->text : name, mask, fams);
			mask = 0;
		}
		if (!m)
			break;
		cur = &m->loc;
		name = m->service;
		for (size_t k = 0; k < PC_ARRAY_SIZE(sensitive); k++)
			if (sensitive_named(&sensitive[k], m->service) ||
					(sensitive[k].port >= m->lo && sensitive[k].port <= m->hi))
				mask |= 1u << k;
	}
}

static const char *const held_words[] = {"no", "IPv4", "IPv6", "IPv4 and IPv6"};

/* Sources of one family and destinations of the other: no packet has both. */
static void check_no_match(struct pc_diags *diags, const struct pc_rule *rule)
{
	unsigned src = families_held(&rule->src, rule->nfrom);
	unsigned dst = families_held(&rule->dst, rule->nto);

	if (!src || !dst || (src & dst))
		return;
	struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "rule-no-match", &rule->loc,
			"this rule matches no packet: its sources are %s only and its destinations "
			"%s only",
			held_words[src], held_words[dst]);
	pc_diag_hint(d, "give `from:` and `to:` addresses of the same family, or remove the "
			"rule");
}

void pol_lint(struct pc_policy *p, struct pc_diags *diags, bool resolved)
{
	for (size_t i = 0; i < p->nrules; i++) {
		check_open(diags, &p->rules[i]);
		if (resolved)
			check_no_match(diags, &p->rules[i]);
	}
}

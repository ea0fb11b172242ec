/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interface lists, wildcards and negation: which interfaces a rule applies
 * on, matched as the kernel matches iifname and oifname (a wildcard compares
 * the bytes before its '*', so "eth*" also matches "eth").
 */
#include <stdio.h>
#include <string.h>

#include "portcullis/policy.h"

bool pc_ifname_wild(const char *name)
{
	size_t n = strlen(name);

	return n && name[n - 1] == '*';
}

/* The bytes a pattern compares: all of a name, those before a wildcard's '*'. */
static size_t stem(const char *pat)
{
	return strlen(pat) - pc_ifname_wild(pat);
}

static bool pattern_match(const char *pat, const char *name)
{
	if (!pc_ifname_wild(pat))
		return !strcmp(pat, name);
	return !strncmp(pat, name, stem(pat));
}

/* Whether every name pattern b matches, pattern a matches too. */
static bool pattern_covers(const char *a, const char *b)
{
	if (!pc_ifname_wild(a))
		return !strcmp(a, b);
	return stem(b) >= stem(a) && !strncmp(a, b, stem(a));
}

/* Whether some name matches both patterns. */
static bool patterns_meet(const char *a, const char *b)
{
	size_t sa = stem(a), sb = stem(b);

	if (!pc_ifname_wild(a))
		return pattern_match(b, a);
	if (!pc_ifname_wild(b))
		return pattern_match(a, b);
	return !strncmp(a, b, sa < sb ? sa : sb);
}

bool pc_ifaces_match(const struct pc_ifaces *s, const char *name)
{
	bool in = false;

	if (!s->n)
		return true;
	for (size_t i = 0; i < s->n && !in; i++)
		in = pattern_match(s->names[i], name);
	return in != s->negate;
}

/* Whether pattern p is covered by one of the names of s (negation aside). */
static bool names_cover(const struct pc_ifaces *s, const char *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (pattern_covers(s->names[i], p))
			return true;
	return false;
}

static bool names_disjoint(const struct pc_ifaces *s, const char *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (patterns_meet(s->names[i], p))
			return false;
	return true;
}

bool pc_ifaces_cover(const struct pc_ifaces *a, const struct pc_ifaces *b)
{
	if (!a->n)
		return true;
	if (!b->n)
		return false;
	if (!a->negate && !b->negate) {
		for (size_t i = 0; i < b->n; i++)
			if (!names_cover(a, b->names[i]))
				return false;
		return true;
	}
	if (a->negate && !b->negate) {
		for (size_t i = 0; i < b->n; i++)
			if (!names_disjoint(a, b->names[i]))
				return false;
		return true;
	}
	if (a->negate && b->negate) {
		/* every interface but B lies within every one but A: B covers A */
		for (size_t i = 0; i < a->n; i++)
			if (!names_cover(b, a->names[i]))
				return false;
		return true;
	}
	return false; /* a list holds no complement of one */
}

void pc_ifaces_text(char buf[PC_IFACES_TEXT_MAX], const struct pc_ifaces *s)
{
	size_t at = 0;

	buf[0] = '\0';
	if (!s->n)
		return;
	at += (size_t)snprintf(buf + at, PC_IFACES_TEXT_MAX - at, "%s%s", s->negate ? "not " : "",
			s->n > 1 ? "{" : "");
	for (size_t i = 0; i < s->n && at < PC_IFACES_TEXT_MAX; i++)
		at += (size_t)snprintf(buf + at, PC_IFACES_TEXT_MAX - at, "%s%s", i ? ", " : "",
				s->names[i]);
	if (s->n > 1 && at < PC_IFACES_TEXT_MAX)
		snprintf(buf + at, PC_IFACES_TEXT_MAX - at, "}");
}

void pc_ifaces_print(FILE *out, const char *before, const struct pc_ifaces *s)
{
	char text[PC_IFACES_TEXT_MAX];

	pc_ifaces_text(text, s);
	if (text[0])
		fprintf(out, "%s%s", before, text);
}

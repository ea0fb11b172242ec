/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Findings the policy acknowledges where they are about (docs/policy.md,
 * "Acknowledging a finding"): each acknowledgement covers the findings of its
 * code inside the rule, definition or network it is written on, and for a
 * definition those about its service at every rule that names it.
 *
 * What an acknowledgement is written on never overlaps another such thing,
 * so the acknowledgements sorted by file and first line find the ones around
 * a finding by one binary search; those on definitions are sorted by name.
 * The work is (findings + acknowledgements) * log(acknowledgements).
 */
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

struct acks {
	struct pc_ack **by_place; /* every acknowledgement, by file, then first line */
	size_t nplace;
	struct pc_ack **by_service; /* those on definitions, by name (ASCII case folded) */
	size_t nservice;
	size_t *error; /* per acknowledgement: 1 + the index of the first error it met, or 0 */
};

static int cmp_place(const void *x, const void *y)
{
	const struct pc_ack *a = *(struct pc_ack *const *)x, *b = *(struct pc_ack *const *)y;
	int c = strcmp(a->loc.file, b->loc.file);

	return c ? c : (a->first > b->first) - (a->first < b->first);
}

static int cmp_service(const void *x, const void *y)
{
	const struct pc_ack *a = *(struct pc_ack *const *)x, *b = *(struct pc_ack *const *)y;

	return pc_strcasecmp(a->service, b->service);
}

/* Record `i` (`r`) against acknowledgement `a`: acknowledged, or the error it cannot be. */
static void apply(struct pc_policy *p, struct acks *x, struct pc_diags *diags, size_t i,
		struct pc_ack *a)
{
	const struct pc_diag *r = &diags->v[i];

	if (strcmp(r->code, a->code))
		return;
	if (pc_diags_acknowledge_because(diags, i, a->reason))
		a->matched++;
	else if (!x->error[a - p->acks])
		x->error[a - p->acks] = i + 1;
}

/* The acknowledgements written around record `i`. */
static void by_place(struct pc_policy *p, struct acks *x, struct pc_diags *diags, size_t i)
{
	const struct pc_diag *r = &diags->v[i];
	size_t lo = 0, hi = x->nplace;

	if (!r->file || !r->line)
		return;
	/* The last acknowledgement of r's file that starts at or before r's line. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct pc_ack *a = x->by_place[mid];
		int c = strcmp(a->loc.file, r->file);
		if (c < 0 || (c == 0 && a->first <= r->line))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || strcmp(x->by_place[lo - 1]->loc.file, r->file))
		return;
	unsigned first = x->by_place[lo - 1]->first;
	for (size_t k = lo; k-- > 0;) {
		struct pc_ack *a = x->by_place[k];
		if (a->first != first || strcmp(a->loc.file, r->file))
			break;
		if (r->line <= a->last)
			apply(p, x, diags, i, a);
	}
}

/* The acknowledgements on the definition of `name`. */
static void by_service(struct pc_policy *p, struct acks *x, struct pc_diags *diags, size_t i,
		const char *name)
{
	size_t lo = 0, hi = x->nservice;

	if (!name)
		return;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pc_strcasecmp(x->by_service[mid]->service, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < x->nservice && pc_streq_fold(x->by_service[lo]->service, name); lo++)
		apply(p, x, diags, i, x->by_service[lo]);
}

void pc_policy_acknowledge(
		struct pc_policy *p, struct pc_diags *diags, const struct pc_about *about, size_t n)
{
	struct acks x = {NULL, 0, NULL, 0, NULL};
	size_t nrecords = diags->n;

	if (!p->nacks)
		return;
	x.by_place = xcalloc(p->nacks, sizeof(*x.by_place));
	x.by_service = xcalloc(p->nacks, sizeof(*x.by_service));
	x.error = xcalloc(p->nacks, sizeof(*x.error));
	for (size_t k = 0; k < p->nacks; k++) {
		x.by_place[x.nplace++] = &p->acks[k];
		if (p->acks[k].service)
			x.by_service[x.nservice++] = &p->acks[k];
	}
	qsort(x.by_place, x.nplace, sizeof(*x.by_place), cmp_place);
	qsort(x.by_service, x.nservice, sizeof(*x.by_service), cmp_service);
	for (size_t i = 0; i < nrecords; i++) {
		if (!diags->v[i].code)
			continue;
		by_place(p, &x, diags, i);
		if (about && i < n) {
			by_service(p, &x, diags, i, about[i].service);
			if (about[i].group &&
					(!about[i].service || !pc_streq_fold(about[i].group,
									      about[i].service)))
				by_service(p, &x, diags, i, about[i].group);
		}
	}
	for (size_t k = 0; k < p->nacks; k++) {
		const struct pc_ack *a = &p->acks[k];
		struct pc_diag *d;
		if (a->matched)
			continue;
		if (x.error[k]) {
			/* Copied first: adding a record may move the records. */
			const struct pc_diag *e = &diags->v[x.error[k] - 1];
			char *file = xstrdup(e->file ? e->file : "");
			unsigned line = e->line, col = e->col;
			d = pc_diag_add(diags, PC_SEV_ERROR, "acknowledge-error", a->loc.file,
					a->loc.line, a->loc.col,
					"an error cannot be acknowledged: %s:%u:%u says '%s' is an "
					"error here",
					file, line, col, a->code);
			free(file);
			pc_diag_hint(d, "fix what the error says instead");
			continue;
		}
		d = pc_diag_add(diags, PC_SEV_WARNING, "acknowledge-stale", a->loc.file,
				a->loc.line, a->loc.col,
				"nothing here is reported as '%s': the acknowledgement is stale",
				a->code);
		pc_diag_hint(d, "remove it (the reason was: \"%s\")", a->reason);
	}
	free(x.by_place);
	free(x.by_service);
	free(x.error);
}

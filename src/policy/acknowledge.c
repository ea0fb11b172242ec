/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Findings the policy acknowledges where they are about (docs/policy.md,
 * "Acknowledging a finding"): each acknowledgement covers the findings of its
 * code inside the rule or definition it is written on, and for a definition
 * those about its service at every rule that names it.
 */
#include <string.h>

#include "policy/internal.h"

/* Whether record `r` (about `ab`, may be NULL) is one that acknowledgement `a` covers. */
static bool covers(const struct pc_ack *a, const struct pc_diag *r, const struct pc_about *ab)
{
	if (!r->code || strcmp(r->code, a->code))
		return false;
	if (r->file && !strcmp(r->file, a->loc.file) && r->line >= a->first && r->line <= a->last)
		return true;
	return a->service && ab &&
	       ((ab->service && pc_streq_fold(ab->service, a->service)) ||
			       (ab->group && pc_streq_fold(ab->group, a->service)));
}

void pc_policy_acknowledge(
		struct pc_policy *p, struct pc_diags *diags, const struct pc_about *about, size_t n)
{
	size_t nrecords = diags->n;

	for (size_t k = 0; k < p->nacks; k++) {
		struct pc_ack *a = &p->acks[k];
		const struct pc_diag *error = NULL;
		for (size_t i = 0; i < nrecords; i++) {
			const struct pc_diag *r = &diags->v[i];
			if (!covers(a, r, about && i < n ? &about[i] : NULL))
				continue;
			if (pc_diags_acknowledge(diags, i))
				a->matched++;
			else if (!error)
				error = r;
		}
		if (a->matched)
			continue;
		if (error) {
			struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "acknowledge-error",
					a->loc.file, a->loc.line, a->loc.col,
					"an error cannot be acknowledged: %s:%u:%u says '%s' is an "
					"error here",
					error->file ? error->file : "", error->line, error->col,
					a->code);
			pc_diag_hint(d, "fix what the error says instead");
			continue;
		}
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_WARNING, "acknowledge-stale",
				a->loc.file, a->loc.line, a->loc.col,
				"nothing here is reported as '%s': the acknowledgement is stale",
				a->code);
		pc_diag_hint(d, "remove it (the reason was: \"%s\")", a->reason);
	}
}

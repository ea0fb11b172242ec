/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The other tables on the hooks portcullis filters, as status lists them and
 * apply, check --kernel and explain warn about them: netfilter runs every
 * base chain of a hook in priority order, and a drop in any of them wins, so
 * an accept in portcullis's table is not final.
 */
#include <errno.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "portcullis/diag.h"
#include "portcullis/inventory.h"
#include "portcullis/policy.h"
#include "util.h"

/* s, replaced by its copy with control bytes and invalid UTF-8 escaped. */
static void escape(char **s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!*s || !(f = open_memstream(&out, &len)))
		return;
	pc_fputs_escaped(*s, f);
	if (fclose(f) == 0) {
		free(*s);
		*s = out;
	} else {
		free(out);
	}
}

void cli_inventory_escape(struct pc_inventory *inv)
{
	for (size_t i = 0; i < inv->ntables; i++) {
		escape(&inv->tables[i].name);
		escape(&inv->tables[i].policy);
		escape(&inv->tables[i].path);
	}
	for (size_t i = 0; i < inv->nchains; i++) {
		escape(&inv->chains[i].name);
		escape(&inv->chains[i].type);
	}
}

void cli_drop_reasons(FILE *f, unsigned drops)
{
	static const struct {
		unsigned bit;
		const char *text;
	} why[] = {
			{PC_INV_DROP_POLICY, "its policy is drop"},
			{PC_INV_DROP_RULE, "a rule drops"},
			{PC_INV_DROP_REJECT, "a rule rejects"},
			{PC_INV_DROP_VMAP, "a verdict map may drop"},
	};
	bool first = true;

	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		if (!(drops & why[i].bit))
			continue;
		fprintf(f, "%s%s", first ? "" : ", ", why[i].text);
		first = false;
	}
}

/* The hook (NF_INET_*) of each direction. */
static const struct {
	enum pc_direction dir;
	int hook;
} hooks[] = {
		{PC_DIR_INPUT, NF_INET_LOCAL_IN},
		{PC_DIR_FORWARD, NF_INET_FORWARD},
		{PC_DIR_OUTPUT, NF_INET_LOCAL_OUT},
};

/* Whether the policy accepts some packets in direction dir (its defaults or a rule). */
static bool accepts(const struct pc_policy *p, enum pc_direction dir)
{
	const struct pc_defaults *d = &p->defaults;
	enum pc_verdict v = dir == PC_DIR_INPUT	   ? d->input
			    : dir == PC_DIR_OUTPUT ? d->output
						   : d->forward;

	if (v == PC_VERDICT_ACCEPT || d->established || (dir != PC_DIR_FORWARD && d->loopback))
		return true;
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].direction == dir && p->rules[i].action == PC_ACTION_ALLOW)
			return true;
	return false;
}

int cli_warn_coexist(
		struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p, const char *table)
{
	struct pc_inventory inv;
	const char *what;

	if (pc_inventory_read(&inv, 0, &what) < 0) {
		int err = errno;
		pc_inventory_finish(&inv);
		errno = err;
		return -1;
	}
	cli_inventory_escape(&inv);
	for (size_t i = 0; i < inv.ntables; i++) {
		const struct pc_inv_table *t = &inv.tables[i];
		if (!t->managed || (t->family == NFPROTO_INET && !strcmp(t->name, table)))
			continue;
		char how[192];
		if (t->family == NFPROTO_INET) /* what portcullis applies: its own remove */
			snprintf(how, sizeof(how), "portcullis remove --table %s", t->name);
		else
			snprintf(how, sizeof(how), "nft delete table %s %s",
					pc_inventory_family(t->family), t->name);
		fprintf(ctx->err,
				"%s %s: warning: table %s %s, also managed by portcullis (policy "
				"%s), filters the same hooks: a packet must pass both, and a drop "
				"in either wins. Remove the one no longer wanted (`%s`)\n",
				ctx->prog, cmd, pc_inventory_family(t->family), t->name,
				t->policy ? t->policy : "unnamed", how);
	}
	for (size_t k = 0; k < sizeof(hooks) / sizeof(hooks[0]); k++) {
		if (!accepts(p, hooks[k].dir))
			continue;
		for (size_t i = 0; i < inv.nchains; i++) {
			const struct pc_inv_chain *c = &inv.chains[i];
			const struct pc_inv_table *t = &inv.tables[c->table];
			if (t->managed || !c->drops ||
					!pc_inventory_on_hook(&inv, c, hooks[k].hook))
				continue;
			fprintf(ctx->err,
					"%s %s: warning: table %s %s, chain %s (hook %s, priority %d) "
					"can drop what this policy accepts (",
					ctx->prog, cmd, pc_inventory_family(t->family), t->name,
					c->name, pc_inventory_hook(&inv, c), c->prio);
			cli_drop_reasons(ctx->err, c->drops);
			fprintf(ctx->err,
					"): netfilter runs every base chain of the hook, and a drop "
					"in any of them wins over portcullis's accept\n");
		}
	}
	pc_inventory_finish(&inv);
	return 0;
}

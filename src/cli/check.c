/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis check: read policies, resolve every service and network, and
 * print every problem with its file:line:col, source line and caret.
 */
#include <string.h>

#include "cli.h"
#include "portcullis/policy.h"

/* "POLICY: ok, 6 rules, 0 warnings", and the findings the policy acknowledges when it does. */
static void print_ok(FILE *out, const char *path, const struct pc_policy *p, size_t nw)
{
	size_t acked = 0;

	for (size_t i = 0; i < p->nacks; i++)
		acked += p->acks[i].matched;
	fprintf(out, "%s: ok, %zu %s, %zu %s", strcmp(path, "-") ? path : "<stdin>", p->nrules,
			p->nrules == 1 ? "rule" : "rules", nw, nw == 1 ? "warning" : "warnings");
	if (acked)
		fprintf(out, ", %zu acknowledged", acked);
	fputc('\n', out);
}

/* Before the kernel's check: the other tables that would filter the same packets. */
static int coexist(struct cli_ctx *ctx, const struct pc_policy *p)
{
	cli_warn_coexist(ctx, "check", p, ctx->table);
	return PC_EXIT_OK;
}

int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	int worst = PC_EXIT_OK;
	struct cli_report *rep = NULL;
	struct pc_diags collected;

	if (argc < 1) {
		fprintf(ctx->err,
				"%s check: name a policy file, e.g. '%s check policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (ctx->json && ctx->sarif) {
		fprintf(ctx->err, "%s check: give --json or --sarif, not both\n", ctx->prog);
		return PC_EXIT_USAGE;
	}
	if ((ctx->json || ctx->sarif) && ctx->kernel) {
		fprintf(ctx->err,
				"%s check: --kernel reports as text only; leave out --%s, or run "
				"check --%s and check --kernel apart\n",
				ctx->prog, ctx->json ? "json" : "sarif",
				ctx->json ? "json" : "sarif");
		return PC_EXIT_USAGE;
	}
	if (ctx->json || ctx->sarif) {
		/* Every diagnostic goes into the report instead of standard error. */
		rep = cli_report_create();
		pc_diags_init(&collected);
		ctx->collect = &collected;
	}
	for (int i = 0; i < argc; i++) {
		int ret;

		if (rep) {
			struct pc_policy p;
			ret = cli_load_policy(ctx, argv[i], &p, NULL);
			cli_report_add(rep, argv[i], &p, ret, &collected);
			pc_policy_finish(&p);
		} else if (ctx->kernel) {
			/* The same checks, then the kernel's on the whole table. */
			ret = cli_send_table(ctx, "check", argv[i], false, coexist);
		} else {
			struct pc_policy p;
			size_t nw = 0;
			ret = cli_load_policy(ctx, argv[i], &p, &nw);
			if (ret == PC_EXIT_OK)
				print_ok(ctx->out, argv[i], &p, nw);
			pc_policy_finish(&p);
		}
		if (ret == PC_EXIT_ENV || (ret != PC_EXIT_OK && worst == PC_EXIT_OK))
			worst = ret;
	}
	if (rep) {
		cli_report_print(rep, ctx->sarif, worst, ctx->out);
		cli_report_destroy(rep);
		pc_diags_finish(&collected);
		ctx->collect = NULL;
	}
	return worst;
}

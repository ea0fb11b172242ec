/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis check: read policies, resolve every service and network, and
 * print every problem with its file:line:col, source line and caret.
 */
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "cli.h"
#include "portcullis/policy.h"
#include "util.h"

#define MAX_PRINTED 200

/* Loads, resolves and reports one policy; returns its exit status. */
int cli_check_policy(struct cli_ctx *ctx, const char *path, struct pc_policy *p)
{
	struct pc_diags d;
	int ret;

	pc_diags_init(&d);
	d.hints_max = MAX_PRINTED; /* no suggestion is searched for an error never shown */
	pc_policy_init(p);
	ret = cli_open_registry(ctx);
	if (ret != PC_EXIT_OK)
		goto out;
	if (!strcmp(path, "-") && isatty(STDIN_FILENO))
		fprintf(ctx->err, "%s: reading the policy from the terminal; end it with Ctrl-D\n",
				ctx->prog);
	if (pc_policy_load(p, path, &d) == 0) {
		/* `registry.layers: [..., system]` asks for the host's services file. */
		for (int k = 0; k < PC_LAYER_COUNT; k++) {
			const struct pc_layer_def *def = pc_layer_def((enum pc_layer_kind)k);
			if (def->default_path && (p->layers & (1u << k)) &&
					!pc_registry_has_layer(ctx->reg, def->kind))
				pc_registry_load(ctx->reg, def->kind, def->default_path, &d);
		}
		pc_policy_resolve(p, ctx->reg, &d);
	}
	/* --Wno-CODE silences warnings, --strict makes the rest errors; MAX_PRINTED are shown. */
	pc_diags_filter(&d, ctx->wno, ctx->nwno, ctx->strict, MAX_PRINTED);
	ctx->last_warnings = d.nwarnings;
	pc_policy_print_diags(p, &d, ctx->err);
	if (pc_policy_io_error(p))
		ret = PC_EXIT_ENV;
	else if (d.nerrors)
		ret = PC_EXIT_INVALID;
out:
	pc_diags_finish(&d);
	return ret;
}

int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	int worst = PC_EXIT_OK;

	if (argc < 1) {
		fprintf(ctx->err, "%s check: name a policy file, e.g. '%s check policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		int ret;

		if (ctx->kernel) {
			/* The same checks, then the kernel's on the whole table. */
			ret = cli_apply_policy(ctx, "check", argv[i], false);
		} else {
			struct pc_policy p;
			ret = cli_check_policy(ctx, argv[i], &p);
			if (ret == PC_EXIT_OK)
				fprintf(ctx->out, "%s: ok, %zu %s, %zu %s\n",
						strcmp(argv[i], "-") ? argv[i] : "<stdin>", p.nrules,
						p.nrules == 1 ? "rule" : "rules", ctx->last_warnings,
						ctx->last_warnings == 1 ? "warning" : "warnings");
			pc_policy_finish(&p);
		}
		pc_registry_destroy(ctx->reg);
		ctx->reg = NULL;
		if (ret == PC_EXIT_ENV || (ret != PC_EXIT_OK && worst == PC_EXIT_OK))
			worst = ret;
	}
	return worst;
}

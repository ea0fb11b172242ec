// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `portcullis diff POLICY [--table T] [--json]`: the live table against
 * what POLICY would install, object by object, grouped under the policy
 * rule each change belongs to.
 */
#include "cli.h"

int cmd_diff(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(ctx->err,
				"%s diff: name one policy file, e.g. '%s diff "
				"policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	return cli_diff(ctx, "diff", argv[0]);
}

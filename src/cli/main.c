/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pc-version.h"
#include "portcullis/diag.h"
#include "portcullis/targets.h"
#include "util.h"

_Static_assert(PC_OOM_EXIT == PC_EXIT_ENV, "running out of memory is an environment failure");

/* Options: one table makes the getopt string, the long options and the help. */
enum {
	OPT_JSON = 1u << 0,
	OPT_REGISTRY = 1u << 1,
	OPT_SERVICES = 1u << 2,
	OPT_SYSTEM = 1u << 3,
	OPT_DEFINE = 1u << 4,
	OPT_HELP = 1u << 5,
	OPT_STRICT = 1u << 6,
	OPT_WNO = 1u << 7, /* --Wno-CODE, read before getopt */
	OPT_PACKET = 1u << 8,
	OPT_TARGET = 1u << 9,
	OPT_TABLE = 1u << 10,
	OPT_OUTPUT = 1u << 11,
	OPT_FAMILY = 1u << 12,
	OPT_OUT_DIR = 1u << 13,
	OPT_NO_JUMP = 1u << 14,
	OPT_FORCE = 1u << 15,
	OPT_KERNEL = 1u << 16,
	OPT_ALLOW_LOCKOUT = 1u << 17,
	OPT_PACKETS = 1u << 18,
	OPT_DRY_RUN = 1u << 19,
	OPT_CONFIRM = 1u << 20,
	OPT_NO_SERVICES = 1u << 21,
	OPT_ALL = 1u << 22,
	OPT_SARIF = 1u << 23,
	OPT_CHECK_UP_TO_DATE = 1u << 24,
	OPT_ONLY = 1u << 25,
	OPT_GIT = 1u << 26,
	OPT_KDC_CONF = 1u << 27,
	OPT_HEIMDAL_CONF = 1u << 28,
	OPT_REALM = 1u << 29,
	OPT_LISTENING = 1u << 30,
};
/* Past what an enumerator may hold (int). */
#define OPT_FULL (1u << 31)

struct option_def;
/* An option's setter: stores what it says in the context. */
typedef void option_set(struct cli_ctx *ctx, const struct option_def *o, const char *arg);

struct option_def {
	unsigned id;
	const char *name;
	char short_name; /* 0: a long option only */
	const char *arg; /* what its argument is called; NULL: it takes none */
	option_set *set; /* NULL: --help */
	size_t field; /* for set_value and set_flag: where in struct cli_ctx */
	const char *help;
	void (*more)(FILE *f); /* prints the end of the help, from a table */
	const char *prefix; /* the option names its argument: --Wno-CODE */
};

/* " nft, nft-json, iptables, pf, all": the --target values. */
static void target_values(FILE *f)
{
	fputc(' ', f);
	cli_target_options(f, NULL);
	fputs(", all", f);
}

/* " (POLICY.nft, .nft.json, ...)": the files --out-dir holds. */
static void target_files(FILE *f)
{
	for (size_t i = 0; i < pc_ntargets; i++)
		fprintf(f, "%s%s", i ? ", " : " (POLICY", pc_targets[i].suffix);
	fputc(')', f);
}

/* --table: the name, and that it was given. */
static void set_table(struct cli_ctx *ctx, const struct option_def *o, const char *arg)
{
	(void)o;
	ctx->table = arg;
	ctx->table_given = true;
}

/* The argument, kept in the const char * at o->field. */
static void set_value(struct cli_ctx *ctx, const struct option_def *o, const char *arg)
{
	*(const char **)(void *)((char *)ctx + o->field) = arg;
}

/* The bool at o->field, made true. */
static void set_flag(struct cli_ctx *ctx, const struct option_def *o, const char *arg)
{
	(void)arg;
	*(bool *)(void *)((char *)ctx + o->field) = true;
}

static void set_services(struct cli_ctx *ctx, const struct option_def *o, const char *arg)
{
	(void)o;
	ctx->layer_file[PC_LAYER_SYSTEM] = arg;
	ctx->layer_optional &= ~(1u << PC_LAYER_SYSTEM);
}

static void set_system(struct cli_ctx *ctx, const struct option_def *o, const char *arg)
{
	set_services(ctx, o, pc_layer_def(PC_LAYER_SYSTEM)->default_path);
	(void)arg;
	ctx->layer_optional |= 1u << PC_LAYER_SYSTEM;
}

/* --kdc-conf, --heimdal-conf: the KDC's configuration file, and its flavor. */
static void set_kdc_conf(struct cli_ctx *ctx, const struct option_def *o, const char *arg)
{
	ctx->kdc.path = ctx->kdc.label = arg;
	ctx->kdc.flavor = o->id == OPT_HEIMDAL_CONF ? PC_KDC_HEIMDAL : PC_KDC_MIT;
}

/* The argument, added to the struct cli_list at o->field (a repeatable option). */
static void set_append(struct cli_ctx *ctx, const struct option_def *o, const char *arg)
{
	struct cli_list *l = (struct cli_list *)(void *)((char *)ctx + o->field);
	l->v[l->n++] = arg;
}

#define FIELD(f) .field = offsetof(struct cli_ctx, f)

static const struct option_def options[] = {
		{OPT_REGISTRY, "registry", 'r', "FILE", set_value, FIELD(layer_file[PC_LAYER_IANA]),
				"use this IANA registry CSV instead of the embedded snapshot", NULL,
				NULL},
		{OPT_SERVICES, "services", 's', "FILE", set_services, 0,
				"add a system layer from this services(5) file", NULL, NULL},
		{OPT_SYSTEM, "system", 'S', NULL, set_system, 0,
				"add a system layer from /etc/services", NULL, NULL},
		{OPT_DEFINE, "define", 'D', "NAME=PORT/PROTO", set_append, FIELD(defines),
				"define a service in the override layer (repeatable; e.g. x=6000-6063/tcp,udp)",
				NULL, NULL},
		{OPT_JSON, "json", 'j', NULL, set_flag, FIELD(json), "print JSON instead of text",
				NULL, NULL},
		{OPT_SARIF, "sarif", 0, NULL, set_flag, FIELD(sarif),
				"print a SARIF 2.1.0 log instead of text, for code review tools",
				NULL, NULL},
		{OPT_STRICT, "strict", 0, NULL, set_flag, FIELD(strict), "treat warnings as errors",
				NULL, NULL},
		{OPT_WNO, "Wno-CODE", 0, NULL, set_append, FIELD(wno),
				"leave out the warnings with this code (repeatable)", NULL,
				"--Wno-"},
		{OPT_TARGET, "target", 't', "TARGET", set_value, FIELD(target),
				"what to render:", target_values, NULL},
		{OPT_FAMILY, "family", 0, "ipv4|ipv6", set_value, FIELD(family),
				"iptables: render for iptables-restore (ipv4) or ip6tables-restore (ipv6)",
				NULL, NULL},
		{OPT_NO_JUMP, "no-jump", 0, NULL, set_flag, FIELD(no_jump),
				"iptables: leave out the jumps from INPUT, FORWARD and OUTPUT (for a reload)",
				NULL, NULL},
		{OPT_TABLE, "table", 0, "NAME", set_table, FIELD(table),
				"the nft table portcullis owns (" CLI_DEFAULT_TABLE ")", NULL,
				NULL},
		{OPT_OUTPUT, "output", 'o', "FILE", set_value, FIELD(output),
				"write to FILE (replaced all at once) instead of standard output",
				NULL, NULL},
		{OPT_OUT_DIR, "out-dir", 0, "DIR", set_value, FIELD(out_dir),
				"write each target's file into DIR, named after the policy file",
				target_files, NULL},
		{OPT_CHECK_UP_TO_DATE, "check-up-to-date", 0, "DIR", set_value, FIELD(check_dir),
				"write nothing: compare what --out-dir DIR would write with the files "
				"there, and show a diff of each that is not up to date",
				NULL, NULL},
		{OPT_FORCE, "force", 0, NULL, set_flag, FIELD(force),
				"replace (apply) or delete (remove) a table of that name portcullis does not manage",
				NULL, NULL},
		{OPT_ALLOW_LOCKOUT, "allow-lockout", 0, NULL, set_flag, FIELD(allow_lockout),
				"apply even if the policy drops the SSH session it comes through",
				NULL, NULL},
		{OPT_KERNEL, "kernel", 0, NULL, set_flag, FIELD(kernel),
				"also have the kernel check the ruleset (one transaction, never committed; root)",
				NULL, NULL},
		{OPT_PACKET, "packet", 'p', "PACKET", set_append, FIELD(packets),
				"say which rule decides PACKET: 'PROTO SRC -> [DST] PORT [in IF]', or "
				"'PROTO -> DST PORT [out IF]' for output; PORT may be a service "
				"name; repeatable",
				NULL, NULL},
		{OPT_PACKETS, "packets", 0, "FILE", set_append, FIELD(packet_files),
				"the same for each line of FILE ('-': standard input), in order; "
				"repeatable",
				NULL, NULL},
		{OPT_DRY_RUN, "dry-run", 0, NULL, set_flag, FIELD(dry_run),
				"send nothing: print what apply would change in the live table, as "
				"diff does",
				NULL, NULL},
		{OPT_CONFIRM, "confirm", 0, "SECONDS", set_value, FIELD(confirm),
				"roll back to the table loaded before unless '"
				"confirm' is run within SECONDS (root)",
				NULL, NULL},
		{OPT_NO_SERVICES, "no-services", 0, NULL, set_flag, FIELD(no_services),
				"leave the services file out: only IANA and the practice layer",
				NULL, NULL},
		{OPT_ALL, "all", 'a', NULL, set_flag, FIELD(all),
				"also list the protocols IANA lists that a layer leaves out (counted "
				"without it)",
				NULL, NULL},
		{OPT_ONLY, "only", 0, "accept|drop", set_value, FIELD(only),
				"list only what opens (accept) or only what closes (drop)", NULL,
				NULL},
		{OPT_GIT, "git", 0, "REV", set_value, FIELD(git),
				"compare POLICY as it is in git revision REV (its includes too) with "
				"the file as it is now",
				NULL, NULL},
		{OPT_KDC_CONF, "kdc-conf", 0, "FILE", set_kdc_conf, 0,
				"add a kdc-conf layer: the ports MIT's kdc.conf FILE sets", NULL,
				NULL},
		{OPT_HEIMDAL_CONF, "heimdal-conf", 0, "FILE", set_kdc_conf, 0,
				"the same from Heimdal's kdc.conf FILE ([kdc] ports, addresses)",
				NULL, NULL},
		{OPT_REALM, "realm", 0, "REALM", set_value, FIELD(kdc.realm),
				"with --kdc-conf: that realm's ports only (default: every realm's)",
				NULL, NULL},
		{OPT_LISTENING, "listening", 0, NULL, set_flag, FIELD(listening),
				"also compare the host's listening sockets with the policy: what it "
				"allows where nothing listens, what listens where it drops",
				NULL, NULL},
		{OPT_FULL, "full", 0, NULL, set_flag, FIELD(full),
				"replace the whole table, even where a delta of the last apply would do "
				"(counters and limits start again)",
				NULL, NULL},
		{OPT_HELP, "help", 'h', NULL, NULL, 0, "show this help", NULL, NULL},
};

/* getopt_long returns this plus an option's index in options[] for a long option. */
#define LONG_BASE 256

struct command {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	unsigned options;
	const char *args;
	const char *summary;
};

/* The subcommands of `registry`, each named "registry SUB". */
static const struct command registry_commands[] = {
		{"registry audit", cmd_registry_audit,
				OPT_JSON | OPT_REGISTRY | OPT_SERVICES | OPT_NO_SERVICES | OPT_ALL,
				"",
				"list where the services file (/etc/services unless --services or "
				"--no-services), IANA and the practice layer disagree"},
		{"registry update", cmd_registry_update,
				OPT_JSON | OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE |
						OPT_TABLE,
				"NEW.csv [POLICY...]",
				"what changes from the IANA registry in use to NEW.csv, and which "
				"rules and rendered lines of each policy would change"},
		{NULL, NULL, 0, NULL, NULL},
};

/* A command whose first argument is a subcommand: `portcullis registry audit`. */
struct command_group {
	const char *name;
	const char *summary;
	const struct command *sub; /* ended by a row without a name */
};

static const struct command_group groups[] = {
		{"registry",
				"audit the registry layers against each other, or see what a new "
				"IANA registry changes",
				registry_commands},
};

static const struct command commands[] = {
		{"check", cmd_check,
				OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE | OPT_STRICT |
						OPT_WNO | OPT_KERNEL | OPT_TABLE | OPT_JSON |
						OPT_SARIF | OPT_LISTENING,
				"POLICY...",
				"check policies: every service and network resolved, every problem reported"},
		{"explain", cmd_explain,
				OPT_JSON | OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE |
						OPT_STRICT | OPT_WNO | OPT_PACKET | OPT_PACKETS,
				"POLICY",
				"show a policy resolved: each rule, service, port, registry line and network"},
		{"render", cmd_render,
				OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE | OPT_STRICT |
						OPT_WNO | OPT_TARGET | OPT_TABLE | OPT_OUTPUT |
						OPT_FAMILY | OPT_OUT_DIR | OPT_NO_JUMP |
						OPT_CHECK_UP_TO_DATE,
				"POLICY...",
				"print the ruleset a policy becomes (nftables, iptables, pf), for review"},
		{"apply", cmd_apply,
				OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE | OPT_STRICT |
						OPT_WNO | OPT_TABLE | OPT_FORCE |
						OPT_ALLOW_LOCKOUT | OPT_DRY_RUN | OPT_JSON |
						OPT_FULL | OPT_CONFIRM,
				"POLICY",
				"replace the policy's nftables table in the kernel, all at once (root)"},
		{"remove", cmd_remove, OPT_TABLE | OPT_FORCE, "",
				"delete the table portcullis manages, and only it, all at once (root)"},
		{"status", cmd_status, OPT_JSON | OPT_TABLE, "",
				"show the tables portcullis manages, their policies, and the tables "
				"beside them on the same hooks (root)"},
		{"show", cmd_show, OPT_TABLE, "",
				"print the live table as the kernel holds it, read back (root)"},
		{"diff", cmd_diff,
				OPT_JSON | OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE |
						OPT_STRICT | OPT_WNO | OPT_TABLE,
				"POLICY",
				"compare the live table with what a policy installs, object by object "
				"(root)"},
		{"confirm", cmd_confirm, OPT_TABLE, "",
				"keep the table an apply --confirm loaded: no rollback (root)"},
		{"rollback", cmd_rollback, OPT_TABLE, "",
				"undo an apply --confirm now: the table loaded before put back (root)"},
		{"compare", cmd_compare,
				OPT_JSON | OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE |
						OPT_STRICT | OPT_WNO | OPT_ONLY | OPT_GIT,
				"OLD NEW | --git REV POLICY",
				"what a change of policy does to packets: the verdicts that changed, "
				"and the rules deciding them"},
		{"lookup", cmd_lookup,
				OPT_JSON | OPT_REGISTRY | OPT_SERVICES | OPT_SYSTEM | OPT_DEFINE |
						OPT_KDC_CONF | OPT_HEIMDAL_CONF | OPT_REALM,
				"NAME|PORT[/PROTO]...",
				"show what every registry layer says about service names or ports"},
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s COMMAND [OPTIONS] ARGS...\n\ncommands:\n", prog);
	for (size_t i = 0; i < PC_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	for (size_t i = 0; i < PC_ARRAY_SIZE(groups); i++)
		fprintf(f, "  %-9s %s\n", groups[i].name, groups[i].summary);
	fprintf(f,
			"\n  %s COMMAND --help   options of one command\n"
			"  %s --version        print the version\n",
			prog, prog);
}

static void command_usage(FILE *f, const char *prog, const struct command *cmd)
{
	fprintf(f, "usage: %s %s [OPTIONS]%s%s\n%s\n\noptions:\n", prog, cmd->name,
			cmd->args[0] ? " " : "", cmd->args, cmd->summary);
	for (size_t i = 0; i < PC_ARRAY_SIZE(options); i++) {
		const struct option_def *o = &options[i];
		char left[64];

		if (!(cmd->options & o->id) && o->id != OPT_HELP)
			continue;
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
					o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
					o->arg ? o->arg : "");
		fprintf(f, "  %-32s %s", left, o->help);
		if (o->more)
			o->more(f);
		fputc('\n', f);
	}
}

static int run_command(const struct command *cmd, const char *prog, int argc, char **argv)
{
	struct option longopts[PC_ARRAY_SIZE(options) + 1];
	char shortopts[2 * PC_ARRAY_SIZE(options) + 3] = ":";
	struct cli_ctx ctx;
	size_t nl = 0, sl = 1;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ctx.out = stdout;
	ctx.err = stderr;
	ctx.prog = prog;
	ctx.table = CLI_DEFAULT_TABLE;
	/* A repeatable option has at most one argument per word of the command line. */
	ctx.defines.v = xcalloc((size_t)argc + 1, sizeof(*ctx.defines.v));
	ctx.wno.v = xcalloc((size_t)argc + 1, sizeof(*ctx.wno.v));
	ctx.packets.v = xcalloc((size_t)argc + 1, sizeof(*ctx.packets.v));
	ctx.packet_files.v = xcalloc((size_t)argc + 1, sizeof(*ctx.packet_files.v));
	for (size_t i = 0; i < PC_ARRAY_SIZE(options); i++) {
		const struct option_def *o = &options[i];
		if ((!(cmd->options & o->id) && o->id != OPT_HELP) || o->prefix)
			continue;
		longopts[nl++] = (struct option){o->name, o->arg ? required_argument : no_argument,
				NULL, LONG_BASE + (int)i};
		if (!o->short_name)
			continue;
		shortopts[sl++] = o->short_name;
		if (o->arg)
			shortopts[sl++] = ':';
	}
	/* An option that names its argument (--Wno-CODE) is taken out before getopt. */
	for (size_t k = 0; k < PC_ARRAY_SIZE(options); k++) {
		const struct option_def *o = &options[k];
		size_t len = o->prefix ? strlen(o->prefix) : 0;
		int w = 1;
		bool rest = false;

		if (!o->prefix || !(cmd->options & o->id))
			continue;
		for (int i = 1; i < argc; i++) {
			rest |= !strcmp(argv[i], "--");
			if (!rest && !strncmp(argv[i], o->prefix, len) && argv[i][len]) {
				o->set(&ctx, o, argv[i] + len);
				continue;
			}
			argv[w++] = argv[i];
		}
		argc = w;
		argv[argc] = NULL;
	}
	longopts[nl] = (struct option){NULL, 0, NULL, 0};
	shortopts[sl] = '\0';

	optind = 1;
	opterr = 0;
	for (;;) {
		const struct option_def *o = NULL;
		int c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == -1)
			break;
		if (c >= LONG_BASE)
			o = &options[c - LONG_BASE];
		for (size_t i = 0; !o && c != ':' && c != '?' && i < PC_ARRAY_SIZE(options); i++)
			if (options[i].short_name == c)
				o = &options[i];
		if (o && o->set) {
			o->set(&ctx, o, optarg);
		} else if (o) {
			command_usage(stdout, prog, cmd);
			ret = PC_EXIT_OK;
			goto out;
		} else if (c == ':') {
			fprintf(stderr, "%s %s: option '%s' needs an argument\n", prog, cmd->name,
					argv[optind - 1]);
			command_usage(stderr, prog, cmd);
			ret = PC_EXIT_USAGE;
			goto out;
		} else {
			fprintf(stderr, "%s %s: unknown option '%s'\n", prog, cmd->name,
					argv[optind - 1]);
			command_usage(stderr, prog, cmd);
			ret = PC_EXIT_USAGE;
			goto out;
		}
	}
	for (size_t i = 0; i < ctx.wno.n; i++) {
		const char *nearest;
		if (pc_diag_code_known(ctx.wno.v[i], &nearest))
			continue;
		fprintf(stderr, "%s %s: unknown warning code in '--Wno-", prog, cmd->name);
		pc_fputs_escaped(ctx.wno.v[i], stderr);
		fputs("'\n", stderr);
		if (nearest)
			fprintf(stderr, "  did you mean '--Wno-%s'?\n", nearest);
		ret = PC_EXIT_USAGE;
		goto out;
	}
	ret = cmd->run(&ctx, argc - optind, argv + optind);
out:
	pc_registry_destroy(ctx.reg);
	free(ctx.defines.v);
	free(ctx.wno.v);
	free(ctx.packets.v);
	free(ctx.packet_files.v);
	if (!ctx.out_reported && (fflush(stdout) != 0 || ferror(stdout))) {
		if (errno != EPIPE)
			fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
		if (ret == PC_EXIT_OK)
			ret = PC_EXIT_ENV;
	}
	return ret;
}

/* The subcommands of `cmd`, for `portcullis registry --help`. */
static void subcommand_usage(FILE *f, const char *prog, const struct command_group *cmd)
{
	size_t n = strlen(cmd->name) + 1;

	fprintf(f, "usage: %s %s SUBCOMMAND [OPTIONS] ARGS...\n%s\n\nsubcommands:\n", prog,
			cmd->name, cmd->summary);
	for (const struct command *s = cmd->sub; s->name; s++)
		fprintf(f, "  %-9s %s\n", s->name + n, s->summary);
	fprintf(f, "\n  %s %s SUBCOMMAND --help   options of one subcommand\n", prog, cmd->name);
}

/* `portcullis registry SUB ...`: argv[0] is the command, argv[1] the subcommand. */
static int run_subcommand(const struct command_group *cmd, const char *prog, int argc, char **argv)
{
	size_t n = strlen(cmd->name) + 1;

	if (argc < 2) {
		fprintf(stderr, "%s %s: name a subcommand\n", prog, cmd->name);
		subcommand_usage(stderr, prog, cmd);
		return PC_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		subcommand_usage(stdout, prog, cmd);
		return PC_EXIT_OK;
	}
	for (const struct command *s = cmd->sub; s->name; s++)
		if (!strcmp(s->name + n, argv[1]))
			return run_command(s, prog, argc - 1, argv + 1);
	fprintf(stderr, "%s %s: unknown subcommand '", prog, cmd->name);
	pc_fputs_escaped(argv[1], stderr);
	fprintf(stderr, "'\n");
	subcommand_usage(stderr, prog, cmd);
	return PC_EXIT_USAGE;
}

/*
 * The version, and what the registry compiled in was built from: the IANA
 * snapshot's date and the SHA-256 of each source file, which provenance
 * names relative to the data directory (data/...).
 */
static int version(void)
{
	struct pc_registry *reg = pc_registry_create();

	printf("portcullis %s\n", PC_VERSION);
	printf("IANA registry snapshot %s: %s sha256 %s\n", pc_registry_iana_date(reg),
			pc_registry_layer_file(reg, PC_LAYER_IANA),
			pc_registry_layer_sha256(reg, PC_LAYER_IANA));
	printf("practice layer: %s sha256 %s\n", pc_registry_layer_file(reg, PC_LAYER_PRACTICE),
			pc_registry_layer_sha256(reg, PC_LAYER_PRACTICE));
	printf("registry sources: %s/data/\n", PC_DATADIR);
	pc_registry_destroy(reg);
	return PC_EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *prog = "portcullis";

	/* Output is plain bytes; nothing depends on the locale. */
	setlocale(LC_ALL, "C");
	/*
	 * A short-lived process: large blocks come from the heap and freed memory
	 * stays with it until exit, which releases it in one go (unmapping every
	 * block on free() costs more than loading the registry's rows).
	 */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A standard descriptor the caller closed (`>&-`) is held on /dev/null,
	 * opened so that using it fails (EBADF): otherwise the next file or
	 * socket opened would take its number and receive the output.
	 */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
				open("/dev/null", fd ? O_RDONLY : O_WRONLY) != fd)
			return PC_EXIT_ENV;
	/*
	 * stderr is unbuffered: a diagnostic would cost a write() per character
	 * escaped and per space under its caret.  A line at a time instead.
	 */
	setvbuf(stderr, NULL, _IOLBF, BUFSIZ);

	if (argc < 2) {
		usage(stderr, prog);
		return PC_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		return version();
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout, prog);
		return PC_EXIT_OK;
	}
	for (size_t i = 0; i < PC_ARRAY_SIZE(groups); i++)
		if (!strcmp(argv[1], groups[i].name))
			return run_subcommand(&groups[i], prog, argc - 1, argv + 1);
	for (size_t i = 0; i < PC_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return run_command(&commands[i], prog, argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '", prog);
	pc_fputs_escaped(argv[1], stderr);
	fprintf(stderr, "'\n");
	usage(stderr, prog);
	return PC_EXIT_USAGE;
}
